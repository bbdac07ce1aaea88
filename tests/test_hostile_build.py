"""What a file makes go wrong is reported against that file: exit 1 with its name, not exit 70.

An exception nobody foresaw (a bug of storefront's, or of a library, that one file triggers) is
named as unexpected, with a hint to run with --debug, which shows its traceback. A link planted in
the previous output folder is refused, and nothing is written through it.
"""

from __future__ import annotations

import contextlib
import os
import re

import markdown
import yaml

from support import tree_bytes


def _broken(*args, **kwargs):
    raise RuntimeError("boom")  # stands for a bug that one file's content triggers


def test_an_unexpected_error_in_one_file_names_the_file_and_points_to_debug(copy_site, run_cli,
                                                                             monkeypatch) -> None:
    site = copy_site("basic")
    monkeypatch.setattr(markdown.Markdown, "convert", _broken)
    result = run_cli("--root", site, "build", "--no-cache", "--jobs", "1")
    assert result.code == 1
    first = result.err.splitlines()[0]
    assert re.fullmatch(r"content/\S+\.md: unexpected error while reading this file: "
                        r"RuntimeError: boom", first), first
    assert "--debug" in result.err and "Traceback" not in result.err

    debug = run_cli("--root", site, "--debug", "build", "--no-cache", "--jobs", "1")
    assert debug.code == 1
    assert "Traceback (most recent call last)" in debug.err and "RuntimeError: boom" in debug.err


def test_an_unexpected_error_reading_the_config_names_storefront_yaml(copy_site, run_cli,
                                                                       monkeypatch) -> None:
    site = copy_site("basic")
    monkeypatch.setattr(yaml.resolver.BaseResolver, "resolve", _broken)
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert result.err.startswith("storefront.yaml: unexpected error while reading this file: "
                                 "RuntimeError: boom")


def test_links_planted_in_the_previous_output_are_refused_not_written_through(copy_site, run_cli,
                                                                              tmp_path) -> None:
    site = copy_site("basic")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("the owner's file", encoding="utf-8")
    output = site / "output"
    output.mkdir()
    (output / "index.html").symlink_to(outside / "keep.txt")
    (output / "blog").symlink_to(outside, target_is_directory=True)
    before = tree_bytes(outside)

    result = run_cli("--root", site, "build")

    assert result.code == 1
    assert f"{output.as_posix()}/index.html: a symbolic link is in the way of this file" in result.err
    assert f"{output.as_posix()}/blog/index.html: a symbolic link is in the way" in result.err
    assert "internal error" not in result.err
    assert tree_bytes(outside) == before


def test_a_link_planted_at_the_writing_mark_is_not_written_through(copy_site, run_cli,
                                                                   tmp_path) -> None:
    """The mark a writer leaves while it writes (``.storefront-writing``) is made as a new file:
    a link at its name, to nowhere or to a file outside, is removed, never written through."""
    site = copy_site("basic")
    assert run_cli("--root", site, "build", "--jobs", "1").code == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("12345\n", encoding="utf-8")
    mark = site / "output" / ".storefront-writing"
    for target in (outside / "made.txt", outside / "keep.txt"):
        mark.symlink_to(target)
        result = run_cli("--root", site, "build", "--jobs", "1")
        assert result.code == 0, result.err
        assert not os.path.lexists(mark)
        assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
        assert (outside / "keep.txt").read_text(encoding="utf-8") == "12345\n"


def test_links_planted_in_the_build_cache_are_not_followed(copy_site, run_cli, tmp_path) -> None:
    """A ``.storefront-cache`` with links at the names the cache writes (a cloned repository can
    hold one): the build wrote every page into the folder ``pages`` led to, and its tables into
    the SQLite database ``cache.sqlite3`` led to."""
    import sqlite3

    site = copy_site("basic")
    outside = tmp_path / "outside"
    (outside / "pages").mkdir(parents=True)
    database = outside / "other.sqlite3"
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("CREATE TABLE notes(text)")
        db.commit()
    cache = site / ".storefront-cache"
    cache.mkdir()
    (cache / "cache.sqlite3").symlink_to(database)
    (cache / "pages").symlink_to(outside / "pages", target_is_directory=True)
    (cache / "compiled").symlink_to(outside / "pages", target_is_directory=True)

    result = run_cli("--root", site, "build", "--jobs", "1")

    assert result.code == 0, result.err
    assert list((outside / "pages").iterdir()) == []
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]
    assert not (cache / "pages").is_symlink() and not (cache / "cache.sqlite3").is_symlink()
    assert (site / "output/chi-siamo/index.html").is_file()

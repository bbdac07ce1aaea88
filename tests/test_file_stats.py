"""A build with a cache reads again only the files whose ``stat`` changed since the last build.

What is at stake: a changed file taken on trust would publish the old text. So each test changes a
file the way something real does (an editor writing in place with the same length, a tool that
puts the old modification time back, a save within the second the last build saw) and checks
that the change is published, byte-identical to a clean build.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

import storefront.sources
from storefront.build import BuildRequest, build_site
from storefront.cache import DATABASE
from storefront.request import CACHE_DIR
from storefront.sources import StatCache
from support import tree_bytes

POST = "content/posts/2024-06-10-focaccia.md"
OTHER = "content/posts/2024-05-01-pane-di-grano-antico.md"
DAY_NS = 86_400 * 10**9


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


@pytest.fixture()
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files each build reads and hashes (what discovery could not take from the stat cache)."""
    seen: list[str] = []
    real = storefront.sources.file_sha256

    def counting(path: str | Path) -> str:
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(storefront.sources, "file_sha256", counting)
    return seen


def age(site: Path) -> None:
    """Every content file as written two days ago (long before any build recorded it)."""
    for path in (site / "content").rglob("*"):
        if path.is_file():
            info = path.stat()
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - 2 * DAY_NS))


def build(site: Path, output: str = "output", **options: object):
    return build_site(BuildRequest(root=site, output=site / output, **options))  # type: ignore[arg-type]


def clean_tree(site: Path, tmp_path: Path) -> dict[str, bytes]:
    build_site(BuildRequest(root=site, output=tmp_path / "clean", use_cache=False, jobs=1))
    return tree_bytes(tmp_path / "clean")


def same_length_edit(path: Path, old: str, new: str) -> None:
    """Rewrite ``path`` in place, same size, and put its modification time back."""
    assert len(old) == len(new)
    info = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    with open(path, "r+b") as handle:  # in place: same inode, as an editor that does not rename
        handle.write(text.replace(old, new).encode("utf-8"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns


def test_a_build_hashes_only_the_files_whose_stat_changed(copy_site, hashed) -> None:
    site = copy_site("basic")
    age(site)
    build(site)
    assert Path(POST).name in hashed  # the first build reads everything
    hashed.clear()
    assert build(site).written == 0
    assert hashed == []
    post = site / POST
    post.write_text(post.read_text(encoding="utf-8") + "\nUna riga in più.\n", encoding="utf-8")
    report = build(site)
    assert hashed == [post.name] and report.parsed == 1
    assert "Una riga in più" in (site / "output/blog/2024/06/focaccia/index.html").read_text("utf-8")


def test_a_same_size_edit_with_the_old_modification_time_is_published(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    age(site)
    build(site)
    same_length_edit(site / POST, "focaccia", "FOCACCIA")  # its change time still moves
    report = build(site)
    assert report.parsed == 1
    assert tree_bytes(site / "output") == clean_tree(site, tmp_path)


def test_files_recorded_within_two_seconds_of_their_change_are_read_again(copy_site, hashed) -> None:
    site = copy_site("basic")
    for path in (site / "content").rglob("*"):
        if path.is_file():
            os.utime(path)  # just written: the build records them less than a second later
    build(site)
    hashed.clear()
    build(site)
    assert Path(POST).name in hashed  # a file system with coarse times could hide a change
    time.sleep(2.1)
    build(site)  # recorded again, now more than two seconds after the files were written
    hashed.clear()
    build(site)
    assert hashed == []


def test_no_cache_builds_read_every_file(copy_site, hashed) -> None:
    site = copy_site("basic")
    age(site)
    build(site)
    hashed.clear()
    build(site, "second", use_cache=False)
    assert Path(POST).name in hashed


def test_a_stat_row_edited_by_hand_is_ignored(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    age(site)
    build(site)
    post = site / POST
    with sqlite3.connect(site / CACHE_DIR / DATABASE) as db:
        # as if the file had been hashed with its new text already: without the checksum, the
        # build would take the old parse for the new file
        (count,) = db.execute("SELECT count(*) FROM stats WHERE path LIKE ?",
                              (f"%{post.name}",)).fetchone()
        assert count == 1
        db.execute("UPDATE stats SET digest = 'f' || substr(digest, 2) WHERE path LIKE ?",
                   (f"%{post.name}",))
    report = build(site, "second")
    assert report.cache_discarded >= 1
    assert tree_bytes(site / "second") == clean_tree(site, tmp_path)


def test_deleted_files_leave_the_saved_stats(copy_site) -> None:
    site = copy_site("basic")
    age(site)
    build(site)
    (site / POST).unlink()
    build(site)
    with sqlite3.connect(site / CACHE_DIR / DATABASE) as db:
        paths = [row[0] for row in db.execute("SELECT path FROM stats")]
    assert paths and not any(path.endswith(Path(POST).name) for path in paths)


def test_the_stat_cache_trusts_only_an_unchanged_stamp_recorded_well_after_it(tmp_path) -> None:
    file = tmp_path / "a.md"
    file.write_text("uno", encoding="utf-8")
    info = file.stat()
    stamp = (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)
    later = info.st_mtime_ns + 3 * 10**9
    stats = StatCache()
    stats.load([(str(file), stamp, later, "d1")])
    stats.begin()
    assert stats.get(str(file)) == (stamp, "d1")
    soon = StatCache()
    soon.load([(str(file), stamp, info.st_mtime_ns + 19 * 10**8, "d1")])  # 1.9 s after
    assert soon.get(str(file)) == (stamp, None)
    other = StatCache()
    other.load([(str(file), (stamp[0], stamp[1], stamp[2] + 1, stamp[3]), later, "d1")])
    assert other.get(str(file)) == (stamp, None)
    # what a save must add and drop: the fresh entries of files asked for, and files not asked for
    stats.load([(str(tmp_path / "gone.md"), stamp, later, "d2")])
    stats.put(str(file), stamp, "d3")
    fresh, gone = stats.unsaved()
    assert [(path, digest) for path, _, _, digest in fresh] == [(str(file), "d3")]
    assert gone == [str(tmp_path / "gone.md")]
    assert stats.unsaved() == ([], [])


@pytest.mark.parametrize("how", ["rename", "in place, same size, old mtime"])
def test_a_save_during_a_build_is_published_by_the_next_one(copy_site, tmp_path, monkeypatch,
                                                            how: str) -> None:
    import storefront.site

    site = copy_site("basic")
    age(site)
    build(site)
    post = site / POST
    real = storefront.site.build_model

    def save_meanwhile(*args: object, **kwargs: object) -> object:
        # after this build has read the post: it publishes the old text and saves the old stat
        if how == "rename":
            temp = post.with_name(".focaccia.tmp")
            temp.write_text(post.read_text(encoding="utf-8").replace("focaccia", "FOCACCIA"),
                            encoding="utf-8")
            os.replace(temp, post)
        else:
            same_length_edit(post, "focaccia", "FOCACCIA")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(storefront.site, "build_model", save_meanwhile)
    other = site / OTHER  # a change, so that this build is not answered by the no-change memo
    other.write_text(other.read_text(encoding="utf-8") + "\nAncora.\n", encoding="utf-8")
    assert build(site).parsed == 1  # the other post: this build read the old text of the first
    page = site / "output/blog/2024/06/focaccia/index.html"
    assert "FOCACCIA" in post.read_text(encoding="utf-8")
    assert "FOCACCIA" not in page.read_text(encoding="utf-8")
    monkeypatch.setattr(storefront.site, "build_model", real)
    report = build(site)
    assert report.parsed == 1
    assert tree_bytes(site / "output") == clean_tree(site, tmp_path)
    assert "FOCACCIA" in page.read_text(encoding="utf-8")

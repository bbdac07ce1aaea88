"""storefront.urls (URLs and output paths) and storefront.output.write_site (safe, minimal writes)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from storefront.errors import BuildFailed
from storefront.output import MANIFEST, items_from_bytes, read_manifest
from storefront.output import write_site as write_items
from storefront.urls import UnsafePath, UrlBuilder, safe_relative_path

SHOP = UrlBuilder.from_base_url("https://example.com/shop/")
ROOT = UrlBuilder.from_base_url("https://example.com/")


# -- urls --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "base_path"),
    [("https://example.com/shop/", "/shop/"), ("https://example.com/a/b", "/a/b/"),
     ("https://example.com/", "/"), ("https://example.com", "/"), ("", "/")],
)
def test_base_path_comes_from_the_base_url(base_url: str, base_path: str) -> None:
    assert UrlBuilder.from_base_url(base_url).base_path == base_path


def test_site_paths_get_the_base_path_and_absolute_urls_pass_through() -> None:
    assert SHOP.url("/feed.xml") == "/shop/feed.xml"
    assert SHOP.url("feed.xml") == "/shop/feed.xml"
    assert SHOP.url("/") == "/shop/"
    for absolute in ("https://x.example/a", "http://x.example/", "mailto:a@b.it", "tel:+39055"):
        assert SHOP.url(absolute) == absolute
    assert ROOT.url("/blog/") == "/blog/"


def test_absolute_urls_use_the_scheme_and_host_of_the_base_url() -> None:
    assert SHOP.absolute("/shop/blog/") == "https://example.com/shop/blog/"
    assert SHOP.absolute("https://cdn.example/x.jpg") == "https://cdn.example/x.jpg"
    assert UrlBuilder.from_base_url("").absolute("/blog/") == "/blog/"


def test_permalinks_fill_zero_padded_dates_slug_and_category() -> None:
    moment = datetime(2024, 5, 1, 9, 0)
    dated = SHOP.permalink("/blog/{year}/{month}/{day}/{slug}/", "vaso", moment)
    assert dated == "/shop/blog/2024/05/01/vaso/"
    assert SHOP.permalink("/{category}/{slug}.html", "vaso", category="vasi") == "/shop/vasi/vaso.html"
    assert SHOP.permalink("/{category}/{slug}/", "vaso") == "/shop/senza-categoria/vaso/"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/shop/", "index.html"),
        ("/shop/blog/", "blog/index.html"),
        ("/shop/blog/page/2/", "blog/page/2/index.html"),
        ("/shop/feed.xml", "feed.xml"),
        ("/shop/vasi/vaso.html", "vasi/vaso.html"),
        ("/shop/prodotti/#vasi", "prodotti/index.html"),
        ("/shop/a/./b/", "a/b/index.html"),
    ],
)
def test_output_paths(url: str, path: str) -> None:
    assert SHOP.output_path(url) == path


@pytest.mark.parametrize("url", ["/other/", "/shop", "https://example.com/shop/", "/shop/a/../../etc/passwd"])
def test_output_paths_never_leave_the_base_path(url: str) -> None:
    with pytest.raises(UnsafePath):
        SHOP.output_path(url)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [("a/b.html", "a/b.html"), ("a//b.html", "a/b.html"), ("./a/./b/../c.html", "a/c.html"), ("..a", "..a")],
)
def test_safe_relative_path_normalises(relative: str, expected: str) -> None:
    assert safe_relative_path(relative) == expected


@pytest.mark.parametrize(
    "relative",
    ["..", "../outside.txt", "a/../../outside.txt", "/etc/passwd", "//etc/passwd", "a\\..\\b", "a\x00b",
     "", ".", "a/.."],
)
def test_safe_relative_path_refuses_escapes(relative: str) -> None:
    with pytest.raises(UnsafePath):
        safe_relative_path(relative)


# -- write_site --------------------------------------------------------------------------------


def write_site(out: Path, files: dict[str, bytes]):
    return write_items(out, items_from_bytes(files))


def manifest_names(out: Path) -> list[str]:
    return sorted(json.loads((out / MANIFEST).read_text())["files"])


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def stamps(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def test_files_are_written_with_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "output"
    report = write_site(out, {"index.html": b"<p>home</p>", "blog/page/2/index.html": b"2"})
    assert (report.written, report.unchanged, report.deleted) == (2, 0, 0)
    assert {name: data for name, data in tree(out).items() if name != MANIFEST} == {
        "blog/page/2/index.html": b"2",
        "index.html": b"<p>home</p>",
    }
    manifest = read_manifest(out)
    assert sorted(manifest) == ["blog/page/2/index.html", "index.html"]
    info = (out / "index.html").stat()
    assert manifest["index.html"] == (hashlib.sha256(b"<p>home</p>").hexdigest(), info.st_size,
                                      info.st_mtime_ns)
    assert stat.S_IMODE((out / "index.html").stat().st_mode) == 0o644


def test_an_identical_second_write_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "output"
    files = {"index.html": b"home", "a/b.css": b"body{}", "feed.xml": b"<rss/>"}
    write_site(out, files)
    before = stamps(out)
    report = write_site(out, dict(files))
    assert (report.written, report.unchanged, report.deleted) == (0, 3, 0)
    assert stamps(out) == before  # same inode, same mtime: not rewritten, manifest included


def test_only_changed_files_are_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"a.html": b"one", "b.html": b"two"})
    before = stamps(out)
    report = write_site(out, {"a.html": b"one", "b.html": b"TWO"})
    assert (report.written, report.unchanged) == (1, 1)
    after = stamps(out)
    assert after["a.html"] == before["a.html"]
    assert after["b.html"] != before["b.html"]
    assert (out / "b.html").read_bytes() == b"TWO"


def test_stale_files_are_deleted_and_foreign_files_kept(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"index.html": b"home", "old/gone.html": b"x", "keep/mine.html": b"x"})
    (out / "CNAME").write_text("shop.example\n")
    (out / "keep" / "notes.txt").write_text("the owner's\n")
    report = write_site(out, {"index.html": b"home"})
    assert (report.written, report.unchanged, report.deleted) == (0, 1, 2)
    assert not (out / "old").exists()  # emptied folders go too
    assert manifest_names(out) == ["index.html"]
    assert {name: data for name, data in tree(out).items() if name != MANIFEST} == {
        "CNAME": b"shop.example\n",
        "index.html": b"home",
        "keep/notes.txt": b"the owner's\n",
    }


def test_a_tampered_manifest_never_deletes_outside_the_output(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"index.html": b"home"})
    victim = tmp_path / "outside.txt"
    victim.write_text("precious")
    tampered = ["index.html", "../outside.txt", str(victim), "a/../../outside.txt"]
    (out / MANIFEST).write_text(json.dumps(tampered))
    report = write_site(out, {"index.html": b"home"})
    assert report.deleted == 0
    assert victim.read_text() == "precious"


def test_a_symlinked_folder_inside_the_output_is_never_written_or_deleted_through(tmp_path: Path) -> None:
    out = tmp_path / "output"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "victim.html").write_text("precious")
    write_site(out, {"index.html": b"home"})
    (out / "blog").symlink_to(outside, target_is_directory=True)

    with pytest.raises(BuildFailed, match="a symbolic link is in the way"):
        write_site(out, {"index.html": b"home", "blog/victim.html": b"overwritten", "blog/new.html": b"x"})
    assert sorted(p.name for p in outside.iterdir()) == ["victim.html"]
    assert (outside / "victim.html").read_text() == "precious"

    (out / MANIFEST).write_text(json.dumps(["index.html", "blog/victim.html"]))
    assert write_site(out, {"index.html": b"home"}).deleted == 0
    assert (outside / "victim.html").read_text() == "precious"


def test_an_unsafe_output_path_is_refused_before_anything_lands_outside(tmp_path: Path) -> None:
    out = tmp_path / "output"
    with pytest.raises(UnsafePath):
        write_site(out, {"../escape.html": b"x"})
    assert not (tmp_path / "escape.html").exists()


def test_a_failed_write_leaves_no_temp_file_and_claims_the_new_files(tmp_path: Path,
                                                                    monkeypatch) -> None:
    import storefront.output as output_module

    out = tmp_path / "output"
    write_site(out, {"index.html": b"home"})
    real_write = output_module.write_atomic

    def fail_on_blog(target: Path, data: bytes) -> None:
        if target.name == "blog.html":
            raise OSError(28, "No space left on device")
        real_write(target, data)

    monkeypatch.setattr(output_module, "write_atomic", fail_on_blog)
    with pytest.raises(OSError, match="No space left"):
        write_site(out, {"a.html": b"a", "blog.html": b"<p>blog</p>", "index.html": b"home"})
    assert not [p for p in out.rglob("*") if p.name.startswith(".tmp")]
    # the manifest already lists what this run set out to write, so a later build can clean up
    assert manifest_names(out) == ["a.html", "blog.html", "index.html"]
    monkeypatch.setattr(output_module, "write_atomic", real_write)
    write_site(out, {"index.html": b"home"})
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "index.html"]


def test_a_file_the_builder_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    (out / "robots.txt").write_text("Disallow: /privato/\n")
    (out / "blog.html").mkdir()
    with pytest.raises(BuildFailed) as failed:
        write_site(out, {"robots.txt": b"Allow: /\n", "blog.html": b"x", "index.html": b"home"})
    assert [(e.location.path, e.message) for e in failed.value.errors] == [
        (f"{out.as_posix()}/blog.html",
         "this file was not written by storefront, and the build would replace it"),
        (f"{out.as_posix()}/robots.txt",
         "this file was not written by storefront, and the build would replace it"),
    ]
    assert (out / "robots.txt").read_text() == "Disallow: /privato/\n"
    assert not (out / "index.html").exists()
    # the same bytes are not a conflict: the build can adopt a file it would write identically
    write_site(out, {"robots.txt": b"Disallow: /privato/\n", "index.html": b"home"})


@pytest.mark.parametrize("content", ["not json", '{"a": 1}', '["ok.html", 3, null]'])
def test_a_broken_manifest_is_read_as_what_it_safely_says(tmp_path: Path, content: str) -> None:
    (tmp_path / MANIFEST).write_text(content)
    assert set(read_manifest(tmp_path)) == ({"ok.html"} if content.startswith("[") else set())


def test_a_file_replaced_by_a_symlink_is_not_deleted_as_stale(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"index.html": b"home", "old.html": b"x"})
    target = tmp_path / "target.html"
    target.write_text("precious")
    os.remove(out / "old.html")
    (out / "old.html").symlink_to(target)
    write_site(out, {"index.html": b"home"})
    assert target.read_text() == "precious"


def test_a_file_in_the_way_of_a_folder_fails_the_write_before_anything_changes(tmp_path: Path) -> None:
    """An item inside another item's file (``feed.xml/x/index.html`` beside ``feed.xml``), inside
    storefront's own files, or inside a file the owner put there: the write stopped halfway with
    "Not a directory", some pages already replaced (exit 1, and output/ was not as it was)."""
    out = tmp_path / "output"
    write_site(out, {"index.html": b"home", "feed.xml": b"<rss/>"})
    (out / "tag").write_text("the owner's\n")
    before = stamps(out)
    for inside in ("feed.xml/x/index.html", ".storefront-writing/index.html",
                   f"{MANIFEST}/index.html", "tag/a/index.html"):
        with pytest.raises(BuildFailed) as failed:
            write_site(out, {"index.html": b"HOME", "feed.xml": b"<rss/>", inside: b"x"})
        folder = inside.split("/")[0]
        assert [(e.location.path, e.message) for e in failed.value.errors] == [
            (f"{out.as_posix()}/{inside}", f"{out.as_posix()}/{folder} is a file, not a folder")]
        assert stamps(out) == before


def test_a_file_of_the_last_build_makes_way_for_a_folder_and_a_folder_for_a_file(
        tmp_path: Path) -> None:
    """An alias /storia.html that becomes /storia.html/ (and back): the last build's file or
    folder is where this one writes the other; the build deletes it first, as it would anyway."""
    out = tmp_path / "output"
    write_site(out, {"index.html": b"home", "storia.html": b"redirect"})
    report = write_site(out, {"index.html": b"home", "storia.html/index.html": b"redirect"})
    assert (report.written, report.unchanged, report.deleted) == (1, 1, 1)
    assert (out / "storia.html" / "index.html").read_bytes() == b"redirect"
    assert manifest_names(out) == ["index.html", "storia.html/index.html"]
    report = write_site(out, {"index.html": b"home", "storia.html": b"redirect"})
    assert (report.written, report.unchanged, report.deleted) == (1, 1, 1)
    assert (out / "storia.html").read_bytes() == b"redirect"
    # a folder with a file the owner put in it stays, and the build says so
    write_site(out, {"index.html": b"home", "storia.html/index.html": b"redirect"})
    (out / "storia.html" / "notes.txt").write_text("the owner's\n")
    with pytest.raises(BuildFailed, match="not written by storefront"):
        write_site(out, {"index.html": b"home", "storia.html": b"redirect"})
    assert (out / "storia.html" / "notes.txt").read_text() == "the owner's\n"

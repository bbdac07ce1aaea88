"""The whole-build shortcut (nothing changed: nothing is done) holds only while the output folder
is as the build it remembers left it, not after another kind of build into the same folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from storefront.build import BuildRequest, build_site
from storefront.site import BuildOptions
from support import tree_bytes


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


def build(site: Path, **options: object):
    return build_site(BuildRequest(root=site, output=site / "output", jobs=1,
                                   **options))  # type: ignore[arg-type]


def clean_tree(site: Path, output: Path) -> dict[str, bytes]:
    build_site(BuildRequest(root=site, output=output, use_cache=False, jobs=1))
    return tree_bytes(output)


def test_a_build_after_a_drafts_build_into_the_same_folder_leaves_the_drafts_out(
        copy_site, tmp_path) -> None:
    site = copy_site("basic")
    build(site)
    build(site, options=BuildOptions(drafts=True, future=True))
    assert (site / "output/blog/2024/07/bozza/index.html").exists()
    report = build(site)  # nothing changed since the first build, but the folder did
    assert not (site / "output/blog/2024/07/bozza/index.html").exists()
    assert "blog/2024/07/bozza/index.html" in report.changed
    assert tree_bytes(site / "output") == clean_tree(site, tmp_path / "clean")


def test_a_build_after_one_for_another_base_url_puts_back_the_public_addresses(
        copy_site, tmp_path) -> None:
    site = copy_site("basic")
    build(site)
    build(site, base_url="http://127.0.0.1:8000/")
    build(site)
    assert b"127.0.0.1" not in (site / "output/sitemap.xml").read_bytes()
    assert tree_bytes(site / "output") == clean_tree(site, tmp_path / "clean")


def test_nothing_changed_is_still_answered_without_building(copy_site) -> None:
    site = copy_site("basic")
    build(site)
    build(site, options=BuildOptions(drafts=True, future=True))
    build(site)
    again = build(site)
    assert (again.rendered, again.parsed, again.written, again.deleted) == (0, 0, 0, 0)


def test_a_build_with_an_earlier_clock_leaves_out_what_was_not_yet_published(
        copy_site, tmp_path, monkeypatch) -> None:
    # SOURCE_DATE_EPOCH from an older commit, or a clock set back: the focaccia post (dated
    # 2024-06-10) was published by the first build, and is scheduled again for the second
    site = copy_site("basic")
    config = site / "storefront.yaml"  # no sale, no merchant feed: the pages show only the year
    config.write_text(config.read_text(encoding="utf-8").replace("merchant: true", "merchant: false"),
                      encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1718841600")  # 2024-06-20
    build(site)
    assert (site / "output/blog/2024/06/focaccia/index.html").exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717545600")  # 2024-06-05
    report = build(site)
    assert not (site / "output/blog/2024/06/focaccia/index.html").exists()
    assert "blog/2024/06/focaccia/index.html" in report.changed
    assert tree_bytes(site / "output") == clean_tree(site, tmp_path / "clean")
    again = build(site)  # the same clock again: nothing to do
    assert (again.rendered, again.parsed, again.written, again.deleted) == (0, 0, 0, 0)

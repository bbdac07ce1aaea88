"""What the shop front costs an incremental build: stylesheet edits and holiday closures.

A stylesheet edit gives the bundle a new name, so every page that links it is rendered again and
the old file goes; an edit that touches no theme file does not remake the bundle's bytes. A
holiday closure changes the pages on the days its notice appears, it starts and it ends, and on
no other day: between those days a build does nothing (the whole-build shortcut), and a preview
session crossing one of them renders the pages that show closures.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storefront.build import BuildRequest, BuildSession, build_site
from support import tree_bytes

POST = "content/posts/2024-06-10-focaccia.md"
# 2024-07-15 at 10:00 and 11:00 UTC (before the notice, due on 2024-08-02), 2024-09-05 (the shop
# is closed); nothing else of the fixture site changes in between
BEFORE, STILL_BEFORE, DURING = 1721037600, 1721041200, 1725530400
CLOSURE = "  closures:\n    - {from: 2024-09-01, until: 2024-09-20, note: Chiuso per ferie}\n"


def build(site: Path, **options: object):
    return build_site(BuildRequest(root=site, output=site / "output", jobs=1,
                                   **options))  # type: ignore[arg-type]


def stylesheet_links(output: Path) -> dict[str, str]:
    """The stylesheet each page links, by output path (redirect pages link none)."""
    found = {}
    for page in output.rglob("*.html"):
        links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.read_text("utf-8"))
        if links:
            (found[page.relative_to(output).as_posix()],) = links
    return found


@pytest.fixture
def themed_site(copy_site, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")
    site = copy_site("basic")
    theme = site / "themes" / "casa"
    (theme / "static" / "css").mkdir(parents=True)
    (theme / "theme.yaml").write_text("name: casa\nextends: default\nstylesheets: [css/casa.css]\n",
                                      encoding="utf-8")
    (theme / "static" / "css" / "casa.css").write_text(".callout { color: #123 }\n", "utf-8")
    config = site / "storefront.yaml"
    config.write_text(config.read_text("utf-8") + "theme: casa\n", "utf-8")
    return site


def test_a_stylesheet_edit_renames_the_bundle_and_renders_the_pages_that_link_it(themed_site) -> None:
    first = build(themed_site)
    linking = stylesheet_links(themed_site / "output")
    (old,) = set(linking.values())
    (themed_site / "themes/casa/static/css/casa.css").write_text(".callout { color: #456 }\n",
                                                                 "utf-8")
    report = build(themed_site)
    (new,) = set(stylesheet_links(themed_site / "output").values())
    assert new != old and re.fullmatch(r"/static/css/site\.[0-9a-f]{8}\.css", new)
    # every page that links the stylesheet, and no other (the redirect pages of aliases link none)
    assert report.rendered == len(linking) and report.pages == first.pages
    assert set(report.changed) == {*linking, old.lstrip("/"), new.lstrip("/")}
    assert not (themed_site / "output" / old.lstrip("/")).exists()
    assert b".callout{color:#456}" in (themed_site / "output" / new.lstrip("/")).read_bytes()


def test_a_content_edit_leaves_the_theme_files_alone(themed_site) -> None:
    build(themed_site)
    post = themed_site / POST
    post.write_text(post.read_text("utf-8") + "\nUna riga in più.\n", "utf-8")
    report = build(themed_site)
    assert report.rendered == 1
    assert not [path for path in report.changed if path.startswith("static/")]


@pytest.fixture
def closing_site(copy_site, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(BEFORE))
    site = copy_site("basic")
    config = site / "storefront.yaml"
    config.write_text(config.read_text("utf-8").replace("business:\n", "business:\n" + CLOSURE),
                      "utf-8")
    return site


def notices(output: Path) -> list[str]:
    return re.findall(r'<p class="notice[^"]*">', (output / "chi-siamo/index.html").read_text("utf-8"))


def test_builds_between_a_closures_dates_do_nothing_and_its_notice_comes_on_the_day(
        closing_site, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build(closing_site)
    assert notices(closing_site / "output") == []  # more than 30 days before: listed, not announced
    assert first.next_change is not None and first.next_change.isoformat() == "2024-08-02T00:00:00+02:00"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(STILL_BEFORE))
    quiet = build(closing_site)
    assert (quiet.rendered, quiet.written) == (0, 0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(DURING))
    report = build(closing_site)
    # every page shows the closures (in its header and footer), the redirect pages of aliases none
    showing = stylesheet_links(closing_site / "output")
    assert report.rendered == len(showing) < report.pages
    assert notices(closing_site / "output") == ['<p class="notice notice-current">']


def test_a_preview_session_crossing_a_closures_day_renders_again(
        closing_site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    session = BuildSession(BuildRequest(root=closing_site, output=tmp_path / "live", jobs=1))
    try:
        session.build()
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(DURING))
        report = session.build()
    finally:
        session.close()
    assert report.rendered == len(stylesheet_links(tmp_path / "live")) < report.pages
    clean = build_site(BuildRequest(root=closing_site, output=tmp_path / "clean", use_cache=False,
                                    jobs=1))
    assert clean.pages == report.pages
    assert tree_bytes(tmp_path / "live") == tree_bytes(tmp_path / "clean")

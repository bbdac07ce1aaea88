"""Incremental builds equal clean builds when a theme's templates keep state Jinja or storefront
remember between pages and builds: macros imported without context, fragments rendered once."""

from __future__ import annotations

from pathlib import Path

import pytest

from storefront.build import BuildRequest, BuildSession, build_site
from support import tree_bytes

DEFAULT_TEMPLATES = Path(__file__).parents[1] / "src/storefront/themes/default/templates"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


def with_theme(site: Path, templates: dict[str, str]) -> Path:
    """Give ``site`` a child theme of the default one holding ``templates``."""
    theme = site / "themes" / "custom"
    (theme / "templates").mkdir(parents=True)
    (theme / "theme.yaml").write_text("name: custom\nextends: default\n", encoding="utf-8")
    for name, text in templates.items():
        (theme / "templates" / name).write_text(text, encoding="utf-8")
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: custom\n", encoding="utf-8")
    return site


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def clean_tree(site: Path, output: Path) -> dict[str, bytes]:
    build_site(BuildRequest(root=site, output=output, use_cache=False, jobs=1))
    return tree_bytes(output)


def test_macros_imported_without_context_see_this_builds_globals_in_a_session(
        copy_site, tmp_path) -> None:
    # Jinja keeps the module of a template imported without context, with a copy of the globals
    # as they were: a session reuses its environment while the theme is unchanged
    site = with_theme(copy_site("basic"), {
        "_brand.html": '{% macro brand() %}<p class="brand">{{ site.title }} {{ url("/blog/") }}'
                       '</p>{% endmacro %}\n',
        "post.html": '{% extends "default/post.html" %}{% block content %}'
                     '{% import "_brand.html" as brand %}{{ brand.brand() }}{{ super() }}'
                     '{% endblock %}',
    })
    session = BuildSession(BuildRequest(root=site, output=tmp_path / "live", jobs=1))
    try:
        session.build()
        replace_in(site / "storefront.yaml", "title: Forno Rossi", "title: Forno Bianchi")
        replace_in(site / "storefront.yaml", "base_url: https://forno.example/",
                   "base_url: https://forno.example/negozio/")
        session.build()
    finally:
        session.close()
    page = (tmp_path / "live/blog/2024/06/focaccia/index.html").read_text(encoding="utf-8")
    assert '<p class="brand">Forno Bianchi /negozio/blog/</p>' in page
    assert tree_bytes(tmp_path / "live") == clean_tree(site, tmp_path / "clean")


def test_a_shared_fragment_with_a_picture_does_not_depend_on_the_page_rendered_first(
        copy_site, tmp_path) -> None:
    # the first image of a page is loaded at once: in the footer (rendered once per build) that
    # depends on the page showing an image before it, not on which page the build rendered first
    footer = (DEFAULT_TEMPLATES / "_footer.html").read_text(encoding="utf-8")
    site = with_theme(copy_site("basic"), {"_footer.html": footer.replace(
        '<footer class="site-footer">',
        '<footer class="site-footer">{{ picture("/assets/pagnotta.png", "Logo") }}', 1)})
    build_site(BuildRequest(root=site, output=site / "output", jobs=1))
    # only the privacy page (no image of its own) is rendered again
    replace_in(site / "content/pages/privacy.md", "dodici mesi", "ventiquattro mesi")
    report = build_site(BuildRequest(root=site, output=site / "output", jobs=1))
    assert report.rendered == 1
    expected = clean_tree(site, tmp_path / "clean")
    assert tree_bytes(site / "output") == expected
    privacy = expected["privacy/index.html"].decode()
    home = expected["index.html"].decode()
    assert 'alt="Logo" fetchpriority="high"' in privacy[privacy.index("site-footer"):]
    assert 'alt="Logo" loading="lazy"' in home[home.index("site-footer"):]

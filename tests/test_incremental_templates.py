"""Incremental builds equal clean builds when a theme's templates keep state Jinja or storefront
remember between pages and builds: macros imported without context, fragments rendered once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from storefront.build import BuildRequest, BuildSession, build_site
from support import replace_in, tree_bytes

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


@pytest.mark.parametrize("kept_by", ["a session", "the cache"])
def test_a_filter_of_a_constant_shows_the_config_of_this_build(copy_site, tmp_path,
                                                               kept_by) -> None:
    """Jinja runs a filter of constants while it compiles the template and keeps the answer in
    the code: ``{{ "/"|abs_url }}`` kept the first build's base URL in a preview session (its
    environment outlives config edits) and in the cache's compiled templates (a fresh process)."""
    from storefront import environment

    site = with_theme(copy_site("basic"), {
        "post.html": '{% extends "default/post.html" %}{% block content %}'
                     '<p class="folded">{{ "/"|abs_url }} {{ 1234.5|price("EUR") }} '
                     '{{ "IT"|country }}</p>{{ super() }}{% endblock %}',
    })
    session = BuildSession(BuildRequest(root=site, output=tmp_path / "live", jobs=1))
    try:
        session.build()
        page = (tmp_path / "live/blog/2024/06/focaccia/index.html").read_text(encoding="utf-8")
        assert '<p class="folded">https://forno.example/ 1.234,50\xa0€ Italia</p>' in page
        replace_in(site / "storefront.yaml", "base_url: https://forno.example/",
                   "base_url: https://pane.example/negozio/")
        replace_in(site / "storefront.yaml", "locale: it_IT", "locale: en_GB")
        if kept_by == "the cache":  # as a new process: the templates come from the cache
            session.close()
            environment._ENVIRONMENTS.clear()
            session = BuildSession(BuildRequest(root=site, output=tmp_path / "live", jobs=1))
        session.build()
    finally:
        session.close()
    if kept_by == "the cache":
        assert any((site / ".storefront-cache/compiled").iterdir())
    page = (tmp_path / "live/blog/2024/06/focaccia/index.html").read_text(encoding="utf-8")
    assert '<p class="folded">https://pane.example/ €1,234.50 Italy</p>' in page
    assert tree_bytes(tmp_path / "live") == clean_tree(site, tmp_path / "clean")


def test_what_an_imported_library_reads_at_its_top_level_is_a_dependency_of_every_page(
        copy_site, tmp_path) -> None:
    # Jinja makes the module of a template imported without context once per process: what
    # its top level read (here a photo, through image()) was recorded for the first page
    # rendered only, so replacing the photo left the other pages linking to its old copies
    site = with_theme(copy_site("basic"), {
        "_lib.html": '{%- set logo = image("/assets/logo.png") -%}'
                     '{%- macro logo_tag() -%}<img class="logo" src="{{ logo.url }}" '
                     'data-v="{{ logo.variants[0].url }}">{%- endmacro -%}\n',
        "post.html": '{%- extends "default/post.html" -%}{%- import "_lib.html" as lib -%}'
                     '{%- block content -%}{{ super() }}{{ lib.logo_tag() }}{%- endblock -%}\n',
    })
    assets = site / "content/assets"
    shutil.copyfile(assets / "panettone.png", assets / "logo.png")
    for n in (2, 3, 4):
        (site / f"content/posts/2024-05-0{n}-p{n}.md").write_text(
            f"---\ntitle: Post {n}\n---\n\nTesto {n}.\n", encoding="utf-8")
    build_site(BuildRequest(root=site, output=site / "output", jobs=1))
    shutil.copyfile(assets / "pagnotta.png", assets / "logo.png")  # another photo
    build_site(BuildRequest(root=site, output=site / "output", jobs=1))
    expected = clean_tree(site, tmp_path / "clean")
    assert tree_bytes(site / "output") == expected
    posts = [expected[f"blog/2024/05/p{n}/index.html"] for n in (2, 3, 4)]
    assert all(b'class="logo"' in page for page in posts)


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


def test_a_template_gaining_changing_or_losing_a_photo_builds_as_a_clean_build(
        copy_site, tmp_path) -> None:
    # a photo a template names with a constant path is one the image stage processes: the
    # preview's session and a build with a kept cache follow the template's edits exactly
    from PIL import Image

    from storefront.errors import BuildFailed

    site = with_theme(copy_site("basic"), {})
    for name, colour in (("vetrina", (200, 40, 40)), ("banco", (40, 160, 60))):
        Image.new("RGB", (700, 500), colour).save(site / f"content/assets/{name}.jpg", quality=80)
    footer = (DEFAULT_TEMPLATES / "_footer.html").read_text(encoding="utf-8")
    marker = '<footer class="site-footer">'
    template = site / "themes/custom/templates/_footer.html"
    steps = [
        marker + '{{ picture("/assets/vetrina.jpg", "La vetrina") }}',
        marker + '{{ picture("/assets/banco.jpg", "Il banco", max_width=480) }}',
        marker + '<img src="{{ image("/assets/banco.jpg").url }}" alt="">',
        marker + '{{ picture("/assets/sparita.jpg", "Nessuna") }}',  # no such file: refused
        marker,  # the call gone: its copies go too
        marker + '{{ picture("/assets/vetrina.jpg", "La vetrina") }}',
    ]
    live = BuildSession(BuildRequest(root=site, output=tmp_path / "live", jobs=1))
    try:
        live.build(shown=lambda final, changed: None)
        for number, text in enumerate(steps):
            template.write_text(footer.replace(marker, text, 1), encoding="utf-8")
            outcomes = []
            for build in (
                    lambda: live.build(shown=lambda final, changed: None),
                    lambda: build_site(BuildRequest(root=site, output=tmp_path / "cached", jobs=1)),
                    lambda: build_site(BuildRequest(root=site, output=tmp_path / f"clean-{number}",
                                                    use_cache=False, jobs=1))):
                try:
                    build()
                    outcomes.append("ok")
                except BuildFailed as exc:
                    outcomes.append("\n".join(error.format() for error in exc.errors))
            assert outcomes[0] == outcomes[1] == outcomes[2], (number, outcomes)
            if "sparita" in text:
                assert "_footer.html:7: the image /assets/sparita.jpg does not exist" in outcomes[0]
                continue
            assert outcomes[0] == "ok"
            expected = tree_bytes(tmp_path / f"clean-{number}")
            assert tree_bytes(tmp_path / "live") == expected, number
            assert tree_bytes(tmp_path / "cached") == expected, number
            copies = {m.group(1) for name in expected
                      if (m := re.match(r"assets/(vetrina|banco)-\d+w\.", name))}
            named = {name for name in ("vetrina", "banco") if name in text}
            assert copies == named, (number, copies)
    finally:
        live.close()


def test_a_posts_structured_data_follows_its_post_when_the_theme_shows_nothing_else_of_it(
        copy_site, tmp_path) -> None:
    # the BlogPosting block is written as the page renders (not held from the plan): the post's
    # fields it shows are a read of the post even when the template itself reads none of them
    site = with_theme(copy_site("basic"), {
        "post.html": '{% extends "base.html" %}{% block content %}<p>solo</p>{% endblock %}'})
    output = site / "output"
    build_site(BuildRequest(root=site, output=output, jobs=1))
    replace_in(site / "content/posts/2024-06-10-focaccia.md", "author: Marco Rossi",
               "author: Giulia Bianchi")
    build_site(BuildRequest(root=site, output=output, jobs=1))
    page = (output / "blog/2024/06/focaccia/index.html").read_text(encoding="utf-8")
    assert '"author":{"@type":"Person","name":"Giulia Bianchi"}' in page
    assert tree_bytes(output) == clean_tree(site, tmp_path / "clean")


def test_a_render_state_sent_to_workers_carries_no_post_body_in_its_structured_data(
        copy_site, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # workers that are not forked holding the state (a thread runs: the preview's server) are
    # sent it with the bodies of stored documents deferred; a post's structured data holds the
    # post, whose body must be deferred there too (it reads only the post's card)
    import pickle
    import threading

    from storefront import workers

    site = copy_site("basic")
    post = site / "content/posts/2024-06-10-focaccia.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nCORPOUNICO " * 200, encoding="utf-8")
    build_site(BuildRequest(root=site, output=tmp_path / "first", jobs=1))  # bodies stored
    sent: list[bytes] = []
    real_dump = pickle.dump

    def dump(value: object, handle: Any, protocol: int | None = None) -> None:
        if type(value).__name__ == "RenderState":
            sent.append(pickle.dumps(value, protocol=protocol))
        real_dump(value, handle, protocol=protocol)

    monkeypatch.setattr(pickle, "dump", dump)
    monkeypatch.setattr(workers, "SERIAL_BELOW", 2)
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    try:
        (tmp_path / "first").rename(tmp_path / "live")
        replace_in(site / "storefront.yaml", "title: Forno Rossi", "title: Forno Bianchi")
        build_site(BuildRequest(root=site, output=tmp_path / "live", jobs=2))
    finally:
        release.set()
        thread.join()
    assert sent, "no render state was sent to a worker"
    assert all(b"CORPOUNICO" not in data for data in sent)
    page = (tmp_path / "live/blog/2024/06/focaccia/index.html").read_text(encoding="utf-8")
    assert '"@type":"BlogPosting"' in page and "CORPOUNICO" in page
    assert tree_bytes(tmp_path / "live") == clean_tree(site, tmp_path / "clean")

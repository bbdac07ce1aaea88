"""Theme static files: one bundled stylesheet, minified, under names that carry their hash."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest

from storefront.bundle import (
    BUNDLE,
    StaticSource,
    bundle_assets,
    fingerprint,
    load_theme_assets,
    minify,
)
from storefront.config import parse_config
from storefront.errors import BuildFailed
from storefront.presentation import template_globals
from storefront.theme import resolve_theme_chain
from storefront.urls import UrlBuilder
from support import REPO


def source(text: str, label: str = "themes/t/static/x") -> StaticSource:
    return StaticSource(text.encode(), label)


def test_fingerprint_puts_the_hash_of_the_bytes_before_the_suffix() -> None:
    digest = hashlib.sha256(b"abc").hexdigest()[:8]
    assert fingerprint("css/site.css", b"abc") == f"css/site.{digest}.css"
    assert fingerprint("favicon.svg", b"abc") == f"favicon.{digest}.svg"
    assert fingerprint("fonts/LICENSE", b"abc") == f"fonts/LICENSE.{digest}"
    assert fingerprint("css/site.css", b"abd") != fingerprint("css/site.css", b"abc")


def test_minify_keeps_what_changes_the_meaning_of_css() -> None:
    css = """/* a comment */
    .card:focus-within :focus-visible { outline: none; }
    body { font-size: clamp(1rem, 0.95rem + 0.25vw, 1.0625rem); }
    .prose a[href^="http"]::after { content: " (" attr(href) ")"; }
    @media (min-width: 44rem) and (prefers-color-scheme: dark) { a { color: red } }
    """
    out = minify("a.css", css.encode()).decode()
    assert "comment" not in out and "\n" not in out
    assert ".card:focus-within :focus-visible{" in out  # a descendant, not :focus-within:focus
    assert "0.95rem + 0.25vw" in out  # calc() needs the spaces around + and -
    assert 'content:" (" attr(href) ")"' in out
    assert "@media (min-width:44rem) and (prefers-color-scheme:dark)" in out


def test_minify_leaves_other_files_alone_and_shrinks_javascript() -> None:
    assert minify("logo.svg", b"<svg>  </svg>") == b"<svg>  </svg>"
    js = b"// note\nvar answer = 42;  /* why */\nfunction f (a) { return a / 2; }\n"
    out = minify("js/x.js", js)
    assert b"note" not in out and b"why" not in out and b"return a/2" in out


def test_stylesheets_are_joined_parent_first_into_one_fingerprinted_file() -> None:
    sources = {
        "css/site.css": source(".a { color: red }"),
        "css/shop.css": source(".a { color: blue }"),
        "js/forms.js": source("var x = 1;"),
    }
    assets = bundle_assets(sources, ["css/site.css", "css/shop.css"])
    bundle = assets.files[assets.path(BUNDLE)]
    assert bundle == b".a{color:red}.a{color:blue}"
    assert re.fullmatch(r"css/site\.[0-9a-f]{8}\.css", assets.path(BUNDLE))
    assert assets.path(BUNDLE) == fingerprint(BUNDLE, bundle)
    # the members live only inside the bundle; the other files are minified and fingerprinted
    assert sorted(assets.files) == sorted([assets.path(BUNDLE), assets.path("js/forms.js")])
    assert "css/shop.css" not in assets.names
    assert assets.files[assets.path("js/forms.js")] == b"var x=1;"


def test_a_stylesheet_listed_twice_is_bundled_once() -> None:
    assets = bundle_assets({"css/site.css": source(".a{color:red}")}, ["css/site.css", "css/site.css"])
    assert assets.files[assets.path(BUNDLE)] == b".a{color:red}"


def test_url_references_point_at_the_fingerprinted_files() -> None:
    sources = {
        "css/site.css": source('.a { background: url("../img/tile.png") }\n'
                               ".b { background: url(data:image/png;base64,AAA=) }\n"
                               ".c { background: url('https://cdn.example/x.png') }\n"
                               ".d { background: url(/assets/logo.svg) }\n"
                               ".e { src: url(fonts/a.woff2?v=2#iefix) }\n"),
        "img/tile.png": StaticSource(b"\x89PNG tile", "themes/t/static/img/tile.png"),
        "css/fonts/a.woff2": StaticSource(b"wOF2", "themes/t/static/css/fonts/a.woff2"),
    }
    assets = bundle_assets(sources, ["css/site.css"])
    css = assets.files[assets.path(BUNDLE)].decode()
    tile = assets.path("img/tile.png").removeprefix("img/")
    font = assets.path("css/fonts/a.woff2").removeprefix("css/")
    assert f'url("../img/{tile}")' in css
    assert f'url("{font}?v=2#iefix")' in css
    assert "url(data:image/png;base64,AAA=)" in css
    assert "url('https://cdn.example/x.png')" in css
    assert "url(/assets/logo.svg)" in css


def test_a_url_to_a_missing_file_is_an_error_with_its_line() -> None:
    sources = {"css/shop.css": source(".a{}\n.b { background: url(../img/nope.png) }\n",
                                      "themes/t/static/css/shop.css")}
    with pytest.raises(BuildFailed) as failure:
        bundle_assets(sources, ["css/shop.css"])
    assert [e.format() for e in failure.value.errors] == [
        "themes/t/static/css/shop.css:2: url(../img/nope.png) names no file of the theme\n"
        "  hint: put the file in the theme's static/ folder, or fix the path"]


def test_the_example_shop_gets_one_stylesheet_with_the_child_theme_last() -> None:
    chain = resolve_theme_chain(REPO, "bottega")
    assets = load_theme_assets(chain)
    stylesheets = [name for name in assets.files if name.endswith(".css")]
    assert stylesheets == [assets.path(BUNDLE)]
    css = assets.files[assets.path(BUNDLE)].decode()
    default = (REPO / "src/storefront/themes/default/static/css/site.css").read_text()
    bottega = (REPO / "themes/bottega/static/css/bottega.css").read_text()
    assert len(css) < 0.8 * (len(default) + len(bottega))
    assert css.index(".callout{") > css.index(".btn{")  # the child's rules come later and win
    assert load_theme_assets(chain) == assets  # deterministic


def write_theme(root: Path, name: str, manifest: str, files: dict[str, str]) -> None:
    folder = root / "themes" / name
    (folder / "static").mkdir(parents=True)
    (folder / "theme.yaml").write_text(manifest)
    for path, text in files.items():
        (folder / "static" / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / "static" / path).write_text(text)


def test_a_child_file_with_the_parents_path_replaces_it_in_the_bundle(tmp_path: Path) -> None:
    write_theme(tmp_path, "kid", "name: kid\nextends: default\n", {"css/site.css": ".kid{color:red}"})
    assets = load_theme_assets(resolve_theme_chain(tmp_path, "kid"))
    assert assets.files[assets.path(BUNDLE)] == b".kid{color:red}"


def test_a_missing_stylesheet_names_the_theme_yaml_line(tmp_path: Path) -> None:
    write_theme(tmp_path, "kid", "name: kid\nextends: default\nstylesheets: [css/kid.css]\n", {})
    with pytest.raises(BuildFailed) as failure:
        load_theme_assets(resolve_theme_chain(tmp_path, "kid"))
    assert [e.format() for e in failure.value.errors] == [
        "themes/kid/theme.yaml:3: the stylesheet css/kid.css is not in the theme's static/ folder\n"
        "  hint: create themes/kid/static/css/kid.css, or remove it from stylesheets:"]


@pytest.mark.parametrize("bad", ["/css/kid.css", "../kid.css", "css/kid.scss", "css//kid.css"])
def test_a_stylesheet_must_be_a_css_file_below_static(tmp_path: Path, bad: str) -> None:
    write_theme(tmp_path, "kid", f"name: kid\nstylesheets: ['{bad}']\n", {})
    with pytest.raises(BuildFailed) as failure:
        resolve_theme_chain(tmp_path, "kid")
    assert [e.format() for e in failure.value.errors] == [
        f'themes/kid/theme.yaml:2: stylesheets[1] must be a .css file below static/, such as '
        f'"css/shop.css", got "{bad}"']


def test_templates_reach_the_fingerprinted_files_by_their_logical_names() -> None:
    assets = bundle_assets({"css/site.css": source(".a{color:red}"), "js/forms.js": source("x=1")},
                           ["css/site.css"])
    config = parse_config("title: Shop\nbase_url: https://example.com/negozio/\n")
    asset_url = template_globals(config, UrlBuilder.from_base_url(config.base_url), assets,
                                 datetime(2026, 1, 1, tzinfo=UTC))["asset_url"]
    assert asset_url("css/site.css") == "/negozio/static/" + assets.path(BUNDLE)
    assert asset_url("js/forms.js") == "/negozio/static/" + assets.path("js/forms.js")
    with pytest.raises(jinja2.TemplateRuntimeError, match=r'asset_url\("css/shop.css"\): the theme '
                       r"has no static file css/shop.css"):
        asset_url("css/shop.css")

"""Theme static files: one bundled stylesheet, minified, under names that carry their hash."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import jinja2
import pytest

from storefront.bundle import (
    BUNDLE,
    StaticSource,
    ThemeAssets,
    bundle_assets,
    fingerprint,
    minify,
    theme_assets,
)
from storefront.errors import BuildFailed
from storefront.presentation import Presentation
from storefront.theme import load_strings, resolve_theme_chain, theme_files
from storefront.urls import UrlBuilder
from support import REPO


@pytest.fixture
def files(tmp_path: Path):
    """Write static files into a folder; return them as the chain would resolve them."""

    def make(contents: dict[str, str | bytes], label: str = "") -> dict[str, StaticSource]:
        found = {}
        for name, text in contents.items():
            data = text.encode() if isinstance(text, str) else text
            path = tmp_path / "static" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            found[name] = StaticSource(path, label or f"themes/t/static/{name}",
                                       hashlib.sha256(data).hexdigest())
        return found

    return make


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chain_assets(root: Path, name: str, hashed: bool = True) -> ThemeAssets:
    chain = resolve_theme_chain(root, name)
    return theme_assets(chain, theme_files(chain), hashed)


def test_fingerprint_puts_the_hash_of_the_bytes_before_the_suffix() -> None:
    digest = sha(b"abc")[:8]
    assert fingerprint("css/site.css", sha(b"abc")) == f"css/site.{digest}.css"
    assert fingerprint("favicon.svg", sha(b"abc")) == f"favicon.{digest}.svg"
    assert fingerprint("fonts/LICENSE", sha(b"abc")) == f"fonts/LICENSE.{digest}"
    assert fingerprint("css/site.css", sha(b"abd")) != fingerprint("css/site.css", sha(b"abc"))


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


def test_stylesheets_are_joined_parent_first_into_one_fingerprinted_file(files) -> None:
    sources = files({"css/site.css": ".a { color: red }", "css/shop.css": ".a { color: blue }",
                     "js/forms.js": "var x = 1;", "img/logo.png": b"\x89PNG logo"})
    assets = bundle_assets(sources, ["css/site.css", "css/shop.css"])
    bundle = assets.data(BUNDLE)
    assert bundle == b".a{color:red}.a{color:blue}"
    assert re.fullmatch(r"css/site\.[0-9a-f]{8}\.css", assets.path(BUNDLE))
    assert assets.path(BUNDLE) == fingerprint(BUNDLE, sha(bundle))
    # the members live only inside the bundle; the other files are minified and fingerprinted
    assert sorted(o.name for o in assets.outputs) == sorted(
        [assets.path(BUNDLE), assets.path("js/forms.js"), assets.path("img/logo.png")])
    assert "css/shop.css" not in assets.names
    assert assets.data("js/forms.js") == b"var x=1;"
    # a file that is not minified is copied as it is, never read into memory
    logo = next(o for o in assets.outputs if o.name == assets.path("img/logo.png"))
    assert logo.data is None and logo.file == sources["img/logo.png"].path
    assert logo.name == fingerprint("img/logo.png", sha(b"\x89PNG logo")) and logo.sha256 == sha(
        b"\x89PNG logo")


def test_the_preview_keeps_plain_names(files) -> None:
    sources = files({"css/site.css": ".a { background: url(../img/t.png) }", "img/t.png": b"t",
                     "js/forms.js": "var x = 1;"})
    assets = bundle_assets(sources, ["css/site.css"], hashed=False)
    assert dict(assets.names) == {"css/site.css": "css/site.css", "img/t.png": "img/t.png",
                                  "js/forms.js": "js/forms.js"}
    assert assets.data(BUNDLE) == b'.a{background:url("../img/t.png")}'


def test_a_stylesheet_listed_twice_is_bundled_once(files) -> None:
    assets = bundle_assets(files({"css/site.css": ".a{color:red}"}), ["css/site.css", "css/site.css"])
    assert assets.data(BUNDLE) == b".a{color:red}"


def test_url_references_point_at_the_fingerprinted_files(files) -> None:
    sources = files({
        "css/site.css": ('.a { background: url("../img/tile.png") }\n'
                         ".b { background: url(data:image/png;base64,AAA=) }\n"
                         ".c { background: url('https://cdn.example/x.png') }\n"
                         ".d { background: url(/assets/logo.svg) }\n"
                         ".f { background: url('//cdn.example/y.png') }\n"
                         ".g { background: url(/assets/foto%20uno.jpg?x=1) }\n"
                         ".h { background: url(/static/img/tile.png#a) }\n"
                         ".e { src: url(fonts/a.woff2?v=2#iefix) }\n"),
        "img/tile.png": b"\x89PNG tile",
        "css/fonts/a.woff2": b"wOF2",
    })
    assets = bundle_assets(sources, ["css/site.css"])
    css = assets.data(BUNDLE).decode()
    tile = assets.path("img/tile.png").removeprefix("img/")
    font = assets.path("css/fonts/a.woff2").removeprefix("css/")
    assert f'url("../img/{tile}")' in css
    assert f'url("{font}?v=2#iefix")' in css
    assert "url(data:image/png;base64,AAA=)" in css
    assert "url('https://cdn.example/x.png')" in css
    # a path of the site (a content asset) works below any base path: relative to the bundle,
    # which is published at static/css/
    assert 'url("../../assets/logo.svg")' in css
    assert 'url("../../assets/foto%20uno.jpg?x=1")' in css
    assert "url('//cdn.example/y.png')" in css
    assert f'url("../img/{tile}#a")' in css  # a theme file by its published path: its new name


def test_a_url_to_a_missing_file_is_an_error_with_its_line(files) -> None:
    sources = files({"css/shop.css": ".a{}\n.b { background: url(../img/nope.png) }\n"},
                    "themes/t/static/css/shop.css")
    with pytest.raises(BuildFailed) as failure:
        bundle_assets(sources, ["css/shop.css"])
    assert [e.format() for e in failure.value.errors] == [
        "themes/t/static/css/shop.css:2: url(../img/nope.png) names no file of the theme\n"
        "  hint: put the file in the theme's static/ folder, or fix the path"]


def test_the_example_shop_gets_one_stylesheet_with_the_child_theme_last() -> None:
    assets = chain_assets(REPO, "bottega")
    stylesheets = [o.name for o in assets.outputs if o.name.endswith(".css")]
    assert stylesheets == [assets.path(BUNDLE)]
    css = assets.data(BUNDLE).decode()
    default = (REPO / "src/storefront/themes/default/static/css/site.css").read_text()
    bottega = (REPO / "themes/bottega/static/css/bottega.css").read_text()
    assert len(css) < 0.8 * (len(default) + len(bottega))
    assert css.index(".callout{") > css.index(".btn{")  # the child's rules come later and win
    assert chain_assets(REPO, "bottega") == assets  # deterministic


def write_theme(root: Path, name: str, manifest: str, files: dict[str, str]) -> None:
    folder = root / "themes" / name
    (folder / "static").mkdir(parents=True)
    (folder / "theme.yaml").write_text(manifest)
    for path, text in files.items():
        (folder / "static" / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / "static" / path).write_text(text)


def test_a_child_file_with_the_parents_path_replaces_it_in_the_bundle(tmp_path: Path) -> None:
    write_theme(tmp_path, "kid", "name: kid\nextends: default\n", {"css/site.css": ".kid{color:red}"})
    assert chain_assets(tmp_path, "kid").data(BUNDLE) == b".kid{color:red}"


def test_a_missing_stylesheet_names_the_theme_yaml_line(tmp_path: Path) -> None:
    write_theme(tmp_path, "kid", "name: kid\nextends: default\nstylesheets: [css/kid.css]\n", {})
    with pytest.raises(BuildFailed) as failure:
        chain_assets(tmp_path, "kid")
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


def test_templates_reach_the_fingerprinted_files_by_their_logical_names(files) -> None:
    assets = bundle_assets(files({"css/site.css": ".a{color:red}", "js/forms.js": "x=1"}),
                           ["css/site.css"])
    urls = UrlBuilder.from_base_url("https://example.com/negozio/")
    presentation = Presentation.of(assets.names, urls, (), "it_IT")
    asset_url = presentation.template_globals()["asset_url"]
    assert asset_url("css/site.css") == "/negozio/static/" + assets.path(BUNDLE)
    assert asset_url("js/forms.js") == "/negozio/static/" + assets.path("js/forms.js")
    with pytest.raises(jinja2.TemplateRuntimeError, match=r'asset_url\("css/shop.css"\): the theme '
                       r"has no static file css/shop.css"):
        asset_url("css/shop.css")
    # what fingerprints compare: the same answer, and None (not an error) for a missing file
    assert presentation.answers()["asset_url"]("css/site.css") == asset_url("css/site.css")
    assert presentation.answers()["asset_url"]("css/shop.css") is None


def test_a_stylesheet_or_script_that_is_not_utf8_is_an_error_with_its_line(files) -> None:
    sources = files({"css/site.css": ".a{}\n.b { content: '\xe9' }\n".encode("latin-1"),
                     "js/forms.js": b"var a = 1;\nvar b = '\xff';\n"})
    with pytest.raises(BuildFailed) as failure:
        bundle_assets(sources, ["css/site.css"])
    assert sorted(e.format() for e in failure.value.errors) == [
        "themes/t/static/css/site.css:2: the file is not UTF-8 text\n"
        "  hint: save it as UTF-8 in your editor",
        "themes/t/static/js/forms.js:2: the file is not UTF-8 text\n"
        "  hint: save it as UTF-8 in your editor"]


def test_a_theme_chain_problem_names_the_line_that_causes_it(tmp_path: Path) -> None:
    """A missing theme is blamed on storefront.yaml's ``theme:`` line, a loop on the
    ``extends:`` line of the theme that closes it."""
    (tmp_path / "storefront.yaml").write_text("title: T\n\ntheme: primo\n", encoding="utf-8")
    for name, parent in (("primo", "secondo"), ("secondo", "primo")):
        (tmp_path / "themes" / name).mkdir(parents=True)
        (tmp_path / "themes" / name / "theme.yaml").write_text(
            f"name: {name}\n# a comment\nextends: {parent}\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as loop:
        resolve_theme_chain(tmp_path, "primo")
    assert [e.format() for e in loop.value.errors] == [
        'themes/secondo/theme.yaml:3: theme "primo" extends itself in a loop\n'
        '  hint: primo extends secondo, which extends primo again; the last theme of a chain '
        'extends default (or nothing)']
    with pytest.raises(BuildFailed) as missing:
        resolve_theme_chain(tmp_path, "terzo")
    assert missing.value.errors[0].format().startswith(
        'storefront.yaml:3: theme "terzo" not found')


@pytest.mark.parametrize("where", ["theme.yaml", "strings/it.yaml"])
def test_a_theme_file_that_is_not_utf8_is_an_error_with_its_line(tmp_path: Path, where: str) -> None:
    """An owner's editor saving Latin-1 ("Novità") gives a plain error, not an unexpected one."""
    (tmp_path / "storefront.yaml").write_text("title: T\ntheme: kid\n", encoding="utf-8")
    texts = {"theme.yaml": "name: kid\nextends: default\n", "strings/it.yaml": "# testi\nshare: Condividi\n"}
    texts[where] += "description: Novit\xe0\n" if where == "theme.yaml" else "news: Novit\xe0\n"
    for name, text in texts.items():
        (tmp_path / "themes" / "kid" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "themes" / "kid" / name).write_bytes(text.encode("latin-1"))
    with pytest.raises(BuildFailed) as failure:
        load_strings(resolve_theme_chain(tmp_path, "kid"), "it")
    assert [e.format() for e in failure.value.errors] == [
        f"themes/kid/{where}:3: the file is not UTF-8 text\n"
        "  hint: save it as UTF-8 in your editor (it may be Latin-1 or Windows-1252)"]


def test_a_deep_chain_without_a_loop_is_not_called_a_loop(tmp_path: Path) -> None:
    (tmp_path / "storefront.yaml").write_text("title: T\ntheme: t0\n", encoding="utf-8")
    for number in range(10):
        (tmp_path / "themes" / f"t{number}").mkdir(parents=True)
        (tmp_path / "themes" / f"t{number}" / "theme.yaml").write_text(
            f"extends: t{number + 1}\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failure:
        resolve_theme_chain(tmp_path, "t0")
    assert [e.format() for e in failure.value.errors] == [
        "themes/t7/theme.yaml:1: more than 8 themes extend one another\n"
        "  hint: let a theme extend default, or a theme that does"]

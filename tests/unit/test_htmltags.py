"""storefront.htmltags: the owner's HTML read as a browser reads it, by every stage that reads or
rewrites its links and images (base path, feeds, link check, images)."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront.body import extract_links, render_body
from storefront.build import build_site
from storefront.documents import FaqEntry
from storefront.errors import BuildFailed
from storefront.feeds import absolute_links
from storefront.htmltags import links_of, tags
from storefront.imageuses import document_uses
from storefront.localize import prefix_links
from storefront.picture import ImageInfo, PageImages, rewrite_images
from storefront.request import BuildRequest
from storefront.urls import UrlBuilder, written_url
from support import replace_in

SHOP = UrlBuilder.from_base_url("https://example.com/shop/")
PASTED = ("<p><a href='/chi-siamo/'>a</a> <a href=/negozio/>b</a> <a HREF=\"/blog/\">c</a> "
          "<a href = \"/faq/\">d</a> <img src=/assets/x.jpg alt=x> <IMG SRC='/assets/y.jpg' "
          "ALT='y'></p>")


def test_links_pasted_with_any_quotes_get_the_base_path_and_become_absolute_in_feeds() -> None:
    assert prefix_links(PASTED, "/shop/") == (
        "<p><a href='/shop/chi-siamo/'>a</a> <a href=\"/shop/negozio/\">b</a> "
        "<a HREF=\"/shop/blog/\">c</a> <a href = \"/shop/faq/\">d</a> "
        "<img src=\"/shop/assets/x.jpg\" alt=x> <IMG SRC='/shop/assets/y.jpg' ALT='y'></p>")
    absolute = absolute_links(prefix_links(PASTED, "/shop/"), SHOP)
    assert re.findall(r"(?i)(?:href|src)\s*=\s*[\"']?([^\"'\s>]*)", absolute) == [
        f"https://example.com/shop/{path}"
        for path in ("chi-siamo/", "negozio/", "blog/", "faq/", "assets/x.jpg", "assets/y.jpg")]


def test_the_link_check_and_the_image_stage_see_pasted_links_and_images() -> None:
    assert extract_links(PASTED) == ("/chi-siamo/", "/negozio/", "/blog/", "/faq/",
                                     "/assets/x.jpg", "/assets/y.jpg")
    info = ImageInfo("/assets/x.jpg", 10, 10)
    shown = str(rewrite_images(PASTED, lambda url: info, "100vw", PageImages()))
    assert shown.count('width="10" height="10"') == 2
    assert 'alt="x"' in shown and 'alt="y"' in shown


def test_a_pasted_image_is_a_use_with_its_description() -> None:
    body = render_body("<img src='/assets/x.jpg' alt='x'> <img SRC=/assets/y.jpg>\n")
    entry = FaqEntry("content/faq/f.md", "F?", "", 0, body.content_html, "f", False, body.links)
    uses = document_uses(entry, "/")
    assert [(use.path, use.line) for use in uses.uses] == [("/assets/x.jpg", 1), ("/assets/y.jpg", 1)]
    assert [error.message for error in uses.warnings] == [
        "the image /assets/y.jpg has no description (alt text)"]


def test_two_uses_that_differ_only_by_a_card_are_ordered() -> None:
    """A share image ("" focus) and the same photo shown without a card (None) on one line:
    sorting compared None with "" (exit 70)."""
    from storefront.imageuses import ImageUse, _use_order

    card = ImageUse("/assets/x.jpg", "content/products/p.md", 4, "/assets/x.jpg", True, "")
    plain = ImageUse("/assets/x.jpg", "content/products/p.md", 4, "/assets/x.jpg", True, None)
    assert sorted([card, plain], key=_use_order) == [plain, card]


def test_what_a_browser_does_not_read_as_a_tag_is_left_alone() -> None:
    html = ("<!-- <a href='/vecchio/'> --><script>s = \"<a href='/js/'>\"</script>"
            "<textarea><a href=/t/></textarea><a title='x > y' href='/ok/'>ok</a>"
            "<a href=\"/cut")
    assert extract_links(html) == ("/ok/",)
    assert prefix_links(html, "/shop/") == html.replace("'/ok/'", "'/shop/ok/'")


# -- property tests: the same reading as the standard library's parser, and the same output as
# -- the double-quoted patterns the stages used before for what Markdown writes

_NAMES = st.sampled_from(["href", "src", "alt", "title", "class", "HREF", "Src", "data-x"])
_VALUES = st.text(st.sampled_from("/ab#?=.&;x'\" -<>"), max_size=8).map(
    lambda value: re.sub(r"&(?![a-z]+;)", "&amp;", value))


@st.composite
def _tag(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    attributes = []
    text = "<" + draw(st.sampled_from(["a", "img", "P", "link"]))
    for _ in range(draw(st.integers(0, 4))):
        name, value = draw(_NAMES), draw(_VALUES)
        space = draw(st.sampled_from(["", " ", "\n "]))
        quote = draw(st.sampled_from(['"', "'", ""]))
        if (quote == "" and re.search(r"[\s\"'=<>`]", value)) or (not value and quote == ""):
            quote = '"'
        value = value.replace(quote, "&#39;" if quote == "'" else "&quot;") if quote else value
        text += f" {name}{space}={space}{quote}{value}{quote}"
        attributes.append((name.lower(), value))
    return text + draw(st.sampled_from([">", " >", "/>"])), attributes


class _Reference(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append({name: value for name, value in reversed(attrs)})  # the first wins


@given(st.lists(_tag(), max_size=6), st.sampled_from(["", "testo ", "a &amp; b "]))
def test_attributes_are_read_as_the_standard_library_reads_them(
        written: list[tuple[str, list[tuple[str, str]]]], text: str) -> None:
    html = text.join(tag for tag, _ in written)
    reference = _Reference()
    reference.feed(html)
    reference.close()
    assert [{name: a.value for name, a in tag.attributes.items()} for tag in tags(html)] == \
        reference.found
    # the fast search that passes over tags without attributes finds the same others
    assert [t for t in tags(html, bare=False) if t.attributes] == [t for t in tags(html) if t.attributes]
    assert list(tags(html, ("a", "p"), bare=False)) == list(tags(html, ("a", "p")))


_OLD_PREFIX = re.compile(r'((?:href|src)=")/(?!/)')
_OLD_TARGET = re.compile(r'(?:href(?<![\w-]href)|src(?<![\w-]src))="([^"]*)"')


@st.composite
def _markdown_html(draw: st.DrawFn) -> str:
    """HTML as Markdown writes it: lower case names, double quotes, escaped values."""
    parts = []
    names = st.lists(st.sampled_from(["href", "src", "alt", "title", "id"]), max_size=3, unique=True)
    values = st.sampled_from(["/", "/a/", "//h/x", "#f", "x.jpg", "/a?b=1&amp;c=2", "https://e.it/",
                              "/b c/", "", "a &quot;b&quot;"])
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(["a", "img", "p", "em", "h2"]))
        attributes = "".join(f' {name}="{draw(values)}"' for name in draw(names))
        text = draw(st.sampled_from(["t", "", "a &lt; b"]))
        parts.append(f"<{name}{attributes}>{text}</{name}>")
    return "\n".join(parts)


@given(_markdown_html())
def test_what_markdown_writes_is_rewritten_byte_for_byte_as_before(html: str) -> None:
    assert prefix_links(html, "/shop/") == _OLD_PREFIX.sub(r"\1/shop/", html)
    # (absolute URLs are percent-encoded since the base_url fix: /b c/ -> /b%20c/)
    assert absolute_links(html, SHOP) == re.sub(
        r'((?:href|src)=")(/[^/"][^"]*|/)"',
        lambda m: f'{m[1]}https://example.com{written_url(m[2], "?#")}"', html)
    # the link check reads the targets as a browser does: with their character references decoded
    old = [re.split(r"[#?]", unescape(t), maxsplit=1)[0] or "/" for t in _OLD_TARGET.findall(html)
           if t and not t.startswith(("#", "//", "https:"))]
    assert extract_links(html) == tuple(dict.fromkeys(old))


def test_a_site_below_a_folder_builds_pasted_links_right_and_checks_them(copy_site,
                                                                         tmp_path: Path) -> None:
    site = copy_site("basic")
    replace_in(site / "storefront.yaml", "base_url: https://forno.example/",
               "base_url: https://forno.example/shop/")
    page = site / "content/pages/chi-siamo.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text + "\n<p><a href='/contatti/'>Scrivici</a> o <a href=/privacy/>leggi</a>"
                    "<img src='/assets/pagnotta.png' alt='La pagnotta'></p>\n", encoding="utf-8")
    build_site(BuildRequest(root=site, output=tmp_path / "out"))
    html = (tmp_path / "out/chi-siamo/index.html").read_text(encoding="utf-8")
    assert "<a href='/shop/contatti/'>Scrivici</a>" in html
    assert '<a href="/shop/privacy/">leggi</a>' in html
    assert "<picture>" in html and "/shop/assets/pagnotta-" in html
    page.write_text(text + "\n<a href='/contati/'>Scrivici</a>\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build_site(BuildRequest(root=site, output=tmp_path / "out"))
    line = len(text.splitlines()) + 2
    assert [e.format() for e in failed.value.errors] == [
        f"content/pages/chi-siamo.md:{line}: the link /contati/ leads to no page or file of the site"
        "\n  hint: did you mean /shop/contatti/?"]


# -- every attribute that holds a URL, not only href and src (srcset, poster, action, ...)

MEDIA = ('<img src="/assets/a.jpg" srcset="/assets/a.jpg 1x, /assets/a-2x.jpg 2x" alt="a">'
         "<picture><source srcset='/assets/b.webp 480w,/assets/b,2.webp 960w'></picture>"
         '<video poster=/assets/p.jpg src="/assets/v.mp4"></video>'
         '<form action="/grazie/"><button formaction="/altro/">x</button></form>'
         '<object data="/assets/m.pdf"></object><p data="/non-un-link/">t</p>')


def test_srcset_poster_action_and_object_data_get_the_base_path_and_are_checked() -> None:
    assert prefix_links(MEDIA, "/shop/") == (
        '<img src="/shop/assets/a.jpg" srcset="/shop/assets/a.jpg 1x, /shop/assets/a-2x.jpg 2x"'
        ' alt="a"><picture><source srcset=\'/shop/assets/b.webp 480w,/shop/assets/b,2.webp '
        "960w'></picture><video poster=\"/shop/assets/p.jpg\" src=\"/shop/assets/v.mp4\"></video>"
        '<form action="/shop/grazie/"><button formaction="/shop/altro/">x</button></form>'
        '<object data="/shop/assets/m.pdf"></object><p data="/non-un-link/">t</p>')
    absolute = absolute_links(prefix_links(MEDIA, "/shop/"), SHOP)
    assert 'srcset="https://example.com/shop/assets/a.jpg 1x, https://example.com/shop/assets/' \
           'a-2x.jpg 2x"' in absolute
    assert "https://example.com/shop/assets/b,2.webp 960w'" in absolute
    for name, path in (("poster", "assets/p.jpg"), ("action", "grazie/"),
                       ("formaction", "altro/"), ("data", "assets/m.pdf")):
        assert f'{name}="https://example.com/shop/{path}"' in absolute
    assert extract_links(MEDIA) == (
        "/assets/a.jpg", "/assets/a-2x.jpg", "/assets/b.webp", "/assets/b,2.webp", "/assets/p.jpg",
        "/assets/v.mp4", "/grazie/", "/altro/", "/assets/m.pdf")


def test_a_srcset_is_split_as_a_browser_splits_it() -> None:
    def urls(srcset: str) -> list[str]:
        tag = next(tags(f'<img srcset="{srcset}">'))
        return [url.value for url in links_of(tag, tag.attributes["srcset"])]

    assert urls("/a.jpg") == ["/a.jpg"]
    assert urls(" ,/a.jpg,/b.jpg 2x") == ["/a.jpg,/b.jpg"]  # a URL may hold commas
    assert urls("/a.jpg, , /b.jpg 100w (x, y), /c.jpg 2x,") == ["/a.jpg", "/b.jpg", "/c.jpg"]
    assert urls("/a.jpg,, /b.jpg") == ["/a.jpg", "/b.jpg"]
    assert urls(" ") == []
    written = '<img srcset="/a.jpg?x=1&amp;y=2 1x,\n /b.jpg 2x">'
    assert prefix_links(written, "/shop/") == (
        '<img srcset="/shop/a.jpg?x=1&amp;y=2 1x,\n /shop/b.jpg 2x">')


def test_a_site_below_a_folder_checks_and_rewrites_srcset_poster_and_forms(
        copy_site, tmp_path: Path) -> None:
    site = copy_site("basic")
    replace_in(site / "storefront.yaml", "base_url: https://forno.example/",
               "base_url: https://forno.example/shop/\nform_endpoint: {url: /api/forms/}")
    post = site / "content/posts/2024-05-01-pane-di-grano-antico.md"
    text = post.read_text(encoding="utf-8")
    pasted = ('<picture><source srcset="/assets/panettone.png 2x, /assets/pagnotta.png 1x">'
              '<img src="/assets/pagnotta.png" alt="Pane"></picture>\n\n'
              '<video poster="/assets/pagnotta.png" src="/assets/pane.svg"></video>\n\n'
              '<form action="/grazie/"><button formaction="/api/forms/contact">Invia</button>'
              "</form>\n")
    post.write_text(text + "\n" + pasted, encoding="utf-8")
    build_site(BuildRequest(root=site, output=tmp_path / "out"))
    page = (tmp_path / "out/blog/2024/05/pane-di-grano-antico/index.html").read_text(
        encoding="utf-8")
    assert 'srcset="/shop/assets/panettone.png 2x, /shop/assets/pagnotta.png 1x"' in page
    assert 'poster="/shop/assets/pagnotta.png"' in page
    assert 'action="/shop/grazie/"' in page and 'formaction="/shop/api/forms/contact"' in page
    feed = (tmp_path / "out/feed.xml").read_text(encoding="utf-8")
    assert 'poster="https://forno.example/shop/assets/pagnotta.png"' in feed
    assert 'srcset="https://forno.example/shop/assets/panettone.png 2x' in feed
    assert 'action="https://forno.example/shop/grazie/"' in feed
    broken = pasted.replace("panettone.png 2x", "pannetone.png 2x").replace(
        'poster="/assets/pagnotta.png"', 'poster="/assets/copertina.jpg"').replace(
        'action="/grazie/"', 'action="/grazzie/"')
    post.write_text(text + "\n" + broken, encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build_site(BuildRequest(root=site, output=tmp_path / "out"))
    line = len(text.splitlines()) + 2
    assert [e.format() for e in failed.value.errors] == [
        f"content/posts/2024-05-01-pane-di-grano-antico.md:{line}: the image /assets/pannetone.png "
        "does not exist\n  hint: did you mean /shop/assets/panettone.png?",
        f"content/posts/2024-05-01-pane-di-grano-antico.md:{line + 2}: the image "
        "/assets/copertina.jpg does not exist\n  hint: did you mean /shop/assets/pagnotta.png?",
        f"content/posts/2024-05-01-pane-di-grano-antico.md:{line + 4}: the link /grazzie/ leads "
        "to no page or file of the site\n  hint: did you mean /shop/grazie/?"]

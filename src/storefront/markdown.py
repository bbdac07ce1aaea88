"""Render Markdown to HTML with a fixed, configured set of Python-Markdown extensions.

Stage 3c, pure. The extension set is what owners expect from other generators: tables, fenced
code, footnotes, heading anchors (:mod:`storefront.headings`), attribute lists, Markdown inside
HTML blocks, sane lists and typographic quotes (:mod:`storefront.typography`: smarty's rules in
one cheap pass); the inline patterns, block processors and whole-text passes are not run on text
that lacks what they need (:mod:`storefront.inline`, :mod:`storefront.blocks`,
:mod:`storefront.passes`). One converter per thread is reused (Python-Markdown instances are not
thread-safe, and building one is the slow part).
"""

from __future__ import annotations

import html as html_module
import re
import threading
import unicodedata
from html.parser import HTMLParser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import markdown as md

from storefront.limits import LimitExceeded, check_markdown

MORE_MARKER = "<!--more-->"

_local = threading.local()


#: Latin letters that NFKD does not take apart into an ASCII letter and an accent, spelled as
#: their languages spell them in ASCII (else "Straße" would be "strae", "Kırmızı" "krmz")
_SPELLED = str.maketrans({"ß": "ss", "ẞ": "SS", "ı": "i", "ł": "l", "Ł": "L", "æ": "ae",
                          "Æ": "AE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "œ": "oe",
                          "Œ": "OE", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D"})


def slugify(text: str) -> str:
    """A URL slug: ASCII lowercase words joined by '-' ("Perché è così" -> "perche-e-cosi")."""
    normalized = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    normalized = normalized.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", normalized.lower()).strip("-")


#: The ids the default theme gives its own elements on pages that show Markdown (the skip link's
#: target, the policies that product pages link to as #shipping and #returns, section titles that
#: label their sections, a product's photos). A heading whose slug is one of them gets the next
#: free id ("## Shipping" on the policies page -> id="shipping_1"): an id used twice is invalid
#: HTML, and the theme's links and labels would go to the owner's heading.
THEME_IDS = frozenset({
    "main", "shipping", "shipping-title", "returns", "returns-title", "description-title",
    "order-title", "related-title", "newsletter-title", "card-title", "hero-title",
    "featured-title", "latest-title", "visit", "faq-more-title", "tag-products-title",
})
_THEME_ID_PATTERN = re.compile(r"foto-[0-9]+")


def _heading_id(value: str, separator: str) -> str:
    slug = slugify(value) or "section"
    if slug in THEME_IDS or _THEME_ID_PATTERN.fullmatch(slug):
        return slug + "_1"  # Python-Markdown's own suffix: a second such heading gets _2
    return slug


def _converter() -> md.Markdown:
    converter: md.Markdown | None = getattr(_local, "converter", None)
    if converter is None:
        # imported when a file is parsed, not by a build with nothing to do
        import markdown as md
        from markdown.extensions.attr_list import AttrListExtension
        from markdown.extensions.fenced_code import FencedCodeExtension
        from markdown.extensions.footnotes import FootnoteExtension
        from markdown.extensions.md_in_html import MarkdownInHtmlExtension
        from markdown.extensions.sane_lists import SaneListExtension
        from markdown.extensions.tables import TableExtension

        from storefront.blocks import prefilter_blocks
        from storefront.headings import HeadingIdsExtension
        from storefront.inline import PrefilteredInlineProcessor
        from storefront.passes import prefilter_passes
        from storefront.typography import TypographyExtension

        # instances, not names: a name makes Python-Markdown scan every installed package's
        # entry points first (importlib.metadata): building the converter took twice as long
        converter = md.Markdown(
            extensions=[TableExtension(), FencedCodeExtension(),
                        FootnoteExtension(BACKLINK_TITLE=""), HeadingIdsExtension(slugify=_heading_id),
                        AttrListExtension(), MarkdownInHtmlExtension(), SaneListExtension(),
                        TypographyExtension()],
            output_format="html",
        )
        converter.treeprocessors.register(PrefilteredInlineProcessor(converter), "inline", 20)
        prefilter_blocks(converter.parser)
        prefilter_passes(converter)
        _local.converter = converter
    return converter


def render_markdown(text: str) -> str:
    """Convert Markdown text to an HTML fragment.

    Raises :class:`~storefront.limits.LimitExceeded` for a text beyond the limits (checked
    first, so the conversion's time and memory stay bounded) and for one nested deeper than
    Python-Markdown can recurse, should any such text get past the checks.
    """
    check_markdown(text)
    converter = _converter()
    try:
        return converter.reset().convert(text)
    except RecursionError:
        raise LimitExceeded(0, "the Markdown is nested too deeply to read (lists, quotes, "
                            "emphasis or HTML elements inside each other)",
                            "nest it less deeply") from None
    finally:
        converter.reset()


def render_inline(text: str) -> str:
    """Convert a one-paragraph Markdown text (a summary) to inline HTML without the <p>."""
    html = render_markdown(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def summary_before_more(html: str) -> str | None:
    """The rendered part before the first ``<!--more-->``, or None when the HTML has none.

    Splitting the rendered body saves rendering the summary a second time, and keeps what only
    the whole body gives (emphasis that runs past the marker, links defined further down). A
    marker on its own line falls between blocks; one inside a paragraph (``Prima frase.
    <!--more--> Seconda.``) cuts the paragraph there, as Hugo's inline summary divider does, and
    the elements it leaves open are closed (``<p>Prima frase.</p>``).
    """
    index = html.find(MORE_MARKER)
    if index < 0:
        return None
    before, after = html[:index], html[index + len(MORE_MARKER):]
    if before[-1:] in ("", "\n") and after[:1] in ("", "\n"):
        return close_open_elements(before.rstrip("\n"))
    return close_open_elements(before.rstrip(), inside_paragraph=True)


_INLINE_NAMES = ("a", "abbr", "b", "cite", "code", "del", "dfn", "em", "i", "ins", "kbd", "mark",
                 "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var")

# elements without an end tag, and those whose end tag the parser implies when their parent ends
# (closing them again would be an error: "</p>" with no <p> open makes an empty paragraph)
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})
_IMPLIED_END = frozenset({"p", "li", "dt", "dd", "option", "optgroup", "rb", "rp", "rt", "rtc",
                          "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption"})


# the paragraph-like elements followed when a cut falls inside one (Python-Markdown closes each
# of its own; in an owner's HTML, the elements that end them implicitly, as a browser reads it)
_PARAGRAPHS = frozenset({"p", "li", "dt", "dd"})
_ENDS_P = frozenset({"address", "article", "aside", "blockquote", "details", "dialog", "div",
                     "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
                     "h4", "h5", "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p",
                     "pre", "section", "table", "ul"})
_ENDS_ITEM = {"li": ({"li"}, {"ul", "ol", "menu"}), "dt": ({"dt", "dd"}, {"dl"}),
              "dd": ({"dt", "dd"}, {"dl"}), "p": ({"p"}, {"table", "td", "th", "caption",
                                                         "button", "object", "template"})}


class _OpenElements(HTMLParser):
    def __init__(self, paragraphs: bool = False) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.paragraphs = paragraphs  # follow p, li, dt and dd too

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.paragraphs:
            self._end_implied(tag)
            if tag in _PARAGRAPHS:
                self.stack.append(tag)
        if tag not in _VOID and tag not in _IMPLIED_END:
            self.stack.append(tag)

    def _end_implied(self, tag: str) -> None:
        """Pop the paragraph or item that ``tag`` starting ends (``<p>`` after ``<p>``, a
        ``<div>`` in a ``<p>``, ``<li>`` after ``<li>`` in one list)."""
        for ended in ("p" if tag in _ENDS_P else "", tag if tag in ("li", "dt", "dd") else ""):
            if not ended:
                continue
            names, boundaries = _ENDS_ITEM[ended]
            for position in range(len(self.stack) - 1, -1, -1):
                if self.stack[position] in names:
                    del self.stack[position:]
                    break
                if self.stack[position] in boundaries:
                    break

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]


def close_open_elements(html: str, inside_paragraph: bool = False) -> str:
    """``html`` with end tags for the elements it leaves open.

    A ``<!--more-->`` inside a quote, a list item or an HTML block (``<div markdown="1">``)
    cuts the body inside that element: the summary would leave it open, and on a listing page
    it would swallow the rest of its card. With ``inside_paragraph`` the cut is inside a
    paragraph (or an item), which is closed too, with its inline elements (``<em>``), right
    after the text.
    """
    if "<" not in html:
        return html
    parser = _OpenElements(paragraphs=inside_paragraph)
    parser.feed(html)
    parser.close()
    if not inside_paragraph:
        return html + "".join(f"\n</{tag}>" for tag in reversed(parser.stack))
    closed, separator = html, ""
    for tag in reversed(parser.stack):
        closed += f"{separator}</{tag}>"
        if tag not in _INLINE_NAMES:
            separator = "\n"  # after the paragraph, each enclosing block on a line of its own
    return closed


# Python-Markdown's footnote reference (fnref2:1 for a second use of [^1]) and an id attribute
# inside a tag (the scan stops at the tag's end)
_FOOTNOTE_REF = re.compile(
    r'<sup id="fnref[0-9]*:[^"]*"><a class="footnote-ref" href="#fn:[^"]*">[^<]*</a></sup>')
_ID_ATTRIBUTE = re.compile(r"""(<[a-zA-Z][^<>]*?)\s+id=(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+)""")


def excerpt(html: str) -> str:
    """A summary of a body, fit to stand beside other summaries and above the body itself.

    Footnote references go (their footnotes are at the end of the body, not in the summary:
    the number would be a dead link, and "river1" in a description); so do ids (a heading's
    anchor or an owner's {#id}): a listing shows several summaries, and a product page shows
    its summary above the body it comes from, where the same ids would be twice.
    """
    return _ID_ATTRIBUTE.sub(r"\1", _FOOTNOTE_REF.sub("", html))


_ID_VALUE = re.compile(r"""(<[a-zA-Z][^<>]*?\s+id=)(?:"([^"]*)"|'([^']*)')""")
_FRAGMENT_LINK = re.compile(r"""(<a\s[^<>]*?href=)(?:"#([^"]*)"|'#([^']*)')""")


def scope_ids(html: str, prefix: str) -> str:
    """``html`` with each id, and each link to one of its ids, prefixed with ``prefix-``.

    For bodies shown several to a page (the answers of the FAQ page): each is its own Markdown
    document, so two answers with a footnote, or with the same heading, both had id="fn:1" or
    id="in-short". Links to ids that are not in ``html`` (another question) are left alone.
    """
    ids = {found[2] if found[2] is not None else found[3] for found in _ID_VALUE.finditer(html)}
    if not ids:
        return html

    def scoped_id(found: re.Match[str]) -> str:
        value = found[2] if found[2] is not None else found[3]
        return f'{found[1]}"{prefix}-{value}"'

    def scoped_link(found: re.Match[str]) -> str:
        target = found[2] if found[2] is not None else found[3]
        return f'{found[1]}"#{prefix}-{target}"' if target in ids else found[0]

    return _FRAGMENT_LINK.sub(scoped_link, _ID_VALUE.sub(scoped_id, html))


_TAGS = re.compile(r"<[^>]+>")
_INLINE_TAGS = re.compile(r"</?(?:" + "|".join(_INLINE_NAMES) + r")\b[^>]*>", re.IGNORECASE)


def plain_text(html: str) -> str:
    """Strip tags from an HTML fragment (for word counts and descriptions).

    Inline tags go without a trace ("<em>one</em>." -> "one.", not "one ."); block tags become
    a space. Entities are decoded ("&rsquo;" -> "’"): the result is text, which templates and
    JSON-LD escape themselves, so an entity left in would show literally.
    """
    text = _TAGS.sub(" ", _INLINE_TAGS.sub("", html))
    # str.split() splits at exactly the characters a str pattern's \s matches: runs of white
    # space become one space, as re.sub(r"\s+", " ", ...).strip() would make them, 3x faster
    return " ".join(html_module.unescape(text).split())


def first_paragraph(html: str) -> str:
    """The first <p>...</p> of an HTML fragment, or "" when there is none."""
    match = re.search(r"<p(?:\s[^>]*)?>(.*?)</p>", html, re.DOTALL)
    return match.group(1) if match else ""


def plain_summary(html: str, limit: int = 200) -> str:
    """A plain-text description from HTML, cut at a word boundary (for meta and share cards)."""
    text = plain_text(str(html))
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"

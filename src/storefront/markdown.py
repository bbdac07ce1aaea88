"""Render Markdown to HTML with a fixed, configured set of Python-Markdown extensions.

Stage 3c, pure. The extension set is what owners expect from other generators: tables, fenced
code, footnotes, heading anchors, attribute lists, Markdown inside HTML blocks, sane lists and
typographic quotes (:mod:`storefront.typography`: smarty's rules in one cheap pass); the inline
patterns and block processors are not tried on text that lacks what they need
(:mod:`storefront.inline`, :mod:`storefront.blocks`). One converter
per thread is reused (Python-Markdown instances are not thread-safe, and building one is the slow
part).
"""

from __future__ import annotations

import html as html_module
import re
import threading
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import markdown as md

from storefront.limits import LimitExceeded, check_markdown

MORE_MARKER = "<!--more-->"

_local = threading.local()


def slugify(text: str) -> str:
    """A URL slug: ASCII lowercase words joined by '-' ("Perché è così" -> "perche-e-cosi")."""
    normalized = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", normalized.lower()).strip("-")


def _heading_id(value: str, separator: str) -> str:
    return slugify(value) or "section"


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
        from markdown.extensions.toc import TocExtension

        from storefront.blocks import prefilter_blocks
        from storefront.inline import PrefilteredInlineProcessor
        from storefront.typography import TypographyExtension

        # instances, not names: a name makes Python-Markdown scan every installed package's
        # entry points first (importlib.metadata): building the converter took twice as long
        converter = md.Markdown(
            extensions=[TableExtension(), FencedCodeExtension(),
                        FootnoteExtension(BACKLINK_TITLE=""), TocExtension(slugify=_heading_id),
                        AttrListExtension(), MarkdownInHtmlExtension(), SaneListExtension(),
                        TypographyExtension()],
            output_format="html",
        )
        converter.treeprocessors.register(PrefilteredInlineProcessor(converter), "inline", 20)
        prefilter_blocks(converter.parser)
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
    """The rendered part before a ``<!--more-->`` that stands on its own line, or None.

    Splitting the rendered body saves rendering the summary a second time; a marker written
    inside a paragraph would cut an element in two, so that case (None) is rendered on its own.
    """
    marker = "\n" + MORE_MARKER + "\n"
    padded = "\n" + html + "\n"
    if marker not in padded:
        return None
    return padded.split(marker, 1)[0][1:].rstrip("\n")


def split_more(body: str) -> tuple[str, bool]:
    """The part of ``body`` before ``<!--more-->`` and whether the marker was present."""
    if MORE_MARKER in body:
        return body.split(MORE_MARKER, 1)[0], True
    return body, False


_TAGS = re.compile(r"<[^>]+>")
_INLINE_TAGS = re.compile(
    r"</?(?:a|abbr|b|cite|code|del|dfn|em|i|ins|kbd|mark|q|s|samp|small|span|strong|sub|sup|time"
    r"|u|var)\b[^>]*>",
    re.IGNORECASE,
)


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

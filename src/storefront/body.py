"""A document's Markdown body rendered once, with its summary, word count and links.

Stage 3c, pure. The HTML keeps the links exactly as the owner wrote them (``/chi-siamo/``): it
does not depend on where the site is deployed, so one parsed document serves the preview and
every production build; :mod:`storefront.localize` adds the base path when a build uses it.
Each link keeps the line it is written on, so later checks never search the file again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from markupsafe import Markup

from storefront.documents import Links
from storefront.htmltags import LINK_ATTRIBUTES, HtmlTag, has_values, links_of, mentions_tag, tags
from storefront.markdown import (
    MORE_MARKER,
    excerpt,
    first_paragraph,
    plain_text,
    render_inline,
    render_markdown,
    summary_before_more,
)

WORDS_PER_MINUTE = 200
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class Body:
    """A rendered Markdown body and the facts derived from it."""

    content_html: Markup
    summary_html: Markup
    has_more: bool
    words: int
    links: Links
    unnamed_links: tuple[int, ...] = ()  # the lines of links with no text to read out


def render_body(text: str, summary: str = "", first_line: int = 1,
                summary_line: int | None = None) -> Body:
    """Render a Markdown body with its summary (front matter, ``<!--more-->`` or 1st paragraph).

    ``first_line`` is the line of the file the body starts on, for the lines of its links;
    ``summary_line`` the line of the front matter's ``summary:`` when pages show it as HTML
    (a post's, a product's: listings, the home page and the feeds), for the links written there,
    which are checked as the body's are; None where it is plain text (a newsletter issue's).
    """
    html = render_markdown(text)
    # the marker as the rendered body has it: one written in code (a fenced block, an indented
    # one, a `code span`: a post that shows how to use it) is text there, escaped, and no marker
    split = summary_before_more(html) if MORE_MARKER in text else None
    has_marker = split is not None
    if summary:
        summary_html = render_inline(summary)
    elif split is not None:
        summary_html = split
    else:
        summary_html = first_paragraph(html)
    summary_html = excerpt(summary_html)
    text_of_body = plain_text(html)
    words = len(text_of_body.split())
    has_more = has_marker or len(plain_text(summary_html)) < len(text_of_body)
    # the summary's first: where a target is in both, a look-up by target finds the body's line
    shown = summary and summary_line is not None
    links = tuple((target, summary_line or 1) for target in
                  (extract_links(render_inline(summary)) if shown else ())) + tuple(
        (target, first_line - 1 + line_of_link(text, target)) for target in extract_links(html))
    unnamed = tuple(first_line - 1 + line_of_unnamed_link(text, target)
                    for target in unnamed_links(html))
    # The HTML comes from the owner's own Markdown: trusted, as in every static-site generator.
    return Body(Markup(html), Markup(summary_html), has_more, words, links,  # noqa: S704
                unnamed)


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def extract_links(html: str) -> tuple[str, ...]:
    """Link and image targets in rendered HTML that point into the site, for link checking.

    Every URL of :data:`~storefront.htmltags.LINK_ATTRIBUTES` counts (each of a ``srcset``, a
    video's ``poster``, a form's ``action``). Root-relative targets (``/chi-siamo/``) without
    their ``#fragment`` or ``?query``, and relative ones (``foto.jpg``), which the check
    reports; external URLs, ``mailto:`` and in-page ``#anchors`` are left out.
    """
    if not has_values(html):
        return ()
    found = []
    for tag in tags(html, bare=False, attributes=LINK_ATTRIBUTES):
        for attribute in tag.attributes.values():
            for url in links_of(tag, attribute):
                target = url.value
                if not target or target.startswith(("#", "//")) or _SCHEME.match(target):
                    continue
                found.append(re.split(r"[#?]", target, maxsplit=1)[0] or "/")
    return tuple(dict.fromkeys(found))


_NAMING = ("alt", "aria-label", "aria-labelledby", "title")


def unnamed_links(html: str) -> tuple[str, ...]:
    """The targets of links that have nothing to read out: no text, no image with an ``alt``,
    no ``aria-label`` (``[](/negozio/)``). A screen reader says only "link", or the address.

    The tags are read as a browser reads them (:mod:`storefront.htmltags`: ``alt=Logo`` names
    a link too). One pass over the link tags, each opening one paired with the next closing one
    (links do not nest): an owner's raw HTML may leave thousands of ``<a`` open, and a search
    from each of them to its ``</a>`` would take time growing with the square of their number.
    """
    if not mentions_tag(html, "a"):
        return ()
    found = []
    opened: HtmlTag | None = None  # the <a ...> with an href (<a id="top"> is no link)
    for tag in tags(html, ("a",), bare=False, attributes=("href", *_NAMING)):
        if not tag.closing:
            opened = tag if "href" in tag.attributes else None
            continue
        if opened is None:
            continue
        inside = html[opened.end:tag.start]
        if not (_names(opened) or plain_text(inside).strip()
                or any(map(_names, tags(inside, bare=False, attributes=_NAMING)))):
            found.append(opened.attributes["href"].value)
        opened = None
    return tuple(found)


def _names(tag: HtmlTag) -> bool:
    return any(attribute.value.strip() for name, attribute in tag.attributes.items()
               if name in _NAMING)


def line_of_unnamed_link(text: str, target: str) -> int:
    """The line where a link with no text to ``target`` is written: ``[](target)`` or
    ``[![](image)](target)`` first (an earlier link with text to the same page is not it)."""
    form = re.compile(r"\[\s*(?:!\[\s*\]\([^)\n]*\)\s*)?\]\(\s*<?" + re.escape(target))
    found = form.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else line_of_link(text, target)


def line_of_link(text: str, target: str) -> int:
    """The line of ``text`` where a link is written: its exact Markdown or HTML form first."""
    for form in (f"]({target})", f"]({target} ", f'"{target}"', f"'{target}'", f"<{target}>"):
        index = text.find(form)
        if index >= 0:
            return text.count("\n", 0, index) + 1
    index = text.find(target)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1

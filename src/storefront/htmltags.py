"""Read the tags and attributes of HTML as a browser's tokenizer does, and rewrite values in place.

Pure, shared by every stage that reads or rewrites links and images in the owner's HTML (the base
path, feeds, the link check, images, mail). Markdown writes ``href="/x/"``; an owner's pasted HTML
(a newsletter tool, an old site) may write ``href='/x/'``, ``src=/x.jpg``, ``HREF = "/x/"``, and a
browser reads all of them alike. This follows the tokenizer of the HTML standard (WHATWG, "13.2.5
Tokenization") for what matters here: attribute names are case-insensitive and end at white space,
``/``, ``>`` or ``=``; values are double-quoted, single-quoted or unquoted (up to white space or
``>``); the first of two attributes of one name counts; comments, ``<!...>`` and ``<?...>`` hold no
tags, nor does the text of ``<script>``, ``<style>``, ``<textarea>``, ``<title>`` and the other
raw-text elements; a tag the text ends inside is no tag. Everything else is left alone, byte for
byte: a rewrite replaces only the value it changes, inside the quotes it was written with.

One regular expression reads a whole tag, so the cost is a few microseconds a tag; callers that
look at a few attributes ask :func:`has_values` first and skip a body that has none.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

_WS = "\t\n\f\r "
_NAME = rf"[^{_WS}/>][^{_WS}/>=]*+"
# a quoted value the text ends inside runs to the end (then the tag is dropped, see below)
_VALUE = rf"""(?>"([^"]*+)"?|'([^']*+)'?|([^{_WS}>]*+))"""
_ATTRIBUTE = re.compile(rf"[{_WS}/]*+({_NAME})(?:[{_WS}]*+=[{_WS}]*+{_VALUE})?")
# the attributes that link to or show a URL: on any element, but ``data`` only on <object>; a
# ``srcset`` holds several (see :func:`links_of`)
LINK_ATTRIBUTES = ("href", "src", "srcset", "poster", "action", "formaction", "data")
# elements whose text is not HTML: it runs to their end tag (plaintext: to the end)
_RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
             "plaintext")


@functools.cache
def _token(bare: bool, keep: tuple[str, ...] = ()) -> re.Pattern[str]:
    """A comment or a tag. ``bare=False`` passes over tags without attributes (``<p>``,
    ``</em>``) in the search, most tags of a body, but for those of raw-text elements and of
    ``keep``."""
    always = "|".join(map(re.escape, (*_RAW_TEXT, *keep)))
    needs_attribute = "" if bare else rf"(?(2)|(?=[{_WS}/]*+[^{_WS}/>]))"
    return re.compile(
        r"<!--(?:-?>|.*?(?:--!?>|\Z))"  # a comment (<!--> and <!---> are empty ones)
        r"|<(?:[!?]|/(?![A-Za-z]))[^>]*+>?"  # <!DOCTYPE>, <?...>, </ 1>: bogus comments
        rf"|<(/?)(?=((?i:{always})(?![^{_WS}/>]))?)([A-Za-z][^{_WS}/>]*+){needs_attribute}"
        rf"((?:[{_WS}/]*+(?>{_NAME}(?:[{_WS}]*+=[{_WS}]*+"
        rf"""(?>"[^"]*+"?|'[^']*+'?|[^{_WS}>]*+))?))*+)[{_WS}/]*+(>|\Z)""",
        re.DOTALL)


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a tag, as written and as read."""

    name: str  # lower case
    value: str  # as a browser reads it: character references decoded
    written: str  # the value as written, between its quotes (escaped HTML)
    start: int  # where ``written`` is in the HTML
    end: int
    quote: str  # '"', "'", or "" for an unquoted value (or an attribute without one)


@dataclass(frozen=True, slots=True)
class HtmlTag:
    """A start tag (``<a href="/x/">``) or an end tag (``</a>``) and where it is in the HTML."""

    name: str  # lower case
    start: int
    end: int
    closing: bool
    attributes: dict[str, Attribute]  # by name, the first of each name; none for an end tag

    def value(self, name: str) -> str | None:
        """The value of attribute ``name`` as a browser reads it, or None without one."""
        found = self.attributes.get(name)
        return found.value if found is not None else None


def tags(html: str, names: Collection[str] | None = None, bare: bool = True,
         attributes: Collection[str] | None = None) -> Iterator[HtmlTag]:
    """The start and end tags of ``html`` in order: only those named ``names`` if given; with
    ``bare=False`` (faster) only those with attributes or named ``names``; and of their
    attributes only those named ``attributes`` if given."""
    token = _token(bare, tuple(names) if names is not None and not bare else ())
    position = 0
    while True:
        found = token.search(html, position)
        if found is None:
            return
        position = found.end()
        name = found[3]
        if name is None:  # a comment
            continue
        if found[5] == "":  # the text ends inside the tag: no tag, and nothing after it
            return
        name = name.lower()
        closing = found[1] == "/"
        if names is None or name in names:
            read = {} if closing else _attributes(html, found.start(4), found.end(4), attributes)
            yield HtmlTag(name, found.start(), position, closing, read)
        if name in _RAW_TEXT and not closing:
            end = _raw_text_end(name).search(html, position)
            position = end.start() if end is not None else len(html)


def _attributes(html: str, start: int, end: int,
                wanted: Collection[str] | None) -> dict[str, Attribute]:
    attributes: dict[str, Attribute] = {}
    for found in _ATTRIBUTE.finditer(html, start, end):
        name = found[1].lower()
        if name in attributes or (wanted is not None and name not in wanted):
            continue
        group = 2 if found[2] is not None else 3 if found[3] is not None else 4
        written = found[group] or ""
        at = found.start(group) if found[group] is not None else found.end()
        quote = '"' if group == 2 else "'" if group == 3 else ""
        value = htmllib.unescape(written) if "&" in written else written
        attributes[name] = Attribute(name, value, written, at, at + len(written), quote)
    return attributes


@functools.cache
def _raw_text_end(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{name}[{_WS}/>]", re.IGNORECASE)


def has_values(html: str) -> bool:
    """Whether ``html`` may have attribute values (a fast test: False is sure).

    No value is written without "="; a body without one (a third of them) is passed over at
    once. (A case-blind search for the names costs more than the parse it would spare.)
    """
    return "=" in html


@functools.cache
def _tag_start(name: str) -> re.Pattern[str]:
    return re.compile(f"<{re.escape(name)}", re.IGNORECASE)


def mentions_tag(html: str, name: str) -> bool:
    """Whether ``html`` may have a ``<name`` tag (a fast test: False is sure)."""
    return _tag_start(name).search(html) is not None


Change = Callable[[HtmlTag, Attribute], "str | None"]


def replace_values(html: str, attributes: tuple[str, ...], change: Change) -> str:
    """``html`` with the values of ``attributes`` that ``change`` changes, the rest byte for byte.

    ``change`` returns the new value as escaped HTML for double quotes (``&amp;``, ``&quot;``),
    or None to keep it. The value keeps its quotes (a ``'`` in it escaped inside single ones);
    an unquoted one gets double quotes. Attributes without a value are not offered.
    """
    if not has_values(html):
        return html
    parts: list[str] = []
    done = 0
    for tag in tags(html, bare=False, attributes=attributes):
        for attribute in tag.attributes.values():
            if attribute.start == attribute.end:
                continue
            new = change(tag, attribute)
            if new is None:
                continue
            parts.append(html[done:attribute.start])
            parts.append(quoted(new, attribute.quote))
            done = attribute.end
    if not parts:
        return html
    parts.append(html[done:])
    return "".join(parts)


def links_of(tag: HtmlTag, attribute: Attribute) -> list[Attribute]:
    """The URLs an attribute of :data:`LINK_ATTRIBUTES` holds, each as an :class:`Attribute` of
    its name: the value itself; none for a ``data`` that is not an ``<object>``'s; for a
    ``srcset`` (``/a.jpg 1x, /a-2x.jpg 2x``) each candidate's URL alone, its ``start``/``end``
    in the value as read and its ``written`` escaped for double quotes.

    A ``srcset`` is split as the HTML standard's "parse a srcset attribute" does: a URL runs to
    white space (commas it ends with are not part of it), its descriptors to the next comma
    outside parentheses. A URL may hold a comma (``/a,b.jpg 1x``)."""
    if attribute.name == "data" and tag.name != "object":
        return []
    if attribute.name != "srcset":
        return [attribute]
    value, position = attribute.value, 0
    found: list[Attribute] = []
    while True:
        while position < len(value) and value[position] in _WS + ",":
            position += 1
        if position == len(value):
            return found
        start = position
        while position < len(value) and value[position] not in _WS:
            position += 1
        end = position
        while value[end - 1] == ",":  # the URL starts with no comma, so this stops inside it
            end -= 1
        url = value[start:end]
        found.append(Attribute(attribute.name, url, escape_value(url), start, end, '"'))
        if end < position:  # "/a.jpg," : no descriptors
            continue
        in_parentheses = False
        while position < len(value) and (value[position] != "," or in_parentheses):
            if value[position] in "()":
                in_parentheses = value[position] == "("
            position += 1


def replace_links(html: str, change: Change) -> str:
    """``html`` with the URLs of :data:`LINK_ATTRIBUTES` that ``change`` changes (see
    :func:`replace_values`), the rest byte for byte. ``change`` is offered each URL that
    :func:`links_of` finds: a ``srcset`` is written again with its descriptors as they were."""
    def changed(tag: HtmlTag, attribute: Attribute) -> str | None:
        if attribute.name != "srcset":
            return change(tag, attribute) if links_of(tag, attribute) else None
        value, done = attribute.value, 0
        parts: list[str] = []
        for url in links_of(tag, attribute):
            new = change(tag, url)
            if new is not None:
                parts += (escape_value(value[done:url.start]), new)
                done = url.end
        return "".join(parts) + escape_value(value[done:]) if parts else None

    return replace_values(html, LINK_ATTRIBUTES, changed)


def escape_value(text: str) -> str:
    """Text as the value of a double-quoted attribute."""
    return text.replace("&", "&amp;").replace('"', "&quot;")


def quoted(value: str, quote: str) -> str:
    """A value (escaped HTML for double quotes) to put back between ``quote``."""
    if quote == "'":
        return value.replace("'", "&#39;")
    return value if quote == '"' else f'"{value}"'

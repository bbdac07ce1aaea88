"""Python-Markdown's passes over the whole text or tree, done only where they can act.

Stage 3c, pure. Before parsing, Python-Markdown runs three passes over every text: whitespace
normalization (a regular expression over the text for lines of spaces), the raw-HTML extractor
(an HTML parser fed the whole text) and the fenced-code search; after the inline patterns, the
attribute-list and unescape passes walk every element of the tree; after serializing, the
raw-HTML postprocessor puts back every stashed fragment with a regular expression that calls
back for each placeholder. For a post with no HTML, no fence, no "{", no backslash and no stray
whitespace those passes change nothing, yet they cost about a fifth of its conversion; and the
postprocessor rebuilt the same fragment for each of the thirty places a typographic quote's
entity goes (:mod:`storefront.typography` stashes each entity once).

Here each of those passes runs when the text holds what it acts on (otherwise it gives back what
the pass itself would), and the postprocessor builds each fragment once per document and puts it
in with a plain replace. Nothing else changes: a property test compares the output with
Python-Markdown's own passes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from typing import Any

from markdown import Markdown, util
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.extensions.md_in_html import HtmlBlockPreprocessor, MarkdownInHTMLPostprocessor
from markdown.preprocessors import NormalizeWhitespace, Preprocessor
from markdown.treeprocessors import Treeprocessor, UnescapeTreeprocessor

# what NormalizeWhitespace changes: the placeholder markers, carriage returns, tabs, a line of
# spaces (found as " \n" in the text it joins, which ends with "\n\n")
_WHITESPACE = (util.STX, util.ETX, "\r", "\t", " \n")


def _needs_whitespace(source: str) -> bool:
    return any(mark in source for mark in _WHITESPACE)


def _needs_html(source: str) -> bool:
    # no tag, no comment and no character reference (the extractor writes "&#8364" back as
    # "&#8364;"): it gives back the text as it is
    return "<" in source or "&#" in source


def _needs_fence(source: str) -> bool:
    return "```" in source or "~~~" in source


class Skipping(Preprocessor):
    """A preprocessor run only on a text that ``needs`` it; its lines as they are otherwise,
    with what the pass adds to every text (``tail``: NormalizeWhitespace ends it with two empty
    lines)."""

    def __init__(self, md: Markdown, inner: Preprocessor, needs: Callable[[str], bool],
                 tail: tuple[str, ...] = ()) -> None:
        super().__init__(md)
        self.inner, self.needs, self.tail = inner, needs, tail

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines) + "\n" * len(self.tail)
        if self.needs(source):
            return self.inner.run(lines)
        return [*lines, *self.tail]


# the preprocessors known (exactly these classes: a subclass may act on more)
_PASSES: dict[type, tuple[Callable[[str], bool], tuple[str, ...]]] = {
    NormalizeWhitespace: (_needs_whitespace, ("", "")),
    HtmlBlockPreprocessor: (_needs_html, ()),
    FencedBlockPreprocessor: (_needs_fence, ()),
}


class Remembered(Preprocessor):
    """Registered first: keeps the text being converted, as the owner wrote it, for
    :class:`SkippingTree` to look at (the later passes take parts of it out of the lines)."""

    text = ""

    def run(self, lines: list[str]) -> list[str]:
        self.text = "\n".join(lines)
        return lines


class SkippingTree(Treeprocessor):
    """A treeprocessor run only when the text being converted holds ``needed``: what it acts on
    comes from that text alone (an attribute list's "{", a backslash escape's "\\")."""

    def __init__(self, md: Markdown, inner: Treeprocessor, needed: str,
                 source: Remembered) -> None:
        super().__init__(md)
        self.inner, self.needed, self.source = inner, needed, source

    def run(self, root: etree.Element) -> etree.Element | None:
        if self.needed in self.source.text:
            return self.inner.run(root)
        return None

    def __getattr__(self, name: str) -> Any:
        # the pass's own attributes: the raw-HTML inline pattern reads the unescape pass's RE
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


# the treeprocessors known (exactly these classes) -> what the text must hold for them to act
_TREE_PASSES: dict[type, str] = {AttrListTreeprocessor: "{", UnescapeTreeprocessor: "\\"}


class OnceRawHtml(MarkdownInHTMLPostprocessor):
    """md_in_html's raw-HTML postprocessor, building each stashed fragment once per document and
    putting it in place with a plain replace of its placeholder (Python-Markdown: a regular
    expression over the text, calling back for each of the fifty placeholders of a post).

    The same result: the placeholders alone in a paragraph (``<p>PH</p>``, which the expression
    tries first at each place) are replaced first, in one pass over the text as it was; then each
    other placeholder. Every fragment put in is whole (the placeholders inside it replaced
    already), so no replace finds a placeholder in another's fragment.
    """

    def run(self, text: str) -> str:
        stash = self.md.htmlStash
        if not stash.html_counter:
            return text
        base = util.HTML_PLACEHOLDER % r"([0-9]+)"
        pattern = re.compile(f"<p>{base}</p>|{base}")
        alone = re.compile(f"<p>{base}</p>")  # its group 1, as the pattern's: wrapped
        made: dict[tuple[int, bool], str] = {}

        def fragment(key: int, wrapped: bool) -> str:
            found = made.get((key, wrapped))
            if found is None:
                html = self.stash_to_string(stash.rawHtmlBlocks[key])
                if wrapped and not self.isblocklevel(html):
                    html = f"<p>{html}</p>"
                found = made[key, wrapped] = (pattern.sub(substitute_match, html)
                                              if util.STX in html else html)
            return found

        def substitute_match(match: re.Match[str]) -> str:
            # Python-Markdown's own (3.x), for the placeholders inside a fragment
            key = int(match.group(1) or match.group(2))
            if key >= stash.html_counter:
                return match.group(0)
            return fragment(key, bool(match.group(1)))

        # first the placeholders alone in a paragraph, in one pass over the text as it is (a
        # fragment put in may end with "<p>" before the next placeholder: no paragraph of its own)
        if "<p>" + util.STX in text:
            text = alone.sub(substitute_match, text)
        for key in range(stash.html_counter):
            placeholder = util.HTML_PLACEHOLDER % key
            if placeholder in text:
                text = text.replace(placeholder, fragment(key, False))
        return text


def prefilter_passes(md: Markdown) -> None:
    """Put the skipping passes in place of Python-Markdown's own in ``md`` (same names and
    priorities); passes of other classes stay as they are."""
    for name, priority in _priorities(md.preprocessors):
        processor = md.preprocessors[name]
        known = _PASSES.get(type(processor))
        if known is not None:
            md.preprocessors.register(Skipping(md, processor, *known), name, priority)
    source = Remembered(md)
    md.preprocessors.register(source, "storefront_source", 1000)
    for name, priority in _priorities(md.treeprocessors):
        needed = _TREE_PASSES.get(type(md.treeprocessors[name]))
        if needed is not None:
            md.treeprocessors.register(SkippingTree(md, md.treeprocessors[name], needed, source),
                                       name, priority)
    for name, priority in _priorities(md.postprocessors):
        if name == "raw_html" and type(md.postprocessors[name]) is MarkdownInHTMLPostprocessor:
            md.postprocessors.register(OnceRawHtml(md), name, priority)


def _priorities(registry: Any) -> list[tuple[str, float]]:
    """The (name, priority) of each item of a Python-Markdown registry (it keeps them in
    ``_priority``, with no public way to read a priority)."""
    return [(item.name, item.priority) for item in registry._priority]

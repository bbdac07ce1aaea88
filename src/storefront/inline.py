"""Python-Markdown's inline processor, told which characters each inline pattern needs.

Python-Markdown tries every inline pattern (code, escapes, links, images, autolinks, line breaks,
raw HTML, entities, emphasis, footnote references) on every piece of text, one regular-expression
search each, although most sentences contain none of the characters those patterns start with.
This subclass skips a pattern when the text has none of its required characters: a search that
could not match is not made, and nothing else changes (a property test compares the output with
Python-Markdown's own processor on random Markdown). Patterns it does not know are always tried.
"""

from __future__ import annotations

from typing import Any

from markdown import util
from markdown.treeprocessors import InlineProcessor

# (class name, regular expression) of Python-Markdown's inline patterns -> characters without
# one of which the pattern cannot match
_REQUIRED = {
    "BacktickInlineProcessor": "`",
    "EscapeInlineProcessor": "\\",
    "FootnoteInlineProcessor": "[",
    "ReferenceInlineProcessor": "[",
    "LinkInlineProcessor": "[",
    "ImageInlineProcessor": "!",
    "ImageReferenceInlineProcessor": "!",
    "ShortReferenceInlineProcessor": "[",
    "ShortImageReferenceInlineProcessor": "!",
    "AutolinkInlineProcessor": "<",
    "AutomailInlineProcessor": "<",
    "DelimiterProcessor": "*_",
}
# patterns of a shared class, told apart by their expression
_BY_EXPRESSION = {"  \n": "\n", "(&(?:\\#[0-9]+|\\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)": "&"}


def required_characters(pattern: Any) -> str | None:
    """The characters a pattern needs (one of them), or None when unknown (always try it)."""
    expression = getattr(pattern, "pattern", None)
    if expression in _BY_EXPRESSION:
        return _BY_EXPRESSION[expression]
    name = type(pattern).__name__
    if name == "HtmlInlineProcessor" and isinstance(expression, str) and expression.startswith("(<"):
        return "<"
    return _REQUIRED.get(name)


class PrefilteredInlineProcessor(InlineProcessor):
    """:class:`InlineProcessor` that does not search text for a pattern it cannot contain."""

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        # the same loop as Python-Markdown's __handleInline, with the skip added
        if isinstance(data, util.AtomicString):
            return data
        patterns = self.__dict__.get("_prefiltered")
        if patterns is None:  # the patterns are registered before the first document
            patterns = self.__dict__["_prefiltered"] = [
                (pattern, required_characters(pattern)) for pattern in self.inlinePatterns]
        apply = self._InlineProcessor__applyPattern  # type: ignore[attr-defined]
        start = 0
        while patternIndex < len(patterns):
            pattern, needed = patterns[patternIndex]
            if needed is not None and not any(character in data for character in needed):
                patternIndex += 1
                start = 0
                continue
            data, matched, start = apply(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data

"""Python-Markdown's inline processor, told which characters each inline pattern needs.

Python-Markdown tries every inline pattern (code, escapes, links, images, autolinks, line breaks,
raw HTML, entities, emphasis, footnote references) on every piece of text, one regular-expression
search each, although most sentences contain none of the characters those patterns start with.
This subclass skips a pattern when the text has none of its required characters: a search that
could not match is not made, and nothing else changes (a property test compares the output with
Python-Markdown's own processor on random Markdown). Patterns it does not know are always tried.
"""

from __future__ import annotations

import re
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


# every character some known pattern needs: a text's own are found in one scan
_NEEDED = "".join(sorted(set("".join(_REQUIRED.values()) + "".join(_BY_EXPRESSION.values()) + "<")))
_ANY_NEEDED = re.compile(f"[{re.escape(_NEEDED)}]")


class PrefilteredInlineProcessor(InlineProcessor):
    """:class:`InlineProcessor` that does not search text for a pattern it cannot contain.

    The characters of a text are looked at once, before its first pattern: a match only replaces
    text by a placeholder (STX, letters, digits, ETX), which adds none of them, so a pattern left
    out then could not match later either. The patterns to try are worked out once for each set
    of characters found.
    """

    _patterns: list[Any]
    _needs: list[str | None]
    _plans: dict[frozenset[str], tuple[tuple[int, Any, str], ...]]

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        # the same loop as Python-Markdown's __handleInline, with the skip added
        if isinstance(data, util.AtomicString):
            return data
        if "_plans" not in self.__dict__:  # the patterns are registered before the first document
            self._patterns = list(self.inlinePatterns)
            self._needs = [required_characters(pattern) for pattern in self._patterns]
            self._plans = {}
        found = frozenset(_ANY_NEEDED.findall(data))
        plan = self._plans.get(found)
        if plan is None:
            plan = self._plans[found] = tuple(
                (index, self._patterns[index], needed or "")
                for index, needed in enumerate(self._needs)
                if needed is None or not found.isdisjoint(needed))
        apply = self._InlineProcessor__applyPattern  # type: ignore[attr-defined]
        start = 0
        for index, pattern, needed in plan:
            if index < patternIndex:
                continue
            # a match before may have taken the last of the characters this pattern needs
            if needed and not any(character in data for character in needed):
                continue
            matched = True
            while matched:
                data, matched, start = apply(pattern, data, index, start)
        return data

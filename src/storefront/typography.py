"""Typographic quotes, dashes and ellipses for Python-Markdown, in one cheap pass.

Output is identical to Python-Markdown's ``smarty`` extension (same rules, same order, same HTML
entities), which a property test checks on random text. ``smarty`` runs its twenty patterns
through a second full inline processor, which cost as much as the rest of Markdown together; here
each text node is scanned only for the patterns whose literal part it contains, and a match
becomes a raw-HTML placeholder exactly as ``smarty`` makes it, so later rules see the same text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Sequence

from markdown import Markdown, util
from markdown.extensions import Extension
from markdown.extensions import smarty as rules
from markdown.treeprocessors import Treeprocessor

_ENTITY = rules.substitutions
_LSQUO, _RSQUO = _ENTITY["left-single-quote"], _ENTITY["right-single-quote"]
_LDQUO, _RDQUO = _ENTITY["left-double-quote"], _ENTITY["right-double-quote"]

# (pattern, replacement parts: an int is a group of the match, a str an entity, and the text
# every match contains: a rule is tried only on text that has it; "^x": text that starts with x),
# in smarty's registry order: em dashes (50), en dashes (45), quotes (30, 29, ...), ellipses (10).
_Rule = tuple[re.Pattern[str], Sequence[int | str], str]
_RULES: tuple[_Rule, ...] = tuple(
    (re.compile(pattern), parts, trigger)
    for pattern, parts, trigger in (
        (r"(?<!-)---(?!-)", (_ENTITY["mdash"],), "---"),
        (r"(?<!-)--(?!-)", (_ENTITY["ndash"],), "--"),
        (rules.singleQuoteStartRe, (_RSQUO,), "^'"),
        (rules.doubleQuoteStartRe, (_RDQUO,), '^"'),
        (rules.doubleQuoteSetsRe, (_LDQUO + _LSQUO,), "\"'"),
        (rules.singleQuoteSetsRe, (_LSQUO + _LDQUO,), "'\""),
        (rules.doubleQuoteSetsRe2, (_RSQUO + _RDQUO,), "'\""),
        (rules.singleQuoteSetsRe2, (_RDQUO + _RSQUO,), "\"'"),
        (rules.decadeAbbrRe, (_RSQUO,), "'"),
        (rules.openingSingleQuotesRegex, (1, _LSQUO), "'"),
        (rules.closingSingleQuotesRegex, (_RSQUO,), "'"),
        (rules.closingSingleQuotesRegex2, (_RSQUO, 1), "'"),
        (rules.remainingSingleQuotesRegex, (_LSQUO,), "'"),
        (rules.openingDoubleQuotesRegex, (1, _LDQUO), '"'),
        (rules.closingDoubleQuotesRegex, (_RDQUO,), '"'),
        (rules.closingDoubleQuotesRegex2, (_RDQUO,), '"'),
        (rules.remainingDoubleQuotesRegex, (_LDQUO,), '"'),
        (r"(?<!\.)\.{3}(?!\.)", (_ENTITY["ellipsis"],), "..."),
    )
)


# STX/ETX around it, as Python-Markdown's own placeholders: no rule matches inside or across them
_PLACEHOLDER = "\x02sfq%d\x03"
_HIDDEN = re.compile("\x02sfq([0-9]+)\x03")


class TypographyProcessor(Treeprocessor):
    """Educate the text and tails of every element, as smarty's inline processor does."""

    def run(self, root: etree.Element) -> None:
        # each entity is stashed once per document and its placeholder used wherever it goes
        # (the raw-HTML postprocessor replaces every occurrence): fewer stash entries for it to
        # restore, and no store() per quote
        self._stashed: dict[str, str] = {}
        stack = [root]
        while stack:
            element = stack.pop()
            for child in element:
                if child.text and not isinstance(child.text, util.AtomicString):
                    child.text = self.educate(child.text)
                if child.tail and not isinstance(child.tail, util.AtomicString):
                    child.tail = self.educate(child.tail)
                stack.append(child)

    def educate(self, text: str) -> str:
        hidden: list[str] = []
        for regex, parts, trigger in _RULES:
            if not (text.startswith(trigger[1]) if trigger[0] == "^" else trigger in text):
                continue
            position = 0
            while (match := regex.search(text, position)) is not None:
                # Like smarty, the whole replacement (entities and any text kept from the match)
                # is hidden behind one placeholder, so the following rules see the same text.
                hidden.append("".join(match.group(p) if isinstance(p, int) else self._stash(p)
                                      for p in parts))
                placeholder = _PLACEHOLDER % (len(hidden) - 1)
                text = text[: match.start()] + placeholder + text[match.end():]
                position = match.start() + len(placeholder)
        if hidden:
            text = _HIDDEN.sub(lambda found: hidden[int(found.group(1))], text)
        return text

    def _stash(self, entity: str) -> str:
        stashed = self._stashed.get(entity)
        if stashed is None:
            stashed = self._stashed[entity] = self.md.htmlStash.store(entity)
        return stashed


class TypographyExtension(Extension):
    """Registers :class:`TypographyProcessor` where smarty's processor would run (priority 6)."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.treeprocessors.register(TypographyProcessor(md), "smarty", 6)
        md.ESCAPED_CHARS.extend(['"', "'"])  # \' keeps a straight quote, as with smarty

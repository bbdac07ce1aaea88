"""Typographic quotes, dashes and ellipses for Python-Markdown, in one cheap pass.

Output is identical to Python-Markdown's ``smarty`` extension (same rules, same order, same HTML
entities), which a property test checks on random text. ``smarty`` runs its twenty patterns
through a second full inline processor, which cost as much as the rest of Markdown together; here
each text node is scanned only for the patterns whose literal part it contains, each rule is one
``re.sub`` over the text, and a match becomes what ``smarty`` makes of it.

``smarty`` applies a rule by searching again after each replacement, in the text that now holds
the replacement's placeholder (STX ... ETX). One ``re.sub`` over the text gives the same matches
(see :func:`_apply`): what a later search sees of a replaced match is only its ETX, so only a rule
whose lookbehind accepts the match's last character but not an ETX could differ, and only for a
match that starts where the previous one ended; that case (rare: two quotes in a row) is applied
one match at a time, as ``smarty`` does. A replacement made only of entities goes into the text
as the raw-HTML stash's placeholder itself (STX ... ETX around letters, digits and a colon: to
every rule the same as ``smarty``'s placeholder); one that keeps text from the match (the space
before an opening quote) is hidden behind a placeholder until all rules ran, as ``smarty`` does,
so no later rule sees that text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import Any

from markdown import Markdown, util
from markdown.extensions import Extension
from markdown.extensions import smarty as rules
from markdown.treeprocessors import Treeprocessor

_ENTITY = rules.substitutions
_LSQUO, _RSQUO = _ENTITY["left-single-quote"], _ENTITY["right-single-quote"]
_LDQUO, _RDQUO = _ENTITY["left-double-quote"], _ENTITY["right-double-quote"]


@dataclass(frozen=True, eq=False)  # hashed by identity: a per-document dict key
class _Rule:
    """One of smarty's substitutions.

    ``regex`` matches exactly what smarty's expression ``same_as`` matches, at every position,
    but starts with the quote, dash or dot (a lookbehind moved after it): the regular-expression
    engine then jumps from one such character to the next instead of trying the lookbehind at
    every position of the text, 5 to 15 times faster. ``before`` and ``after`` are the entities
    that replace the match, around ``kept`` (a group of the match kept between them, or 0).
    ``trigger`` is text every match contains (a rule is tried only on text that has it;
    ``at_start``: text that starts with it), ``precheck`` a quick expression every text with a
    match has (one whose own expression must start before the quote). ``in_a_row``, for a rule
    that matches only after a character its lookbehind accepts (never after an ETX), is the text
    two matches in a row contain: where it is found, matches are replaced one at a time.
    """

    regex: re.Pattern[str]
    same_as: str
    before: tuple[str, ...]
    trigger: str
    kept: int = 0
    after: tuple[str, ...] = ()
    at_start: bool = False
    in_a_row: str = ""
    precheck: re.Pattern[str] | None = None


def _rule(expression: str, same_as: str, before: tuple[str, ...], trigger: str,
          **options: Any) -> _Rule:
    precheck = options.pop("precheck", None)
    return _Rule(re.compile(expression), same_as, before, trigger,
                 precheck=re.compile(precheck) if precheck else None, **options)


_CLOSE = rules.closeClass  # what may stand before a closing quote
# what an opening quote's expression ends with before the quote (a space, "--", a dash, an entity)
_OPENING_END = r"[\s;\-–—]"

# in smarty's registry order: em dashes (50), en dashes (45), quotes (30, 29, ...), ellipses (10)
_RULES: tuple[_Rule, ...] = (
    _rule(r"---(?<!----)(?!-)", r"(?<!-)---(?!-)", (_ENTITY["mdash"],), "---"),
    _rule(r"--(?<!---)(?!-)", r"(?<!-)--(?!-)", (_ENTITY["ndash"],), "--"),
    _rule(rules.singleQuoteStartRe, rules.singleQuoteStartRe, (_RSQUO,), "'", at_start=True),
    _rule(rules.doubleQuoteStartRe, rules.doubleQuoteStartRe, (_RDQUO,), '"', at_start=True),
    _rule(rules.doubleQuoteSetsRe, rules.doubleQuoteSetsRe, (_LDQUO, _LSQUO), "\"'"),
    _rule(rules.singleQuoteSetsRe, rules.singleQuoteSetsRe, (_LSQUO, _LDQUO), "'\""),
    _rule(f"'\"(?<={_CLOSE}'\")", rules.doubleQuoteSetsRe2, (_RSQUO, _RDQUO), "'\"",
          in_a_row="'\"'\""),
    _rule(f"\"'(?<={_CLOSE}\"')", rules.singleQuoteSetsRe2, (_RDQUO, _RSQUO), "\"'",
          in_a_row="\"'\"'"),
    _rule(r"'(?<!\w')(?=\d{2}s)", rules.decadeAbbrRe, (_RSQUO,), "'"),
    _rule(rules.openingSingleQuotesRegex, rules.openingSingleQuotesRegex, (), "'", kept=1,
          after=(_LSQUO,), precheck=f"'(?<={_OPENING_END}')(?=\\w)"),
    _rule(f"'(?<={_CLOSE}')(?!\\s|s\\b|\\d)", rules.closingSingleQuotesRegex, (_RSQUO,), "'",
          in_a_row="''"),
    _rule(rules.closingSingleQuotesRegex2, rules.closingSingleQuotesRegex2, (_RSQUO,), "'",
          kept=1),
    _rule(rules.remainingSingleQuotesRegex, rules.remainingSingleQuotesRegex, (_LSQUO,), "'"),
    _rule(rules.openingDoubleQuotesRegex, rules.openingDoubleQuotesRegex, (), '"', kept=1,
          after=(_LDQUO,), precheck=f'"(?<={_OPENING_END}")(?=\\w)'),
    _rule(rules.closingDoubleQuotesRegex, rules.closingDoubleQuotesRegex, (_RDQUO,), '"'),
    _rule(f'"(?<={_CLOSE}")', rules.closingDoubleQuotesRegex2, (_RDQUO,), '"', in_a_row='""'),
    _rule(rules.remainingDoubleQuotesRegex, rules.remainingDoubleQuotesRegex, (_LDQUO,), '"'),
    _rule(r"\.\.\.(?<!\.\.\.\.)(?!\.)", r"(?<!\.)\.{3}(?!\.)", (_ENTITY["ellipsis"],), "..."),
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
        self._replacements: dict[_Rule, str] = {}  # a rule's entities, stashed, once it matched
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
        if "'" not in text and '"' not in text and "--" not in text and "..." not in text:
            return text  # most text nodes: the space between two elements, a word, a number
        hidden: list[str] = []
        for rule in _RULES:
            if rule.at_start:
                if not text.startswith(rule.trigger):
                    continue
            elif rule.trigger not in text:
                continue
            text = self._apply(rule, text, hidden)
        if hidden:
            text = _HIDDEN.sub(lambda found: hidden[int(found.group(1))], text)
        return text

    def _apply(self, rule: _Rule, text: str, hidden: list[str]) -> str:
        """``text`` with every match of ``rule`` replaced, as smarty replaces them. An entity is
        stashed when a rule first matches in the document, as smarty stashes it."""
        regex = rule.regex
        if rule.precheck is not None and rule.precheck.search(text) is None:
            return text
        if rule.kept:
            def hide(match: re.Match[str]) -> str:
                hidden.append("".join(self._stash(entity) for entity in rule.before)
                              + match.group(rule.kept)
                              + "".join(self._stash(entity) for entity in rule.after))
                return _PLACEHOLDER % (len(hidden) - 1)

            return regex.sub(hide, text)
        entities = self._replacements.get(rule)
        if entities is None:
            if regex.search(text) is None:
                return text
            entities = self._replacements[rule] = "".join(self._stash(entity)
                                                          for entity in rule.before)
        if rule.in_a_row and rule.in_a_row in text:
            return self._one_at_a_time(regex, text, entities)
        # stash placeholders hold only \x02, \x03, letters, digits and ':': nothing re.sub expands
        return regex.sub(entities, text)

    @staticmethod
    def _one_at_a_time(regex: re.Pattern[str], text: str, entities: str) -> str:
        """smarty's own loop: after each replacement the search goes on in the new text, where
        the character before the next position is the placeholder's ETX (which this rule's
        lookbehind refuses, so no match starts right where the last one ended)."""
        pieces: list[str] = []
        done = 0
        match = regex.search(text)
        while match is not None:
            pieces += (text[done:match.start()], entities)
            done = match.end()
            match = regex.search(text, done)
            if match is not None and match.start() == done:
                match = regex.search(text, done + 1)
        pieces.append(text[done:])
        return "".join(pieces)

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

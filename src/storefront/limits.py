"""Limits on what the builder reads: far above any real site, far below what hurts the machine.

Used by the reading stages (config, theme, front matter, Markdown). Pure: no I/O.

Python-Markdown and PyYAML are quick on what people write, but some inputs make them slow
(Python-Markdown rescans a paragraph for every ``[`` and rebuilds its text for every inline mark,
so both grow with the square of the input), deep (nested lists and HTML recurse until Python's
stack runs out) or huge (YAML aliases expand a few hundred bytes into gigabytes). Rather than fork
those libraries, the text is measured first with cheap linear scans, and anything beyond a limit
is a :class:`LimitExceeded` naming the line, the limit and how to fix it. Each limit below says
how far it is from real content; ``bench/hostile_inputs.py`` measures the worst input that stays
under all of them (seconds, not hours).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator

MAX_FILE_BYTES = 512 * 1024
"""Size of one content file, ``storefront.yaml``, ``theme.yaml`` or strings file.

512 KiB is about 80,000 words, a 300-page book on one web page; a long article is 30 KB. The
Markdown worst cases below grow with the file size, so this bounds them all."""

MAX_LINES = 10_000
"""Lines of Markdown in one text. Each line can become a paragraph, heading, list item,
table row or footnote, and Python-Markdown's work grows with the square of the number of
elements side by side (10,000 footnotes take about 7 s). A 30 KB article has 300 lines."""

MAX_BLOCK_LINES = 2_000
"""Lines without a blank line between them (one paragraph, list or table). Python-Markdown
splits such a block one piece at a time and re-reads the rest each time. A price list of 2,000
rows would already be far longer than any page an owner writes."""

MAX_NESTING = 32
"""Depth of lists and quotes inside each other, of HTML elements inside a ``markdown="1"``
element, and of YAML lists and mappings. Python-Markdown recurses once per level and fails
near 260; real content nests 3 or 4 levels (the config 4)."""

MAX_MARKS = 50_000
"""Inline marks (``* _ ` [ < & ' " \\``) in one text: each can start an emphasis, link, code
span, HTML tag, entity or typographic quote, and Python-Markdown makes about 20,000 of those a
second. A long article has a thousand."""

MAX_BLOCK_MARKS = 2_000
"""Inline marks in one block. Python-Markdown rebuilds the block's text for every element it
finds there, so a block full of them costs the square of their number. A long paragraph has a
few dozen."""

MAX_TABLE_COLUMNS = 200
"""``|`` characters on one line: table cells of one row (each cell also costs the square of
their number). A wide real table has 8 columns."""

MAX_BRACKET_SCAN = 2_000_000
"""Characters Python-Markdown scans to match ``[`` with ``]`` and ``](`` with ``)``. Every
``[`` scans to its ``]`` (or, when there is none, to the end of the paragraph): 20,000 ``[`` in
a row take a minute. A real page of 1,000 links scans about 50,000 characters."""

MAX_TAG_SCAN = 10_000_000
"""Characters the HTML reader scans from each ``<`` that may start a tag to the next ``>``:
a ``<b`` never closed makes it read on to the end of the file, again for every such ``<``.
Real HTML tags close within the line (a few hundred characters in all)."""

MAX_YAML_EXPANSION = 1_000_000
"""Size of a YAML document once every alias (``*name``) is replaced by what its anchor
(``&name``) holds, counted as one per list, mapping or value plus the characters of each value.
Without aliases a file of at most :data:`MAX_FILE_BYTES` stays under it; a 432-byte "billion
laughs" would otherwise expand to gigabytes."""

MAX_NUMBER_DIGITS = 18
"""Digits of a whole number or a price. Larger ones mean nothing on a shop's site, and past
4,300 digits Python refuses to convert them at all."""

MAX_SLUG_LENGTH = 200
"""Characters of a URL name (slug) of a page, tag or category. Each one is a folder in
``output/``, and file systems refuse names of more than 255 bytes. A long real slug has 60."""

MAX_TITLE_LENGTH = 300
"""Characters of a title, an FAQ question or a newsletter's subject: three lines of a heading.
Each is written a dozen times into its page (head, share tags, structured data) and into every
listing and feed; one far longer is text meant for the body (a line indented under ``title:``
joins it). A long real title has 100."""

MAX_NAME_LENGTH = 100
"""Characters of a tag or category name, shown in every card and menu that lists it. A tag is a
word or two; a long real one has 30."""

MAX_TAGS = 100
"""Different tags of one document. Each tag is a page and feeds, and each of them lists the
document with all of its tags, so a document's tags cost the square of their number (3,000
tags: 3,000 pages and 9,000 feeds of 3,000 links each). A post has 3 to 10."""

MAX_THEME_STRINGS = 200_000
"""Characters of all theme strings of one language together; the strings are inserted into
every page. The built-in theme's Italian strings are about 5,000 characters."""

MAX_SVG_BYTES = 8 * 1024 * 1024
"""Size of a compressed SVG (``.svgz``) once decompressed, to check it for scripts. gzip shrinks
a run of one byte a thousand times, so an 8 KiB file could otherwise become gigabytes in memory
(a "gzip bomb"); the check reads about 15 MB of the tiniest elements a second. A detailed map
drawn as SVG is a few MB, a logo a few KB; a larger drawing can be published as a plain .svg."""


class LimitExceeded(Exception):
    """A text goes beyond one of the limits above; ``line`` is 1-based within the text (0: all)."""

    def __init__(self, line: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


def check_size(size: int, what: str = "file") -> None:
    """Refuse a text of more than :data:`MAX_FILE_BYTES` bytes (or characters)."""
    if size > MAX_FILE_BYTES:
        raise LimitExceeded(
            0, f"this {what} is {size:,} bytes; storefront reads at most {MAX_FILE_BYTES:,} "
            f"({MAX_FILE_BYTES // 1024} KiB)",
            "split it into several pages, or move large data out of it")


def check_number(text: str, where: str) -> None:
    """Refuse a number written with more than :data:`MAX_NUMBER_DIGITS` digits."""
    digits = sum(char.isdigit() for char in text)
    if digits > MAX_NUMBER_DIGITS:
        raise LimitExceeded(0, f"{where} has {digits:,} digits; storefront accepts numbers of "
                            f"at most {MAX_NUMBER_DIGITS}", "write a smaller number")


def check_slug(slug: str, where: str) -> None:
    """Refuse a URL name longer than :data:`MAX_SLUG_LENGTH`."""
    if len(slug) > MAX_SLUG_LENGTH:
        raise LimitExceeded(0, f"{where} makes a URL name of {len(slug):,} characters; "
                            f"storefront allows at most {MAX_SLUG_LENGTH}", "shorten it")


def check_name(name: str, where: str) -> None:
    """Refuse a tag or category name longer than :data:`MAX_NAME_LENGTH`."""
    if len(name) > MAX_NAME_LENGTH:
        raise LimitExceeded(0, f"{where} is {len(name):,} characters long; storefront allows at "
                            f"most {MAX_NAME_LENGTH}", "a tag or category is a word or two: "
                            "shorten it")


def check_tags(count: int, what: str) -> None:
    """Refuse a document with more than :data:`MAX_TAGS` different tags."""
    if count > MAX_TAGS:
        raise LimitExceeded(0, f"this {what} has {count:,} different tags; storefront allows at "
                            f"most {MAX_TAGS}", "keep the few a reader would look for: each tag "
                            f"is a page and feeds that list this {what} with all of its tags")


def check_theme_strings(total: int) -> None:
    """Refuse theme strings that add up to more than :data:`MAX_THEME_STRINGS` characters."""
    if total > MAX_THEME_STRINGS:
        raise LimitExceeded(
            0, f"the theme strings add up to {total:,} characters; storefront allows at most "
            f"{MAX_THEME_STRINGS:,}", "keep theme strings to short labels and sentences")


# -- Markdown -----------------------------------------------------------------------------------

# What opens a list or quote at the start of a line: ">" or a list marker followed by a space.
_CONTAINERS = re.compile(r"(?:[ \t]*(?:>|(?:[*+-]|[0-9]{1,9}[.)])(?=[ \t]|$)))*[ \t]*")
_CONTAINER_MARK = re.compile(r">|[*+-]|[0-9]{1,9}[.)]")
_LONG_PREFIX = re.compile(rf"^[ \t>*+\-.)0-9]{{{MAX_NESTING + 1},}}.*$", re.MULTILINE)
# a thematic break ("* * * *"): a rule, not lists inside each other (Python-Markdown's own rule)
_RULE = re.compile(r"[ ]{0,3}(?:(?:-+[ ]{0,2}){3,}|(?:_+[ ]{0,2}){3,}|(?:\*+[ ]{0,2}){3,})")
_INLINE_MARKS = re.compile(r"[*_`\[<&'\"\\]")
# Escapes first: "\[" is never a bracket to Python-Markdown (its escape pattern runs first).
_BRACKETS = re.compile(r"\\.|\]\(|[\[\]()]", re.DOTALL)
_QUOTES = re.compile(r"['\"]")
_TAG_START = re.compile(r"<[A-Za-z!?/]")
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")
_MARKDOWN_ATTRIBUTE = re.compile(r"\smarkdown\s*=", re.IGNORECASE)
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                        "meta", "param", "source", "track", "wbr"})
# Tags whose end the HTML parser infers when the same tag opens again (<p>a<p>b).
_SELF_ENDING = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option"})

_NESTING_HINT = "nest lists and quotes less deeply (real pages need 3 or 4 levels)"


@functools.lru_cache(maxsize=16)  # the reader checks a body, then rendering it checks it again
def check_markdown(text: str) -> None:
    """Raise :class:`LimitExceeded` when ``text`` would be too slow or too deep to render.

    Linear in the size of the text, and quick for a real page: each check first takes a bound
    that costs one pass in C (a count, a search) and looks closer only when the bound is not
    enough. Code blocks are measured like the rest: Python-Markdown's own scans reach them too,
    and a real code sample is far from every limit.
    """
    check_size(len(text.encode("utf-8", "surrogatepass")), "text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as Python-Markdown reads it
    lines = text.split("\n")
    if len(lines) > MAX_LINES:
        raise LimitExceeded(MAX_LINES + 1, f"the text has {len(lines):,} lines; storefront reads "
                            f"at most {MAX_LINES:,}", "split it into several pages")
    # each character of a line's prefix adds at most one level: only long prefixes can break it
    for match in _LONG_PREFIX.finditer(text):
        _check_nesting(match.group(), text.count("\n", 0, match.start()) + 1)
    if text.count("|") > MAX_TABLE_COLUMNS:
        for number, line in enumerate(lines, 1):
            _check_cells(line, number)
    marks = len(_INLINE_MARKS.findall(text))
    blockwise = len(lines) > MAX_BLOCK_LINES or marks > MAX_BLOCK_MARKS
    # no "[" scans further than the whole text
    bracketed = (text.count("[") + text.count("](")) * len(text) > MAX_BRACKET_SCAN
    if blockwise or bracketed:
        _check_blocks(lines, bracketed)
    if text.count("<") * len(text) > MAX_TAG_SCAN:
        _check_tag_scan(text)
    if "markdown" in text.lower() and _MARKDOWN_ATTRIBUTE.search(text):
        _check_html_nesting(text)


def _check_blocks(lines: list[str], bracketed: bool) -> None:
    scanned = marks = 0
    for first, block in _blocks(lines):
        marks += _check_block(block, first)
        if marks > MAX_MARKS:
            raise LimitExceeded(first, f"the text has more than {MAX_MARKS:,} inline marks "
                                "(* _ ` [ < & ' \" \\) up to the paragraph starting here; "
                                "storefront reads at most that many", "split it into several pages")
        if bracketed:
            scanned = _bracket_scan(block, first, scanned)


def _check_nesting(line: str, number: int) -> None:
    if _RULE.fullmatch(line):
        return
    prefix = _CONTAINERS.match(line)
    if prefix is not None and prefix.end():
        opened = prefix.group()
        # one level per ">" or list marker, and one per four columns of indentation (less the
        # space that follows each marker)
        markers = len(_CONTAINER_MARK.findall(opened))
        columns = max(0, opened.count(" ") + 4 * opened.count("\t") - markers)
        depth = markers + columns // 4
        if depth > MAX_NESTING:
            raise LimitExceeded(number, f"this line is nested {depth} levels deep (lists, quotes "
                                f"and indentation); storefront reads at most {MAX_NESTING}",
                                _NESTING_HINT)


def _check_cells(line: str, number: int) -> None:
    if line.count("|") > MAX_TABLE_COLUMNS:
        raise LimitExceeded(number, f'this line has {line.count("|"):,} "|" (table cells); '
                            f"storefront reads at most {MAX_TABLE_COLUMNS} in a line",
                            "split the table into narrower ones")


def _blocks(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Runs of non-blank lines as (first line number, text)."""
    start = 0
    for index, line in enumerate([*lines, ""]):
        if line.strip(" \t"):  # what Python-Markdown takes for a blank line, no more
            continue
        if index > start:
            yield start + 1, "\n".join(lines[start:index])
        start = index + 1


def _check_block(block: str, first: int) -> int:
    """Check one block's lines and inline marks; return how many marks it has."""
    count = block.count("\n") + 1
    if count > MAX_BLOCK_LINES:
        raise LimitExceeded(first, f"{count:,} lines follow each other here without a blank "
                            f"line; storefront reads at most {MAX_BLOCK_LINES:,}",
                            "separate paragraphs, lists and tables with blank lines, or split "
                            "the page")
    marks = len(_INLINE_MARKS.findall(block))
    if marks > MAX_BLOCK_MARKS:
        raise LimitExceeded(first, f"the paragraph starting here has {marks:,} inline marks "
                            "(* _ ` [ < & ' \" \\); storefront reads at most "
                            f"{MAX_BLOCK_MARKS:,} in one paragraph, list or table",
                            "separate it into paragraphs with blank lines")
    return marks


def _bracket_scan(block: str, first: int, scanned: int) -> int:
    """Add what Python-Markdown scans to pair the brackets of one block to ``scanned``.

    Each ``[`` is scanned to its ``]``, each ``](`` to its ``)``, and either one to the end of
    the block when it is never closed; a quote inside a ``](...)`` can make the link reader
    look for a title up to the end of the block, so such a link is counted to the end too.
    """
    end = len(block)
    squares: list[int] = []
    rounds: list[tuple[int, bool]] = []
    quotes = [match.start() for match in _QUOTES.finditer(block)]
    for match in _BRACKETS.finditer(block):
        mark, at = match.group(), match.start()
        if mark == "[":
            squares.append(at)
        elif mark in ("]", "]("):
            if squares:
                scanned += at - squares.pop()
            if mark == "](":
                rounds.append((at + 1, True))
        elif mark == "(":
            rounds.append((at, False))
        elif mark == ")" and rounds:
            opened, link = rounds.pop()
            if link:
                quoted = bisect.bisect_left(quotes, opened) < bisect.bisect_left(quotes, at)
                scanned += (end if quoted else at) - opened
        if scanned > MAX_BRACKET_SCAN:
            break
    scanned += sum(end - at for at in squares)
    scanned += sum(end - at for at, link in rounds if link)
    if scanned > MAX_BRACKET_SCAN:
        raise LimitExceeded(first, "the [ ] brackets up to the paragraph starting here are "
                            "left open or nested so much that reading them means scanning "
                            f"over {MAX_BRACKET_SCAN:,} characters",
                            "close every [ with ] (write \\[ for a bracket that is just text), "
                            "and do not nest brackets")
    return scanned


def _check_tag_scan(text: str) -> None:
    closes = [match.start() for match in re.finditer(">", text)]
    scanned = 0
    for match in _TAG_START.finditer(text):
        at = match.start()
        following = bisect.bisect_left(closes, at)
        scanned += (closes[following] if following < len(closes) else len(text)) - at
        if scanned > MAX_TAG_SCAN:
            raise LimitExceeded(
                text.count("\n", 0, at) + 1,
                "too many < that start an HTML tag are never closed with >; reading them "
                f"means scanning over {MAX_TAG_SCAN:,} characters",
                "close each HTML tag with >, or write &lt; for a < that is just text")


def _check_html_nesting(text: str) -> None:
    """Refuse HTML nested more than :data:`MAX_NESTING` deep inside ``markdown="1"``."""
    stack: list[str] = []
    open_count: dict[str, int] = {}
    markdown_at = -1  # index in ``stack`` of the outermost element with markdown="..."
    for match in _HTML_TAG.finditer(text):
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
        if closing:
            while open_count.get(name):  # close it and whatever was left open inside it
                open_count[stack[-1]] -= 1
                if stack.pop() == name:
                    break
            if markdown_at >= len(stack):
                markdown_at = -1
            continue
        if name in _VOID_TAGS or attributes.rstrip().endswith("/"):
            continue
        if name in _SELF_ENDING and stack and stack[-1] == name:
            continue  # <p>a<p>b: the second one ends the first, the depth stays
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        if markdown_at < 0 and _MARKDOWN_ATTRIBUTE.search(attributes):
            markdown_at = len(stack) - 1
        if markdown_at >= 0 and len(stack) - markdown_at > MAX_NESTING:
            raise LimitExceeded(
                text.count("\n", 0, match.start()) + 1,
                f"HTML elements are nested more than {MAX_NESTING} deep inside an element "
                'with markdown="1"; storefront reads at most that',
                "nest the HTML less deeply, or close the elements you opened")


# -- YAML ---------------------------------------------------------------------------------------


class YamlBudget:
    """Counts, while a YAML document is composed, its nesting and its size with aliases expanded.

    The composer calls :meth:`enter`/:meth:`leave` around lists and mappings, :meth:`spend`
    for each node, and :meth:`alias` for each ``*name``; anchors remember what they cost, so an
    alias costs what it stands for, in constant time.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.spent = 0
        self.anchored: dict[str, int] = {}

    def enter(self, line: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise LimitExceeded(line, f"lists and mappings are nested more than {MAX_NESTING} "
                                "deep here; storefront reads at most that",
                                "write the value with fewer levels")

    def leave(self) -> None:
        self.depth -= 1

    def spend(self, cost: int, line: int) -> None:
        self.spent += cost
        if self.spent > MAX_YAML_EXPANSION:
            raise LimitExceeded(
                line, f"with its aliases (*name) expanded, this YAML would be larger than "
                f"{MAX_YAML_EXPANSION:,} characters; storefront reads at most that",
                "write the values out instead of repeating anchors (&name) with aliases")

    def remember(self, anchor: str, since: int) -> None:
        """Record that the node anchored as ``anchor`` cost what was spent since ``since``."""
        self.anchored[anchor] = self.spent - since

    def alias(self, anchor: str, line: int) -> None:
        self.spend(self.anchored.get(anchor, 1), line)

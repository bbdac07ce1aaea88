"""Which formats the ``date`` filter takes, and what is wrong with one it does not.

The filter takes a name (``short``, ``medium``, ``long``, ``full``; ``datetime`` and
``long_datetime`` for a date with a time of day) or a CLDR pattern of day, month and year letters
(``"d MMMM y"``). Babel reads any text as a pattern: a letter it has a field for is that field and
any other is printed as it is, so ``date("giorno")`` printed "2460432iorno" (``g`` is the day's
Julian number), ``date("DD/MM/YYYY")`` as written for moment.js printed "122/05/2024" (``D`` is
the day of the year, ``Y`` the year of the week), and ``date("d 'di MMMM")`` dropped what follows
the unclosed quote. A format is checked here once, before Babel sees it: a pattern is what CLDR
says one is (any other letter goes in quotes), and one that shows the wrong day or year is
refused with the pattern the owner meant. Pure: the examples are the caller's to add.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

DATE_NAMES = ("short", "medium", "long", "full")
TIME_NAMES = ("datetime", "long_datetime")  # a date with a time of day only

# CLDR's field letters with the lengths Babel takes (None: any), as babel.dates.PATTERN_CHARS
_DATE_FIELDS: dict[str, tuple[int, ...] | None] = {
    "G": (1, 2, 3, 4, 5), "y": None, "Y": None, "u": None, "Q": (1, 2, 3, 4, 5),
    "q": (1, 2, 3, 4, 5), "M": (1, 2, 3, 4, 5), "L": (1, 2, 3, 4, 5), "w": (1, 2), "W": (1,),
    "d": (1, 2, 3), "D": (1, 2, 3), "F": (1,), "g": None, "E": (1, 2, 3, 4, 5, 6),
    "e": (1, 2, 3, 4, 5, 6), "c": (1, 3, 4, 5, 6)}
_TIME_FIELDS = frozenset("abBhHKkmsSAzZOvVxX")  # a time of day or a time zone
# strftime's directives (Python, PHP, Excel tutorials) and the CLDR field for each
_STRFTIME = {"d": "dd", "-d": "d", "e": "d", "m": "MM", "-m": "M", "Y": "y", "y": "yy",
             "B": "MMMM", "b": "MMM", "h": "MMM", "A": "EEEE", "a": "EEE", "j": "D",
             "H": "HH", "-H": "H", "M": "mm", "S": "ss", "I": "hh", "-I": "h", "p": "a"}
_DIRECTIVE = re.compile(r"%(-?[A-Za-z%])")
# the names as an owner may write them in Italian
_WORDS = {"breve": "short", "corto": "short", "corta": "short", "medio": "medium",
          "media": "medium", "lungo": "long", "lunga": "long", "completo": "full",
          "completa": "full", "esteso": "full", "estesa": "full", "intero": "full"}
QUOTE_WORDS = "a word in a pattern goes in single quotes, as in \"d 'di' MMMM y\""


@dataclass(frozen=True)
class FormatProblem:
    """What is wrong with a format: the message, the format the owner most likely meant ("" when
    none is sure), advice to add to the hint ("" for none), and whether the formats the filter
    has are worth listing (not for a quote left open: the rest of the pattern is right)."""

    message: str
    instead: str = ""
    advice: str = ""
    list_formats: bool = True


@functools.lru_cache(maxsize=256)
def date_format_problem(format_: str, with_time: bool) -> FormatProblem | None:
    """What is wrong with ``format_`` for a date (with a time of day, ``with_time``), or None."""
    if format_ in DATE_NAMES or (with_time and format_ in TIME_NAMES):
        return None
    if format_ in TIME_NAMES:
        return FormatProblem(f'the format "{format_}" shows a time of day, and this date has none')
    no_format = f'the filter "date" has no format "{format_}"'
    known = _WORDS.get(format_.strip().lower()) or next(
        (name for name in DATE_NAMES if name == format_.strip().lower()), "")
    if known:
        return FormatProblem(no_format, known)
    if _DIRECTIVE.search(format_):
        return _strftime(format_, with_time)
    tokens = _tokens(format_)
    if tokens is None:
        return FormatProblem(f"the format \"{format_}\" opens a quote (') it never closes",
                             advice="a word in a pattern goes between two single quotes, as in "
                                    "\"d 'di' MMMM y\" (write '' for a quote itself)",
                             list_formats=False)
    fields = [text for kind, text in tokens if kind == "field"]
    letters = "".join(re.findall(r"[A-Za-z]+", "".join(text for kind, text in tokens
                                                           if kind == "text")))
    if letters:
        advice = "" if format_.isalpha() else QUOTE_WORDS  # a pattern, not a name
        return FormatProblem(no_format, advice=advice)
    times = [field for field in fields if field[0] in _TIME_FIELDS]
    instead, advice = _month_meant(tokens)
    if instead:
        minutes = next(field for field in times if field[0] == "m")
        return FormatProblem(f'in the format "{format_}", "{minutes}" is the minutes of a time '
                             "of day, not the month", instead, advice)
    if times and not with_time:
        return FormatProblem(f'the format "{format_}" shows a time of day ("{times[0]}"), and this '
                             "date has none")
    if times:
        return FormatProblem(f'the format "{format_}" shows a time of day ("{times[0]}"), and a '
                             "pattern shows only the day",
                             advice='for the day with its time, write "datetime" or "long_datetime"')
    for field in fields:
        lengths = _DATE_FIELDS[field[0]]
        if lengths is not None and len(field) not in lengths:
            return FormatProblem(no_format, advice=f'"{field}" is no field of a date pattern')
    if not fields:
        return FormatProblem(f'the format "{format_}" shows nothing of the date')
    return _wrong_day_or_year(format_, tokens)


def _tokens(format_: str) -> list[tuple[str, str]] | None:
    """The pattern's parts: ("field", "dd"), ("quoted", "di"), ("text", " / "), as CLDR reads it
    (Babel's own reading, with what is in quotes kept apart); None for a quote never closed."""
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(format_):
        char = format_[index]
        if char == "'":
            if format_.startswith("''", index):
                tokens.append(("quoted", "'"))
                index += 2
                continue
            end = format_.find("'", index + 1)
            while end != -1 and format_.startswith("''", end):
                end = format_.find("'", end + 2)
            if end == -1:
                return None
            tokens.append(("quoted", format_[index + 1:end].replace("''", "'")))
            index = end + 1
        elif char in _DATE_FIELDS or char in _TIME_FIELDS:
            end = index
            while end < len(format_) and format_[end] == char:
                end += 1
            tokens.append(("field", format_[index:end]))
            index = end
        else:
            tokens.append(("text", char))
            index += 1
    return tokens


def _month_meant(tokens: list[tuple[str, str]]) -> tuple[str, str]:
    """The pattern meant by one whose "mm" (minutes) stands between a day and a year, as
    "dd/mm/yyyy" or the Italian "gg/mm/aaaa" (giorno, mese, anno): the format to write instead,
    and why, or two empty texts."""
    fields = {text[0] for kind, text in tokens if kind == "field"}
    if "m" not in fields or not fields - {"m"} <= {"d", "y", "g", "a"} or \
            not {"d", "g"} & fields or not {"y", "a"} & fields:
        return "", ""
    swap = {"m": "M", "g": "d", "a": "y"}
    instead = "".join(_written(kind, text if kind != "field" else swap.get(text[0], text[0]) * len(text))
                      for kind, text in tokens)
    return instead, "a pattern writes the day as d, the month as M (m is the minutes), the year as y"


def _written(kind: str, text: str) -> str:
    """A token as a pattern writes it (quoted text in quotes)."""
    return "'" + text.replace("'", "''") + "'" if kind == "quoted" else text


def _strftime(format_: str, with_time: bool) -> FormatProblem:
    """A pattern in strftime's way ("%d/%m/%Y"): the same in CLDR's, when each directive has
    one (its words quoted)."""
    parts: list[str] = []
    for index, piece in enumerate(_DIRECTIVE.split(format_)):
        if index % 2:
            if piece == "%":
                parts.append("%")
            elif piece in _STRFTIME:
                parts.append(_STRFTIME[piece])
            else:
                parts = []
                break
        elif piece:
            parts.append(re.sub(r"[A-Za-z']+", lambda m: "'" + m.group().replace("'", "''") + "'",
                                piece))
    instead = "".join(parts)
    if instead and date_format_problem(instead, with_time) is not None:
        instead = ""  # a time of day, or a directive CLDR has no field for
    return FormatProblem(
        f'the format "{format_}" is written the strftime way (%d, %m, %Y), which the filter '
        '"date" does not read', instead,
        "a pattern writes the day as d, the month as M, the year as y")


def _wrong_day_or_year(format_: str, tokens: list[tuple[str, str]]) -> FormatProblem | None:
    """A pattern as moment.js or Excel write one ("DD/MM/YYYY"): CLDR's D is the day of the
    year (122 on 1 May) and Y the year the week belongs to (2025 on 30 December 2024)."""
    fields = {field[0] for kind, field in tokens if kind == "field"}
    wrong = [field for kind, field in tokens if kind == "field"
             and ((field[0] == "D" and fields & {"M", "L"}) or (field[0] == "Y" and "w" not in fields))]
    if not wrong:
        return None
    meaning = {"D": "the day of the year (122 on 1 May)",
               "Y": "the year the week belongs to (2025 on 30 December 2024)"}
    said = " and ".join(f'"{field}" is {meaning[field[0]]}' for field in dict.fromkeys(wrong))
    instead = "".join(_written(kind, text.lower() if kind == "field" and text in wrong else text)
                      for kind, text in tokens)
    return FormatProblem(f'in the format "{format_}", {said}', instead,
                         "a pattern writes the day of the month as d and the year as y")

"""A template line's own work on values that do not allow it, in the owner's words.

A ``{% for %}`` over a value that is no list, or arithmetic on values that do not go together,
fails in the template line itself, and Python's words name its classes: "'DocumentView' object
is not iterable", "unsupported operand type(s) for +: 'decimal.Decimal' and 'str'", "can't
multiply sequence by non-int of type 'decimal.Decimal'". They are now 'the post ("post") is not
a list, so {% for %} cannot go through it' and 'a text and a number cannot be added (+)', with
what to write. Asked only once a page failed (see :func:`storefront.templateerrors.explain`).
"""

from __future__ import annotations

import re
from types import TracebackType

from storefront.templateerrors import Explained, frames, in_templates
from storefront.theme import Theme, template_label

_FOR_IN = re.compile(r"\bfor\s+[\w\s,]+?\s+in\s+(\w+)")  # the name a {% for %} goes through
_NOT_ITERABLE = re.compile(r"'([\w.]+)' object is not iterable")
_OPERANDS = re.compile(r"unsupported operand type\(s\) for ([^:]+): '([\w.]+)' and '([\w.]+)'")
_SEQUENCE_TIMES = re.compile(r"can't multiply sequence by non-int of type '([\w.]+)'")
_JOINED = re.compile(r'can only concatenate (\w+) \(not "([\w.]+)"\) to \w+')
_KINDS = {"str": "a text", "Markup": "a text", "int": "a number", "float": "a number",
          "Decimal": "a number", "bool": "true or false", "date": "a date", "datetime": "a date",
          "NoneType": "an empty value (none)", "list": "a list", "tuple": "a list",
          "dict": "a group of named values"}
_VERBS = {"+": "added", "-": "subtracted", "*": "multiplied", "/": "divided", "//": "divided",
          "%": "divided", "**": "raised to a power"}
# a price is an exact amount (Decimal) and 1.22 in a template a float: Python refuses to mix
# them, and "a number and a number cannot be multiplied" would say nothing
_EXACT_KINDS = {"Decimal": "an exact amount (such as a price)",
                "float": "a number with a decimal point (such as 1.22)"}
_EXACT_HINT = ("make the amount a plain number with |float first, as in "
               "{{ (product.price|float * 1.22)|price(product.currency) }}")
_ARITHMETIC_HINT = ("a number in quotes is a text: write it without them, or make a text a "
                    'number with |float or |int; to join texts, use ~ ({{ "n. " ~ 3 }})')


def operation_problem(message: str, chain: tuple[Theme, ...],
                       tb: TracebackType | None) -> Explained | None:
    """A {% for %} over a value that is no list, or arithmetic on values that do not go
    together, failed in the template line itself: Python's words name its classes
    ("'DocumentView' object is not iterable", "unsupported operand type(s) for +:
    'decimal.Decimal' and 'str'")."""
    from storefront.templatenames import owner_name

    entries = list(frames(tb))
    if not entries or not in_templates(chain)(entries[-1]):
        return None
    entry = entries[-1]
    place = (template_label(chain, entry.tb_frame.f_code.co_filename), entry.tb_lineno)
    if (found := _NOT_ITERABLE.fullmatch(message)) is not None:
        kind = found.group(1).rpartition(".")[2]
        held = {key: value for key, value in entry.tb_frame.f_locals.items()
                if type(value).__name__ == kind and not key.startswith("_")}
        written = _FOR_IN.findall(_line(entry.tb_frame.f_code.co_filename, entry.tb_lineno))
        if len(held) > 1:  # post and prev_post: the one the line's {% for %} names
            held = {key: value for key, value in held.items() if key in written}
        named = [owner_name(value) for value in held.values()]
        words = (f'{named[0][0]} ("{next(iter(held))}")' if len(held) == 1 and named[0]
                 else _KINDS.get(kind, "this value"))
        lists = [f'"{key}s"' for key in held if f"{key}s" in entry.tb_frame.f_locals]
        hint = (f"did you mean {lists[0]}?" if len(lists) == 1
                else "{% for %} goes through a list, such as posts or post.tags")
        return place, f"{words} is not a list, so {{% for %}} cannot go through it", hint
    if (found := _OPERANDS.fullmatch(message)) is not None:
        operator, left, right = found.groups()
        verb = _VERBS.get(operator.strip(), "put together")
        classes = {name.rpartition(".")[2] for name in (left, right)}
        if classes == {"Decimal", "float"}:  # {{ product.price * 1.22 }}: both are numbers
            kinds = [_EXACT_KINDS[name.rpartition(".")[2]] for name in (left, right)]
            return (place, f"{kinds[0]} and {kinds[1]} cannot be {verb} "
                    f"({operator.strip()})", _EXACT_HINT)
        kinds = [_KINDS.get(name.rpartition(".")[2], "a value of another kind")
                 for name in (left, right)]
        return (place, f"{kinds[0]} and {kinds[1]} cannot be {verb} ({operator.strip()})",
                _ARITHMETIC_HINT)
    if (found := _SEQUENCE_TIMES.fullmatch(message)) is not None:
        kind = _KINDS.get(found.group(1).rpartition(".")[2], "a value of another kind")
        return place, f"a text and {kind} cannot be multiplied (*)", _ARITHMETIC_HINT
    if (found := _JOINED.fullmatch(message)) is not None:
        first = _KINDS.get(found.group(1), "a value")
        other = _KINDS.get(found.group(2).rpartition(".")[2], "a value of another kind")
        return place, f"{first} and {other} cannot be added (+)", _ARITHMETIC_HINT
    return None


def _line(filename: str, line: int) -> str:
    """A line of a template file as it is now (linecache keeps a file's first reading)."""
    try:
        with open(filename, encoding="utf-8") as handle:
            return next((text for number, text in enumerate(handle, 1) if number == line), "")
    except (OSError, UnicodeDecodeError):
        return ""

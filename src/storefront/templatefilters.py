"""A storefront filter given a value it cannot use, in the owner's words.

The filters format what they are given with Babel and the standard library, whose errors are a
programmer's: ``{{ post.title|date }}`` failed with "AssertionError: " and nothing more,
``{{ post.date|date("zzz") }}`` with "AttributeError: 'datetime.date' object has no attribute
'tzname'", ``{{ post.title|price("EUR") }}`` with "InvalidOperation: [<class
'decimal.ConversionSyntax'>]". Once a page failed inside one of storefront's filters, called from
the template's line, the values it was given are compared with what it takes: 'the filter "date"
is given a text ("Ciao"), not a date', 'the filter "date" has no format "zzz"' (with the formats it
has, written out for the site's language), 'the filter "price" is given a text ("12,50"), not a
number'. A page that works never reaches this module.
"""

from __future__ import annotations

import inspect
import re
import types
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from storefront.formatting import Formatter
from storefront.templateerrors import Explained, frames, in_templates
from storefront.templatenames import describe
from storefront.templateundefined import IF_SET
from storefront.theme import Theme, template_label

if TYPE_CHECKING:
    import jinja2

_KINDS = {str: "a text", date: "a date", datetime: "a date", Decimal: "a number", int: "a number",
          float: "a number"}
_EXAMPLES = {"date": "{{ post.date|date }}",
             "price": "{{ product.current_price|price(product.currency) }}",
             "country": '{{ "DE"|country }}', "abs_url": "{{ post.url|abs_url }}",
             "isodate": "{{ post.date|isodate }}", "digits": "{{ site.business.phone|digits }}",
             "phone_href": "{{ site.business.phone|phone_href }}"}
_WANTED = {("price", "amount"): "a number"}  # it takes the digits of one as a text, too
_CURRENCY = 'write a currency code in quotes, such as "EUR", or product.currency'
_DATE_NAMES = ("short", "medium", "long", "full")
_TIME_NAMES = ("datetime", "long_datetime")  # a date with a time of day only
_DECIMAL_COMMA = re.compile(r"\s*-?\d+,\d+\s*")


def filter_problem(exc: Exception, tb: TracebackType | None, chain: tuple[Theme, ...],
                   env: jinja2.Environment) -> Explained | None:
    """A page failed inside one of storefront's filters, called from a template line: what in
    the values it was given it cannot use, or None. (A Jinja error, such as a missing field
    the filter used, says what it means already.)"""
    import jinja2

    if isinstance(exc, jinja2.TemplateError):
        return None
    entries = list(frames(tb))
    inside = in_templates(chain)
    last = max((i for i, entry in enumerate(entries) if inside(entry)), default=-1)
    if last < 0:
        return None
    ours: dict[types.CodeType, tuple[str, Any, Any]] = {}
    for name, value in sorted(env.filters.items(), key=lambda item: (len(item[0]), item[0])):
        function = inspect.unwrap(value)
        if getattr(function, "__module__", "").startswith("storefront.") and hasattr(function, "__code__"):
            ours.setdefault(function.__code__, (name, value, function))
    wrappers = {value.__code__ for _name, value, function in ours.values() if value is not function}
    for entry in entries[last + 1:]:
        code = entry.tb_frame.f_code
        if code in ours:
            name, _value, function = ours[code]
            label = template_label(chain, entries[last].tb_frame.f_code.co_filename)
            found = _values_problem(name, function, entry.tb_frame.f_locals)
            return ((label, entries[last].tb_lineno), *found) if found is not None else None
        if code not in wrappers:
            return None  # the template called something else, which failed
    return None


def _values_problem(name: str, function: Any, given: dict[str, Any]) -> tuple[str, str] | None:
    """The message and hint for the values the filter ``name`` was given, or None when they are
    not the problem."""
    try:
        parameters = list(inspect.signature(function).parameters)
        annotations = inspect.get_annotations(function, eval_str=True)
    except Exception:  # annotations it cannot read: nothing to compare with
        return None
    missing = _missing_value([given[p] for p in parameters if p in given])
    if missing is not None:
        return missing
    for position, parameter in enumerate(parameters):
        if parameter not in given:
            continue
        value, expected = given[parameter], _kinds(annotations.get(parameter))
        if expected and _kind(value) not in expected:
            wanted = _WANTED.get((name, parameter)) or " or ".join(
                sorted(k for k in expected if k != "none"))
            where = "" if position == 0 else f' for "{parameter}"'
            return (f'the filter "{name}" is given {describe(value)}{where}, not {wanted}',
                    _hint(name, parameter, position, value, wanted, given))
    if name == "price" and isinstance(given.get("amount"), str):
        amount = given["amount"]
        try:
            Decimal(amount)
        except InvalidOperation:
            hint = (f"write the amount with a dot: {amount.strip().replace(',', '.')}"
                    if _DECIMAL_COMMA.fullmatch(amount)
                    else _hint(name, "amount", 0, amount, "a number", given))
            return f'the filter "price" is given {describe(amount)}, not a number', hint
    if name == "date":
        return _date_format_problem(given)
    return None


def _missing_value(values: list[Any]) -> tuple[str, str] | None:
    """The words for a value the template read that is not there (``post.titel|price``), when
    the filter was given one: that, not the filter, is what went wrong."""
    import jinja2

    for value in values:
        if isinstance(value, jinja2.Undefined):
            try:
                value._fail_with_undefined_error()
            except jinja2.UndefinedError as missing:
                return str(missing), "; ".join(getattr(missing, "__notes__", ()))
    return None


def _kinds(annotation: Any) -> set[str]:
    """What a parameter takes, in words ("a date", "none"); empty when it takes anything."""
    if annotation is None:
        return set()
    if get_origin(annotation) in (Union, types.UnionType):
        parts = [_kinds(arg) for arg in get_args(annotation)]
        return set().union(*parts) if all(parts) else set()
    if annotation is type(None):
        return {"none"}
    kind = _KINDS.get(annotation)
    return {kind} if kind is not None else set()


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    return next((kind for type_, kind in _KINDS.items() if isinstance(value, type_)), "other")


def _hint(name: str, parameter: str, position: int, value: Any, wanted: str,
          given: dict[str, Any]) -> str:
    if value is None:
        return IF_SET
    if (name, parameter) == ("price", "currency"):
        return _CURRENCY
    if (name, parameter) == ("date", "format"):
        return _date_formats(given)
    example = _EXAMPLES.get(name) if position == 0 else None
    return f"it takes {wanted}, such as {example}" if example else f"it takes {wanted}"


def _date_format_problem(given: dict[str, Any]) -> tuple[str, str] | None:
    """The date filter was given a date and a text: the format is the problem (Babel fails on a
    pattern that asks for a time of day, or a time zone, of a day)."""
    value, format_ = given.get("value"), given.get("format")
    if not isinstance(value, date) or not isinstance(format_, str):
        return None
    if format_ in _DATE_NAMES or (format_ in _TIME_NAMES and isinstance(value, datetime)):
        return None  # a format the filter has: something else went wrong
    if format_ in _TIME_NAMES:
        return (f'the format "{format_}" shows a time of day, and this date has none',
                _date_formats(given))
    return f'the filter "date" has no format "{format_}"', _date_formats(given)


def _date_formats(given: dict[str, Any]) -> str:
    """The formats the date filter has, each with what it makes of the date it was given (in the
    site's language)."""
    formatter, value = given.get("self"), given.get("value")

    def shown(format_: str) -> str:
        if not isinstance(formatter, Formatter) or not isinstance(value, date):
            return f'"{format_}"'
        try:
            return f'"{format_}" ({formatter.date(value, format_)})'
        except Exception:  # the format without its example
            return f'"{format_}"'

    named = ", ".join(shown(n) for n in _DATE_NAMES[:-1]) + f" or {shown(_DATE_NAMES[-1])}"
    times = (f', "{_TIME_NAMES[0]}" or "{_TIME_NAMES[1]}" with the time of day'
             if isinstance(value, datetime) else "")
    return (f"write {named}{times}, or a pattern of day, month and year letters such as "
            f"{shown('d MMMM y')}")

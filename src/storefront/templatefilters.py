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

from babel.numbers import get_currency_name, get_currency_symbol

from storefront.dateformats import DATE_NAMES, TIME_NAMES, date_format_problem
from storefront.formatting import Formatter
from storefront.templateerrors import Explained, frames, in_templates
from storefront.templatenames import describe
from storefront.templateundefined import IF_SET
from storefront.theme import Theme, template_label
from storefront.values import currencies_in_use, known_currencies, parse_currency

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
    if name == "price" and isinstance(given.get("currency"), str):
        found = _currency_problem(given["currency"], given.get("self"))
        if found is not None:
            return found
    if name == "date":
        return _date_format_problem(given)
    return None


def _currency_problem(currency: str, formatter: Any) -> tuple[str, str] | None:
    """The price filter's currency is no code of a currency in use ("euro", "€", "ITL"): the
    code meant, when the text is the symbol or the name of only one in the site's language."""
    try:
        parse_currency(currency)
    except ValueError:
        pass
    else:
        return None
    locale = formatter.locale if isinstance(formatter, Formatter) else "en"
    text = currency.strip().casefold()
    meant = sorted({code for code in currencies_in_use() for where in (locale, "en")
                    if text in (get_currency_symbol(code, where).casefold(),
                                get_currency_name(code, locale=where).casefold())})
    hint = f'write "{meant[0]}"' if len(meant) == 1 else _CURRENCY
    if currency.strip().upper() in known_currencies():
        return (f'the filter "price" is given the currency "{currency}" '
                f"({get_currency_name(currency.strip().upper(), locale='en')}), no longer in use",
                _CURRENCY)
    return f'the filter "price" has no currency "{currency}"', hint


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
    """The date filter was given a date and a text: the format is the problem (see
    :mod:`storefront.dateformats`), said with the format to write instead when one is sure."""
    value, format_ = given.get("value"), given.get("format")
    if not isinstance(value, date) or not isinstance(format_, str):
        return None
    problem = date_format_problem(format_, isinstance(value, datetime))
    if problem is None:
        return None  # a format the filter has: something else went wrong
    if problem.instead:
        hint = f"write {_shown(given, problem.instead)}"
    else:
        hint = _date_formats(given) if problem.list_formats else ""
    return problem.message, "; ".join(part for part in (hint, problem.advice) if part)


def _date_formats(given: dict[str, Any]) -> str:
    """The formats the date filter has, each with what it makes of the date it was given (in the
    site's language)."""
    value = given.get("value")
    named = (", ".join(_shown(given, n) for n in DATE_NAMES[:-1])
             + f" or {_shown(given, DATE_NAMES[-1])}")
    times = (f', "{TIME_NAMES[0]}" or "{TIME_NAMES[1]}" with the time of day'
             if isinstance(value, datetime) else "")
    return (f"write {named}{times}, or a pattern of day, month and year letters such as "
            f"{_shown(given, 'd MMMM y')}")


def _shown(given: dict[str, Any], format_: str) -> str:
    """A format in quotes, with what it makes of the date the filter was given."""
    formatter, value = given.get("self"), given.get("value")
    if not isinstance(formatter, Formatter) or not isinstance(value, date):
        return f'"{format_}"'
    try:
        return f'"{format_}" ({formatter.date(value, format_)})'
    except Exception:  # the format without its example
        return f'"{format_}"'

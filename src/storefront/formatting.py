"""Locale-aware formatting of dates and money for templates, with Babel.

Pure. Babel carries the CLDR data, so "5 ottobre 2021" and "12,50 €" are what an Italian reader
expects, and "October 5, 2021" and "€12.50" what an English one does, without hand-written tables.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_currency

from storefront.dateformats import date_format_problem
from storefront.values import parse_currency


class Formatter:
    """Formatting functions bound to one locale and time zone."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale
        self.timezone = timezone
        # a site shows the same few hundred dates and prices on thousands of pages (listings,
        # related posts): each is formatted once (Babel takes ~30 µs a call)
        self._dates: dict[tuple[date, str], str] = {}
        self._prices: dict[tuple[str, str], str] = {}

    def date(self, value: date | datetime | None, format: str = "long") -> str:
        """``long`` -> "5 ottobre 2021"; also ``short``, ``medium``, ``full`` or a CLDR pattern.

        A format that is neither (see :mod:`storefront.dateformats`) is a ValueError: Babel
        would print letters it has no field for as they are, or the wrong day or year."""
        if value is None:
            return ""
        if isinstance(value, datetime) and format in ("datetime", "long_datetime"):
            return babel_format_datetime(value, "long" if format == "long_datetime" else "medium",
                                         tzinfo=value.tzinfo, locale=self.locale)
        day = value.date() if isinstance(value, datetime) else value  # what Babel formats
        key = (day, format)
        found = self._dates.get(key)
        if found is None:
            problem = date_format_problem(format, isinstance(value, datetime))
            if problem is not None:
                raise ValueError(problem.message)
            found = self._dates[key] = babel_format_date(day, format, locale=self.locale)
        return found

    def country(self, code: str) -> str:
        """``"DE"`` -> "Germania" in Italian, "Germany" in English (the code when unknown)."""
        return str(Locale.parse(self.locale).territories.get(code.upper(), code))

    def price(self, amount: Decimal | int | str, currency: str) -> str:
        """``Decimal("12.5"), "EUR"`` -> "12,50 €" in Italian, "€12.50" in English.

        The currency is the code of one in use, in any case, as ``currency:`` in the config and
        the front matter (another is a ValueError: Babel printed "12,50 euro" for "euro")."""
        value = Decimal(amount)
        key = (str(value), currency)  # by its digits: -0 and 0 print differently
        found = self._prices.get(key)
        if found is None:
            code = parse_currency(currency)
            found = self._prices[key] = format_currency(value, code, locale=self.locale)
        return found


def isodate(value: date | datetime | None) -> str:
    """ISO 8601 for ``datetime=`` attributes and structured data."""
    return value.isoformat() if value is not None else ""


def digits(value: str) -> str:
    """Only the digits of a phone number, for wa.me and tel: links."""
    return re.sub(r"\D", "", value)


def phone_href(value: str) -> str:
    """A phone number as written -> ``+390551234567`` for tel: and sms: links."""
    cleaned = digits(value)
    return ("+" + cleaned) if value.strip().startswith("+") else cleaned


# urllib.parse.quote's "%XX" for each ASCII character it does not leave as it is (with "/", as
# Jinja's urlencode asks); any other character is its UTF-8 bytes so quoted
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")
_ASCII_QUOTED = {code: f"%{code:02X}" for code in range(128) if chr(code) not in _SAFE}
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def urlencode(value: object) -> str:
    """Jinja's ``urlencode`` filter, the same text, for a string in one pass.

    Jinja quotes a string with :func:`urllib.parse.quote_from_bytes`, which maps each byte of the
    UTF-8 text through a Python call; the share links quote each title and address several
    times on every post and product page. Anything else (a dict, a list of pairs) goes to Jinja.
    """
    if isinstance(value, str):
        quoted = str.translate(value, _ASCII_QUOTED)  # a str, also for Markup (as Jinja)
        return quoted if quoted.isascii() else _NOT_ASCII.sub(_percent_encoded, quoted)
    from jinja2.filters import do_urlencode

    return do_urlencode(value)  # type: ignore[arg-type]


def _percent_encoded(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))

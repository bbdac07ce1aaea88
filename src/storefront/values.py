"""Parsers for the scalar values owners write in front matter: dates, prices, slugs, paths.

Pure. Each parser takes the raw text and raises ``ValueError`` with the second half of a sentence
("must be ..., got ...") that the schema mapper prefixes with the field name.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

_DATE_FORMS = "2024-05-01, 2024-05-01 10:30 or 2024-05-01T10:30:00+02:00"
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")


def parse_datetime(text: str) -> datetime:
    """Parse a date or date-time; the result is naive unless the text carries an offset."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time())
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", value):
            day, clock = re.split(r"[ T]", value)
            if len(clock.split(":")[0]) == 1:
                clock = "0" + clock
            return datetime.fromisoformat(f"{day}T{clock}")
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise ValueError(f'must be a date such as {_DATE_FORMS}, got "{text}"') from None
    return parsed


def localize(moment: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a naive datetime; convert an aware one to ``zone``."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def end_of_day(moment: datetime) -> datetime:
    """For a date given without a time: the first instant after that day."""
    if moment.time() == time() :
        return moment + timedelta(days=1)
    return moment


def date_from_filename(stem: str) -> tuple[datetime | None, str]:
    """Split ``2024-05-01-title`` into (date, "title"); (None, stem) without a date prefix."""
    match = _DATE_PREFIX.match(stem)
    if not match:
        return None, stem
    try:
        return datetime.combine(date.fromisoformat(match.group(1)), time()), match.group(2)
    except ValueError:
        return None, stem


def parse_price(text: str) -> Decimal:
    """A non-negative decimal amount such as 12.50 (no currency symbol, dot for decimals)."""
    value_text = text.strip()
    # ASCII digits only: Decimal() would also take "1e2", "-0", "+3", "1_000" or other scripts'
    # digits, and their odd forms ("1E+2", "-0") would reach the page and the JSON-LD offer.
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?|\.[0-9]+", value_text):
        raise ValueError(f'must be a number like 12.50, got "{text}"')
    value = Decimal(value_text)
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f'must have at most two decimals, got "{text}"')
    return value


def parse_slug(text: str) -> str:
    """A URL slug: lowercase letters, digits and dashes only (so it can never leave output/)."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", text):
        raise ValueError(
            f'must use only lowercase letters, digits and dashes (like "vaso-blu"), got "{text}"'
        )
    return text


def parse_template_name(text: str) -> str:
    """A page template such as ``landing.html``; partials (``_x``) and ``base`` are not pages."""
    if not re.fullmatch(r"[A-Za-z0-9-][A-Za-z0-9_-]*(\.html)?", text) or text.removesuffix(
            ".html") == "base":
        raise ValueError(f'must be a page template file name such as "landing.html", got "{text}"')
    return text if text.endswith(".html") else text + ".html"


def parse_link(text: str) -> str:
    """An image or link target: a site path (/assets/x.jpg), an assets path or an http(s) URL."""
    value = text.strip()
    if value.startswith(("http://", "https://")):
        return value
    if value.startswith("assets/"):
        value = "/" + value
    if not value.startswith("/") or ".." in value.split("/") or "\\" in value:
        raise ValueError(f'must be a path like /assets/photo.jpg or an https:// URL, got "{text}"')
    return value

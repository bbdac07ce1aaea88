"""Opening hours and holiday closures: structured data, what shows as of now, and when it changes.

Pure: config values and a moment in, plain values out. Opening hours become schema.org
``OpeningHoursSpecification`` objects (one per day group and time range) rather than only the
``openingHours`` strings; holiday closures (``business.closures``) become
``specialOpeningHoursSpecification`` entries (closed all day: opens = closes = 00:00, as search
engines expect). A closure shows on the site from :data:`NOTICE_DAYS` days before it starts
until its last day is over, so each of those moments is a date at which a rebuild changes the
site (:func:`closure_changes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from storefront.config import Business, Closure, OpeningHours
from storefront.values import split_opening_hours

NOTICE_DAYS = 30  # a closure is announced on every page this many days before it starts

_DAY_NAMES = {"Mo": "Monday", "Tu": "Tuesday", "We": "Wednesday", "Th": "Thursday",
              "Fr": "Friday", "Sa": "Saturday", "Su": "Sunday"}


def opening_hours_specification(hours: Iterable[OpeningHours]) -> list[dict[str, Any]]:
    """One ``OpeningHoursSpecification`` per line of opening hours and time range."""
    specs: list[dict[str, Any]] = []
    for entry in hours:
        if not entry.schema:
            continue
        days, ranges = split_opening_hours(entry.schema)
        for opens, closes in ranges:
            specs.append({"@type": "OpeningHoursSpecification",
                          "dayOfWeek": [_DAY_NAMES[day] for day in days],
                          "opens": opens, "closes": closes})
    return specs


def special_opening_hours_specification(closures: Iterable[Closure]) -> list[dict[str, Any]]:
    """Holiday closures as closed-all-day ``OpeningHoursSpecification`` entries."""
    return [{"@type": "OpeningHoursSpecification", "validFrom": c.start.isoformat(),
             "validThrough": c.until.isoformat(), "opens": "00:00", "closes": "00:00"}
            for c in closures]


def hours_jsonld(business: Business) -> dict[str, Any]:
    """The opening-hours part of the business's JSON-LD (empty when there is nothing to say)."""
    data: dict[str, Any] = {}
    regular = opening_hours_specification(business.opening_hours)
    if regular:
        data["openingHoursSpecification"] = regular
    special = special_opening_hours_specification(business.closures)
    if special:
        data["specialOpeningHoursSpecification"] = special
    return data


@dataclass(frozen=True)
class ClosureNotice:
    """A closure as templates show it."""

    start: date
    until: date
    note: str
    current: bool  # the shop is closed now
    soon: bool  # current, or starting within NOTICE_DAYS: announced on every page
    dates: str = ""  # the days as words for the site's locale ("10–25 agosto 2026"), set when shown


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), zone)


def visible_closures(closures: Iterable[Closure], now: datetime, zone: tzinfo) -> tuple[ClosureNotice, ...]:
    """The closures that are on now or still to come, earliest first."""
    notices = []
    for closure in sorted(closures, key=lambda c: (c.start, c.until)):
        begins = _midnight(closure.start, zone)
        ends = _midnight(closure.until + timedelta(days=1), zone)
        if ends <= now:
            continue
        current = begins <= now
        soon = current or begins - timedelta(days=NOTICE_DAYS) <= now
        notices.append(ClosureNotice(closure.start, closure.until, closure.note, current, soon))
    return tuple(notices)


def closure_changes(closures: Iterable[Closure], now: datetime, zone: tzinfo) -> list[datetime]:
    """The moments after ``now`` at which a closure's notice appears, turns current or goes."""
    moments = []
    for closure in closures:
        begins = _midnight(closure.start, zone)
        ends = _midnight(closure.until + timedelta(days=1), zone)
        moments += [m for m in (begins - timedelta(days=NOTICE_DAYS), begins, ends) if m > now]
    return moments

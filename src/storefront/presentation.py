"""What templates get besides the page context: asset URLs, the map link, holiday closures.

Part of rendering, pure. :func:`template_globals` returns the globals the default theme uses
for the things the shop shows on every page: ``asset_url('css/site.css')`` (the fingerprinted
URL of a theme static file, see :mod:`storefront.bundle`), ``map_url`` (the link of "open the
map", to the owner's choice of map, never an embed) and ``closures`` (holiday closures that are
on now or still to come, with their dates already written for the site's locale).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from babel import Locale
from babel.dates import format_date, format_skeleton

from storefront.bundle import ThemeAssets
from storefront.config import Business, SiteConfig
from storefront.hours import visible_closures
from storefront.urls import UrlBuilder


def template_globals(config: SiteConfig, urls: UrlBuilder, assets: ThemeAssets,
                     now: datetime) -> dict[str, Any]:
    """The globals above, for the Jinja environment of one build."""

    def asset_url(name: str) -> str:
        try:
            return urls.url("/static/" + assets.path(name))
        except KeyError:
            raise jinja2.TemplateRuntimeError(
                f'asset_url("{name}"): the theme has no static file {name}') from None

    zone = zoneinfo.ZoneInfo(config.timezone)
    locale = config.effective_locale
    closures = tuple(replace(notice, dates=closure_dates(notice.start, notice.until, locale))
                     for notice in visible_closures(config.business.closures, now, zone))
    return {"asset_url": asset_url, "map_url": map_url(config.business), "closures": closures}


def closure_dates(start: date, until: date, locale: str) -> str:
    """"24 dicembre 2026 – 6 gennaio 2027", "9 agosto – 22 agosto 2027", "August 9 – August 22, 2027".

    Month names in full (CLDR's own interval formats abbreviate them), the year once when both
    days share it; a line may break only after the dash, never inside a date or before the dash.
    """
    end = _unbroken(format_date(until, "long", locale=locale))
    if start == until:
        return end
    first = _unbroken(format_skeleton("MMMMd", start, locale=locale) if start.year == until.year
                      else format_date(start, "long", locale=locale))
    pattern = Locale.parse(locale).interval_formats.get(None) or "{0} – {1}"
    return pattern.replace("{0}\u2009", "{0}\u202f").replace("{0} ", "{0}\u202f").format(first, end)


def _unbroken(text: str) -> str:
    """One date never split over two lines ("24 dicembre" / "2026" would read badly)."""
    return text.replace(" ", "\u00a0")


def map_url(business: Business) -> str:
    """The "open the map" link: the owner's choice of map, at the coordinates or the address."""
    if business.map == "none":
        return ""
    if business.map.startswith("https://"):
        return business.map
    address = business.address
    query = ", ".join(part for part in (address.street, f"{address.postal_code} {address.city}".strip(),
                                        address.country) if part)
    geo = business.geo
    if geo is None and not (address.street or address.city):
        return ""
    if business.map == "google":
        where = f"{geo.latitude},{geo.longitude}" if geo else query
        return "https://www.google.com/maps/search/?" + urlencode({"api": "1", "query": where})
    if business.map == "apple":
        if geo:
            return "https://maps.apple.com/?" + urlencode(
                {"ll": f"{geo.latitude},{geo.longitude}", "q": business.name or query})
        return "https://maps.apple.com/?" + urlencode({"q": query})
    if geo:
        return (f"https://www.openstreetmap.org/?mlat={geo.latitude}&mlon={geo.longitude}"
                f"#map=17/{geo.latitude}/{geo.longitude}")
    return "https://www.openstreetmap.org/search?query=" + quote(query)

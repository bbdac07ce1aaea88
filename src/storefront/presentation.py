"""What templates get besides the page context: asset URLs, images, the map link, closures.

Stage 6, pure. A :class:`Presentation` is made once per build in the parent process (and pickled
to the workers): the URL of every theme static file by its logical name (see
:mod:`storefront.bundle`), the image catalog (what the image stage made of every image a page
shows: :mod:`storefront.picture`) and the holiday closures on view as of the build time, their
dates already written for the site's locale. Templates reach them through tracked calls,
``asset_url('css/site.css')``, ``image('/assets/foto.jpg')`` (also behind ``picture()`` and the
images of Markdown text) and ``closures()``, so a page records the answers it used and is
rendered again exactly when one of them changes: a stylesheet edit gives ``site.css`` a new name,
a replaced photo gives its copies new names, the clock crossing the day a closure's notice
appears, starts or ends changes ``closures()``.
``map_url`` (the "open the map" link, to the owner's choice of map, never an embed) depends only
on the config.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from storefront.config import Business
from storefront.deps import tracked
from storefront.hours import ClosureNotice
from storefront.picture import ImageCatalog
from storefront.urls import STATIC_FOLDER, UrlBuilder


@dataclass(frozen=True)
class Presentation:
    """The build-wide answers behind ``asset_url(name)``, ``image(path)`` and ``closures()``."""

    assets: tuple[tuple[str, str], ...] = ()  # (logical name, site URL), sorted
    closures: tuple[ClosureNotice, ...] = ()
    images: ImageCatalog = field(default_factory=ImageCatalog)

    @classmethod
    def of(cls, names: Mapping[str, str], urls: UrlBuilder, closures: tuple[ClosureNotice, ...],
           locale: str, images: ImageCatalog | None = None) -> Presentation:
        """``names`` maps logical names to output names below ``static/``."""
        assets = tuple(sorted((name, urls.url(f"/{STATIC_FOLDER}/{output}"))
                              for name, output in names.items()))
        shown = tuple(replace(c, dates=closure_dates(c.start, c.until, locale)) for c in closures)
        return cls(assets, shown, images if images is not None else ImageCatalog())

    def asset(self, name: str) -> str | None:
        """The URL of a theme static file, or None when the theme has no such file."""
        return dict(self.assets).get(name)

    def answers(self) -> dict[str, Callable[[str], Any]]:
        """The current answer of each tracked call, by name (what fingerprints compare)."""
        return {"asset_url": self.asset, "closures": lambda _argument: self.closures,
                "image": self.images.info}

    def template_globals(self) -> dict[str, Callable[..., Any]]:
        """``asset_url``, ``image`` and ``closures`` for templates; each call is recorded for the
        page."""
        assets = dict(self.assets)

        def asset_url(name: str) -> str:
            found = assets.get(name)
            if found is None:
                import jinja2

                raise jinja2.TemplateRuntimeError(
                    f'asset_url("{name}"): the theme has no static file {name}')
            return found

        closures = tracked("closures", lambda _argument: self.closures)
        return {"asset_url": tracked("asset_url", asset_url), "closures": lambda: closures(""),
                "image": tracked("image", self.images.info)}


def closure_dates(start: date, until: date, locale: str) -> str:
    """"24 dicembre 2026 – 6 gennaio 2027", "9 agosto – 22 agosto 2027", "August 9 – August 22, 2027".

    Month names in full (CLDR's own interval formats abbreviate them), the year once when both
    days share it; a line may break only after the dash, never inside a date or before the dash.
    """
    from babel import Locale
    from babel.dates import format_date, format_skeleton

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

"""The Google Merchant Center product feed: RSS 2.0 with the ``g:`` namespace.

Pure: products and config in, bytes and problems out. Follows Merchant Center's product data
specification: attribute values in English (``in_stock``, ``new``), prices as ``12.50 EUR``,
dates as ``YYYY-MM-DDThh:mm±hhmm``, ids (the SKU, else the slug) unique and at most 50
characters, identifiers (``gtin``/``mpn``) or ``identifier_exists: no``, and shipping from the
shop-wide ``shipping:`` policy. The feed is written only with ``feeds: {merchant: true}``.

A product the specification would refuse is left out, with a warning that says what to add: one
without a photo (``image_link`` is required), a preorder without ``availability_date``, one at
price 0 (Merchant Center disapproves it; a free item is fine on the site itself, so the build
does not fail: it listed ``<g:price>0.00 EUR</g:price>`` without a word). The
photos linked are the plain copies the image stage made (``photo``: the largest JPEG or PNG
copy, at most 1600 pixels wide by default, without metadata), so an iPhone's HEIC photo is
listed as a JPEG.
Discontinued products are left out silently: they are no longer for sale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storefront.config import SiteConfig
from storefront.documents import Product, field_line
from storefront.errors import ContentError, error_at
from storefront.feeds import EPOCH, GAttributes, Photo, same_photo
from storefront.markdown import plain_text
from storefront.urls import UrlBuilder

MERCHANT_FEED = "/merchant.xml"
MAX_ID = 50
MAX_TITLE = 150
MAX_DESCRIPTION = 5000
MAX_ADDITIONAL_IMAGES = 10
_RSS_CORE = ("title", "link", "description")
#: Photo formats Merchant Center reads (an SVG drawing is not a product photo to it).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
AVAILABILITY = {"in_stock": "in_stock", "out_of_stock": "out_of_stock", "preorder": "preorder"}


@dataclass(frozen=True)
class MerchantCheck:
    """Which products the feed lists, and the problems found on the way."""

    listed: tuple[Product, ...]
    warnings: tuple[ContentError, ...]  # products left out, and why
    errors: tuple[ContentError, ...]  # ids the feed cannot use
    recheck: datetime | None = None  # the next moment a warning appears (a preorder's date passes)


def merchant_id(product: Product) -> str:
    """The item id: the SKU, or the slug for a product without one."""
    return product.sku or product.slug


def check_products(products: Iterable[Product], now: datetime,
                   photo: Photo = same_photo) -> MerchantCheck:
    """Decide what the feed lists; an id that is too long or used twice is an error."""
    listed: list[Product] = []
    warnings: list[ContentError] = []
    errors: list[ContentError] = []
    owners: dict[str, Product] = {}
    dates: list[datetime] = []
    for product in products:
        item_id = merchant_id(product)
        key = "sku" if product.sku else "slug"
        if len(item_id) > MAX_ID:
            errors.append(error_at(product.source, field_line(product, key),
                                   f"the {key} is {len(item_id)} characters long, but Google's "
                                   f"product ids may have at most {MAX_ID}",
                                   "shorten it (the merchant feed uses it as the product id)"))
        elif item_id in owners:  # at both files: either may be the one to change
            first = owners[item_id]
            for mine, theirs in ((product, first), (first, product)):
                errors.append(error_at(
                    mine.source, field_line(mine, "sku" if mine.sku else "slug"),
                    f'the product id "{item_id}" is also used by {theirs.source}',
                    "give each product its own sku: (the merchant feed's id)"))
        owners.setdefault(item_id, product)
        if product.availability == "discontinued":
            continue
        if not product.price:  # a free sample or catalogue is fine on the site, not to Google
            warnings.append(error_at(
                product.source, field_line(product, "price"),
                "left out of the merchant feed: Google refuses a price of 0 (it lists no free "
                "products)",
                "if the product is sold, write its price, like price: 12.50; a free one stays on "
                "the site, only the merchant feed leaves it out"))
            continue
        if not photos(product, photo):
            warnings.append(error_at(product.source, field_line(product, "images"),
                                     "left out of the merchant feed: Google needs a photo of the "
                                     "product (JPEG, PNG, GIF, WebP, BMP or TIFF)",
                                     "add images: [/assets/prodotti/foto.jpg]"))
            continue
        if product.availability == "preorder" and product.availability_date is None:
            warnings.append(error_at(
                product.source, field_line(product, "availability"),
                "left out of the merchant feed: Google needs the date a preorder ships",
                "add availability_date: with the day it ships, written YYYY-MM-DD (at most a year "
                "ahead)"))
            continue
        if product.availability == "preorder" and product.availability_date is not None:
            if product.availability_date <= now:
                warnings.append(error_at(
                    product.source, field_line(product, "availability_date"),
                    f"the availability_date {product.availability_date:%Y-%m-%d} has passed, but "
                    "the product is still a preorder", "set the new date, or availability: in_stock"))
            else:
                dates.append(product.availability_date)
        listed.append(product)
    return MerchantCheck(tuple(listed), tuple(warnings), tuple(errors), min(dates, default=None))


def photos(product: Product, photo: Photo = same_photo) -> list[str]:
    """The site URLs of the product's photos as the feed links them (see ``photo``), those in
    a format Merchant Center reads (an address without a file extension, as image services use,
    is taken as it is)."""
    def readable(image: str) -> bool:
        name = image.split("?", 1)[0].rsplit("/", 1)[-1].lower()
        return "." not in name or name.endswith(IMAGE_SUFFIXES)

    return [shown for shown in map(photo, product.images) if readable(shown)]


def google_date(moment: datetime) -> str:
    """``2024-12-01T00:00+0100``: ISO 8601 as Merchant Center writes it (minutes, zone offset)."""
    return moment.strftime("%Y-%m-%dT%H:%M%z")


def money(amount: Any, currency: str) -> str:
    """``12.50 EUR``: two decimals, a dot, the ISO 4217 code."""
    return f"{amount:.2f} {currency}"


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.-–")


def item_attributes(product: Product, config: SiteConfig, urls: UrlBuilder,
                    now: datetime, photo: Photo = same_photo) -> GAttributes:
    """The ``g:`` attributes of one listed product, in the specification's order."""
    images = [urls.absolute(image) for image in photos(product, photo)]
    attributes: list[tuple[str, Any]] = [
        ("id", merchant_id(product)),
        ("title", _cut(product.title, MAX_TITLE)),
        ("description", description(product)),
        ("link", urls.absolute(product.url)),
        ("image_link", images[0]),
        *(("additional_image_link", image) for image in images[1:1 + MAX_ADDITIONAL_IMAGES]),
        ("availability", AVAILABILITY[product.availability]),
    ]
    if product.availability == "preorder" and product.availability_date is not None:
        attributes.append(("availability_date", google_date(product.availability_date)))
    attributes.append(("price", money(product.price, product.currency)))
    if product.on_sale and product.sale_price is not None:
        attributes.append(("sale_price", money(product.sale_price, product.currency)))
        effective = sale_dates(product, now)
        if effective:
            attributes.append(("sale_price_effective_date", effective))
    if product.category is not None:
        attributes.append(("product_type", product.category.name))
    attributes.append(("brand", product.brand or config.business_name))
    attributes.append(("condition", product.condition))
    if product.gtin:
        attributes.append(("gtin", product.gtin))
    if product.mpn:
        attributes.append(("mpn", product.mpn))
    if not (product.gtin or product.mpn):
        attributes.append(("identifier_exists", "no"))
    attributes.extend(shipping_attributes(product, config))
    return tuple(attributes)


def sale_dates(product: Product, now: datetime) -> str:
    """``sale_price_effective_date`` of a running sale with an end: from the start of the build
    day to the end of the sale ("" for any other product). The only part of the feed that
    depends on the build time."""
    if not (product.on_sale and product.sale_price is not None and product.sale_ends is not None):
        return ""
    day_start = now.astimezone(product.sale_ends.tzinfo).replace(
        hour=0, minute=0, second=0, microsecond=0)
    return f"{google_date(day_start)}/{google_date(product.sale_ends)}"


def description(product: Product) -> str:
    """Plain text: the description, else the summary, else the title (at most 5000 characters)."""
    text = plain_text(str(product.content_html)) or plain_text(str(product.summary_html))
    return _cut(text or product.title, MAX_DESCRIPTION)


def shipping_attributes(product: Product, config: SiteConfig) -> GAttributes:
    """One ``g:shipping`` per destination country, and its free-shipping threshold.

    Rates are in the site currency; a product priced in another currency gets none (Merchant
    Center then uses the account's shipping settings) rather than a rate in the wrong currency.
    """
    shipping = config.shipping
    if shipping is None or product.currency != config.currency:
        return ()
    found: list[tuple[str, Any]] = []
    handling = shipping.handling_days
    for zone in shipping.zones:
        for country in zone.countries:
            service = (("service", zone.name),) if zone.name else ()
            found.append(("shipping", (
                ("country", country), *service, ("price", money(zone.price, config.currency)),
                ("min_handling_time", str(handling.min)), ("max_handling_time", str(handling.max)),
                ("min_transit_time", str(zone.transit_days.min)),
                ("max_transit_time", str(zone.transit_days.max)))))
    for zone in shipping.zones:
        if zone.free_over is not None:
            found.extend(("free_shipping_threshold", (
                ("country", country), ("price_threshold", money(zone.free_over, config.currency))))
                for country in zone.countries)
    return tuple(found)


def render_merchant_feed(products: Sequence[Product], config: SiteConfig, urls: UrlBuilder,
                         now: datetime, photo: Photo = same_photo) -> bytes:
    """The feed of the listed products (see :func:`check_products`), in catalogue order."""
    from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

    from storefront.xmlfeeds import GoogleEntryExtension, GoogleExtension

    home = urls.absolute(urls.url("/"))
    feed = FeedGenerator()
    feed.register_extension("g", GoogleExtension, GoogleEntryExtension)
    feed.title(config.title)
    feed.description(config.description or config.title)
    feed.link(href=urls.absolute(urls.url(MERCHANT_FEED)), rel="self", type="application/rss+xml")
    feed.link(href=home, rel="alternate")
    feed.language(config.language)
    feed.generator("storefront")
    changes = [p.updated or p.date for p in products if (p.updated or p.date) is not None]
    feed.lastBuildDate(max(changes, default=EPOCH))  # type: ignore[type-var]
    for product in reversed(products):  # feedgen prepends
        entry = feed.add_entry()
        attributes = item_attributes(product, config, urls, now, photo)
        core = dict(attributes)  # the RSS 2.0 elements Merchant Center reads these three from
        entry.title(core["title"])
        entry.link(href=core["link"])
        entry.description(core["description"])
        entry.g.attributes = tuple(a for a in attributes if a[0] not in _RSS_CORE)
    return bytes(feed.rss_str(pretty=True))

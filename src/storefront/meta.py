"""The front-matter schemas: exactly the keys an owner may write in each kind of document.

Stage 3b, pure. Each kind has a ``*Meta`` dataclass that mirrors the front-matter keys of its
files, checked by :mod:`storefront.schema` (so unknown keys and wrong types are errors with a
line, and each field's documentation is the hint an owner sees). :mod:`storefront.reader` turns
a ``*Meta`` into the model the templates read (:mod:`storefront.documents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from storefront.documents import Availability, Condition
from storefront.limits import MAX_TITLE_LENGTH
from storefront.schema import field_doc
from storefront.values import (
    parse_alias,
    parse_currency,
    parse_datetime,
    parse_day_or_moment,
    parse_focus,
    parse_gtin,
    parse_link,
    parse_price,
    parse_slug,
    parse_template_name,
)

_DATE = {"parse": parse_datetime}
_SLUG = {"parse": parse_slug}
_LINK = {"parse": parse_link}
_TITLE = {"max_length": MAX_TITLE_LENGTH}
_FOCUS = field_doc("focal point of the share card", parse=parse_focus)
_ALIASES = {"parse": parse_alias, "hint": "list the page's old addresses, like [/blog/vecchio-titolo/]"}


def _short_text(limit: int) -> dict[str, object]:
    """Field metadata for a one-line value of at most ``limit`` characters."""

    def parse(text: str) -> str:
        value = " ".join(text.split())
        if not value or len(value) > limit:
            raise ValueError(f'must be 1 to {limit} characters, got "{text}"')
        return value

    return {"parse": parse}


def _noindex(default: str) -> dict[str, object]:
    return field_doc(f"true: ask search engines not to index the page and leave it out of the "
                     f"sitemap ({default})")


def _aliases() -> dict[str, object]:
    return field_doc("old addresses", **_ALIASES)


@dataclass(frozen=True)
class PostMeta:
    title: str = field(metadata=field_doc("the post title", **_TITLE))
    date: datetime | None = field(
        default=None, metadata=field_doc("publication date (or from a YYYY-MM-DD- file name)", **_DATE)
    )
    updated: datetime | None = field(default=None, metadata=field_doc("last update", **_DATE))
    summary: str = field(default="", metadata=field_doc("short summary for listings and feeds"))
    tags: tuple[str, ...] = field(default=(), metadata=field_doc("list of tags"))
    author: str = field(default="", metadata=field_doc("author name (default: site author)"))
    image: str | None = field(default=None, metadata=field_doc("cover / share image", **_LINK))
    image_alt: str = field(default="", metadata=field_doc("text alternative of the image"))
    image_focus: str = field(default="", metadata=_FOCUS)
    draft: bool = field(default=False, metadata=field_doc("true: not published"))
    slug: str | None = field(default=None, metadata=field_doc("URL name", **_SLUG))
    expires: datetime | None = field(default=None, metadata=field_doc("unpublished after", **_DATE))
    description: str = field(default="", metadata=field_doc("search/share description"))
    noindex: bool = field(default=False, metadata=_noindex("default false"))
    aliases: tuple[str, ...] = field(default=(), metadata=_aliases())


@dataclass(frozen=True)
class ProductMeta:
    title: str = field(metadata=field_doc("product name", **_TITLE))
    price: Decimal = field(
        metadata=field_doc(
            "price, a number like 12.50",
            parse=parse_price,
            hint="write the price without the currency symbol, with a dot for decimals; "
            "the currency comes from `currency:` or storefront.yaml",
        )
    )
    currency: str | None = field(
        default=None, metadata=field_doc("ISO 4217 code, e.g. EUR", parse=parse_currency)
    )
    sku: str = field(default="", metadata=field_doc("stock-keeping unit / product code"))
    availability: Availability = field(default="in_stock", metadata=field_doc("stock status"))
    images: tuple[str, ...] = field(default=(), metadata=field_doc("list of images", **_LINK))
    image_alt: str = field(default="", metadata=field_doc("text alternative of the images"))
    image_focus: str = field(default="", metadata=_FOCUS)
    sale_price: Decimal | None = field(
        default=None, metadata=field_doc("discounted price", parse=parse_price)
    )
    sale_until: date | datetime | None = field(
        default=None, metadata=field_doc("last day of the sale (included), or when it ends",
                                         parse=parse_day_or_moment)
    )
    category: str = field(default="", metadata=field_doc("catalogue category"))
    tags: tuple[str, ...] = field(default=(), metadata=field_doc("list of tags"))
    order: int = field(default=0, metadata=field_doc("position in its category"))
    summary: str = field(default="", metadata=field_doc("one-line summary"))
    draft: bool = field(default=False, metadata=field_doc("true: not published"))
    slug: str | None = field(default=None, metadata=field_doc("URL name", **_SLUG))
    featured: bool = field(default=True, metadata=field_doc(
        "may appear on the home page (while in stock or made to order)"))
    pinned: bool = field(default=False, metadata=field_doc(
        "always on the home page, before the others, even when sold out or discontinued"))
    brand: str = field(default="", metadata=field_doc(
        "brand (default: the business name)", **_short_text(70)))
    gtin: str = field(default="", metadata=field_doc(
        "barcode number (EAN, UPC, ISBN)", parse=parse_gtin,
        hint="copy every digit printed under the barcode; leave gtin out when the product has "
             "none (handmade pieces usually have none)"))
    mpn: str = field(default="", metadata=field_doc(
        "manufacturer part number", **_short_text(70)))
    condition: Condition = field(default="new", metadata=field_doc(
        "new, refurbished or used", hint="write it in English: new, refurbished or used"))
    date: datetime | None = field(default=None, metadata=field_doc(
        "when the product went on sale (products feed)", **_DATE))
    updated: datetime | None = field(default=None, metadata=field_doc("last change", **_DATE))
    availability_date: datetime | None = field(default=None, metadata=field_doc(
        "when a preorder ships", **_DATE))
    noindex: bool = field(default=False, metadata=_noindex("default false"))
    aliases: tuple[str, ...] = field(default=(), metadata=_aliases())


@dataclass(frozen=True)
class FaqMeta:
    question: str = field(metadata=field_doc("the question", **_TITLE))
    group: str = field(default="", metadata=field_doc("heading the question is listed under"))
    order: int = field(default=0, metadata=field_doc("position in its group"))
    draft: bool = field(default=False, metadata=field_doc("true: not published"))
    aliases: tuple[str, ...] = field(default=(), metadata=_aliases())


@dataclass(frozen=True)
class IssueMeta:
    """An issue of the newsletter (``content/newsletter/``), written like a post."""

    title: str = field(metadata=field_doc("the issue's title", **_TITLE))
    date: datetime | None = field(
        default=None, metadata=field_doc("date of the issue (or from a YYYY-MM-DD- file name)", **_DATE)
    )
    subject: str = field(default="", metadata=field_doc("e-mail subject (default: the title)",
                                                           **_TITLE))
    summary: str = field(default="", metadata=field_doc("one line shown before the mail is opened"))
    image: str | None = field(default=None, metadata=field_doc("cover image", **_LINK))
    image_alt: str = field(default="", metadata=field_doc("text alternative of the image"))
    slug: str | None = field(default=None, metadata=field_doc("URL name", **_SLUG))
    sent: datetime | None = field(
        default=None, metadata=field_doc("set by newsletter send: when it went out", **_DATE)
    )
    draft: bool = field(default=False, metadata=field_doc("true: not sent, not published"))
    noindex: bool = field(default=False, metadata=_noindex("default false"))
    aliases: tuple[str, ...] = field(default=(), metadata=_aliases())


@dataclass(frozen=True)
class PageMeta:
    title: str = field(metadata=field_doc("page title", **_TITLE))
    slug: str | None = field(default=None, metadata=field_doc("URL name", **_SLUG))
    menu: int | None = field(default=None, metadata=field_doc("position in the main menu"))
    template: str = field(
        default="page.html", metadata=field_doc("template name", parse=parse_template_name)
    )
    draft: bool = field(default=False, metadata=field_doc("true: not published"))
    description: str = field(default="", metadata=field_doc("search/share description"))
    form: str | None = field(default=None, metadata=field_doc("a form from storefront.yaml"))
    image: str | None = field(default=None, metadata=field_doc("share image", **_LINK))
    image_focus: str = field(default="", metadata=_FOCUS)
    noindex: bool | None = field(default=None, metadata=_noindex(
        "default false, true for the forms' success pages"))
    aliases: tuple[str, ...] = field(default=(), metadata=_aliases())
    policies: bool = field(default=False, metadata=field_doc(
        "true: show the shipping and returns policies from storefront.yaml below the text"))

"""Per-kind document models and the schemas of their front matter.

Stage 3b, pure: ``parse_document(source, config)`` turns one file into one typed model. Each kind
has a ``*Meta`` dataclass that mirrors exactly the front-matter keys an owner may write (checked by
:mod:`storefront.schema`, so unknown keys and wrong types are errors with a line), and a model the
templates read. Everything here depends only on the file and the config, so results can be cached
by content hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from markupsafe import Markup

from storefront.markdown import slugify as slugify
from storefront.schema import field_doc
from storefront.values import (
    end_of_day,
    parse_currency,
    parse_datetime,
    parse_link,
    parse_price,
    parse_slug,
    parse_template_name,
)

Availability = Literal["in_stock", "out_of_stock", "preorder", "discontinued"]

_DATE = {"parse": parse_datetime}
_SLUG = {"parse": parse_slug}
_LINK = {"parse": parse_link}


# -- front matter schemas ----------------------------------------------------------------------


@dataclass(frozen=True)
class PostMeta:
    title: str = field(metadata=field_doc("the post title"))
    date: datetime | None = field(
        default=None, metadata=field_doc("publication date (or from a YYYY-MM-DD- file name)", **_DATE)
    )
    updated: datetime | None = field(default=None, metadata=field_doc("last update", **_DATE))
    summary: str = field(default="", metadata=field_doc("short summary for listings and feeds"))
    tags: tuple[str, ...] = field(default=(), metadata=field_doc("list of tags"))
    author: str = field(default="", metadata=field_doc("author name (default: site author)"))
    image: str | None = field(default=None, metadata=field_doc("cover / share image", **_LINK))
    image_alt: str = field(default="", metadata=field_doc("text alternative of the image"))
    draft: bool = field(default=False, metadata=field_doc("true: not published"))
    slug: str | None = field(default=None, metadata=field_doc("URL name", **_SLUG))
    expires: datetime | None = field(default=None, metadata=field_doc("unpublished after", **_DATE))
    description: str = field(default="", metadata=field_doc("search/share description"))


@dataclass(frozen=True)
class ProductMeta:
    title: str = field(metadata=field_doc("product name"))
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
    sale_price: Decimal | None = field(
        default=None, metadata=field_doc("discounted price", parse=parse_price)
    )
    sale_until: datetime | None = field(
        default=None, metadata=field_doc("last day of the sale (included)", **_DATE)
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


@dataclass(frozen=True)
class FaqMeta:
    question: str = field(metadata=field_doc("the question"))
    group: str = field(default="", metadata=field_doc("heading the question is listed under"))
    order: int = field(default=0, metadata=field_doc("position in its group"))
    draft: bool = field(default=False, metadata=field_doc("true: not published"))


@dataclass(frozen=True)
class IssueMeta:
    """An issue of the newsletter (``content/newsletter/``), written like a post."""

    title: str = field(metadata=field_doc("the issue's title"))
    date: datetime | None = field(
        default=None, metadata=field_doc("date of the issue (or from a YYYY-MM-DD- file name)", **_DATE)
    )
    subject: str = field(default="", metadata=field_doc("e-mail subject (default: the title)"))
    summary: str = field(default="", metadata=field_doc("one line shown before the mail is opened"))
    image: str | None = field(default=None, metadata=field_doc("cover image", **_LINK))
    image_alt: str = field(default="", metadata=field_doc("text alternative of the image"))
    slug: str | None = field(default=None, metadata=field_doc("URL name", **_SLUG))
    sent: datetime | None = field(
        default=None, metadata=field_doc("set by newsletter send: when it went out", **_DATE)
    )
    draft: bool = field(default=False, metadata=field_doc("true: not sent, not published"))


@dataclass(frozen=True)
class PageMeta:
    title: str = field(metadata=field_doc("page title"))
    slug: str | None = field(default=None, metadata=field_doc("URL name", **_SLUG))
    menu: int | None = field(default=None, metadata=field_doc("position in the main menu"))
    template: str = field(
        default="page.html", metadata=field_doc("template name", parse=parse_template_name)
    )
    draft: bool = field(default=False, metadata=field_doc("true: not published"))
    description: str = field(default="", metadata=field_doc("search/share description"))
    form: str | None = field(default=None, metadata=field_doc("a form from storefront.yaml"))
    image: str | None = field(default=None, metadata=field_doc("share image", **_LINK))


# -- models the templates read -----------------------------------------------------------------

# Links and images written in a body, each with the line it is on; front-matter keys and lines.
Links = tuple[tuple[str, int], ...]
Lines = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Tag:
    name: str
    slug: str
    url: str


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    url: str


@dataclass(frozen=True)
class Post:
    source: str
    title: str
    date: datetime
    updated: datetime | None
    summary_html: Markup
    content_html: Markup
    has_more: bool
    tags: tuple[Tag, ...]
    author: str
    image: str
    image_alt: str
    slug: str
    url: str
    reading_minutes: int
    draft: bool
    expires: datetime | None
    description: str
    links: Links = ()
    lines: Lines = ()
    scheduled: bool = False  # set by the site model: dated after the build time


@dataclass(frozen=True)
class Product:
    source: str
    title: str
    slug: str
    url: str
    price: Decimal
    currency: str
    sku: str
    availability: Availability
    images: tuple[str, ...]
    image_alt: str
    sale_price: Decimal | None
    sale_until: datetime | None
    category: Category | None
    tags: tuple[Tag, ...]
    order: int
    summary: str
    summary_html: Markup
    content_html: Markup
    draft: bool
    featured: bool
    on_sale: bool = False
    links: Links = ()
    lines: Lines = ()
    pinned: bool = False
    sale_note: bool = False  # set by the site model: the sale ends within a year, worth announcing

    @property
    def available(self) -> bool:
        """Can be ordered now: in stock or made to order."""
        return self.availability in ("in_stock", "preorder")

    @property
    def sale_ends(self) -> datetime | None:
        """The first instant the sale no longer runs: a date alone means "through that day"."""
        return end_of_day(self.sale_until) if self.sale_until is not None else None

    @property
    def current_price(self) -> Decimal:
        if self.on_sale and self.sale_price is not None:
            return self.sale_price
        return self.price


@dataclass(frozen=True)
class FaqEntry:
    source: str
    question: str
    group: str
    order: int
    answer_html: Markup
    anchor: str
    draft: bool
    links: Links = ()
    lines: Lines = ()


@dataclass(frozen=True)
class Page:
    source: str
    title: str
    slug: str
    url: str
    menu: int | None
    template: str
    description: str
    content_html: Markup
    form: str | None
    image: str
    draft: bool
    links: Links = ()
    lines: Lines = ()


@dataclass(frozen=True)
class NewsletterIssue:
    """An issue of the newsletter: published on the site once it was sent."""

    source: str
    title: str
    subject: str
    date: datetime
    summary: str
    image: str
    image_alt: str
    slug: str
    url: str
    sent: datetime | None
    draft: bool
    content_html: Markup
    description: str
    links: Links = ()
    lines: Lines = ()


Document = Post | Product | FaqEntry | Page | NewsletterIssue
#: Every kind of document, for the stages that treat documents alike (cache, fingerprints, views).
DOCUMENT_TYPES: tuple[type, ...] = (Post, Product, FaqEntry, Page, NewsletterIssue)


def field_line(document: Document, key: str) -> int:
    """The line where the front-matter ``key`` of ``document`` is written (1: the whole file)."""
    return dict(document.lines).get(key, 1)



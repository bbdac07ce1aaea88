"""Per-kind document models: what the templates, feeds and checks read.

Stage 3b, pure. :mod:`storefront.reader` builds one of these from each file (its front matter is
first checked against the schemas of :mod:`storefront.meta`). A model depends only on the file
and the reader's settings, never on where the site is deployed (URLs are site paths), so it can
be cached by content hash; every front-matter key keeps its line in ``lines``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol

from markupsafe import Markup

Availability = Literal["in_stock", "out_of_stock", "preorder", "discontinued"]
Condition = Literal["new", "refurbished", "used"]


class StoredHtml(Protocol):
    """A post's body kept outside its document while a build runs (:mod:`storefront.bodystore`):
    its HTML is read when asked for (``str()``, :meth:`markup`)."""

    def markup(self) -> Markup: ...

    def below(self, base_path: str) -> StoredHtml: ...

    def __html__(self) -> str: ...


# -- models the templates read -----------------------------------------------------------------

# Links and images written in a body, each with the line it is on; front-matter keys and lines.
Links = tuple[tuple[str, int], ...]
Lines = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Tag:
    name: str
    slug: str
    url: str

    def __str__(self) -> str:
        """Its name, for ``{{ tag }}`` and ``{{ post.tags|join(", ") }}`` (they showed
        "Tag(name='natale', slug='natale', url='/tag/natale/')")."""
        return self.name


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    url: str

    def __str__(self) -> str:
        """Its name, for ``{{ tag }}`` and ``{{ post.tags|join(", ") }}`` (they showed
        "Category(name='natale', slug='natale', url='/tag/natale/')")."""
        return self.name


@dataclass(frozen=True)
class Post:
    source: str
    title: str
    date: datetime
    updated: datetime | None
    summary_html: Markup
    content_html: Markup | StoredHtml  # stored once parsed (storefront.parsing)
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
    noindex: bool = False
    aliases: tuple[str, ...] = ()  # old addresses (site paths) that redirect here
    scheduled: bool = False  # set by the site model: dated after the build time
    image_focus: str = ""  # "X% Y%": the focal point of the share card ("" = the centre)
    unnamed_links: tuple[int, ...] = ()  # lines of links with no text (a warning)


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
    brand: str = ""
    gtin: str = ""
    mpn: str = ""
    condition: Condition = "new"
    date: datetime | None = None  # went on sale (the products feed)
    updated: datetime | None = None
    availability_date: datetime | None = None  # when a preorder ships
    noindex: bool = False
    aliases: tuple[str, ...] = ()
    pinned: bool = False
    sale_note: bool = False  # set by the site model: the sale ends within a year, worth announcing
    image_focus: str = ""
    unnamed_links: tuple[int, ...] = ()  # lines of links with no text (a warning)
    # the first instant the sale no longer runs, set by the reader: a date alone in sale_until
    # means "through that day", a time "until then"
    sale_ends: datetime | None = None

    @property
    def available(self) -> bool:
        """Can be ordered now: in stock or made to order."""
        return self.availability in ("in_stock", "preorder")

    @property
    def sale_last_day(self) -> datetime | None:
        """The last moment of the sale, whose day is the one to show ("until 22 June"): a sale
        until 2024-06-23 00:00 is over when 23 June begins."""
        ends = self.sale_ends
        return ends - timedelta(microseconds=1) if ends is not None else None

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
    aliases: tuple[str, ...] = ()
    unnamed_links: tuple[int, ...] = ()  # lines of links with no text (a warning)


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
    noindex: bool | None = None  # None: the default (true for the forms' success pages)
    aliases: tuple[str, ...] = ()
    policies: bool = False  # shows the shop's shipping and returns policies
    image_focus: str = ""
    unnamed_links: tuple[int, ...] = ()  # lines of links with no text (a warning)


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
    noindex: bool = False
    aliases: tuple[str, ...] = ()
    unnamed_links: tuple[int, ...] = ()  # lines of links with no text (a warning)


Document = Post | Product | FaqEntry | Page | NewsletterIssue
#: Every kind of document, for the stages that treat documents alike (cache, fingerprints, views).
DOCUMENT_TYPES: tuple[type, ...] = (Post, Product, FaqEntry, Page, NewsletterIssue)


def field_line(document: Document, key: str) -> int:
    """The line where the front-matter ``key`` of ``document`` is written (1: the whole file)."""
    return dict(document.lines).get(key, 1)


def item_line(document: Document, key: str, number: int) -> int:
    """The line of the ``number``-th item (from 1) of the front-matter list ``key``; the key's own
    line when the list is written on one line."""
    lines = dict(document.lines)
    return lines.get(f"{key}[{number}]", lines.get(key, 1))

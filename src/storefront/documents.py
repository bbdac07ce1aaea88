"""Per-kind document models and the schemas of their front matter.

Stage 3b, pure: ``parse_document(source, config)`` turns one file into one typed model. Each kind
has a ``*Meta`` dataclass that mirrors exactly the front-matter keys an owner may write (checked by
:mod:`storefront.schema`, so unknown keys and wrong types are errors with a line), and a model the
templates read. Everything here depends only on the file and the config, so results can be cached
by content hash.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from markupsafe import Markup

from storefront.markdown import (
    first_paragraph,
    plain_text,
    render_inline,
    render_markdown,
    split_more,
)
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
WORDS_PER_MINUTE = 200

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
class Body:
    """A rendered Markdown body and the facts derived from it."""

    content_html: Markup
    summary_html: Markup
    has_more: bool
    words: int
    links: tuple[str, ...]


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
    links: tuple[str, ...] = ()


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
    links: tuple[str, ...] = ()
    pinned: bool = False

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
    links: tuple[str, ...] = ()


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
    links: tuple[str, ...] = ()


Document = Post | Product | FaqEntry | Page


def render_body(body: str, summary: str = "", base_path: str = "/") -> Body:
    """Render a Markdown body with its summary (front matter, ``<!--more-->`` or 1st paragraph).

    Root-relative links written by the owner (``/chi-siamo/``) get the site's base path, so a
    site published below ``https://example.com/shop/`` keeps working links.
    """
    html = render_markdown(body)
    before_more, has_marker = split_more(body)
    if summary:
        summary_html = render_inline(summary)
    elif has_marker:
        summary_html = render_markdown(before_more)
    else:
        summary_html = first_paragraph(html)
    words = len(plain_text(html).split())
    has_more = has_marker or len(plain_text(summary_html)) < len(plain_text(html))
    # The HTML comes from the owner's own Markdown: trusted, as in every static-site generator.
    return Body(
        Markup(prefix_links(html, base_path)),  # noqa: S704
        Markup(prefix_links(summary_html, base_path)),  # noqa: S704
        has_more, words, extract_links(html),
    )


def prefix_links(html: str, base_path: str) -> str:
    """Put the site's base path in front of root-relative ``href``/``src`` targets."""
    if base_path == "/":
        return html
    return re.sub(r'((?:href|src)=")/(?!/)', lambda m: m.group(1) + base_path, html)


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def extract_links(html: str) -> tuple[str, ...]:
    """Link and image targets in rendered HTML that point into the site, for link checking.

    Root-relative targets (``/chi-siamo/``) without their ``#fragment`` or ``?query``, and
    relative ones (``foto.jpg``), which the check reports; external URLs, ``mailto:`` and
    in-page ``#anchors`` are left out.
    """
    found = []
    for target in re.findall(r'(?<![\w-])(?:href|src)="([^"]*)"', html):
        if not target or target.startswith(("#", "//")) or _SCHEME.match(target):
            continue
        found.append(re.split(r"[#?]", target, maxsplit=1)[0] or "/")
    return tuple(dict.fromkeys(found))


_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")

"""The site model: which documents are published, in what order, and how they relate.

Stage 4, pure. Takes the parsed documents and the build options and decides drafts, scheduled and
expired posts, running sales, ordering, tags, related posts, categories, FAQ groups and the main
menu. It also reports the next moment at which a rebuild would change the site, so CI can
schedule one.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

from storefront.config import SiteConfig
from storefront.documents import (
    Category,
    Document,
    FaqEntry,
    NewsletterIssue,
    Page,
    Post,
    Product,
    Tag,
)
from storefront.hours import ClosureNotice, closure_changes, visible_closures
from storefront.markdown import slugify
from storefront.related import related_posts
from storefront.urls import UrlBuilder

D = TypeVar("D", bound="Document")

SALE_NOTE_DAYS = timedelta(days=366)  # a sale's end is announced from this long before it


@dataclass(frozen=True)
class BuildOptions:
    """What the owner asked for on the command line (and what the preview asks for)."""

    drafts: bool = False
    future: bool = False
    strict: bool = False
    # theme static files under names with their hash; the preview keeps plain names, so that a
    # stylesheet edit changes the stylesheet alone and the browser swaps it in place
    hashed_assets: bool = True


@dataclass(frozen=True)
class TagCount:
    tag: Tag
    count: int  # posts
    products: int = 0


@dataclass(frozen=True)
class CategoryGroup:
    category: Category | None
    products: tuple[Product, ...]


@dataclass(frozen=True)
class FaqGroup:
    name: str
    slug: str
    entries: tuple[FaqEntry, ...]


@dataclass(frozen=True)
class NavItem:
    title: str
    url: str


@dataclass(frozen=True)
class SiteModel:
    """Everything the renderer needs, already filtered and ordered."""

    posts: tuple[Post, ...]  # newest first
    products: tuple[Product, ...]
    categories: tuple[CategoryGroup, ...]
    faq_groups: tuple[FaqGroup, ...]
    pages: tuple[Page, ...]
    tags: tuple[TagCount, ...]
    posts_by_tag: dict[str, tuple[Post, ...]]
    related: dict[str, tuple[Post, ...]]  # post url -> related posts
    nav: tuple[NavItem, ...]
    next_change: datetime | None
    closures: tuple[ClosureNotice, ...] = ()  # holiday closures on view as of the build time
    products_by_tag: dict[str, tuple[Product, ...]] = field(default_factory=dict)
    newsletter: tuple[NewsletterIssue, ...] = ()  # issues that went out, newest first

    @property
    def policies_page(self) -> Page | None:
        """The page that shows the shop's shipping and returns policies (``policies: true``)."""
        return next((page for page in self.pages if page.policies), None)

    def published(self) -> list[Document]:
        """Every document the build publishes (drafts only with --drafts, and so on)."""
        faq = [entry for group in self.faq_groups for entry in group.entries]
        return [*self.posts, *self.products, *faq, *self.pages, *self.newsletter]


def build_model(
    documents: Iterable[Document], config: SiteConfig, urls: UrlBuilder, options: BuildOptions,
    now: datetime,
) -> SiteModel:
    """Filter and organise the documents (base path applied: :mod:`storefront.localize`) as of
    ``now``."""
    docs = list(documents)
    changes: list[datetime] = []
    posts = _published_posts([d for d in docs if isinstance(d, Post)], options, now, changes)
    products = _products([d for d in docs if isinstance(d, Product)], options, now, changes)
    faq = [d for d in docs if isinstance(d, FaqEntry) and modelled(d, options, now)]
    pages = tuple(sorted((d for d in docs if isinstance(d, Page) and modelled(d, options, now)),
                         key=lambda p: p.url))
    posts_by_tag, products_by_tag, tags = _tags(posts, products)
    zone = zoneinfo.ZoneInfo(config.timezone)
    changes += closure_changes(config.business.closures, now, zone)
    return SiteModel(
        posts=posts,
        products=products,
        categories=_categories(products),
        faq_groups=_faq_groups(faq),
        pages=pages,
        tags=tags,
        posts_by_tag=posts_by_tag,
        related=related_posts(posts),
        nav=_nav(config, pages, urls),
        next_change=min(changes, key=datetime.timestamp) if changes else None,
        closures=visible_closures(config.business.closures, now, zone),
        products_by_tag=products_by_tag,
        newsletter=sent_issues(docs),
    )


def sent_issues(documents: list[Document]) -> tuple[NewsletterIssue, ...]:
    """Newsletter issues that went out (``sent:`` set by ``newsletter send``), newest first: the
    site publishes what was mailed, never a draft of the next one."""
    issues = (d for d in documents if isinstance(d, NewsletterIssue) and d.sent is not None)
    return tuple(sorted(issues, key=lambda i: ((i.sent or i.date).timestamp(), i.slug),
                        reverse=True))


def modelled(document: D, options: BuildOptions, now: datetime,
             changes: list[datetime] | None = None) -> D | None:
    """The document as the model holds it at ``now`` (a copy that knows a post is scheduled, or
    a product on sale), or None when the model leaves it out; ``changes`` gets the moments
    when that answer changes."""
    changes = changes if changes is not None else []
    # compared as instants: two times of one zone compare by their clock reading, so in the hour
    # the clocks repeat in autumn 02:15 (winter time) came before 02:45 (summer time)
    now = now.astimezone(UTC)
    if getattr(document, "draft", False) and not options.drafts:
        return None
    if isinstance(document, Post):
        post: Post = document
        if post.expires is not None:
            if post.expires <= now:
                return None
            changes.append(post.expires)
        if post.date > now:
            changes.append(post.date)
            if not options.future:
                return None
            post = replace(post, scheduled=True)  # the model's copy knows it
        return cast(D, post)
    if isinstance(document, Product):
        ends = document.sale_ends
        on_sale = document.sale_price is not None and (ends is None or ends > now)
        note = False
        if on_sale and ends is not None:
            changes.append(ends)
            # an offer running for more than a year (sale_until: 2099-12-31) has no end worth
            # announcing until it comes within a year
            announced = ends - SALE_NOTE_DAYS
            note = announced <= now
            if not note:
                changes.append(announced)
        # the model's copy knows the sale is running (most products are not on sale: no copy)
        return cast(D, replace(document, on_sale=True, sale_note=note) if on_sale else document)
    return document


def _published_posts(posts: list[Post], options: BuildOptions, now: datetime,
                     changes: list[datetime]) -> tuple[Post, ...]:
    visible = [copy for post in posts if (copy := modelled(post, options, now, changes))]
    return tuple(sorted(visible, key=lambda p: (p.date.timestamp(), p.slug), reverse=True))


def _products(products: list[Product], options: BuildOptions, now: datetime,
              changes: list[datetime]) -> tuple[Product, ...]:
    return _catalogue_order([copy for product in products
                             if (copy := modelled(product, options, now, changes))])


def select_featured(products: Iterable[Product], count: int) -> tuple[Product, ...]:
    """The home page's products: pinned ones first, then featured ones that can be ordered.

    A sold-out or discontinued product is not advertised on the home page unless its owner
    pinned it there (``pinned: true``); catalogue order within each of the two groups.
    """
    items = list(products)
    pinned = [p for p in items if p.pinned]
    others = [p for p in items if p.featured and p.available and not p.pinned]
    return tuple((pinned + others)[:count])


def _catalogue_order(products: list[Product]) -> tuple[Product, ...]:
    """Products by category, uncategorised last, then by ``order``, title and URL.

    A category is its slug (one section of the catalogue): "Caffè" and "Caffe" written in two
    files are one category, sorted by one name, so its products follow their ``order`` (sorted
    by each file's own spelling, the two spellings could fall apart, another category between
    them, and "Caffe" order 2 came before "Caffè" order 1).
    """
    names: dict[str, str] = {}
    for product in products:
        if product.category is not None:
            name = product.category.name.casefold()
            names[product.category.slug] = min(names.get(product.category.slug, name), name)

    def key(product: Product) -> tuple[str, str, int, str, str]:
        category = product.category
        return (names[category.slug] if category else "\uffff", category.slug if category else "",
                product.order, product.title.casefold(), product.url)

    return tuple(sorted(products, key=key))


def _categories(products: tuple[Product, ...]) -> tuple[CategoryGroup, ...]:
    groups: dict[str | None, list[Product]] = {}
    for product in products:
        groups.setdefault(product.category.slug if product.category else None, []).append(product)
    return tuple(
        CategoryGroup(items[0].category, tuple(items)) for items in groups.values()
    )


def _faq_groups(entries: list[FaqEntry]) -> tuple[FaqGroup, ...]:
    """Group by the slug of the group name, so "Ordini" and "ordini" are one group (one HTML id)."""
    by_group: dict[str, list[FaqEntry]] = defaultdict(list)
    names: dict[str, str] = {}
    for entry in sorted(entries, key=lambda e: e.source):
        slug = slugify(entry.group) if entry.group else ""
        by_group[slug].append(entry)
        names.setdefault(slug, entry.group)
    ordered = sorted(
        by_group.items(),
        key=lambda item: (min(e.order for e in item[1]), item[0] == "", item[0]),
    )
    # a group is a section of the FAQ page and each entry a <details> in it, both with an id:
    # group "Returns" and returns.md would share id="returns", and the entry's link (its
    # aliases redirect to faq/#returns) would open the section instead of the question
    anchors = {entry.anchor for entry in entries}

    def section_id(slug: str) -> str:
        base = slug or "domande"
        ident, count = base, 0
        while ident in anchors:
            count += 1
            ident = f"{base}_{count}"
        return ident

    return tuple(
        FaqGroup(names[slug], section_id(slug),
                 tuple(sorted(items, key=lambda e: (e.order, e.question.casefold(), e.source))))
        for slug, items in ordered
    )


def _tags(posts: tuple[Post, ...], products: tuple[Product, ...]) -> tuple[
        dict[str, tuple[Post, ...]], dict[str, tuple[Product, ...]], tuple[TagCount, ...]]:
    """Posts and products by tag slug, and every tag with its counts (posts first seen win)."""
    by_slug: dict[str, list[Post]] = defaultdict(list)
    products_by_slug: dict[str, list[Product]] = defaultdict(list)
    first: dict[str, Tag] = {}
    for post in posts:
        for tag in post.tags:
            by_slug[tag.slug].append(post)
            first.setdefault(tag.slug, tag)
    for product in products:
        for tag in product.tags:
            products_by_slug[tag.slug].append(product)
            first.setdefault(tag.slug, tag)
    counts = sorted(
        (TagCount(tag, len(by_slug.get(slug, ())), len(products_by_slug.get(slug, ())))
         for slug, tag in first.items()),
        key=lambda tc: tc.tag.name.casefold(),
    )
    return ({slug: tuple(items) for slug, items in by_slug.items()},
            {slug: tuple(items) for slug, items in products_by_slug.items()}, tuple(counts))


def _nav(config: SiteConfig, pages: tuple[Page, ...], urls: UrlBuilder) -> tuple[NavItem, ...]:
    items = [NavItem(item.title, urls.url(item.url)) for item in config.menu]
    menu_pages = sorted((p for p in pages if p.menu is not None), key=lambda p: (p.menu, p.title))
    items.extend(NavItem(page.title, page.url) for page in menu_pages)
    return tuple(items)

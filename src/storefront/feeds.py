"""The shop's feeds: RSS 2.0, Atom and JSON Feed 1.1 of the blog, of each tag and of the products.

Pure: models in, bytes out. Every feed is first described as a :class:`FeedChannel` of
:class:`FeedItem` values (absolute links, stable ids, dates), then written by feedgen
(:mod:`storefront.xmlfeeds`: RSS and Atom, with its extension mechanism for the ``media:`` and
``g:`` namespaces; loaded only when a feed is made) or, here, as JSON Feed.

- Dates are the documents' own (never "now"), so two builds give byte-identical feeds; a feed
  without entries is dated by the caller's ``updated`` or the Unix epoch.
- An entry's id is its first URL: the document's first alias when it has one (the address it was
  published under before a rename), else its URL. It never depends on the title, so renaming a
  post does not show it twice in a reader.
- ``feeds.content: summary`` in storefront.yaml leaves the full text out; ``feeds.items`` is the
  number of entries.
- An entry's photo is the plain copy the image stage made for feeds and mail (``photo``: the
  largest JPEG or PNG copy, see :meth:`storefront.picture.ImageCatalog.fallback_url`), not the
  full-size original: readers and mail programs take one plain image.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape

from storefront.config import SiteConfig
from storefront.documents import Post, Product
from storefront.formatting import Formatter
from storefront.htmltags import Attribute, HtmlTag, escape_value, replace_links
from storefront.markdown import plain_text
from storefront.urls import UrlBuilder, is_site_path

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

#: ``g:`` attributes of one item: a name with a text, or with sub-attributes (``g:shipping``).
GAttributes = tuple[tuple[str, "str | tuple[tuple[str, str], ...]"], ...]
#: The site URL of the copy of an image that feeds show (the image's own URL when there is none).
Photo = Callable[[str], str]


def same_photo(url: str) -> str:
    return url


@dataclass(frozen=True)
class FeedItem:
    """One entry, ready to write: every link absolute, every date aware."""

    id: str
    link: str
    title: str
    published: datetime
    updated: datetime
    summary_html: str
    content_html: str  # "" when the feed carries summaries only
    author: str
    categories: tuple[str, ...] = ()
    image: str = ""
    image_alt: str = ""
    google: GAttributes = ()  # written as g: elements (products)


@dataclass(frozen=True)
class FeedChannel:
    """One feed: what it is about, where it lives, and its entries newest first."""

    title: str
    description: str
    home: str  # absolute URL of the page the feed belongs to
    rss_url: str  # absolute URLs of the three formats (self links)
    atom_url: str
    json_url: str
    language: str
    author: str
    items: tuple[FeedItem, ...]
    updated: datetime
    email: str = ""  # shown with entry authors (RSS wants an address there)


@dataclass(frozen=True)
class FeedLink:
    """A feed a page advertises with ``<link rel="alternate">`` (autodiscovery)."""

    title: str
    url: str  # site URL
    type: str  # application/rss+xml, application/atom+xml, application/feed+json


def feed_links(page_url: str, title: str) -> tuple[FeedLink, ...]:
    """The RSS and Atom links of the listing at ``page_url`` (a tag page, the catalogue)."""
    return (FeedLink(f"{title} (RSS)", feed_url(page_url, "feed.xml"), "application/rss+xml"),
            FeedLink(f"{title} (Atom)", feed_url(page_url, "atom.xml"), "application/atom+xml"))


def feed_url(page_url: str, name: str) -> str:
    """Where a listing's feed lives: ``/tag/corsi/`` -> ``/tag/corsi/feed.xml``.

    A listing written as a file (``/tag/corsi.html``) gets a folder of the same name.
    """
    folder = page_url if page_url.endswith("/") else page_url.removesuffix(".html") + "/"
    return folder + name


def absolute_links(html: str, urls: UrlBuilder, photo: Photo = same_photo) -> str:
    """Make root-relative URLs of links and images absolute (``href``, ``src``, each of a
    ``srcset``, ``poster``, ``action``...: see :data:`storefront.htmltags.LINK_ATTRIBUTES`):
    feed readers have no page to resolve against.

    An image shown (``src``) is the plain copy ``photo`` gives, as the entry's own photo is: a
    page shows a photo as its resized copies, and the original (a 9 MB TIFF, an iPhone's HEIC)
    is what no reader shows. A link (``href``) to the photo keeps the original.
    """
    def absolute(tag: HtmlTag, attribute: Attribute) -> str | None:
        if not is_site_path(attribute.value):
            return None
        written = attribute.written
        target = written if written.startswith("/") else escape_value(attribute.value)  # &#47;x/
        if attribute.name == "src":
            shown = photo(attribute.value)
            target = target if shown == attribute.value else str(escape(shown))
        return urls.absolute(target)

    return replace_links(html, absolute)


def stable_id(url: str, aliases: tuple[str, ...], urls: UrlBuilder) -> str:
    """The entry id: the first alias (the original address) when there is one, else the URL."""
    return urls.absolute(aliases[0] if aliases else url)


def site_author(config: SiteConfig) -> str:
    """Atom requires an author: the site's, else the business, else the site title."""
    return config.author or config.business_name


def channel(config: SiteConfig, urls: UrlBuilder, title: str, page_url: str,
            items: Iterable[FeedItem], updated: datetime | None = None) -> FeedChannel:
    """A channel for the listing at ``page_url``, holding the newest ``feeds.items`` entries."""
    chosen = tuple(items)[: config.feeds.items]
    latest = max((item.updated for item in chosen), default=updated or EPOCH,
                 key=datetime.timestamp)  # instants: see site.modelled
    return FeedChannel(
        title=title, description=config.description or config.title,
        home=urls.absolute(page_url), rss_url=urls.absolute(feed_url(page_url, "feed.xml")),
        atom_url=urls.absolute(feed_url(page_url, "atom.xml")),
        json_url=urls.absolute(feed_url(page_url, "feed.json")), language=config.language,
        author=site_author(config), items=chosen, updated=latest, email=config.business.email)


def post_items(posts: Sequence[Post], config: SiteConfig, urls: UrlBuilder,
               photo: Photo = same_photo) -> tuple[FeedItem, ...]:
    """Entries for posts (given newest first)."""
    full = config.feeds.content == "full"
    return tuple(
        FeedItem(
            id=stable_id(post.url, post.aliases, urls), link=urls.absolute(post.url),
            title=post.title, published=post.date, updated=post.updated or post.date,
            summary_html=absolute_links(str(post.summary_html), urls, photo),
            content_html=absolute_links(str(post.content_html), urls, photo) if full else "",
            author=post.author or site_author(config),
            categories=tuple(tag.name for tag in post.tags),
            image=urls.absolute(photo(post.image)) if post.image else "", image_alt=post.image_alt)
        for post in posts[: config.feeds.items])


def listed_products(products: Iterable[Product], count: int) -> tuple[Product, ...]:
    """The products the products feed lists: the ``count`` latest changed among those with a
    ``date``."""
    dated = sorted((p for p in products if p.date is not None),
                   key=lambda p: ((p.updated or p.date).timestamp(), p.slug),  # type: ignore[union-attr]
                   reverse=True)
    return tuple(dated[:count])


def product_items(products: Iterable[Product], config: SiteConfig, urls: UrlBuilder,
                  photo: Photo = same_photo) -> tuple[FeedItem, ...]:
    """Entries for new and changed products: those with a ``date``, latest change first.

    Each entry shows the photo and the price (the struck-through one during a sale) above the
    description, and carries ``g:price``/``g:availability`` for programs that read them.
    """
    price = Formatter(config.effective_locale, config.timezone).price
    full = config.feeds.content == "full"
    items = []
    for product in listed_products(products, config.feeds.items):
        assert product.date is not None
        image = urls.absolute(photo(product.images[0])) if product.images else ""
        alt = product.image_alt or product.title
        head = f'<p><img src="{escape(image)}" alt="{escape(alt)}"></p>' if image else ""
        shown = f"<strong>{escape(price(product.current_price, product.currency))}</strong>"
        if product.on_sale:
            shown = f"<del>{escape(price(product.price, product.currency))}</del> {shown}"
        head += f"<p>{shown}</p>"
        summary = absolute_links(str(product.summary_html), urls, photo)
        if summary and not summary.startswith("<"):  # a one-line summary: make it a paragraph
            summary = f"<p>{summary}</p>"
        content = absolute_links(str(product.content_html), urls, photo)
        items.append(FeedItem(
            id=stable_id(product.url, product.aliases, urls), link=urls.absolute(product.url),
            title=product.title, published=product.date, updated=product.updated or product.date,
            summary_html=head + summary, content_html=head + content if full else "",
            author=site_author(config),
            categories=tuple(tag.name for tag in product.tags)
            + ((product.category.name,) if product.category else ()),
            image=image, image_alt=alt,
            google=(("price", f"{product.current_price:.2f} {product.currency}"),
                    ("availability", product.availability))))
    return tuple(items)


def render_json_feed(feed: FeedChannel) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), dates in RFC 3339."""
    items = []
    for item in feed.items:
        data: dict[str, Any] = {
            "id": item.id, "url": item.link, "title": item.title,
            "content_html": item.content_html or item.summary_html,
            "summary": plain_text(item.summary_html),
            "date_published": item.published.isoformat(),
            "date_modified": item.updated.isoformat(), "authors": [{"name": item.author}],
        }
        if item.categories:
            data["tags"] = list(item.categories)
        if item.image:
            data["image"] = item.image
        items.append(data)
    document = {
        "version": JSON_FEED_VERSION, "title": feed.title, "home_page_url": feed.home,
        "feed_url": feed.json_url, "description": feed.description, "language": feed.language,
        "authors": [{"name": feed.author}], "items": items,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

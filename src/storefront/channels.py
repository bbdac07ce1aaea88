"""The shop's own channels as planned outputs: feeds, the merchant feed, redirects for old addresses.

Stage 5, pure: wiring, no logic of its own. It asks :mod:`storefront.feeds`,
:mod:`storefront.merchant` and :mod:`storefront.redirects` for what the published site needs and
describes each file as an :class:`~storefront.outputs.Output`:

* every RSS/Atom/JSON feed (the blog's, each tag's, the products', the newsletter archive's) and
  the merchant feed are ``feed`` outputs, made only when the build writes them and their
  ``inputs`` (the documents they list, in order) or ``extra`` (what else their bytes depend on:
  the title, and the URLs of the photos they show, which change with a photo's bytes) changed;
* ``_redirects`` and the nginx map are ``data`` (cheap, made every build);
* each alias that can hold a page gets a redirect page, a :class:`~storefront.plan.RenderTask`.

The build adds these to its plan and checks the aliases with :func:`check_aliases` against every
other claim (the redirect pages are not claims themselves: an alias on a taken address is
reported once, at the alias's line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storefront.archive import issue_items, newsletter_feed_title
from storefront.config import SiteConfig
from storefront.documents import Document, Post, Product
from storefront.errors import ContentError
from storefront.feeds import (
    FeedChannel,
    Photo,
    channel,
    feed_url,
    listed_products,
    post_items,
    product_items,
    render_json_feed,
    same_photo,
)
from storefront.merchant import MERCHANT_FEED, check_products, render_merchant_feed, sale_dates
from storefront.outputs import Output, data_output
from storefront.plan import RenderTask
from storefront.redirects import (
    NGINX_MAP_FILE,
    REDIRECTS_FILE,
    Redirect,
    check_redirects,
    collect_redirects,
    render_nginx_map,
    render_redirects_file,
)
from storefront.seo import PageMeta
from storefront.site import SiteModel
from storefront.urls import UrlBuilder

REDIRECT_TEMPLATE = "redirect.html"


@dataclass(frozen=True)
class ChannelPlan:
    outputs: tuple[Output, ...]  # feeds, the merchant feed, _redirects, the nginx map
    pages: tuple[RenderTask, ...]  # one redirect page per alias that can hold one
    redirects: tuple[Redirect, ...]
    errors: tuple[ContentError, ...]
    warnings: tuple[ContentError, ...]
    recheck: datetime | None = None  # when the warnings may change with no file changing


def _feeds(make: Callable[[], FeedChannel], page_url: str, title: str, source: str,
           inputs: Sequence[Document], photo: Photo, json: bool = False) -> list[Output]:
    """The RSS and Atom (and JSON) feeds of the listing at ``page_url``, made from ``inputs``.

    Their bytes depend on those documents (in that order), the config, the title and the
    photos they show: each entry's own, and the copies the images in its text are shown as.
    """
    sources = tuple(document.source for document in inputs)
    extra = " ".join((title, *(photo(image) for document in inputs
                               for image in _shown_images(document)[:1]),
                      *(shown for document in inputs for target, _ in document.links
                        if (shown := photo(target)) != target)))
    names = ("feed.xml", "atom.xml", "feed.json") if json else ("feed.xml", "atom.xml")
    return [Output(feed_url(page_url, name), source, "feed", inputs=sources, extra=extra,
                   make=_made(name, make)) for name in names]


def _shown_images(document: Document) -> tuple[str, ...]:
    """The images a feed entry or merchant listing may show of a document, first the main one."""
    if isinstance(document, Product):
        return document.images
    image = getattr(document, "image", "")
    return (image,) if image else ()


def _made(name: str, make: Callable[[], FeedChannel]) -> Callable[[], bytes]:
    def made() -> bytes:
        if name == "feed.json":
            return render_json_feed(make())
        from storefront.xmlfeeds import render_atom, render_rss  # feedgen only when it is needed

        return (render_rss if name == "feed.xml" else render_atom)(make())

    return made


def plan_channels(model: SiteModel, config: SiteConfig, urls: UrlBuilder,
                  strings: dict[str, str], now: datetime, photo: Photo = same_photo) -> ChannelPlan:
    """Every feed, the merchant feed (when enabled) and the redirects of the published site.

    ``photo`` gives the URL of the copy of an image that feeds show (see :mod:`storefront.feeds`).
    """
    home, count = urls.url("/"), config.feeds.items
    posts = model.posts
    outputs = _feeds(lambda: channel(config, urls, config.title, home,
                                     post_items(posts, config, urls, photo)),
                     home, config.title, "the feeds", posts[:count], photo, json=True)
    for tag_count in model.tags:
        tag, tagged = tag_count.tag, model.posts_by_tag.get(tag_count.tag.slug, ())
        if tagged:
            title = f"{config.title} · #{tag.name}"
            outputs += _feeds(_tag_channel(config, urls, title, tag.url, tagged, photo), tag.url,
                              title, f'the feeds of tag "{tag.name}"', tagged[:count], photo)
    catalog = urls.url(config.permalinks.products)
    products_title = f"{config.title} · {strings.get('products', 'Products')}"
    products = model.products
    outputs += _feeds(lambda: channel(config, urls, products_title, catalog,
                                      product_items(products, config, urls, photo)),
                      catalog, products_title, "the products feed",
                      listed_products(products, count), photo)
    if config.newsletter.enabled or model.newsletter:
        outputs += _archive_feeds(model, config, urls, strings, photo)
    errors: list[ContentError] = []
    warnings: list[ContentError] = []
    recheck = None
    if config.feeds.merchant:
        checked = check_products(products, now, photo)
        errors += checked.errors
        warnings += checked.warnings
        listed, recheck = checked.listed, checked.recheck
        # the build day shows in the dates of running sales: the feed is made again each day then
        day = " ".join(sale_dates(product, now) for product in listed).strip()
        shown = " ".join(photo(image) for product in listed for image in product.images)
        outputs.append(Output(
            urls.url(MERCHANT_FEED), "the merchant feed", "feed",
            inputs=tuple(product.source for product in listed), extra=f"{day}\n{shown}",
            clock="day" if day else "",
            make=lambda: render_merchant_feed(listed, config, urls, now, photo)))
    redirects = collect_redirects(model.published(), urls.url(config.permalinks.faq))
    outputs.append(data_output(urls.url(REDIRECTS_FILE), "the redirects",
                               render_redirects_file(redirects)))
    outputs.append(data_output(urls.url(NGINX_MAP_FILE), "the redirects",
                               render_nginx_map(redirects)))
    pages = tuple(_redirect_page(redirect, page_url, urls)
                  for redirect in redirects if (page_url := redirect.page_url) is not None)
    return ChannelPlan(tuple(outputs), pages, tuple(redirects), tuple(errors), tuple(warnings),
                       recheck)


def _archive_feeds(model: SiteModel, config: SiteConfig, urls: UrlBuilder,
                   strings: dict[str, str], photo: Photo) -> list[Output]:
    """The feeds of the newsletter's sent issues, beside their archive page."""
    archive, title = urls.url(config.permalinks.newsletter), newsletter_feed_title(config, strings)
    issues = model.newsletter
    return _feeds(lambda: channel(config, urls, title, archive,
                                  issue_items(issues, config, urls, photo)),
                  archive, title, "the newsletter archive", issues[: config.feeds.items], photo)


def _tag_channel(config: SiteConfig, urls: UrlBuilder, title: str, page_url: str,
                 posts: tuple[Post, ...], photo: Photo) -> Callable[[], FeedChannel]:
    return lambda: channel(config, urls, title, page_url, post_items(posts, config, urls, photo))


def _redirect_page(redirect: Redirect, page_url: str, urls: UrlBuilder) -> RenderTask:
    meta = PageMeta(title=redirect.title, description="", url=page_url,
                    canonical=urls.absolute(redirect.target), noindex=True)
    return RenderTask(page_url, REDIRECT_TEMPLATE, meta, redirect.document,
                      {"target": redirect.target})


def check_aliases(plan: ChannelPlan, claims: Sequence[tuple[str, str]],
                  urls: UrlBuilder) -> list[ContentError]:
    """Aliases against every other output (pages, files, feeds): see :mod:`storefront.redirects`."""
    return check_redirects(plan.redirects, claims, urls)

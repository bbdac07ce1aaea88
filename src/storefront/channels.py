"""The shop's own channels as build outputs: feeds, the merchant feed, redirects for old addresses.

Wiring, no logic of its own: it asks :mod:`storefront.feeds`, :mod:`storefront.merchant` and
:mod:`storefront.redirects` for their files and pages. The build calls :func:`plan_channels` once
the site model exists, adds the returned pages to its plan and the files to its outputs, and calls
:func:`check_aliases` once every other output is known. Pure: writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storefront.config import SiteConfig
from storefront.errors import ContentError
from storefront.feeds import (
    FeedChannel,
    channel,
    feed_url,
    post_items,
    product_items,
    render_atom,
    render_json_feed,
    render_rss,
)
from storefront.merchant import MERCHANT_FEED, check_products, render_merchant_feed
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
class ExtraFile:
    """A generated file: its site URL, its bytes, and what it comes from (for collision errors)."""

    url: str
    data: bytes
    source: str


@dataclass(frozen=True)
class ChannelOutputs:
    files: tuple[ExtraFile, ...]
    pages: tuple[RenderTask, ...]  # one redirect page per alias that can hold one
    redirects: tuple[Redirect, ...]
    errors: tuple[ContentError, ...]
    warnings: tuple[ContentError, ...]


def _feed_files(feed: FeedChannel, urls: UrlBuilder, page_url: str, source: str,
                json: bool = False) -> list[ExtraFile]:
    files = [ExtraFile(feed_url(page_url, "feed.xml"), render_rss(feed), source),
             ExtraFile(feed_url(page_url, "atom.xml"), render_atom(feed), source)]
    if json:
        files.append(ExtraFile(feed_url(page_url, "feed.json"), render_json_feed(feed), source))
    return files


def plan_channels(model: SiteModel, config: SiteConfig, urls: UrlBuilder,
                  strings: dict[str, str], texts: dict[str, str], now: datetime) -> ChannelOutputs:
    """Every feed, the merchant feed (when enabled) and the redirects of the published site."""
    home = urls.url("/")
    blog = channel(config, urls, config.title, home, post_items(model.posts, config, urls))
    files = _feed_files(blog, urls, home, "the feeds", json=True)
    for tag_count in model.tags:
        tag, posts = tag_count.tag, model.posts_by_tag.get(tag_count.tag.slug, ())
        if posts:
            feed = channel(config, urls, f"{config.title} · #{tag.name}", tag.url,
                           post_items(posts, config, urls))
            files += _feed_files(feed, urls, tag.url, f'the feeds of tag "{tag.name}"')
    catalog = urls.url(config.permalinks.products)
    products_title = f"{config.title} · {strings.get('products', 'Products')}"
    files += _feed_files(channel(config, urls, products_title, catalog,
                                 product_items(model.products, config, urls)),
                         urls, catalog, "the products feed")
    errors: list[ContentError] = []
    warnings: list[ContentError] = []
    if config.feeds.merchant:
        checked = check_products(model.products, texts, now)
        errors += checked.errors
        warnings += checked.warnings
        files.append(ExtraFile(urls.url(MERCHANT_FEED),
                               render_merchant_feed(checked.listed, config, urls, now),
                               "the merchant feed"))
    redirects = collect_redirects(model.published(), urls.url(config.permalinks.faq))
    files.append(ExtraFile(urls.url(REDIRECTS_FILE), render_redirects_file(redirects),
                           "the redirects"))
    files.append(ExtraFile(urls.url(NGINX_MAP_FILE), render_nginx_map(redirects), "the redirects"))
    pages = tuple(_redirect_page(redirect, page_url, urls)
                  for redirect in redirects if (page_url := redirect.page_url) is not None)
    return ChannelOutputs(tuple(files), pages, tuple(redirects), tuple(errors), tuple(warnings))


def _redirect_page(redirect: Redirect, page_url: str, urls: UrlBuilder) -> RenderTask:
    meta = PageMeta(title=redirect.title, description="", url=page_url,
                    canonical=urls.absolute(redirect.target), noindex=True)
    return RenderTask(page_url, REDIRECT_TEMPLATE, meta, redirect.document,
                      {"target": redirect.target})


def check_aliases(outputs: ChannelOutputs, claims: Sequence[tuple[str, str]],
                  urls: UrlBuilder) -> list[ContentError]:
    """Aliases against every other output (pages, files, feeds): see :mod:`storefront.redirects`."""
    return check_redirects(outputs.redirects, claims, urls)

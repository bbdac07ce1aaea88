"""RSS 2.0 and Atom feeds of the blog, with feedgen.

Pure: posts in, bytes out. Dates are the posts' own (never "now"), so two builds of the same
content give byte-identical feeds; a feed without posts is dated by the caller's ``updated`` or,
failing that, the Unix epoch (feedgen would put the current time there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from storefront.config import SiteConfig
from storefront.documents import Post
from storefront.urls import UrlBuilder

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

FEED_SIZE = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def absolute_links(html: str, urls: UrlBuilder) -> str:
    """Make root-relative ``href``/``src`` absolute: feed readers have no page to resolve against."""
    return re.sub(r'((?:href|src)=")(/[^/"][^"]*|/)"', lambda m: f'{m.group(1)}{urls.absolute(m.group(2))}"',
                  html)


def _generator(posts: Sequence[Post], config: SiteConfig, urls: UrlBuilder, self_url: str,
               updated: datetime | None, kind: Literal["rss", "atom"],
               title: str | None = None) -> FeedGenerator:
    from feedgen.feed import FeedGenerator  # lxml and feedgen only when a feed is made

    home = urls.absolute(urls.url("/"))
    feed = FeedGenerator()
    feed.id(home if title is None else urls.absolute(self_url))
    feed.title(title or config.title)
    feed.subtitle(config.description or config.title)
    # feedgen makes the last link added the RSS <channel><link>, which must be the site
    feed.link(href=urls.absolute(self_url), rel="self")
    feed.link(href=home, rel="alternate")
    feed.language(config.language)
    feed.generator("storefront")
    if config.author:
        feed.author({"name": config.author})
    latest = max((post.updated or post.date for post in posts), default=updated or EPOCH)
    feed.updated(latest)
    feed.lastBuildDate(latest)
    for post in reversed(list(posts[:FEED_SIZE])):  # feedgen prepends: add oldest first
        link = urls.absolute(post.url)
        entry = feed.add_entry()
        entry.id(link)
        entry.guid(link, permalink=True)
        entry.title(post.title)
        entry.link(href=link)
        entry.published(post.date)
        entry.updated(post.updated or post.date)
        entry.description(absolute_links(str(post.summary_html), urls) or post.title)
        if kind == "rss":
            entry.content(absolute_links(str(post.content_html), urls), type="CDATA")  # <content:encoded>
        else:
            entry.content(absolute_links(str(post.content_html), urls), type="html")
        if post.author:
            entry.author({"name": post.author, "email": config.business.email or None}
                         if config.business.email else {"name": post.author})
        for tag in post.tags:
            entry.category(term=tag.name)
    return feed


def render_rss(posts: Sequence[Post], config: SiteConfig, urls: UrlBuilder, self_url: str,
               updated: datetime | None = None, title: str | None = None) -> bytes:
    """RSS 2.0 of the newest ``FEED_SIZE`` posts (``posts`` newest first); ``title`` for a feed
    other than the blog's."""
    feed = _generator(posts, config, urls, self_url, updated, "rss", title)
    return bytes(feed.rss_str(pretty=True))


def render_atom(posts: Sequence[Post], config: SiteConfig, urls: UrlBuilder, self_url: str,
                updated: datetime | None = None) -> bytes:
    """Atom 1.0 of the newest ``FEED_SIZE`` posts (``posts`` newest first)."""
    return bytes(_generator(posts, config, urls, self_url, updated, "atom").atom_str(pretty=True))

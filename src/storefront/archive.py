"""The newsletter on the site: its sent issues as the entries of a feed, and where it lives.

Stage 5, pure: issues in, feed entries out. An issue becomes an entry dated when it went out,
written by the same feed writer as the blog's (:mod:`storefront.feeds`: RFC 822 dates, absolute
links, an id that survives a new title, deterministic output); :mod:`storefront.channels` plans
the feed beside the archive page.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import escape

from storefront.config import SiteConfig
from storefront.documents import NewsletterIssue
from storefront.feeds import (
    FeedItem,
    Photo,
    absolute_links,
    feed_url,
    same_photo,
    site_author,
    stable_id,
)
from storefront.urls import UrlBuilder


def newsletter_feed_url(config: SiteConfig, urls: UrlBuilder) -> str:
    """The feed of sent newsletter issues, beside their archive page."""
    return feed_url(urls.url(config.permalinks.newsletter), "feed.xml")


def newsletter_feed_title(config: SiteConfig, strings: dict[str, str]) -> str:
    return f"{strings.get('nl_archive', 'Newsletter')} · {config.title}"


def issue_items(issues: Sequence[NewsletterIssue], config: SiteConfig, urls: UrlBuilder,
                photo: Photo = same_photo) -> tuple[FeedItem, ...]:
    """Entries for the sent issues (``issues`` newest first)."""
    full = config.feeds.content == "full"
    items = []
    for issue in issues[: config.feeds.items]:
        moment = issue.sent or issue.date
        items.append(FeedItem(
            id=stable_id(issue.url, issue.aliases, urls), link=urls.absolute(issue.url),
            title=issue.title, published=moment, updated=moment,
            summary_html=str(escape(issue.summary)),
            content_html=absolute_links(str(issue.content_html), urls, photo) if full else "",
            author=site_author(config),
            image=urls.absolute(photo(issue.image)) if issue.image else "",
            image_alt=issue.image_alt))
    return tuple(items)

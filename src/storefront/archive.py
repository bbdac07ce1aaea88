"""The newsletter on the site: its sent issues as the entries of a feed.

Stage 5, pure: issues in, bytes out. An issue becomes a feed entry dated when it went out, read
through :func:`storefront.feeds.render_rss`, so the archive's feed follows the blog feed's rules
(RFC 822 dates, absolute links, deterministic output).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import escape

from storefront.config import SiteConfig
from storefront.documents import NewsletterIssue, Post
from storefront.feeds import render_rss
from storefront.urls import UrlBuilder


def as_entry(issue: NewsletterIssue, author: str) -> Post:
    """The issue in the shape the feed writer reads."""
    moment = issue.sent or issue.date
    return Post(
        source=issue.source, title=issue.title, date=moment, updated=None,
        summary_html=escape(issue.summary), content_html=issue.content_html, has_more=False,
        tags=(), author=author, image=issue.image, image_alt=issue.image_alt, slug=issue.slug,
        url=issue.url, reading_minutes=1, draft=False, expires=None,
        description=issue.description, links=issue.links,
    )


def render_issue_feed(issues: Sequence[NewsletterIssue], config: SiteConfig, urls: UrlBuilder,
                      self_url: str, title: str) -> bytes:
    """RSS 2.0 of the sent issues (``issues`` newest first)."""
    entries = [as_entry(issue, config.author) for issue in issues]
    return render_rss(entries, config, urls, self_url, title=title)

"""RSS 2.0 and Atom with feedgen: the blog's, the tags' and the products' feeds, and the ``g:``
namespace the merchant feed uses.

Pure: a :class:`~storefront.feeds.FeedChannel` in, bytes out. feedgen and lxml take a moment to
import, so this module is imported only when a feed is made (the build plans feeds as functions
that make them, and skips those whose inputs did not change).
"""

from __future__ import annotations

from typing import Any, Literal

from feedgen.ext.base import BaseEntryExtension, BaseExtension  # type: ignore[import-untyped]
from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]
from feedgen.util import xml_elem  # type: ignore[import-untyped]

from storefront.feeds import FeedChannel, GAttributes

G_NS = "http://base.google.com/ns/1.0"


class GoogleExtension(BaseExtension):  # type: ignore[misc]
    """feedgen extension: the ``g:`` namespace of Google's product data."""

    def extend_ns(self) -> dict[str, str]:
        return {"g": G_NS}


class GoogleEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """feedgen entry extension: writes an item's ``g:`` attributes in the order given."""

    def __init__(self) -> None:
        self.attributes: GAttributes = ()

    def extend_rss(self, item: Any) -> Any:
        for name, value in self.attributes:
            element = xml_elem(f"{{{G_NS}}}{name}", item)
            if isinstance(value, str):
                element.text = value
                continue
            for sub_name, sub_value in value:
                xml_elem(f"{{{G_NS}}}{sub_name}", element).text = sub_value
        return item

    def extend_atom(self, entry: Any) -> Any:
        return self.extend_rss(entry)


def generator(feed: FeedChannel, kind: Literal["rss", "atom"]) -> FeedGenerator:
    """A feedgen generator for the channel, with the extensions its entries use."""
    generated = FeedGenerator()
    if any(item.image for item in feed.items):
        generated.load_extension("media")
    if any(item.google for item in feed.items):
        generated.register_extension("g", GoogleExtension, GoogleEntryExtension)
    generated.id(feed.home)
    generated.title(feed.title)
    generated.subtitle(feed.description)
    # feedgen makes the last link added the RSS <channel><link>, which must be the site
    self_url, self_type = ((feed.rss_url, "application/rss+xml") if kind == "rss"
                           else (feed.atom_url, "application/atom+xml"))
    generated.link(href=self_url, rel="self", type=self_type)
    generated.link(href=feed.home, rel="alternate")
    generated.language(feed.language)
    generated.generator("storefront")
    generated.author({"name": feed.author})
    generated.updated(feed.updated)
    generated.lastBuildDate(feed.updated)
    for item in reversed(feed.items):  # feedgen prepends: add oldest first
        entry = generated.add_entry()
        entry.id(item.id)
        entry.guid(item.id, permalink=item.id == item.link)
        entry.title(item.title)
        entry.link(href=item.link)
        entry.published(item.published)
        entry.updated(item.updated)
        entry.description(item.summary_html or item.title)
        if item.content_html:
            # RSS: <content:encoded> in CDATA; Atom: <content type="html">
            entry.content(item.content_html, type="CDATA" if kind == "rss" else "html")
        entry.author({"name": item.author, "email": feed.email} if feed.email else {"name": item.author})
        if item.categories:
            # all at once: feedgen rebuilds an entry's RSS categories at every call, so one
            # call per term took the square of their number (a post with 600 tags: a minute)
            entry.category([{"term": term} for term in item.categories])
        if item.image:
            entry.media.content({"url": item.image, "medium": "image"})
        if item.google:
            entry.g.attributes = item.google
    return generated


def render_rss(feed: FeedChannel) -> bytes:
    """RSS 2.0 (``pubDate`` in RFC 822, ``atom:link rel="self"``)."""
    return bytes(generator(feed, "rss").rss_str(pretty=True))


def render_atom(feed: FeedChannel) -> bytes:
    """Atom 1.0 (dates in RFC 3339, a feed-level author as the format requires)."""
    return bytes(generator(feed, "atom").atom_str(pretty=True))

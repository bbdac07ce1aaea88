"""Put a build's base path into base-independent documents.

Pure. Parsed (and cached) documents hold site paths (``/blog/x/``) and HTML with the links as
written; a site published below ``https://example.com/shop/`` needs ``/shop/blog/x/``. Applying
the base path here, when a build assembles its model, lets the preview and every production build
share one parse of each file. For the common base path ``/`` nothing changes and nothing is
copied.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from markupsafe import Markup

from storefront.documents import (
    Category,
    Document,
    FaqEntry,
    NewsletterIssue,
    Page,
    Post,
    Product,
    StoredHtml,
    Tag,
)
from storefront.htmltags import Attribute, HtmlTag, escape_value, replace_links
from storefront.urls import UrlBuilder, is_site_path

D = TypeVar("D", bound=Document)


def prefix_links(html: str, base_path: str) -> str:
    """Put the site's base path in front of root-relative URLs of links and images (``href``,
    ``src``, each of a ``srcset``, ``poster``, a form's ``action``...: see
    :data:`storefront.htmltags.LINK_ATTRIBUTES`), however the owner's HTML writes them
    (``href='/x/'``, ``SRC=/x.jpg``: see :mod:`storefront.htmltags`)."""
    if base_path == "/":
        return html
    base = escape_value(base_path)

    def prefixed(tag: HtmlTag, attribute: Attribute) -> str | None:
        if not is_site_path(attribute.value):
            return None
        if attribute.written.startswith("/"):
            return base + attribute.written[1:]
        return base + escape_value(attribute.value[1:])  # written as &#47;x/

    return replace_links(html, prefixed)


def localize(document: D, urls: UrlBuilder) -> D:
    """``document`` with its URLs, images and links below ``urls.base_path``."""
    if urls.base_path == "/":
        return document
    base = urls.base_path

    def html(markup: Markup) -> Markup:
        return Markup(prefix_links(str(markup), base))  # noqa: S704 - the owner's own HTML

    def body(value: Markup | StoredHtml) -> Markup | StoredHtml:
        return html(value) if isinstance(value, Markup) else value.below(base)  # read later

    aliases = tuple(urls.url(alias) for alias in document.aliases)
    if isinstance(document, FaqEntry):
        return replace(document, answer_html=html(document.answer_html), aliases=aliases)
    if isinstance(document, (Page, NewsletterIssue)):
        return replace(document, url=urls.url(document.url),
                       image=urls.url(document.image) if document.image else "",
                       content_html=html(document.content_html), aliases=aliases)
    if isinstance(document, Post):
        return replace(document, url=urls.url(document.url),
                       image=urls.url(document.image) if document.image else "",
                       tags=_tags(document.tags, urls), content_html=body(document.content_html),
                       summary_html=html(document.summary_html), aliases=aliases)
    assert isinstance(document, Product)
    category = document.category
    return replace(
        document, url=urls.url(document.url), images=tuple(urls.url(i) for i in document.images),
        tags=_tags(document.tags, urls), content_html=html(document.content_html),
        summary_html=html(document.summary_html), aliases=aliases,
        category=Category(category.name, category.slug, urls.url(category.url)) if category else None,
    )


def _tags(tags: tuple[Tag, ...], urls: UrlBuilder) -> tuple[Tag, ...]:
    return tuple(Tag(tag.name, tag.slug, urls.url(tag.url)) for tag in tags)

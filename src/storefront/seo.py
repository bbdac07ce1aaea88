"""Sitemap, robots.txt, JSON-LD structured data and share-card metadata.

Pure: models in, strings out. JSON-LD follows what search engines require (Product with an Offer
and ISO currency, FAQPage with Questions, BlogPosting with dates and author, LocalBusiness with a
PostalAddress). Every JSON block is made safe to embed inside ``<script>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape  # &, < and > (what xml.sax.saxutils.escape does, without importing urllib)
from typing import Any

from storefront.config import SiteConfig
from storefront.documents import FaqEntry, Post, Product
from storefront.feeds import FeedLink, Photo, same_photo
from storefront.hours import hours_jsonld
from storefront.markdown import plain_text
from storefront.offers import merchant_fields, return_policy
from storefront.urls import UrlBuilder, written_url

_AVAILABILITY = {
    "in_stock": "https://schema.org/InStock",
    "out_of_stock": "https://schema.org/OutOfStock",
    "preorder": "https://schema.org/PreOrder",
    "discontinued": "https://schema.org/Discontinued",
}


@dataclass(frozen=True)
class PageMeta:
    """What ``<head>`` says about one output page."""

    title: str
    description: str
    url: str
    canonical: str
    og_type: str = "website"
    image: str = ""
    image_alt: str = ""
    image_width: int = 0  # of the share card, when storefront made it (0: unknown)
    image_height: int = 0
    jsonld: tuple[str | PostJsonLd, ...] = ()  # blocks, each written as it is
    noindex: bool = False
    published: datetime | None = None
    modified: datetime | None = None
    price: str = ""  # og:type product: product:price:amount and :currency
    currency: str = ""
    tags: tuple[str, ...] = ()  # og:type article: article:tag
    feeds: tuple[FeedLink, ...] = ()  # this page's own feeds, besides the blog's


def to_jsonld(data: dict[str, Any]) -> str:
    """Serialise for a ``<script type="application/ld+json">`` block (no ``</script>`` inside)."""
    text = json.dumps({"@context": "https://schema.org", **data}, ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def business_jsonld(config: SiteConfig, urls: UrlBuilder, sells_products: bool = False,
                    returns_link: str = "", photo: Photo = same_photo) -> dict[str, Any]:
    """The business: a ``LocalBusiness`` when it has a postal address, else (Google rejects a
    LocalBusiness without one) an ``OnlineStore`` when it sells products, or an ``Organization``.
    """
    business = config.business
    data: dict[str, Any] = {
        "@type": "LocalBusiness",
        "name": config.business_name,
        "url": urls.absolute(urls.url("/")),
    }
    if business.legal_name:
        data["legalName"] = business.legal_name
    if business.vat_number:
        data["vatID"] = business.vat_number
    if business.phone:
        data["telephone"] = business.phone
    if business.email:
        data["email"] = business.email
    if config.image:
        data["image"] = _link(urls, photo(urls.url(config.image)))
    address = business.address
    if any((address.street, address.city, address.postal_code)):
        data["address"] = {
            "@type": "PostalAddress", "streetAddress": address.street,
            "postalCode": address.postal_code, "addressLocality": address.city,
            "addressRegion": address.region, "addressCountry": address.country,
        }
    if business.geo is not None:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": business.geo.latitude,
                       "longitude": business.geo.longitude}
    hours = [entry for h in business.opening_hours if h.schema for entry in split_hours(h.schema)]
    if hours:
        data["openingHours"] = hours
    data.update(hours_jsonld(business))
    if config.social:
        data["sameAs"] = [link.url for link in config.social]
    if "address" not in data:
        data["@type"] = "OnlineStore" if sells_products else "Organization"
        # properties of a place, not of an organization
        for place_only in ("geo", "openingHours", "openingHoursSpecification",
                           "specialOpeningHoursSpecification"):
            data.pop(place_only, None)
    if config.returns is not None and sells_products:
        data["hasMerchantReturnPolicy"] = return_policy(config.returns, config, returns_link)
    return data


def post_jsonld(post: Post, config: SiteConfig, urls: UrlBuilder,
                photo: Photo = same_photo) -> dict[str, Any]:
    return _blog_posting(post, urls, config.business_name, _post_image(post, config, urls, photo))


def _post_image(post: Post, config: SiteConfig, urls: UrlBuilder, photo: Photo) -> str:
    """The absolute address of the image a post's BlogPosting names ("" without one)."""
    image = post.image or (urls.url(config.image) if config.image else "")
    return _link(urls, photo(image)) if image else ""


def _blog_posting(post: Post, urls: UrlBuilder, publisher: str, image: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "BlogPosting",
        "headline": post.title,
        "datePublished": post.date.isoformat(),
        "dateModified": (post.updated or post.date).isoformat(),
        "url": urls.absolute(post.url),
        "mainEntityOfPage": urls.absolute(post.url),
        "description": post.description,
        "publisher": {"@type": "Organization", "name": publisher},
    }
    if post.author:
        data["author"] = {"@type": "Person", "name": post.author}
    if image:
        data["image"] = image
    if post.tags:
        data["keywords"] = ", ".join(tag.name for tag in post.tags)
    return data


@dataclass(frozen=True, slots=True)
class PostSite:
    """What the structured data of every post of a build shares (one object for all of them)."""

    urls: UrlBuilder
    publisher: str
    trail: tuple[tuple[str, str], ...]  # the breadcrumbs before the post: (name, site path)

    @classmethod
    def of(cls, config: SiteConfig, urls: UrlBuilder, blog_label: str) -> PostSite:
        return cls(urls, config.business_name, ((config.title, urls.url("/")),
                                                 (blog_label, urls.url(config.permalinks.blog))))


@dataclass(frozen=True, slots=True)
class PostJsonLd:
    """One structured data block of a post's page, serialised when the page renders.

    Templates write it as they write a block of text (``{{ data|safe }}`` asks for
    ``__html__``). A plan held the text of both blocks of every post, from planning to the end
    of rendering: 22 MiB at 10,000 posts, in every process of the build. The fields are all the
    text is made of, so a page's signature, which reads them, changes when the text would; the
    post's own fields are a recorded read of its card, like a template's.
    """

    block: str  # "post" (its BlogPosting) or "crumbs" (its BreadcrumbList)
    post: Post
    site: PostSite
    image: str  # the absolute address of the BlogPosting's image ("" without one)

    @classmethod
    def both(cls, post: Post, config: SiteConfig, site: PostSite, photo: Photo
             ) -> tuple[PostJsonLd, PostJsonLd]:
        image = _post_image(post, config, site.urls, photo)
        return cls("post", post, site, image), cls("crumbs", post, site, image)

    def __html__(self) -> str:
        from storefront.deps import current

        recorder = current()
        if recorder is not None:
            recorder.read_document(self.post.source, "card")
        post, site = self.post, self.site
        if self.block == "crumbs":
            return to_jsonld(breadcrumbs_jsonld([*site.trail, (post.title, post.url)], site.urls))
        return to_jsonld(_blog_posting(post, site.urls, site.publisher, self.image))

    def __str__(self) -> str:
        return self.__html__()


def product_jsonld(product: Product, config: SiteConfig, urls: UrlBuilder,
                   returns_link: str = "", photo: Photo = same_photo) -> dict[str, Any]:
    """A Product with its Offer and the fields Google's merchant listings read.

    Images here, as in the other blocks, are the plain copies ``photo`` gives (the largest JPEG
    or PNG, as the merchant feed links): Google reads structured data's images in the formats
    Google Images shows, which an iPhone's HEIC or a TIFF is not.
    """
    product_fields, offer_fields = merchant_fields(product, config, returns_link)
    offer: dict[str, Any] = {
        "@type": "Offer",
        "price": str(product.current_price),
        "priceCurrency": product.currency,
        "availability": _AVAILABILITY[product.availability],
        "url": urls.absolute(product.url),
    }
    if product.on_sale and product.sale_last_day is not None:
        offer["priceValidUntil"] = product.sale_last_day.date().isoformat()
    offer.update(offer_fields)
    data: dict[str, Any] = {
        "@type": "Product",
        "name": product.title,
        "url": urls.absolute(product.url),
        "offers": offer,
        **product_fields,
    }
    if product.sku:
        data["sku"] = product.sku
    if product.summary:
        data["description"] = plain_text(str(product.summary_html))  # Markdown, as text
    if product.images:
        data["image"] = [_link(urls, photo(image)) for image in product.images]
    if product.category is not None:
        data["category"] = product.category.name
    return data


def _link(urls: UrlBuilder, url: str) -> str:
    """An owner-written URL (an image's path) absolute and percent-encoded, as structured data
    takes it: ``/assets/foto del forno.jpg`` was written with its spaces (escapes the owner
    wrote stay as they are)."""
    return urls.absolute(written_url(url, "?#"))


def faq_jsonld(entries: Iterable[FaqEntry]) -> dict[str, Any]:
    from storefront.markdown import plain_text

    return {
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": entry.question,
             "acceptedAnswer": {"@type": "Answer", "text": plain_text(str(entry.answer_html))}}
            for entry in entries
        ],
    }


def breadcrumbs_jsonld(trail: list[tuple[str, str]], urls: UrlBuilder) -> dict[str, Any]:
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": index, "name": name, "item": urls.absolute(url)}
            for index, (name, url) in enumerate(trail, 1)
        ],
    }


def split_hours(schema: str) -> list[str]:
    """``Tu-Fr 09:30-13:00,15:30-19:00`` -> one schema.org openingHours entry per time range."""
    days, _, ranges = schema.strip().partition(" ")
    if "," not in ranges:
        return [schema.strip()]
    return [f"{days} {part.strip()}" for part in ranges.split(",") if part.strip()]


@dataclass(frozen=True)
class SitemapEntry:
    url: str  # absolute
    lastmod: datetime | None = None


def render_sitemap(entries: Iterable[SitemapEntry]) -> bytes:
    """A sitemaps.org 0.9 document, sorted by URL."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for entry in sorted(entries, key=lambda e: e.url):
        lines.append("  <url>")
        lines.append(f"    <loc>{escape(entry.url, quote=False)}</loc>")
        if entry.lastmod is not None:
            lines.append(f"    <lastmod>{entry.lastmod.isoformat()}</lastmod>")
        lines.append("  </url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_robots(sitemap_url: str) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap_url}\n".encode()

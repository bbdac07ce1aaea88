"""What pages know of the site's images, and the ``<picture>`` markup that shows them.

Stage 6, pure. The image stage (:mod:`storefront.images`) leaves an :class:`ImageCatalog`: for
each image a page shows, its own URL, its size and its resized copies (URLs named by content
hash), and the share cards cut from it. Templates reach it through ``image(path)`` and
``picture(path, alt, ...)`` (both recorded as dependencies of the page, so a replaced photo
re-renders exactly the pages that show it), and the Markdown of documents, whose HTML holds
``<img src="/assets/...">`` as the owner wrote it, is rewritten here when a page shows it, not
when it is parsed: the parsed document stays valid whatever happens to the photo.

Every ``<img>`` gets ``width`` and ``height`` (no layout shift) and ``loading="lazy"`` with
``decoding="async"``, except the first of a page, which is likely what the visitor sees first
(``fetchpriority="high"``, loaded at once).
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from markupsafe import Markup, escape

from storefront.htmltags import Attribute, mentions_tag, tags
from storefront.urls import is_site_path

MODERN_ORDER = ("avif", "webp")  # offered in this order: the browser takes the first it knows
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}


@dataclass(frozen=True)
class Variant:
    url: str
    width: int
    height: int
    format: str  # "jpeg", "png", "webp", "avif"


@dataclass(frozen=True)
class Card:
    """A share card (``og:image``): 1200x630 unless the photo is smaller."""

    url: str
    width: int
    height: int


@dataclass(frozen=True)
class ImageInfo:
    """One image as pages see it."""

    url: str  # its own URL: the photo without metadata, or the file as it is (SVG, GIF)
    width: int  # upright size of the photo; 0 when unknown (an SVG that states no size)
    height: int
    variants: tuple[Variant, ...] = ()  # by width, then format
    fallback: str = ""  # the format of the <img> itself: "jpeg", "png" or "webp"

    def offered(self, max_width: int | None = None) -> tuple[Variant, ...]:
        """The variants up to ``max_width`` (at least the smallest width, whatever the limit)."""
        if max_width is None or not self.variants:
            return self.variants
        smallest = min(v.width for v in self.variants)
        return tuple(v for v in self.variants if v.width <= max(max_width, smallest))

    @property
    def largest(self) -> Variant | None:
        """The widest copy in the fallback format (JPEG or PNG for a photo): what a feed or a
        merchant listing should link to."""
        found = [v for v in self.variants if v.format == self.fallback]
        return found[-1] if found else None


def site_path(url: str, base_path: str) -> str:
    """A URL of the site as the catalog's keys are: no base path, no fragment or query,
    percent-decoded, Unicode NFC (a Mac writes "é" as two code points, an editor as one)."""
    prefix = base_path.rstrip("/")
    path = url[len(prefix):] if prefix and url.startswith(prefix + "/") else url
    return unicodedata.normalize("NFC", unquote(path.split("#", 1)[0].split("?", 1)[0]))


@dataclass(frozen=True, eq=False)
class ImageCatalog:
    """Every image of a build by site path (``/assets/x.jpg``, without the base path).

    Two catalogs are equal when their :attr:`fingerprint` is: what a page could show of any
    image is the same (a long-lived session compares this build's with the last one's).
    """

    images: Mapping[str, ImageInfo] = field(default_factory=dict)
    cards: Mapping[str, Card] = field(default_factory=dict)  # key: "<site path> <focus>"
    base_path: str = "/"

    def site_path(self, url: str) -> str:
        return site_path(url, self.base_path)

    def info(self, url: str) -> ImageInfo | None:
        """The image at ``url`` (written with or without the base path), if the build has it."""
        return self.images.get(self.site_path(str(url)))

    def card(self, url: str, focus: str = "") -> Card | None:
        return self.cards.get(f"{self.site_path(url)} {focus}")

    def fallback_url(self, url: str) -> str:
        """The URL of the largest JPEG/PNG copy of an image (its own URL when it has none):
        for feeds and merchant listings, which take one plain image."""
        info = self.info(url)
        if info is None:
            return url
        largest = info.largest
        return largest.url if largest is not None else info.url

    @functools.cached_property
    def fingerprint(self) -> str:
        """Changes whenever anything a page could show of any image changes."""
        text = repr(sorted(self.images.items())) + repr(sorted(self.cards.items())) + self.base_path
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageCatalog) and self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)


class PageImages:
    """Counts the images of the page being rendered: the first is loaded at once."""

    def __init__(self, count: int = 0) -> None:
        self.count = count  # images shown so far

    def next_is_first(self) -> bool:
        self.count += 1
        return self.count == 1


def picture_html(info: ImageInfo | None, src: str, alt: str, sizes: str, first: bool,
                 max_width: int | None = None, attributes: str = "", sized: bool = True) -> str:
    """``<picture>`` with a ``<source>`` per modern format and an ``<img>`` in the fallback
    format; a plain ``<img>`` for an image without copies (SVG, GIF, an external URL).

    ``alt`` and ``attributes`` are already escaped HTML (attributes as ` name="value"` pairs);
    ``sized=False`` leaves ``width``/``height`` to ``attributes``.
    """
    loading = ' fetchpriority="high"' if first else ' loading="lazy" decoding="async"'
    if info is None or not info.variants:
        url = info.url if info is not None else src
        size = f' width="{info.width}" height="{info.height}"' if sized and info and info.width else ""
        return f'<img src="{escape(url)}" alt="{alt}"{size}{attributes}{loading}>'
    offered = info.offered(max_width)

    def srcset(fmt: str) -> str:  # the copies offered in one format
        return ", ".join(f"{v.url} {v.width}w" for v in offered if v.format == fmt)

    fallback = [v for v in offered if v.format == info.fallback]
    biggest = fallback[-1]
    size = f' width="{biggest.width}" height="{biggest.height}"' if sized else ""
    escaped_sizes = escape(sizes)
    sources = "".join(
        f'<source type="{MIME[fmt]}" srcset="{escape(srcset(fmt))}" sizes="{escaped_sizes}">'
        for fmt in MODERN_ORDER if fmt != info.fallback and any(v.format == fmt for v in offered))
    middle = fallback[(len(fallback) - 1) // 2]
    return (f'<picture>{sources}<img src="{escape(middle.url)}" '
            f'srcset="{escape(srcset(info.fallback))}" sizes="{escaped_sizes}"'
            f'{size} alt="{alt}"{attributes}{loading}></picture>')


_REPLACED = {"src", "srcset", "sizes", "loading", "decoding", "fetchpriority", "alt"}


def rewrite_images(markup: str, lookup: Callable[[str], ImageInfo | None], sizes: str,
                   page: PageImages) -> Markup:
    """Owner HTML with each ``<img>`` of a site image turned into a ``<picture>``.

    The tags and attributes are read as a browser reads them (:mod:`storefront.htmltags`:
    ``src='/x.jpg'``, ``SRC=/x.jpg`` too). Other attributes the owner wrote (class, title, id)
    stay on the ``<img>``; an owner's own ``width``/``height`` win over the photo's. Images
    already inside a ``<picture>`` are left as written.
    """
    if not mentions_tag(markup, "img"):
        return Markup(markup)  # noqa: S704 - the owner's own HTML, as parsed
    parts: list[str] = []
    done = 0
    in_picture = False
    for tag in tags(markup, ("img", "picture")):
        if tag.name == "picture":
            in_picture = not tag.closing
            continue
        src = tag.value("src") or ""
        if tag.closing or in_picture or not is_site_path(src):
            continue
        info = lookup(src)
        first = page.next_is_first()
        attributes = tag.attributes
        owner_size = "width" in attributes or "height" in attributes
        rest = "".join(f' {name}="{_value(attribute)}"' for name, attribute in attributes.items()
                       if name not in _REPLACED and (owner_size or name not in ("width", "height")))
        alt = _value(attributes["alt"]) if "alt" in attributes else ""
        parts += (markup[done:tag.start],
                  picture_html(info, src, alt, sizes, first, attributes=rest, sized=not owner_size))
        done = tag.end
    # the owner's HTML with our own attributes
    return Markup("".join(parts) + markup[done:])  # noqa: S704


def _value(attribute: Attribute) -> str:
    """An attribute's value as written (already HTML-escaped in the owner's markup), for
    double quotes."""
    return attribute.written.replace('"', "&quot;")

"""Turn permalink patterns into URLs and URLs into output file paths.

Pure. URLs in every model already carry the site's base path (``/shop/`` when ``base_url`` is
``https://example.com/shop/``), so templates print them as they are. Output paths are relative to
the output directory and are checked so that nothing can ever land outside it.
"""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote, urlsplit


class UnsafePath(ValueError):
    """A URL that would write outside the output directory."""


@dataclass(frozen=True)
class UrlBuilder:
    """Knows the base path and base URL of the site."""

    base_url: str  # "https://example.com/shop/" or "" for local builds (percent-encoded, ASCII)
    base_path: str = "/"  # decoded, as every site path of the model is: "/caffè/"

    @classmethod
    def from_base_url(cls, base_url: str) -> UrlBuilder:
        path = unquote(urlsplit(base_url).path) if base_url else "/"
        return cls(base_url, path if path.endswith("/") else path + "/")

    def url(self, site_path: str) -> str:
        """``/feed.xml`` -> ``/shop/feed.xml`` (absolute URLs pass through)."""
        if site_path.startswith(("http://", "https://", "mailto:", "tel:")):
            return site_path
        return self.base_path + site_path.lstrip("/")

    def absolute(self, url: str) -> str:
        """``/shop/x/`` -> ``https://example.com/shop/x/``; needs ``base_url`` for a full URL.

        Percent-encoded (``/caffè/`` -> ``/caff%C3%A8/``, escapes already made stay as they
        are): sitemaps, feeds and ``og:url`` take only such URLs."""
        if url.startswith(("http://", "https://")) or not self.base_url:
            return url
        return _absolute(self.base_url, url)

    def permalink(self, pattern: str, slug: str, moment: datetime | None = None,
                  category: str = "") -> str:
        values = {"slug": slug, "category": category or "senza-categoria"}
        if moment is not None:
            values.update(
                year=f"{moment.year:04d}", month=f"{moment.month:02d}", day=f"{moment.day:02d}"
            )
        return self.url(pattern.format(**values))

    def output_path(self, url: str) -> str:
        """The file a URL is served from, relative to the output directory."""
        return _output_path(self.base_path, url)


@functools.lru_cache(maxsize=65536)
def _absolute(base_url: str, url: str) -> str:
    """(Remembered: the sitemap, the feeds and every page's head ask for the same URLs at each
    build, and the preview builds at every save.)"""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{written_url(url, '?#')}"


@functools.lru_cache(maxsize=65536)
def _output_path(base_path: str, url: str) -> str:
    """(Remembered: a build asks for the same few thousand paths several times.)"""
    if not url.startswith(base_path):
        raise UnsafePath(f"{url} is outside the site's base path {base_path}")
    relative = url[len(base_path):].split("#", 1)[0]
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    return safe_relative_path(relative)


def is_site_path(url: str) -> bool:
    """``/x/`` is a path of this site; ``//host/x/`` (another site) and ``x/`` are not."""
    return url.startswith("/") and not url.startswith("//")


#: bytes of one file or folder name: what ext4, APFS and most other file systems allow (an
#: accented letter takes two); a longer name fails the write ("File name too long")
#: how an SVG's name ends, compressed ones too (many hosts serve them as an SVG with
#: Content-Encoding: gzip): no social site shows one, and no card is cut from one
SVG_NAMES = (".svg", ".svgz", ".svg.gz")


def link_file_name(link: str) -> str:
    """A link's path in lower case without its query or fragment: what its name tells of the
    file's kind (``/assets/Logo.SVG?v=2`` -> ``/assets/logo.svg``)."""
    return link.split("#", 1)[0].split("?", 1)[0].lower()


NAME_BYTES = 255


def longest_name(path: str) -> str:
    """The longest file or folder name of ``path`` (``/``-separated), by its UTF-8 bytes."""
    return max(path.split("/"), key=lambda name: len(name.encode("utf-8", "surrogatepass")))


STATIC_FOLDER = "static"  # where the theme's static files are published, below the site root
# what may stay as it is in a URL path (RFC 3986 pchar and "/"); the rest is percent-encoded
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def url_path(path: str) -> str:
    """A file's site path as a URL writes it: percent-encoded (``/assets/foto 1.jpg`` ->
    ``/assets/foto%201.jpg``). A space would end a URL in ``srcset``, a ``#`` or ``?`` cut it
    short, and feeds, ``og:image`` and structured data take only encoded URLs."""
    return quote(path, safe=PATH_SAFE)


def written_url(url: str, keep: str = "") -> str:
    """A URL as the owner wrote it, with what may not stay in it percent-encoded: escapes the
    owner wrote (``%20``) and the characters of ``keep`` (``#``, ``?``) stay as they are."""
    return quote(url, safe=PATH_SAFE + "%" + keep)


def folders_of(path: str) -> list[str]:
    """The folders an output path needs: ``a/b/index.html`` -> ``["a", "a/b"]``. A file at one
    of them and this path cannot both be written."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]


def safe_relative_path(relative: str) -> str:
    """Normalise a relative output path; refuse anything that escapes the output directory."""
    if "\\" in relative or "\x00" in relative:
        raise UnsafePath(f"{relative!r} is not a safe output path")
    normalized = posixpath.normpath(relative)
    if normalized.startswith(("/", "../")) or normalized in ("..", ".", ""):
        raise UnsafePath(f"{relative!r} points outside the output directory")
    return normalized

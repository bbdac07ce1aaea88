"""Old addresses that keep working: ``aliases:`` as redirect pages, ``_redirects`` and an nginx map.

Pure: documents in, redirects, problems and file contents out. Each alias of a published
document gets:

- a small HTML page at the old address (canonical link, ``meta refresh`` to the new address, a
  plain link, ``noindex``): it works on any static host, with no server configuration. Aliases
  ending in ``/`` or ``.html``/``.htm`` are written as such; ``/vecchio`` becomes
  ``/vecchio/index.html`` (static hosts serve a folder's index there); other names (``.php``)
  get no page, only the server rules below;
- a line in ``_redirects`` (Netlify and Cloudflare Pages read it from the site root and answer
  with a real ``301``);
- an entry in ``nginx-redirects.conf``, a ``map`` the owner includes in their own nginx
  (see docs/redirects.md).

An alias that is the address of a real page or file, or of another alias, is an error on the line
of that alias: one of the two would silently win.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storefront.documents import Document, FaqEntry, item_line
from storefront.errors import ContentError, error_at
from storefront.urls import UnsafePath, UrlBuilder, folders_of, written_url

REDIRECTS_FILE = "/_redirects"
NGINX_MAP_FILE = "/nginx-redirects.conf"
NGINX_VARIABLE = "$storefront_redirect"
_PAGE_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class Redirect:
    """An old address (``source``) and the document's address (``target``), both site URLs."""

    source: str
    target: str
    title: str  # the target's title, for the redirect page
    document: str  # the content file that declares the alias
    line: int

    @property
    def page_url(self) -> str | None:
        """Where the redirect page goes, or None when the old name cannot hold an HTML page."""
        name = posixpath.basename(self.source.rstrip("/"))
        if self.source.endswith("/") or self.source.endswith(_PAGE_SUFFIXES):
            return self.source
        if "." not in name:
            return self.source + "/"
        return None


def collect_redirects(documents: Iterable[Document], faq_url: str) -> list[Redirect]:
    """The aliases of ``documents`` (the published ones), sorted by file and line."""
    found: list[Redirect] = []
    for document in documents:
        if isinstance(document, FaqEntry):
            target, title = f"{faq_url}#{document.anchor}", document.question
        else:
            target, title = document.url, document.title
        found.extend(Redirect(alias, target, title, document.source,
                              item_line(document, "aliases", number))
                     for number, alias in enumerate(document.aliases, 1))
    return sorted(found, key=lambda r: (r.document, r.line))


def _key(url: str, urls: UrlBuilder) -> str:
    """What an address occupies: its output file (so /a and /a/ are one address)."""
    return urls.output_path(url)


def check_redirects(redirects: Sequence[Redirect], claims: Sequence[tuple[str, str]],
                    urls: UrlBuilder) -> list[ContentError]:
    """An alias must be a free address: not a page or file of the site, not another alias."""
    taken: dict[str, str] = {}
    for url, source in claims:
        try:
            taken.setdefault(_key(url, urls), source)
        except UnsafePath:
            continue  # reported by the collision check of the plan
    errors: list[ContentError] = []
    aliases: dict[str, Redirect] = {}
    for redirect in redirects:
        try:
            key = _key(redirect.page_url or redirect.source, urls)
        except UnsafePath:
            errors.append(error_at(redirect.document, redirect.line,
                                   f"the alias {redirect.source} is outside the site's base "
                                   f"path {urls.base_path}", "write it from the site root"))
            continue
        if key == _key(redirect.target.split("#", 1)[0], urls):
            errors.append(error_at(redirect.document, redirect.line,
                                   f"the alias {redirect.source} is this page's own address",
                                   "remove it: an alias is an old address that should lead here"))
        elif key in taken:
            owner = taken[key]
            hint = ("remove the alias, or give that page another slug" if owner.startswith("content/")
                    else "remove the alias: the site itself writes that address")
            errors.append(error_at(redirect.document, redirect.line,
                                   f"the alias {redirect.source} is the address of {owner}", hint))
        elif key in aliases:
            other = aliases[key]
            for mine, theirs in ((redirect, other), (other, redirect)):
                errors.append(error_at(mine.document, mine.line,
                                       f"the alias {mine.source} is also an alias in "
                                       f"{theirs.document}:{theirs.line}",
                                       "an old address can lead to one page only: keep one of them"))
        aliases.setdefault(key, redirect)
    # a page at an old address needs folders: none may be a file of the site (``/feed.xml/``,
    # ``/_redirects``) or another alias's page (the build could not write it)
    for key, redirect in aliases.items():
        for folder in folders_of(key):
            if folder in aliases:
                other = aliases[folder]
                owner = f"the alias {other.source} in {other.document}:{other.line}"
            else:
                owner = taken.get(folder, "")
            if owner:
                errors.append(error_at(redirect.document, redirect.line,
                                       f"the alias {redirect.source} would be a page inside "
                                       f"{folder}, the file of {owner}",
                                       "remove the alias: that address cannot be a folder"))
    return errors


def _href(url: str) -> str:
    return written_url(url, "#")


def render_redirects_file(redirects: Sequence[Redirect]) -> bytes:
    """``_redirects`` for Netlify and Cloudflare Pages: ``/old /new 301`` per line.

    No ``!`` (force): Cloudflare refuses the line with it, and always redirects anyway; Netlify
    then serves the redirect page that exists at the old address, which redirects as well.
    """
    lines = ["# Old addresses (aliases: in the content) and where they moved; written by storefront.",
             "# Netlify and Cloudflare Pages read this file from the site root."]
    lines += [f"{_href(r.source)} {_href(r.target)} 301" for r in redirects]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _nginx_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_nginx_map(redirects: Sequence[Redirect]) -> bytes:
    """An nginx ``map`` from old paths to new ones, to include in the ``http`` block.

    Keys are decoded paths, as nginx's ``$uri`` is; an alias of a folder also matches without its
    final slash. Always written (an empty map when there are no aliases), so an ``include`` of it
    never breaks the owner's server configuration.
    """
    lines = ["# Old addresses (aliases: in the content) and where they moved; written by storefront.",
             "# Include it inside http { } and redirect in the server { } block of the site:",
             f"#     if ({NGINX_VARIABLE}) {{ return 301 {NGINX_VARIABLE}; }}",
             "# See docs/redirects.md.",
             f"map $uri {NGINX_VARIABLE} {{"]
    entries: dict[str, str] = {}
    for redirect in redirects:
        sources = [redirect.source]
        page = redirect.page_url
        if page is not None and page.endswith("/") and page != "/":
            sources = [page, page.rstrip("/")]
        for source in sources:
            entries.setdefault(source, _href(redirect.target))
    lines += [f"    {_nginx_string(source)} {_nginx_string(target)};"
              for source, target in entries.items()]
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")

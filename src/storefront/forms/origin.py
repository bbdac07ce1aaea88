"""Decide whether a request comes from a page of the site itself (the Origin/Referer check).

Allowed origins: the origin of ``base_url``, ``form_endpoint.allowed_origins``, the endpoint's own
origin when its URL is absolute, and the origin the request was sent to (a same-origin post, e.g.
the confirm page; scheme, host and port must all match). Any ``http://127.0.0.1:*`` /
``http://localhost:*`` / ``http://[::1]:*`` origin (the local preview) only when ``base_url`` is
unset or itself on loopback; a public site lists the preview's origin in ``allowed_origins``.

Browsers send ``Origin`` on every POST (same-origin ones included), so the ``Origin`` header is
decisive when present; ``Origin: null`` (a sandboxed frame, a ``no-referrer`` page, a file) is
refused. Without ``Origin`` the ``Referer``'s origin is used (very old browsers). A request with
neither is refused: no browser sends that, and a script that does can add the header.
No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL (lowercase, default port dropped)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def is_loopback(origin: str) -> bool:
    """``http://127.0.0.1:*``, ``http://localhost:*`` or ``http://[::1]:*``."""
    scheme, _, netloc = origin.partition("://")
    host = netloc if netloc.endswith("]") else netloc.rsplit(":", 1)[0]
    return scheme == "http" and host.strip("[]") in _LOOPBACK_HOSTS


def request_origin(environ: Mapping[str, Any]) -> str | None:
    """The origin a request was sent to: its scheme (behind a TLS-terminating proxy, from the
    trusted ``X-Forwarded-Proto``) and its ``Host``."""
    scheme = str(environ.get("wsgi.url_scheme") or "http")
    return origin_of(f"{scheme}://{environ.get('HTTP_HOST', '')}")


@dataclass(frozen=True)
class OriginCheck:
    ok: bool
    origin: str | None  # the request's origin, when known


class OriginPolicy:
    """The set of origins a form may be posted from."""

    def __init__(self, base_url: str, extra: Iterable[str], endpoint_url: str) -> None:
        site = [origin_of(url) for url in (base_url, *extra) if url]
        self.site_origins = frozenset(o for o in site if o)
        endpoint = origin_of(endpoint_url) if endpoint_url else None
        self.endpoint_origin = endpoint  # None: the endpoint is on the host of the site's pages
        self.origins = self.site_origins | ({endpoint} if endpoint else set())
        self.base_url = base_url
        base = origin_of(base_url) if base_url else None
        # any loopback port only while the site itself is local (the preview)
        self.any_loopback = base is None or is_loopback(base)

    def is_site_origin(self, origin: str, environ: Mapping[str, Any]) -> bool:
        """An origin the site's pages are served from (not the endpoint's own host when the
        endpoint has a host of its own)."""
        if origin in self.site_origins or (self.any_loopback and is_loopback(origin)):
            return True
        return self.endpoint_origin is None and origin == request_origin(environ)

    def form_action_sources(self) -> list[str]:
        """Where the endpoint's own pages may post to (CSP ``form-action``)."""
        local = ["http://127.0.0.1:*", "http://localhost:*"] if self.any_loopback else []
        return ["'self'", *sorted(self.origins), *local]

    def allows(self, origin: str, environ: Mapping[str, Any]) -> bool:
        if origin in self.origins or (self.any_loopback and is_loopback(origin)):
            return True
        # a same-origin post: scheme, host and port all equal
        return request_origin(environ) == origin

    def check(self, environ: Mapping[str, Any]) -> OriginCheck:
        header = environ.get("HTTP_ORIGIN")
        if header is not None:
            origin = origin_of(str(header)) if str(header).strip() != "null" else None
        else:
            referer = str(environ.get("HTTP_REFERER") or "")
            origin = origin_of(referer) if referer else None
        if origin is None:
            return OriginCheck(False, None)
        return OriginCheck(self.allows(origin, environ), origin)

    def back_url(self, environ: Mapping[str, Any]) -> str:
        """Where "back to the form" points: the Referer if it is ours, else the site's home."""
        referer = str(environ.get("HTTP_REFERER") or "")
        origin = origin_of(referer) if referer else None
        if origin is not None and self.allows(origin, environ):
            return referer
        return self.base_url or "/"


def success_url(page: str, base_url: str, origin: OriginCheck, from_site: bool) -> str:
    """Where to send the visitor after a success: the form's thank-you page.

    A site path such as /grazie/ is relative to the site's base path (/shop/grazie/ for a site
    published at https://example.com/shop/), like every link the owner writes. A visitor who
    came from another of the site's origins (the local preview) goes back there.
    """
    if urlsplit(page).scheme:
        return page
    base = base_url
    if origin.origin is not None and from_site:
        configured = urlsplit(base)
        same_site = base and origin.origin == f"{configured.scheme}://{configured.netloc}"
        base = base if same_site else origin.origin + "/"
    return urljoin(base, page.lstrip("/")) if base else page


def cors_headers(environ: Mapping[str, Any], origin: OriginCheck) -> list[tuple[str, str]]:
    """Let the page's script read the JSON answer (only for an accepted Origin)."""
    if origin.origin is None or environ.get("HTTP_ORIGIN") is None:
        return []
    return [("Access-Control-Allow-Origin", origin.origin), ("Vary", "Origin")]

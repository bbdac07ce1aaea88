"""Decide whether a request comes from a page of the site itself (the Origin/Referer check).

Allowed origins: the origin of ``base_url``, ``form_endpoint.allowed_origins``, the endpoint's own
origin when its URL is absolute, the host the request was sent to (a same-origin post, e.g. the
confirm page), and ``http://127.0.0.1:*`` / ``http://localhost:*`` for the local preview.

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
from urllib.parse import urlsplit

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


def _netloc(origin: str) -> str:
    return origin.split("://", 1)[1]


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
        self.origins = self.site_origins | ({endpoint} if endpoint else set())
        self.base_url = base_url

    def is_site_origin(self, origin: str) -> bool:
        """An origin the site's pages are served from (not the endpoint's own host)."""
        return origin in self.site_origins or is_loopback(origin)

    def allows(self, origin: str, environ: Mapping[str, Any]) -> bool:
        if origin in self.origins or is_loopback(origin):
            return True
        netloc = _netloc(origin)
        scheme = environ.get("wsgi.url_scheme", "http")
        own = origin_of(f"{scheme}://{environ.get('HTTP_HOST', '')}")
        # same host as the endpoint itself; the scheme may be lost behind a TLS-terminating proxy
        return own is not None and _netloc(own) == netloc

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

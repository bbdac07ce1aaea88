"""Signed links of the newsletter: confirm a sign-up, unsubscribe.

A token is ``<subscriber id>.<issued>.<mac>``: an HMAC-SHA256 (128 bits, base64url) under a key
derived for that one purpose from the endpoint's secret (:func:`~storefront.forms.spam.derive_key`),
so a confirmation token can never unsubscribe and the other way round, and neither is a fill-time
token. The MAC covers the subscriber's address, so a token cannot be moved to another subscriber:

* **confirm**: also covers the sign-up's nonce, a random value replaced on every new sign-up and
  cleared on unsubscribing, so a link is good for that one sign-up only; it expires
  ``confirm_days`` after it was issued.
* **unsubscribe**: ``issued`` is 0 and it never expires (an old issue's link must keep working).

Checking a token needs the subscriber's row (address, nonce): :func:`parse_token` splits it and
:meth:`LinkSigner.valid` compares MACs in constant time. Pure; no clock, no storage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from storefront.config import SiteConfig
from storefront.forms.spam import derive_key
from storefront.urls import UrlBuilder

Purpose = Literal["confirm", "unsubscribe"]
_MAX_TOKEN = 80


@dataclass(frozen=True)
class LinkToken:
    subscriber_id: int
    issued: int
    mac: str


def parse_token(text: str) -> LinkToken | None:
    """Split a token; None if it cannot be one of ours."""
    parts = text.strip().split(".")
    if len(text) > _MAX_TOKEN or len(parts) != 3:
        return None
    sid, issued, mac = parts
    if not (sid.isascii() and sid.isdigit() and issued.isascii() and issued.isdigit()):
        return None
    if len(sid) > 18 or len(issued) > 12:
        return None
    return LinkToken(int(sid), int(issued), mac)


class LinkSigner:
    """Issue and check the newsletter's signed tokens."""

    def __init__(self, secret: bytes) -> None:
        self._keys = {purpose: derive_key(secret, f"newsletter-{purpose}")
                      for purpose in ("confirm", "unsubscribe")}

    def confirm_token(self, subscriber_id: int, email: str, nonce: str, issued: int) -> str:
        return self._token("confirm", subscriber_id, email, nonce, issued)

    def unsubscribe_token(self, subscriber_id: int, email: str) -> str:
        return self._token("unsubscribe", subscriber_id, email, "", 0)

    def valid(self, purpose: Purpose, token: LinkToken, email: str, nonce: str = "") -> bool:
        """Whether ``token`` was made by us for this purpose, subscriber, address and nonce."""
        if purpose == "unsubscribe" and token.issued != 0:
            return False
        expected = self._mac(purpose, token.subscriber_id, email, nonce, token.issued)
        return hmac.compare_digest(expected.encode(), token.mac.encode("ascii", "replace"))

    def _token(self, purpose: Purpose, subscriber_id: int, email: str, nonce: str,
               issued: int) -> str:
        return f"{subscriber_id}.{issued}.{self._mac(purpose, subscriber_id, email, nonce, issued)}"

    def _mac(self, purpose: Purpose, subscriber_id: int, email: str, nonce: str,
             issued: int) -> str:
        message = f"{subscriber_id}\x00{email.lower()}\x00{nonce}\x00{issued}".encode()
        digest = hmac.new(self._keys[purpose], message, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def endpoint_base(config: SiteConfig) -> str:
    """The endpoint's public absolute URL, ending in ``/`` (``https://site/api/forms/``)."""
    urls = UrlBuilder.from_base_url(config.base_url)
    base = urls.absolute(urls.url(config.form_endpoint.url))
    return base if base.endswith("/") else base + "/"


def link_url(config: SiteConfig, form: str, purpose: Purpose, token: str) -> str:
    """``<endpoint>/<form>/<purpose>?t=<token>``, absolute."""
    return f"{endpoint_base(config)}{form}/{purpose}?{urlencode({'t': token})}"

"""Spam defence without third-party captchas: a signed fill-time token, a honeypot, a rate limit.

* The token is ``<issued-at>.<nonce>.<mac>``, an HMAC-SHA256 over the form name and the time it was
  issued. A form sent sooner than ``min_fill_seconds`` after its token was issued is "too fast"
  (bots post at once); a token for another form, a forged or a very old one is refused. Each token
  is good for one stored submission: :mod:`storefront.forms.storage` remembers used ones until
  they expire.
* The honeypot is a text field humans never see; anything in it marks the submission as spam.
* The rate limiter counts stored submissions per client with a sliding-window counter: two
  integers per client, so memory stays bounded whatever the traffic. A submission is counted
  when it is let through (a reservation) and given back if it is not stored, so simultaneous
  requests can never get past the limit together.

Keys come from one secret via HMAC, so the token key and the IP-hash salt differ. No I/O; the
clock is injected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from storefront.errors import StorefrontError
from storefront.formconfig import HONEYPOT_FIELD

Clock = Callable[[], float]

#: A token older than this is refused (the visitor gets a fresh one on the confirm page).
TOKEN_MAX_AGE_SECONDS = 24 * 3600


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A sub-key of ``secret`` for one purpose (tokens, IP hashes)."""
    return hmac.new(secret, b"storefront-forms:" + purpose.encode(), hashlib.sha256).digest()


def hash_ip(salt: bytes, address: str) -> str:
    """A salted, keyed hash of a client address: the address itself is never stored."""
    return hmac.new(salt, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def rate_limit_key(address: str) -> str:
    """The client a rate limit counts: the address, or its /64 network for IPv6.

    One IPv6 subscriber usually gets a whole /64, so counting single addresses would let one
    client rotate through billions of them.
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        # not an address (a misconfigured proxy header): all such clients share one bucket,
        # so rotating junk values cannot open a fresh quota each time
        return "invalid-address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def honeypot_filled(raw: Mapping[str, Sequence[str]]) -> bool:
    """True when the hidden honeypot field carries anything but whitespace."""
    return any(value.strip() for value in raw.get(HONEYPOT_FIELD, ()))


class TokenState(Enum):
    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"
    TOO_FAST = "too_fast"


class TokenSigner:
    """Issue and check the signed timestamp carried in the ``_ts`` field."""

    def __init__(self, key: bytes, clock: Clock) -> None:
        self._key = key
        self._clock = clock

    def issue(self, form: str) -> str:
        issued = str(int(self._clock()))
        nonce = secrets.token_urlsafe(6)
        return f"{issued}.{nonce}.{self._mac(form, issued, nonce)}"

    def check(
        self, form: str, token: str, min_age: float, max_age: float = TOKEN_MAX_AGE_SECONDS
    ) -> TokenState:
        if not token:
            return TokenState.MISSING
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit() or len(token) > 100:
            return TokenState.INVALID
        issued, nonce, mac = parts
        if not hmac.compare_digest(mac.encode(), self._mac(form, issued, nonce).encode()):
            return TokenState.INVALID
        age = self._clock() - int(issued)
        if age > max_age or age < -60:  # from the future: a clock jump, treat as stale
            return TokenState.EXPIRED
        if age < min_age:
            return TokenState.TOO_FAST
        return TokenState.OK

    @staticmethod
    def expires_at(token: str, max_age: float = TOKEN_MAX_AGE_SECONDS) -> float:
        """When a token that :meth:`check` accepted stops being accepted (its use is remembered
        until then)."""
        return int(token.split(".", 1)[0]) + max_age + 1

    def _mac(self, form: str, issued: str, nonce: str) -> str:
        message = f"{form}\x00{issued}\x00{nonce}".encode("utf-8", "replace")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Reservation:
    """One event counted by :meth:`RateLimiter.reserve` (if ``retry_after`` is None)."""

    key: str
    window: int  # the index of the window it was counted in
    retry_after: float | None  # None: allowed and counted; else refused, seconds to wait


class Limiter(Protocol):
    """Counts events per client: in this process (:class:`RateLimiter`) or in the database
    that several instances share (:class:`storefront.forms.shared_limit.SharedRateLimiter`)."""

    def reserve(self, key: str) -> Reservation:
        """Count one event if the limit allows it now; else count nothing and say how long to
        wait."""

    def release(self, reservation: Reservation) -> None:
        """Give back an event counted by :meth:`reserve` (a refused one counted nothing)."""


def window_verdict(limit: int, window: float, previous: int, current: int,
                   elapsed: float) -> float | None:
    """None if one more event fits in the sliding window, else the seconds to wait.

    The count is estimated as ``previous * (1 - elapsed/window) + current``, the usual smooth
    approximation of a sliding log (``elapsed``: seconds since the current window began).
    """
    if previous * (1 - elapsed / window) + current + 1 <= limit:
        return None
    if current + 1 > limit or previous == 0:
        return window - elapsed + 1
    # the previous window's weight must drop enough for one more event
    needed = (limit - current - 1) / previous
    return max(1.0, (1 - needed) * window - elapsed)


class RateLimiter:
    """Allow ``limit`` events per key in any ``window`` seconds (sliding-window counter).

    The count is estimated by :func:`window_verdict`. An event is checked and counted in one step
    (:meth:`reserve`), so concurrent callers never get past the limit together; an event that
    did not happen after all is given back with :meth:`release`. At most ``max_keys`` clients
    are tracked; the least recently seen are forgotten first. Thread-safe.
    """

    def __init__(self, limit: int, window: float, clock: Clock, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = float(window)
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        # key -> (index of the current window, count in the previous window, count in it)
        self._counts: OrderedDict[str, tuple[int, int, int]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        """Count one event; return None if allowed, else the seconds to wait before retrying."""
        return self.reserve(key).retry_after

    def reserve(self, key: str) -> Reservation:
        """Count one event if the limit allows it now; else count nothing and say how long to
        wait."""
        now = self._clock()
        with self._lock:
            index, previous, current = self._window(key, now)
            wait = window_verdict(self.limit, self.window, previous, current,
                                  now - index * self.window)
            if wait is not None:
                return Reservation(key, index, wait)
            self._counts[key] = (index, previous, current + 1)
            while len(self._counts) > self._max_keys:
                self._counts.popitem(last=False)
            return Reservation(key, index, None)

    def release(self, reservation: Reservation) -> None:
        """Give back an event counted by :meth:`reserve` (a refused one counted nothing)."""
        if reservation.retry_after is not None:
            return
        with self._lock:
            counts = self._counts.get(reservation.key)
            if counts is None:
                return  # forgotten meanwhile
            start, previous, current = counts
            if start == reservation.window:
                current = max(current - 1, 0)
            elif start == reservation.window + 1:  # its window has become the previous one
                previous = max(previous - 1, 0)
            self._counts[reservation.key] = (start, previous, current)

    def _window(self, key: str, now: float) -> tuple[int, int, int]:
        """The key's counts moved to the current window (and marked most recently seen)."""
        index = int(now // self.window)
        start, previous, current = self._counts.pop(key, (index, 0, 0))
        if start != index:
            previous = current if start == index - 1 else 0
            current = 0
        self._counts[key] = (index, previous, current)
        return index, previous, current


SECRET_ENV = "STOREFRONT_FORMS_SECRET"  # noqa: S105 - the name of a variable
_MIN_SECRET_LENGTH = 16


def resolve_secret(conn_secret: Callable[[], bytes], environ: Mapping[str, str]) -> bytes:
    """The secret from ``STOREFRONT_FORMS_SECRET``, else the one persisted in the database."""
    value = environ.get(SECRET_ENV, "")
    if not value:
        return conn_secret()
    if len(value) < _MIN_SECRET_LENGTH:
        raise StorefrontError(
            f"{SECRET_ENV} must be at least {_MIN_SECRET_LENGTH} characters long; "
            "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return value.encode("utf-8")

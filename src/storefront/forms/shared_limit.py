"""The submissions' rate limit counted in the database, shared by every endpoint instance.

The same sliding-window counter as :class:`storefront.forms.spam.RateLimiter` (and the same
arithmetic, :func:`~storefront.forms.spam.window_verdict`), with the two counts per client and
window in the table ``rate_limits`` instead of a process's memory: two instances behind one proxy
let a client through ``rate_limit`` times in a window, not twice that. An event is checked and
counted by one statement (an upsert whose update only happens while the limit allows it), so
simultaneous requests on any instance can never get past the limit together: PostgreSQL makes
them wait for each other on the client's row. Counts of windows that no longer matter are
deleted as time moves on. The client is the salted hash the endpoint computes, never an address.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from storefront.forms.database import Connection
from storefront.forms.spam import Reservation, window_verdict

Borrow = Callable[[], AbstractContextManager[Connection]]

_COUNT = "COALESCE((SELECT hits FROM rate_limits WHERE client = ? AND window_index = ?), 0)"


class SharedRateLimiter:
    """Allow ``limit`` events per key in any ``window`` seconds, counted in the database."""

    def __init__(self, borrow: Borrow, limit: int, window: float,
                 clock: Callable[[], float]) -> None:
        self.borrow = borrow
        self.limit = limit
        self.window = float(window)
        self.clock = clock
        self._swept = -1

    def reserve(self, key: str) -> Reservation:
        now = self.clock()
        index = int(now // self.window)
        elapsed = now - index * self.window
        weight = 1 - elapsed / self.window
        previous = (key, index - 1)
        with self.borrow() as conn:
            if self._swept != index:
                conn.execute("DELETE FROM rate_limits WHERE window_index < ?", (index - 1,))
                self._swept = index
            counted = conn.execute(
                "INSERT INTO rate_limits AS r (client, window_index, hits)"
                f" SELECT ?, ?, 1 WHERE ? * {_COUNT} + 1 <= ?"
                " ON CONFLICT (client, window_index) DO UPDATE SET hits = r.hits + 1"
                f" WHERE ? * {_COUNT} + r.hits + 1 <= ? RETURNING hits",
                (key, index, weight, *previous, self.limit, weight, *previous, self.limit),
            ).fetchone()
            if counted is not None:
                return Reservation(key, index, None)
            before, current = (int(conn.execute(f"SELECT {_COUNT}", (key, i)).fetchone()[0])
                               for i in (index - 1, index))
        wait = window_verdict(self.limit, self.window, before, current, elapsed)
        return Reservation(key, index, 1.0 if wait is None else wait)

    def release(self, reservation: Reservation) -> None:
        if reservation.retry_after is not None:
            return
        with self.borrow() as conn:
            conn.execute("UPDATE rate_limits SET hits = hits - 1 WHERE client = ?"
                         " AND window_index = ? AND hits > 0", (reservation.key, reservation.window))

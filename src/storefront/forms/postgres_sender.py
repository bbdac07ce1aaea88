"""Mail senders' identities on PostgreSQL: names that are alive while a session lock is held.

A sender takes a session-level advisory lock on a random 63-bit key, on a connection of its own
that it keeps for as long as it sends; the outbox rows it claims carry its name, which holds the
key. PostgreSQL releases the lock when that session ends, however the process ended (SIGKILL
closes its socket at once; the TCP keepalives set on the session notice a machine that vanished
within about 25 s), so any other sender tells a dead claimant from a live one by trying the
lock: a live sender's claims are never taken, a dead one's at once. No lease to renew, no clock.
This is the counterpart of the lock files SQLite's senders use (:mod:`storefront.forms.sender`).
"""

from __future__ import annotations

import os
import re
import secrets
from contextlib import suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg

from storefront.forms.database import StorageError

if TYPE_CHECKING:  # the database hands out senders (no import cycle at run time)
    from storefront.forms.postgres_store import PostgresDatabase

#: Server-side keepalives of a sender's lock session: a vanished machine's lock goes in ~25 s.
KEEPALIVE = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
             "tcp_keepalives_count": "3"}
_NAME = re.compile(r"[0-9]{1,10}-([0-9a-f]{16})")


class AdvisoryLockSender:
    """A mail sender's name, alive while its session holds the advisory lock the name carries.

    The name has the form of the lock-file senders' (``<pid>-<16 hex digits>``); the hex digits
    are the lock's key. Use as a context manager (or call :meth:`release`).
    """

    def __init__(self, database: PostgresDatabase) -> None:
        self._conn: psycopg.Connection[Any] | None = database.raw_connect(settings=KEEPALIVE)
        for _attempt in range(100):
            key = secrets.randbits(63)
            if _flag(self._conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))):
                break
        else:  # pragma: no cover - 100 collisions of 63-bit random keys
            raise StorageError("cannot take a sender lock in the form database")
        self.name = f"{os.getpid()}-{key:016x}"

    def alive(self, name: str) -> bool:
        """Whether the sender ``name`` still holds its lock (this one: until released, and as
        long as its session lasts)."""
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return False if name == self.name else _probe_failed()
        if name == self.name:
            return True
        match = _NAME.fullmatch(name)
        if match is None:
            return False
        try:  # taken and released by the same statement: only a held lock makes it fail
            taken = _flag(conn.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                       (int(match.group(1), 16),)))
        except psycopg.Error:
            return _probe_failed()
        return not taken

    def release(self) -> None:
        if self._conn is not None:
            with suppress(psycopg.Error):
                self._conn.close()  # the lock goes with the session
            self._conn = None

    def __enter__(self) -> AdvisoryLockSender:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _flag(cursor: psycopg.Cursor[Any]) -> bool:
    row = cursor.fetchone()
    return bool(row and row[0])


def _probe_failed() -> bool:
    """When liveness cannot be checked, the claimant counts as alive: a mail is left to its
    sender rather than sent twice."""
    return True

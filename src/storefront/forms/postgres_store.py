"""The PostgreSQL form database: connections, a pool, migration under a lock, sender identities.

Several endpoint instances (on one machine or several) and the owner's commands share one
database. What keeps them correct together:

* **Migration** runs once at start-up, inside a transaction holding an advisory lock
  (:mod:`storefront.forms.postgres_schema`): instances starting together migrate once.
* **Row locks**: a connection here supplies ``FOR UPDATE`` and ``FOR UPDATE SKIP LOCKED`` to
  the shared queries, so senders claiming the outbox at the same moment each take different
  rows without waiting, and read-then-write steps (a sign-up, a confirmation) wait for each other.
* **Sender identities** (:mod:`storefront.forms.postgres_sender`): a sender holds a session
  advisory lock for as long as it runs, and its claims carry the lock's key in their name:
  PostgreSQL releases the lock when the session ends, however the process ended, so another
  sender takes over a dead one's claims at once and never a live one's.
* **The rate limit** is counted in the database (:class:`~storefront.forms.shared_limit.SharedRateLimiter`),
  on pooled connections that commit without waiting for the disk (a counter lost in a crash of
  the server costs nothing).

Connections are in autocommit mode (transactions are opened explicitly) with a 10 s
``lock_timeout``, the counterpart of SQLite's busy timeout. The password is never in the URL
(the config refuses one): libpq reads ``PGPASSWORD``, ``~/.pgpass`` or a service file, and
``STOREFRONT_DATABASE_PASSWORD`` is passed on if set.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout

from storefront.forms.database import (
    BUSY_TIMEOUT_SECONDS,
    Connection,
    Cursor,
    Database,
    DatabaseError,
    StorageError,
)
from storefront.forms.postgres_schema import (
    MIGRATION_LOCK,
    SCHEMA_VERSION,
    current_version,
    pending_migrations,
)
from storefront.forms.postgres_sender import AdvisoryLockSender
from storefront.forms.sender import Sender
from storefront.forms.spam import Limiter

PASSWORD_ENV = "STOREFRONT_DATABASE_PASSWORD"  # noqa: S105 - the name of a variable
POOL_SIZE = 20
_TABLES_WITH_PERSONAL_DATA = "submissions, outbox, subscribers"


@functools.lru_cache(maxsize=512)
def _placeholders(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresConnection(Connection):
    """A psycopg connection in autocommit mode; errors become :class:`DatabaseError`."""

    for_update = " FOR UPDATE"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, database: PostgresDatabase, raw: psycopg.Connection[Any]) -> None:
        super().__init__(database)
        self.raw = raw
        self.backend_pid = raw.info.backend_pid

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            if params:
                return self.raw.execute(_placeholders(sql), params)
            return self.raw.execute(sql.encode())
        except psycopg.Error as exc:
            raise _translated(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with self.raw.cursor() as cursor:
                cursor.executemany(_placeholders(sql), rows)
        except psycopg.Error as exc:
            raise _translated(exc) from exc

    def begin(self) -> None:
        self.execute("BEGIN")

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    @property
    def usable(self) -> bool:
        return not (self.raw.closed or self.raw.broken)

    def close(self) -> None:
        self.raw.close()

    def scrub(self, wait_seconds: float) -> str:
        """Rewrite the tables that held the erased rows (``VACUUM FULL``), so that their bytes
        leave the table files: a plain VACUUM only marks their space reusable.

        ``VACUUM FULL`` needs the tables to itself for a moment (the endpoint's writes wait that
        long); it asks for them with a short lock timeout and retries for ``wait_seconds``. A
        session whose snapshot is older than the erasure (a ``pg_dump`` running, a long report)
        still sees the old rows, which are then kept: that is reported, as SQLite reports a
        reader that keeps its WAL.
        """
        started = self.execute("SELECT clock_timestamp()").fetchone()[0]
        deadline = time.monotonic() + wait_seconds
        timeout = self.execute("SHOW lock_timeout").fetchone()[0]
        self.execute("SELECT set_config('lock_timeout', '200ms', false)")
        try:
            while True:
                if not self._older_snapshots(started):
                    try:
                        self.execute(f"VACUUM FULL {_TABLES_WITH_PERSONAL_DATA}")
                        return ""
                    except DatabaseError as exc:
                        if not exc.busy:
                            return (f"the rows are deleted, but the tables could not be rewritten "
                                    f"({exc}); until they are (VACUUM FULL "
                                    f"{_TABLES_WITH_PERSONAL_DATA}, as their owner), the deleted "
                                    "data stays in the table files")
                if time.monotonic() >= deadline:
                    return ("another session (a backup, a long query) still uses the tables, so "
                            "PostgreSQL keeps the deleted rows in the table files for now; run "
                            "the command again when it is done")
                time.sleep(0.05)
        finally:
            self.execute("SELECT set_config('lock_timeout', ?, false)", (timeout,))

    def _older_snapshots(self, moment: Any) -> bool:
        return bool(self.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND backend_xmin IS NOT NULL AND xact_start < ?", (moment,)).fetchone()[0])


class PostgresDatabase(Database):
    """The PostgreSQL database at a ``postgresql://`` URL (without a password)."""

    kind = "postgresql"

    def __init__(self, url: str, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.url = url
        self.label = _without_password(url)
        self._options: dict[str, Any] = {"autocommit": True, "connect_timeout": 10,
                                         "application_name": "storefront-forms"}
        if env.get(PASSWORD_ENV):
            self._options["password"] = env[PASSWORD_ENV]
        self._migrated = False
        self._lock = threading.Lock()
        self._pools: dict[bool, ConnectionPool[Any]] = {}

    # -- connections ---------------------------------------------------------------------------

    def raw_connect(self, timeout: float = BUSY_TIMEOUT_SECONDS,
                    settings: Mapping[str, str] | None = None) -> psycopg.Connection[Any]:
        """A driver connection, set up (not migrated)."""
        try:
            raw = psycopg.connect(self.url, **self._options)
        except psycopg.Error as exc:
            raise StorageError(f"cannot connect to the form database {self.label}: "
                               f"{str(exc).strip()}") from exc
        try:
            self._configure(raw, timeout, settings)
        except psycopg.Error as exc:
            raw.close()
            raise StorageError(f"cannot use the form database {self.label}: {exc}") from exc
        return raw

    @staticmethod
    def _configure(raw: psycopg.Connection[Any], timeout: float = BUSY_TIMEOUT_SECONDS,
                   settings: Mapping[str, str] | None = None) -> None:
        values = {"lock_timeout": f"{int(timeout * 1000)}ms", **(settings or {})}
        for name, value in values.items():
            raw.execute("SELECT set_config(%s, %s, false)", (name, value))

    def connect(self, timeout: float = BUSY_TIMEOUT_SECONDS) -> PostgresConnection:
        raw = self.raw_connect(timeout)
        try:
            self.migrate(raw)
        except BaseException:
            raw.close()
            raise
        return PostgresConnection(self, raw)

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """A pooled connection (the endpoint's requests use these)."""
        with self._borrow(durable=True) as conn:
            yield conn

    @contextmanager
    def _borrow(self, durable: bool) -> Iterator[PostgresConnection]:
        pool = self._pool(durable)
        try:
            with pool.connection() as raw:
                yield PostgresConnection(self, raw)
        except PoolTimeout as exc:
            raise StorageError(f"no connection to the form database {self.label} became free "
                               f"in time: {exc}") from exc

    def _pool(self, durable: bool) -> ConnectionPool[Any]:
        with self._lock:
            pool = self._pools.get(durable)
            if pool is None:
                if not self._migrated:
                    self.connect().close()
                settings = {} if durable else {"synchronous_commit": "off"}
                pool = ConnectionPool(
                    self.url, kwargs=self._options, min_size=1, max_size=POOL_SIZE,
                    timeout=BUSY_TIMEOUT_SECONDS, open=True, name="storefront-forms",
                    configure=lambda raw: self._configure(raw, settings=settings),
                )
                self._pools[durable] = pool
            return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    # -- schema --------------------------------------------------------------------------------

    def migrate(self, raw: psycopg.Connection[Any]) -> None:
        """Bring the schema up to date, once, under an advisory lock (see postgres_schema)."""
        if self._migrated:
            return
        try:
            version = current_version(raw)
            if version != SCHEMA_VERSION:
                with raw.transaction():
                    raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    version = current_version(raw)  # another instance may have migrated
                    if version < SCHEMA_VERSION:
                        if version == 0:
                            raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                            raw.execute("INSERT INTO schema_version VALUES (0)")
                        for statement in itertools.chain(*pending_migrations(version)):
                            raw.execute(statement.encode())
                        raw.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))
        except psycopg.Error as exc:
            raise StorageError(f"cannot set up the form database {self.label}: "
                               f"{str(exc).strip()}") from exc
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the form database has schema version {version}, newer than this storefront "
                f"({SCHEMA_VERSION}); upgrade storefront")
        self._migrated = True

    # -- what differs from SQLite --------------------------------------------------------------

    def sender(self) -> Sender:
        return AdvisoryLockSender(self)

    def rate_limiter(self, limit: int, window: float, clock: Callable[[], float]) -> Limiter:
        from storefront.forms.shared_limit import SharedRateLimiter

        return SharedRateLimiter(lambda: self._borrow(durable=False), limit, window, clock)

    def committed(self, conn: Connection, ids: Sequence[int]) -> Sequence[int] | None:
        """Wait until the broken session is gone from the server (its COMMIT then either
        happened or never will), then look the submissions up."""
        if not isinstance(conn, PostgresConnection):
            return None
        try:
            with self.connect() as fresh:
                deadline = time.monotonic() + 2 * BUSY_TIMEOUT_SECONDS
                while fresh.execute("SELECT 1 FROM pg_stat_activity WHERE pid = ?",
                                    (conn.backend_pid,)).fetchone():
                    if time.monotonic() > deadline:
                        return None
                    time.sleep(0.05)
                return [int(row[0]) for row in fresh.execute(
                    "SELECT id FROM submissions WHERE id = ANY(?)", (list(ids),))]
        except StorageError:
            return None


def _translated(exc: psycopg.Error) -> DatabaseError:
    """The driver's error as ours; a lock wait that timed out (55P03) is ``busy``."""
    return DatabaseError(str(exc).strip(), busy=exc.sqlstate == "55P03")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))

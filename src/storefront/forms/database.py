"""The form database behind one interface: a SQLite file or a PostgreSQL server.

:class:`Database` is one configured database (``form_endpoint.database``): it opens
:class:`Connection` objects (created and migrated on first use), hands out short-lived ones
(:meth:`Database.session`: a fresh SQLite connection, or one from the PostgreSQL pool), and
provides what differs between the engines beyond SQL: how a mail sender proves it is still
running (:meth:`Database.sender`), where the submissions' rate limit is counted
(:meth:`Database.rate_limiter`), and what erasure must do after the rows are deleted
(:meth:`Connection.scrub`). The implementations are :mod:`storefront.forms.sqlite_store` and
:mod:`storefront.forms.postgres_store`; :mod:`storefront.forms.backends` picks one.

The queries themselves (:mod:`~storefront.forms.storage`, ``outbox``, ``subscribers``, ``issues``,
``erasure``) are written once, in the SQL both engines speak, with ``?`` placeholders; where the
engines differ in locking, a connection supplies the fragment (:attr:`Connection.for_update`,
:attr:`Connection.skip_locked`). Every value reaches SQL as a parameter. Driver errors come out
as :class:`DatabaseError`. No module outside the two implementations imports a driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from storefront.errors import StorefrontError

if TYPE_CHECKING:
    from storefront.forms.sender import Sender
    from storefront.forms.spam import Limiter

#: How long a statement waits for a lock held by another connection before it fails.
BUSY_TIMEOUT_SECONDS = 10.0


class StorageError(StorefrontError):
    """The database cannot be used (newer schema, unreadable file, server down, disk full...)."""


class DatabaseError(StorageError):
    """A statement failed: the driver's error, whichever the engine.

    ``busy``: it waited for a lock another connection held, until the timeout (a later
    statement would wait again: give up the whole transaction).
    """

    def __init__(self, message: str, *, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy


class Cursor(Protocol):
    """What a statement returns: rows to fetch, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(ABC):
    """One session with the database, in autocommit mode until :meth:`begin`."""

    #: Appended to a SELECT of rows the transaction is about to change, so that a concurrent
    #: transaction waits instead of deciding on the same old values ("" where a write
    #: transaction already excludes every other writer, as in SQLite).
    for_update: str = ""
    #: Appended to a SELECT that claims rows several senders may be claiming at that moment:
    #: each takes rows nobody else is locking, without waiting.
    skip_locked: str = ""

    def __init__(self, database: Database) -> None:
        self.database = database

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement (``?`` placeholders); raise :class:`DatabaseError`."""

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""

    @abstractmethod
    def begin(self) -> None:
        """Start a write transaction (SQLite: ``BEGIN IMMEDIATE``, taking the write lock)."""

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction, if the connection still has one."""
        if self.in_transaction and self.usable:
            self.execute("ROLLBACK")

    @property
    @abstractmethod
    def in_transaction(self) -> bool: ...

    @property
    def usable(self) -> bool:
        """False once the connection is broken (the server went away): open another."""
        return True

    @abstractmethod
    def close(self) -> None: ...

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """``with conn.transaction():`` commits at the end, rolls back on any exception."""
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def prepare_erasure(self) -> None:  # noqa: B027 - a hook; most engines need nothing
        """Called before rows are deleted on an owner's request (SQLite: overwrite freed pages)."""

    @abstractmethod
    def scrub(self, wait_seconds: float) -> str:
        """After an erasure committed: remove what the engine keeps of the deleted rows; return
        "" when done, else a sentence saying what is left and what to do."""

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Database(ABC):
    """One form database, as configured; hands out connections to it."""

    #: "sqlite" or "postgresql"
    kind: str
    #: for messages: the file's path, or the URL (which never holds a password)
    label: str

    @abstractmethod
    def connect(self, timeout: float = BUSY_TIMEOUT_SECONDS) -> Connection:
        """A connection of the caller's own (the database created and migrated if needed)."""

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """A connection for one short piece of work (a request), given back afterwards."""
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    @abstractmethod
    def sender(self) -> Sender:
        """A new identity for a mail sender, held (and seen as alive) until released."""

    def rate_limiter(self, limit: int, window: float, clock: Callable[[], float]) -> Limiter:
        """Where submissions per client are counted: in this process's memory by default."""
        from storefront.forms.spam import RateLimiter

        return RateLimiter(limit, window, clock)

    def owns_file(self, path: Path) -> bool:
        """Whether writing ``path`` would overwrite the database (or a file it needs)."""
        return False

    def committed(self, conn: Connection, ids: Sequence[int]) -> Sequence[int] | None:
        """After a COMMIT whose outcome is unknown (the connection broke during it): which of
        the submissions ``ids`` it stored, once that is certain; None if it cannot be told."""
        return None

    def close(self) -> None:  # noqa: B027 - a hook; SQLite holds nothing
        """Give back what the database object holds (a connection pool)."""

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

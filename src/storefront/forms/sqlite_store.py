"""The SQLite form database: one file in WAL mode, its schema history, its locks.

One file, in WAL mode with ``synchronous=FULL`` (a commit is on disk when it returns) and a busy
timeout, so the endpoint, the outbox sender and the owner's commands can use it at once. The schema
version lives in ``PRAGMA user_version``; each migration runs in one ``BEGIN IMMEDIATE``
transaction, so two processes starting together migrate once. A write transaction
(``BEGIN IMMEDIATE``) excludes every other writer, so the shared queries need no row locks here.
Mail senders prove they are running with lock files (:mod:`storefront.forms.sender`); the rate
limit is counted in each process's memory; after an erasure, freed pages are overwritten and the
WAL is emptied.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storefront.forms.database import (
    BUSY_TIMEOUT_SECONDS,
    Connection,
    Cursor,
    Database,
    DatabaseError,
    StorageError,
)
from storefront.forms.sender import Sender, SenderIdentity

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # version 1
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            form TEXT NOT NULL,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('received', 'spam')),
            data TEXT NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            ip_hash TEXT NOT NULL,
            consent_version TEXT NOT NULL DEFAULT '',
            consent_text TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX submissions_form ON submissions (form, id)",
        "CREATE INDEX submissions_email ON submissions (email)",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            locked_until REAL NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            sent_at TEXT
        )""",
        "CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL",
        "CREATE INDEX outbox_submission ON outbox (submission_id)",
    ),
    (  # version 2: fill-time tokens already used, until they expire
        """CREATE TABLE used_tokens (
            token TEXT PRIMARY KEY,
            expires_at REAL NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX used_tokens_expiry ON used_tokens (expires_at)",
    ),
    (  # version 3: an outbox claim names the sender holding it (see forms/sender.py)
        "ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''",
    ),
    (  # version 4: the newsletter: subscribers, issues, and an outbox for more than notifications
        """CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
            source TEXT NOT NULL CHECK (source IN ('form', 'import')),
            form TEXT NOT NULL DEFAULT '',
            submission_id INTEGER REFERENCES submissions (id) ON DELETE SET NULL,
            signed_up_at TEXT NOT NULL,
            signup_ip_hash TEXT NOT NULL DEFAULT '',
            consent_text TEXT NOT NULL DEFAULT '',
            consent_version TEXT NOT NULL DEFAULT '',
            evidence TEXT NOT NULL DEFAULT '',
            confirm_nonce TEXT NOT NULL DEFAULT '',
            confirm_sent_at TEXT,
            confirmed_at TEXT,
            confirm_ip_hash TEXT NOT NULL DEFAULT '',
            unsubscribed_at TEXT,
            unsubscribe_method TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX subscribers_status ON subscribers (status, id)",
        """CREATE TABLE newsletter_issues (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            slug TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL,
            html TEXT NOT NULL,
            text TEXT NOT NULL,
            source_digest TEXT NOT NULL,
            catalog TEXT NOT NULL DEFAULT '{}',
            queued_at TEXT NOT NULL,
            recipients INTEGER NOT NULL DEFAULT 0,
            finished_at TEXT
        )""",
        # the outbox now also carries confirmation mails and issues: rebuilt, since SQLite cannot
        # drop the NOT NULL of submission_id in place (no table references the outbox)
        """CREATE TABLE outbox_v4 (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'notification'
                CHECK (kind IN ('notification', 'confirmation', 'issue')),
            submission_id INTEGER REFERENCES submissions (id) ON DELETE CASCADE,
            subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
            issue_id INTEGER REFERENCES newsletter_issues (id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            locked_until REAL NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            sent_at TEXT,
            claimed_by TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            done_at REAL
        )""",
        """INSERT INTO outbox_v4 (id, submission_id, recipient, created_at, attempts,
            next_attempt_at, locked_until, last_error, sent_at, claimed_by, outcome)
           SELECT id, submission_id, recipient, created_at, attempts, next_attempt_at,
            locked_until, last_error, sent_at, claimed_by,
            CASE WHEN sent_at IS NULL THEN '' ELSE 'sent' END FROM outbox""",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_v4 RENAME TO outbox",
        "CREATE INDEX outbox_pending ON outbox (kind, next_attempt_at) WHERE sent_at IS NULL",
        "CREATE INDEX outbox_submission ON outbox (submission_id)",
        "CREATE INDEX outbox_subscriber ON outbox (subscriber_id)",
        "CREATE UNIQUE INDEX outbox_issue_recipient ON outbox (issue_id, subscriber_id)"
        " WHERE issue_id IS NOT NULL",
        "CREATE INDEX outbox_issue_done ON outbox (kind, done_at) WHERE done_at IS NOT NULL",
    ),
)

SCHEMA_VERSION = len(_MIGRATIONS)


class SqliteConnection(Connection):
    """A :class:`sqlite3.Connection` in autocommit mode; errors become :class:`DatabaseError`."""

    def __init__(self, database: SqliteDatabase, raw: sqlite3.Connection) -> None:
        super().__init__(database)
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            return self.raw.execute(sql, params)
        except sqlite3.Error as exc:
            raise DatabaseError(str(exc), busy=_busy(exc)) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.raw.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise DatabaseError(str(exc), busy=_busy(exc)) from exc

    def begin(self) -> None:
        self.execute("BEGIN IMMEDIATE")  # waits for the write lock (the busy timeout)

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def close(self) -> None:
        self.raw.close()

    def prepare_erasure(self) -> None:
        self.execute("PRAGMA secure_delete = ON")  # freed pages are overwritten with zeros

    def scrub(self, wait_seconds: float) -> str:
        if truncate_wal(self, wait_seconds):
            return ""
        return ("another program is reading the database, so what was deleted may still be in "
                "the database's write-ahead log (the -wal file); run the command again when it "
                "is done")


def _busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc))


class SqliteDatabase(Database):
    """The SQLite file at ``path`` (created, private to its owner, on first connection)."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)

    def connect(self, timeout: float = BUSY_TIMEOUT_SECONDS) -> SqliteConnection:
        return SqliteConnection(self, connect_file(self.path, timeout))

    def sender(self) -> Sender:
        return SenderIdentity(self.path)

    def owns_file(self, path: Path) -> bool:
        """The file itself or SQLite's files beside it: replacing one under a running endpoint
        would send its later commits to a deleted file."""
        siblings = {self.path.with_name(self.path.name + suffix).resolve()
                    for suffix in ("", "-wal", "-shm", "-journal")}
        return path.resolve() in siblings


def connect_file(path: Path, timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the database at ``path``.

    The connection is in autocommit mode: callers open transactions with ``BEGIN IMMEDIATE``.
    A new file (and its folder) is created readable by its owner only (:func:`create_private`);
    SQLite gives the ``-wal`` and ``-shm`` files the same mode as the database.
    """
    try:
        create_private(path)
        # mode=rw: SQLite never creates the file itself (it would, with the umask's mode, if
        # the file vanished since), so the only file creation is the private one above
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", timeout=timeout,
                               isolation_level=None, check_same_thread=False, uri=True)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open the form database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        _enable_wal(conn, timeout)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise StorageError(f"cannot use the form database {path}: {exc}") from exc
    except StorageError:
        conn.close()
        raise
    return conn


_CREATE_LOCK = threading.Lock()


def create_private(path: Path) -> None:
    """Create an empty database file at ``path``, mode 0600 in a 0700 folder, unless it exists.

    An existing file is never opened here. Closing *any* descriptor of a file drops every POSIX
    lock the process holds on it, SQLite's included: the locks of this process's other
    connections would vanish, and the next process that closes its connection would find the
    database unused, checkpoint it and delete the ``-wal`` and ``-shm`` still in use here, so
    later commits would go to a deleted file (and be lost). SQLite itself keeps such
    descriptors open until the last lock is gone; plain ``os.close`` does not. ``O_EXCL``
    makes the one descriptor opened here belong to a brand-new inode that no connection can
    hold yet, and ``_CREATE_LOCK`` keeps this process's other threads from connecting (through
    :func:`connect_file`) before it is closed. A file that exists keeps its mode.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _CREATE_LOCK:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            return
        os.close(descriptor)


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL (persistent in the file), retrying while another connection does the same.

    Changing the journal mode can fail with "database is locked" without waiting on the busy
    handler when two processes open a new database at the same moment.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise StorageError("cannot switch the form database to WAL mode: it stays locked")
        time.sleep(0.01)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION`, one transaction per version."""
    while True:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the form database has schema version {version}, newer than this storefront "
                f"({SCHEMA_VERSION}); upgrade storefront"
            )
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # re-read inside the write lock: another process may have migrated meanwhile
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) == version:
                for statement in _MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def truncate_wal(conn: SqliteConnection, wait_seconds: float) -> bool:
    """Checkpoint the whole WAL into the database and truncate it; False if readers prevented
    that for ``wait_seconds``."""
    timeout = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute("PRAGMA busy_timeout = 50")  # the checkpoint waits this long for readers
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {timeout}")

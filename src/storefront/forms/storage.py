"""The SQLite database of the form endpoint: schema, migrations and queries.

One file, in WAL mode with ``synchronous=FULL`` (a commit is on disk when it returns) and a busy
timeout, so the endpoint, the outbox sender and the owner's commands can use it at once. The schema
version lives in ``PRAGMA user_version``; each migration runs in one ``BEGIN IMMEDIATE``
transaction, so two processes starting together migrate once. Every statement is parameterised.
Submissions are written by :mod:`storefront.forms.writer`; this module holds the SQL.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storefront.config import SiteConfig
from storefront.errors import StorefrontError
from storefront.forms.subscribers import Signup, record_signup

BUSY_TIMEOUT_SECONDS = 10.0

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


class StorageError(StorefrontError):
    """The database cannot be used (newer schema, unreadable file, disk full...)."""


class TokenAlreadyUsed(Exception):
    """The submission's fill-time token was used by an earlier stored submission."""


@dataclass(frozen=True)
class NewSubmission:
    """A validated submission about to be written, with its notification recipient ("" = none)."""

    form: str
    created_at: str
    status: str
    data: dict[str, Any]
    email: str
    ip_hash: str
    consent_version: str = ""
    consent_text: str = ""
    notify: str = ""
    token: str = ""  # the fill-time token it was sent with; each is stored once
    token_expires: float = 0.0  # when that token stops being accepted anyway (epoch seconds)
    signup: Signup | None = None  # a newsletter sign-up (stored unless the submission is spam)

    @property
    def mails(self) -> bool:
        """Whether storing it may queue a mail (a notification or a confirmation)."""
        return bool(self.notify) or self.signup is not None


@dataclass(frozen=True)
class StoredSubmission:
    id: int
    form: str
    created_at: str
    status: str
    data: dict[str, Any]
    email: str
    consent_version: str
    consent_text: str


def connect(path: Path, timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
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
    :func:`connect`) before it is closed. A file that exists keeps its mode.
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


def stored_secret(conn: sqlite3.Connection) -> bytes:
    """The endpoint secret kept in the meta table, created on first use."""
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (secrets.token_hex(32),)
    )
    row = conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
    return bytes.fromhex(row[0])


def insert_submissions(conn: sqlite3.Connection, items: Sequence[NewSubmission]) -> list[int]:
    """Insert submissions (and their outbox rows) inside the caller's transaction.

    A submission with a ``token`` records it as used; if it already was, this raises
    :class:`TokenAlreadyUsed` before anything of that submission is written. Used tokens that
    have expired are deleted on the way.
    """
    ids: list[int] = []
    for item in items:
        if item.token:
            now = datetime.fromisoformat(item.created_at).timestamp()
            conn.execute("DELETE FROM used_tokens WHERE expires_at < ?", (now,))
            used = conn.execute(
                "INSERT INTO used_tokens (token, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (item.token, item.token_expires),
            )
            if used.rowcount != 1:
                raise TokenAlreadyUsed(item.token)
        cursor = conn.execute(
            "INSERT INTO submissions (form, created_at, status, data, email, ip_hash,"
            " consent_version, consent_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item.form, item.created_at, item.status, json.dumps(item.data, ensure_ascii=False),
             item.email, item.ip_hash, item.consent_version, item.consent_text),
        )
        submission_id = int(cursor.lastrowid or 0)
        ids.append(submission_id)
        if item.notify and item.status == "received":
            conn.execute(
                "INSERT INTO outbox (submission_id, recipient, created_at, next_attempt_at)"
                " VALUES (?, ?, ?, 0)",
                (submission_id, item.notify, item.created_at),
            )
        if item.signup is not None and item.status == "received":
            record_signup(conn, item.signup, submission_id,
                          datetime.fromisoformat(item.created_at))
    return ids


_COLUMNS = "id, form, created_at, status, data, email, consent_version, consent_text"


def _row(row: Sequence[Any]) -> StoredSubmission:
    return StoredSubmission(
        int(row[0]), row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7]
    )


def fetch_submissions(
    conn: sqlite3.Connection, form: str | None = None, *, include_spam: bool = False,
    limit: int | None = None, newest_first: bool = False,
) -> list[StoredSubmission]:
    """Submissions, oldest first (or newest first), optionally of one form and with spam."""
    where: list[str] = []
    params: list[Any] = []
    if form is not None:
        where.append("form = ?")
        params.append(form)
    if not include_spam:
        where.append("status = 'received'")
    sql = f"SELECT {_COLUMNS} FROM submissions"  # noqa: S608 - fixed column list, no input
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_row(row) for row in conn.execute(sql, params)]


def fetch_submission(conn: sqlite3.Connection, submission_id: int) -> StoredSubmission | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM submissions WHERE id = ?",  # noqa: S608 - fixed column list
        (submission_id,),
    ).fetchone()
    return _row(row) if row else None


@dataclass(frozen=True)
class FormCounts:
    form: str
    received: int
    spam: int
    latest: str


def count_by_form(conn: sqlite3.Connection) -> list[FormCounts]:
    rows = conn.execute(
        "SELECT form, SUM(status = 'received'), SUM(status = 'spam'), MAX(created_at)"
        " FROM submissions GROUP BY form ORDER BY form"
    )
    return [FormCounts(r[0], int(r[1]), int(r[2]), r[3] or "") for r in rows]


def database_path(config: SiteConfig, root: Path) -> Path:
    """The SQLite file of the endpoint (``form_endpoint.database``, relative to the site root)."""
    path = Path(config.form_endpoint.database)
    return path if path.is_absolute() else root / path

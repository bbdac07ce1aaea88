"""The submissions in the form database: storing them (with their mail and token), reading them.

The SQL runs on either engine (:mod:`storefront.forms.database`); every statement is
parameterised. Submissions are written by :mod:`storefront.forms.writer` in batches; this module
holds the SQL. The schemas are in :mod:`~storefront.forms.sqlite_store` and
:mod:`~storefront.forms.postgres_schema`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storefront.forms.database import BUSY_TIMEOUT_SECONDS as BUSY_TIMEOUT_SECONDS
from storefront.forms.database import Connection
from storefront.forms.database import StorageError as StorageError
from storefront.forms.subscribers import Signup, record_signup


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


def stored_secret(conn: Connection) -> bytes:
    """The endpoint secret kept in the meta table, created on first use (the first of several
    processes starting together wins; all of them read the same one)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('secret', ?) ON CONFLICT DO NOTHING",
        (secrets.token_hex(32),),
    )
    row = conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
    return bytes.fromhex(row[0])


def forget_expired_tokens(conn: Connection, items: Sequence[NewSubmission]) -> None:
    """Delete the used tokens that expired before the newest of ``items`` was sent (inside the
    caller's transaction; the writer does it once per batch)."""
    times = [datetime.fromisoformat(item.created_at).timestamp() for item in items if item.token]
    if times:
        conn.execute("DELETE FROM used_tokens WHERE expires_at < ?", (max(times),))


def insert_submissions(conn: Connection, items: Sequence[NewSubmission]) -> list[int]:
    """Insert submissions (and their outbox rows) inside the caller's transaction.

    A submission with a ``token`` records it as used; if it already was, this raises
    :class:`TokenAlreadyUsed` before anything of that submission is written (the token's row is
    unique: on PostgreSQL a second process inserting it waits for the first one's transaction
    and then finds it). Expired used tokens are deleted by :func:`forget_expired_tokens`.
    """
    ids: list[int] = []
    for item in items:
        if item.token:
            used = conn.execute(
                "INSERT INTO used_tokens (token, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (item.token, item.token_expires),
            )
            if used.rowcount != 1:
                raise TokenAlreadyUsed(item.token)
        submission_id = int(conn.execute(
            "INSERT INTO submissions (form, created_at, status, data, email, ip_hash,"
            " consent_version, consent_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (item.form, item.created_at, item.status, json.dumps(item.data, ensure_ascii=False),
             item.email, item.ip_hash, item.consent_version, item.consent_text),
        ).fetchone()[0])
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


def is_repeat(conn: Connection, item: NewSubmission, since: str) -> bool:
    """Whether a submission identical to ``item`` (its form, every value) was stored since
    ``since`` (an ISO time, as ``created_at``): a used token sent again with it is the same lead
    sent twice (a double-click), not a new one."""
    return conn.execute(
        "SELECT 1 FROM submissions WHERE form = ? AND status = 'received' AND created_at >= ?"
        " AND data = ? LIMIT 1",
        (item.form, since, json.dumps(item.data, ensure_ascii=False)),
    ).fetchone() is not None


_COLUMNS = "id, form, created_at, status, data, email, consent_version, consent_text"


def _row(row: Sequence[Any]) -> StoredSubmission:
    return StoredSubmission(
        int(row[0]), row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7]
    )


def fetch_submissions(
    conn: Connection, form: str | None = None, *, include_spam: bool = False,
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


def fetch_submission(conn: Connection, submission_id: int) -> StoredSubmission | None:
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


def count_by_form(conn: Connection) -> list[FormCounts]:
    rows = conn.execute(
        "SELECT form, SUM(CASE WHEN status = 'received' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'spam' THEN 1 ELSE 0 END), MAX(created_at)"
        " FROM submissions GROUP BY form ORDER BY form"
    )
    return [FormCounts(r[0], int(r[1]), int(r[2]), r[3] or "") for r in rows]

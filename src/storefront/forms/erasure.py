"""Erase one person's data from the form database (the GDPR right to erasure).

``storefront forms forget EMAIL`` lands here. Finding a person's submissions means more than the
e-mail column: the address may be in any field, and spam rows are searched too. Deleting is not
enough either: freed pages are overwritten and the WAL is emptied, so nothing lingers in the files.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass

from storefront.forms.subscribers import forget_subscriber


@dataclass(frozen=True)
class ForgetReport:
    deleted: int
    wal_cleared: bool  # False: a reader kept the WAL, which may still hold the erased data
    subscribers: int = 0  # newsletter subscribers deleted (0 or 1), with every mail to them


#: How long :func:`forget_email` keeps trying to empty the WAL while readers hold it.
FORGET_WAIT_SECONDS = 2.0


def forget_email(conn: sqlite3.Connection, email: str, *,
                 wait_seconds: float = FORGET_WAIT_SECONDS) -> ForgetReport:
    """Delete every submission (and queued mail) of one address, and the address from the
    newsletter; say how many.

    A submission is one of the address's when its e-mail column is the address or any of its
    fields contains it (:func:`submissions_mentioning`), whatever its status (spam included).
    The newsletter's subscriber row goes with its consent evidence and every confirmation and
    issue mail queued or sent to it: no trace of the address is left (so nothing remembers
    either that it had unsubscribed).

    ``secure_delete`` overwrites the freed pages and the WAL is checkpointed and truncated, so the
    data does not linger in the file after the owner was asked to erase it. A connection reading
    an older snapshot keeps the checkpoint from finishing; it is retried for ``wait_seconds`` and
    the report says whether the WAL was emptied.
    """
    address = email.strip().lower()
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        subscribers = forget_subscriber(conn, address)
        ids = submissions_mentioning(conn, address)
        conn.executemany("DELETE FROM outbox WHERE submission_id = ?", [(i,) for i in ids])
        conn.executemany("DELETE FROM submissions WHERE id = ?", [(i,) for i in ids])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return ForgetReport(len(ids), truncate_wal(conn, wait_seconds), subscribers)


def submissions_mentioning(conn: sqlite3.Connection, address: str) -> list[int]:
    """Ids of the submissions whose e-mail is ``address`` or with a field that contains it as a
    whole address (any case; ``anna.maria@x.it`` does not contain ``maria@x.it``)."""
    address = address.strip().lower()
    if not address:
        return []
    pattern = re.compile(
        rf"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]){re.escape(address)}(?![A-Za-z0-9-]|\.[A-Za-z0-9])",
        re.IGNORECASE,
    )
    ids: list[int] = []
    # lower() folds ASCII only, enough for a pre-filter: an address is ASCII
    rows = conn.execute(
        "SELECT id, email, data FROM submissions WHERE email = ? OR instr(lower(data), ?) > 0"
        " ORDER BY id",
        (address, address),
    )
    for submission_id, stored_email, data in rows:
        values = json.loads(data).values()
        if stored_email == address or any(
            isinstance(v, str) and pattern.search(v) for v in values
        ):
            ids.append(int(submission_id))
    return ids


def truncate_wal(conn: sqlite3.Connection, wait_seconds: float) -> bool:
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


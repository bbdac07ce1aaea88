"""Erase one person's data from the form database (the GDPR right to erasure).

``storefront forms forget EMAIL`` lands here. Finding a person's submissions means more than the
e-mail column: the address may be in any field, and spam rows are searched too. Deleting is not
enough either: what the engine keeps of deleted rows is removed too (SQLite: freed pages are
overwritten and the WAL is emptied; PostgreSQL: the tables are vacuumed), see
:meth:`~storefront.forms.database.Connection.scrub`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from storefront.forms.database import Connection
from storefront.forms.subscribers import forget_subscriber


@dataclass(frozen=True)
class ForgetReport:
    deleted: int
    leftover: str = ""  # what the engine may still keep of the erased rows ("" when nothing)
    subscribers: int = 0  # newsletter subscribers deleted (0 or 1), with every mail to them

    @property
    def scrubbed(self) -> bool:
        """Whether nothing of the erased rows is left in the database's files."""
        return not self.leftover


#: How long :func:`forget_email` keeps trying to empty the WAL while readers hold it.
FORGET_WAIT_SECONDS = 2.0


def forget_email(conn: Connection, email: str, *,
                 wait_seconds: float = FORGET_WAIT_SECONDS) -> ForgetReport:
    """Delete every submission (and queued mail) of one address, and the address from the
    newsletter; say how many.

    A submission is one of the address's when its e-mail column is the address or any of its
    fields contains it (:func:`submissions_mentioning`), whatever its status (spam included).
    The newsletter's subscriber row goes with its consent evidence and every confirmation and
    issue mail queued or sent to it: no trace of the address is left (so nothing remembers
    either that it had unsubscribed).

    Then the engine's copies go (SQLite: ``secure_delete`` overwrites the freed pages and the
    WAL is checkpointed and truncated; PostgreSQL: the tables are vacuumed), so the data does
    not linger in the files after the owner was asked to erase it. A connection reading an
    older snapshot keeps that from finishing; it is retried for ``wait_seconds`` and the report
    says what is left.
    """
    address = email.strip().lower()
    conn.prepare_erasure()
    with conn.transaction():
        subscribers = forget_subscriber(conn, address)
        ids = submissions_mentioning(conn, address)
        conn.executemany("DELETE FROM outbox WHERE submission_id = ?", [(i,) for i in ids])
        conn.executemany("DELETE FROM submissions WHERE id = ?", [(i,) for i in ids])
    return ForgetReport(len(ids), conn.scrub(wait_seconds), subscribers)


def submissions_mentioning(conn: Connection, address: str) -> list[int]:
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
    # a pre-filter: the JSON text contains the address in lowercase (an address is ASCII, which
    # lower() folds on both engines); LIKE with the pattern characters escaped
    pattern_text = "%" + re.sub(r"([\\%_])", r"\\\1", address) + "%"
    rows = conn.execute(
        "SELECT id, email, data FROM submissions WHERE email = ? OR lower(data) LIKE ? ESCAPE '\\'"
        " ORDER BY id",
        (address, pattern_text),
    )
    for submission_id, stored_email, data in rows:
        values = json.loads(data).values()
        if stored_email == address or any(
            isinstance(v, str) and pattern.search(v) for v in values
        ):
            ids.append(int(submission_id))
    return ids

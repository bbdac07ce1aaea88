"""The mail outbox: queued notifications, claims, delivery with retries and backoff.

A notification is queued in the same transaction as its submission, so a stored submission always
has its mail queued and a mail server that is down delays mail but loses none. A sender claims the
entries it is about to send in one transaction, writing its name (:mod:`storefront.forms.sender`)
into ``claimed_by``: the endpoint's sender thread and an owner's ``storefront forms send`` never
send the same entry at once, and whatever a sender claimed stays its own while it runs, however
long it takes. The claims of a sender that is no longer running are taken over by the next one at
once (they are released in the same transaction that claims). A failed attempt is retried after
``base * 2**(attempts-1)`` seconds, at most ``cap``. Entries are never dropped. A sender killed
between handing mails to the server and marking them sent leaves those claimed: they are sent
again by whoever takes over, so delivery is at least once; without a crash, exactly once.

``locked_until`` is still set with each claim, for a storefront of before ``claimed_by`` that
may run on the same file during an upgrade; an entry it locked (``claimed_by`` empty) is left
alone until then.
"""

from __future__ import annotations

import logging
import smtplib
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from storefront.forms.mailer import MailError
from storefront.forms.sender import SenderIdentity, sender_pid
from storefront.forms.storage import StoredSubmission, fetch_submission

log = logging.getLogger("storefront.forms")

RETRY_BASE_SECONDS = 60.0
RETRY_CAP_SECONDS = 3600.0
LEASE_SECONDS = 300.0
BATCH_SIZE = 200
_MAX_ID = 2**63 - 1

Compose = Callable[[StoredSubmission, str], EmailMessage]


class MailTransport(Protocol):
    def session(self) -> AbstractContextManager[smtplib.SMTP]: ...


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    submission_id: int
    recipient: str
    attempts: int


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    taken_over: int = 0  # entries claimed by senders that had stopped running, claimed anew
    dead_senders: list[int] = field(default_factory=list)  # their process ids (for messages)
    busy: int = 0  # unsent entries still claimed by another sender that is running


@dataclass(frozen=True)
class Claim:
    entries: list[OutboxEntry]
    taken_over: int  # released from senders that are no longer running
    dead_senders: list[int]
    busy: int  # unsent entries left to running senders (after this claim)


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    retrying: int  # pending entries that failed at least once
    sent: int
    last_error: str


def retry_delay(attempts: int, base: float = RETRY_BASE_SECONDS,
                cap: float = RETRY_CAP_SECONDS) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return float(min(cap, base * 2 ** min(max(attempts - 1, 0), 30)))


def claim_due(conn: sqlite3.Connection, now: float, sender: SenderIdentity, *,
              force: bool = False, limit: int = BATCH_SIZE, up_to: int | None = None) -> Claim:
    """Claim up to ``limit`` unsent entries that are due (all unsent ones with ``force``), of
    ids up to ``up_to`` if given.

    In one transaction: the claims of senders that are no longer running are released, then
    the free entries (and any this sender still holds from an attempt that failed half-way)
    are claimed in ``sender``'s name. Entries claimed by a running sender are left to it.
    """
    due = float("inf") if force else now
    conn.execute("BEGIN IMMEDIATE")
    try:
        holders = [row[0] for row in conn.execute(
            "SELECT DISTINCT claimed_by FROM outbox WHERE sent_at IS NULL"
            " AND claimed_by NOT IN ('', ?)", (sender.name,))]
        taken, dead = 0, []
        for holder in holders:
            if not sender.alive(holder):
                taken += conn.execute(
                    "UPDATE outbox SET claimed_by = '', locked_until = 0"
                    " WHERE sent_at IS NULL AND claimed_by = ?", (holder,)).rowcount
                pid = sender_pid(holder)
                if pid is not None:
                    dead.append(pid)
        rows = conn.execute(
            "UPDATE outbox SET claimed_by = ?, locked_until = ? WHERE id IN (SELECT id FROM outbox"
            " WHERE sent_at IS NULL AND next_attempt_at <= ? AND id <= ?"
            " AND (claimed_by = ? OR (claimed_by = '' AND locked_until <= ?))"
            " ORDER BY id LIMIT ?) RETURNING id, submission_id, recipient, attempts",
            (sender.name, now + LEASE_SECONDS, due, _MAX_ID if up_to is None else up_to,
             sender.name, now, limit),
        ).fetchall()
        busy = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND (claimed_by NOT IN ('', ?)"
            " OR (claimed_by = '' AND locked_until > ?))", (sender.name, now)).fetchone()[0]
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    entries = sorted((OutboxEntry(*row) for row in rows), key=lambda e: e.id)
    return Claim(entries, taken, dead, int(busy))


def release_claims(conn: sqlite3.Connection, sender: SenderIdentity) -> int:
    """Give back the unsent entries ``sender`` still claims (after a failure); say how many."""
    return int(conn.execute(
        "UPDATE outbox SET claimed_by = '', locked_until = 0"
        " WHERE sent_at IS NULL AND claimed_by = ?", (sender.name,)).rowcount)


def mark_sent(conn: sqlite3.Connection, entries: list[OutboxEntry], now: float) -> None:
    stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
    conn.executemany(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, locked_until = 0,"
        " claimed_by = '', last_error = '' WHERE id = ?",
        [(stamp, e.id) for e in entries],
    )


def mark_failed(conn: sqlite3.Connection, failures: list[tuple[OutboxEntry, str]], now: float,
                base: float, cap: float) -> None:
    conn.executemany(
        "UPDATE outbox SET attempts = attempts + 1, locked_until = 0, claimed_by = '',"
        " last_error = ?, next_attempt_at = ? WHERE id = ?",
        [(error[:500], now + retry_delay(e.attempts + 1, base, cap), e.id)
         for e, error in failures],
    )


def next_due(conn: sqlite3.Connection) -> float | None:
    """When the earliest unsent entry may be tried (None when nothing is pending)."""
    row = conn.execute(
        "SELECT MIN(MAX(next_attempt_at, locked_until)) FROM outbox WHERE sent_at IS NULL"
    ).fetchone()
    return None if row[0] is None else float(row[0])


def outbox_counts(conn: sqlite3.Connection) -> OutboxCounts:
    row = conn.execute(
        "SELECT SUM(sent_at IS NULL), SUM(sent_at IS NULL AND attempts > 0), SUM(sent_at IS NOT"
        " NULL) FROM outbox"
    ).fetchone()
    error = conn.execute(
        "SELECT last_error FROM outbox WHERE sent_at IS NULL AND last_error != ''"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return OutboxCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0),
                        error[0] if error else "")


def deliver_outbox(
    conn: sqlite3.Connection, transport: MailTransport, compose: Compose,
    clock: Callable[[], float], sender: SenderIdentity, *, force: bool = False,
    base: float = RETRY_BASE_SECONDS, cap: float = RETRY_CAP_SECONDS,
    keep_going: Callable[[], bool] = lambda: True, backlog_only: bool = False,
) -> DeliveryReport:
    """Send every due entry over one SMTP session per batch; record successes and failures.

    Entries are claimed in ``sender``'s name, taking over those of senders that stopped.
    ``keep_going`` is asked before each batch (the sender thread stops between batches).
    With ``backlog_only``, only the entries queued before the call are sent: a command ends
    even while a busy endpoint keeps queueing (its own sender sends those). If
    anything fails half-way, the entries still claimed are given back before the error
    propagates (a mail already handed to the server may then be sent again).
    """
    report = DeliveryReport()
    up_to: int | None = None
    if backlog_only:
        up_to = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0])
    try:
        while keep_going():
            claim = claim_due(conn, clock(), sender, force=force, up_to=up_to)
            report.taken_over += claim.taken_over
            report.dead_senders.extend(p for p in claim.dead_senders
                                       if p not in report.dead_senders)
            report.busy = claim.busy
            if not claim.entries:
                return report
            entries = claim.entries
            sent: list[OutboxEntry] = []
            failures: list[tuple[OutboxEntry, str]] = []
            try:
                _send_batch(conn, transport, compose, entries, sent, failures)
            finally:  # also when interrupted (Ctrl-C): what the server took is marked sent
                _record(conn, sent, failures, clock(), base, cap)
            report.sent += len(sent)
            report.failed += len(failures)
            report.errors.extend(error for _, error in failures if error not in report.errors)
            if failures or len(entries) < BATCH_SIZE:
                return report  # failures wait for their retry time; do not hammer the server
        return report
    except BaseException:
        try:
            release_claims(conn, sender)
        except sqlite3.Error:
            log.exception("cannot give back the claimed notifications; they are taken over "
                          "when this process stops")
        raise


def _record(conn: sqlite3.Connection, sent: list[OutboxEntry],
            failures: list[tuple[OutboxEntry, str]], now: float, base: float,
            cap: float) -> None:
    """Mark what was sent and what failed, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        mark_sent(conn, sent, now)
        mark_failed(conn, failures, now, base, cap)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _send_batch(
    conn: sqlite3.Connection, transport: MailTransport, compose: Compose,
    entries: list[OutboxEntry], sent: list[OutboxEntry],
    failures: list[tuple[OutboxEntry, str]],
) -> None:
    """Send ``entries`` over one SMTP session, appending each to ``sent`` or ``failures`` as
    soon as its outcome is known (so an interrupted batch still knows what went out)."""
    try:
        with transport.session() as smtp:
            for index, entry in enumerate(entries):
                submission = fetch_submission(conn, entry.submission_id)
                if submission is None:  # forgotten meanwhile: nothing left to send
                    sent.append(entry)
                    continue
                try:
                    smtp.send_message(compose(submission, entry.recipient))
                except smtplib.SMTPServerDisconnected as exc:
                    failures.extend((e, f"disconnected: {exc}") for e in entries[index:])
                    break
                except (smtplib.SMTPException, ValueError) as exc:
                    failures.append((entry, f"{type(exc).__name__}: {exc}"))
                else:
                    sent.append(entry)
    except (MailError, OSError, smtplib.SMTPException) as exc:
        done = {e.id for e in sent} | {e.id for e, _ in failures}
        failures.extend((e, str(exc)) for e in entries if e.id not in done)

"""The mail outbox: queued notifications, delivery with retries and backoff, a sender thread.

A notification is queued in the same transaction as its submission, so a stored submission always
has its mail queued and a mail server that is down delays mail but loses none. Delivery claims due
entries with a lease (``locked_until``) in one statement, so the endpoint's sender thread and an
owner's ``storefront forms send`` never send the same entry twice at once; a failed attempt is
retried after ``base * 2**(attempts-1)`` seconds, at most ``cap``. Entries are never dropped. A
crash between handing a mail to the server and marking it sent can send it twice: delivery is at
least once, never at most once.
"""

from __future__ import annotations

import logging
import smtplib
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from storefront.forms.mailer import MailError
from storefront.forms.storage import StoredSubmission, connect, fetch_submission

log = logging.getLogger("storefront.forms")

RETRY_BASE_SECONDS = 60.0
RETRY_CAP_SECONDS = 3600.0
LEASE_SECONDS = 300.0
BATCH_SIZE = 200

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


def claim_due(conn: sqlite3.Connection, now: float, *, force: bool = False,
              limit: int = BATCH_SIZE) -> list[OutboxEntry]:
    """Lease up to ``limit`` unsent entries that are due (all unsent ones with ``force``)."""
    due = float("inf") if force else now
    rows = conn.execute(
        "UPDATE outbox SET locked_until = ? WHERE id IN (SELECT id FROM outbox"
        " WHERE sent_at IS NULL AND next_attempt_at <= ? AND locked_until <= ?"
        " ORDER BY id LIMIT ?) RETURNING id, submission_id, recipient, attempts",
        (now + LEASE_SECONDS, due, now, limit),
    ).fetchall()
    return sorted((OutboxEntry(*row) for row in rows), key=lambda e: e.id)


def mark_sent(conn: sqlite3.Connection, entries: list[OutboxEntry], now: float) -> None:
    stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
    conn.executemany(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, locked_until = 0,"
        " last_error = '' WHERE id = ?",
        [(stamp, e.id) for e in entries],
    )


def mark_failed(conn: sqlite3.Connection, failures: list[tuple[OutboxEntry, str]], now: float,
                base: float, cap: float) -> None:
    conn.executemany(
        "UPDATE outbox SET attempts = attempts + 1, locked_until = 0, last_error = ?,"
        " next_attempt_at = ? WHERE id = ?",
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
    clock: Callable[[], float], *, force: bool = False, base: float = RETRY_BASE_SECONDS,
    cap: float = RETRY_CAP_SECONDS, keep_going: Callable[[], bool] = lambda: True,
) -> DeliveryReport:
    """Send every due entry over one SMTP session per batch; record successes and failures.

    ``keep_going`` is asked before each batch (the sender thread stops between batches).
    """
    report = DeliveryReport()
    while keep_going():
        entries = claim_due(conn, clock(), force=force)
        if not entries:
            return report
        sent, failures = _send_batch(conn, transport, compose, entries)
        now = clock()
        conn.execute("BEGIN IMMEDIATE")
        try:
            mark_sent(conn, sent, now)
            mark_failed(conn, failures, now, base, cap)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        report.sent += len(sent)
        report.failed += len(failures)
        report.errors.extend(error for _, error in failures if error not in report.errors)
        if failures or len(entries) < BATCH_SIZE:
            return report  # failures wait for their retry time; do not hammer the server
    return report


def _send_batch(
    conn: sqlite3.Connection, transport: MailTransport, compose: Compose,
    entries: list[OutboxEntry],
) -> tuple[list[OutboxEntry], list[tuple[OutboxEntry, str]]]:
    sent: list[OutboxEntry] = []
    failures: list[tuple[OutboxEntry, str]] = []
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
    return sent, failures


class OutboxWorker:
    """A background thread that delivers the outbox: woken after each commit, and periodically."""

    def __init__(
        self, path: Path,
        deliver: Callable[[sqlite3.Connection, Callable[[], bool]], DeliveryReport],
        clock: Callable[[], float], *, poll_seconds: float = 60.0, linger_seconds: float = 0.2,
    ) -> None:
        self.path = path
        self.deliver = deliver
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.linger_seconds = linger_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storefront-forms-outbox",
                                        daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def wake(self, count: int = 1) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            started = self._started
        if started:
            self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.is_set():
                wait = self.poll_seconds
                try:
                    if conn is None:
                        conn = connect(self.path)
                    report = self.deliver(conn, lambda: not self._stop.is_set())
                    if report.failed:
                        log.warning("outbox: %d mail(s) not sent, will retry: %s",
                                    report.failed, "; ".join(report.errors[:3]))
                    due = next_due(conn)
                    if due is not None:
                        wait = min(wait, max(due - self.clock(), 0.05))
                except Exception:
                    log.exception("outbox delivery failed")
                self._wake.wait(wait)
                if self._wake.is_set() and not self._stop.is_set():
                    self._stop.wait(self.linger_seconds)  # let a burst of submissions gather
                self._wake.clear()
        finally:
            if conn is not None:
                conn.close()

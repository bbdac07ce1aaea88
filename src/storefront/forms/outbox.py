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

Entries are of three kinds: the owner's ``notification`` of a submission, a newsletter sign-up's
``confirmation`` (both sent by the endpoint's thread and ``forms send``) and an ``issue`` of the
newsletter for one subscriber (sent only by ``newsletter send``, see
:mod:`storefront.newsletter.delivery`). A sender says which kinds it sends (its
:class:`OutboxScope`). With ``commit_each`` every outcome is committed as soon as it is known, so
a sender killed in the middle re-sends at most the one mail that was in flight.

``locked_until`` is still set with each claim, for a storefront of before ``claimed_by`` that
may run on the same file during an upgrade; an entry it locked (``claimed_by`` empty) is left
alone until then.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from storefront.forms.database import Connection, StorageError
from storefront.forms.mailer import MailError, SerializedMail
from storefront.forms.sender import Sender, sender_pid

log = logging.getLogger("storefront.forms")

RETRY_BASE_SECONDS = 60.0
RETRY_CAP_SECONDS = 3600.0
LEASE_SECONDS = 300.0
BATCH_SIZE = 200
_MAX_ID = 2**63 - 1

#: What the endpoint and ``forms send`` deliver; issues are sent by ``newsletter send`` only.
NOTIFICATION_KINDS = ("notification", "confirmation")


class MailTransport(Protocol):
    def session(self) -> AbstractContextManager[smtplib.SMTP]: ...


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    kind: str
    submission_id: int | None
    subscriber_id: int | None
    issue_id: int | None
    recipient: str
    attempts: int


#: The message for an entry, or None when there is nothing to send any more (its submission was
#: forgotten, its subscriber unsubscribed): the entry is then done as ``skipped``.
Compose = Callable[[Connection, OutboxEntry], EmailMessage | SerializedMail | None]


@dataclass(frozen=True)
class OutboxScope:
    """Which entries a sender handles: some kinds, or one newsletter issue."""

    kinds: tuple[str, ...] = NOTIFICATION_KINDS
    issue_id: int | None = None


class Refusals:
    """Tell a reader's permanent refusal from the message's, over one send.

    A 5xx answer (to RCPT TO, MAIL FROM or after DATA) is first taken as the reader's: the mail
    is recorded ``refused`` and the send goes on, as Postfix bounces one recipient and delivers
    the rest. When ``limit`` mails in a row get the same answer (addresses and numbers aside),
    it is the message the server refuses (its content or size, the sender, the account's daily
    quota): those mails are put back to send and :class:`MessageRefused` ends the send, so that
    nobody is marked for the message's fault and a corrected issue can still reach them.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 1)
        self.key = ""
        self.run: list[OutboxEntry] = []

    def accepted(self) -> None:
        self.run.clear()

    def refused(self, entry: OutboxEntry, answer: str) -> list[OutboxEntry]:
        """Note a refusal; the run of same refusals once it reached the limit, else []."""
        key = refusal_key(answer)
        if key != self.key:
            self.key, self.run = key, []
        self.run.append(entry)
        if len(self.run) < self.limit:
            return []
        run, self.run = self.run, []
        return run


def refusal_key(answer: str) -> str:
    """The answer without what differs from one mail to the next (the address, a queue id):
    ``550 5.1.1 <a@b.it> unknown`` and ``550 5.1.1 <c@d.it> unknown`` are the same answer."""
    code = answer.split()[:2]
    words = [w for w in answer.lower().split()[2:] if "@" not in w and not _DIGIT.search(w)]
    return " ".join(code + words)


_DIGIT = re.compile(r"[0-9]")


class MessageRefused(Exception):
    """The server refused the message itself (see :class:`Refusals`); nobody was marked."""

    def __init__(self, answer: str, recipients: list[str], report: DeliveryReport) -> None:
        super().__init__(answer)
        self.answer = answer
        self.recipients = recipients
        self.report = report


@dataclass(frozen=True)
class SendPolicy:
    """How a sender goes about it (the defaults are the notification sender's)."""

    commit_each: bool = False  # commit each outcome at once (at most one re-sent after a crash)
    final_refusals: bool = False  # a recipient refused with a 5xx code is not tried again
    refusals: Refusals | None = None  # with final_refusals: stop when the message is refused
    before_each: Callable[[], None] | None = None  # waits for the rate limit
    after_each: Callable[[DeliveryReport], None] | None = None  # reports progress
    batch_size: int = BATCH_SIZE


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # nothing left to send (forgotten, unsubscribed)
    refused: int = 0  # refused for good by the server (no such mailbox)
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


def claim_due(conn: Connection, now: float, sender: Sender, *,
              force: bool = False, limit: int = BATCH_SIZE, up_to: int | None = None,
              scope: OutboxScope = OutboxScope()) -> Claim:
    """Claim up to ``limit`` unsent entries of ``scope`` that are due (all unsent ones with
    ``force``), of ids up to ``up_to`` if given.

    In one transaction: the claims of senders that are no longer running are released, then
    the free entries (and any this sender still holds from an attempt that failed half-way)
    are claimed in ``sender``'s name. Entries claimed by a running sender are left to it.
    SQLite's write transaction excludes every other claimer; on PostgreSQL the rows are picked
    ``FOR UPDATE SKIP LOCKED``, so claimers running at the same moment take different rows.
    The earliest due are claimed first (then sent by id): a mail waiting for its retry is never
    claimed before one that was due earlier, never tried (paced, 200 mails took longer than the
    retry waits, and by id the same first mails were claimed again and again while the later
    ones waited for days).
    """
    due = float("inf") if force else now
    scope_sql, scope_params = _scope(scope)
    with conn.transaction():
        holders = [row[0] for row in conn.execute(
            "SELECT DISTINCT claimed_by FROM outbox WHERE sent_at IS NULL"
            " AND claimed_by NOT IN ('', ?)", (sender.name,))]
        taken, dead = 0, []
        for holder in holders:
            if not sender.alive(holder):
                taken += conn.execute(
                    "UPDATE outbox SET claimed_by = '', locked_until = 0 WHERE id IN"  # noqa: S608 - constant SQL
                    " (SELECT id FROM outbox WHERE sent_at IS NULL AND claimed_by = ?"
                    f"{conn.skip_locked})", (holder,)).rowcount
                pid = sender_pid(holder)
                if pid is not None:
                    dead.append(pid)
        rows = conn.execute(
            "WITH free AS (SELECT id FROM outbox WHERE sent_at IS NULL AND "  # noqa: S608 - constant SQL
            + scope_sql + " AND next_attempt_at <= ? AND id <= ? AND (claimed_by = ?"
            " OR (claimed_by = '' AND locked_until <= ?)) ORDER BY next_attempt_at, id LIMIT ?"
            + conn.skip_locked + ") UPDATE outbox SET claimed_by = ?, locked_until = ?"
            " WHERE id IN (SELECT id FROM free) RETURNING id, kind, submission_id, subscriber_id,"
            " issue_id, recipient, attempts",
            (*scope_params, due, _MAX_ID if up_to is None else up_to, sender.name, now, limit,
             sender.name, now + LEASE_SECONDS),
        ).fetchall()
        busy = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND " + scope_sql +  # noqa: S608 - constant SQL
            " AND (claimed_by NOT IN ('', ?) OR (claimed_by = '' AND locked_until > ?))",
            (*scope_params, sender.name, now)).fetchone()[0]
    entries = sorted((OutboxEntry(*row) for row in rows), key=lambda e: e.id)
    return Claim(entries, taken, dead, int(busy))


def claimed_elsewhere(conn: Connection, sender: Sender,
                      scope: OutboxScope = OutboxScope()) -> tuple[int, int]:
    """Unsent entries of ``scope`` claimed, as of now, by other senders: (by senders still
    running, by senders that stopped: those can be taken over at once).

    A claim's own ``busy`` count is taken inside its transaction and can miss rows another
    claimer was taking at that very moment (on PostgreSQL those rows are skipped as locked and
    still read as free): a sender deciding whether to wait asks again, after its batch.
    """
    scope_sql, scope_params = _scope(scope)
    holders = conn.execute(
        "SELECT claimed_by, COUNT(*) FROM outbox WHERE sent_at IS NULL AND "  # noqa: S608 - constant SQL
        + scope_sql + " AND claimed_by NOT IN ('', ?) GROUP BY claimed_by",
        (*scope_params, sender.name)).fetchall()
    running = stopped = 0
    for name, count in holders:
        if sender.alive(str(name)):
            running += int(count)
        else:
            stopped += int(count)
    return running, stopped


def _scope(scope: OutboxScope) -> tuple[str, tuple[str | int, ...]]:
    """The condition selecting a scope's entries (its kinds, and its issue if it has one)."""
    sql = "kind IN (" + ", ".join("?" * len(scope.kinds)) + ")"
    if scope.issue_id is None:
        return sql, scope.kinds
    return sql + " AND issue_id = ?", (*scope.kinds, scope.issue_id)


def release_claims(conn: Connection, sender: Sender) -> int:
    """Give back the unsent entries ``sender`` still claims (after a failure); say how many."""
    return int(conn.execute(
        "UPDATE outbox SET claimed_by = '', locked_until = 0"
        " WHERE sent_at IS NULL AND claimed_by = ?", (sender.name,)).rowcount)


def mark_done(conn: Connection, entries: list[OutboxEntry], now: float,
              outcome: str = "sent", error: str = "") -> None:
    """Record entries as done: ``sent``, ``skipped`` (nothing to send) or ``refused``."""
    stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
    attempt = 0 if outcome == "skipped" else 1
    conn.executemany(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + ?, locked_until = 0,"
        " claimed_by = '', last_error = ?, outcome = ?, done_at = ? WHERE id = ?",
        [(stamp, attempt, error[:500], outcome, now, e.id) for e in entries],
    )


def reopen(conn: Connection, entries: list[OutboxEntry], error: str) -> None:
    """Put entries recorded as done back to send (a refusal that was the message's fault)."""
    conn.executemany(
        "UPDATE outbox SET sent_at = NULL, outcome = '', done_at = NULL, claimed_by = '',"
        " locked_until = 0, last_error = ? WHERE id = ?", [(error[:500], e.id) for e in entries])


def mark_failed(conn: Connection, failures: list[tuple[OutboxEntry, str]], now: float,
                base: float, cap: float) -> None:
    conn.executemany(
        "UPDATE outbox SET attempts = attempts + 1, locked_until = 0, claimed_by = '',"
        " last_error = ?, next_attempt_at = ? WHERE id = ?",
        [(error[:500], now + retry_delay(e.attempts + 1, base, cap), e.id)
         for e, error in failures],
    )


def next_due(conn: Connection, scope: OutboxScope = OutboxScope(),
             sender: Sender | None = None) -> float | None:
    """When the earliest unsent entry of ``scope`` may be tried (None when nothing is pending).

    Given ``sender``, entries other senders claim are left out: their lease is not when they
    can be tried (they are taken over as soon as their sender stops, whatever the lease says).
    """
    scope_sql, scope_params = _scope(scope)
    mine: tuple[str, ...] = ()
    if sender is not None:
        scope_sql += " AND claimed_by IN ('', ?)"
        mine = (sender.name,)
    row = conn.execute(
        "SELECT MIN(CASE WHEN next_attempt_at > locked_until THEN next_attempt_at"  # noqa: S608 - constant SQL
        " ELSE locked_until END) FROM outbox WHERE sent_at IS NULL AND " + scope_sql,
        (*scope_params, *mine),
    ).fetchone()
    return None if row[0] is None else float(row[0])


def outbox_counts(conn: Connection,
                  kinds: tuple[str, ...] = NOTIFICATION_KINDS) -> OutboxCounts:
    scope_sql, params = _scope(OutboxScope(kinds))
    row = conn.execute(
        "SELECT SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END),"  # noqa: S608 - constant SQL
        " SUM(CASE WHEN sent_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) FROM outbox WHERE " + scope_sql,
        params,
    ).fetchone()
    error = conn.execute(
        "SELECT last_error FROM outbox WHERE sent_at IS NULL AND last_error != '' AND "  # noqa: S608 - constant SQL
        + scope_sql + " ORDER BY id DESC LIMIT 1", params,
    ).fetchone()
    return OutboxCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0),
                        error[0] if error else "")


def deliver_outbox(
    conn: Connection, transport: MailTransport, compose: Compose,
    clock: Callable[[], float], sender: Sender, *, force: bool = False,
    base: float = RETRY_BASE_SECONDS, cap: float = RETRY_CAP_SECONDS,
    keep_going: Callable[[], bool] = lambda: True, backlog_only: bool = False,
    scope: OutboxScope = OutboxScope(), policy: SendPolicy = SendPolicy(),
) -> DeliveryReport:
    """Send every due entry of ``scope`` over one SMTP session per batch; record the outcomes.

    Entries are claimed in ``sender``'s name, taking over those of senders that stopped.
    ``keep_going`` is asked before each mail: a sender asked to stop (the endpoint's thread
    at shutdown, a command's SIGTERM) stops after the mail in flight, records what the server
    took and gives the rest back, within seconds however slow the server and however long
    the batch (systemd kills a service that takes longer than 90 s to stop, and the kill would
    lose the record of the batch, sending it all again).
    With ``backlog_only``, only the entries queued before the call are sent: a command ends
    even while a busy endpoint keeps queueing (its own sender sends those). If
    anything fails half-way, the entries still claimed are given back before the error
    propagates (a mail already handed to the server may then be sent again, unless
    ``policy.commit_each`` recorded it).
    """
    report = DeliveryReport()
    up_to: int | None = None
    if backlog_only:
        up_to = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0])
    try:
        while keep_going():
            claim = claim_due(conn, clock(), sender, force=force, up_to=up_to, scope=scope,
                              limit=policy.batch_size)
            report.taken_over += claim.taken_over
            report.dead_senders.extend(p for p in claim.dead_senders
                                       if p not in report.dead_senders)
            report.busy = claim.busy
            if not claim.entries:
                return report
            outcomes = _Outcomes(conn, clock, base, cap, policy, report)
            try:
                _send_batch(conn, transport, compose, claim.entries, outcomes, policy,
                            keep_going)
            finally:  # also when interrupted (Ctrl-C): what the server took is marked sent
                outcomes.flush()
            if len(outcomes.handled) < len(claim.entries):  # asked to stop between mails
                release_claims(conn, sender)
                return report
            if outcomes.failed or len(claim.entries) < policy.batch_size:
                return report  # failures wait for their retry time; do not hammer the server
        return report
    except BaseException:
        try:
            release_claims(conn, sender)
        except StorageError:
            log.exception("cannot give back the claimed mails; they are taken over "
                          "when this process stops")
        raise


class _Outcomes:
    """The outcomes of one batch: recorded together at the end, or each at once."""

    def __init__(self, conn: Connection, clock: Callable[[], float], base: float,
                 cap: float, policy: SendPolicy, report: DeliveryReport) -> None:
        self.conn = conn
        self.clock = clock
        self.base = base
        self.cap = cap
        self.policy = policy
        self.report = report
        self.done: dict[str, list[OutboxEntry]] = {"sent": [], "skipped": [], "refused": []}
        self.errors: dict[int, str] = {}
        self.failures: list[tuple[OutboxEntry, str]] = []
        self.failed = 0
        self.handled: set[int] = set()

    def add(self, entry: OutboxEntry, outcome: str, error: str = "") -> None:
        """``sent``, ``skipped``, ``refused`` or ``failed`` (tried again later)."""
        self.handled.add(entry.id)
        if outcome == "failed":
            self.failures.append((entry, error))
            self.failed += 1
            self.report.failed += 1
            if error not in self.report.errors:
                self.report.errors.append(error)
        else:
            self.done[outcome].append(entry)
            self.errors[entry.id] = error
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        if self.policy.commit_each:
            self.flush()
        if self.policy.after_each is not None:
            self.policy.after_each(self.report)
        if self.policy.refusals is not None and outcome == "sent":
            self.policy.refusals.accepted()

    def refuse(self, entry: OutboxEntry, answer: str) -> None:
        """A permanent refusal: the reader's, unless :class:`Refusals` says the message's."""
        self.add(entry, "refused", answer)
        run = [] if self.policy.refusals is None else self.policy.refusals.refused(entry, answer)
        if run:
            self.flush()
            with self.conn.transaction():
                reopen(self.conn, run, answer)
            self.report.refused -= len(run)
            raise MessageRefused(answer, [e.recipient for e in run], self.report)

    def flush(self) -> None:
        """Record what is known so far, in one transaction."""
        if not self.failures and not any(self.done.values()):
            return
        now = self.clock()
        with self.conn.transaction():
            for outcome, entries in self.done.items():
                for entry in entries:
                    mark_done(self.conn, [entry], now, outcome, self.errors.get(entry.id, ""))
            mark_failed(self.conn, self.failures, now, self.base, self.cap)
        for entries in self.done.values():
            entries.clear()
        self.failures.clear()


def server_answer(code: int, text: bytes | str) -> str:
    """The server's answer as it said it: ``554 5.7.1 Message rejected``."""
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(said.split())}".strip()


def _send_batch(conn: Connection, transport: MailTransport, compose: Compose,
                entries: list[OutboxEntry], outcomes: _Outcomes, policy: SendPolicy,
                keep_going: Callable[[], bool]) -> None:
    """Send ``entries`` over one SMTP session, recording each outcome as soon as it is known
    (so an interrupted batch still knows what went out); stop when ``keep_going`` says so,
    leaving the rest unhandled."""
    try:
        with transport.session() as smtp:
            for index, entry in enumerate(entries):
                if not keep_going():
                    break
                message = compose(conn, entry)
                if message is None:  # forgotten or unsubscribed meanwhile: nothing to send
                    outcomes.add(entry, "skipped")
                    continue
                if policy.before_each is not None:
                    policy.before_each()  # the rate limit's pause: a stop may come meanwhile
                    if not keep_going():
                        break
                try:
                    if isinstance(message, SerializedMail):
                        smtp.sendmail(message.sender, [message.recipient], message.data)
                    else:
                        smtp.send_message(message)
                except smtplib.SMTPServerDisconnected as exc:
                    for rest in entries[index:]:
                        outcomes.add(rest, "failed", f"disconnected: {exc}")
                    break
                except smtplib.SMTPRecipientsRefused as exc:
                    codes = [code for code, _ in exc.recipients.values()]
                    answer = "; ".join(server_answer(code, text)
                                       for code, text in exc.recipients.values())
                    if policy.final_refusals and all(code >= 500 for code in codes):
                        outcomes.refuse(entry, answer)
                    else:
                        outcomes.add(entry, "failed", answer)
                except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                    answer = server_answer(exc.smtp_code, exc.smtp_error)
                    if policy.final_refusals and exc.smtp_code >= 500:
                        outcomes.refuse(entry, answer)
                    else:
                        outcomes.add(entry, "failed", answer)
                except (smtplib.SMTPException, ValueError) as exc:
                    outcomes.add(entry, "failed", f"{type(exc).__name__}: {exc}")
                else:
                    outcomes.add(entry, "sent")
    except (MailError, OSError, smtplib.SMTPException) as exc:
        for entry in entries:
            if entry.id not in outcomes.handled:
                outcomes.add(entry, "failed", str(exc))

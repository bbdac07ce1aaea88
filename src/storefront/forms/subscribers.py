"""The newsletter's subscribers in the form database: states, consent evidence, queries.

A subscriber is ``pending`` (signed up, confirmation mail sent), ``confirmed`` (clicked the link
and pressed "Confirm", or imported with evidence of consent) or ``unsubscribed``. Only confirmed
subscribers are ever sent an issue. An unsubscribed address stays in the table as a record that
it must not be mailed: importing it again changes nothing; only a new sign-up that is confirmed
again makes it ``confirmed`` (a pending sign-up that expires falls back to ``unsubscribed``).
Pending sign-ups of addresses never confirmed are deleted when their link expires, with the
sign-up submissions that carried them.

Stored as evidence of consent: when the sign-up happened, the form, the consent text and version,
the hashed client address (as for submissions), when and from which hashed address it was
confirmed; for imports, what the owner's file said about where consent was given. Every statement
is parameterised; the caller owns the transaction unless a function says otherwise.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from storefront.forms.database import Connection

Status = Literal["pending", "confirmed", "unsubscribed"]
STATUSES: tuple[Status, ...] = ("pending", "confirmed", "unsubscribed")

#: A second sign-up of a pending address sends a new confirmation mail only after this long, so
#: nobody can fill a stranger's mailbox by submitting the form again and again.
RESEND_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Signup:
    """A sign-up through the newsletter form, stored with its submission."""

    form: str
    email: str
    name: str
    ip_hash: str
    consent_text: str
    consent_version: str
    confirm_days: int


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    status: Status
    source: str
    form: str
    signed_up_at: str
    signup_ip_hash: str
    consent_text: str
    consent_version: str
    evidence: str
    confirm_nonce: str
    confirm_sent_at: str | None
    confirmed_at: str | None
    confirm_ip_hash: str
    unsubscribed_at: str | None
    unsubscribe_method: str


_COLUMNS = ("id, email, name, status, source, form, signed_up_at, signup_ip_hash, consent_text,"
            " consent_version, evidence, confirm_nonce, confirm_sent_at, confirmed_at,"
            " confirm_ip_hash, unsubscribed_at, unsubscribe_method")


def _subscriber(row: Sequence[Any]) -> Subscriber:
    return Subscriber(*row)


def stamp(moment: datetime) -> str:
    """How times are stored: UTC ISO 8601 with seconds."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def fetch_subscriber(conn: Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE id = ?",  # noqa: S608
                       (subscriber_id,)).fetchone()
    return _subscriber(row) if row else None


def find_subscriber(conn: Connection, email: str, *, lock: bool = False) -> Subscriber | None:
    """The subscriber with this address; with ``lock``, its row is locked until the caller's
    transaction ends (PostgreSQL: another instance's sign-up of the same address waits)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE email = ?"  # noqa: S608
                       + (conn.for_update if lock else ""), (email.strip().lower(),)).fetchone()
    return _subscriber(row) if row else None


def list_subscribers(conn: Connection, status: str | None = None) -> list[Subscriber]:
    """Subscribers in sign-up order, all of them or those with ``status``."""
    if status is None:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM subscribers ORDER BY id")  # noqa: S608
    else:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE status = ?"  # noqa: S608
                            " ORDER BY id", (status,))
    return [_subscriber(row) for row in rows]


def count_subscribers(conn: Connection) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for status, count in conn.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status"):
        counts[status] = int(count)
    return counts


def _queue_confirmation(conn: Connection, subscriber_id: int, email: str,
                        now: str) -> None:
    conn.execute(
        "INSERT INTO outbox (kind, subscriber_id, recipient, created_at, next_attempt_at)"
        " VALUES ('confirmation', ?, ?, ?, 0)", (subscriber_id, email, now))
    conn.execute("UPDATE subscribers SET confirm_sent_at = ? WHERE id = ?", (now, subscriber_id))


def record_signup(conn: Connection, signup: Signup, submission_id: int,
                  now: datetime) -> bool:
    """Record a sign-up (inside the caller's transaction); True if a confirmation mail was queued.

    New address: pending, with a fresh confirmation nonce. Pending: the latest sign-up is the
    evidence; a new confirmation mail only if the last one is older than :data:`RESEND_AFTER`.
    Confirmed: nothing changes and nothing is sent (the visitor gets the same answer).
    Unsubscribed: pending again with a new nonce, so links of earlier mails stay dead.
    """
    expire_pending(conn, now, signup.confirm_days, keep=submission_id)
    email = signup.email.strip().lower()
    when = stamp(now)
    evidence = (signup.form, submission_id, when, signup.ip_hash, signup.consent_text,
                signup.consent_version, signup.name)
    current = find_subscriber(conn, email, lock=True)
    if current is None:
        # another instance may insert the address at the same moment (PostgreSQL): the second
        # insert waits for the first and inserts nothing; the sign-up is then an update
        inserted = conn.execute(
            "INSERT INTO subscribers (email, status, source, form, submission_id, signed_up_at,"
            " signup_ip_hash, consent_text, consent_version, name, confirm_nonce)"
            " VALUES (?, 'pending', 'form', ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            " RETURNING id", (email, *evidence, secrets.token_hex(16))).fetchone()
        if inserted is not None:
            _queue_confirmation(conn, int(inserted[0]), email, when)
            return True
        current = find_subscriber(conn, email, lock=True)
        assert current is not None
    if current.status == "confirmed":
        return False
    update = ("UPDATE subscribers SET form = ?, submission_id = ?, signed_up_at = ?,"
              " signup_ip_hash = ?, consent_text = ?, consent_version = ?,"
              " name = CASE WHEN ? = '' THEN name ELSE ? END")
    params: list[Any] = [*evidence, signup.name]
    if current.status == "unsubscribed":
        update += ", status = 'pending', confirm_nonce = ?, source = 'form'"
        params.append(secrets.token_hex(16))
    conn.execute(update + " WHERE id = ?", (*params, current.id))
    last = current.confirm_sent_at
    if current.status == "pending" and last and datetime.fromisoformat(last) > now - RESEND_AFTER:
        return False
    _queue_confirmation(conn, current.id, email, when)
    return True


def expire_pending(conn: Connection, now: datetime, confirm_days: int, *,
                   keep: int | None = None) -> int:
    """Forget sign-ups not confirmed within ``confirm_days`` (inside the caller's transaction).

    Addresses never confirmed are deleted with their sign-up submissions, except the submission
    ``keep`` (a new sign-up of an expired address, being stored now); an address that had
    unsubscribed before falls back to ``unsubscribed`` (it must stay suppressed). Returns how
    many sign-ups expired.
    """
    cutoff = stamp(now - timedelta(days=confirm_days))
    expired = conn.execute(
        "SELECT id, email, form FROM subscribers WHERE status = 'pending' AND signed_up_at < ?"
        " ORDER BY id", (cutoff,)).fetchall()
    for subscriber_id, email, form in expired:
        never_confirmed = conn.execute(
            "DELETE FROM subscribers WHERE id = ? AND unsubscribed_at IS NULL",
            (subscriber_id,)).rowcount
        if never_confirmed:
            conn.execute("DELETE FROM submissions WHERE form = ? AND email = ? AND id != ?",
                         (form, email, -1 if keep is None else keep))
        else:
            conn.execute("UPDATE subscribers SET status = 'unsubscribed', confirm_nonce = ''"
                         " WHERE id = ?", (subscriber_id,))
    return len(expired)


ConfirmOutcome = Literal["confirmed", "already", "gone"]


def confirm_subscriber(conn: Connection, subscriber_id: int, nonce: str,
                       now: datetime, ip_hash: str) -> ConfirmOutcome:
    """Confirm a pending sign-up whose link carried ``nonce`` (own transaction).

    ``already``: it was confirmed before (a second press); ``gone``: the sign-up is no longer
    pending under that nonce (unsubscribed since, expired, forgotten, or signed up again).
    """
    with conn.transaction():
        row = conn.execute("SELECT status, confirm_nonce FROM subscribers WHERE id = ?"  # noqa: S608
                           + conn.for_update, (subscriber_id,)).fetchone()
        outcome: ConfirmOutcome = "gone"
        if row is not None and row[1] == nonce and nonce:
            if row[0] == "confirmed":
                outcome = "already"
            elif row[0] == "pending":
                conn.execute(
                    "UPDATE subscribers SET status = 'confirmed', confirmed_at = ?,"
                    " confirm_ip_hash = ? WHERE id = ?", (stamp(now), ip_hash, subscriber_id))
                outcome = "confirmed"
    return outcome


def unsubscribe(conn: Connection, subscriber_id: int, now: datetime,
                method: str) -> bool:
    """Mark a subscriber unsubscribed (own transaction); False if it already was, or is gone.

    Their queued mails that no sender holds yet are cancelled at once; a sender checks the state
    again just before sending each mail anyway.
    """
    with conn.transaction():
        changed = conn.execute(
            "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?,"
            " unsubscribe_method = ?, confirm_nonce = '' WHERE id = ? AND status != 'unsubscribed'",
            (stamp(now), method, subscriber_id)).rowcount == 1
        conn.execute(
            "UPDATE outbox SET sent_at = ?, outcome = 'skipped', done_at = ? WHERE"
            " subscriber_id = ? AND sent_at IS NULL AND claimed_by = ''",
            (stamp(now), now.timestamp(), subscriber_id))
    return changed


@dataclass(frozen=True)
class ImportedSubscriber:
    """One address of an owner's import, with what the file says about its consent."""

    email: str
    name: str = ""
    consent_at: datetime | None = None  # when consent was given and confirmed elsewhere
    consent_text: str = ""
    consent_version: str = ""
    evidence: str = ""  # how and where consent was collected (e.g. "Mailchimp double opt-in")

    @property
    def has_evidence(self) -> bool:
        return self.consent_at is not None and bool(self.consent_text or self.evidence)


ImportOutcome = Literal["confirmed", "pending", "unchanged", "suppressed"]


def import_subscriber(conn: Connection, item: ImportedSubscriber,
                      now: datetime) -> ImportOutcome:
    """Add one imported address (inside the caller's transaction).

    With evidence of consent: confirmed, the evidence stored. Without: pending, and a
    confirmation mail is queued (it is never sent an issue until confirmed). An address that
    unsubscribed stays unsubscribed (``suppressed``); a confirmed one is left as it is.
    """
    email = item.email.strip().lower()
    current = find_subscriber(conn, email, lock=True)
    if current is not None:
        if current.status == "unsubscribed" or current.unsubscribed_at is not None:
            return "suppressed"  # only its own sign-up, confirmed again, brings it back
        if current.status == "confirmed" or not item.has_evidence:
            return "unchanged"
    when = stamp(now)
    if not item.has_evidence:
        subscriber_id = conn.execute(
            "INSERT INTO subscribers (email, name, status, source, signed_up_at, evidence,"
            " confirm_nonce) VALUES (?, ?, 'pending', 'import', ?, ?, ?) RETURNING id",
            (email, item.name, when, item.evidence, secrets.token_hex(16))).fetchone()[0]
        _queue_confirmation(conn, int(subscriber_id), email, when)
        return "pending"
    assert item.consent_at is not None
    consented = stamp(item.consent_at)
    values = (item.name, consented, item.consent_text, item.consent_version, item.evidence,
              consented)
    if current is None:
        conn.execute(
            "INSERT INTO subscribers (name, signed_up_at, consent_text, consent_version, evidence,"
            " confirmed_at, email, status, source) VALUES (?, ?, ?, ?, ?, ?, ?, 'confirmed',"
            " 'import')", (*values, email))
    else:  # pending, now with evidence from the owner
        conn.execute(
            "UPDATE subscribers SET name = ?, signed_up_at = ?, consent_text = ?,"
            " consent_version = ?, evidence = ?, confirmed_at = ?, status = 'confirmed',"
            " source = 'import' WHERE id = ?", (*values, current.id))
    return "confirmed"


def forget_subscriber(conn: Connection, email: str) -> int:
    """Delete the subscriber with this address and every mail queued or sent to it (inside the
    caller's transaction); return how many subscriber rows went (0 or 1)."""
    address = email.strip().lower()
    conn.execute("DELETE FROM outbox WHERE recipient = ? AND kind != 'notification'", (address,))
    return int(conn.execute("DELETE FROM subscribers WHERE email = ?", (address,)).rowcount)

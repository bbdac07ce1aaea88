"""Newsletter issues in the form database: the snapshot that goes out, and its deliveries.

When an issue is first sent, one transaction stores what goes out (subject, HTML and text with a
placeholder for each reader's unsubscribe link) and queues one outbox entry per subscriber
confirmed at that moment; a unique index on (issue, subscriber) makes queueing happen once. Every
later ``send`` of the same issue resumes those deliveries and sends that same snapshot, even if
the Markdown file changed meanwhile. The snapshot also records the catalogue as it was, so the
next issue's draft can list what changed since. Every statement is parameterised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storefront.forms.database import Connection
from storefront.forms.subscribers import stamp


@dataclass(frozen=True)
class IssueSnapshot:
    """What one issue sends: the same for every reader but the unsubscribe link."""

    slug: str
    subject: str
    html: str
    text: str
    source_digest: str  # SHA-256 of the Markdown file it was rendered from
    catalog: dict[str, Any]  # product slug -> what the reader was told about it


@dataclass(frozen=True)
class StoredIssue:
    id: int
    snapshot: IssueSnapshot
    queued_at: str
    recipients: int
    finished_at: str | None


@dataclass(frozen=True)
class IssueProgress:
    total: int
    sent: int
    skipped: int  # unsubscribed or forgotten before their turn
    refused: int  # refused for good by the receiving server
    pending: int
    retrying: int  # pending after a failed attempt
    last_error: str

    @property
    def done(self) -> int:
        return self.sent + self.skipped + self.refused


_COLUMNS = ("id, slug, subject, html, text, source_digest, catalog, queued_at, recipients,"
            " finished_at")


def _issue(row: Any) -> StoredIssue:
    snapshot = IssueSnapshot(row[1], row[2], row[3], row[4], row[5], json.loads(row[6]))
    return StoredIssue(int(row[0]), snapshot, row[7], int(row[8]), row[9])


def fetch_issue(conn: Connection, slug: str) -> StoredIssue | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM newsletter_issues WHERE slug = ?",  # noqa: S608
                       (slug,)).fetchone()
    return _issue(row) if row else None


def latest_issue(conn: Connection) -> StoredIssue | None:
    """The issue queued last (its catalogue is the reference for the next draft)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM newsletter_issues"  # noqa: S608
                       " ORDER BY queued_at DESC, id DESC LIMIT 1").fetchone()
    return _issue(row) if row else None


def queue_issue(conn: Connection, snapshot: IssueSnapshot,
                now: datetime) -> tuple[StoredIssue, bool]:
    """Store the issue and queue it for every confirmed subscriber, once (own transaction).

    Returns the stored issue and whether it was queued now (False: it had been queued before,
    and its stored snapshot is what is sent). Two processes queueing the same issue at once
    (PostgreSQL): the second one's insert waits for the first and inserts nothing.
    """
    with conn.transaction():
        when = stamp(now)
        inserted = conn.execute(
            "INSERT INTO newsletter_issues (slug, subject, html, text, source_digest, catalog,"
            " queued_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (snapshot.slug, snapshot.subject, snapshot.html, snapshot.text,
             snapshot.source_digest, json.dumps(snapshot.catalog, sort_keys=True), when),
        ).fetchone()
        if inserted is not None:
            issue_id = int(inserted[0])
            queued = conn.execute(
                "INSERT INTO outbox (kind, issue_id, subscriber_id, recipient, created_at,"
                " next_attempt_at) SELECT 'issue', ?, id, email, ?, 0 FROM subscribers"
                " WHERE status = 'confirmed' ORDER BY id ON CONFLICT DO NOTHING",
                (issue_id, when)).rowcount
            conn.execute("UPDATE newsletter_issues SET recipients = ? WHERE id = ?",
                         (queued, issue_id))
    stored = fetch_issue(conn, snapshot.slug)
    assert stored is not None
    return stored, inserted is not None


def update_snapshot(conn: Connection, issue_id: int, snapshot: IssueSnapshot) -> None:
    """Make ``snapshot`` what goes out to the readers not sent yet (the owner corrected the
    issue after the server refused it); those already sent keep what they got."""
    with conn.transaction():
        conn.execute(
            "UPDATE newsletter_issues SET subject = ?, html = ?, text = ?, source_digest = ?,"
            " catalog = ? WHERE id = ?",
            (snapshot.subject, snapshot.html, snapshot.text, snapshot.source_digest,
             json.dumps(snapshot.catalog, sort_keys=True), issue_id))


def refused_recipients(conn: Connection, issue_id: int) -> list[tuple[str, str]]:
    """The readers the server refused the issue for, with its answer, in the order sent."""
    return [(row[0], row[1]) for row in conn.execute(
        "SELECT recipient, last_error FROM outbox WHERE issue_id = ? AND outcome = 'refused'"
        " ORDER BY id", (issue_id,))]


def issue_progress(conn: Connection, issue_id: int) -> IssueProgress:
    row = conn.execute(
        "SELECT COUNT(*), SUM(CASE WHEN outcome = 'sent' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN outcome = 'skipped' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN outcome = 'refused' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN sent_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END) FROM outbox"
        " WHERE issue_id = ?", (issue_id,)).fetchone()
    error = conn.execute(
        "SELECT last_error FROM outbox WHERE issue_id = ? AND last_error != ''"
        " ORDER BY id DESC LIMIT 1", (issue_id,)).fetchone()
    total, sent, skipped, refused, pending, retrying = (int(value or 0) for value in row)
    return IssueProgress(total, sent, skipped, refused, pending, retrying,
                         error[0] if error else "")


def finish_issue(conn: Connection, issue_id: int, now: datetime) -> None:
    conn.execute("UPDATE newsletter_issues SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
                 (stamp(now), issue_id))


def last_issue_mail_at(conn: Connection) -> float | None:
    """When the last issue mail went out (any issue, any process), for the rate limit."""
    row = conn.execute("SELECT MAX(done_at) FROM outbox WHERE kind = 'issue' AND done_at IS NOT"
                       " NULL AND outcome = 'sent'").fetchone()
    return None if row[0] is None else float(row[0])

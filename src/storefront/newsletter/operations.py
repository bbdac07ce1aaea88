"""What the ``storefront newsletter`` commands do, as functions that return data.

Each opens the form database (:func:`storefront.forms.commands.open_database`), does one thing and
closes it. The printing is in :mod:`storefront.newsletter.commands`.
"""

from __future__ import annotations

import time
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from storefront.config import SiteConfig, load_config
from storefront.errors import BuildFailed, error_at, line_containing
from storefront.forms.commands import endpoint_secret, open_connection
from storefront.forms.database import Connection
from storefront.forms.issues import (
    IssueProgress,
    IssueSnapshot,
    StoredIssue,
    fetch_issue,
    issue_progress,
    latest_issue,
    queue_issue,
    refused_recipients,
    update_snapshot,
)
from storefront.forms.links import LinkSigner
from storefront.forms.mailer import Mailer, credentials_from_env
from storefront.forms.outbox import MailTransport
from storefront.forms.subscribers import (
    Subscriber,
    count_subscribers,
    expire_pending,
    find_subscriber,
    import_subscriber,
    list_subscribers,
    unsubscribe,
)
from storefront.newsletter.delivery import IssueComposer, Progress, SendOutcome, deliver_issue
from storefront.newsletter.draft import (
    catalog_snapshot,
    changed_products,
    create_draft,
    default_title,
    issue_digest,
    mark_sent,
    new_posts,
    since_last_issue,
)
from storefront.newsletter.mailtemplate import UNSUBSCRIBE_PLACEHOLDER, RenderedIssue, render_issue
from storefront.newsletter.site import find_issue, load_site
from storefront.newsletter.subscriberfile import read_import


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Draft:
    path: Path
    posts: int
    products: int
    since: datetime | None


def draft_issue(root: Path, title: str | None = None) -> Draft:
    """Write a new issue listing what was published since the last one went out."""
    site = load_site(root)
    with open_connection(site.config, root) as conn:
        last = latest_issue(conn)
    since = since_last_issue(site, last.queued_at if last else None)
    posts = new_posts(site, since)
    products = changed_products(site, last.snapshot.catalog if last else {})
    path = create_draft(site, title or default_title(site), posts, products)
    return Draft(path, len(posts), len(products), since)


def render(root: Path, name: str) -> RenderedIssue:
    """The issue as a reader will get it (the unsubscribe link left as a placeholder)."""
    site = load_site(root)
    return render_issue(site, find_issue(site, name))


def preview_html(root: Path, name: str) -> str:
    html = render(root, name).html
    return html.replace(UNSUBSCRIBE_PLACEHOLDER, "#unsubscribe")


def send_test(root: Path, name: str, address: str, transport: MailTransport | None = None) -> None:
    """Send one copy to ``address`` (nothing is queued or recorded; the subject says "[test]")."""
    site = load_site(root)
    rendered = render_issue(site, issue := find_issue(site, name))
    snapshot = IssueSnapshot(issue.slug, rendered.subject, rendered.html, rendered.text, "", {})
    stored = StoredIssue(0, snapshot, "", 0, None)
    with open_connection(site.config, root) as conn:
        signer = LinkSigner(endpoint_secret(conn))
    message = IssueComposer(site.config, stored, signer).message(address, 0, subject_prefix="[test] ")
    transport = transport or Mailer(site.config.form_endpoint.smtp, credentials_from_env())
    with transport.session() as smtp:
        smtp.send_message(message)


@dataclass(frozen=True)
class SendResult:
    issue: StoredIssue
    queued_now: bool
    file_changed: bool  # the Markdown changed since the issue was first queued
    outcome: SendOutcome
    updated: bool = False  # the changed Markdown is what goes out to the rest (``update``)


def send_issue(root: Path, name: str, *, transport: MailTransport | None = None,
               progress: Progress | None = None, rate: int | None = None,
               wait_for_retries: bool = True, clock: Callable[[], float] = time.time,
               sleep: Callable[[float], None] = time.sleep, update: bool = False,
               keep_going: Callable[[], bool] = lambda: True) -> SendResult:
    """Queue the issue for every confirmed subscriber (the first time) and send what is left.

    A resumed send sends the version queued first, even if the file changed since; with
    ``update`` the file's current version goes to the readers not sent yet (after the server
    refused the issue, the corrected one). ``keep_going`` stops it between two mails (see
    :func:`~storefront.newsletter.delivery.deliver_issue`).
    """
    site = load_site(root)
    issue = find_issue(site, name)
    if issue.draft:
        raise BuildFailed([error_at(issue.source, line_containing(_text(root, issue.source), "draft:"),
                                    "this issue is a draft (draft: true)",
                                    "remove the draft: line to send it")])
    rendered = render_issue(site, issue)
    digest = issue_digest(_text(root, issue.source))  # without the sent: line written below
    snapshot = IssueSnapshot(issue.slug, rendered.subject, rendered.html, rendered.text, digest,
                             catalog_snapshot(site.model.products))
    config = site.config
    transport = transport or Mailer(config.form_endpoint.smtp, credentials_from_env())
    with open_connection(config, root) as conn:
        stored, queued_now = queue_issue(conn, snapshot, _now())
        changed = stored.snapshot.source_digest != digest
        if update and changed:
            update_snapshot(conn, stored.id, snapshot)
            stored = replace(stored, snapshot=snapshot)
        if issue.sent is None:
            mark_sent(root, issue, datetime.fromisoformat(stored.queued_at).astimezone(
                zoneinfo.ZoneInfo(config.timezone)))
        signer = LinkSigner(endpoint_secret(conn))
        with conn.database.sender() as sender:
            outcome = deliver_issue(conn, stored, config, signer, transport, sender, clock=clock,
                                    sleep=sleep, rate=rate, progress=progress,
                                    wait_for_retries=wait_for_retries, keep_going=keep_going)
    return SendResult(stored, queued_now, changed, outcome, update and changed)


@dataclass(frozen=True)
class IssueStatus:
    issue: StoredIssue | None  # None: never sent
    progress: IssueProgress | None
    refused: list[tuple[str, str]]  # (address, the server's answer)


def issue_status(root: Path, name: str) -> IssueStatus:
    """How far the sending of an issue got, and whom the server refused it for."""
    site = load_site(root)
    slug = find_issue(site, name).slug
    with open_connection(site.config, root) as conn:
        stored = fetch_issue(conn, slug)
        if stored is None:
            return IssueStatus(None, None, [])
        return IssueStatus(stored, issue_progress(conn, stored.id),
                           refused_recipients(conn, stored.id))


def _text(root: Path, source: str) -> str:
    return (root / source).read_text(encoding="utf-8")


# -- subscribers --------------------------------------------------------------------------------


def _expired(conn: Connection, config: SiteConfig) -> None:
    with conn.transaction():
        expire_pending(conn, _now(), config.newsletter.confirm_days)


def subscribers(root: Path, status: str | None = None) -> tuple[dict[str, int], list[Subscriber]]:
    """Counts by state and the subscribers (of one state); expired sign-ups are removed first."""
    config = load_config(root)
    with open_connection(config, root) as conn:
        _expired(conn, config)
        return count_subscribers(conn), list_subscribers(conn, status)


def import_file(root: Path, text: str, label: str, fmt: str) -> Counter[str]:
    """Import every address of a file in one transaction; count the outcomes."""
    config = load_config(root)
    items, errors = read_import(text, label, fmt, zoneinfo.ZoneInfo(config.timezone))
    if errors:
        raise BuildFailed(errors)
    outcomes: Counter[str] = Counter()
    with open_connection(config, root) as conn, conn.transaction():
        for item in items:
            outcomes[import_subscriber(conn, item, _now())] += 1
    return outcomes


def remove(root: Path, email: str) -> bool | None:
    """Unsubscribe ``email`` for the owner (kept as unsubscribed, so never mailed again);
    None if the address is not on the list, False if it was already unsubscribed."""
    config = load_config(root)
    with open_connection(config, root) as conn:
        subscriber = find_subscriber(conn, email)
        if subscriber is None:
            return None
        return unsubscribe(conn, subscriber.id, _now(), "owner")

"""Send an issue to every confirmed subscriber, through the form endpoint's outbox.

:func:`queue_issue <storefront.forms.issues.queue_issue>` stores the rendered issue and one
outbox entry per subscriber confirmed at that moment, once. :func:`deliver_issue` then sends
those entries with the outbox's own machinery: claims in this process's name (a second ``send``
leaves them alone, a killed one's are taken over), retries with backoff, and **every outcome
committed as soon as the server answered** (``commit_each``). A process killed in the middle
therefore leaves unmarked only the one mail it was handing over at that moment: a new ``send``
sends every other mail exactly once, and that one at most twice.

Each message is the stored snapshot with the reader's own unsubscribe link, and the headers bulk
senders need: ``Message-ID``, ``List-Id`` (RFC 2919), ``List-Unsubscribe`` with an HTTPS and a
mailto URI (RFC 2369) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058). A
subscriber who unsubscribed (or was forgotten) after the issue was queued is skipped.
"""

from __future__ import annotations

import email.policy
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote, urlsplit

from storefront.config import SiteConfig
from storefront.forms.confirmation import list_name, newsletter_sender, unsubscribe_mailto
from storefront.forms.database import Connection
from storefront.forms.issues import IssueProgress, StoredIssue, issue_progress, last_issue_mail_at
from storefront.forms.links import LinkSigner, link_url
from storefront.forms.mailer import (
    EXPECTED_HEADERS,
    SerializedMail,
    check_headers,
    header_text,
    mailbox,
)
from storefront.forms.outbox import (
    DeliveryReport,
    MailTransport,
    MessageRefused,
    OutboxEntry,
    OutboxScope,
    Refusals,
    SendPolicy,
    claimed_elsewhere,
    deliver_outbox,
    next_due,
    refusal_key,
)
from storefront.forms.sender import Sender
from storefront.forms.subscribers import fetch_subscriber
from storefront.newsletter.mailtemplate import UNSUBSCRIBE_PLACEHOLDER

LIST_HEADERS = EXPECTED_HEADERS | {"list-id", "list-unsubscribe", "list-unsubscribe-post",
                                   "precedence"}
#: Header lines up to the RFC 5322 limit: a long URL in List-Unsubscribe must not be folded into
#: RFC 2047 encoded words, which mail providers do not decode there.
POLICY = email.policy.SMTP.clone(max_line_length=998)


def list_id(config: SiteConfig) -> str:
    """``"La lettera" <newsletter.www.example.it>``: a name and a label unique to this list."""
    host = urlsplit(config.base_url).hostname or "localhost"
    label = f"{config.newsletter.form}.{host}"
    return f'"{header_text(list_name(config)).replace(chr(34), "")}" <{label}>'


class IssueComposer:
    """Personalise the stored issue for each reader (the outbox's ``compose`` for issues)."""

    def __init__(self, config: SiteConfig, issue: StoredIssue, signer: LinkSigner) -> None:
        self.config = config
        self.issue = issue.snapshot
        self.signer = signer
        sender = newsletter_sender(config)
        self.envelope_sender = sender
        self.sender = mailbox(config.business_name, sender)
        self.domain = sender.rpartition("@")[2] or None
        self.list_id = list_id(config)
        self.mailto = unsubscribe_mailto(config)

    def __call__(self, conn: Connection, entry: OutboxEntry) -> SerializedMail | None:
        if entry.subscriber_id is None:
            return None
        subscriber = fetch_subscriber(conn, entry.subscriber_id)
        if subscriber is None or subscriber.status != "confirmed":
            return None  # unsubscribed (or forgotten) since the issue was queued
        message = self.message(subscriber.email, subscriber.id, check=False)
        data = message.as_bytes()  # serialised once: checked, then sent as it is
        check_headers(data, LIST_HEADERS)
        return SerializedMail(self.envelope_sender, subscriber.email, data)

    def message(self, recipient: str, subscriber_id: int, *, subject_prefix: str = "",
                check: bool = True) -> EmailMessage:
        token = self.signer.unsubscribe_token(subscriber_id, recipient)
        url = link_url(self.config, self.config.newsletter.form, "unsubscribe", token)
        message = EmailMessage(policy=POLICY)
        message["Subject"] = header_text(subject_prefix + self.issue.subject, 200)
        message["From"] = self.sender
        message["To"] = recipient
        if self.config.newsletter.reply_to:
            local, _, domain = self.config.newsletter.reply_to.partition("@")
            message["Reply-To"] = Address(username=local, domain=domain)
        message["Date"] = format_datetime(datetime.now().astimezone())
        message["Message-ID"] = make_msgid(f"issue.{self.issue.slug}", self.domain)
        message["List-Id"] = self.list_id
        mail = f"mailto:{self.mailto}?subject={quote('unsubscribe ' + token)}"
        message["List-Unsubscribe"] = f"<{url}>, <{mail}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Precedence"] = "bulk"
        message.set_content(self.issue.text.replace(UNSUBSCRIBE_PLACEHOLDER, url),
                            charset="utf-8")
        message.add_alternative(self.issue.html.replace(UNSUBSCRIBE_PLACEHOLDER, url),
                                subtype="html", charset="utf-8")
        if check:
            check_headers(message, LIST_HEADERS)
        return message


#: Seconds to wait when rows looked free but another sender was claiming them at that moment.
IDLE_PAUSE = 0.2
MAX_IDLE_PAUSE = 5.0  # ... doubling while it stays so (a claimer that hangs)
#: Seconds between looks at the other senders while waiting for a retry.
OTHERS_CHECK_SECONDS = 30.0
#: A send stops waiting for retries when every mail left was tried and refused "for now" (4xx:
#: a reader's server, the provider's quota; or the server was down) since a mail last went out
#: (by any sender, or since the send began), and that was this long ago, or its next try would
#: come no sooner than this after it. The mails stay queued, none is marked; the send ends and
#: says when the next try is due, instead of waiting (up to an hour at a time) for as long as
#: the answer lasts. While mails go out (a provider's limit of so many an hour) it keeps waiting;
#: a paced send tries each mail once before it stops.
STALL_SECONDS = 2 * 3600.0


class Pacer:
    """Keep to ``per_hour`` messages an hour, evenly spaced, across restarts.

    The first wait counts from the last issue mail any process sent (read from the database), so
    stopping and starting ``send`` again does not send a burst. A wait is never longer than one
    interval: a last mail stamped "later" than now is a clock that was set back since (or
    another host's clock that runs ahead), not a reason to wait for that clock's error.
    """

    def __init__(self, per_hour: int, clock: Callable[[], float],
                 sleep: Callable[[float], None] = time.sleep, last: float | None = None) -> None:
        self.interval = 3600.0 / per_hour if per_hour > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.last = last

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.last is not None and now < self.last + self.interval:
            self.sleep(min(self.last + self.interval - now, self.interval))
            now = self.clock()
        self.last = now


#: The same permanent refusal for this many mails in a row is the message's, not the readers'.
REFUSALS_IN_A_ROW = 5


@dataclass(frozen=True)
class Refusal:
    """The server refused the issue itself: its answer, and the readers it was refused for
    (still to send: none of them was marked)."""

    answer: str
    recipients: list[str]


@dataclass(frozen=True)
class SendOutcome:
    progress: IssueProgress
    report: DeliveryReport
    busy: int  # entries another running process is sending
    refusal: Refusal | None = None  # the send stopped: the server refuses the message
    # mails left queued because nothing went out any more (see STALL_SECONDS): how many, the
    # server's commonest answer for them, when a mail last went out and when the first of them
    # may be tried again (time.time() values)
    stuck: int = 0
    stuck_answer: str = ""
    stalled_since: float | None = None
    retry_at: float | None = None


Progress = Callable[[int, int], None]  # (mails done, of how many)


def deliver_issue(
    conn: Connection, issue: StoredIssue, config: SiteConfig, signer: LinkSigner,
    transport: MailTransport, sender: Sender, *, clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep, rate: int | None = None,
    progress: Progress | None = None, wait_for_retries: bool = True,
    retry_base: float = 60.0, retry_cap: float = 3600.0,
    keep_going: Callable[[], bool] = lambda: True,
) -> SendOutcome:
    """Send the issue's queued mails until none is left (or only ones another process holds).

    Failed mails are retried after 1, 2, 4 ... minutes (at most ``retry_cap``); with
    ``wait_for_retries`` this waits for them (but not once nothing goes out any more, see
    :data:`STALL_SECONDS`: :attr:`SendOutcome.stuck`), else it returns and a later call resumes. A
    permanent refusal (5xx) marks that reader ``refused``; the same one for
    :data:`REFUSALS_IN_A_ROW` mails in a row (or for every mail of a shorter list) is the
    message's: the send stops there (:attr:`SendOutcome.refusal`), those mails left to send.
    When ``keep_going`` turns false the send stops after the mail in flight (give a ``sleep``
    that the same stop interrupts: the rate limit's pauses and the retry waits are long).
    """
    per_hour = config.newsletter.rate_limit if rate is None else rate
    pacer = Pacer(per_hour, clock, sleep, last_issue_mail_at(conn))
    scope = OutboxScope(("issue",), issue.id)
    start = issue_progress(conn, issue.id)

    moved = clock()  # when the server last took a mail or refused one for good (or the start)
    answered = start.sent + start.refused  # such mails, by any sender, as last counted
    own = 0  # such mails of this send, as last counted
    total = DeliveryReport()

    def each(report: DeliveryReport) -> None:  # after each mail: this round's report
        nonlocal moved, own
        now_own = total.sent + total.refused + report.sent + report.refused
        if now_own > own:  # (a skipped mail, its reader gone, is no answer of the server's)
            own, moved = now_own, clock()
        if progress is not None:  # after the earlier rounds' total
            progress(start.done + total.sent + total.skipped + total.refused + report.sent
                     + report.skipped + report.refused, start.total)

    refusals = Refusals(min(REFUSALS_IN_A_ROW, start.total))
    policy = SendPolicy(commit_each=True, final_refusals=True, refusals=refusals,
                        before_each=pacer.wait, after_each=each)
    compose = IssueComposer(config, issue, signer)
    idle = 0  # rounds in a row that found nothing to claim although mails looked free
    tries = _tries(conn, issue.id)  # each unsent mail's tries when a mail last went out
    while True:
        try:
            report = deliver_outbox(conn, transport, compose, clock, sender, scope=scope,
                                    policy=policy, base=retry_base, cap=retry_cap,
                                    keep_going=keep_going)
        except MessageRefused as refused:
            _add(total, refused.report)
            busy, _stopped = claimed_elsewhere(conn, sender, scope)
            return SendOutcome(issue_progress(conn, issue.id), total, busy,
                               Refusal(refused.answer, refused.recipients))
        _add(total, report)
        state = issue_progress(conn, issue.id)
        # another sender's mails count too: as more answered rows than this round's own (no
        # stamp of theirs: another host's clock may run ahead)
        others = state.sent + state.refused - answered > report.sent + report.refused
        if others:
            moved = clock()
        answered = state.sent + state.refused
        if others or report.sent or report.refused:  # a mail went out: tries count from here
            tries = _tries(conn, issue.id)
        left = _tries(conn, issue.id, sender)
        for entry, count in left.items():  # a mail back to send (a reopened refusal): from now
            tries.setdefault(entry, count)
        # counted now: the claim's own count can be stale
        busy, stopped = claimed_elsewhere(conn, sender, scope)
        total.busy = busy
        if (state.pending == 0 or busy >= state.pending or not wait_for_retries
                or not keep_going()):
            return SendOutcome(state, total, busy)
        # a stopped sender's mails are due now: the next claim takes them over (unless a hung
        # claimer holds their rows, then the pause below backs off as for any such rows)
        due = clock() if stopped else next_due(conn, scope, sender)
        # stalled: every mail left was tried (and refused for now) since a mail last went out,
        # and that was STALL_SECONDS ago, or the next try would come no sooner than that
        tried = all(count > tries[entry] for entry, count in left.items())
        if tried and left and not stopped and (clock() - moved >= STALL_SECONDS or (
                due is not None and due - moved >= STALL_SECONDS)):
            return SendOutcome(state, total, busy, stuck=len(left),
                               stuck_answer=_commonest_answer(conn, issue.id, sender),
                               stalled_since=moved,
                               retry_at=None if due is None else max(due, clock()))
        if due is not None and due > clock():
            idle = 0
            # while others hold mails, look again now and then: one that stops meanwhile has its
            # mails taken over then, not after this sender's own retry time (up to an hour)
            sleep(min(due - clock(), OTHERS_CHECK_SECONDS) if busy else due - clock())
        elif not (report.sent or report.skipped or report.refused or report.failed):
            # free-looking rows another claimer is taking right now (its transaction open)
            sleep(min(IDLE_PAUSE * 2 ** min(idle, 10), MAX_IDLE_PAUSE))
            idle += 1
        else:
            idle = 0


def _tries(conn: Connection, issue_id: int, sender: Sender | None = None) -> dict[int, int]:
    """The tries of each unsent mail of the issue, by id: those no sender but ``sender`` holds,
    or (without ``sender``) all, whoever holds them (a mail another sender holds may come back
    to this one)."""
    held = "" if sender is None else " AND claimed_by IN ('', ?)"
    return {int(entry): int(attempts) for entry, attempts in conn.execute(
        "SELECT id, attempts FROM outbox WHERE kind = 'issue' AND issue_id = ?"  # noqa: S608 - constant SQL
        " AND sent_at IS NULL" + held, (issue_id,) if sender is None else (issue_id, sender.name))}


def _commonest_answer(conn: Connection, issue_id: int, sender: Sender) -> str:
    """The server's commonest answer for the issue's unsent mails no other sender holds (told
    apart without the addresses and numbers in it; the newest of its kind), never another
    reader's refusal or the answer of a mail since sent."""
    answers = [str(row[0]) for row in conn.execute(
        "SELECT last_error FROM outbox WHERE kind = 'issue' AND issue_id = ? AND sent_at IS NULL"
        " AND claimed_by IN ('', ?) AND last_error != '' ORDER BY id", (issue_id, sender.name))]
    if not answers:
        return ""
    commonest = Counter(refusal_key(answer) for answer in answers).most_common(1)[0][0]
    return next(a for a in reversed(answers) if refusal_key(a) == commonest)


def _add(total: DeliveryReport, report: DeliveryReport) -> None:
    total.sent += report.sent
    total.failed += report.failed
    total.skipped += report.skipped
    total.refused += report.refused
    total.taken_over += report.taken_over
    total.dead_senders.extend(p for p in report.dead_senders if p not in total.dead_senders)
    total.errors.extend(e for e in report.errors if e not in total.errors)
    total.busy = report.busy

"""Permanent refusals (5xx) while sending an issue, from a real SMTP server on loopback: a
reader's own refusal marks that reader and the send goes on; the same refusal for many readers
in a row is the message's (its content, its size, the account's quota): the send stops, names
the server's answer and says what to do, and marks nobody, so a corrected issue reaches them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from forms_support import FakeClock, MailSink, SmtpServer, free_port, run_sql
from newsletter_support import SECRET_TEXT, header, query, text_part, write_shop

from storefront.cli import main
from storefront.config import load_config
from storefront.forms.backends import open_database
from storefront.forms.subscribers import unsubscribe
from storefront.newsletter import operations
from storefront.newsletter.delivery import STALL_SECONDS

pytestmark = pytest.mark.both_backends

READERS = [f"r{n}@example.com" for n in range(8)]


class RefusingSink(MailSink):
    """Answers ``answer`` (or the recipient's own in ``answers``; ``{rcpt}`` replaced by the
    recipient) after DATA for the recipients in ``refuse`` and for every mail whose subject is
    ``refuse_subject``; accepts the others."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = "554 5.7.1 Message rejected: content looks like spam"
        self.answers: dict[str, str] = {}  # a recipient's own answer, instead of ``answer``
        self.refuse: set[str] = set()
        self.refuse_subject = ""
        self.refused: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        subject = header(message_from_bytes(envelope.original_content), "Subject")
        if subject == self.refuse_subject or set(envelope.rcpt_tos) & self.refuse:
            self.refused.extend(envelope.rcpt_tos)
            rcpt = envelope.rcpt_tos[0]
            return self.answers.get(rcpt, self.answer).format(rcpt=rcpt)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def refusing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, RefusingSink]]:
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)
    sink = RefusingSink()
    server = SmtpServer(sink, free_port())
    server.start()
    write_shop(tmp_path, smtp_port=server.port)
    import_readers(tmp_path, READERS)
    yield tmp_path, sink
    server.stop()


def import_readers(root: Path, addresses: list[str]) -> None:
    """Confirmed subscribers, as an owner's import of an old list."""
    readers = "email,consent_at,evidence\n" + "".join(
        f"{address},2025-01-10 10:00,old list\n" for address in addresses)
    assert operations.import_file(root, readers, "in.csv", "csv")["confirmed"] == len(addresses)


def paced_and_all_refused(root: Path, sink: RefusingSink, *, readers: int, rate: int
                          ) -> tuple[operations.SendResult, FakeClock, list[float]]:
    """A send to ``readers`` subscribers at ``rate`` an hour, every one refused for now."""
    more = [f"s{n}@example.com" for n in range(readers - len(READERS))]
    import_readers(root, more)
    sink.answer = "451 4.7.1 Daily sending quota exceeded"
    sink.refuse = set(READERS + more)
    clock, waits, sleep = waiting_clock()
    return operations.send_issue(root, "marzo", rate=rate, clock=clock, sleep=sleep), clock, waits


def no_waiting(seconds: float) -> None:
    raise AssertionError(f"the send waited {seconds} s to try a refused mail again")


def send(root: Path, *args: str) -> int:
    return main(["--root", str(root), "newsletter", "send", "marzo", "--rate", "0", *args])


def test_a_reader_refused_after_data_is_marked_and_the_send_goes_on(
        refusing: tuple[Path, RefusingSink], capsys: pytest.CaptureFixture[str]) -> None:
    root, sink = refusing
    sink.answer = "552 5.2.2 Mailbox full"
    sink.refuse = {"r2@example.com", "r5@example.com"}
    result = operations.send_issue(root, "marzo", rate=0, sleep=no_waiting)
    state = result.outcome.progress
    assert (state.sent, state.refused, state.pending) == (6, 2, 0)
    assert result.outcome.refusal is None
    assert sorted(m["To"] for m in sink.messages) == sorted(set(READERS) - sink.refuse)
    # the owner sees who, and can list them again later
    assert send(root) == 0
    out = capsys.readouterr().out
    assert "2 refused by the server" in out and "storefront newsletter status marzo" in out
    assert main(["--root", str(root), "newsletter", "status", "marzo"]) == 0
    out = capsys.readouterr().out
    assert "6 sent, 0 skipped (unsubscribed meanwhile), 2 refused by the server" in out
    assert "r2@example.com" in out and "552 5.2.2 Mailbox full" in out
    assert "r5@example.com" in out and "r1@example.com" not in out


def test_the_same_refusal_for_many_readers_stops_the_send_and_marks_nobody(
        refusing: tuple[Path, RefusingSink], capsys: pytest.CaptureFixture[str]) -> None:
    root, sink = refusing
    sink.refuse_subject = "La lettera di marzo"
    result = operations.send_issue(root, "marzo", rate=0, sleep=no_waiting)
    refusal = result.outcome.refusal
    assert refusal is not None and refusal.answer == sink.answer
    assert len(refusal.recipients) == len(sink.refused) == 5  # it stopped there
    state = result.outcome.progress
    assert (state.sent, state.refused, state.pending) == (0, 0, len(READERS))
    # the command ends too, names the answer and says what to do
    assert send(root) == 1
    captured = capsys.readouterr()
    assert sink.answer in captured.err and "--update" in captured.err
    assert "0 refused by the server" in captured.out
    assert len(sink.refused) == 10  # the same issue, refused again: nobody marked

    # the owner corrects the issue; the corrected version reaches every reader, once
    source = root / "content" / "newsletter" / "2025-03-05-marzo.md"
    source.write_text(source.read_text(encoding="utf-8").replace(
        "title: La lettera di marzo", "title: La lettera di marzo (corretta)"), encoding="utf-8")
    assert send(root) == 1  # without --update the version queued first goes out: refused
    captured = capsys.readouterr()
    assert "--update" in captured.out and "--update" in captured.err
    assert not sink.messages
    assert send(root, "--update") == 0
    assert f"{len(READERS)} sent" in capsys.readouterr().out
    mails = sink.wait_for(len(READERS))
    assert sorted(m["To"] for m in mails) == sorted(READERS)
    assert {header(m, "Subject") for m in mails} == {"La lettera di marzo (corretta)"}
    assert all("/unsubscribe?t=" in text_part(m) for m in mails)  # each still the reader's
    assert query(root, "SELECT COUNT(*) FROM outbox WHERE kind = 'issue' AND outcome = 'sent'") \
        == [(len(READERS),)]


def test_a_refusal_after_mails_were_accepted_is_the_readers(
        refusing: tuple[Path, RefusingSink]) -> None:
    """Refusals of different answers (or interrupted by an accepted mail) are the readers'."""
    root, sink = refusing
    sink.answer = "550 5.1.1 <{rcpt}>: Recipient address rejected"
    sink.refuse = {"r0@example.com", "r1@example.com", "r3@example.com", "r4@example.com",
                   "r6@example.com", "r7@example.com"}
    result = operations.send_issue(root, "marzo", rate=0, sleep=no_waiting)
    assert result.outcome.refusal is None
    state = result.outcome.progress
    assert (state.sent, state.refused, state.pending) == (2, 6, 0)



def waiting_clock() -> tuple[FakeClock, list[float], Callable[[float], None]]:
    """A clock that the send's waits advance (each wait kept), failing a send that would still
    wait after two days of them (the old code waited for as long as the answer lasted)."""
    clock = FakeClock(time.time())
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        assert sum(waits) < 2 * 86400, "the send was still waiting after two days"
        clock.advance(seconds)

    return clock, waits, sleep


def test_a_reader_whose_server_keeps_answering_later_is_kept_but_not_waited_for_forever(
        refusing: tuple[Path, RefusingSink], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A temporary answer (4xx) for hours: the send used to retry it every hour for as long as it
    lasted, and never ended. Now it stops once nothing went out for STALL_SECONDS, says so with
    that reader's answer and when to try again, and the mail stays queued for the next send."""
    root, sink = refusing
    sink.refuse = {"r2@example.com", "r7@example.com"}
    sink.answers = {"r2@example.com": "452 4.2.2 <{rcpt}>: Mailbox full, try again later",
                    "r7@example.com": "550 5.1.1 <{rcpt}>: No such user"}
    clock, waits, sleep = waiting_clock()
    result = operations.send_issue(root, "marzo", rate=0, clock=clock, sleep=sleep)
    state, outcome = result.outcome.progress, result.outcome
    assert (state.sent, state.refused, state.pending) == (6, 1, 1)
    assert outcome.stuck == 1 and outcome.refusal is None
    # its own answer, not the refused reader's (a later row)
    assert outcome.stuck_answer == "452 4.2.2 <r2@example.com>: Mailbox full, try again later"
    # retried at 1, 2, 4 ... minutes: the next try (at 123 minutes) would come more than two
    # hours after the last mail went out: not waited for
    assert 3600 < sum(waits) <= STALL_SECONDS
    assert sink.refused.count("r2@example.com") == 7
    assert outcome.retry_at is not None and outcome.stalled_since is not None
    assert outcome.retry_at - outcome.stalled_since >= STALL_SECONDS
    assert query(root, "SELECT recipient, outcome FROM outbox WHERE sent_at IS NULL") \
        == [("r2@example.com", "")]  # kept, not marked

    # sent again (on the same clock): it waits for the next try, tries, and says what happened
    # and what to do
    real_send, runs = operations.send_issue, []

    def send_on_the_clock(*args: Any, **options: Any) -> operations.SendResult:
        runs.append(real_send(*args, **{**options, "clock": clock, "sleep": sleep}))
        return runs[-1]

    monkeypatch.setattr(operations, "send_issue", send_on_the_clock)
    waits.clear()
    assert send(root) == 1
    result = runs[0]
    # one try, an hour after the last: the next would be two hours after this run began
    assert waits == [3600.0] and sink.refused.count("r2@example.com") == 8
    captured = capsys.readouterr()
    assert f"error: nothing went out since {local(result.outcome.stalled_since)}:" in captured.err
    assert "the 1 mail(s) left" in captured.err
    assert "452 4.2.2 <r2@example.com>: Mailbox full, try again later" in captured.err
    assert "--rate N" in captured.err and "the next try is due from 20" in captured.err
    assert "storefront newsletter send marzo" in captured.err
    assert "6 sent, 0 skipped (unsubscribed meanwhile), 1 refused by the server, 1 still to " \
        "send" in captured.out
    monkeypatch.undo()

    # once the reader's server takes mail again, the next send waits for the due try and
    # delivers it, once
    sink.refuse = set()
    waits.clear()
    result = operations.send_issue(root, "marzo", rate=0, clock=clock, sleep=sleep)
    assert (result.outcome.progress.sent, result.outcome.progress.pending) == (7, 0)
    assert result.outcome.stuck == 0 and 0 < sum(waits) <= 3600
    assert sorted(m["To"] for m in sink.wait_for(7)) == sorted(set(READERS) - {"r7@example.com"})


class QuotaSink(RefusingSink):
    """A provider that takes ``per_hour`` mails an hour (by ``clock``) and answers 451 after."""

    def __init__(self, clock: FakeClock, per_hour: int) -> None:
        super().__init__()
        self.clock, self.per_hour, self.taken = clock, per_hour, []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = self.clock()
        if sum(1 for when in self.taken if now - when < 3600) >= self.per_hour:
            self.refused.extend(envelope.rcpt_tos)
            return "451 4.7.1 Too many messages this hour, slow down"
        self.taken.append(now)
        return await MailSink.handle_DATA(self, server, session, envelope)


def test_a_provider_limit_of_so_many_an_hour_is_waited_out(
        refusing: tuple[Path, RefusingSink]) -> None:
    """Some mails go out every hour: the send keeps waiting until all are sent, however long,
    as it did before (a rule counting each mail's tries stopped it after two hours)."""
    root, _ = refusing
    clock, waits, sleep = waiting_clock()
    quota = QuotaSink(clock, per_hour=2)
    server = SmtpServer(quota, free_port())
    server.start()
    try:
        write_shop(root, smtp_port=server.port)
        shown: list[int] = []
        result = operations.send_issue(root, "marzo", rate=0, clock=clock, sleep=sleep,
                                       progress=lambda done, total: shown.append(done))
    finally:
        server.stop()
    state = result.outcome.progress
    assert (state.sent, state.refused, state.pending, result.outcome.stuck) == (8, 0, 0, 0)
    # the progress shown counts the earlier rounds too (it went back to 0 after each retry)
    assert shown == sorted(shown) and shown[-1] == len(READERS)
    assert 3 * 3600 < sum(waits) < 4 * 3600  # four hours' worth, two mails each
    assert sorted(m["To"] for m in quota.messages) == sorted(READERS)


def test_a_mail_server_that_answers_later_for_everyone_keeps_every_mail(
        refusing: tuple[Path, RefusingSink]) -> None:
    """The same temporary answer for every reader (the provider's daily quota used up, or the
    server down) marks nobody: all stay queued, and the send ends after two hours."""
    root, sink = refusing
    sink.answer = "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted"
    sink.answers = {address: "452 4.5.3 Mailbox full for this hour" for address in READERS[6:]}
    sink.refuse = set(READERS)
    clock, waits, sleep = waiting_clock()
    result = operations.send_issue(root, "marzo", rate=0, clock=clock, sleep=sleep)
    state = result.outcome.progress
    assert (state.sent, state.refused, state.pending) == (0, 0, len(READERS))
    assert result.outcome.stuck == len(READERS) and result.outcome.refusal is None
    # the answer of most of them (each names its reader), not of the two with the last ids
    assert result.outcome.stuck_answer == sink.answer.format(rcpt=READERS[5])
    assert sum(waits) <= STALL_SECONDS


def test_a_paced_send_that_nothing_gets_through_ends_too(
        refusing: tuple[Path, RefusingSink]) -> None:
    """Paced (8 an hour), a round of 24 failures takes three hours, longer than the longest
    retry wait: some mail was always due again, so the send never stopped. Now it stops once
    each mail was tried, the last mail gone out (none: the start) two hours or more ago."""
    result, clock, waits = paced_and_all_refused(*refusing, readers=24, rate=8)
    assert (result.outcome.progress.pending, result.outcome.stuck) == (24, 24)
    assert len(refusing[1].refused) == 24  # each tried once, 450 s apart
    assert sum(waits) == 23 * 3600 / 8
    assert result.outcome.retry_at is not None and result.outcome.retry_at >= clock()


def test_a_slow_pace_is_no_stall(refusing: tuple[Path, RefusingSink]) -> None:
    """At one mail an hour, the pace's own waits are no "nothing went out": a reader's full
    mailbox does not stop the send before every other reader got the issue."""
    root, sink = refusing
    sink.answer = "452 4.2.2 <{rcpt}>: Mailbox full, try again later"
    sink.refuse = {"r1@example.com"}
    clock, _, sleep = waiting_clock()
    result = operations.send_issue(root, "marzo", rate=1, clock=clock, sleep=sleep)
    state = result.outcome.progress
    assert (state.sent, state.pending, result.outcome.stuck) == (7, 1, 1)
    assert sorted(m["To"] for m in sink.wait_for(7)) == sorted(set(READERS) - sink.refuse)


def test_readers_who_unsubscribe_meanwhile_are_no_mail_gone_out(
        refusing: tuple[Path, RefusingSink]) -> None:
    """A reader unsubscribing on the site cancels their queued mail (skipped): that is no mail
    the server took, so it does not keep a send that nothing gets through waiting."""
    root, sink = refusing
    sink.answer = "421 4.3.2 Service not available, closing channel"
    sink.refuse = set(READERS)
    clock, waits, plain_sleep = waiting_clock()
    leaving = iter(READERS[1:])

    def sleep(seconds: float) -> None:  # one reader unsubscribes at each wait
        plain_sleep(seconds)
        address = next(leaving, None)
        if address is not None:
            with open_database(load_config(root), root) as database, \
                    database.connect() as conn:
                (reader,) = conn.execute("SELECT id FROM subscribers WHERE email = ?",
                                         (address,)).fetchall()
                unsubscribe(conn, reader[0], datetime.fromtimestamp(clock(), UTC), "link")

    result = operations.send_issue(root, "marzo", rate=0, clock=clock, sleep=sleep)
    state = result.outcome.progress
    assert (state.sent, state.skipped, state.pending) == (0, 6, 2)
    assert result.outcome.stuck == 2 and sum(waits) <= STALL_SECONDS


def test_a_mail_sent_on_a_clock_ahead_does_not_hold_the_stop_off(
        refusing: tuple[Path, RefusingSink]) -> None:
    """A mail that went out on a clock a day ahead (set back since, or another host's) is no
    reason to wait a day for a send that nothing gets through."""
    root, sink = refusing
    sink.answer = "451 4.7.1 Try again later"
    sink.refuse = set(READERS[1:])
    ahead = FakeClock(time.time() + 86400)
    result = operations.send_issue(root, "marzo", rate=0, clock=ahead, sleep=ahead.advance,
                                   wait_for_retries=False)
    assert result.outcome.progress.sent == 1
    assert query(root, "SELECT COUNT(*) FROM outbox WHERE done_at > ?", (time.time() + 3600,)) \
        == [(1,)]
    run_sql(root, "UPDATE outbox SET next_attempt_at = 0 WHERE sent_at IS NULL")  # due now
    sink.refuse = set(READERS)
    clock, waits, sleep = waiting_clock()
    result = operations.send_issue(root, "marzo", rate=0, clock=clock, sleep=sleep)
    assert len(sink.refused) > 7 + 7  # tried again on this clock
    assert (result.outcome.progress.pending, result.outcome.stuck) == (7, 7)
    assert sum(waits) <= STALL_SECONDS
    assert result.outcome.stalled_since is not None and result.outcome.stalled_since <= clock()


def local(moment: float | None) -> str:
    assert moment is not None
    return datetime.fromtimestamp(moment).astimezone().strftime("%Y-%m-%d %H:%M")


def test_mails_taken_over_from_a_stopped_send_do_not_keep_it_waiting(
        refusing: tuple[Path, RefusingSink]) -> None:
    """Mails another send held when this one began (it stopped; they are taken over) are tried
    here too: they once had no tries to compare with, and the send never stopped."""
    root, sink = refusing
    sink.answer = "451 4.7.1 Try again later"
    sink.refuse = set(READERS)
    first = operations.send_issue(root, "marzo", rate=0, wait_for_retries=False)
    assert first.outcome.progress.pending == len(READERS)
    clock, waits, sleep = waiting_clock()
    with open_database(load_config(root), root) as database:
        other = database.sender()
        with database.connect() as conn:
            conn.execute("UPDATE outbox SET claimed_by = ?, locked_until = 0, next_attempt_at = 0"
                         " WHERE recipient IN (?, ?, ?)", (other.name, *READERS[5:]))
        other.release()  # a send that stopped while it held them
        result = operations.send_issue(root, "marzo", rate=0, clock=clock, sleep=sleep)
    assert result.outcome.report.taken_over == 3
    assert (result.outcome.progress.pending, result.outcome.stuck) == (len(READERS), len(READERS))
    assert sum(waits) <= STALL_SECONDS


def test_a_long_paced_list_that_nothing_gets_through_tries_each_reader_and_ends(
        refusing: tuple[Path, RefusingSink]) -> None:
    """210 readers at 100 an hour, all refused for now: a batch of 200 took two hours, longer
    than the longest retry wait, and mails were claimed by id, so the first 200 were tried again
    and again and the last 10 never: the send never ended. Now the earliest due go first."""
    result, _, waits = paced_and_all_refused(*refusing, readers=210, rate=100)
    assert (result.outcome.progress.pending, result.outcome.stuck) == (210, 210)
    assert set(refusing[1].refused) == refusing[1].refuse  # each reader tried
    assert sum(waits) < 5 * 3600

"""``newsletter send`` killed with SIGKILL in the middle of 1,000 messages, then run again: every
confirmed subscriber gets the issue, and at most the one message in flight arrives twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from forms_support import MailSink, SmtpServer, free_port
from newsletter_support import SECRET_TEXT, query, write_shop
from process_support import stop_with_sigterm

from storefront.config import load_config
from storefront.forms import open_database
from storefront.newsletter import operations

pytestmark = pytest.mark.both_backends

READERS = 1000


def send_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "storefront", "--root", str(root), "newsletter", "send", "marzo"]


def import_readers(root: Path, count: int) -> None:
    lines = ["email,consent_at,evidence"]
    lines += [f"reader{n:04d}@example.com,2025-01-10 10:00,double opt-in (old list)"
              for n in range(count)]
    outcome = operations.import_file(root, "\n".join(lines) + "\n", "readers.csv", "csv")
    assert outcome["confirmed"] == count


@pytest.mark.slow
def test_sigkill_mid_send_then_resume(tmp_path: Path, smtp_server: SmtpServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)
    write_shop(tmp_path, smtp_port=smtp_server.port)
    import_readers(tmp_path, READERS)
    sink = smtp_server.sink
    env = {**os.environ, "STOREFRONT_FORMS_SECRET": SECRET_TEXT}

    first = subprocess.Popen(send_command(tmp_path), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(sink.messages) < 300 and time.monotonic() < deadline:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(30) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
        if first.stderr is not None:
            first.stderr.close()
    delivered_before = len(sink.messages)
    assert 300 <= delivered_before < READERS, "the kill must land in the middle of sending"
    # what the killed sender left: its claims (including the one in flight), nothing else lost
    [(claimed,)] = query(tmp_path, "SELECT COUNT(*) FROM outbox WHERE kind = 'issue' AND"
                         " sent_at IS NULL AND claimed_by != ''")
    [(marked,)] = query(tmp_path, "SELECT COUNT(*) FROM outbox WHERE outcome = 'sent'")
    assert marked in (delivered_before, delivered_before - 1)  # the in-flight one, at most
    assert claimed >= 1

    second = subprocess.run(send_command(tmp_path), env=env, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resumed" in second.stdout and f"{READERS} sent" in second.stdout
    sink.wait_for(READERS)
    received = Counter(rcpt for _sender, rcpts in sink.envelopes for rcpt in rcpts)
    assert set(received) == {f"reader{n:04d}@example.com" for n in range(READERS)}
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= 1, [r for r, c in received.items() if c > 1]
    # a third run sends nothing more
    third = subprocess.run(send_command(tmp_path), env=env, capture_output=True, text=True,
                           timeout=120)
    assert third.returncode == 0 and "0 still to send" in third.stdout
    time.sleep(0.2)
    assert len(sink.messages) == READERS + duplicates


class RefusedTransport:
    """A mail server that cannot be reached (every mail fails and is retried later)."""

    @contextmanager
    def session(self) -> Iterator[Any]:
        raise ConnectionRefusedError("no mail server")
        yield


def test_a_sender_waiting_for_a_retry_takes_over_the_mails_of_a_sender_that_stopped(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """This sender waits for its own retry (up to an hour apart) while another holds the other
    mails; when that one stops, its mails are taken over within 30 s, not after the retry."""
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)
    write_shop(tmp_path, smtp_port=smtp_server.port)
    import_readers(tmp_path, 3)
    queued = operations.send_issue(tmp_path, "marzo", transport=RefusedTransport(), rate=0,
                                   wait_for_retries=False)
    assert queued.outcome.progress.pending == 3
    now = time.time()
    clock = [now]
    slept: list[float] = []
    with open_database(load_config(tmp_path), tmp_path) as database:
        other = database.sender()
        with database.connect() as conn:
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM outbox WHERE kind = 'issue' ORDER BY id")]
            conn.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (now + 3000, ids[0]))
            conn.execute("UPDATE outbox SET claimed_by = ?, locked_until = ?, next_attempt_at = 0"
                         " WHERE id IN (?, ?)", (other.name, now + 300, ids[1], ids[2]))

        def sleep(seconds: float) -> None:  # the other sender stops while this one waits
            slept.append(seconds)
            other.release()
            clock[0] += seconds

        try:
            result = operations.send_issue(tmp_path, "marzo", rate=0, clock=lambda: clock[0],
                                           sleep=sleep)
        finally:
            other.release()
    assert slept and slept[0] <= 30, slept
    assert result.outcome.report.taken_over == 2 and result.outcome.progress.pending == 0
    per_reader = Counter(str(m["To"]) for m in smtp_server.sink.wait_for(3))
    assert len(per_reader) == 3 and set(per_reader.values()) == {1}


class SlowSink(MailSink):
    """Takes every mail, answering after ``delay`` seconds (a slow or distant server)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return answer


@pytest.mark.slow
@pytest.mark.parametrize(("delay", "rate"), [(0.5, "0"), (0.0, "120")],
                         ids=["slow-server", "rate-limit-pause"])
def test_sigterm_stops_the_send_between_mails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              delay: float, rate: str) -> None:
    """systemd's stop (SIGTERM, then SIGKILL after 90 s) in the middle of a send, with a slow
    server or in the rate limit's pause: it ends within seconds, every mail the server took
    is recorded, nothing is left claimed, and the next send sends the rest, none twice."""
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)
    sink = SlowSink(delay)
    server = SmtpServer(sink, free_port())
    server.start()
    try:
        write_shop(tmp_path, smtp_port=server.port)
        import_readers(tmp_path, 30)
        env = {**os.environ, "STOREFRONT_FORMS_SECRET": SECRET_TEXT}
        sender = subprocess.Popen([*send_command(tmp_path), "--rate", rate], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sink.wait_for(2 if rate == "0" else 1, timeout=60)
        out, err, stopped_after = stop_with_sigterm(sender)
        assert stopped_after < 8, f"stopped after {stopped_after:.1f} s"
        assert sender.returncode == 143, out + err
        assert "stopped (SIGTERM)" in out and "storefront newsletter send marzo" in out
        time.sleep(delay + 0.1)  # an answer the server was still giving
        taken = len(sink.messages)
        assert 1 <= taken < 30
        assert query(tmp_path, "SELECT COUNT(*) FROM outbox WHERE outcome = 'sent'") == [(taken,)]
        assert query(tmp_path, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
                     " AND claimed_by != ''") == [(0,)]
        sink.delay = 0.0
        again = subprocess.run([*send_command(tmp_path), "--rate", "0"], env=env,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and "30 sent" in again.stdout, again.stdout + again.stderr
        assert "resumed" not in again.stdout  # nothing was left claimed
        received = Counter(rcpt for _sender, rcpts in sink.envelopes for rcpt in rcpts)
        assert len(received) == 30 and set(received.values()) == {1}
    finally:
        server.stop()

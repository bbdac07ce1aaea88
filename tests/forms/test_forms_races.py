"""Races: simultaneous posts against the rate limit, and mail senders that run at the same time
or die in the middle of sending. Real processes, a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from forms_support import (
    SECRET,
    FakeClock,
    MailSink,
    SmtpServer,
    WsgiClient,
    free_port,
    make_config,
    rows,
)
from process_support import (
    Endpoint,
    claimed_unsent,
    contact_fields,
    fetch_token,
    mails_per_name,
    owner_command,
    post_form,
    stop_with_sigterm,
    stored_names,
    write_site,
)

from storefront.forms import create_app

pytestmark = pytest.mark.both_backends

# -- the rate limit --------------------------------------------------------------------------------


def test_simultaneous_posts_from_one_client_store_exactly_the_limit(tmp_path: Path) -> None:
    write_site(tmp_path, rate_limit=10)
    clients = 60
    with Endpoint(tmp_path, threads=clients + 4) as endpoint:
        conns = [endpoint.connection() for _ in range(clients)]
        tokens = [fetch_token(conn, "contact") for conn in conns]  # connected, token in hand
        barrier = threading.Barrier(clients)
        answers: dict[str, tuple[int, dict[str, Any]]] = {}

        def post(n: int) -> None:
            barrier.wait()
            answers[f"r{n}"] = post_form(conns[n], "contact", contact_fields(f"r{n}"), tokens[n])

        threads = [threading.Thread(target=post, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for conn in conns:
            conn.close()
    assert Counter(status for status, _ in answers.values()) == {200: 10, 429: 50}
    accepted = {name for name, (status, _) in answers.items() if status == 200}
    assert set(stored_names(tmp_path)) == accepted
    assert all("Troppi invii" in answer["form_errors"][0]
               for status, answer in answers.values() if status == 429)


# -- mail senders ----------------------------------------------------------------------------------


class GatedSink(MailSink):
    """Takes the first ``accept`` messages; from then on it receives each message but answers
    only once :attr:`gate` is open (the client waits, as with a slow server). ``delay`` slows
    every answer down."""

    def __init__(self, accept: int = 10**9, delay: float = 0.0) -> None:
        super().__init__()
        self.accept = accept
        self.delay = delay
        self.gate = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        while len(self.messages) > self.accept and not self.gate.is_set():
            await asyncio.sleep(0.02)
        return answer


@pytest.fixture
def gated() -> Iterator[tuple[GatedSink, int]]:
    """A gated SMTP server on loopback: its sink and its port."""
    sink = GatedSink()
    server = SmtpServer(sink, free_port())
    server.start()
    yield sink, server.port
    sink.gate.set()
    server.stop()


def queue_notifications(root: Path, smtp_port: int, count: int) -> None:
    """Store ``count`` contact submissions (their notifications wait in the outbox)."""
    write_site(root, smtp_port=smtp_port, rate_limit=count)
    clock = FakeClock()
    config = make_config(smtp_port=smtp_port, rate_limit=count)
    with create_app(config, root, clock=clock, secret=SECRET,
                    deliver_mail=False) as app:
        client = WsgiClient(app, clock)
        for n in range(count):
            assert client.post("contact", contact_fields(f"m{n}")).status == 303


def sending_sixth_of_twenty(root: Path, gated: tuple[GatedSink, int]) -> subprocess.Popen[bytes]:
    """A ``forms send`` of 20 queued notifications whose server took five and keeps the sixth
    waiting for its answer."""
    sink, port = gated
    queue_notifications(root, port, 20)
    sink.accept = 5
    sender = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTIBLE, "--root", str(root), "forms", "send"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    assert len(sink.wait_for(6, timeout=60)) == 6
    return sender


# ``python -m storefront`` with Ctrl-C as in a terminal, also when the test run itself was
# started in the background (a shell starts background jobs with SIGINT ignored, children
# inherit that, and Python then leaves it ignored)
_INTERRUPTIBLE = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "sys.argv[0] = 'storefront'; runpy.run_module('storefront', run_name='__main__')")


def test_forms_send_takes_over_the_mails_of_a_sender_killed_mid_send(
    tmp_path: Path, gated: tuple[GatedSink, int],
) -> None:
    sink = gated[0]
    dead = sending_sixth_of_twenty(tmp_path, gated)
    os.kill(dead.pid, signal.SIGKILL)
    assert dead.wait(30) == -signal.SIGKILL
    in_flight = claimed_unsent(tmp_path)
    assert in_flight == 20  # claimed in one batch, none marked sent yet
    sink.gate.set()

    result = owner_command(tmp_path, "send")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "sent 20, not sent 0",
        f"20 notifications had been claimed by a sender that is no longer running (process "
        f"{dead.pid}): taken over; a mail it had already handed to the server may arrive twice",
    ]
    mailed = mails_per_name(sink.messages)
    assert set(mailed) == {f"m{n}" for n in range(20)}
    duplicates = sum(mailed.values()) - len(mailed)
    assert duplicates == 6 <= in_flight  # the dead sender's six, not one more
    lock_files = tmp_path / "data" / "forms-senders"  # SQLite's senders (PostgreSQL: none)
    assert not lock_files.exists() or list(lock_files.iterdir()) == []  # the dead one swept

    again = owner_command(tmp_path, "send")
    assert (again.returncode, again.stdout) == (0, "sent 0, not sent 0\n")
    assert len(sink.messages) == 26


def test_an_interrupted_forms_send_marks_what_the_server_took(
    tmp_path: Path, gated: tuple[GatedSink, int],
) -> None:
    sink = gated[0]
    interrupted = sending_sixth_of_twenty(tmp_path, gated)
    os.kill(interrupted.pid, signal.SIGINT)  # Ctrl-C while the 6th waits for its answer
    assert interrupted.wait(30) == 130
    assert rows(tmp_path, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL") == [(5,)]
    assert claimed_unsent(tmp_path) == 0  # the rest was given back at once
    sink.gate.set()
    result = owner_command(tmp_path, "send")
    assert (result.returncode, result.stdout) == (0, "sent 15, not sent 0\n")
    mailed = mails_per_name(sink.messages)
    assert set(mailed) == {f"m{n}" for n in range(20)}
    assert sum(mailed.values()) == 21  # only the one in flight went twice


@pytest.mark.postgres_only
def test_a_send_that_meets_another_claim_in_flight_says_the_mails_are_left_to_it(
    tmp_path: Path, smtp_server: SmtpServer,
) -> None:
    """Another sender is claiming every notification at the very moment ``forms send`` looks:
    its claim is not committed, so PostgreSQL skips the rows as locked and still reads them as
    free (the claim's own count says no other sender holds any). The command asks again once
    that claim has committed, and says they are left to the other sender, as it does when the
    claim was committed first."""
    import psycopg
    from forms_support import Backend

    from storefront.config import load_config
    from storefront.forms.backends import open_postgres
    from storefront.forms.commands import send_outbox

    queue_notifications(tmp_path, smtp_server.port, 6)
    other = psycopg.connect(Backend.setting)  # not autocommit: its claim stays open
    with open_postgres(Backend.setting) as store, store.sender() as other_sender:
        other.execute("UPDATE outbox SET claimed_by = %s, locked_until = %s WHERE id IN"
                      " (SELECT id FROM outbox WHERE sent_at IS NULL FOR UPDATE SKIP LOCKED)",
                      (other_sender.name, time.time() + 300))
        commit = threading.Timer(0.1, other.commit)
        commit.start()
        try:
            report = send_outbox(load_config(tmp_path), tmp_path)
        finally:
            commit.cancel()
            other.close()
    assert (report.sent, report.failed, report.busy) == (0, 0, 6)
    assert smtp_server.sink.messages == []


def test_senders_running_at_once_never_send_a_mail_twice(
    tmp_path: Path, gated: tuple[GatedSink, int],
) -> None:
    sink, port = gated
    queue_notifications(tmp_path, port, 30)
    sink.accept = 0  # the first mail waits for the gate: its sender is busy for as long
    command = [sys.executable, "-m", "storefront", "--root", str(tmp_path), "forms", "send"]
    senders = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    sink.wait_for(1, timeout=60)
    deadline = time.monotonic() + 60
    while sum(sender.poll() is not None for sender in senders) < 2:
        assert time.monotonic() < deadline, "the other senders did not end"
        time.sleep(0.02)
    sink.gate.set()
    outputs = [sender.communicate(timeout=60)[0] for sender in senders]
    assert [sender.returncode for sender in senders] == [0, 0, 0]
    left = ("sent 0, not sent 0\n30 notifications being sent right now by another running "
            "process (the endpoint or another 'forms send'): left to it\n")
    assert sorted(outputs) == [left, left, "sent 30, not sent 0\n"]
    assert sorted(mails_per_name(sink.messages).values()) == [1] * 30
    assert claimed_unsent(tmp_path) == 0


def slow_sender(root: Path, which: str) -> subprocess.Popen[str]:
    """The endpoint (``forms serve``) or a ``forms send``, sending the queued notifications."""
    command = [sys.executable, "-m", "storefront", "--root", str(root), "forms"]
    command += ["serve", "--port", "0"] if which == "endpoint" else ["send"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["endpoint", "forms send"])
def test_sigterm_stops_a_slow_send_between_mails_and_records_what_went_out(
    tmp_path: Path, gated: tuple[GatedSink, int], which: str,
) -> None:
    """systemd stops a service with SIGTERM and kills it (SIGKILL) 90 s later. A sender that
    went on with its batch of up to 200 mails to a slow server outlasted that, and the kill
    lost the record of the whole batch: every mail of it went out again. Now it stops after
    the mail in flight, records what the server took and gives the rest back."""
    sink, port = gated
    queue_notifications(tmp_path, port, 40)
    sink.delay = 0.5  # 20 s for the whole batch
    sender = slow_sender(tmp_path, which)
    sink.wait_for(3, timeout=60)
    out, err, stopped_after = stop_with_sigterm(sender)
    assert stopped_after < 8, f"stopped after {stopped_after:.1f} s"
    assert sender.returncode == (0 if which == "endpoint" else 143), err
    if which == "forms send":
        assert "stopped (SIGTERM)" in out and "storefront forms send" in out
    time.sleep(0.6)  # an answer the server was still giving
    taken = len(sink.messages)
    assert 3 <= taken < 40
    assert rows(tmp_path, "SELECT COUNT(*) FROM outbox WHERE outcome = 'sent'") == [(taken,)]
    assert claimed_unsent(tmp_path) == 0  # the rest given back, not left to a lease
    sink.delay = 0.0
    result = owner_command(tmp_path, "send")
    assert (result.returncode, result.stdout) == (0, f"sent {40 - taken}, not sent 0\n")
    assert sorted(mails_per_name(sink.messages).values()) == [1] * 40  # none twice

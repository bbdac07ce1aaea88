"""Sender identities: the names outbox claims carry, alive exactly while their process holds
the lock (see storefront.forms.sender)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storefront.forms.backends import open_postgres
from storefront.forms.sender import SenderIdentity, sender_alive, senders_folder


def test_a_sender_is_alive_until_it_releases_its_name(tmp_path: Path) -> None:
    database = tmp_path / "forms.sqlite3"
    folder = senders_folder(database)
    with SenderIdentity(database) as first, SenderIdentity(database) as second:
        assert first.name != second.name
        assert first.alive(second.name) and second.alive(first.name)
        assert sender_alive(folder, first.name)  # a probe from the holder's own process too
        assert first.name.startswith(f"{os.getpid()}-")
        gone = first.name
    assert not sender_alive(folder, gone)
    assert list(folder.iterdir()) == []
    assert not sender_alive(folder, "../../etc/passwd")  # not a sender's name: no file is opened


def test_a_killed_sender_is_dead_at_once_and_its_lock_file_is_swept(tmp_path: Path) -> None:
    database = tmp_path / "forms.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from storefront.forms.sender import SenderIdentity; "
         "me = SenderIdentity(Path(sys.argv[1])); print(me.name, flush=True); time.sleep(60)",
         str(database)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    name = holder.stdout.readline().strip()
    folder = senders_folder(database)
    try:
        assert sender_alive(folder, name)
        assert sender_alive(folder, name)  # probing leaves a running sender's file alone
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert [p.name for p in folder.iterdir()] == [f"{name}.lock"]  # left behind by the kill
    with SenderIdentity(database) as successor:
        assert not successor.alive(name)
        assert [p.name for p in folder.iterdir()] == [f"{successor.name}.lock"]


@pytest.mark.postgres_only
def test_a_postgresql_sender_is_alive_while_its_session_holds_the_lock(database: str) -> None:
    with open_postgres(database) as store:
        with store.sender() as first, store.sender() as second:
            assert first.name != second.name
            assert first.alive(second.name) and second.alive(first.name)
            assert first.alive(first.name)
            assert first.name.startswith(f"{os.getpid()}-")
            gone = first.name
        with store.sender() as third:
            assert not third.alive(gone)  # released: its claims may be taken over
            assert not third.alive("not-a-sender") and not third.alive("")


@pytest.mark.postgres_only
def test_a_killed_postgresql_sender_is_dead_at_once(database: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from storefront.forms.backends import "
         "open_postgres; me = open_postgres(sys.argv[1]).sender(); print(me.name, flush=True); "
         "time.sleep(60)", database], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    name = holder.stdout.readline().strip()
    with open_postgres(database) as store, store.sender() as probe:
        try:
            assert probe.alive(name)
            assert probe.alive(name)  # probing leaves a running sender's lock alone
        finally:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()
            holder.stdout.close()
        deadline = time.monotonic() + 10  # the server notices the closed socket at once
        while probe.alive(name):
            assert time.monotonic() < deadline, "the dead sender's lock was not released"
            time.sleep(0.01)

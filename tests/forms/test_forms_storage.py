"""The SQLite layer: migrations, the group-commit writer, forgetting a person."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from process_support import posix_locks

from storefront.forms.erasure import ForgetReport, forget_email
from storefront.forms.storage import (
    SCHEMA_VERSION,
    NewSubmission,
    StorageError,
    connect,
    count_by_form,
    fetch_submissions,
    stored_secret,
)
from storefront.forms.writer import SubmissionWriter


def submission(n: int, *, email: str = "", notify: str = "owner@example.com",
               status: str = "received", form: str = "contact") -> NewSubmission:
    return NewSubmission(form=form, created_at=f"2025-01-01T00:00:{n % 60:02d}+00:00",
                         status=status, data={"n": n, "message": f"messaggio numero {n}"},
                         email=email, ip_hash="h", notify=notify)


def test_new_database_is_migrated(tmp_path: Path) -> None:
    conn = connect(tmp_path / "sub" / "forms.sqlite3")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"meta", "submissions", "outbox"} <= tables
    finally:
        conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "forms.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StorageError, match="newer than this storefront"):
        connect(path)


def test_concurrent_first_connections_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "forms.sqlite3"
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_it() -> None:
        try:
            barrier.wait()
            connect(path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    conn = connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="cannot open the form database"):
        connect(tmp_path / "file" / "forms.sqlite3")


def test_secret_is_created_once(tmp_path: Path) -> None:
    conn = connect(tmp_path / "f.sqlite3")
    try:
        first = stored_secret(conn)
        assert len(first) == 32
        assert stored_secret(conn) == first
    finally:
        conn.close()


def _gate_first_commit(writer: SubmissionWriter) -> tuple[threading.Event, threading.Event]:
    """Hold the writer after its first commit, so the next requests queue up behind it."""
    entered, release = threading.Event(), threading.Event()

    def on_commit(count: int) -> None:
        if not entered.is_set():
            entered.set()
            release.wait(10)

    writer.on_commit = on_commit
    return entered, release


def test_writer_groups_concurrent_submissions_into_one_commit(tmp_path: Path) -> None:
    writer = SubmissionWriter(tmp_path / "f.sqlite3")
    entered, release = _gate_first_commit(writer)
    ids: list[int] = []
    ids_lock = threading.Lock()

    def store(n: int) -> None:
        new_id = writer.store(submission(n))
        with ids_lock:
            ids.append(new_id)

    first = threading.Thread(target=store, args=(0,))
    first.start()
    assert entered.wait(10)
    others = [threading.Thread(target=store, args=(n,)) for n in range(1, 41)]
    for t in others:
        t.start()
    while writer._queue.qsize() < 40:  # all queued behind the held writer
        threading.Event().wait(0.005)
    release.set()
    for t in [first, *others]:
        t.join()
    writer.close()
    assert sorted(ids) == list(range(1, 42))
    assert writer.batches == 2  # one for the first, one for the other forty
    conn = connect(tmp_path / "f.sqlite3")
    try:
        assert len(fetch_submissions(conn)) == 41
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 41
    finally:
        conn.close()


def test_a_bad_row_does_not_sink_its_batch(tmp_path: Path) -> None:
    writer = SubmissionWriter(tmp_path / "f.sqlite3")
    entered, release = _gate_first_commit(writer)
    results: dict[int, object] = {}

    def store(n: int, status: str) -> None:
        try:
            results[n] = writer.store(submission(n, status=status))
        except StorageError as exc:
            results[n] = exc

    threads = [threading.Thread(target=store, args=(0, "received"))]
    threads[0].start()
    assert entered.wait(10)
    for n in range(1, 6):
        t = threading.Thread(target=store, args=(n, "bogus" if n == 3 else "received"))
        threads.append(t)
        t.start()
    while writer._queue.qsize() < 5:
        threading.Event().wait(0.005)
    release.set()
    for t in threads:
        t.join()
    writer.close()
    assert isinstance(results[3], StorageError)
    assert all(isinstance(results[n], int) for n in (0, 1, 2, 4, 5))
    conn = connect(tmp_path / "f.sqlite3")
    try:
        stored = sorted(s.data["n"] for s in fetch_submissions(conn))
        assert stored == [0, 1, 2, 4, 5]
    finally:
        conn.close()


def test_writer_refuses_after_close(tmp_path: Path) -> None:
    writer = SubmissionWriter(tmp_path / "f.sqlite3")
    assert writer.store(submission(1)) == 1
    writer.close()
    with pytest.raises(StorageError, match="shutting down"):
        writer.store(submission(2))


def test_forget_erases_rows_mail_and_bytes_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    writer = SubmissionWriter(path)
    writer.store(submission(1, email="maria@example.com"))
    writer.store(submission(2, email="luca@example.com"))
    writer.store(submission(3, email="maria@example.com", form="newsletter"))
    writer.close()
    conn = connect(path)
    try:
        assert forget_email(conn, "  MARIA@example.com ") == ForgetReport(2, wal_cleared=True)
        left = fetch_submissions(conn)
        assert [s.email for s in left] == ["luca@example.com"]
        assert conn.execute("SELECT submission_id FROM outbox").fetchall() == [(2,)]
        assert forget_email(conn, "nobody@example.com").deleted == 0
        assert [c.form for c in count_by_form(conn)] == ["contact"]
    finally:
        conn.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"messaggio numero 1" not in data
    assert b"messaggio numero 3" not in data
    assert b"messaggio numero 2" in data


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection holding the write lock, as an owner's long command would."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _store_all(writer: SubmissionWriter, count: int) -> dict[int, object]:
    results: dict[int, object] = {}

    def store(n: int) -> None:
        try:
            results[n] = writer.store(submission(n))
        except StorageError as exc:
            results[n] = exc

    threads = [threading.Thread(target=store, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_request_that_gave_up_is_never_stored_later(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    connect(path).close()
    writer = SubmissionWriter(path, wait_seconds=0.5)
    blocker = _hold_write_lock(path)
    try:
        results = _store_all(writer, 6)  # each request gives up after 0.5 s ...
    finally:
        blocker.execute("ROLLBACK")  # ... and the lock goes away while the writer still waits
        blocker.close()
    writer.close()
    assert all(isinstance(r, StorageError) for r in results.values())
    with closing(connect(path)) as conn:
        assert fetch_submissions(conn) == []  # an error answer means: not stored


def test_a_locked_database_fails_the_batch_once_without_retrying_each_item(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.sqlite3"
    connect(path).close()
    writer = SubmissionWriter(path, busy_timeout=0.5)
    blocker = _hold_write_lock(path)
    try:
        started = time.monotonic()
        results = _store_all(writer, 6)
        elapsed = time.monotonic() - started
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert all(isinstance(r, StorageError) for r in results.values())
    assert elapsed < 2.0  # one or two busy waits, not one per item
    assert writer.store(submission(7)) == 1  # the lock is gone: the writer works again
    writer.close()


def test_an_unexpected_error_fails_its_batch_and_the_writer_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    writer = SubmissionWriter(tmp_path / "f.sqlite3", wait_seconds=3)
    broken = NewSubmission(form="contact", created_at="2025-01-01T00:00:00+00:00",
                           status="received", data={"n": object()}, email="", ip_hash="h")
    with pytest.raises(StorageError):
        writer.store(broken)  # json.dumps raises TypeError inside the writer thread
    assert writer.store(submission(1)) == 1
    writer.close()
    assert any("TypeError" in (r.exc_text or "") for r in caplog.records)


class _Fatal(BaseException):
    pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_writer_thread_is_restarted(tmp_path: Path) -> None:
    writer = SubmissionWriter(tmp_path / "f.sqlite3", wait_seconds=3)

    def on_commit(count: int) -> None:
        writer.on_commit = None
        raise _Fatal  # not an Exception: it ends the thread

    writer.on_commit = on_commit
    assert writer.store(submission(1)) == 1
    assert writer._thread is not None
    writer._thread.join(5)
    assert not writer._thread.is_alive()
    assert writer.store(submission(2)) == 2  # a new thread took over
    writer.close()


def test_database_files_are_private_to_their_owner(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual default: files readable by everyone
    try:
        path = tmp_path / "data" / "forms.sqlite3"
        conn = connect(path)
        try:
            conn.execute("INSERT INTO meta VALUES ('k', 'v')")  # the WAL and -shm exist now
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {
                p.name: 0o600 for p in files}
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        finally:
            conn.close()
    finally:
        os.umask(previous)


def test_forget_says_when_a_reader_keeps_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    writer = SubmissionWriter(path)
    writer.store(submission(1, email="maria@example.com"))
    writer.close()
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM submissions").fetchone()  # holds its snapshot
    try:
        with closing(connect(path)) as conn:
            started = time.monotonic()
            report = forget_email(conn, "maria@example.com", wait_seconds=0.3)
            assert time.monotonic() - started < 3
            assert report == ForgetReport(1, wal_cleared=False)
    finally:
        reader.execute("COMMIT")
        reader.close()


def test_forget_finds_the_address_in_any_field_and_in_spam(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    writer = SubmissionWriter(path)

    def store(data: dict[str, object], status: str = "received") -> None:
        writer.store(NewSubmission(form="contact", created_at="2025-01-01T00:00:00+00:00",
                                   status=status, data=data, email="", ip_hash="h"))

    store({"email": "", "phone": "1", "alt_email": "Maria@Example.COM"})
    store({"email": "maria@example.com"}, status="spam")  # the honeypot row keeps no e-mail column
    store({"message": "Scrivetemi a MARIA@example.com."})
    store({"message": "anna.maria@example.com e maria@example.community"})  # other people
    writer.close()
    with closing(connect(path)) as conn:
        assert forget_email(conn, "maria@example.com").deleted == 3
        left = fetch_submissions(conn, include_spam=True)
        assert [s.data for s in left] == [
            {"message": "anna.maria@example.com e maria@example.community"}]


def test_opening_a_connection_keeps_the_locks_of_the_others(tmp_path: Path) -> None:
    """Closing any descriptor of a file drops every POSIX lock the process holds on it: a
    connect() that did so would silently unlock the connections already open, and the next
    process to close the database would delete the WAL they write to."""
    path = tmp_path / "forms.sqlite3"
    with closing(connect(path)) as first:
        first.execute("SELECT COUNT(*) FROM submissions").fetchone()
        assert posix_locks(os.getpid(), path) != []  # WAL mode: held while the connection is
        with closing(connect(path)) as second:
            second.execute("INSERT INTO meta VALUES ('k', 'v')")
            assert posix_locks(os.getpid(), path) != []
            other = subprocess.run(  # another process opens, reads and closes the database
                [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                 "print(c.execute('SELECT value FROM meta').fetchall()); c.close()", str(path)],
                capture_output=True, text=True, check=True)
            assert other.stdout == "[('v',)]\n"
            assert path.with_name(path.name + "-wal").exists()
            second.execute("INSERT INTO meta VALUES ('k2', 'v2')")
    with closing(sqlite3.connect(path)) as check:
        assert check.execute("SELECT key FROM meta ORDER BY key").fetchall() == [("k",), ("k2",)]

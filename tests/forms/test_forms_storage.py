"""The storage layer on both engines: migrations, the group-commit writer, forgetting a person.

Every test here runs on SQLite and on PostgreSQL (the ``database`` fixture gives each test a file
or a database of its own), except those marked ``sqlite_only`` (files, modes, POSIX locks).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from process_support import posix_locks

from storefront.forms.backends import open_postgres
from storefront.forms.database import Connection, Database
from storefront.forms.erasure import ForgetReport, forget_email
from storefront.forms.sqlite_store import SqliteDatabase, connect_file
from storefront.forms.storage import (
    NewSubmission,
    StorageError,
    count_by_form,
    fetch_submissions,
    stored_secret,
)
from storefront.forms.writer import SubmissionWriter

pytestmark = pytest.mark.both_backends


def open_store(setting: str, folder: Path) -> Database:
    """The database a test's ``database`` setting names (a path is taken inside ``folder``)."""
    if setting.startswith("postgresql://"):
        return open_postgres(setting)
    return SqliteDatabase(folder / setting)


@pytest.fixture
def store(database: str, tmp_path: Path) -> Iterator[Database]:
    with open_store(database, tmp_path) as opened:
        yield opened


def schema_version(conn: Connection) -> int:
    if conn.database.kind == "sqlite":
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    return int(conn.execute("SELECT version FROM schema_version").fetchone()[0])


def expected_version(store: Database) -> int:
    from storefront.forms import postgres_schema, sqlite_store

    module = sqlite_store if store.kind == "sqlite" else postgres_schema
    return int(module.SCHEMA_VERSION)


def submission(n: int, *, email: str = "", notify: str = "owner@example.com",
               status: str = "received", form: str = "contact", token: str = "") -> NewSubmission:
    return NewSubmission(form=form, created_at=f"2025-01-01T00:00:{n % 60:02d}+00:00",
                         status=status, data={"n": n, "message": f"messaggio numero {n}"},
                         email=email, ip_hash="h", notify=notify, token=token,
                         token_expires=2e9 if token else 0.0)


def test_new_database_is_migrated(store: Database) -> None:
    with store.connect() as conn:
        assert schema_version(conn) == expected_version(store)
        for table in ("meta", "submissions", "outbox", "used_tokens", "subscribers",
                      "newsletter_issues"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_newer_schema_is_refused(store: Database, database: str, tmp_path: Path) -> None:
    with store.connect() as conn:
        if store.kind == "sqlite":
            conn.execute("PRAGMA user_version = 99")
        else:
            conn.execute("UPDATE schema_version SET version = 99")
    with open_store(database, tmp_path) as again, pytest.raises(
            StorageError, match="newer than this storefront"):
        again.connect()


def test_concurrent_first_connections_migrate_once(database: str, tmp_path: Path) -> None:
    """Six processes' worth of first connections at once (each its own database object and
    session): the migration runs once, under the engine's lock, and nobody fails."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_it() -> None:
        try:
            with open_store(database, tmp_path) as fresh:
                barrier.wait()
                fresh.connect().close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(database, tmp_path) as store, store.connect() as conn:
        assert schema_version(conn) == expected_version(store)


@pytest.mark.sqlite_only
def test_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="cannot open the form database"):
        connect_file(tmp_path / "file" / "forms.sqlite3")


@pytest.mark.postgres_only
def test_a_server_that_does_not_answer_is_a_storage_error() -> None:
    from forms_support import free_port

    url = f"postgresql://storefront@127.0.0.1:{free_port()}/nothing?connect_timeout=2"
    with open_postgres(url) as nowhere, pytest.raises(
            StorageError, match="cannot connect to the form database postgresql://"):
        nowhere.connect()


def test_secret_is_created_once(store: Database) -> None:
    with store.connect() as conn:
        first = stored_secret(conn)
        assert len(first) == 32
        assert stored_secret(conn) == first
    with store.connect() as other:
        assert stored_secret(other) == first


def _gate_first_commit(writer: SubmissionWriter) -> tuple[threading.Event, threading.Event]:
    """Hold the writer after its first commit, so the next requests queue up behind it."""
    entered, release = threading.Event(), threading.Event()

    def on_commit(count: int) -> None:
        if not entered.is_set():
            entered.set()
            release.wait(10)

    writer.on_commit = on_commit
    return entered, release


def test_writer_groups_concurrent_submissions_into_one_commit(store: Database) -> None:
    writer = SubmissionWriter(store)
    entered, release = _gate_first_commit(writer)
    ids: list[int] = []
    ids_lock = threading.Lock()

    def store_one(n: int) -> None:
        new_id = writer.store(submission(n))
        with ids_lock:
            ids.append(new_id)

    first = threading.Thread(target=store_one, args=(0,))
    first.start()
    assert entered.wait(10)
    others = [threading.Thread(target=store_one, args=(n,)) for n in range(1, 41)]
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
    with store.connect() as conn:
        assert len(fetch_submissions(conn)) == 41
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 41


def test_a_bad_row_does_not_sink_its_batch(store: Database) -> None:
    writer = SubmissionWriter(store)
    entered, release = _gate_first_commit(writer)
    results: dict[int, object] = {}

    def store_one(n: int, status: str) -> None:
        try:
            results[n] = writer.store(submission(n, status=status))
        except StorageError as exc:
            results[n] = exc

    threads = [threading.Thread(target=store_one, args=(0, "received"))]
    threads[0].start()
    assert entered.wait(10)
    for n in range(1, 6):
        t = threading.Thread(target=store_one, args=(n, "bogus" if n == 3 else "received"))
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
    with store.connect() as conn:
        stored = sorted(s.data["n"] for s in fetch_submissions(conn))
        assert stored == [0, 1, 2, 4, 5]


def test_writer_refuses_after_close(store: Database) -> None:
    writer = SubmissionWriter(store)
    assert writer.store(submission(1)) == 1
    writer.close()
    with pytest.raises(StorageError, match="shutting down"):
        writer.store(submission(2))


def test_a_token_is_stored_once_across_instances(database: str, tmp_path: Path) -> None:
    """Two endpoint instances (each its own database object and writer) receive the same token
    many times at once: exactly one submission is stored."""
    from storefront.forms.storage import TokenAlreadyUsed

    stores = [open_store(database, tmp_path) for _ in range(2)]
    writers = [SubmissionWriter(s) for s in stores]
    outcomes: list[object] = []
    barrier = threading.Barrier(20)

    def replay(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(writers[n % 2].store(submission(n, token="1750000000.abc.mac")))
        except TokenAlreadyUsed:
            outcomes.append("refused")

    threads = [threading.Thread(target=replay, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for writer in writers:
        writer.close()
    assert sorted(outcomes, key=str).count("refused") == 19
    with stores[0].connect() as conn:
        assert len(fetch_submissions(conn)) == 1
        assert conn.execute("SELECT COUNT(*) FROM used_tokens").fetchone()[0] == 1
    for opened in stores:
        opened.close()


def test_forget_erases_rows_and_mail(store: Database) -> None:
    writer = SubmissionWriter(store)
    writer.store(submission(1, email="maria@example.com"))
    writer.store(submission(2, email="luca@example.com"))
    writer.store(submission(3, email="maria@example.com", form="newsletter"))
    writer.close()
    with store.connect() as conn:
        assert forget_email(conn, "  MARIA@example.com ") == ForgetReport(2)
        left = fetch_submissions(conn)
        assert [s.email for s in left] == ["luca@example.com"]
        assert conn.execute("SELECT submission_id FROM outbox").fetchall() == [(2,)]
        assert forget_email(conn, "nobody@example.com").deleted == 0
        assert [c.form for c in count_by_form(conn)] == ["contact"]


def table_bytes(store: Database, conn: Connection) -> bytes:
    """The bytes of the engine's files (SQLite's folder; PostgreSQL's submissions table)."""
    if isinstance(store, SqliteDatabase):
        return b"".join(p.read_bytes() for p in store.path.parent.iterdir() if p.is_file())
    conn.execute("CHECKPOINT")
    name = conn.execute("SELECT current_setting('data_directory') || '/' ||"
                        " pg_relation_filepath('submissions')").fetchone()[0]
    return Path(name).read_bytes()


def test_forget_leaves_no_bytes_in_the_table_files(store: Database) -> None:
    writer = SubmissionWriter(store)
    writer.store(submission(1, email="maria@example.com"))
    writer.store(submission(2, email="luca@example.com"))
    writer.close()
    with store.connect() as conn:
        assert b"messaggio numero 1" in table_bytes(store, conn)
        assert forget_email(conn, "maria@example.com").scrubbed
        data = table_bytes(store, conn)
    assert b"messaggio numero 1" not in data
    assert b"messaggio numero 2" in data


def _hold_write_lock(store: Database) -> Connection:
    """Another connection holding what the writer needs, as an owner's long command would
    (SQLite: the write lock; PostgreSQL: an exclusive lock on the submissions table)."""
    conn = store.connect()
    conn.begin()
    if store.kind == "postgresql":
        conn.execute("LOCK TABLE submissions IN EXCLUSIVE MODE")
    return conn


def _store_all(writer: SubmissionWriter, count: int) -> dict[int, object]:
    results: dict[int, object] = {}

    def store_one(n: int) -> None:
        try:
            results[n] = writer.store(submission(n))
        except StorageError as exc:
            results[n] = exc

    threads = [threading.Thread(target=store_one, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_request_that_gave_up_is_never_stored_later(store: Database) -> None:
    store.connect().close()
    writer = SubmissionWriter(store, wait_seconds=0.5)
    blocker = _hold_write_lock(store)
    try:
        results = _store_all(writer, 6)  # each request gives up after 0.5 s ...
    finally:
        blocker.rollback()  # ... and the lock goes away while the writer still waits
        blocker.close()
    writer.close()
    assert all(isinstance(r, StorageError) for r in results.values())
    with store.connect() as conn:
        assert fetch_submissions(conn) == []  # an error answer means: not stored


def test_a_locked_database_fails_the_batch_once_without_retrying_each_item(
    store: Database,
) -> None:
    store.connect().close()
    writer = SubmissionWriter(store, busy_timeout=0.5)
    blocker = _hold_write_lock(store)
    try:
        started = time.monotonic()
        results = _store_all(writer, 6)
        elapsed = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert all(isinstance(r, StorageError) for r in results.values())
    assert elapsed < 2.5  # one or two lock waits, not one per item
    assert writer.store(submission(7)) >= 1  # the lock is gone: the writer works again
    writer.close()


def test_an_unexpected_error_fails_its_batch_and_the_writer_goes_on(
    store: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    writer = SubmissionWriter(store, wait_seconds=3)
    broken = NewSubmission(form="contact", created_at="2025-01-01T00:00:00+00:00",
                           status="received", data={"n": object()}, email="", ip_hash="h")
    with pytest.raises(StorageError):
        writer.store(broken)  # json.dumps raises TypeError inside the writer thread
    assert writer.store(submission(1)) >= 1
    writer.close()
    assert any("TypeError" in (r.exc_text or "") for r in caplog.records)


class _Fatal(BaseException):
    pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_writer_thread_is_restarted(store: Database) -> None:
    writer = SubmissionWriter(store, wait_seconds=3)

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


@pytest.mark.postgres_only  # SQLite commits in-process: a COMMIT's outcome is never unknown
def test_a_broken_connection_during_commit_answers_by_what_was_stored(store: Database) -> None:
    """PostgreSQL: the session dies while the writer commits (here: just before). The writer
    finds out from a new session which submissions were stored, and answers accordingly: an
    error means never stored, success means stored."""
    writer = SubmissionWriter(store)
    assert writer.store(submission(1)) == 1
    kill = store.connect()

    def on_insert(conn: Connection) -> None:  # kill the writer's session before COMMIT
        kill.execute("SELECT pg_terminate_backend(?)", (conn.backend_pid,))  # type: ignore[attr-defined]

    original = writer._insert

    def insert_then_die(conn: Connection, claimed: list) -> list:  # type: ignore[type-arg]
        stored = original(conn, claimed)
        on_insert(conn)
        return stored

    writer._insert = insert_then_die  # type: ignore[method-assign]
    with pytest.raises(StorageError):
        writer.store(submission(2))
    writer._insert = original  # type: ignore[method-assign]
    assert writer.store(submission(3)) >= 2  # a new session
    writer.close()
    kill.close()
    with store.connect() as conn:
        assert sorted(s.data["n"] for s in fetch_submissions(conn)) == [1, 3]


@pytest.mark.sqlite_only
def test_database_files_are_private_to_their_owner(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual default: files readable by everyone
    try:
        path = tmp_path / "data" / "forms.sqlite3"
        conn = connect_file(path)
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


def _reader_with_a_snapshot(store: Database) -> Connection:
    """A session that keeps seeing the database as it is now (a backup, a long export)."""
    reader = store.connect()
    if store.kind == "postgresql":
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    else:
        reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM submissions").fetchone()  # holds its snapshot
    return reader


def test_forget_says_when_a_reader_keeps_the_erased_data(store: Database) -> None:
    writer = SubmissionWriter(store)
    writer.store(submission(1, email="maria@example.com"))
    writer.close()
    reader = _reader_with_a_snapshot(store)
    try:
        with store.connect() as conn:
            started = time.monotonic()
            report = forget_email(conn, "maria@example.com", wait_seconds=0.3)
            assert time.monotonic() - started < 5
            assert report.deleted == 1 and not report.scrubbed
            assert "run the command again" in report.leftover
    finally:
        reader.rollback()
        reader.close()
    with store.connect() as conn:
        assert forget_email(conn, "maria@example.com") == ForgetReport(0)


def test_forget_finds_the_address_in_any_field_and_in_spam(store: Database) -> None:
    writer = SubmissionWriter(store)

    def store_one(data: dict[str, object], status: str = "received") -> None:
        writer.store(NewSubmission(form="contact", created_at="2025-01-01T00:00:00+00:00",
                                   status=status, data=data, email="", ip_hash="h"))

    store_one({"email": "", "phone": "1", "alt_email": "Maria@Example.COM"})
    store_one({"email": "maria@example.com"}, status="spam")  # the honeypot row keeps no e-mail
    store_one({"message": "Scrivetemi a MARIA@example.com."})
    store_one({"message": "anna.maria@example.com e maria@example.community"})  # other people
    store_one({"message": "un_indirizzo%strano@example.com"})  # LIKE's own characters
    writer.close()
    with store.connect() as conn:
        assert forget_email(conn, "maria@example.com").deleted == 3
        assert forget_email(conn, "un_indirizzo%strano@example.com").deleted == 1
        assert forget_email(conn, "un_indirizzo%%strano@example.com").deleted == 0
        left = fetch_submissions(conn, include_spam=True)
        assert [s.data for s in left] == [
            {"message": "anna.maria@example.com e maria@example.community"}]


@pytest.mark.sqlite_only
def test_opening_a_connection_keeps_the_locks_of_the_others(tmp_path: Path) -> None:
    """Closing any descriptor of a file drops every POSIX lock the process holds on it: a
    connect() that did so would silently unlock the connections already open, and the next
    process to close the database would delete the WAL they write to."""
    path = tmp_path / "forms.sqlite3"
    store = SqliteDatabase(path)
    with store.connect() as first:
        first.execute("SELECT COUNT(*) FROM submissions").fetchone()
        assert posix_locks(os.getpid(), path) != []  # WAL mode: held while the connection is
        with store.connect() as second:
            second.execute("INSERT INTO meta VALUES ('k', 'v')")
            assert posix_locks(os.getpid(), path) != []
            other = subprocess.run(  # another process opens, reads and closes the database
                [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                 "print(c.execute('SELECT value FROM meta').fetchall()); c.close()", str(path)],
                capture_output=True, text=True, check=True)
            assert other.stdout == "[('v',)]\n"
            assert path.with_name(path.name + "-wal").exists()
            second.execute("INSERT INTO meta VALUES ('k2', 'v2')")
    check = sqlite3.connect(path)
    try:
        assert check.execute("SELECT key FROM meta ORDER BY key").fetchall() == [("k",), ("k2",)]
    finally:
        check.close()

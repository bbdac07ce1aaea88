"""Group commit: one writer thread stores submissions in batches, acknowledging after COMMIT.

Request threads call :meth:`SubmissionWriter.store`, which queues the submission and blocks until
the writer thread has committed the transaction that contains it; only then may the endpoint
answer "success". The writer takes everything queued (up to ``max_batch``) into one transaction,
so N concurrent requests cost one fsync instead of N. If a batch fails, its submissions are retried
one by one so that one bad row cannot sink its neighbours; a submission whose own transaction fails
raises :class:`~storefront.forms.storage.StorageError` in its request thread.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from storefront.forms.storage import NewSubmission, StorageError, connect, insert_submissions

log = logging.getLogger("storefront.forms")


class _Pending:
    __slots__ = ("done", "error", "item", "submission_id")

    def __init__(self, item: NewSubmission) -> None:
        self.item = item
        self.done = threading.Event()
        self.submission_id = 0
        self.error: BaseException | None = None


class SubmissionWriter:
    """The single writer thread of one endpoint process (started on first use)."""

    def __init__(
        self, path: Path, *, max_batch: int = 256, wait_seconds: float = 30.0,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.path = path
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self.on_commit = on_commit
        self.batches = 0  # committed transactions, for tests and the benchmark
        self.stored = 0  # submissions in them
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def store(self, item: NewSubmission) -> int:
        """Write ``item``; return its id once committed, or raise :class:`StorageError`."""
        pending = _Pending(item)
        with self._lock:
            if self._closed:
                raise StorageError("the endpoint is shutting down")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="storefront-forms-writer", daemon=True
                )
                self._thread.start()
            self._queue.put(pending)
        if not pending.done.wait(self.wait_seconds):
            raise StorageError("timed out waiting for the database")
        if pending.error is not None:
            raise StorageError(str(pending.error)) from pending.error
        return pending.submission_id

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join()

    # -- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        stop = False
        try:
            while not stop:
                first = self._queue.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                conn = self._write(conn, batch)
        finally:
            if conn is not None:
                conn.close()

    def _write(
        self, conn: sqlite3.Connection | None, batch: list[_Pending]
    ) -> sqlite3.Connection | None:
        try:
            if conn is None:
                conn = connect(self.path)
            self._commit(conn, batch)
        except (sqlite3.Error, StorageError) as exc:
            if len(batch) > 1 and conn is not None:
                for pending in batch:
                    conn = self._write(conn, [pending])
                return conn
            log.error("cannot store a submission: %s", exc)
            for pending in batch:
                pending.error = exc
                pending.done.set()
            return conn
        except BaseException as exc:  # never leave a request thread waiting
            for pending in batch:
                pending.error = exc
                pending.done.set()
            raise
        for pending in batch:
            pending.done.set()
        mails = sum(1 for p in batch if p.item.notify)
        if self.on_commit is not None and mails:
            try:
                self.on_commit(mails)
            except Exception:  # a wake-up signal must not fail a committed batch
                log.exception("outbox wake-up failed")
        return conn

    def _commit(self, conn: sqlite3.Connection, batch: list[_Pending]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids = insert_submissions(conn, [p.item for p in batch])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.batches += 1
        self.stored += len(batch)
        for pending, submission_id in zip(batch, ids, strict=True):
            pending.submission_id = submission_id

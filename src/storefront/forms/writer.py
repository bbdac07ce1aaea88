"""Group commit: one writer thread stores submissions in batches, acknowledging after COMMIT.

Request threads call :meth:`SubmissionWriter.store`, which queues the submission and blocks until
the writer thread has committed the transaction that contains it; only then may the endpoint
answer "success". The writer takes everything queued (up to ``max_batch``) into one transaction,
so N concurrent requests cost one fsync instead of N.

Who decides the outcome is settled under one lock: once the writer holds the database's write
lock it *claims* the submissions still waiting, and a request that stops waiting first *cancels*
its own. A cancelled submission is never written (its request was answered with an error); a
claimed one is committed or fails, and its request waits for that answer. If a statement fails,
the batch is inserted again with each submission under its own savepoint, so one bad row cannot
sink its neighbours, and a batch costs
one busy wait at most: when the database stays locked, the whole batch fails at once. An
unexpected error fails only the batch it happened in (and is logged); should the thread end
anyway, the next :meth:`~SubmissionWriter.store` starts a new one.

On PostgreSQL a COMMIT can be cut off by a broken connection, leaving its outcome unknown to the
writer: it then asks the database which of the batch's submissions were stored
(:meth:`~storefront.forms.database.Database.committed`, once the broken session is gone from
the server), so that success is still answered exactly for the stored ones and an error only for
submissions that will never appear.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from storefront.forms.database import (
    BUSY_TIMEOUT_SECONDS,
    Connection,
    Database,
    DatabaseError,
    StorageError,
)
from storefront.forms.storage import (
    NewSubmission,
    TokenAlreadyUsed,
    forget_expired_tokens,
    insert_submissions,
)

log = logging.getLogger("storefront.forms")

_QUEUED, _CLAIMED, _CANCELLED = "queued", "claimed", "cancelled"


class _Pending:
    __slots__ = ("done", "error", "item", "state", "submission_id")

    def __init__(self, item: NewSubmission) -> None:
        self.item = item
        self.done = threading.Event()
        self.state = _QUEUED  # changed only under SubmissionWriter._lock
        self.submission_id = 0
        self.error: BaseException | None = None


class SubmissionWriter:
    """The single writer thread of one endpoint process (started on first use)."""

    def __init__(
        self, database: Database, *, max_batch: int = 256, wait_seconds: float = 30.0,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.database = database
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self.busy_timeout = busy_timeout
        self.on_commit = on_commit
        self.batches = 0  # committed transactions, for tests and the benchmark
        self.stored = 0  # submissions in them
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def store(self, item: NewSubmission) -> int:
        """Write ``item``; return its id once committed, or raise :class:`StorageError`
        (:class:`TokenAlreadyUsed` when its token was used before).

        After an error the submission is not in the database and never will be.
        """
        pending = _Pending(item)
        with self._lock:
            if self._closed:
                raise StorageError("the endpoint is shutting down")
            if self._thread is None or not self._thread.is_alive():
                if self._thread is not None:
                    log.error("the writer thread had stopped; starting a new one")
                self._thread = threading.Thread(
                    target=self._run, name="storefront-forms-writer", daemon=True
                )
                self._thread.start()
            self._queue.put(pending)
        if not pending.done.wait(self.wait_seconds):
            with self._lock:
                if pending.state == _QUEUED:
                    pending.state = _CANCELLED  # the writer will skip it
                    raise StorageError("timed out waiting for the database")
            pending.done.wait()  # claimed: its transaction is being committed right now
        if isinstance(pending.error, TokenAlreadyUsed):
            raise pending.error
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
        conn: Connection | None = None
        self._open: Connection | None = None  # the thread's connection, closed when it ends
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
            if self._open is not None:
                self._open.close()

    def _claim(self, batch: list[_Pending]) -> list[_Pending]:
        """The submissions whose requests still wait; from now on they cannot cancel."""
        with self._lock:
            claimed = [p for p in batch if p.state == _QUEUED]
            for pending in claimed:
                pending.state = _CLAIMED
        return claimed

    def _write(self, conn: Connection | None, batch: list[_Pending]) -> Connection | None:
        claimed: list[_Pending] = []
        committing = False
        try:
            if conn is None:
                conn = self._open = self.database.connect(self.busy_timeout)
            conn.begin()  # SQLite: waits for the write lock (one busy timeout)
            claimed = self._claim(batch)
            stored = self._insert(conn, claimed)
            committing = True
            conn.commit()
            committed = self._committed(stored)
        except StorageError as exc:
            if committing and conn is not None and not conn.usable:
                committed = self._settle(conn, claimed, exc)
            else:
                log.error("cannot store %d submission(s): %s", len(batch), exc)
                self._fail(conn, claimed or self._claim(batch), exc)
                return self._keep(conn)
        except Exception as exc:  # a bug, not the database: fail this batch, keep the thread
            log.exception("unexpected error while storing %d submission(s)", len(batch))
            self._fail(conn, claimed or self._claim(batch), exc)
            if conn is not None:
                conn.close()  # start the next batch from a fresh connection
            return None
        except BaseException as exc:  # never leave a request thread waiting
            self._fail(conn, claimed or self._claim(batch), exc)
            raise  # ends the thread; the next store() starts another
        for pending in claimed:
            pending.done.set()
        conn = self._keep(conn)
        mails = sum(1 for p in committed if p.item.mails)
        if self.on_commit is not None and mails:
            try:
                self.on_commit(mails)
            except Exception:  # a wake-up signal must not fail a committed batch
                log.exception("outbox wake-up failed")
        return conn

    def _insert(self, conn: Connection, claimed: list[_Pending]) -> list[_Pending]:
        """Insert the claimed submissions; return those inserted.

        First all in one go: a replayed token writes nothing, so it needs no savepoint. Only if
        a statement fails is the transaction rolled back and the batch inserted again, each
        submission under a savepoint, so that the bad row fails alone. The common case costs no
        savepoints (on PostgreSQL each one is two more round trips to the server).
        """
        forget_expired_tokens(conn, [p.item for p in claimed])
        try:
            return self._insert_each(conn, claimed, savepoints=False)
        except DatabaseError as exc:
            if exc.busy or not conn.usable:
                raise  # locked for the whole timeout, or disconnected: the batch fails
        conn.rollback()
        conn.begin()
        for pending in claimed:
            pending.submission_id, pending.error = 0, None
        forget_expired_tokens(conn, [p.item for p in claimed])
        return self._insert_each(conn, claimed, savepoints=True)

    @staticmethod
    def _insert_each(conn: Connection, claimed: list[_Pending], *,
                     savepoints: bool) -> list[_Pending]:
        stored: list[_Pending] = []
        for pending in claimed:
            if savepoints:
                conn.execute("SAVEPOINT submission")
            try:
                pending.submission_id = insert_submissions(conn, [pending.item])[0]
            except TokenAlreadyUsed as exc:  # a replay: refused, not an error of the database
                if savepoints:
                    conn.execute("ROLLBACK TO submission")
                pending.error = exc
            except DatabaseError as exc:  # this row only (a constraint, a value refused)
                if not savepoints or exc.busy or not conn.usable:
                    raise
                conn.execute("ROLLBACK TO submission")
                log.error("cannot store a submission: %s", exc)
                pending.error = exc
            else:
                stored.append(pending)
            if savepoints:
                conn.execute("RELEASE submission")
        return stored

    def _committed(self, stored: list[_Pending]) -> list[_Pending]:
        if stored:
            self.batches += 1
            self.stored += len(stored)
        return stored

    def _settle(self, conn: Connection, claimed: list[_Pending],
                exc: StorageError) -> list[_Pending]:
        """The connection broke during COMMIT: find out what it stored, answer accordingly."""
        inserted = [p for p in claimed if p.error is None]
        found = self.database.committed(conn, [p.submission_id for p in inserted])
        if found is None:
            log.error("the database connection broke while committing %d submission(s) and "
                      "the outcome cannot be checked: %s", len(inserted), exc)
            found = []
        stored = [p for p in inserted if p.submission_id in set(found)]
        for pending in inserted:
            if pending not in stored:
                pending.submission_id = 0
                pending.error = exc
        return self._committed(stored)

    @staticmethod
    def _keep(conn: Connection | None) -> Connection | None:
        """The connection for the next batch (None: open a new one)."""
        if conn is not None and not conn.usable:
            conn.close()
            return None
        return conn

    @staticmethod
    def _fail(conn: Connection | None, claimed: list[_Pending],
              exc: BaseException) -> None:
        if conn is not None and conn.in_transaction:
            try:
                conn.rollback()
            except StorageError:
                log.exception("rollback failed")
        for pending in claimed:
            pending.submission_id = 0
            pending.error = exc
            pending.done.set()

"""The endpoint's mail sender thread: delivers the outbox after each commit and periodically.

It holds one database connection and one sender identity (:mod:`storefront.forms.sender`) for
its whole life, so its claims are recognised as a running sender's; both are given back when
the thread stops. A connection or identity that broke (the database server restarted) is
replaced before the next round. Delivery itself is :func:`storefront.forms.outbox.deliver_outbox`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from storefront.forms.database import Connection, Database
from storefront.forms.outbox import DeliveryReport, next_due
from storefront.forms.sender import Sender

log = logging.getLogger("storefront.forms")


class OutboxWorker:
    """A background thread that delivers the outbox: woken after each commit, and periodically."""

    def __init__(
        self, database: Database,
        deliver: Callable[[Connection, Sender, Callable[[], bool]], DeliveryReport],
        clock: Callable[[], float], *, poll_seconds: float = 60.0, linger_seconds: float = 0.2,
    ) -> None:
        self.database = database
        self.deliver = deliver
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.linger_seconds = linger_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storefront-forms-outbox",
                                        daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def wake(self, count: int = 1) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            started = self._started
        if started:
            self._thread.join()

    def _run(self) -> None:
        conn: Connection | None = None
        sender: Sender | None = None
        try:
            while not self._stop.is_set():
                wait = self.poll_seconds
                try:
                    if conn is not None and not conn.usable:
                        conn.close()
                        conn = None
                    if sender is not None and not sender.alive(sender.name):
                        sender.release()  # its claims now count as a stopped sender's
                        sender = None
                    if conn is None:
                        conn = self.database.connect()
                    if sender is None:
                        sender = self.database.sender()
                    report = self.deliver(conn, sender, lambda: not self._stop.is_set())
                    if report.taken_over:
                        log.warning("outbox: took over %d mail(s) claimed by a sender that "
                                    "stopped (process %s)", report.taken_over,
                                    ", ".join(map(str, report.dead_senders)))
                    if report.failed:
                        log.warning("outbox: %d mail(s) not sent, will retry: %s",
                                    report.failed, "; ".join(report.errors[:3]))
                    due = next_due(conn)
                    if due is not None:
                        wait = min(wait, max(due - self.clock(), 0.05))
                except Exception:
                    log.exception("outbox delivery failed")
                self._wake.wait(wait)
                if self._wake.is_set() and not self._stop.is_set():
                    self._stop.wait(self.linger_seconds)  # let a burst of submissions gather
                self._wake.clear()
        finally:
            if sender is not None:
                sender.release()
            if conn is not None:
                conn.close()

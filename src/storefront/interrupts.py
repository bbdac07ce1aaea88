"""Stop a command on SIGTERM or Ctrl-C, but never in the middle of a step that must end whole.

``storefront build`` and ``storefront serve`` turn SIGTERM, SIGINT and SIGHUP into an exception
in the main thread (:class:`Interrupted`, a ``KeyboardInterrupt``), so the code on its way out
closes the workers, the cache and the server. Raised at any moment, it also lands where nothing
can clean up after it: between a worker process being started and the pool noting it (the worker
then ran on, and printed a traceback after the preview had gone), between a lock taken and the
``try`` that releases it (the preview then waited for ever for its own lock on the way out), and
in the write stage, between two files renamed into the output folder (a build stopped by Ctrl-C
left half of its pages in output/ beside the last build's other half). Such steps run
:func:`held`: a stop asked for meanwhile is raised when the step ends.

Only the main thread receives signals, so only its steps are held; in another thread
:func:`held` does nothing. Without a handler that calls :func:`stop` (a library caller, the
tests), Python's own Ctrl-C raises at once, as before. No I/O.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

_holding = 0  # held() blocks the main thread is in
_pending: int | None = None  # the signal that came while one ran
_requested: int | None = None  # the first signal that asked to stop


class Interrupted(KeyboardInterrupt):
    """The command was asked to stop by the signal ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def stop(signum: int) -> None:
    """Stop the main thread now (raise :class:`Interrupted`), or, while it runs a :func:`held`
    step, as soon as that step ends. For a signal handler (it runs in the main thread)."""
    global _pending, _requested
    if _requested is None:
        _requested = signum
    if _holding:
        _pending = signum
        return
    raise Interrupted(signum)


def requested() -> int | None:
    """The signal that asked this process to stop, if one did (an error met on the way out,
    a worker stopped by the same signal, is no bug to report)."""
    return _requested


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Run the block whole: a stop asked for meanwhile is raised when it ends (in the main
    thread; in another one, the block simply runs)."""
    global _holding, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        if not _holding and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def reset() -> None:
    """Forget a stop asked for (a caller that goes on after handling it: the tests)."""
    global _pending, _requested
    _pending = _requested = None

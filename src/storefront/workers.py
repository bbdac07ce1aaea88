"""Run per-document and per-page work on every core, with results identical to one process.

A :class:`WorkerPool` starts its processes once per build, on first use, and feeds them chunks of
work: ``function(state, items) -> results``. The state a function needs (the reader settings, or
the whole render state with the site model) is pickled once into a private temporary file and
loaded once per worker, so each job carries only its items; pickle is used here only between
processes of one build, never stored. Results come back in the order of the items, whatever worker
made them, so output does not depend on the number of workers. This process is one of the
``jobs``: it starts ``jobs - 1`` workers and takes chunks too, instead of waiting for them (one
worker fewer is one copy fewer of what the workers read of the site: about 100 MiB at 10,000
posts). Small batches run in this process alone: starting workers costs more than they save.

Workers are forked when this process has no other thread (the usual ``storefront build``: nothing
to import again), and started from a fork server otherwise (the preview server has threads, and
forking a process with threads can deadlock). Where workers are forked, :meth:`WorkerPool.share`
forks them anew holding a state (the render's: the whole site), so that nothing is pickled for
them and the memory stays shared until written. A :class:`Background` job (a first build's feeds,
made while the workers render) starts the workers before its thread. Workers ignore Ctrl-C: a
terminal sends it to every process, and the build's own process stops them; a worker whose
build's process is gone (``kill PID``, SIGKILL, the OOM killer) ends itself at once (within a
second where Linux cannot watch a process: then a forked worker watches its parent).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import select
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

from storefront.files import remove_open_temporaries
from storefront.interrupts import held
from storefront.staging import process_running

S = TypeVar("S")
I = TypeVar("I")  # noqa: E741 - item
R = TypeVar("R")

SERIAL_BELOW = 48  # fewer items than this run in this process (heavy ones: fewer than 2)
SERIAL_CHUNK = 64  # items per call when they run in this process
ORPHAN_CHECK = 1.0  # seconds between a worker's looks at whether its build's process is alive

_loaded: dict[str, Any] = {}


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _load_state(path: str) -> Any:
    state = _loaded.get(path)
    if state is None:
        _loaded.clear()  # one build's state at a time
        with open(path, "rb") as handle:
            state = _loaded[path] = pickle.load(handle)  # noqa: S301 - written by our own parent
    return state


def _run_chunk(function: Callable[[Any, Sequence[Any]], list[Any]], state_path: str,
               items: Sequence[Any]) -> list[Any]:
    return function(_load_state(state_path), items)


class WorkerPool:
    """Worker processes for one build (or one preview session)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or default_jobs()
        self._executor: Executor | None = None
        self._folder: Path | None = None
        self._states: dict[int, tuple[Any, str]] = {}
        self._serial = 0  # state files are never reused: workers cache them by name
        self._forked = False  # whether the running workers were forked (not from a fork server)
        self._shared: set[str] = set()  # keys of states the workers were forked holding
        self._unfinished: set[Future[Any]] = set()  # chunks handed out and not done

    def parallel(self, count: int, heavy: bool = False) -> bool:
        """Whether ``count`` items would go to worker processes."""
        return self.jobs > 1 and count >= (2 if heavy else SERIAL_BELOW)

    def map(self, function: Callable[[S, Sequence[I]], list[R]], state: S,
            items: Sequence[I], chunk: int = 16) -> list[R]:
        """``function(state, chunk)`` over ``items`` in chunks; results in the order of ``items``."""
        return [result for part in self.imap(function, state, items, chunk) for result in part]

    def imap(self, function: Callable[[S, Sequence[I]], list[R]], state: S,
             items: Sequence[I], chunk: int = 16, heavy: bool = False,
             meanwhile: Callable[[], None] | None = None) -> Iterator[list[R]]:
        """Like :meth:`map`, one chunk's results at a time, in order, as they are ready: every
        chunk is handed out at once, so the workers never wait while the caller uses results.

        ``heavy`` items (photos to encode: seconds each) are worth a worker even two at a time,
        and in this process run ``chunk`` at a time, so a progress bar moves with each chunk.

        ``meanwhile``: work of this process's own, done while the workers start on a quarter of
        the chunks (instead of before or after the items, with the workers idle); called only
        where the items go to workers (the caller does it otherwise).
        """
        if not self.parallel(len(items), heavy):
            step = chunk if heavy else max(chunk, SERIAL_CHUNK)
            for start in range(0, len(items), step):
                yield function(state, items[start:start + step])
            return
        chunk = max(1, min(chunk, -(-len(items) // (self.jobs * 4))))
        chunks = [items[start:start + chunk] for start in range(0, len(items), chunk)]
        path = self._state_file(state)
        executor = self._start()
        # The workers take chunks from the front, two each ahead of need; this process takes
        # them from the back meanwhile, so it works as one of the ``jobs`` instead of waiting,
        # and the chunks still come out in order.
        ahead = 2 * (self.jobs - 1)
        running: dict[int, Future[list[R]]] = {}
        made: dict[int, list[R]] = {}
        front, back = 0, len(chunks)  # chunks[front:back] are not started yet
        if meanwhile is not None:
            while front < back and front < max(ahead, len(chunks) // 4):
                running[front] = self._submit(executor, function, path, chunks[front])
                front += 1
            meanwhile()
        for index in range(len(chunks)):
            while True:
                while front < back and sum(not f.done() for f in running.values()) < ahead:
                    running[front] = self._submit(executor, function, path, chunks[front])
                    front += 1
                if index in made or (index in running and running[index].done()) \
                        or front >= back:
                    break
                back -= 1
                made[back] = function(state, chunks[back])
            yield made.pop(index) if index in made else running.pop(index).result()

    def _submit(self, executor: Executor, function: Callable[[S, Sequence[I]], list[R]],
                path: str, items: Sequence[I]) -> Future[list[R]]:
        # held: the pool may start a worker process here (from a fork server), and one started
        # but not yet noted by the pool when Ctrl-C came was never stopped: it ran on after the
        # build's process had gone, and printed a traceback in the owner's terminal
        with held(), _children_ignore_ctrl_c():
            future = executor.submit(_run_chunk, function, path, items)
            self._unfinished.add(future)
        future.add_done_callback(self._unfinished.discard)
        return future

    def share(self, state: Any, before_fork: Callable[[], None] | None = None) -> bool:
        """Fork the workers now with ``state`` already in their memory, so jobs on it send only
        their items: nothing is pickled or loaded, and the memory pages stay shared with this
        process until a worker writes to them. Workers already running (holding an earlier
        state) are stopped first, and ``before_fork`` is called (to drop what workers must not
        inherit). Only where workers are forked: this process has no thread but the running
        workers' own (a command-line build); False, changing nothing, where it has one."""
        if self.jobs <= 1 or (self._executor is not None and not self._forked):
            return False
        if not self._only_thread():
            return False
        if self._executor is not None:
            with held():
                self._executor.shutdown(wait=True)
            self._executor = None
        if threading.active_count() != 1:  # a thread started meanwhile: workers come later
            return False
        if before_fork is not None:
            before_fork()
        self._serial += 1
        key = f"shared state {self._serial}"  # not a path: never unlinked
        _loaded.clear()
        _loaded[key] = state
        # the workers' collections leave the inherited objects alone: the collector writes to
        # every object it scans, which would make each worker copy the pages it only reads
        # (what the caller froze stays frozen: see storefront.heap)
        frozen_before = gc.get_freeze_count() > 0
        gc.freeze()
        try:
            self.start()
        finally:
            if not frozen_before:
                gc.unfreeze()
            _loaded.pop(key, None)  # the workers hold it; this process has it anyway
        self._states[id(state)] = (state, key)
        self._shared.add(key)
        return True

    def _only_thread(self) -> bool:
        """Whether this process runs no thread but its main one and the running workers' own
        (the executor's manager and queue feeder)."""
        own: set[threading.Thread | None] = {threading.main_thread()}
        if self._executor is not None:
            own.add(getattr(self._executor, "_executor_manager_thread", None))
            own.add(getattr(getattr(self._executor, "_call_queue", None), "_thread", None))
        return all(thread in own for thread in threading.enumerate())

    def holds(self, state: Any) -> bool:
        """Whether the workers were forked holding ``state`` (see :meth:`share`)."""
        known = self._states.get(id(state))
        return known is not None and known[0] is state and known[1] in self._shared

    def _state_file(self, state: Any) -> str:
        known = self._states.get(id(state))
        if known is not None and known[0] is state:
            return known[1]
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="storefront-jobs-"))
        self._serial += 1
        path = self._folder / f"state-{self._serial}.pickle"
        with open(path, "wb") as handle:
            pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._states[id(state)] = (state, str(path))
        return str(path)

    def _start(self) -> Executor:
        with held():  # see _submit
            return self._make_executor()

    def _make_executor(self) -> Executor:
        if self._executor is None:
            method = "fork" if threading.active_count() == 1 else "forkserver"
            self._forked = method == "fork"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(["storefront.rendering", "storefront.parsing",
                                                "storefront.imagework"])
            # this process is one of the ``jobs``: it takes chunks too (see imap)
            self._executor = ProcessPoolExecutor(self.jobs - 1, mp_context=context,
                                                 initializer=_worker_signals,
                                                 initargs=(os.getpid(),))
        return self._executor

    def start(self) -> None:
        """Start the worker processes now, before this process starts a thread of its own
        (they are forked only while it has none)."""
        if self.jobs > 1:
            executor = self._start()
            with held(), _children_ignore_ctrl_c():  # see _submit
                first = executor.submit(int)
            first.result()  # forked workers are made at the first submit

    def stop_workers(self) -> None:
        """End the worker processes now, whatever they are doing (each deletes the temporary
        file it was writing): chunks handed out fail, and the pool can take no more work."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        for process in list(processes.values()):
            with contextlib.suppress(OSError, ValueError):  # ended, or being reaped
                process.terminate()

    def forget_states(self) -> None:
        """Drop this build's state files (the workers stay for the next build of a session)."""
        for _, path in self._states.values():
            if path not in self._shared:
                Path(path).unlink(missing_ok=True)
        self._states.clear()
        self._shared.clear()

    def close(self) -> None:
        """Stop the workers: at once when they are still working (the build was stopped:
        Ctrl-C, SIGTERM, an error), else once they have taken their last orders."""
        if self._executor is not None:
            with held():  # a second Ctrl-C does not leave the workers running
                if any(not future.done() for future in list(self._unfinished)):
                    self.stop_workers()
                self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._unfinished.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self._states.clear()
        self._shared.clear()


@contextlib.contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """Start processes (the fork server, when the pool starts its first worker) with Ctrl-C
    blocked: a terminal's Ctrl-C reaches every process of the group, and the fork server,
    which ignores it only once it has imported the modules it preloads, printed a traceback
    in the owner's terminal when it came meanwhile. This thread gets it once they are started
    (a blocked signal waits; it is not lost)."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _worker_signals(owner: int) -> None:
    """A worker ends quietly on SIGTERM (a forked worker would inherit the preview's handler,
    which turns SIGTERM into KeyboardInterrupt, and print a traceback when systemd stops it),
    and leaves Ctrl-C to the process that started it: a terminal sends SIGINT to every process
    of the build, and a worker waiting for its next chunk printed a traceback; the parent stops
    the workers itself (they finish the chunk in hand)."""
    signal.signal(signal.SIGTERM, _end_at_once)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker waits for its next chunk on a pipe whose writing end it holds itself, so it sees
    # no end of file when the build's process dies without stopping it: watch that process.
    threading.Thread(target=_end_without, args=(owner,), name="storefront-orphan",
                     daemon=True).start()


def _end_at_once(signum: int, frame: object) -> None:
    """SIGTERM in a worker (its build stopped, or systemd stopping them all): delete the
    temporary file being written (a killed writer's stays in the build cache for a quarter of
    an hour) and end, without a traceback and without unwinding into the pool's code."""
    remove_open_temporaries()
    os._exit(1)


def _end_without(owner: int) -> None:
    """End this worker once ``owner``, the process whose pool it is in, has ended.

    Not its parent where a fork server started it (the preview's workers): the server ends only
    when every process holding its pipe has, and each worker it starts is given that pipe, so
    the server and its workers waited for each other for ever after a SIGKILL of the preview.
    """
    try:
        watch = os.pidfd_open(owner)  # readable once the owner has ended (Linux 5.3)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # elsewhere: look every second
        forked = os.getppid() == owner  # then its parent (even dead and not yet reaped)
        while os.getppid() == owner if forked else process_running(owner):
            time.sleep(ORPHAN_CHECK)
        os._exit(1)
    select.select([watch], [], [])
    _end_soon()


def _end_soon() -> None:
    """End this worker from the orphan watch's thread: through its own SIGTERM handler (see
    _end_at_once), which runs in the main thread, between two of its steps, and deletes the
    temporary file being written; at once if that has not happened within a second."""
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1.0)
    os._exit(1)


class Background(Generic[R]):
    """``function()`` run in a thread of this process while the workers and this process work
    (the workers are started first); :meth:`result` waits for it and raises what it raised."""

    def __init__(self, function: Callable[[], R], pool: WorkerPool) -> None:
        pool.start()
        self._outcome: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(function,),
                                        name="storefront-background", daemon=True)
        self._thread.start()

    def _run(self, function: Callable[[], R]) -> None:
        try:
            self._outcome[:] = [True, function()]
        except BaseException as exc:  # handed to the caller of result()
            self._outcome[:] = [False, exc]

    def result(self) -> R:
        self._thread.join()
        done, value = self._outcome
        if not done:
            raise value
        return value  # type: ignore[no-any-return]

"""The worker pool: this process works as one of the jobs, and results keep their order."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence

import pytest

from storefront.workers import WorkerPool


def _square_where(state: int, items: Sequence[int]) -> list[tuple[int, int, int]]:
    return [(item, item * item + state, os.getpid()) for item in items]


def test_the_build_process_is_one_of_the_jobs_and_results_keep_their_order() -> None:
    """``--jobs 2`` is this process and one worker (a second worker would hold its own copy of
    whatever it reads of the site); both take chunks, and the results come out in order."""
    before = set(multiprocessing.active_children())  # another test's, if any were left
    pool = WorkerPool(2)
    try:
        items = list(range(400))
        chunks = list(pool.imap(_square_where, 7, items, chunk=4))
        workers = [p for p in multiprocessing.active_children() if p not in before]
    finally:
        pool.close()
    results = [result for chunk in chunks for result in chunk]
    assert [(item, square) for item, square, _ in results] == [(n, n * n + 7) for n in items]
    assert len(workers) == 1
    pids = {pid for _, _, pid in results}
    assert pids == {os.getpid(), workers[0].pid}


def test_one_job_is_this_process_alone() -> None:
    before = set(multiprocessing.active_children())
    pool = WorkerPool(1)
    try:
        results = [r for chunk in pool.imap(_square_where, 0, list(range(100))) for r in chunk]
        assert set(multiprocessing.active_children()) <= before
    finally:
        pool.close()
    assert {pid for _, _, pid in results} == {os.getpid()}


def test_work_of_this_process_runs_while_the_workers_take_the_first_chunks() -> None:
    """``meanwhile`` runs once, in this process, after chunks went to the workers (they have
    already started on some when it ends), and the results are as without it. With more jobs
    than chunks (``--jobs 26`` parsing 48 files: a chunk each) it once ran past the last chunk."""
    for jobs, count in ((2, 400), (26, 48)):
        pool = WorkerPool(jobs)
        calls: list[int] = []
        try:
            chunks = list(pool.imap(_square_where, 3, list(range(count)), chunk=8,
                                    meanwhile=lambda: calls.append(os.getpid())))
        finally:
            pool.close()
        results = [result for chunk in chunks for result in chunk]
        assert [(item, square) for item, square, _ in results] == [(n, n * n + 3)
                                                                   for n in range(count)]
        assert calls == [os.getpid()]
        assert {pid for _, _, pid in results} - {os.getpid()}, "the workers took chunks too"


def _write_slowly(folder: str, items: Sequence[int]) -> list[int]:
    """A chunk that takes long (photos to encode) with a temporary file open meanwhile."""
    import time

    from storefront.files import open_temp

    fd, _ = open_temp(os.path.join(folder, f"page-{os.getpid()}"))
    os.write(fd, b"half a page")
    time.sleep(20)
    return list(items)


def test_a_stopped_build_ends_its_workers_at_once_without_their_temporary_files(tmp_path) -> None:
    """Ctrl-C or SIGTERM while the workers work: closing the pool waited for each worker to
    finish its chunk (seconds for photos, so the preview took that long to stop). The workers
    now end at once, each deleting the temporary file it was writing."""
    import signal
    import time

    def ctrl_c(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    pool = WorkerPool(2)
    before = signal.signal(signal.SIGALRM, ctrl_c)
    workers: list[multiprocessing.Process] = []
    try:
        # both chunks go to the worker (heavy items, two ahead): this process waits for them
        signal.setitimer(signal.ITIMER_REAL, 3.0)
        with pytest.raises(KeyboardInterrupt):
            for _ in pool.imap(_write_slowly, str(tmp_path), [1, 2], chunk=1, heavy=True):
                pass
        workers = list(multiprocessing.active_children())
        assert any(tmp_path.glob(".tmp-*"))  # the worker is writing
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
        stopping = time.monotonic()
        pool.close()  # as the build's way out does, the worker still on its chunk
    assert time.monotonic() - stopping < 5
    assert workers and not any(worker.is_alive() for worker in workers)
    assert list(tmp_path.iterdir()) == []

"""Run one command in a fresh process and measure it: wall time, peak memory, exit status.

Wall time is from the start of the child to its exit, interpreter start-up included (what a user
or CI waits for). Memory comes two ways, because a build may use a process pool:

- ``peak_mib``: the kernel's peak RSS of the largest single process of the tree (``ru_maxrss``
  from ``wait4`` of the child, which covers the descendants it waited for);
- ``tree_mib``: the peak of the memory of the whole process tree, summed, sampled every 50 ms
  from /proc (PSS where readable, so pages shared by forked workers count once, else RSS).
  Sampling can miss a peak shorter than 50 ms.

It also records the CPU time (user + system, of the child and the descendants it waited for):
on a machine shared with other work, wall time stretches with the load while CPU time mostly
does not, so it tells a slower engine from a busier machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class RunResult:
    command: tuple[str, ...]
    code: int
    seconds: float
    cpu_seconds: float
    peak_mib: float
    tree_mib: float
    stdout: str
    stderr: str


class CommandFailed(Exception):
    """A measured command exited non-zero; carries its result for the report."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(f"{' '.join(result.command)} exited {result.code}")
        self.result = result


def run_measured(command: list[str], env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> RunResult:
    """Run ``command`` to its end; raise :class:`CommandFailed` when it exits non-zero."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        sampler = TreeSampler(process.pid)
        sampler.start()
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        sampler.stop()
        out.seek(0)
        err.seek(0)
        result = RunResult(tuple(command), process.returncode, seconds,
                           usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, sampler.peak_kib / 1024,
                           out.read().decode("utf-8", "replace"),
                           err.read().decode("utf-8", "replace"))
    if result.code != 0:
        raise CommandFailed(result)
    return result


class TreeSampler:
    """Samples the summed memory of a process and its descendants in a background thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(_memory_kib(pid) for pid in _tree(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(SAMPLE_SECONDS)


def _tree(pid: int) -> list[int]:
    """``pid`` and its living descendants (from /proc/PID/task/*/children)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
            except OSError:
                continue
            queue.extend(int(child) for child in children.split())
    return found


def _memory_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024

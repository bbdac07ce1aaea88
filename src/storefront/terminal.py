"""What the command line shows while a long build runs: its stage and a progress bar.

Used only by :mod:`storefront.cli` (the one place that prints). Nothing is shown when stderr is
not a terminal (CI logs get only the summary) or when the build finishes within a second; after
that a tqdm bar per stage shows what is done, out of how much, and how fast (pages/s). tqdm is
imported only then, so short builds do not pay for it.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

SHOW_AFTER_SECONDS = 1.0
_UNITS = {"reading": "files", "rendering": "pages", "images": "images", "writing": "files"}


class ProgressBar:
    """A ``progress(stage, done, total)`` callback for :func:`storefront.build.build_site`."""

    def __init__(self, stream: TextIO | None = None, delay: float = SHOW_AFTER_SECONDS) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self.delay = delay
        self.stage = ""
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < self.delay:
            return
        if stage != self.stage or self.bar is None:
            self.close()
            from tqdm import tqdm

            # no monitor thread: the bar is refreshed at each call anyway, and a second thread
            # would make the build start its render workers from a fork server, sending them
            # the whole site instead of forking them holding it (see WorkerPool.share)
            tqdm.monitor_interval = 0
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit=_UNITS.get(stage, "items"),
                            file=self.stream, leave=False, dynamic_ncols=True)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

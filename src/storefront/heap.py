"""Garbage collection for the long-lived preview session: no full collection in a save's path.

The preview keeps the whole site in memory between saves (documents, records, the model). Each
full collection of CPython's collector walks all of it: at 1,000 posts one costs 60-190 ms, and
one fell into about every other save, on top of the rebuild itself. After each build
:func:`settle` freezes what is alive (the collector no longer scans it; memory freed by reference
counting is still freed at once), so a save's collections see only that save's new objects.
What became cyclic garbage meanwhile is collected by :func:`tidy`, which the preview runs once
the owner has paused (no save for :data:`IDLE_SECONDS`), outside any save's path, and at
least every :data:`TIDY_EVERY` builds, so that garbage cannot pile up without end. This is the
``gc.freeze`` practice of long-lived Python servers (see the ``gc`` module's documentation).

A command-line build, whose process ends with the build, settles after each stage that makes
long-lived data (the content files' list, the documents and the model, the plan, the last
build's records): every object is young in a new process, and without it each is scanned again
and again as it ages through the collector's generations. Nothing is ever tidied there (the
process ends); a one-edit build at 1,000 posts spent 75 ms in collections, 10% of its time.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator

#: Seconds without a save before the frozen heap is collected (between bursts of editing).
IDLE_SECONDS = 2.0
#: ... and at least every this many builds (an editor's auto-save may never pause that long).
TIDY_EVERY = 50
#: The collector's thresholds during a command-line build: a young collection every 10,000
#: new objects (not 700), and the older generations all but never. Between two settles a stage
#: makes its long-lived data (10,000 decoded documents, 20,000 planned pages), which the default
#: thresholds scan again and again as it ages, finding nothing: 0.5-0.8 s of a one-edit build at
#: 10,000 posts went to collections that freed 0 objects; with these, under 0.2 s. Cycles that
#: become garbage young (a page's render) are still freed by the young collections; one that
#: survived a collection first may wait for the end of the process, as garbage in the frozen
#: stages already does (the process ends with the build).
BUILD_THRESHOLDS = (10_000, 50, 1_000)


@contextlib.contextmanager
def settling() -> Iterator[Callable[[], None]]:
    """For a build whose process ends with it (the command line): collects less often
    (:data:`BUILD_THRESHOLDS`), gives :func:`settle` to call after its stages, and afterwards
    puts the thresholds back and unfreezes, so a caller that goes on (the tests call the
    command line in their own process) keeps a heap whose garbage is collected. Where something
    else already froze the heap (a preview session in the same process), nothing is settled."""
    if gc.get_freeze_count():
        yield lambda: None
        return
    thresholds = gc.get_threshold()
    gc.set_threshold(*BUILD_THRESHOLDS)
    try:
        yield settle
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def settle() -> None:
    """Freeze every object alive now: later collections leave them out."""
    gc.freeze()


def thaw() -> None:
    """Unfreeze the heap: the preview session that froze it is over, and a process that goes
    on after it (the tests, which start previews in their own process) collects all of its
    garbage again, the stopped session's included."""
    gc.unfreeze()


def tidy() -> None:
    """Collect the garbage the frozen heap holds, then freeze what is left again."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()

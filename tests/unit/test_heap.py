"""The preview's garbage-collection policy (storefront.heap): frozen objects are left out of
collections until the owner pauses, then cyclic garbage among them is collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from storefront.heap import BUILD_THRESHOLDS, settle, settling, tidy


@pytest.fixture(autouse=True)
def new_process_heap() -> Iterator[None]:
    """Each test starts from the collector as a new process has it: nothing frozen, collection
    on. The collector is the process's own, and the tests that run before may leave it
    otherwise: a preview started in the test process freezes its heap after each build (and
    left it frozen when stopped), and a command-line build in a frozen heap settles nothing;
    so this file passed alone and failed after tests/test_preview.py."""
    enabled = gc.isenabled()
    gc.unfreeze()
    gc.enable()
    try:
        yield
    finally:
        gc.unfreeze()
        if not enabled:
            gc.disable()


class Node:
    def __init__(self) -> None:
        self.itself = self  # a cycle: only the collector frees it


def test_a_frozen_cycle_waits_for_tidy_and_tidy_frees_it() -> None:
    try:
        node = Node()
        gone = weakref.ref(node)
        settle()
        del node  # garbage now, but frozen
        gc.collect()
        assert gone() is not None  # what the save-time collections skip
        tidy()
        assert gone() is None
        assert gc.get_freeze_count() > 0  # what is alive is frozen again
    finally:
        gc.unfreeze()


class Counted:
    alive = 0

    def __init__(self) -> None:
        Counted.alive += 1
        self.itself = self

    def __del__(self) -> None:
        Counted.alive -= 1


def test_a_command_line_build_collects_less_often_but_still_frees_new_cycles() -> None:
    before = gc.get_threshold()
    Counted.alive = 0
    with settling() as settle_now:
        assert gc.get_threshold() == BUILD_THRESHOLDS
        settle_now()
        most = 0
        for _ in range(100_000):  # each a cycle, garbage at once: only the collector frees it
            Counted()
            most = max(most, Counted.alive)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    # the young collections ran (rarely): never more than a few thresholds' worth alive
    assert 1_000 < most < 3 * BUILD_THRESHOLDS[0]
    gc.collect()
    assert Counted.alive == 0


def test_a_build_in_a_heap_frozen_by_a_preview_settles_nothing() -> None:
    """A preview session in the same process (the tests, or an embedding) froze the heap and
    collects it itself (tidy): a build there leaves the thresholds and the frozen heap alone."""
    before = gc.get_threshold()
    settle()
    frozen = gc.get_freeze_count()
    # not unfrozen (0), nothing frozen anew (more); a frozen object another thread lets go of
    # meanwhile (one left by an earlier test of the run) counts one less
    with settling() as settle_now:
        assert gc.get_threshold() == before
        settle_now()
        assert 0 < gc.get_freeze_count() <= frozen
    assert gc.get_threshold() == before
    assert 0 < gc.get_freeze_count() <= frozen  # still the preview's

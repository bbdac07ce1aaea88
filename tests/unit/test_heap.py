"""The preview's garbage-collection policy (storefront.heap): frozen objects are left out of
collections until the owner pauses, then cyclic garbage among them is collected."""

from __future__ import annotations

import gc
import weakref

from storefront.heap import BUILD_THRESHOLDS, settle, settling, tidy


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

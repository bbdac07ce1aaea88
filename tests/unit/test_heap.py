"""The preview's garbage-collection policy (storefront.heap): frozen objects are left out of
collections until the owner pauses, then cyclic garbage among them is collected."""

from __future__ import annotations

import gc
import weakref

from storefront.heap import settle, tidy


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

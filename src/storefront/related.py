"""Related posts: for every post, the three others sharing the most tags, newest first on ties.

Pure. Each tag's posts are one big integer used as a bit set (bit k: the k-th post, newest first),
so counting shared tags for one post is a few operations on those integers instead of a walk over
every post of every tag it has: with 30 tags the walk grows with the square of the posts (about
30 million steps at 10,000 posts), the bit sets stay linear.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from storefront.documents import Post

RELATED_POSTS = 3


def related_posts(posts: Sequence[Post], limit: int = RELATED_POSTS) -> dict[str, tuple[Post, ...]]:
    """Post URL -> up to ``limit`` other posts, most shared tags first, then newest, then by slug.

    The answer depends only on each post's URL, date, slug and tags; the last one is remembered
    by those, so a preview save that changes a post's text does not compute it again.
    """
    key = (limit, tuple((p.url, p.date, p.slug, tuple(t.slug for t in p.tags)) for p in posts))
    if _last.get("key") == key:
        by_url = {post.url: post for post in posts}
        return {url: tuple(by_url[u] for u in others) for url, others in _last["urls"].items()}
    related = _related(posts, limit)
    _last["key"] = key
    _last["urls"] = {url: tuple(p.url for p in others) for url, others in related.items()}
    return related


_last: dict[str, Any] = {}  # the key and the answer (as URLs) of the last call


def _related(posts: Sequence[Post], limit: int) -> dict[str, tuple[Post, ...]]:
    ranked = sorted(posts, key=lambda p: (-p.date.timestamp(), p.slug))
    tag_bits: dict[str, int] = defaultdict(int)
    for position, post in enumerate(ranked):
        for tag in post.tags:
            tag_bits[tag.slug] |= 1 << position
    everything = (1 << len(ranked)) - 1
    related: dict[str, tuple[Post, ...]] = {}
    for position, post in enumerate(ranked):
        counter = _count([tag_bits[tag.slug] for tag in post.tags])
        others = everything & ~(1 << position)
        chosen: list[Post] = []
        above = 0  # posts sharing more tags than the level being looked at
        for shared in range(len(post.tags), 0, -1):
            at_least = _at_least(counter, shared, everything)
            level = at_least & ~above & others
            while level and len(chosen) < limit:
                lowest = level & -level  # the newest post of this level
                chosen.append(ranked[lowest.bit_length() - 1])
                level ^= lowest
            if len(chosen) == limit:
                break
            above = at_least
        related[post.url] = tuple(chosen)
    return related


def _count(sets: list[int]) -> list[int]:
    """Bit-sliced counters: bit k of ``result[i]`` is bit i of how many sets contain k."""
    digits: list[int] = []
    for bits in sets:
        carry, index = bits, 0
        while carry:
            if index == len(digits):
                digits.append(0)
            digits[index], carry = digits[index] ^ carry, digits[index] & carry
            index += 1
    return digits


def _at_least(digits: list[int], threshold: int, everything: int) -> int:
    """The bits whose count (in ``digits``, as made by :func:`_count`) is ``threshold`` or more."""
    if threshold.bit_length() > len(digits):
        return 0
    greater, equal = 0, everything
    for index in range(len(digits) - 1, -1, -1):
        digit = digits[index]
        if threshold >> index & 1:
            equal &= digit
        else:
            greater |= equal & digit
            equal &= ~digit
    return greater | equal

"""The work on one photo, as a worker process does it: decode, encode, store in the build cache.

Stage 5, run by :class:`~storefront.workers.WorkerPool` for the image stage
(:mod:`storefront.images`), one photo per job. A job names only the parts the cache did not
have; the worker reads the file, has :mod:`storefront.imaging` make those parts, writes each
file into the cache's image folder under its SHA-256 and returns the entries (what each part is
made of) for the parent to store. A photo that cannot be used is a value in the outcome, never
an exception: the parent reports it with every place that shows the photo.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storefront.cache import store_page
from storefront.imaging import ImageProblem, Recipe, process


@dataclass(frozen=True)
class ImageJob:
    """The work one photo still needs (only the parts the cache did not have)."""

    path: str  # content/assets/foto.jpg
    file: str
    original: str  # cache key of each part, "" when not needed
    variants: str
    cards: tuple[tuple[str, str], ...]  # (focus, key)
    digest: str = ""  # the SHA-256 the keys were made from (the file as discovered)


@dataclass(frozen=True)
class ImageState:
    """What a worker needs for every job of a build (pickled once)."""

    recipe: Recipe
    store: Path  # the cache's image folder


@dataclass(frozen=True)
class JobOutcome:
    path: str
    entries: tuple[tuple[str, str], ...] = ()  # (cache key, JSON payload)
    problem: tuple[str, str] | None = None  # (message, hint)


def process_chunk(state: ImageState, jobs: Sequence[ImageJob]) -> list[JobOutcome]:
    """Process some photos (in a worker or in this process); a photo's problem is a value."""
    return [_process_one(state, job) for job in jobs]


def _process_one(state: ImageState, job: ImageJob) -> JobOutcome:
    try:
        data = Path(job.file).read_bytes()
    except OSError as exc:
        return JobOutcome(job.path, problem=(f"cannot be read ({exc.strerror or exc})",
                                             "check that the file is there and readable"))
    if job.digest and hashlib.sha256(data).hexdigest() != job.digest:
        # saved again since the build hashed it: its copies would be kept under the keys of
        # the bytes it had then, and a later build holding those bytes again would show them
        return JobOutcome(job.path, problem=("changed while the build was reading it",
                                             "build again (the preview does so by itself)"))
    try:
        result = process(data, state.recipe, bool(job.variants), tuple(f for f, _ in job.cards),
                         bool(job.original))
    except ImageProblem as exc:
        return JobOutcome(job.path, problem=(exc.message, exc.hint))
    except MemoryError:
        return JobOutcome(job.path, problem=("is too large to process on this machine",
                                             "resize it to a web size, such as 4000 pixels wide"))
    groups: dict[str, list[list[Any]]] = {}
    cards = dict(job.cards)
    for encoded in result.outputs:
        sha = store_page(state.store, encoded.data)
        key = (job.original if encoded.role == "original" else job.variants
               if encoded.role == "variant" else cards[encoded.focus])
        groups.setdefault(key, []).append([encoded.role, encoded.format, encoded.width,
                                           encoded.height, sha, len(encoded.data)])
    for key in (job.original, job.variants, *cards.values()):
        if key:
            groups.setdefault(key, [])  # an animated image has no resized copies and no card
    entries = tuple((key, json.dumps({"width": result.width, "height": result.height,
                                      "files": files}, separators=(",", ":")))
                    for key, files in groups.items())
    return JobOutcome(job.path, entries)

"""What the build cache stores per row: parsed documents and how each output was made.

Plain data with its JSON form and a checksum, shared by :mod:`storefront.cache` (which stores it)
and the render workers (which read document bodies straight from the database).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from storefront.deps import DependencyRecord


def checksum_of(text: str) -> str:
    """A short checksum of a stored text (damage or an edit by hand is detected on reading)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class StoredDocument:
    """A parsed document as stored: its key, its fields as JSON, and its HTML kept apart (the
    bulk of the bytes, which then need no JSON decoding)."""

    key: str
    meta: str
    html: str
    summary: str

    def checksum(self) -> str:
        return checksum_of(f"{self.meta}\x00{self.html}\x00{self.summary}")


@dataclass(frozen=True)
class OutputRecord:
    """How an output was last made: its inputs' fingerprint, its bytes' hash, what it read."""

    fingerprint: str
    sha256: str
    size: int
    deps: DependencyRecord = field(default_factory=DependencyRecord)

    def to_json(self) -> str:
        deps = self.deps
        return json.dumps([self.fingerprint, self.sha256, self.size, list(deps.templates),
                           [list(d) for d in deps.documents], [list(c) for c in deps.calls],
                           deps.clock], separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, table: dict[Any, Any] | None = None) -> OutputRecord:
        """The record ``text`` holds; with ``table``, made of the tuples it shares with the
        records decoded before it (see :meth:`DependencyRecord.shared`)."""
        fingerprint, sha, size, templates, documents, calls, clock = json.loads(text)
        deps = DependencyRecord(
            tuple(str(t) for t in templates), tuple((str(s), str(lv)) for s, lv in documents),
            tuple((str(n), str(a)) for n, a in calls), str(clock))
        return cls(str(fingerprint), str(sha), int(size),
                   deps if table is None else deps.shared(table))

"""The whole-build shortcut: when no input changed since the last successful build, say so.

Like ``make`` with nothing to do, a build first compares a digest of everything a build reads
(storefront's code, the effective config, the options, every file of the theme chain, every
content file's SHA-256) with the one the last successful build into the same folder recorded. When
they match, the folder's manifest is still the one that build wrote (another build into the same
folder, with ``--drafts`` or another ``--base-url``, writes another), the clock has not crossed a
date that matters (a scheduled post, an expiry, the end of a sale, a preorder's date for the
merchant feed's warnings, a new year for pages that show it, a new day for the merchant feed
while a sale runs) nor gone back before that build's time (``SOURCE_DATE_EPOCH`` of an older
commit, a clock set back: a post published then may not be yet) and the output folder still
holds exactly what the manifest says, nothing is parsed, planned or rendered: the report of the
last build is given again. Anything else runs the full, fine-grained pipeline. Pure: the caller
reads the files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from storefront.errors import ContentError, error_at
from storefront.fingerprints import digest

MEMO_FORMAT = 4


@dataclass(frozen=True)
class BuildMemo:
    """What a successful build leaves for the next one to compare with."""

    inputs: str
    valid_until: datetime | None  # the next change of the site (see next_change)
    recheck: datetime | None  # when a warning may change (a preorder's date passing)
    clock: str  # the most any output used of the build time: "", "year", "day" or "moment"
    day: date  # the build's date (in the site's time zone)
    pages: int
    files: int
    warnings: tuple[ContentError, ...]
    left_out: tuple[str, ...]
    output: str = ""  # the digest of the manifest the build wrote (see manifest_digest)
    since: datetime | None = None  # the build time: the model holds from then to valid_until

    def still_valid(self, inputs: str, now: datetime, output: str) -> bool:
        """The same inputs, the output folder as this build left it (``output``: the digest of
        its manifest now), and nothing the pages show of the clock has moved on."""
        if inputs != self.inputs or output != self.output or self.clock == "moment":
            return False
        if self.since is None or now < self.since:  # the clock went back: what was published
            return False  # then (a post whose date had come) may not be now
        for moment in (self.valid_until, self.recheck):
            if moment is not None and now >= moment:
                return False
        if self.clock == "day":
            return now.date() == self.day
        return self.clock != "year" or now.year == self.day.year

    def to_json(self) -> str:
        return json.dumps({
            "format": MEMO_FORMAT, "inputs": self.inputs, "clock": self.clock, "day": self.day.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "recheck": self.recheck.isoformat() if self.recheck else None,
            "pages": self.pages, "files": self.files, "left_out": list(self.left_out),
            "output": self.output, "since": self.since.isoformat() if self.since else None,
            "warnings": [[w.location.path, w.location.line, w.message, w.hint]
                         for w in self.warnings],
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> BuildMemo | None:
        try:
            data = json.loads(text)
            if data["format"] != MEMO_FORMAT:
                return None
            until, recheck, since = data["valid_until"], data["recheck"], data["since"]
            return cls(
                str(data["inputs"]), datetime.fromisoformat(until) if until else None,
                datetime.fromisoformat(recheck) if recheck else None,
                str(data["clock"]), date.fromisoformat(data["day"]), int(data["pages"]), int(data["files"]),
                tuple(error_at(str(p), int(n), str(m), str(h)) for p, n, m, h in data["warnings"]),
                tuple(str(item) for item in data["left_out"]), str(data["output"]),
                datetime.fromisoformat(since) if since else None)
        except (ValueError, KeyError, TypeError):
            return None


def inputs_digest(code: str, config: str, options: str, output: Path,
                  theme_files: list[tuple[str, str]], sources: list[tuple[str, str]]) -> str:
    """One digest of everything a build reads (each list of (path, SHA-256) in a stable order)."""
    return digest(code, config, options, str(output),
                  *(f"t {path} {sha}" for path, sha in theme_files),
                  *(f"s {path} {sha}" for path, sha in sources))


def manifest_digest(files: Iterable[tuple[str, str]]) -> str:
    """One digest of an output folder's manifest: its (path, SHA-256) pairs, in any order."""
    return digest(*sorted(f"{path} {sha256}" for path, sha256 in files))


def next_change(model_change: datetime | None, clock: str, now: datetime) -> datetime | None:
    """When the built site next changes with no file changing: the site model's next change
    (a scheduled post, an expiry, a sale's end, a closure), or the new year in the site's time
    zone (``now``'s) when an output shows the build time (the footer's ©) and it comes first."""
    if clock == "" or now.year >= 9999:
        return model_change
    new_year = datetime(now.year + 1, 1, 1, tzinfo=now.tzinfo)
    return new_year if model_change is None or new_year < model_change else model_change


def strongest_clock(uses: list[str]) -> str:
    """The most of the build time any output used."""
    for use in ("moment", "day", "year"):
        if use in uses:
            return use
    return ""

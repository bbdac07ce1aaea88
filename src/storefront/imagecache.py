"""Processed images in the build cache: what was made of each photo, and the files themselves.

Between the stages, like :mod:`storefront.cache`, whose database and folder it shares: the table
``images`` holds one entry per part of a photo (its copy without metadata, its resized copies,
one share card per focal point), keyed by what decides the bytes (the source's SHA-256, the
settings, the image pipeline's own version and the codecs' versions; see
:mod:`storefront.images`), as JSON with a checksum; the files are in ``images/``, named by their
SHA-256.

Unlike the rest of the cache, these entries survive a new storefront version: re-encoding a
shop's photos takes minutes, and their keys already say everything their bytes depend on. They
are still never trusted blindly: a damaged row is ignored, a file is checked against its name
before it is copied, and entries no build used for :data:`KEEP_SECONDS` are dropped with the
files no other entry names.

A build killed while a worker writes a processed image leaves the worker's temporary file
(``ab/.tmp-PID-N``, megabytes of a half-written photo): each save sweeps such files as the pages'
are swept (:meth:`~storefront.cache.BuildCache.sweep_temporary_files`, about once an hour).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from storefront.cache import BuildCache, cache_subfolders, page_file
from storefront.records import checksum_of

KEEP_SECONDS = 30 * 24 * 3600  # processed images no build used for this long are dropped
SWEEP_MEMO = "image temporary files swept"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ImageStore:
    """The processed images of one build cache."""

    def __init__(self, cache: BuildCache) -> None:
        self.cache = cache
        self.folder: Path = cache.images

    def entries(self, keys: Iterable[str]) -> dict[str, str]:
        """The stored entries (JSON) of these keys; damaged rows are left out (and counted)."""
        found: dict[str, str] = {}
        try:
            for key in keys:
                row = self.cache.db.execute("SELECT payload, checksum FROM images WHERE key = ?",
                                            (key,)).fetchone()
                if row is None:
                    continue
                if checksum_of(row[0]) == row[1]:
                    found[key] = str(row[0])
                else:
                    self.cache.discarded += 1
        except sqlite3.DatabaseError:
            self.cache.recover()
            return {}
        return found

    def save(self, entries: Iterable[tuple[str, str]], used: Iterable[str], now: int) -> None:
        """Store new entries and mark every entry this build used; drop those unused for long,
        with the files no remaining entry names."""
        rows = [(key, payload, checksum_of(payload), now) for key, payload in entries]
        db = self.cache.db
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?)", rows)
            db.executemany("UPDATE images SET used = ? WHERE key = ?", [(now, key) for key in used])
            stale = db.execute("DELETE FROM images WHERE used < ?", (now - KEEP_SECONDS,)).rowcount
            named = {sha for (payload,) in db.execute("SELECT payload FROM images")
                     for sha in _SHA256.findall(payload)} if stale else set()
            db.execute("COMMIT")
        except sqlite3.DatabaseError:
            self.cache.recover()
            return
        if stale:
            for path in self._own_files():
                if path.name not in named:
                    path.unlink(missing_ok=True)
        self.cache.sweep_temporary_files(self.folder, SWEEP_MEMO, now)

    def _own_files(self) -> list[Path]:
        """The files in the image folder named as :func:`~storefront.cache.page_file` names
        them (``ab/ab12...``: a folder of the SHA-256's first two hex digits, the whole SHA-256
        as the name); anything else there (a file someone put in the cache folder, another
        process's temporary file) is not the cache's to delete."""
        own: list[Path] = []
        for folder in cache_subfolders(self.folder):
            try:
                own.extend(path for path in folder.iterdir()
                           if _SHA256.fullmatch(path.name) and path.name[:2] == folder.name
                           and path.is_file() and not path.is_symlink())
            except OSError:
                continue
        return own

    def path(self, sha256: str) -> Path:
        return Path(page_file(self.folder, sha256))

    def intact(self, sha256: str) -> bool:
        """The stored file has the bytes its name says (read once to check)."""
        hasher = hashlib.sha256()
        try:
            with open(self.path(sha256), "rb") as handle:
                while chunk := handle.read(1 << 20):
                    hasher.update(chunk)
        except OSError:
            return False
        if hasher.hexdigest() != sha256:
            self.cache.discarded += 1
            return False
        return True

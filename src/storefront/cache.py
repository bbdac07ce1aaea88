"""The persistent build cache: parsed documents, what each output was made from, rendered pages.

A folder inside the site (``.storefront-cache/``, git-ignored; ``--cache-dir`` moves it, so CI can
keep it between runs) holding one SQLite database, a folder of rendered pages and one of processed
images, both named by their SHA-256, and the theme's compiled templates. Stored as JSON and plain
files, never pickle; the compiled templates are code, so each is signed with a key of the user's
that is never in the cache (:mod:`storefront.bytecode`): a cache written elsewhere can never run
code here. It still says what a build publishes (the HTML of
documents and pages): whoever can write it can change the site, so it belongs where only the
owner, or the site's own CI job, writes.

Nothing in it is trusted blindly: the database records the storefront version and code fingerprint
that wrote it (another one is discarded whole); every row carries a checksum of its payload (a row
edited by hand is ignored); a page file is checked against its name before it is used; a database
SQLite cannot read (truncated, overwritten) is deleted and started afresh. Output records are
saved only by a build that succeeded, so a failed build never leaves anything that a later build
would trust.

Processed images (:mod:`storefront.imagecache`, in the same database and folder) are the
exception to "another version, start afresh": re-encoding a shop's photos takes minutes, and
their entries are keyed by what decides their bytes, not by storefront's code.

A build killed while a process writes a page or an image into the cache (``kill -9``, a power
cut, CI's timeout) leaves the writer's temporary file (``ab/.tmp-PID-N``), which no build renames
or names. About once an hour (:data:`SWEEP_SECONDS`, so that a one-edit build does not list the
folder) a build deletes those whose writer is no longer a running process and that nobody touched
for :data:`TEMP_SECONDS` (:meth:`BuildCache.sweep_temporary_files`): the name's process id alone is
not enough, since the same cache may be shared with another machine or container (CI runners, a
preview in Docker), where that id is another, living, process still writing it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from storefront.errors import StorefrontError
from storefront.files import temp_writer, write_atomic
from storefront.records import OutputRecord, StoredDocument, checksum_of
from storefront.sources import Stamp
from storefront.staging import process_running

__all__ = ["COMPILED", "COMPILED_SWEEP_MEMO", "BuildCache", "OutputRecord", "StoredDocument",
           "cache_subfolders", "page_file", "remove_cache", "store_page"]

DATABASE = "cache.sqlite3"
PAGES = "pages"
IMAGES = "images"  # processed image files by SHA-256 (storefront.imagecache)
TEMPLATES = "templates"  # where storefront 0.x kept code generated from templates: cleaned away
COMPILED = "compiled"  # compiled templates, signed (storefront.bytecode)
FORMAT = "4"
KEEP_VARIANTS = 4  # e.g. production, --drafts, the preview: older ones are dropped
TEMP_SECONDS = 15 * 60  # a dead writer's temporary file untouched this long is deleted
SWEEP_SECONDS = 3600  # how often a build looks for such files in one folder
PAGES_SWEEP_MEMO = "page temporary files swept"
COMPILED_SWEEP_MEMO = "compiled template temporary files swept"
_SUBFOLDER = re.compile(r"[0-9a-f]{2}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(path TEXT PRIMARY KEY, key TEXT NOT NULL,
    meta TEXT NOT NULL, html TEXT NOT NULL, summary TEXT NOT NULL, checksum TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_keys ON documents(path, key);
CREATE TABLE IF NOT EXISTS outputs(variant TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
    payload TEXT NOT NULL, checksum TEXT NOT NULL, PRIMARY KEY(variant, path));
CREATE INDEX IF NOT EXISTS outputs_sha256 ON outputs(sha256);
CREATE TABLE IF NOT EXISTS variants(variant TEXT PRIMARY KEY, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS memos(key TEXT PRIMARY KEY, payload TEXT NOT NULL, checksum TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stats(path TEXT PRIMARY KEY, stamp TEXT NOT NULL, recorded INTEGER NOT NULL,
    digest TEXT NOT NULL, checksum TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images(key TEXT PRIMARY KEY, payload TEXT NOT NULL, checksum TEXT NOT NULL,
    used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS garbage(sha256 TEXT PRIMARY KEY);
"""


def _remove_links(folder: Path) -> None:
    """Delete symbolic links at the names the cache writes (a cloned repository can hold a
    ``.storefront-cache`` with one): followed, a build wrote its pages into the folder a link
    named, or its tables into the SQLite database it named, wherever they were."""
    for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", f"{DATABASE}-journal", PAGES,
                 IMAGES, TEMPLATES, COMPILED):
        path = folder / name
        if path.is_symlink():
            path.unlink(missing_ok=True)


class BuildCache:
    """The cache of one site; ``folder=None`` gives a throwaway one (``--no-cache``)."""

    def __init__(self, folder: Path | None, code: str) -> None:
        self.persistent = folder is not None
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="storefront-nocache-"))
        self.folder = folder
        self.code = code
        self.discarded = 0  # entries found damaged or foreign and ignored, for the build report
        self.pages = folder / PAGES
        self._pages = str(self.pages)
        self.images = folder / IMAGES
        folder.mkdir(parents=True, exist_ok=True)
        # held (shared) while the cache is open: `storefront clean` takes it whole, so it never
        # deletes the database or the stored pages under a running build or preview
        self._lock = os.open(folder, os.O_RDONLY)
        fcntl.flock(self._lock, fcntl.LOCK_SH)
        _remove_links(folder)
        self._identity: tuple[int, int] | None = None  # of the database file opened
        self.db = self._open()

    # -- the database ----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / DATABASE  # a file even without a cache: workers read bodies from it
        try:
            db = self._prepare(self._connect(target))
        except sqlite3.DatabaseError:
            self._delete_database()
            self.discarded += 1
            db = self._prepare(self._connect(target))
        self._identity = _file_identity(target)
        return db

    def vanished(self) -> bool:
        """Whether the database this cache opened is no longer the one in its folder: the owner
        deleted the cache by hand (``storefront clean`` is refused meanwhile) while a session
        (the preview) kept it open. Its connection then reads and writes a deleted file, its
        rendered pages and processed images are gone, and workers cannot open the database by
        its name."""
        return _file_identity(self.folder / DATABASE) != self._identity

    @staticmethod
    def _connect(target: Path) -> sqlite3.Connection:
        # any thread: the preview builds first on its main thread, then on its watcher's (one
        # at a time). With the default, the first save's query raised ProgrammingError, which is
        # a DatabaseError, so the cache was taken as damaged and deleted on every preview start.
        return sqlite3.connect(target, timeout=10, isolation_level=None, check_same_thread=False)

    def _prepare(self, db: sqlite3.Connection) -> sqlite3.Connection:
        db.execute("PRAGMA journal_mode=WAL")
        # a cache: losing the last write is harmless; a throwaway one is never read again, so
        # its writes need no flush to the disk at all (closing it flushed for 0.2-0.5 s)
        db.execute(f"PRAGMA synchronous={'NORMAL' if self.persistent else 'OFF'}")
        db.executescript(_SCHEMA)
        stamp = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if stamp != {"format": FORMAT, "code": self.code}:
            if stamp:
                self.discarded += 1
            db.executescript("BEGIN IMMEDIATE; DELETE FROM documents; DELETE FROM outputs; "
                             "DELETE FROM variants; DELETE FROM memos; DELETE FROM stats; DELETE FROM meta; "
                             "DELETE FROM garbage; COMMIT")
            db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", FORMAT), ("code", self.code)])
            if stamp:  # a cache of another storefront: its pages and compiled templates go
                # processed images stay: their keys say what made them (see the module's
                # docstring). A new database leaves the folder as it is: it may be a folder
                # the owner named with --cache-dir, whose pages/ or templates/ are not ours
                shutil.rmtree(self.pages, ignore_errors=True)
                shutil.rmtree(self.folder / TEMPLATES, ignore_errors=True)
                shutil.rmtree(self.folder / COMPILED, ignore_errors=True)
        return db

    def _delete_database(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            (self.folder / (DATABASE + suffix)).unlink(missing_ok=True)
        for sub in (self.pages, self.images, self.folder / TEMPLATES, self.folder / COMPILED):
            shutil.rmtree(sub, ignore_errors=True)

    def recover(self) -> None:
        """The database could not be read or written: start with an empty one (the image store,
        :mod:`storefront.imagecache`, shares the database and calls this too)."""
        self.discarded += 1
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if self.persistent:
            self._delete_database()
        self.db = self._open()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if not self.persistent:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    # -- parsed documents -----------------------------------------------------------------------

    def each_document(self) -> Iterator[tuple[str, StoredDocument]]:
        """Every stored document with its path, one row at a time (a caller that keeps only what
        it decodes never holds all the stored bodies at once: at 10,000 posts that was a copy
        of every page's HTML); damaged rows are left out (and counted). Nothing may write to the
        cache before the iteration ends."""
        try:
            for path, key, meta, html, summary, checksum in self.db.execute(
                    "SELECT path, key, meta, html, summary, checksum FROM documents"):
                stored = StoredDocument(key, meta, html, summary)
                if stored.checksum() == checksum:
                    yield path, stored
                else:
                    self.discarded += 1
        except sqlite3.DatabaseError:
            self.recover()

    def stored_keys(self) -> dict[str, str]:
        """Path -> key of every stored document (no payloads)."""
        try:
            return dict(self.db.execute("SELECT path, key FROM documents").fetchall())
        except sqlite3.DatabaseError:
            self.recover()
            return {}

    def document(self, path: str) -> StoredDocument | None:
        """One stored document, or None (also when its row is damaged)."""
        try:
            row = self.db.execute("SELECT key, meta, html, summary, checksum FROM documents "
                                  "WHERE path = ?", (path,)).fetchone()
        except sqlite3.DatabaseError:
            self.recover()
            return None
        if row is None:
            return None
        stored = StoredDocument(*row[:4])
        if stored.checksum() != row[4]:
            self.discarded += 1
            return None
        return stored

    def save_documents(self, items: Iterable[tuple[str, StoredDocument]]) -> None:
        """Store parsed documents by path, replacing older versions of those files."""
        rows = [(path, d.key, d.meta, d.html, d.summary, d.checksum()) for path, d in items]
        if rows:
            self._write("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?)", rows)

    def forget_documents(self, keep: Iterable[str]) -> None:
        """Drop the documents of files that no longer exist."""
        keep_set = set(keep)
        try:
            stored = [row[0] for row in self.db.execute("SELECT path FROM documents")]
        except sqlite3.DatabaseError:
            self.recover()
            return
        gone = [(path,) for path in stored if path not in keep_set]
        if gone:
            self._write("DELETE FROM documents WHERE path = ?", gone)

    # -- output records --------------------------------------------------------------------------

    def outputs(self, variant: str) -> dict[str, OutputRecord]:
        try:
            rows = self.db.execute("SELECT path, payload, checksum FROM outputs WHERE variant = ?",
                                   (variant,)).fetchall()
        except sqlite3.DatabaseError:
            self.recover()
            return {}
        found = {}
        shared: dict[Any, Any] = {}  # one copy of what many records list (a template, a document)
        for path, payload, checksum in rows:
            try:
                if checksum_of(payload) != checksum:
                    raise ValueError("checksum")
                found[path] = OutputRecord.from_json(payload, shared)
            except (ValueError, TypeError):
                self.discarded += 1
        return found

    def save_outputs(self, variant: str, records: dict[str, OutputRecord], serial: int,
                     previous: dict[str, OutputRecord] | None = None) -> None:
        """Make the records of ``variant`` those of the build that just succeeded.

        With ``previous`` (what the cache held for it), only the records that changed are written.
        """
        if previous is None:
            previous = self.outputs(variant)
        changed = [(variant, path, record.sha256, text, checksum_of(text))
                   for path, record, text in ((p, r, r.to_json()) for p, r in sorted(records.items())
                                              if previous.get(p) != r)]
        gone = [(variant, path) for path in sorted(set(previous) - set(records))]
        # pages that may no longer be needed: those the replaced or removed records named
        candidates = {previous[path].sha256 for path in previous
                      if path not in records or records[path].sha256 != previous[path].sha256}
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?)", changed)
            self.db.executemany("DELETE FROM outputs WHERE variant = ? AND path = ?", gone)
            self.db.execute("INSERT OR REPLACE INTO variants VALUES (?, ?)", (variant, serial))
            old = [row[0] for row in self.db.execute(
                "SELECT variant FROM variants ORDER BY used DESC LIMIT -1 OFFSET ?", (KEEP_VARIANTS,))]
            for stale in old:
                candidates.update(row[0] for row in self.db.execute(
                    "SELECT sha256 FROM outputs WHERE variant = ?", (stale,)))
                self.db.execute("DELETE FROM outputs WHERE variant = ?", (stale,))
                self.db.execute("DELETE FROM variants WHERE variant = ?", (stale,))
            unused = [sha for sha in sorted(candidates) if self.db.execute(
                "SELECT 1 FROM outputs WHERE sha256 = ? LIMIT 1", (sha,)).fetchone() is None]
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError:
            self.recover()
            return
        self._collect(unused)

    def _collect(self, unused: list[str]) -> None:
        """Delete the stored pages no record names any more, when no other build or preview has
        the cache open; else keep them for a later build that is alone.

        A build that runs beside this one (same base URL and options: the same records) may
        have taken one of these pages as unchanged when it began, and links it into its own
        output folder at its end: deleted now, that build failed halfway through writing.
        """
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._lock, fcntl.LOCK_SH)  # a refused conversion drops the shared lock
            self._write("INSERT OR IGNORE INTO garbage VALUES (?)", [(sha,) for sha in unused])
            return
        try:  # no other build can start meanwhile: it waits for its shared lock
            pending = [row[0] for row in self.db.execute("SELECT sha256 FROM garbage")]
            gone = [sha for sha in sorted({*unused, *pending}) if self.db.execute(
                "SELECT 1 FROM outputs WHERE sha256 = ? LIMIT 1", (sha,)).fetchone() is None]
            self._write("DELETE FROM garbage", [()])
            for sha in gone:
                Path(self.page_path(sha)).unlink(missing_ok=True)
        except sqlite3.DatabaseError:
            self.recover()
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_SH)

    def _write(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(sql, rows)
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError:
            self.recover()

    # -- the whole-build shortcut ----------------------------------------------------------------

    def memo(self, key: str) -> str | None:
        """What the last successful build into one folder left (see :mod:`storefront.memo`)."""
        try:
            row = self.db.execute("SELECT payload, checksum FROM memos WHERE key = ?",
                                  (key,)).fetchone()
        except sqlite3.DatabaseError:
            self.recover()
            return None
        if row is None:
            return None
        if checksum_of(row[0]) != row[1]:
            self.discarded += 1
            return None
        return str(row[0])

    def save_memo(self, key: str, payload: str) -> None:
        self._write("INSERT OR REPLACE INTO memos VALUES (?, ?, ?)", [(key, payload, checksum_of(payload))])

    def sweep_temporary_files(self, folder: Path, memo: str, now: int, flat: bool = False) -> None:
        """Delete the temporary files that killed writers left in ``folder``'s subfolders (or in
        ``folder`` itself, when ``flat``; see the module's docstring), at most once every
        :data:`SWEEP_SECONDS`, recorded as ``memo``."""
        last = self.memo(memo)
        if last is not None and last.isdigit() and 0 <= now - int(last) < SWEEP_SECONDS:
            return
        for subfolder in [folder] if flat else cache_subfolders(folder):
            try:
                entries = list(os.scandir(subfolder))
            except OSError:
                continue
            for entry in entries:
                writer = temp_writer(entry.name)
                if writer is None or writer == os.getpid() or process_running(writer):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and now - info.st_mtime >= TEMP_SECONDS:
                        os.unlink(entry.path)
                except OSError:
                    continue  # gone meanwhile: renamed by its writer, or deleted by another build
        self.save_memo(memo, str(now))

    # -- what files were, by stat (see storefront.sources.StatCache) -----------------------------

    def file_stats(self) -> Iterator[tuple[str, Stamp, int, str]]:
        """(path, stamp, recorded, SHA-256) of every file a build hashed, damaged rows left out."""
        try:
            rows = self.db.execute("SELECT path, stamp, recorded, digest, checksum FROM stats").fetchall()
        except sqlite3.DatabaseError:
            self.recover()
            return
        for path, stamp, recorded, digest, checksum in rows:
            try:
                if checksum_of(_stat_text(path, stamp, recorded, digest)) != checksum:
                    raise ValueError("checksum")
                mtime, ctime, size, inode = (int(part) for part in stamp.split())
            except ValueError:
                self.discarded += 1
                continue
            yield path, (mtime, ctime, size, inode), recorded, digest

    def save_file_stats(self, fresh: Sequence[tuple[str, Stamp, int, str]],
                        gone: Sequence[str]) -> None:
        """Add or replace the ``fresh`` entries and drop those of the ``gone`` paths."""
        if not fresh and not gone:
            return
        rows = []
        for path, stamp, recorded, digest in fresh:
            text = " ".join(map(str, stamp))
            rows.append((path, text, recorded, digest, checksum_of(_stat_text(path, text, recorded,
                                                                               digest))))
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?)", rows)
            self.db.executemany("DELETE FROM stats WHERE path = ?", [(path,) for path in gone])
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError:
            self.recover()

    # -- rendered pages --------------------------------------------------------------------------

    def page_path(self, sha256: str) -> str:
        return page_file(self._pages, sha256)

    def read_page(self, sha256: str) -> bytes | None:
        """A stored page, or None when it is missing or its bytes do not match its name."""
        try:
            with open(self.page_path(sha256), "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            self.discarded += 1
            return None
        return data


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _stat_text(path: str, stamp: str, recorded: int, digest: str) -> str:
    return f"{path}\x00{stamp}\x00{recorded}\x00{digest}"


def remove_cache(folder: Path) -> bool:
    """Delete a build cache (only its own files: the folder may hold others); True if one was there.

    Refused while a build or the preview has it open (they hold a shared lock on the folder):
    deleting the database and the stored pages under them made a running build fail with an
    internal error, and the deletion itself could fail halfway.
    """
    try:
        lock = os.open(folder, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorefrontError(
                f"the build cache {folder} is in use by a build or a preview that is running; "
                "let the build end (stop the preview with Ctrl+C), then clean again") from None
        if not (folder / DATABASE).is_file():
            return False  # no cache here: its pages/, images/, templates/ or compiled/ are someone else's
        for suffix in ("", "-wal", "-shm"):
            (folder / (DATABASE + suffix)).unlink(missing_ok=True)
        for sub in (PAGES, IMAGES, TEMPLATES, COMPILED):
            if (folder / sub).is_dir():
                shutil.rmtree(folder / sub)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when nothing else is in it
        return True
    finally:
        os.close(lock)


def cache_subfolders(folder: Path) -> list[Path]:
    """The subfolders :func:`page_file` makes in a cache folder (``ab/``: two hex digits, not a
    link); anything else there is not the cache's."""
    try:
        return [entry for entry in folder.iterdir()
                if _SUBFOLDER.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink()]
    except OSError:
        return []


def page_file(folder: Path | str, sha256: str) -> str:
    """Where a page (or processed image) with this SHA-256 is kept in a cache folder."""
    return f"{folder}/{sha256[:2]}/{sha256}"


def store_page(folder: Path, data: bytes) -> str:
    """Write a rendered page (or a processed image) into a cache folder under its SHA-256;
    return the hash."""
    sha = hashlib.sha256(data).hexdigest()
    target = Path(page_file(folder, sha))
    try:
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            return sha  # already there (a page that rendered the same as before)
    except OSError:
        pass
    write_atomic(target, data)  # 0644: output files may be hard links to it, read as any page
    return sha

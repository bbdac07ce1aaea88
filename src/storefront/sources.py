"""Discover the content files of a site.

Stage 2. Walks ``content/`` in sorted order, decides each file's kind from its top folder and
reads it once. Hidden files and editor temp files are ignored; anything else that does not fit is
an error rather than being skipped, so nothing an owner wrote silently disappears.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from storefront.errors import BuildFailed, ContentError, error_at
from storefront.limits import LimitExceeded, check_size
from storefront.values import control_character, control_character_problem

Stamp = tuple[int, int, int, int]  # a file's modification and change times (ns), size, inode
Kind = Literal["posts", "products", "faq", "pages", "newsletter", "assets"]
DOCUMENT_KINDS: tuple[Kind, ...] = ("posts", "products", "faq", "pages", "newsletter")
CONTENT_DIR = "content"


@dataclass(frozen=True)
class SourceFile:
    """One file under ``content/``: its kind, site-relative path, bytes and SHA-256.

    Discovery only hashes files (streamed); ``data`` is empty until :func:`with_data` reads a
    document that has to be parsed, and assets are copied later from ``file``, so neither a big
    blog nor a folder of large photos is ever held in memory at once.
    """

    kind: Kind
    path: str  # relative to the site root, forward slashes: content/posts/x.md
    data: bytes
    digest: str
    file: Path | None = None

    @property
    def stem(self) -> str:
        return self.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]

    @property
    def asset_path(self) -> str:
        """For assets: the path below ``content/assets/``."""
        return self.path.split("/", 2)[2]


def undecodable(path: str) -> str | None:
    """``path`` as it can be shown when its name is not UTF-8 text (the bytes a zip made on
    Windows gives an accented name, say: every later step failed on it); None when it is."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return None


NOT_UTF8_NAME = ("this file's name is not UTF-8 text (made on another system, or unpacked from "
                 "an old zip)", "rename the file, retyping its accented letters")


def is_ignored(name: str) -> bool:
    """Hidden files and the temp files editors leave behind."""
    return (
        name.startswith((".", "#", "~"))
        or name.endswith(("~", ".swp", ".swx", ".tmp", ".bak", "___jb_tmp___", "___jb_old___"))
        or name in {"Thumbs.db", "desktop.ini"}
    )


class StatCache:
    """What was read last time, by path and ``stat`` (size, times, inode): a file whose ``stat``
    did not change is not read and hashed again.

    Like git's index it guards against a change within the file system's time resolution: an
    entry is trusted only when it was recorded more than two seconds after the file's
    modification time (FAT keeps modification times to two seconds: a same-size save soon after
    a build could keep the time that build recorded). A long-lived session keeps one in memory;
    a command-line build with a cache starts from the one its last build saved (:meth:`load`,
    :meth:`unsaved`), so at 10,000 posts it stats the files instead of reading and hashing 80 MB.
    """

    RACY_NS = 2_000_000_000

    def __init__(self) -> None:
        self.entries: dict[str, tuple[Stamp, int, str]] = {}  # path -> stamp, recorded, digest
        self._seen: set[str] = set()  # asked for since :meth:`begin`
        self._fresh: set[str] = set()  # put since last :meth:`unsaved`

    def begin(self) -> None:
        """A new build: the files it asks for are those that exist now."""
        self._seen = set()

    def get(self, path: str) -> tuple[Stamp, str | None]:
        """The file's current stamp and its remembered digest (None: read it again)."""
        info = os.stat(path)
        stamp = (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)
        self._seen.add(path)
        entry = self.entries.get(path)
        if entry is None or entry[0] != stamp or entry[1] - stamp[0] < self.RACY_NS:
            return stamp, None
        return stamp, entry[2]

    def put(self, path: str, stamp: Stamp, digest: str) -> None:
        self.entries[path] = (stamp, time.time_ns(), digest)
        self._fresh.add(path)

    def load(self, rows: Iterable[tuple[str, Stamp, int, str]]) -> None:
        """Entries saved by an earlier build (path, stamp, recorded, digest)."""
        for path, stamp, recorded, digest in rows:
            self.entries.setdefault(path, (stamp, recorded, digest))

    def unsaved(self) -> tuple[list[tuple[str, Stamp, int, str]], list[str]]:
        """(entries put since the last call, paths not asked for in this build), both forgotten
        here: what a saved copy must add and drop to match."""
        gone = sorted(set(self.entries) - self._seen)
        for path in gone:
            del self.entries[path]
        fresh = [(path, *self.entries[path]) for path in sorted(self._fresh & self._seen)]
        self._fresh = set()
        return fresh, gone


def discover_sources(root: Path, remembered: StatCache | None = None) -> tuple[SourceFile, ...]:
    """Every content file under ``root/content``, sorted by path.

    A file that disappears between listing and reading (an editor saving through a temporary
    file and a rename) is left out: it is a change the next build sees, not an error.
    """
    content = os.path.join(root, CONTENT_DIR)
    if not os.path.isdir(content):
        return ()
    found: list[SourceFile] = []
    errors: list[ContentError] = []
    named: set[str] = set()
    for parts, path, is_link in sorted(_walk(content, ())):
        joined = "/".join((CONTENT_DIR, *parts))
        shown = undecodable(joined)
        if shown is not None:
            errors.append(error_at(shown, 0, *NOT_UTF8_NAME))
            continue
        # NFC: a Mac writes "é" as two code points; links typed in an editor use one
        rel = unicodedata.normalize("NFC", joined)
        if rel in named:  # two files, one name: one of them would silently take the other's place
            errors.append(error_at(rel, 0, "two files have this name, with its accents written "
                                   "in two ways (one of them was made on a Mac, say)",
                                   "keep one of them: rename or delete the other"))
            continue
        named.add(rel)
        if is_link:
            # A link could publish anything on the machine (or loop); content must be real files.
            errors.append(error_at(rel, 0, "this is a symbolic link; content must be real files",
                                   "copy the file into content/ instead of linking to it"))
            continue
        top = parts[0] if len(parts) > 1 else ""
        if top not in (*DOCUMENT_KINDS, "assets"):
            errors.append(
                error_at(rel, 0, "this file is not in a known content folder",
                         "move it into content/posts, products, faq, pages, newsletter or assets")
            )
            continue
        if top == "assets" and any(mark in parts[-1] for mark in "#?"):
            # a web address ends its path at # or ?: the file would be published under a cut name
            errors.append(error_at(rel, 0, "a # or ? in a file name ends its web address, so the "
                                   "file could not be published or linked under its name",
                                   "rename the file without # and ? (foto-1.jpg, not foto #1.jpg)"))
            continue
        if top != "assets" and (len(parts) != 2 or not parts[1].endswith(".md")):
            markdown = len(parts) == 2 and parts[1].lower().endswith((".md", ".markdown", ".mdown"))
            errors.append(
                error_at(rel, 0, f"content/{top}/ holds only .md files, one per document",
                         "rename the file to end in .md, in small letters" if markdown
                         else "put images and other files in content/assets/")
            )
            continue
        try:
            found.append(read_source(top, rel, path, remembered))
        except FileNotFoundError:
            continue
    if errors:
        raise BuildFailed(errors)
    return tuple(found)


def read_source(top: Kind, rel: str, path: str, remembered: StatCache | None) -> SourceFile:
    """The file at ``path`` (``rel`` below the site, of kind ``top``), hashed unless
    ``remembered`` knows its digest; raises FileNotFoundError when it is gone."""
    # hashed now, read again only if it has to be parsed (an asset: when it is copied), so a big
    # site's text is never all held in memory
    stamp, known = remembered.get(path) if remembered is not None else ((0, 0, 0, 0), None)
    if known is None:
        known = file_sha256(path)
        if remembered is not None:
            remembered.put(path, stamp, known)
    return _source_file(top, rel, known, path)


@functools.lru_cache(maxsize=1 << 16)
def _source_file(top: Kind, rel: str, known: str, path: str) -> SourceFile:
    """(Remembered: a preview's save lists every file again; making 1,500 paths was a tenth
    of its reading.)"""
    return SourceFile(top, rel, b"", known, Path(path))


class ChangedWhileReading(Exception):
    """A file's bytes are not those hashed when it was discovered (an editor saved meanwhile)."""


def with_data(source: SourceFile) -> SourceFile:
    """``source`` with its bytes, checked against the digest it was discovered with."""
    if source.data or source.file is None:
        return source
    try:  # never read a file too large to parse: a 5 GB "post" must not fill the memory
        check_size(os.stat(source.file).st_size)
    except LimitExceeded as exc:
        raise BuildFailed([error_at(source.path, 0, exc.message, exc.hint)]) from None
    with open(source.file, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != source.digest:
        raise ChangedWhileReading(source.path)
    return replace(source, data=data)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in pieces (assets can be large)."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def _walk(folder: str, parts: tuple[str, ...]) -> list[tuple[tuple[str, ...], str, bool]]:
    """(path parts below content/, full path, is a symbolic link) of every file, unsorted."""
    result: list[tuple[tuple[str, ...], str, bool]] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return result
    for entry in entries:
        if is_ignored(entry.name):
            continue
        here = (*parts, entry.name)
        try:
            if entry.is_symlink():
                result.append((here, entry.path, True))  # reported, never followed
            elif entry.is_dir():
                result.extend(_walk(entry.path, here))
            elif entry.is_file():
                result.append((here, entry.path, False))
        except FileNotFoundError:
            continue
    return result


def utf8_text(data: bytes, shown: str, encoding: str = "utf-8") -> str:
    """``data`` decoded; bytes that are not UTF-8 are the owner's error, at their line of
    ``shown`` (a file saved as Latin-1 or Windows-1252 by an old editor)."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BuildFailed([error_at(
            shown, data.count(b"\n", 0, exc.start) + 1, "the file is not UTF-8 text",
            "save it as UTF-8 in your editor (it may be Latin-1 or Windows-1252)")]) from None


def decode_text(source: SourceFile) -> str:
    """The file as text: UTF-8 (a BOM is dropped), newlines normalised to ``\\n``."""
    text = utf8_text(source.data, source.path, "utf-8-sig")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    at = control_character(text)
    if at >= 0:
        raise BuildFailed([error_at(source.path, text.count("\n", 0, at) + 1,
                                    *control_character_problem(text, at))])
    return text

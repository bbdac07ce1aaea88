"""Write a built site into the output folder safely.

Stage 7, the only stage that writes into the output folder, called only after every output was
made without error, so a failed build never touches it. Each file is written to a temp file beside
it and moved into place with ``os.replace`` (readers never see half a file); bytes come from
memory (small generated files) or are copied from a file (pages stored in the cache, assets,
theme files), never all held in memory. A manifest records, per file, the SHA-256 of its bytes
and the size and modification time it had when written, so an unchanged file is recognised
without reading it; files the previous build wrote and this one did not are deleted; files the
builder never wrote are left alone, and a build that would replace one stops and names it.
Nothing is written through a symbolic link.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storefront.errors import BuildFailed, ContentError, error_at
from storefront.files import (
    link_atomic,
    make_folders,
    open_temp,
    replacing,
    settled,
    temp_writer,
    write_atomic,
)
from storefront.interrupts import held
from storefront.urls import folders_of, safe_relative_path

MANIFEST = ".storefront-manifest.json"
FORMAT = 2
# There while a build writes into the folder, holding its process id: found by a later build, it
# says that build was killed mid-write (SIGKILL, a CI timeout, the OOM killer, a power cut), and
# names the writer of the temporary files it left (see :func:`_writing`)
WRITING = ".storefront-writing"


@dataclass(frozen=True)
class WriteItem:
    """One file to write: its path below the output folder, its hash, and where its bytes are."""

    path: str
    sha256: str
    size: int
    data: bytes | None = None
    file: Path | str | None = None
    link: bool = False  # the file is the build cache's own copy: a hard link will do


@dataclass(frozen=True)
class WriteReport:
    written: int
    unchanged: int
    deleted: int
    changed: tuple[str, ...] = ()  # the paths written or deleted


Entry = tuple[str, int, int]  # sha256, size, mtime_ns (sha256 "" = written by an older storefront)


def read_manifest(root: Path) -> dict[str, Entry]:
    """What the last build wrote (a new dict each call); an unreadable manifest counts as none.

    The last one read is remembered by its file's identity (device, inode, size, times): the
    manifest is only ever replaced by renaming a new file over it, so a changed manifest is
    another file, and the preview, which reads it twice at every save, parses it once a change.
    """
    path = root / MANIFEST
    identity = manifest_identity(root)
    if identity is None:
        return {}
    with _last_lock:
        if _last_read and _last_read[0] == identity:
            return dict(_last_read[1])
    found = _parse_manifest(path)
    with _last_lock:
        _last_read[:] = [identity, found]
    return dict(found)


def manifest_identity(root: Path) -> tuple[Any, ...] | None:
    """Which file the manifest is (None: there is none): any write of it, by this process or
    another, makes a new file, so an equal identity means the same manifest."""
    path = root / MANIFEST
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


_last_read: list[Any] = []  # [identity, manifest] of the last manifest read
_last_lock = threading.Lock()


def _parse_manifest(path: Path) -> dict[str, Entry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if isinstance(data, list):  # format 1: only the names
        return {item: ("", -1, -1) for item in data if isinstance(item, str)}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    found: dict[str, Entry] = {}
    for name, entry in files.items():
        if (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                and all(isinstance(n, int) for n in entry[1:])):
            found[name] = (entry[0], entry[1], entry[2])
    return found


def unchanged_in(root: Path, manifest: dict[str, Entry], relative: str, sha256: str) -> bool:
    """The output folder still holds exactly what the manifest says was written there."""
    entry = manifest.get(relative)
    if entry is None or entry[0] != sha256:
        return False
    try:
        info = os.lstat(os.path.join(root, relative))
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (info.st_size, info.st_mtime_ns) == entry[1:]


def manifest_intact(root: Path, manifest: dict[str, Entry]) -> bool:
    """Every file the manifest lists is still there as it was written (size and time)."""
    return bool(manifest) and all(unchanged_in(root, manifest, name, entry[0])
                                  for name, entry in manifest.items())


def write_site(output: Path, items: Sequence[WriteItem] | Callable[[], Sequence[WriteItem]],
               checked: Mapping[tuple[str, str], bool] | None = None,
               first: Sequence[WriteItem] | None = None,
               between: Callable[[WriteReport], None] | None = None,
               staged: Mapping[str, Entry] | None = None,
               seen: tuple[Any, ...] | None = None) -> WriteReport:
    """Make ``output`` hold ``items``. One build at a time writes into a folder (a lock on it).

    ``checked`` holds answers of :func:`unchanged_in` the caller already had for (path, sha256),
    so that a file is looked at once per build, with the manifest whose identity is ``seen``
    (:func:`manifest_identity`). When the folder's manifest is another one now, another build
    wrote into the folder meanwhile, and the answers are not used: kept, a file that build
    replaced stayed, and the folder held a mix of both builds.

    ``first`` (some of ``items``) and ``between`` let a caller show part of a build before it
    ends: those items are written first, then ``between`` is called with what that changed,
    then ``items`` (here a function, so that the caller can make the rest meanwhile) are
    written, old files deleted and the manifest written. Every file is replaced whole
    (renamed into place), so the folder never holds a half-written file.

    ``staged`` are the manifest entries of files already put in ``output`` (a staging folder,
    see :mod:`storefront.staging`), taken as in place when their SHA-256 is the item's.
    """
    with _writing(output) as root:
        if checked and manifest_identity(root) != seen:
            checked = None
        early: dict[str, Entry] = dict(staged or {})
        report = None
        if first is not None:
            report = _write_locked(output, root, first, checked or {}, early, partial=True)
            if between is not None:
                between(report)
        final = _write_locked(output, root, items() if callable(items) else items, checked or {},
                              early)
        if report is None:
            return final
        return WriteReport(final.written + report.written, final.unchanged - report.written,
                           final.deleted, report.changed + final.changed)


def write_some(output: Path, items: Sequence[WriteItem]) -> WriteReport:
    """Write ``items`` ahead of the build that writes the whole folder (a preview's quick save:
    see :mod:`storefront.quicksave`): nothing is deleted, and the manifest gets only the claims
    of new files; that build then finds these files in place and records them."""
    with _writing(output) as root:
        return _write_locked(output, root, items, {}, {}, partial=True)


@contextlib.contextmanager
def _writing(output: Path) -> Iterator[Path]:
    """The output folder made and locked (one build at a time writes into it); its resolved path.

    A writer killed mid-write leaves its temporary files (``.tmp-PID-N.html``: every file is
    written beside its place and renamed there) in folders all over the output, where a web
    server would publish them. So a writer marks the folder (:data:`WRITING`, its process id)
    while it holds the lock and unmarks it when done, failed or not; the next writer that finds
    a mark deletes the temporary files of the process it names before it writes. Whoever holds
    the lock is the only writer, so every such file is a dead writer's, even when a new process
    has that id now (in a container the build is often the same process id every time).
    """
    make_folders(output)
    root = output.resolve()
    folder = os.open(root, os.O_RDONLY)  # lock the folder itself: no lock file in the site
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # Ctrl-C stops the wait for another build
        # held: a stop asked for meanwhile (Ctrl-C, SIGTERM) comes once every file is in place,
        # never between two of them (the folder held half of this build beside half of the last)
        with held():
            _sweep_interrupted(root)
            # written in place, not through a temporary file of its own (one left by a writer
            # killed here would be swept by nobody: no mark names it); a new file, never
            # through a link
            mark = os.open(root / WRITING, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                           0o644)
            try:
                with os.fdopen(mark, "w", encoding="utf-8") as handle:
                    handle.write(f"{os.getpid()}\n")
                yield root
            finally:
                (root / WRITING).unlink(missing_ok=True)
    finally:
        os.close(folder)


def interrupted_write(output: Path) -> bool:
    """Whether a build was killed while it wrote into ``output`` (its files are not to be
    trusted as the last manifest says, and its temporary files are still to be swept)."""
    return os.path.lexists(output / WRITING)


def _sweep_interrupted(root: Path) -> None:
    """Delete the temporary files of the writer whose mark is in ``root`` (see :func:`_writing`).
    Symbolic links are neither followed nor deleted, but for the mark itself: whatever is at
    its name goes (a link planted there, even one to nowhere, is not written through)."""
    if not os.path.lexists(root / WRITING):
        return
    try:
        with open(root / WRITING, "rb", opener=_no_follow) as handle:
            mark = handle.read(64).decode("ascii").strip()
    except (OSError, UnicodeError):
        mark = ""
    if mark.isdigit():
        writer = int(mark)
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                if temp_writer(name) == writer and _regular(path) is not None:
                    os.unlink(path)
    (root / WRITING).unlink(missing_ok=True)


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def items_from_bytes(files: Mapping[str, bytes]) -> list[WriteItem]:
    """Write items for files given as bytes (small sites, tests)."""
    return [WriteItem(path, hashlib.sha256(data).hexdigest(), len(data), data=data)
            for path, data in sorted(files.items())]


def _write_locked(output: Path, root: Path, items: Sequence[WriteItem],
                  checked: Mapping[tuple[str, str], bool], early: dict[str, Entry],
                  partial: bool = False) -> WriteReport:
    """Write ``items``: all of the site's files, the rest is deleted. ``partial``: write these
    items only (delete nothing; the manifest on disk gets only the claims of new files) and put
    what was written in ``early``, which the call with all items then takes as in place."""
    for item in items:
        safe_relative_path(item.path)  # raises UnsafePath before anything is written
    previous = {**read_manifest(root), **early}
    base = str(root)
    linked = _LinkCheck(root)
    # what the manifest says is still in place needs no other look (one lstat per file)
    same = [(early.get(item.path) or ("",))[0] == item.sha256  # written by the first part
            or (checked[item.path, item.sha256] if (item.path, item.sha256) in checked
                else unchanged_in(root, previous, item.path, item.sha256)) for item in items]
    names = {item.path for item in items}
    # a file the last build wrote where this one needs a folder goes first (it would go anyway)
    leaving = {name for name in previous if name not in names and not partial}
    problems = _files_in_the_way(output, items, linked, leaving)
    for item, kept in zip(items, same, strict=True):
        if linked.folder_of(item.path) or (not kept and linked(item.path)):
            problems.append(error_at((output / item.path).as_posix(), 0,
                                     "a symbolic link is in the way of this file",
                                     "delete the link from the output folder and build again"))
        elif not kept and linked.leaving_folder(item.path, leaving):
            continue  # the last build's folder where this one writes a file: deleted first
        elif (item.path not in previous and os.path.exists(os.path.join(base, item.path))
              and _sha256(os.path.join(base, item.path)) != item.sha256):
            problems.append(error_at(
                (output / item.path).as_posix(), 0,
                "this file was not written by storefront, and the build would replace it",
                "move it out of the output folder (or delete it) and build again"))
    if problems:
        raise BuildFailed(problems)
    copies = _copy_and_check(base, items, same)
    gone = sorted(linked.in_the_way)
    for folder in gone:
        os.unlink(os.path.join(base, folder))
    for folder, files in sorted(linked.folders_in_the_way.items()):
        for name in files:
            os.unlink(os.path.join(base, name))
        gone.extend(files)
        shutil.rmtree(os.path.join(base, folder))  # only empty folders are left in it
    manifest = dict(previous)
    if not names <= set(previous):
        # Claim the new files before writing them: if this run is interrupted, the next build
        # still knows they are ours and can clean them up.
        manifest.update({name: ("", -1, -1) for name in names - set(previous)})
        _write_manifest(root, manifest)
    written = unchanged = 0
    changed: list[str] = []
    for item, kept in zip(items, same, strict=True):
        if kept:
            unchanged += 1
            manifest[item.path] = previous[item.path]
            continue
        target = os.path.join(base, item.path)
        info = _regular(target)
        copy = copies.pop(item.path, None)
        if info is not None and info.st_size == item.size and _sha256(target) == item.sha256:
            unchanged += 1  # same bytes (an older manifest, or a touched file): keep the file
            if copy is not None:
                os.unlink(copy)
                settled(copy)
        else:
            if copy is not None:
                os.replace(copy, target)
                settled(copy)
            else:
                _write_atomic(Path(target), item)
            written += 1
            changed.append(item.path)
            info = os.lstat(target)
        manifest[item.path] = (item.sha256, info.st_size, info.st_mtime_ns)
        if partial:
            early[item.path] = manifest[item.path]
    if partial:
        return WriteReport(written, unchanged, 0, tuple(changed))
    deleted = len(gone)
    changed.extend(gone)
    for relative in sorted(set(previous) - names):
        manifest.pop(relative, None)
        try:
            safe = safe_relative_path(relative)
        except ValueError:
            continue  # a tampered manifest never makes us delete outside output/
        if linked(safe) or _regular(root / safe) is None:
            continue
        (root / safe).unlink()
        deleted += 1
        changed.append(safe)
        _remove_empty_parents((root / safe).parent, root)
    _write_manifest(root, {name: manifest[name] for name in names})
    return WriteReport(written, unchanged, deleted, tuple(changed))


def _files_in_the_way(output: Path, items: Sequence[WriteItem], linked: _LinkCheck,
                      leaving: set[str]) -> list[ContentError]:
    """Items whose folder cannot be made: a file of this build, storefront's own files or a
    file already in the output folder has its name. Found before anything is written, so the
    build stops with the folder as it was, not halfway through it. One error per folder. A file
    the last build wrote and this one does not (``leaving``) is no problem: it is noted in
    ``linked.in_the_way``, for the writer to delete first."""
    names = {item.path for item in items} | {MANIFEST, WRITING}
    problems: list[ContentError] = []
    reported: set[str] = set()
    for item in items:
        for folder in folders_of(item.path):
            if folder in reported or not (folder in names or linked.file_at(folder)):
                continue
            if folder in leaving and folder not in names and _regular(os.path.join(linked.root, folder)):
                linked.in_the_way.add(folder)
                continue
            reported.add(folder)
            problems.append(error_at((output / item.path).as_posix(), 0,
                                     f"{(output / folder).as_posix()} is a file, not a folder",
                                     "no address of the site can be inside another one's file; "
                                     "move that file out of the output folder if storefront "
                                     "did not write it, and build again"))
    return problems


class _LinkCheck:
    """Whether any part of a path below ``root`` (the file included) is a symbolic link; each
    folder is looked at once per build."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.folders: dict[str, bool] = {}
        self.modes: dict[str, int] = {}
        self.in_the_way: set[str] = set()  # files of the last build where this one needs folders
        # folders where this build writes files, and the last build's files in them
        self.folders_in_the_way: dict[str, list[str]] = {}

    def leaving_folder(self, folder: str, leaving: set[str]) -> bool:
        """Whether ``folder`` is a folder of files of the last build that this one does not
        write (``leaving``), and nothing else but folders: then it is noted in
        ``folders_in_the_way`` for the writer to delete first, as its files would be anyway."""
        if not leaving or not os.path.isdir(os.path.join(self.root, folder)) or self(folder):
            return False
        files: list[str] = []
        for parent, folders, names in os.walk(os.path.join(self.root, folder)):
            for name in names + [name for name in folders
                                 if os.path.islink(os.path.join(parent, name))]:
                relative = os.path.relpath(os.path.join(parent, name), self.root)
                if relative not in leaving or _regular(os.path.join(parent, name)) is None:
                    return False
                files.append(relative)
        if not files:
            return False
        self.folders_in_the_way[folder] = files
        return True

    def file_at(self, folder: str) -> bool:
        """Whether something that is neither a folder nor a link has the name of ``folder``."""
        mode = self._mode(folder)
        return not (stat.S_ISDIR(mode) or stat.S_ISLNK(mode))

    def _mode(self, folder: str) -> int:
        """The type of what has the name ``folder`` (a folder when nothing has it), looked at once."""
        known = self.modes.get(folder)
        if known is None:
            try:
                known = os.lstat(os.path.join(self.root, folder)).st_mode
            except OSError:
                known = stat.S_IFDIR
            self.modes[folder] = known
        return known

    def __call__(self, relative: str) -> bool:
        return self.folder_of(relative) or os.path.islink(os.path.join(self.root, relative))

    def folder_of(self, relative: str) -> bool:
        """Whether a folder the file is in (below the root) is a symbolic link."""
        return self._folder(relative.rpartition("/")[0])

    def _folder(self, folder: str) -> bool:
        if not folder:
            return False
        known = self.folders.get(folder)
        if known is None:
            parent = folder.rpartition("/")[0]
            known = self._folder(parent) or stat.S_ISLNK(self._mode(folder))
            self.folders[folder] = known
        return known


def remove_written(output: Path) -> int:
    """Delete the files the manifest says storefront wrote (never anything else); return how many."""
    if not output.is_dir():
        return 0
    with _writing(output) as root:  # not while a build writes (its new files are not listed yet)
        linked = _LinkCheck(root)
        removed = 0
        for relative in sorted(read_manifest(root)):
            try:
                safe = safe_relative_path(relative)
            except ValueError:
                continue
            if linked(safe) or _regular(root / safe) is None:
                continue
            (root / safe).unlink()
            removed += 1
            _remove_empty_parents((root / safe).parent, root)
        (root / MANIFEST).unlink(missing_ok=True)
    return removed


def _regular(path: Path | str) -> os.stat_result | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _sha256(path: Path | str) -> str:
    hasher = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
    except OSError:
        return ""
    return hasher.hexdigest()


def _write_manifest(root: Path, manifest: dict[str, Entry]) -> None:
    data = {"format": FORMAT, "files": {name: list(manifest[name]) for name in sorted(manifest)}}
    text = json.dumps(data, separators=(",", ":")).encode("utf-8")
    try:
        if (root / MANIFEST).read_bytes() == text:
            return  # unchanged: a build with nothing to do touches nothing
    except OSError:
        pass
    write_atomic(root / MANIFEST, text)
    _remember(root / MANIFEST, dict(manifest))


def _remember(path: Path, manifest: dict[str, Entry]) -> None:
    """Keep the manifest just written as the last one read (its file's identity is new)."""
    identity = manifest_identity(path.parent)
    if identity is not None:
        with _last_lock:
            _last_read[:] = [identity, manifest]


def _copy_and_check(base: str, items: Sequence[WriteItem], same: Sequence[bool]) -> dict[str, str]:
    """Copy the site's own files to write (assets, a theme's static files) beside their targets
    first, each checked against the hash the build took when it found it: output path ->
    temporary copy, renamed into place by the writer.

    A file saved again since (and saved back before the next build, an undo) would otherwise be
    published as its new bytes under the old bytes' hash: the next build would take them for the
    file and keep them, and an SVG would be published without the check for scripts its old
    bytes passed. Such a build fails before anything is renamed into place."""
    copies: dict[str, str] = {}
    moved: list[ContentError] = []
    try:
        for item, kept in zip(items, same, strict=True):
            if kept or item.data is not None or item.file is None or item.link:
                continue
            hasher = hashlib.sha256()
            fd, temp = open_temp(os.path.join(base, item.path))
            copies[item.path] = temp
            with os.fdopen(fd, "wb") as copy:
                try:
                    source = open(item.file, "rb")  # noqa: SIM115 - closed below
                except FileNotFoundError:  # deleted since: no bytes have that hash
                    hasher.update(b"gone")
                else:
                    with source:
                        while chunk := source.read(1 << 20):
                            hasher.update(chunk)
                            copy.write(chunk)
            if hasher.hexdigest() != item.sha256:
                moved.append(error_at(str(item.file), 0,
                                      "the file changed while the build was reading it",
                                      "build again (the preview does so by itself)"))
        if moved:
            raise BuildFailed(moved)
    except BaseException:
        for temp in copies.values():
            with contextlib.suppress(OSError):
                os.unlink(temp)
            settled(temp)
        raise
    return copies


def _write_atomic(target: Path, item: WriteItem) -> None:
    if item.data is not None:
        write_atomic(target, item.data)
        return
    assert item.file is not None
    # a hard link is safe for pages kept in the build cache: a later build replaces output
    # files by renaming new ones over them, never by writing into them, and the cache checks a
    # page's bytes against its name before using it again
    if item.link and link_atomic(item.file, target):
        return
    with replacing(target) as (fd, temp):
        os.close(fd)
        shutil.copyfile(item.file, temp)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent

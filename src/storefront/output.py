"""Write a built site into the output directory safely.

Stage 7, the only stage that writes. Called only after every page rendered without error, so a
failed build never touches ``output/``. Each file is written to a temp file beside it and moved
into place with ``os.replace`` (readers never see half a file); files whose bytes are unchanged are
not rewritten; files that the previous build wrote (recorded in a manifest) and this one did not
are deleted; files the builder never wrote are left alone.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from storefront.errors import BuildFailed, error_at
from storefront.urls import safe_relative_path

MANIFEST = ".storefront-manifest.json"


@dataclass(frozen=True)
class WriteReport:
    written: int
    unchanged: int
    deleted: int


def write_site(output: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Make ``output`` hold ``files`` (relative path -> bytes).

    Raises :class:`BuildFailed`, before writing anything, when a file it would write is already
    there and was not written by storefront (a hand-made robots.txt, say). One build at a time
    writes into a folder (a lock on the folder), so two builds never interleave.
    """
    output.mkdir(parents=True, exist_ok=True)
    root = output.resolve()
    folder = os.open(root, os.O_RDONLY)  # lock the folder itself: no lock file in the site
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        return _write_locked(output, root, files)
    finally:
        os.close(folder)


def _write_locked(output: Path, root: Path, files: Mapping[str, bytes]) -> WriteReport:
    check_no_links(output, root, files)
    previous = read_manifest(root)
    foreign = [
        relative for relative in sorted(files)
        if relative not in previous and _inside(root, relative).exists()
        and not _same_bytes(_inside(root, relative), files[relative])
    ]
    if foreign:
        raise BuildFailed([
            error_at((output / relative).as_posix(), 0,
                     "this file was not written by storefront, and the build would replace it",
                     "move it out of the output folder (or delete it) and build again")
            for relative in foreign
        ])
    if not set(files) <= previous:
        # Claim the new files before writing them: if this run is interrupted, the next build
        # still knows they are ours and can clean them up.
        _write_manifest(root, previous | set(files))
    written = unchanged = 0
    for relative in sorted(files):
        target = _inside(root, relative)
        data = files[relative]
        if _same_bytes(target, data):
            unchanged += 1
            continue
        write_atomic(target, data)
        written += 1
    deleted = 0
    for relative in sorted(previous - set(files)):
        try:
            target = _inside(root, relative)
        except ValueError:
            continue  # a tampered manifest never makes us delete outside output/
        if target.is_file() and not target.is_symlink():
            target.unlink()
            deleted += 1
            _remove_empty_parents(target.parent, root)
    _write_manifest(root, set(files))
    return WriteReport(written, unchanged, deleted)


def check_no_links(output: Path, root: Path, files: Mapping[str, bytes]) -> None:
    """Refuse, before writing anything, to write through a symbolic link inside ``output``.

    storefront never makes links, so one where a page goes (or in a folder above it) was put
    there by someone else, and writing through it could change files outside the output.
    """
    checked: dict[str, bool] = {}
    links: set[str] = set()
    for relative in files:
        parts = safe_relative_path(relative).split("/")
        for end in range(1, len(parts) + 1):
            inner = "/".join(parts[:end])
            if inner not in checked:
                checked[inner] = (root / inner).is_symlink()
            if checked[inner]:
                links.add(inner)
                break
    if links:
        raise BuildFailed([
            error_at((output / link).as_posix(), 0,
                     "this is a symbolic link, which storefront did not make and will not write "
                     "through", "delete the link (the build writes a real file or folder there)")
            for link in sorted(links)
        ])


def _write_manifest(root: Path, names: set[str]) -> None:
    manifest = json.dumps(sorted(names), indent=0).encode("utf-8")
    if not _same_bytes(root / MANIFEST, manifest):
        write_atomic(root / MANIFEST, manifest)


def read_manifest(root: Path) -> set[str]:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {item for item in data if isinstance(item, str)} if isinstance(data, list) else set()


def _inside(root: Path, relative: str) -> Path:
    target = root / safe_relative_path(relative)
    if root not in target.resolve().parents:
        raise ValueError(f"{relative} resolves outside {root}")
    return target


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        return target.stat().st_size == len(data) and target.read_bytes() == data
    except OSError:
        return False


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temp file in the same folder and ``os.replace``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent

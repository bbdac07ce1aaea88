"""Stamps of installed packages, made from their files' stats without importing them.

A build whose inputs did not change should cost little more than the look at its files; importing
Jinja, Markdown, Babel and lxml only to read their versions (for the build cache's key, see
:func:`storefront.fingerprints.code_fingerprint`) was a quarter of such a build in a fresh
process. The size, modification time and inode of a package's files change whenever it is
installed again: an upgrade, a downgrade, a system package's update that keeps the upstream
version (and whose bytes may differ all the same), or the same version installed anew (which
costs one clean build). Stage 0: file system only.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def package_stamp(name: str) -> str:
    """The stats of the files directly in package ``name``'s folder (or of its module's file),
    as text; "<name> missing" when it is not installed."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return f"{name} missing"
    if spec.submodule_search_locations:
        return "\n".join(stat_line(Path(folder)) for folder in spec.submodule_search_locations)
    return stat_line(Path(spec.origin)) if spec.origin else f"{name} {spec.origin}"


def stat_line(path: Path) -> str:
    """The stat of a file, or of every file directly in a folder, as text."""
    if not path.is_dir():
        info = path.stat()
        return f"{path} {info.st_size} {info.st_mtime_ns} {info.st_ino}"
    with os.scandir(path) as entries:
        found = sorted(((entry.name, entry.stat()) for entry in entries if entry.is_file()),
                       key=lambda item: item[0])
    return "\n".join(f"{path}/{name} {info.st_size} {info.st_mtime_ns} {info.st_ino}"
                     for name, info in found)

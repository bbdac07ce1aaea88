"""Versions and stamps of installed packages, found without importing them.

A build whose inputs did not change should cost little more than the look at its files; importing
Jinja, Markdown, Babel and lxml only to read their versions (for the build cache's key, see
:func:`storefront.fingerprints.code_fingerprint`) was a quarter of such a build in a fresh
process. An installed distribution's version is in the name of its metadata folder beside the
package (``jinja2-3.1.6.dist-info``, Debian's ``Jinja2-3.1.2.egg-info``): one listing of that
folder gives them all. A package found elsewhere (an editable install) is imported and asked, as
before. The version, not the files' stats, so that CI keeping the cache between runs keeps it
across the fresh installs of the same versions it makes each time.

A system's package keeps the upstream version in that name through its own updates (Debian's
python3-jinja2 went from 3.1.2-1 to 3.1.2-1+deb12u3 in three security updates, two of which
changed what the ``xmlattr`` filter accepts: ``Jinja2-3.1.2.egg-info`` throughout). Its files
keep the time of the package's build (dpkg and rpm set it), which such an update changes, and
installing the same package again does not: so for metadata no installer wrote (no
``INSTALLER`` file, which pip and uv write, giving every file the time of the install) that time
is part of the version too. Stage 0: file system only.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
from pathlib import Path


def installed_version(module: str, project: str, asked: tuple[str, str]) -> str:
    """The version of distribution ``project`` that provides ``module``, from its metadata
    folder's name; else ``asked`` (module, attribute) is imported and asked (with no attribute,
    the metadata Python finds for ``project`` is); "missing" when the module is not installed
    at all."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return "missing"
    place = (next(iter(spec.submodule_search_locations), None)
             if spec.submodule_search_locations else spec.origin)
    if place is not None:
        wanted = _normal(project)
        folder = os.path.dirname(os.path.abspath(place))
        found = []
        for entry in _metadata_folders(folder):
            name, _, version = entry.rpartition(".")[0].partition("-")
            if _normal(name) == wanted and version:
                found.append(version + _packaged(os.path.join(folder, entry)))
        if found:  # a folder left by a broken upgrade beside the new one: both, in order
            return " ".join(sorted(found))
    if not asked[1]:
        from importlib import metadata  # 0.1 s to import: only when there is no folder to read

        try:
            return metadata.version(project)
        except metadata.PackageNotFoundError:
            return "unknown"
    return str(getattr(importlib.import_module(asked[0]), asked[1]))


def _packaged(metadata: str) -> str:
    """For metadata a system's package put there (no ``INSTALLER`` file: see the module's
    docstring), " @" and the modification time of its main file (``METADATA``, ``PKG-INFO``, or
    the entry itself when it is that file); "" for an installer's, or when there is none."""
    if not os.path.isdir(metadata):
        candidates = [metadata]  # distutils' single-file egg-info
    elif os.path.lexists(os.path.join(metadata, "INSTALLER")):
        return ""
    else:
        candidates = [os.path.join(metadata, "METADATA"), os.path.join(metadata, "PKG-INFO")]
    for candidate in candidates:
        try:
            return f" @{os.stat(candidate).st_mtime_ns}"
        except OSError:
            continue
    return ""


def _normal(name: str) -> str:
    """A distribution's name as metadata folders may spell it (PEP 503, with "_")."""
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _metadata_folders(folder: str) -> tuple[str, ...]:
    try:
        return tuple(entry for entry in os.listdir(folder)
                     if entry.endswith((".dist-info", ".egg-info")))
    except OSError:
        return ()


def stat_line(path: Path) -> str:
    """The stat of a file, or of every file directly in a folder, as text (the photo libraries'
    stamp, :mod:`storefront.imagelibs`)."""
    if not path.is_dir():
        info = path.stat()
        return f"{path} {info.st_size} {info.st_mtime_ns} {info.st_ino}"
    with os.scandir(path) as entries:
        found = sorted(((entry.name, entry.stat()) for entry in entries if entry.is_file()),
                       key=lambda item: item[0])
    return "\n".join(f"{path}/{name} {info.st_size} {info.st_mtime_ns} {info.st_ino}"
                     for name, info in found)

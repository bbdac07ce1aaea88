"""A first build's output folder, made beside it while the pages render and moved into place whole.

When the output folder does not exist at all (a fresh clone in CI, a first build, a build after
``rm -rf output``) there is no previous site to keep intact, and the folders of two thousand pages
cost as much to make as a quarter of the pages' rendering. So the render workers put each page
into a staging folder beside the output folder as they render it (a hard link to the build
cache's copy, in parallel, while the parent waits for them), the write stage adds the feeds,
images and the manifest there, and one ``rename`` makes it the output folder. A build that fails
deletes the staging folder: the output folder is still absent, as it was. When the rename cannot
be done (another build made the output folder meanwhile), the write stage writes the output
folder as usual, from the build cache.

Stage 0 (file I/O only); the staging folder's name is hidden (``.output.staging-<host>-<pid>``),
and the staging folders this host's killed builds left are deleted by the next build that stages
beside them. What the workers staged is looked at before it is counted as written, so a staging
folder emptied meanwhile costs time, never files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from storefront.files import link_atomic, write_atomic


@dataclass(frozen=True)
class Staging:
    """A staging folder for ``output``, which did not exist when the build began."""

    output: Path
    folder: Path

    @classmethod
    def begin(cls, output: Path) -> Staging | None:
        """A new staging folder when nothing at all is at ``output`` (not even a broken link)
        and its parent folder exists; None otherwise (the build then writes into the output
        folder as usual, making its parents)."""
        parent = output.parent
        if os.path.lexists(output) or not parent.is_dir():
            return None
        _remove_stale(parent, output.name)
        folder = parent / f".{output.name}.staging-{_host()}-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(folder)  # this process's own, from an earlier build of a session
        folder.mkdir()
        folder.chmod(0o755)  # it becomes the output folder: as make_folders makes them
        return cls(output, folder)

    def publish(self) -> bool:
        """Move the staging folder to the output path; False when something is there now (a
        rename would replace an empty folder another build may be about to write into)."""
        if os.path.lexists(self.output):
            return False
        try:
            os.rename(self.folder, self.output)
        except OSError:
            return False
        return True

    def discard(self) -> None:
        """Delete the staging folder (a no-op once it was published)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def stage_file(source: str, target: str, data: bytes) -> tuple[int, int]:
    """Put a rendered page at ``target`` in a staging folder: a hard link to ``source`` (its
    copy in the build cache), or its bytes when there is no copy (``source`` "") or the file
    system cannot link (0644, as every output file). Returns the file's size and modification
    time, which the manifest records."""
    if not source or not link_atomic(source, target):
        write_atomic(target, data)
    info = os.lstat(target)
    return info.st_size, info.st_mtime_ns


def _host() -> str:
    """This machine's name, in the staging folder's name: a build in another container that
    shares the folder sees other process ids, and leaves the folders of other hosts alone."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"


def _remove_stale(parent: Path, name: str) -> None:
    """Delete staging folders for ``name`` left by builds of this host whose process no longer
    runs."""
    pattern = re.compile(rf"\.{re.escape(name)}\.staging-{re.escape(_host())}-([0-9]+)")
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found is None or int(found.group(1)) == os.getpid() or process_running(int(found.group(1))):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def process_running(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        return True
    return True

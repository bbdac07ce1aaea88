"""Files written whole: a temporary file beside the target, renamed over it.

A reader (a web server, the preview, a second build) sees the old file or the new one, never a
half-written one. The temporary names are the process id and a counter: cheaper than
:func:`tempfile.mkstemp`'s random names (a build writes thousands of files, and mkstemp's took a
tenth of a millisecond each), and unique because only this process uses its id for them. The
folder is made when the first attempt finds it missing, not looked at before every file.
A process killed while it writes leaves its temporary file behind: :func:`temp_writer` tells
which process a name belongs to, so that whoever cleans a folder can tell a dead writer's
file from a live one's. A process told to end at once (a render worker stopped with its build,
see :mod:`storefront.workers`) deletes the temporary files it has open first
(:func:`remove_open_temporaries`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")

_counter = itertools.count()
_open: set[str] = set()  # this process's temporary files not renamed or deleted yet


def temp_name(target: Path | str) -> str:
    """A name for a temporary file in ``target``'s folder that no other process uses."""
    folder, name = os.path.split(target)
    suffix = os.path.splitext(name)[1]
    return os.path.join(folder, f".tmp-{os.getpid()}-{next(_counter)}{suffix}")


_TEMP_NAME = re.compile(r"\.tmp-([0-9]{1,10})-[0-9]+(?:\.[^.]*)?")


def temp_writer(name: str) -> int | None:
    """The process id in a file name :func:`temp_name` made, or None for any other name."""
    found = _TEMP_NAME.fullmatch(name)
    return int(found.group(1)) if found is not None else None


def make_folders(folder: Path | str) -> None:
    """Make ``folder`` and its missing parents, each 0755 whatever the umask: a web server
    running as another user must enter them to read the 0644 files inside."""
    missing: list[str] = []
    current = os.path.abspath(folder)
    while not os.path.isdir(current) and os.path.dirname(current) != current:
        missing.append(current)
        current = os.path.dirname(current)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
            continue  # made meanwhile by another worker, which sets its mode
        os.chmod(path, 0o755)  # noqa: S103 - published folders: every user may enter them


def open_temp(target: Path | str, mode: int = 0o644) -> tuple[int, str]:
    """A new file (mode 0644 whatever the umask, as output files are read by a web server; or
    ``mode``) for writing, beside ``target``; its folders are made when missing."""
    while True:
        temp = temp_name(target)
        # noted before it exists: a signal handler runs as the system call returns, and one
        # that ends the process (a worker's SIGTERM) must know of the file the call made; one
        # that raises (the build's own process: Ctrl-C, SIGTERM) lands below, which deletes it
        _open.add(temp)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:  # left by a killed process whose id this one now has
            _open.discard(temp)
            continue
        except FileNotFoundError:
            _open.discard(temp)
            make_folders(os.path.dirname(temp))
            continue
        except BaseException as exc:
            _forget(temp, made=not isinstance(exc, OSError))
            raise
        os.fchmod(fd, mode)
        return fd, temp


def _forget(temp: str, made: bool) -> None:
    """Forget ``temp``, which the system call meant to make failed to make (an ``OSError``) or
    may have made: a stop (Ctrl-C, SIGTERM: :mod:`storefront.interrupts`) is raised in the
    build's process as the call returns, the file made and its descriptor or link not yet
    taken. The name is this process's own (its id, a new number), so deleting it is safe; only
    forgotten, it stayed in the build cache after a stopped build (1 or 2 tries in 8 of
    ``bench/signal_stress.py build``), unknown to :func:`remove_open_temporaries`."""
    if made:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    _open.discard(temp)


def settled(temp: str) -> None:
    """``temp`` (from :func:`open_temp`) was renamed into place or deleted."""
    _open.discard(temp)


def remove_open_temporaries() -> None:
    """Delete the temporary files this process is writing (it is about to end without
    unwinding: a worker's SIGTERM)."""
    for temp in list(_open):
        # a forked process inherits its parent's list: only its own names are its own
        if temp_writer(os.path.basename(temp)) == os.getpid():
            with contextlib.suppress(OSError):
                os.unlink(temp)
    _open.clear()


@contextlib.contextmanager
def replacing(target: Path | str, mode: int = 0o644) -> Iterator[tuple[int, str]]:
    """A new file beside ``target`` (see :func:`open_temp`), as its descriptor and path, renamed
    over ``target`` when the block ends, removed if the block fails."""
    fd, temp = open_temp(target, mode)
    try:
        yield fd, temp
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    finally:
        settled(temp)


def write_atomic(target: Path | str, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file in the same folder and a rename."""
    with replacing(target) as (fd, _), os.fdopen(fd, "wb") as handle:
        handle.write(data)


def link_atomic(source: Path | str, target: Path | str) -> bool:
    """A hard link to ``source`` renamed over ``target``; False when the file system cannot link
    (another device, no links: then the caller copies). Raises when ``source`` is missing."""
    while True:
        temp = temp_name(target)
        _open.add(temp)  # before it exists: see open_temp
        try:
            os.link(source, temp)
        except FileExistsError:
            _open.discard(temp)
            continue
        except FileNotFoundError:
            _open.discard(temp)
            if not os.path.exists(source):
                raise
            make_folders(os.path.dirname(temp))
            continue
        except OSError:
            _open.discard(temp)
            return False
        except BaseException:
            _forget(temp, made=True)
            raise
        break
    try:
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    finally:
        settled(temp)
    return True


def write_private_text(target: Path, write: Callable[[TextIO], T]) -> T:
    """Write a text file only its owner may read (0600 whatever the umask) through ``write``,
    whole: into a new temporary file beside it, renamed over it once complete, removed if
    ``write`` fails. For exports of the form database (leads, subscribers: personal data, as
    private as the 0600 database they come from); a shared host's other users must not read
    them."""
    with (replacing(target, 0o600) as (fd, _),
          os.fdopen(fd, "w", encoding="utf-8", newline="") as handle):
        return write(handle)

"""Who holds an outbox claim, and whether that process is still running.

Every process that sends notifications (the endpoint's sender thread, ``storefront forms send``)
first takes a *sender identity*: a lock file ``<folder>/<stem>-senders/<pid>-<random>.lock``
(``data/forms-senders/`` for ``data/forms.sqlite3``: not matched by ``forms.sqlite3*``) that it
keeps locked with ``flock`` for as long as it sends. The outbox entries it claims carry that
name. The kernel releases the lock when the process ends, however it ends (SIGKILL, a crash, an
out-of-memory kill), so any other process can tell at once a claim of a running sender (its lock
is held: leave the entries to it) from a claim of a dead one (take them over): no lease to wait
for, no heartbeat to write, no clock, no PID that could be reused, and it works when the two
processes see different PIDs (a container). The random part makes every name unique for ever.

``flock`` locks belong to an open file description, not to the process: probing a lock from the
process that holds it sees it held, and closing a descriptor drops no other lock. (SQLite's locks
on the database are POSIX locks, which behave the other way; this module never opens the
database or its ``-wal``/``-shm``.)

A missing lock file means its sender is gone: a sender removes its file when it stops, and a
probe that finds a file unlocked removes it. A sender that created its file and finds it
removed before it could lock it simply makes another.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Protocol

_NAME = re.compile(r"[0-9]{1,10}-[0-9a-f]{16}")
_SUFFIX = ".lock"


def senders_folder(database: Path) -> Path:
    """The folder of the senders' lock files, next to the database."""
    return database.with_name(database.stem + "-senders")


def sender_pid(name: str) -> int | None:
    """The process id recorded in a sender's name (for messages only: it may have been reused)."""
    return int(name.split("-", 1)[0]) if _NAME.fullmatch(name) else None


class Sender(Protocol):
    """A mail sender's name for the outbox entries it claims, and the test of other names.

    This module's lock files serve SQLite; PostgreSQL uses session advisory locks
    (:class:`storefront.forms.postgres_sender.AdvisoryLockSender`).
    """

    name: str

    def alive(self, name: str) -> bool:
        """Whether the sender ``name`` is still running (this one: until released)."""

    def release(self) -> None:
        """Stop being a sender: from now on this name counts as a stopped sender's."""

    def __enter__(self) -> Sender: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class SenderIdentity:
    """This process's name for the outbox entries it claims, held while it sends.

    Use as a context manager (or call :meth:`release`): the name is valid until then.
    """

    def __init__(self, database: Path) -> None:
        self.folder = senders_folder(database)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _remove_stale(self.folder)
        while True:
            name = f"{os.getpid()}-{secrets.token_hex(8)}"
            path = self.folder / (name + _SUFFIX)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            # a probe may hold the new file's lock for a moment (and remove the file): wait
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if _same_file(path, descriptor):
                break
            os.close(descriptor)  # removed by a probe before we locked it: make another
        self.name = name
        self._path = path
        self._descriptor: int | None = descriptor

    def alive(self, name: str) -> bool:
        """Whether the sender ``name`` is still running (this identity is, until released)."""
        if name == self.name:
            return self._descriptor is not None
        return sender_alive(self.folder, name)

    def release(self) -> None:
        """Remove the lock file, then unlock: the name now belongs to a stopped sender."""
        if self._descriptor is None:
            return
        with suppress(FileNotFoundError):
            self._path.unlink()
        os.close(self._descriptor)  # the flock goes with its last descriptor
        self._descriptor = None

    def __enter__(self) -> SenderIdentity:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def sender_alive(folder: Path, name: str) -> bool:
    """Whether the sender ``name`` still holds its lock.

    A name that is not one this module makes cannot belong to a running sender. A lock file
    that cannot be opened for another reason than its absence (permissions) counts as alive:
    when in doubt, a mail is left to its claimant rather than sent twice.
    """
    if not _NAME.fullmatch(name):
        return False
    path = folder / (name + _SUFFIX)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        # nobody holds it: its sender has stopped. Remove it while holding the lock, so a
        # sender that just created it notices and makes another.
        with suppress(FileNotFoundError):
            path.unlink()
        return False
    finally:
        os.close(descriptor)


def _remove_stale(folder: Path) -> None:
    """Remove the lock files of senders that died (they would otherwise pile up)."""
    for path in folder.glob("*" + _SUFFIX):
        sender_alive(folder, path.name[: -len(_SUFFIX)])


def _same_file(path: Path, descriptor: int) -> bool:
    try:
        on_disk = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)

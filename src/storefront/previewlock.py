"""One preview per site: the preview folder belongs to the preview that serves it.

Two ``storefront serve`` of one site (one forgotten in another terminal, a second one started on
``--port 8001`` as the busy-port message suggests) both built into ``.storefront-preview/``, each
with its own address in the pages (``og:url``, the canonical link, the feeds), and each wrote over
the other's pages: the first preview served pages made for the second, and every save was built
twice. Two previews of one site are nearly always an accident, so the second one refuses to start
and names the address of the first, which the owner can simply open.

The lock is a ``flock`` on a file in the preview folder (git ignores the folder and
``storefront clean`` deletes it, while no preview runs): the system drops the lock when the
preview's process ends, however it ends (Ctrl+C, ``kill -9``, a crash), so a killed preview never
leaves a stale lock behind. The file holds the address and process id of the preview holding it,
for the second one's message. File I/O only; the library raises, the CLI prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from storefront.errors import StorefrontError

LOCK_NAME = ".storefront-serve.lock"


class PreviewLock:
    """Held by the running preview of a site for as long as it serves."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    @classmethod
    def take(cls, folder: Path) -> PreviewLock | None:
        """The lock of the preview folder ``folder``; a :class:`StorefrontError` naming the
        preview that holds it. None when the folder cannot hold a lock (a file in its place, a
        folder that cannot be written): the build meets the same problem and shows it."""
        path = folder / LOCK_NAME
        try:
            folder.mkdir(exist_ok=True)
            if path.is_symlink():  # planted (a cloned repository can hold one): never followed,
                path.unlink()  # or the preview truncated the file it names, anywhere
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                                 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder: list[str] = []
            with contextlib.suppress(OSError):
                holder = os.read(descriptor, 4096).decode("utf-8", "replace").split()
            os.close(descriptor)
            raise StorefrontError(_running_message(holder if len(holder) == 2 else [])) from None
        except OSError:  # a file system without locks: no guard, as before
            os.close(descriptor)
            return None
        return cls(descriptor)

    def announce(self, url: str) -> None:
        """Write the preview's address (and process id) for a second preview to name."""
        if self._descriptor is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._descriptor, 0)
            os.pwrite(self._descriptor, f"{url} {os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        """Let another preview of the site start (closing the file drops the lock)."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def _running_message(holder: list[str]) -> str:
    where = (f"on {holder[0]} (process {holder[1]})" if holder
             else "(it is still starting)")
    return (f"a preview of this site is already running {where}: open it in the browser, or "
            "stop it with Ctrl+C in its terminal before starting another (two previews would "
            "write over each other's pages in .storefront-preview/)")

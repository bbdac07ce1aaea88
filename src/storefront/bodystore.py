"""Posts' bodies kept in a file while a build runs, not in its memory.

Stage 5, beside :mod:`storefront.localize`. A site of 10,000 posts holds some 60 MiB of body
HTML. Held as strings, that memory was in the build's process from parsing to the end, and again
in its render worker: a forked worker that reads a string writes to its page (CPython's reference
count), so the kernel copies it. Bodies are read by one page each (the post's own) and by the
feeds (a few posts), so they wait in a file instead: :class:`BodyStore` appends each body to a
temporary file (unlinked at once, so a killed build leaves nothing) and gives a
:class:`StoredBody`, a small value that reads it back when a template, a feed or a check asks.
A worker forked during the build inherits the open file and reads it itself.

A stored body is not a string: code that needs the HTML asks for it (``str(body)``,
:meth:`StoredBody.markup`); Jinja sees markup (``__html__``), and a template that meets one
anyway finds the markup's length and methods. Pickled (the state sent to a worker
that was not forked), it becomes the markup it stands for.
"""

from __future__ import annotations

import os
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

from markupsafe import Markup

from storefront.localize import prefix_links


class BodyStore:
    """An append-only file of bodies (UTF-8), open for the life of a build session.

    Bodies are written in batches of :data:`BATCH` bytes, not one system call each; whatever is
    pending is written before it is read. A worker forked
    with bodies pending writes them itself when it reads one: the same bytes at the same
    places as the build's process writes them later, since the file is only appended to.
    Bodies are put by the build's thread alone (the one that forks).
    """

    BATCH = 1 << 20

    def __init__(self, folder: Path | str) -> None:
        # a file with no name (Python's TemporaryFile), kept as a bare descriptor that is closed
        # with the store, or when a session nobody closed is collected
        with tempfile.TemporaryFile(dir=folder, prefix=".bodies-") as made:
            self._fd = os.dup(made.fileno())
        self._closer = weakref.finalize(self, os.close, self._fd)
        self._written = 0  # bytes in the file; those pending follow
        self._pending = bytearray()
        self._lock = threading.Lock()

    def put(self, html: str, before: object = None) -> StoredBody:
        """``html`` stored. ``before``: the body its document had until now, when a session
        reads the document again (a change to storefront.yaml reads every post again); when it
        is these very bytes in this store, that place is given back instead of a new copy (the
        file is never shrunk while the session lives)."""
        data = html.encode("utf-8")
        if (isinstance(before, StoredBody) and before._store is self
                and before._length == len(data)
                and self._read_bytes(before._offset, before._length) == data):
            return StoredBody(self, before._offset, before._length)
        with self._lock:
            offset = self._written + len(self._pending)
            self._pending += data
            if len(self._pending) >= self.BATCH:
                self._flush()
        return StoredBody(self, offset, len(data))

    @property
    def size(self) -> int:
        """The bytes stored so far (written or pending)."""
        with self._lock:
            return self._written + len(self._pending)

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        data = memoryview(self._pending)
        done = 0
        while done < len(data):
            done += os.pwrite(self._fd, data[done:], self._written + done)
        data.release()
        self._written += done
        self._pending.clear()

    def read(self, offset: int, length: int) -> str:
        return self._read_bytes(offset, length).decode("utf-8")

    def _read_bytes(self, offset: int, length: int) -> bytes:
        if offset + length > self._written:
            self.flush()
        parts = []
        while length > 0:
            chunk = os.pread(self._fd, length, offset)
            if not chunk:
                raise OSError(f"the bodies file ended {length} bytes early")
            parts.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return b"".join(parts)

    def close(self) -> None:
        with self._lock:
            self._pending.clear()
            self._closer()
            self._fd = -1  # a body read after this fails, never reads a file that took the number


class StoredBody:
    """A body in a :class:`BodyStore`, below a base path (applied as it is read, as
    :func:`~storefront.localize.localize` applies it to a body held as a string).

    Equal to another when it is the same stored bytes below the same base path: the store is
    only appended to, so equal places hold equal bodies.
    """

    __slots__ = ("_base", "_length", "_offset", "_store")

    def __init__(self, store: BodyStore, offset: int, length: int, base: str = "/") -> None:
        self._store, self._offset, self._length, self._base = store, offset, length, base

    def markup(self) -> Markup:
        html = self._store.read(self._offset, self._length)
        return Markup(prefix_links(html, self._base))  # noqa: S704 - the owner's own HTML

    def below(self, base_path: str) -> StoredBody:
        """This body with its root-relative links below ``base_path``."""
        return StoredBody(self._store, self._offset, self._length, base_path)

    def __str__(self) -> str:
        return str(self.markup())

    def __html__(self) -> str:
        return str(self.markup())

    # A template that reaches a document another way than its page's view (a theme walking
    # structured data, say) gets this value: it answers as the markup would (``|length``,
    # ``|truncate``, ``"x" in body``, ``body.striptags()``), not with a TypeError
    def __len__(self) -> int:
        return len(self.markup())

    def __contains__(self, part: str) -> bool:
        return part in self.markup()

    def __getitem__(self, index: Any) -> Markup:
        return self.markup()[index]

    def __iter__(self) -> Any:
        return iter(self.markup())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # this value's own (its slots before they are set, pickle's)
            raise AttributeError(name)
        return getattr(self.markup(), name)

    def _place(self) -> tuple[int, int, str]:
        return self._offset, self._length, self._base

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, StoredBody) and other._store is self._store
                and other._place() == self._place())

    def __hash__(self) -> int:
        return hash(self._place())

    def __reduce__(self) -> tuple[Any, ...]:
        return Markup, (str(self.markup()),)  # to a process that cannot read the file

    def __repr__(self) -> str:
        return f"<StoredBody {self._length} bytes at {self._offset}>"

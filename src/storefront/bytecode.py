"""Compiled templates kept between builds, each signed with a key that never leaves this user.

Jinja turns every template into Python code before it renders it: about 100 ms for the ten
templates a post page uses, paid by every build in a fresh process (a one-edit build included)
and 190 ms for the whole default theme. Kept in the build cache as Jinja's own bytecode cache
keeps them, they would be code that the next build runs, read from a folder that CI restores
from elsewhere (``--cache-dir``): whoever could write that folder could run anything in the
build (2674d11 removed such a cache for that reason).

Here each file carries an HMAC-SHA256 of its bytes, under a key kept outside the site and its
cache: a random key made once per user, in the user's own state folder
(``$XDG_STATE_HOME/storefront/template-key``, by default ``~/.local/state/...``; mode 0600, in a
folder only the user can enter). A file written by anyone without that key (a cache restored
in CI, another machine, a hand edit, a truncated write) fails the check and the template is
compiled from its source, as if nothing were kept. A CI job on a fresh runner makes a fresh key,
so it never uses a restored cache's templates; on the owner's machine the key stays and a build
loads them. A key the user does not own alone (another owner, a group or world bit) is not
used, nor is a key that cannot be made (no home folder, a read-only one): templates are then
compiled every time, as before.

The file's format is storefront's own, so nothing but :func:`marshal.loads` ever reads code and
only after the check: a header (the format, Python's exact version, storefront's code
fingerprint, which covers Jinja's version and the environment's settings), Jinja's key of the
template (its name and file), the SHA-1 Jinja gives its source, then the code. A template whose
source changed has another checksum and is compiled again. Nothing in a compiled template depends
on the site's config: the filters that read it are never run while compiling (see
:func:`storefront.render.template_environment`). Only a regular file of at most
:data:`MAX_SIZE` is read (a FIFO or a link put in the folder is passed over, never waited on).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import marshal
import os
import secrets
import stat
import sys
from pathlib import Path

from jinja2.bccache import Bucket, BytecodeCache

from storefront.files import temp_name, write_atomic

KEY_SIZE = 32
MAX_SIZE = 8 << 20  # a compiled template is tens of kilobytes; a bigger file is not one of ours
_FORMAT = b"storefront-bytecode 1"


def state_folder() -> Path | None:
    """The user's own folder for storefront's state (the XDG base directory rules), or None when
    there is no home folder to put it in."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if os.path.isabs(base):
        return Path(base) / "storefront"
    home = os.environ.get("HOME", "")
    return Path(home) / ".local" / "state" / "storefront" if os.path.isabs(home) else None


@functools.cache
def signing_key(folder: Path | None) -> bytes | None:
    """The user's key in ``folder`` (made there the first time), or None when it cannot be made
    or is not the user's alone. Read once per process."""
    if folder is None:
        return None
    target = folder / "template-key"
    try:
        return _read_key(target)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        temp = temp_name(target)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_SIZE))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, target)  # never over a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
        return _read_key(target)
    except OSError:
        return None


def _read_key(target: Path) -> bytes | None:
    fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        info = os.fstat(fd)
        folder = os.stat(target.parent)
        if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid()
                or info.st_mode & 0o077 or folder.st_uid != os.getuid() or folder.st_mode & 0o022):
            return None
        key = os.read(fd, KEY_SIZE + 1)
    finally:
        os.close(fd)
    return key if len(key) == KEY_SIZE else None


def signed_cache(folder: Path, code: str) -> SignedBytecodeCache | None:
    """The store of compiled templates in ``folder``, for storefront's code ``code``; None when
    this user has no key (templates are then compiled every time)."""
    key = signing_key(state_folder())
    return SignedBytecodeCache(folder, key, code) if key is not None else None


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of the regular file at ``path`` if it holds at most ``limit``; None for anything
    else (missing, a link, a FIFO that would block, a device that never ends, too big)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


class SignedBytecodeCache(BytecodeCache):
    """Jinja's bytecode cache interface over signed files (see the module's docstring)."""

    def __init__(self, folder: Path, key: bytes, code: str) -> None:
        self.folder = folder
        self._key = key
        self._header = b"\n".join([_FORMAT, sys.version.encode(), code.encode()]) + b"\n"

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def _expected(self, bucket: Bucket) -> bytes:
        """What a file must start with for this bucket: the header, which template (Jinja's key:
        its name and file, so a file moved to another's place is refused) and which source."""
        return self._header + f"{bucket.key}\n{bucket.checksum}\n".encode()

    def load_bytecode(self, bucket: Bucket) -> None:
        data = _read_regular(self.folder / bucket.key, MAX_SIZE)
        if data is None:
            return
        signature, payload = data[:32], data[32:]
        expected = self._expected(bucket)
        if not hmac.compare_digest(signature, self._sign(payload)) or \
                not payload.startswith(expected):
            return  # another key's, another version's, an older source's, or damaged
        try:
            # signed by this user's key (checked above): code this user's builds compiled
            bucket.code = marshal.loads(payload[len(expected):])  # noqa: S302
        except (EOFError, ValueError, TypeError):
            return

    def dump_bytecode(self, bucket: Bucket) -> None:
        payload = self._expected(bucket) + marshal.dumps(bucket.code)
        if len(payload) + 32 > MAX_SIZE:
            return
        with contextlib.suppress(OSError):  # a read-only cache: compiled all the same
            write_atomic(self.folder / bucket.key, self._sign(payload) + payload)

    def clear(self) -> None:
        for entry in self.folder.glob("*"):
            entry.unlink(missing_ok=True)

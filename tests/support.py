"""Helpers shared by the test modules (imported as ``support``; conftest names collide)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from storefront.cache import DATABASE, TEMP_SECONDS
from storefront.config import SiteConfig
from storefront.documents import Document
from storefront.localize import localize
from storefront.reader import ReaderSettings, read_document
from storefront.sources import Kind, SourceFile
from storefront.staging import process_running
from storefront.urls import UrlBuilder

TESTS = Path(__file__).parent
SITES = TESTS / "sites"
REPO = TESTS.parent
NPM = REPO / ".cache" / "npm" / "node_modules"


def replace_in(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a text file, which must hold it."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def extra_posts(site: Path, count: int, tagged: bool = False) -> None:
    """Add ``count`` short posts to ``site`` (enough pages for a build to use its workers)."""
    for n in range(count):
        tags = f"tags: [pane, t{n % 5}]\n" if tagged else ""
        (site / f"content/posts/2024-04-{n % 28 + 1:02d}-extra-{n}.md").write_text(
            f"---\ntitle: Extra {n}\n{tags}---\n\nTesto {n}.\n", encoding="utf-8")


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path (for exact comparisons).

    The output manifest is left out: it records when each file was written (machine state, not
    site content); tests of the writer look at it directly.
    """
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".storefront-manifest.json"
    }


def require(path: Path, how: str) -> Path:
    """Fail (never skip) when a tool that scripts/test.sh installs is missing."""
    if not path.exists():
        pytest.fail(f"{path} is missing; run `bash scripts/test.sh` (it runs: {how})")
    return path


def read_text(kind: Kind, name: str, text: str, config: SiteConfig) -> Document:
    """The document ``content/<kind>/<name>`` holding ``text``, as a build of ``config`` has it
    (read, then given the site's base path)."""
    data = text.encode("utf-8")
    source = SourceFile(kind, f"content/{kind}/{name}", data, hashlib.sha256(data).hexdigest())
    return localize(read_document(source, ReaderSettings.of(config)),
                    UrlBuilder.from_base_url(config.base_url))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_answers(port: int, timeout: float = 0.5) -> bool:
    """Something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


KILLED_WRITER = """
import os, sys, time
from storefront.files import open_temp
fd, temp = open_temp(sys.argv[1])
os.write(fd, b"the first megabyte of a photo")
print(temp, flush=True)
time.sleep(60)
"""


def killed_writer(target: Path) -> Path:
    """The temporary file a process writing ``target`` leaves when it is killed (``kill -9``)."""
    with subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)],
                          stdout=subprocess.PIPE, text=True) as writer:
        assert writer.stdout is not None
        temp = Path(writer.stdout.readline().strip())
        writer.send_signal(signal.SIGKILL)
        assert writer.wait() == -signal.SIGKILL
    assert temp.is_file() and not process_running(writer.pid)
    return temp


def check_leftovers_swept(folder: Path, build: Callable[[str], object], memo: str,
                          flat: bool = False) -> None:
    """Check that ``build(output)`` sweeps from a cache ``folder`` (``ab/`` subfolders, or the
    folder itself when ``flat``) the
    temporary files of killed writers (real ones: :func:`killed_writer`) by the cache's rules:
    a dead writer's file untouched for a while goes; a live writer's (this process's, however
    old), a dead writer's fresh one (the same id may be a live process on another machine
    sharing the cache) and other names stay; the folder is looked at once an hour (recorded as
    the cache's ``memo``), not on every build."""
    ab, cd = (folder, folder) if flat else (folder / "ab", folder / "cd")
    dead = killed_writer(ab / ("ab" + "1" * 62))
    fresh = killed_writer(cd / ("cd" + "1" * 62))
    live = ab / f".tmp-{os.getpid()}-999999"
    foreign = [ab / ".tmp-notes", folder / "ricordi" / dead.name]
    for path in (live, *foreign):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"kept?")
    old = time.time() - 2 * TEMP_SECONDS
    for path in (dead, live, *foreign):
        os.utime(path, (old, old))
    build("output")
    assert not dead.exists()
    assert fresh.exists() and live.exists() and all(path.exists() for path in foreign)
    os.utime(fresh, (old, old))
    build("second")  # within the hour: not looked at
    assert fresh.exists()
    with sqlite3.connect(folder.parent / DATABASE) as db:  # as if the hour had passed
        db.execute("DELETE FROM memos WHERE key = ?", (memo,))
    build("third")
    assert not fresh.exists() and live.exists() and all(path.exists() for path in foreign)


def wait_until(condition: Callable[[], object], seconds: float = 60.0, every: float = 0.1) -> bool:
    """Whether ``condition()`` holds within ``seconds`` (asked every ``every`` seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())

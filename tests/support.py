"""Helpers shared by the test modules (imported as ``support``; conftest names collide)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from storefront.config import SiteConfig
from storefront.documents import Document
from storefront.localize import localize
from storefront.reader import ReaderSettings, read_document
from storefront.sources import Kind, SourceFile
from storefront.urls import UrlBuilder

TESTS = Path(__file__).parent
SITES = TESTS / "sites"
REPO = TESTS.parent
NPM = REPO / ".cache" / "npm" / "node_modules"


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

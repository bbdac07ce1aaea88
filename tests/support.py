"""Helpers shared by the test modules (imported as ``support``; conftest names collide)."""

from __future__ import annotations

from pathlib import Path

import pytest

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

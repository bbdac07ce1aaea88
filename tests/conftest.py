"""Shared fixtures: fixture sites under tests/sites, a CLI runner, the golden-tree option."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from storefront.cli import main
from support import SITES

# No property test has a time limit per example: Hypothesis's default (200 ms) failed a test of
# the HTML tag reader once on a loaded machine (a slow example, not a wrong answer). Speed is
# measured by the benchmarks in bench/, never by a timed test.
settings.register_profile("storefront", deadline=None)
settings.load_profile("storefront")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite tests/golden from the current output (review the diff!)")


@pytest.fixture(autouse=True, scope="session")
def _own_state_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's state folder (where storefront.bytecode keeps its key) is one of the run's:
    the tests never write into the home folder of whoever runs them."""
    before = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    if before is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = before


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``storefront ARGS`` in-process and capture what it prints."""

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def copy_site(tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``tests/sites/NAME`` into a temp folder and return it."""

    def copy(name: str) -> Path:
        target = tmp_path / name.replace("/", "-")
        shutil.copytree(SITES / name, target)
        return target

    return copy

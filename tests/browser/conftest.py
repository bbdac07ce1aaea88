"""Fixtures for checks that judge built sites with real tools.

Two owners' sites are built once per session at a pinned moment (so holiday notices and sales
do not depend on the day the tests run): the example shop in the repository's ``content/``
(Italian, a form endpoint, a child theme) and ``tests/sites/shop-en`` (English, a static host
with no form endpoint, no opening hours, few products). Each is served over HTTP on 127.0.0.1
by a thread and opened in Debian's Chromium through Playwright (never a downloaded browser).
The tools are installed by ``scripts/test.sh``; when one is missing the test fails with the
command that installs it, it is never skipped.

Screenshots for a reviewer go to ``tests/artifacts/screenshots/`` (git-ignored; CI keeps the
folder as an artifact); the path is printed at the end of the run.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storefront.build import BuildRequest, build_site
from support import REPO, SITES, TESTS, require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a month before both shops' Christmas closures
SITE_ROOTS = {"example": REPO, "shop-en": SITES / "shop-en"}
SCREENSHOTS = TESTS / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def built_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    outputs = {}
    for name, root in SITE_ROOTS.items():
        outputs[name] = tmp_path_factory.mktemp(f"{name}-output")
        # a clean build, and no cache left in the repository's folders
        build_site(BuildRequest(root=root, output=outputs[name], now=NOW, use_cache=False))
    return outputs


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site_urls(built_sites: dict[str, Path]) -> Iterator[dict[str, str]]:
    """Each site served by a static-files-only server (a POST gets 501, as on a plain host)."""
    servers = []
    urls = {}
    for name, output in built_sites.items():
        handler = functools.partial(_QuietHandler, directory=str(output))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield urls
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="session")
def example_output(built_sites: dict[str, Path]) -> Path:
    return built_sites["example"]


@pytest.fixture(scope="session")
def example_url(site_urls: dict[str, str]) -> str:
    return site_urls["example"]


@pytest.fixture(scope="session")
def screenshots() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"screenshots of the key pages: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    require(Path(CHROMIUM), "apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()

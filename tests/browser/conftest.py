"""Fixtures for checks that judge the built example shop with real tools.

The example shop in the repository's ``content/`` is built once per session, served over HTTP on
127.0.0.1 by a thread, and opened in Debian's Chromium through Playwright (never a downloaded
browser). The tools are installed by ``scripts/test.sh``; when one is missing the test fails with
the command that installs it, it is never skipped.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from storefront.build import BuildRequest, build_site
from support import REPO, require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def example_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("example-output")
    # no cache: it would be left in the repository (.storefront-cache/ of the example shop)
    build_site(BuildRequest(root=REPO, output=output, use_cache=False))
    return output


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def example_url(example_output: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(example_output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


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

"""Edit-to-page latency of the live preview: save a post, wait until its page shows the change.

``storefront serve`` runs as its own long-lived process on a free loopback port. Each save writes
the post with a new unique marker, alternately as editors that save by rename do (a hidden temp
file in the same folder, then ``os.replace``) and in place (truncate and write). The clock starts
when the save has returned and stops when the page shows the marker, watched in one of two ways:

- ``browser`` (when Playwright and Debian's Chromium are there): a headless Chromium shows the
  post, as the owner's browser does; the preview's own script reloads it, and the clock stops at
  the first paint of the reloaded page that holds the marker, by the browser's own clock (see
  :meth:`BrowserWatch.shown`). This is what the owner waits for.
- ``poll``: a GET of the post's page every 5 ms (a new connection each time, no proxy) until the
  body holds the marker. The preview answers each GET in the process that builds, so 200 GETs a
  second also slow the build they wait for; a browser asks once, and is told.

After each save the benchmark waits as long again (plus 0.5 s) so a rebuild set off by the same
save does not land on the next one.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.005
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass(frozen=True)
class PreviewResult:
    start_seconds: float  # from launch until the first page is served
    latencies_ms: tuple[float, ...]  # the saves whose change showed, in order
    timeouts: tuple[str, ...]  # the saves whose change never showed, described
    clean_stop: bool  # the server exited within 15 s of Ctrl+C (SIGINT)


class PreviewFailed(Exception):
    """The server exited or never served; the message includes its output."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def browser_available() -> bool:
    """Whether the ``browser`` way of watching can run here."""
    import importlib.util

    return importlib.util.find_spec("playwright") is not None and os.path.exists(CHROMIUM)


_PAINTED = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const page = performance.getEntriesByType("navigation")[0];
  return performance.timeOrigin + (paint ? paint.startTime : page.domContentLoadedEventEnd);
}"""


class BrowserWatch:
    """A headless Chromium showing a page of the preview, as the owner's browser does."""

    def __init__(self, url: str) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            self._page = self._browser.new_page()
            self._page.goto(url)
        except BaseException:
            self._playwright.stop()
            raise

    def shown(self, marker: str, deadline: float) -> float | None:
        """When (``time.time()``) the page that holds ``marker`` was first painted, by the
        browser's own clock (Paint Timing's first contentful paint; else the end of
        DOMContentLoaded); None when it was not shown before ``deadline`` (``perf_counter``).
        Playwright notices the marker later than that (it polls after a navigation); the
        browser's timestamp is what the owner saw."""
        from playwright.sync_api import TimeoutError as Timeout

        try:
            self._page.wait_for_selector(f"text={marker}", state="attached",
                                         timeout=max(1.0, deadline - time.perf_counter()) * 1000)
        except Timeout:
            return None
        painted = self._page.evaluate(_PAINTED)
        return float(painted) / 1000

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._playwright.stop()


def measure_preview(command: list[str], port: int, post_file: Path, post_path: str, saves: int,
                    start_timeout: float, save_timeout: float, env: dict[str, str],
                    log_file: Path, watch: str = "poll") -> PreviewResult:
    """Start the server (``command`` must make it listen on ``port``), time ``saves`` saves,
    watched by ``watch`` (``browser`` or ``poll``: see the module's text)."""
    original = post_file.read_text(encoding="utf-8")
    browser: BrowserWatch | None = None
    with log_file.open("wb") as log:
        started = time.perf_counter()
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                  env={**env, "PYTHONUNBUFFERED": "1"})
        try:
            start_seconds = _wait_until_served(server, port, post_path, start_timeout,
                                               log_file) - started
            if watch == "browser":
                browser = BrowserWatch(f"http://127.0.0.1:{port}{post_path}")
            latencies: list[float] = []
            timeouts: list[str] = []
            for number in range(saves):
                by_rename = number % 2 == 0
                marker = f"segno{os.getpid()}x{number}"
                _save(post_file, f"{original.rstrip()}\n\nAggiornamento: {marker}.\n", by_rename)
                saved, saved_at = time.perf_counter(), time.time()
                if browser is not None:  # the browser's clock: seconds since the epoch
                    painted = browser.shown(marker, saved + save_timeout)
                    seen = None if painted is None else saved + (painted - saved_at)
                else:
                    seen = _poll_for(port, post_path, marker, saved + save_timeout, server)
                how = "rename" if by_rename else "in place"
                if seen is None:
                    timeouts.append(f"save {number + 1} ({how}) not shown after {save_timeout:.0f} s")
                    continue
                latencies.append((seen - saved) * 1000)
                time.sleep(0.5 + (seen - saved))
        finally:
            if browser is not None:
                browser.close()
            clean = _stop(server)
            post_file.write_text(original, encoding="utf-8")
    return PreviewResult(start_seconds, tuple(latencies), tuple(timeouts), clean)


def _save(path: Path, text: str, by_rename: bool) -> None:
    if by_rename:
        temp = path.with_name(f".{path.name}.bench.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    else:
        path.write_text(text, encoding="utf-8")


def _get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_until_served(server: subprocess.Popen[bytes], port: int, path: str, timeout: float,
                       log_file: Path) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise PreviewFailed(f"the preview server exited {server.returncode}:\n"
                                + log_file.read_text(encoding="utf-8", errors="replace"))
        try:
            status, _body = _get(port, path, timeout=max(1.0, deadline - time.perf_counter()))
        except OSError:
            time.sleep(0.05)
            continue
        if status == 200:
            return time.perf_counter()
        raise PreviewFailed(f"the preview answered {status} for {path}:\n"
                            + log_file.read_text(encoding="utf-8", errors="replace"))
    _stop(server)
    raise PreviewFailed(f"the preview did not serve {path} within {timeout:.0f} s:\n"
                        + log_file.read_text(encoding="utf-8", errors="replace"))


def _poll_for(port: int, path: str, marker: str, deadline: float,
              server: subprocess.Popen[bytes]) -> float | None:
    needle = marker.encode()
    while time.perf_counter() < deadline:
        try:
            _status, body = _get(port, path, timeout=max(0.1, deadline - time.perf_counter()))
        except OSError:
            body = b""
        if needle in body:
            return time.perf_counter()
        if server.poll() is not None:
            raise PreviewFailed(f"the preview server exited {server.returncode} during the saves")
        time.sleep(POLL_SECONDS)
    return None


def _stop(server: subprocess.Popen[bytes]) -> bool:
    """Ctrl+C, as the owner would; kill after 15 s. True when it stopped by itself."""
    if server.poll() is not None:
        return True
    server.send_signal(signal.SIGINT)
    try:
        server.wait(15)
        return True
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        return False

"""storefront.terminal: the progress bar shows only on a terminal, and only for long builds."""

from __future__ import annotations

import io

from storefront.terminal import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_not_a_terminal() -> None:
    log = io.StringIO()
    bar = ProgressBar(log, delay=0)
    bar("rendering", 10, 100)
    bar.close()
    assert log.getvalue() == ""


def test_no_bar_for_a_short_build() -> None:
    screen = Terminal()
    bar = ProgressBar(screen, delay=60)
    bar("rendering", 10, 100)
    bar.close()
    assert screen.getvalue() == ""


def test_a_long_build_shows_its_stage_progress_and_rate() -> None:
    screen = Terminal()
    bar = ProgressBar(screen, delay=0)
    bar("reading", 0, 1)
    bar("rendering", 512, 2048)
    bar("rendering", 1024, 2048)
    shown = screen.getvalue()
    bar.close()
    assert "rendering" in shown and "1024/2048" in shown and "pages/s" in shown
    assert "reading" in shown


def test_the_bar_starts_no_thread() -> None:
    """tqdm's monitor thread would make the build start its render workers from a fork server
    (sending them the whole site) instead of forking them holding it."""
    import threading

    bar = ProgressBar(Terminal(), delay=0)
    try:
        for done in range(0, 101, 10):
            bar("rendering", done, 100)
        monitors = [t.name for t in threading.enumerate() if type(t).__name__ == "TMonitor"]
    finally:
        bar.close()
    assert monitors == []

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

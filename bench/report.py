"""The engine benchmark's table: one row per size, the targets of issue 8 beneath, the misses.

The Pelican columns are left out when Pelican was not built (not installed, or ``--no-pelican``).

Printed as a Markdown table (plain text that also pastes into an issue note).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from measure import RunResult
from preview_latency import PreviewResult

COLUMNS = ["N", "cold s", "no-change s", "one-edit s", "preview ms p50 (p90)", "peak MiB (tree)",
           "posts/s", "hugo cold s", "cold/hugo", "no-change/hugo", "one-edit/hugo",
           "preview/hugo", "pelican cold s", "cold/pelican"]

# Issue 8, "Targets": upper bounds (cold/hugo "at most about 3x", cold/pelican "half of
# Pelican's", no-change "half of Hugo's cold")
TARGETS: dict[int, dict[str, float]] = {
    1000: {"cold": 2.4, "no_change": 0.4, "one_edit": 0.5, "preview_ms": 150, "cold_ratio": 3.0,
           "no_change_ratio": 0.5, "cold_pelican_ratio": 0.5},
    10000: {"cold": 24, "no_change": 3, "memory_mib": 400},
}


@dataclass(frozen=True)
class SizeFigures:
    posts: int
    pages: int | None  # as the cold build reported it, when it says
    cold: list[RunResult]
    no_change: list[RunResult]
    one_edit: list[RunResult]
    hugo: dict[str, list[RunResult]]  # Hugo cold builds made beside each phase
    preview: PreviewResult | None
    load: tuple[float, float]  # 1-minute load average before and after
    # photos the cold build processed (as it reported), image files in its output and in Hugo's
    # (Hugo's site copies the corpus's photos as they are: storefront's resizes and re-encodes)
    photos: tuple[int | None, int, int | None] = (None, 0, None)
    # Pelican cold builds made beside the cold builds, and the HTML files the last one wrote
    pelican: tuple[RunResult, ...] = ()
    pelican_files: int | None = None
    # microseconds to make a folder with a 20 KB file in it, as a build makes each page, in the
    # bench's folder before and after: on a virtual machine it moved 10x within minutes, with
    # every cold build's time (Hugo's too)
    creation_us: tuple[float, float] | None = None

    def median(self, name: str) -> float:
        runs: list[RunResult] = getattr(self, name)
        return statistics.median(run.seconds for run in runs)

    def median_cpu(self, name: str) -> float:
        runs: list[RunResult] = getattr(self, name)
        return statistics.median(run.cpu_seconds for run in runs)

    @property
    def hugo_runs(self) -> list[RunResult]:
        return [run for runs in self.hugo.values() for run in runs]

    def ratio(self, phase: str, seconds: float | None) -> float | None:
        """``seconds`` over the median Hugo cold build made beside ``phase`` (None without)."""
        beside = self.hugo.get(phase)
        if not beside or seconds is None:
            return None
        return seconds / statistics.median(run.seconds for run in beside)

    @property
    def pelican_ratio(self) -> float | None:
        """The cold build over the median Pelican cold build (None without Pelican)."""
        if not self.pelican:
            return None
        return self.median("cold") / statistics.median(run.seconds for run in self.pelican)

    @property
    def memory_mib(self) -> float:
        """The larger of the two memory figures of the cold builds (the one judged)."""
        return max(max(run.peak_mib, run.tree_mib) for run in self.cold)

    @property
    def preview_ms(self) -> float | None:
        if not self.preview or not self.preview.latencies_ms:
            return None
        return statistics.median(self.preview.latencies_ms)


def p90(values: tuple[float, ...]) -> float:
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def row(size: SizeFigures) -> list[str]:
    hugo = size.hugo_runs
    preview = size.preview

    def ratio(phase: str, seconds: float | None) -> str:
        value = size.ratio(phase, seconds)
        return "" if value is None else f"{value:.2f}x"

    cold = size.median("cold")
    preview_text = "skipped"
    if preview and preview.latencies_ms:
        preview_text = f"{size.preview_ms:.0f} ({p90(preview.latencies_ms):.0f})"
    if preview and preview.timeouts:
        saves = len(preview.timeouts) + len(preview.latencies_ms)
        preview_text += f", {len(preview.timeouts)}/{saves} never shown"
    peak = max(run.peak_mib for run in size.cold)
    tree = max(run.tree_mib for run in size.cold)
    preview_s = size.preview_ms / 1000 if size.preview_ms is not None else None
    return [f"{size.posts:,}", f"{cold:.2f}", f"{size.median('no_change'):.2f}",
            f"{size.median('one_edit'):.2f}", preview_text, f"{peak:.0f} ({tree:.0f})",
            f"{size.posts / cold:.0f}",
            f"{statistics.median(run.seconds for run in hugo):.2f}" if hugo else "",
            ratio("cold", cold), ratio("no_change", size.median("no_change")),
            ratio("one_edit", size.median("one_edit")), ratio("preview", preview_s),
            f"{statistics.median(run.seconds for run in size.pelican):.2f}" if size.pelican else "",
            f"{size.pelican_ratio:.2f}x" if size.pelican_ratio is not None else ""]


def target_row(targets: dict[str, float]) -> list[str]:
    def bound(key: str, unit: str = "") -> str:
        return f"≤{targets[key]:g}{unit}" if key in targets else ""

    return ["target", bound("cold"), bound("no_change"), bound("one_edit"), bound("preview_ms"),
            bound("memory_mib"), "", "", bound("cold_ratio", "x"), bound("no_change_ratio", "x"),
            "", "", "", bound("cold_pelican_ratio", "x")]


def misses(size: SizeFigures) -> list[str]:
    targets = TARGETS.get(size.posts, {})
    figures: dict[str, tuple[str, Callable[[], float | None]]] = {
        "cold": ("cold {:.2f} s", lambda: size.median("cold")),
        "no_change": ("no-change {:.2f} s", lambda: size.median("no_change")),
        "one_edit": ("one-edit {:.2f} s", lambda: size.median("one_edit")),
        "preview_ms": ("preview {:.0f} ms", lambda: size.preview_ms),
        "memory_mib": ("memory {:.0f} MiB", lambda: size.memory_mib),
        "cold_ratio": ("cold/hugo {:.2f}x", lambda: size.ratio("cold", size.median("cold"))),
        "no_change_ratio": ("no-change/hugo {:.2f}x",
                            lambda: size.ratio("no_change", size.median("no_change"))),
        "cold_pelican_ratio": ("cold/pelican {:.2f}x", lambda: size.pelican_ratio),
    }
    found = []
    for key, limit in targets.items():
        label, value = figures[key]
        measured = value()
        if measured is not None and measured > limit:
            found.append(f"{label.format(measured)} > {limit:g}")
    return found


def print_table(sizes: list[SizeFigures], runs: int, products: int) -> None:
    pelican = any(size.pelican for size in sizes)
    # without Pelican the table is the one printed before it had Pelican columns
    shown = len(COLUMNS) if pelican else COLUMNS.index("pelican cold s")
    lines = []
    for size in sizes:
        lines.append(row(size)[:shown])
        if size.posts in TARGETS:
            lines.append(target_row(TARGETS[size.posts])[:shown])
    columns = COLUMNS[:shown]
    widths = [max(len(line[k]) for line in [columns, *lines]) for k in range(shown)]

    def show(cells: list[str]) -> str:
        return "| " + " | ".join(cell.rjust(width) for cell, width in zip(cells, widths,
                                                                          strict=True)) + " |"

    print(show(columns))
    print("|" + "|".join("-" * (width + 1) + ":" for width in widths) + "|")
    for line in lines:
        print(show(line))
    plural = "s" if runs != 1 else ""
    print(f"\nmedian of {runs} run{plural}; N posts + {products} products + the example shop's "
          "pages and FAQ; times in fresh processes; ratios to Hugo's cold build"
          + (" (cold/pelican: to Pelican's)" if pelican else ""))
    for size in sizes:
        print(f"\n{size.posts:,} posts: "
              + (f"{size.pages:,} pages" if size.pages else "pages: not reported")
              + f"; cold {size.median('cold') * 1000 / size.posts:.1f} ms/post"
              + "; load average {:.1f} before, {:.1f} after".format(*size.load)
              + ("; a folder and a page file made in {:.0f} us before, {:.0f} after".format(
                  *size.creation_us) if size.creation_us else ""))
        hugo = size.hugo_runs
        hugo_cpu = statistics.median(run.cpu_seconds for run in hugo) if hugo else None
        print(f"  CPU s (user+sys): cold {size.median_cpu('cold'):.2f}, no-change "
              f"{size.median_cpu('no_change'):.2f}, one-edit {size.median_cpu('one_edit'):.2f}"
              + (f"; hugo cold {hugo_cpu:.2f} (cold CPU/hugo CPU "
                 f"{size.median_cpu('cold') / hugo_cpu:.2f}x)" if hugo_cpu else ""))
        if hugo:
            beside = ", ".join(f"{phase.replace('_', '-')} "
                               f"{statistics.median(run.seconds for run in runs):.2f}"
                               for phase, runs in size.hugo.items())
            print(f"  hugo cold s beside each phase (the ratios' base): {beside}; best "
                  f"{min(run.seconds for run in hugo):.2f}; peak "
                  f"{max(run.peak_mib for run in hugo):.0f} MiB")
        if size.pelican:
            pelican_cpu = statistics.median(run.cpu_seconds for run in size.pelican)
            print(f"  pelican cold s (beside the cold builds): "
                  f"{statistics.median(run.seconds for run in size.pelican):.2f}, best "
                  f"{min(run.seconds for run in size.pelican):.2f}; CPU {pelican_cpu:.2f} "
                  f"(cold CPU/pelican CPU {size.median_cpu('cold') / pelican_cpu:.2f}x); peak "
                  f"{max(run.peak_mib for run in size.pelican):.0f} MiB; "
                  f"{size.pelican_files or 0:,} HTML files written")
        processed, written, hugo_files = size.photos
        if processed is not None:
            print(f"  photos: the cold build processed {processed:,} into {written:,} image files "
                  "(resized copies, WebP and AVIF), CPU the Hugo site does not spend"
                  + (f": it copies its {hugo_files:,} as they are" if hugo_files is not None
                     else ""))
        if size.preview:
            print(f"  preview: ready after {size.preview.start_seconds:.1f} s"
                  + ("" if size.preview.clean_stop else
                     "; did NOT stop within 15 s of Ctrl+C")
                  + "".join(f"; {timeout}" for timeout in size.preview.timeouts))
        missed = misses(size)
        print("  missed: " + "; ".join(missed) if missed else (
            "  all targets met" if size.posts in TARGETS else "  no targets at this size"))

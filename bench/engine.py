"""Benchmark of the build engine (issue 8): storefront against Hugo and Pelican on the same corpus.

Run on demand (not part of the test suite):

    .venv/bin/python bench/engine.py [--posts 1000] [--products 300] [--sizes 1000,10000]
                                     [--runs 3] [--saves 10] [--seed 2025] [--keep DIR]
                                     [--no-preview] [--preview-watch browser|poll]
                                     [--no-hugo] [--no-pelican]

For each size N it writes the corpus of :mod:`corpus` (N posts of about 870 words, 30 tags, plus
the products) as a storefront site, a Hugo site and a Pelican site (:mod:`hugo_site`,
:mod:`pelican_site`), then measures, every build a fresh process
of the ``storefront`` command of this virtualenv (``SOURCE_DATE_EPOCH`` pinned), output outside
the site:

- cold s: a build with no output folder and no cache: the output is deleted, so is every entry of
  the site folder the corpus did not write (a cache folder, the preview folder), and
  ``--no-cache`` is passed when ``storefront build --help`` offers it;
- no-change s: a build with nothing changed after a build that left its output and cache;
- one-edit s: a build after the body of one post (the newest) got a new closing sentence;
- preview edit ms: ``storefront serve`` on a free port, started on the site with no cache and
  no preview folder; once it serves, ``--saves`` saves of the newest post, alternately by rename
  and in place; the time from the save until its page shows the change (median, and p90):
  in a headless Chromium that shows the page, as the owner's does (``--preview-watch browser``,
  the default when Playwright and Debian's Chromium are installed), or by GETs every 5 ms
  (``poll``, which the preview answers in the process that builds), see :mod:`preview_latency`;
- peak MiB: the cold build's peak memory: the largest process (kernel ``ru_maxrss``) and, in
  brackets, the whole process tree (sampled sum, for a build with worker processes), see
  :mod:`measure`;
- posts/s: N / cold s (the cold build builds the products and pages too);
- hugo cold s: ``hugo --quiet --ignoreCache`` into a fresh folder (median of all its runs). A
  Hugo build runs before each storefront build of the cold, no-change and one-edit phases, and
  before and after the preview; each storefront time is also printed as a ratio to the median
  Hugo build of its own phase, since absolute times drift on a shared 2-core machine (the load
  average is printed) while ratios of builds made side by side hold better;
- pelican cold s: when Pelican is installed (``pip install -e '.[bench]'``: the executable next to
  this Python, else ``python -m pelican`` when importable), ``pelican --ignore-cache --quiet`` into
  a fresh folder, the site folder cleared of whatever a build left (a cache, bytecode), once before
  each storefront cold build, right after Hugo's (median of its runs);
- cold/pelican: the cold build over the median Pelican build (issue 8: "half of Pelican's", 0.5x).

Python may write its bytecode cache (``PYTHONDONTWRITEBYTECODE`` is removed from the builds'
environment): an installed storefront has its ``.pyc`` files, and compiling every module in each
timed run (about 0.07 s) would measure the machine's setting rather than storefront.

Beneath the table: pages built, cold ms/post, the CPU time (user+sys) of each kind of build,
which the load of the machine stretches far less than wall time, and the photos the cold build
processed (the Hugo and Pelican sites copy the same photos without resizing or re-encoding them,
so that part of storefront's cold time has no counterpart in theirs), and Pelican's figures: its
time, CPU time, memory and the HTML files it wrote. Each time is the median of
``--runs``. Below each size with targets in issue 8 (1,000 and 10,000)
a row shows them, and the figures that miss one are listed. A failing build prints its output and
exits 1; so does the preview when a save never shows. ``--keep DIR`` keeps the sites and outputs
(a new or empty folder); the corpus alone is ``bench/corpus.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import corpus as corpus_module
from corpus import Corpus, Post, make_corpus, post_source, tree_digest, write_storefront_site
from hugo_site import write_hugo_site
from measure import CommandFailed, RunResult, run_measured
from pelican_site import write_pelican_site
from preview_latency import (
    PreviewFailed,
    PreviewResult,
    browser_available,
    free_port,
    measure_preview,
)
from report import SizeFigures, print_table

STOREFRONT_ENTRIES = {"storefront.yaml", "themes", "content"}
HUGO_ENTRIES = {"config.toml", "layouts", "static", "content"}
PELICAN_ENTRIES = {"pelicanconf.py", "theme", "content"}


@dataclass(frozen=True)
class Setup:
    storefront: list[str]
    hugo: str | None
    pelican: list[str] | None
    build_flags: frozenset[str]
    runs: int
    saves: int
    env: dict[str, str]
    watch: str = "poll"  # how the preview's page is watched (see preview_latency)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--sizes", help="comma-separated post counts, e.g. 1000,10000 "
                        "(instead of --posts)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--saves", type=int, default=10, help="saves timed in the preview")
    parser.add_argument("--seed", type=int, default=corpus_module.SEED)
    parser.add_argument("--keep", type=Path, help="keep the sites and outputs in this folder")
    parser.add_argument("--no-preview", action="store_true", help="skip the preview figure")
    parser.add_argument("--preview-watch", choices=("browser", "poll"),
                        help="how the preview's page is watched: a headless Chromium (the "
                        "default when Playwright and /usr/bin/chromium are there) or GETs every "
                        "5 ms")
    parser.add_argument("--no-hugo", action="store_true", help="skip Hugo even when installed")
    parser.add_argument("--no-pelican", action="store_true",
                        help="skip Pelican even when installed")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")] if args.sizes else [args.posts]
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: the folder is not empty")
    setup = make_setup(args)
    note(f"storefront: {' '.join(setup.storefront)}; build flags used: "
         f"{'--no-cache' if '--no-cache' in setup.build_flags else '(no --no-cache)'}; "
         f"hugo: {setup.hugo or 'not found, no ratios'}; "
         f"pelican: {' '.join(setup.pelican) if setup.pelican else 'not found'}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="storefront-bench-"))
    try:
        figures = [bench_size(setup, work / f"n{size}", make_corpus(size, args.products, args.seed),
                              preview=not args.no_preview) for size in sizes]
    except CommandFailed as failed:
        result = failed.result
        print(f"FAILED ({result.code}): {' '.join(result.command)}\n{result.stdout}{result.stderr}",
              file=sys.stderr)
        return 1
    except PreviewFailed as failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(figures, runs=setup.runs, products=args.products)
    lost = [size for size in figures if size.preview and size.preview.timeouts]
    return 1 if lost else 0


def make_setup(args: argparse.Namespace) -> Setup:
    command = Path(sys.executable).with_name("storefront")
    storefront = [str(command)] if command.exists() else [sys.executable, "-m", "storefront"]
    help_text = subprocess.run([*storefront, "build", "--help"], capture_output=True, text=True,
                               check=True).stdout
    flags = frozenset(re.findall(r"--[a-z][a-z-]*", help_text))
    hugo = None if args.no_hugo else shutil.which("hugo")
    pelican = None if args.no_pelican else _pelican_command()
    # bytecode as an installed storefront has it (pip compiles it at install time): without
    # this, a machine with PYTHONDONTWRITEBYTECODE=1 compiles ~300 modules in every timed run
    env = {name: value for name, value in os.environ.items()
           if name != "PYTHONDONTWRITEBYTECODE"}
    env["SOURCE_DATE_EPOCH"] = corpus_module.SOURCE_DATE_EPOCH
    subprocess.run([*storefront, "build", "--help"], capture_output=True, env=env, check=True)
    watch = args.preview_watch or ("browser" if browser_available() else "poll")
    return Setup(storefront, hugo, pelican, flags, args.runs, args.saves, env, watch)


def _pelican_command() -> list[str] | None:
    """Pelican of this Python's environment (the ``bench`` extra), or None when not installed."""
    command = Path(sys.executable).with_name("pelican")
    if command.exists():
        return [str(command)]
    if importlib.util.find_spec("pelican") is not None:
        return [sys.executable, "-m", "pelican"]
    return None


def creation_cost(folder: Path, count: int = 500) -> float:
    """Microseconds to make a folder holding a 20 KB file, as a build writes each page (median
    of ``count``, made in ``folder`` and deleted after): the file system's share of a cold build,
    which moves on its own on a shared machine."""
    probe = Path(tempfile.mkdtemp(prefix="creation-probe-", dir=folder))
    data = b"x" * 20_000
    times = []
    try:
        for index in range(count):
            start = time.perf_counter()
            page = probe / str(index)
            page.mkdir()
            (page / "index.html").write_bytes(data)
            times.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    return statistics.median(times) * 1e6


def note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def bench_size(setup: Setup, folder: Path, corpus: Corpus, preview: bool) -> SizeFigures:
    return SizeBench(setup, folder, corpus).run(preview)


class SizeBench:
    """The measurements of one corpus size, with a Hugo cold build beside each phase.

    Hugo builds run interleaved with the storefront builds of every phase (cold, no-change,
    one-edit; before and after the preview), so each ratio compares builds made under the same
    load, even when the load of the machine changes during the benchmark. Pelican's cold builds
    run interleaved with storefront's cold builds the same way.
    """

    def __init__(self, setup: Setup, folder: Path, corpus: Corpus) -> None:
        self.setup, self.folder, self.corpus, self.size = setup, folder, corpus, len(corpus.posts)
        self.site, self.hugo_site = folder / "storefront", folder / "hugo"
        self.out, self.hugo_out = folder / "output", folder / "hugo-output"
        self.pelican_site, self.pelican_out = folder / "pelican", folder / "pelican-output"
        self.hugo: dict[str, list[RunResult]] = {}
        self.pelican: list[RunResult] = []
        write_storefront_site(corpus, self.site)
        write_hugo_site(corpus, self.hugo_site)
        digests = (f"storefront site sha256 {tree_digest(self.site)[:16]}, "
                   f"hugo site {tree_digest(self.hugo_site)[:16]}")
        if setup.pelican:
            write_pelican_site(corpus, self.pelican_site)
            digests += f", pelican site {tree_digest(self.pelican_site)[:16]}"
        note(f"[{self.size}] corpus seed {corpus.seed}: {digests}")

    def run(self, preview: bool) -> SizeFigures:
        setup, runs = self.setup, range(1, self.setup.runs + 1)
        load_before = os.getloadavg()[0]
        creation_before = creation_cost(self.folder)
        build = [*setup.storefront, "--root", str(self.site), "build", "--output", str(self.out)]
        cold_build = [*build, "--no-cache"] if "--no-cache" in setup.build_flags else build
        cold = []
        for run in runs:
            self.hugo_cold("cold")
            self.pelican_cold(run)
            removed = _reset(self.site, STOREFRONT_ENTRIES, self.out)
            cold.append(self.timed(cold_build, "cold", run))
            if removed:
                note(f"    (removed first from the site folder: {', '.join(removed)})")
        _check_posts(self.out, self.corpus, "storefront")
        if setup.hugo:
            _check_posts(self.hugo_out, self.corpus, "hugo")
        pelican_files = None
        if setup.pelican:
            _check_posts(self.pelican_out, self.corpus, "pelican")
            pelican_files = sum(1 for _ in self.pelican_out.rglob("*.html"))
        if cold_build != build:
            run_measured(build, setup.env)  # a build that leaves its cache for the next ones
        no_change = []
        for run in runs:
            self.hugo_cold("no_change")
            no_change.append(self.timed(build, "no-change", run))
        newest = self.corpus.posts[-1]
        source = post_source(self.site, newest)
        page = self.out / newest.url.lstrip("/") / "index.html"
        original = source.read_text(encoding="utf-8")
        one_edit = []
        for run in runs:
            self.hugo_cold("one_edit")
            marker = f"refuso{run}corretto"
            source.write_text(f"{original.rstrip()}\n\nCorretto un {marker}.\n", encoding="utf-8")
            one_edit.append(self.timed(build, "one-edit", run))
            if marker not in page.read_text(encoding="utf-8"):
                raise SystemExit(f"the one-edit build did not update {page}")
        source.write_text(original, encoding="utf-8")
        result = None
        if preview:
            self.hugo_cold("preview")
            result = _preview(setup, self.site, self.folder, newest,
                              statistics.median(r.seconds for r in cold))
            self.hugo_cold("preview")
        pages = re.search(r"built (\d+) pages", cold[-1].stdout)
        processed = re.search(r"(\d+) images processed", cold[-1].stdout)
        photos = (int(processed.group(1)) if processed else None, _image_files(self.out),
                  _image_files(self.hugo_out) if self.setup.hugo else None)
        return SizeFigures(self.size, int(pages.group(1)) if pages else None, cold, no_change,
                           one_edit, self.hugo, result, (load_before, os.getloadavg()[0]),
                           photos, tuple(self.pelican), pelican_files,
                           (creation_before, creation_cost(self.folder)))

    def hugo_cold(self, phase: str) -> None:
        if not self.setup.hugo:
            return
        _reset(self.hugo_site, HUGO_ENTRIES, self.hugo_out)
        result = run_measured([self.setup.hugo, "--quiet", "--ignoreCache", "-s",
                               str(self.hugo_site), "-d", str(self.hugo_out)], self.setup.env)
        self.hugo.setdefault(phase, []).append(result)
        note(f"[{self.size}] hugo cold ({phase}): {result.seconds:.2f} s, "
             f"CPU {result.cpu_seconds:.2f} s, {result.peak_mib:.0f} MiB")

    def pelican_cold(self, run: int) -> None:
        if not self.setup.pelican:
            return
        _reset(self.pelican_site, PELICAN_ENTRIES, self.pelican_out)
        result = run_measured([*self.setup.pelican, str(self.pelican_site / "content"),
                               "--settings", str(self.pelican_site / "pelicanconf.py"),
                               "--output", str(self.pelican_out), "--ignore-cache", "--quiet",
                               "--fatal", "errors"], self.setup.env, cwd=self.pelican_site)
        self.pelican.append(result)
        note(f"[{self.size}] pelican cold {run}/{self.setup.runs}: {result.seconds:.2f} s, "
             f"CPU {result.cpu_seconds:.2f} s, {result.peak_mib:.0f} MiB")

    def timed(self, command: list[str], label: str, run: int) -> RunResult:
        result = run_measured(command, self.setup.env)
        note(f"[{self.size}] storefront {label} {run}/{self.setup.runs}: {result.seconds:.2f} s, "
             f"CPU {result.cpu_seconds:.2f} s, {result.peak_mib:.0f} MiB "
             f"(tree {result.tree_mib:.0f})")
        return result


def _preview(setup: Setup, site: Path, folder: Path, post: Post,
             cold_seconds: float) -> PreviewResult:
    _reset(site, STOREFRONT_ENTRIES, None)
    port = free_port()
    result = measure_preview(
        [*setup.storefront, "--root", str(site), "serve", "--port", str(port)], port,
        post_source(site, post), post.url, setup.saves,
        start_timeout=max(120.0, 20 * cold_seconds), save_timeout=max(60.0, 10 * cold_seconds),
        env=setup.env, log_file=folder / "preview.log", watch=setup.watch)
    note(f"[preview] started in {result.start_seconds:.1f} s; saves (ms, watched by "
         f"{setup.watch}): "
         + ", ".join(f"{ms:.0f}" for ms in result.latencies_ms)
         + "".join(f"; {timeout}" for timeout in result.timeouts)
         + ("" if result.clean_stop else "; did NOT stop within 15 s of Ctrl+C"))
    return result


def _reset(site: Path, keep: set[str], output: Path | None) -> list[str]:
    """Delete ``output`` and whatever a build left in ``site``; return the names removed."""
    if output is not None:
        shutil.rmtree(output, ignore_errors=True)
    removed = []
    for entry in sorted(site.iterdir()):
        if entry.name in keep:
            continue
        removed.append(entry.name)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return removed


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"}


def _image_files(out: Path) -> int:
    return sum(1 for path in out.rglob("*") if path.suffix.lower() in IMAGE_SUFFIXES)


def _check_posts(out: Path, corpus: Corpus, who: str) -> None:
    """Every post has its page at the URL the corpus links to (a fair, complete build)."""
    missing = [post.url for post in corpus.posts
               if not (out / post.url.lstrip("/") / "index.html").is_file()]
    if missing:
        raise SystemExit(f"{who}: {len(missing)} post pages missing, e.g. {missing[0]}")


if __name__ == "__main__":
    sys.exit(main())

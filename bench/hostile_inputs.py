"""Benchmark: hostile inputs, and the worst inputs that stay under the builder's limits.

Run on demand (not part of the test suite):

    .venv/bin/python bench/hostile_inputs.py                 # every case
    .venv/bin/python bench/hostile_inputs.py list-2000 tags  # cases whose name contains a word
    .venv/bin/python bench/hostile_inputs.py --code /path/to/other/src --timeout 120

Each case is a throw-away mini-site built by ``python -m storefront build`` in its own process,
with its address space limited (``--memory``, default 2 GiB) and a wall-clock ``--timeout``.
Printed per case: the exit status (``TIMEOUT``, or ``KILLED`` when it ran out of memory), wall
and CPU seconds, the peak resident memory and the first line of the error. ``over-*`` cases break
a limit (they must fail fast, exit 1, naming file and line); ``under-*`` cases sit just below the
limits with the most expensive content found for each one (they must build, within seconds).
``--code`` builds with another checkout's ``src`` folder (the code before a change, say); the
cases and limits are always this checkout's.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from storefront import limits

CONFIG = "title: Bench\nbase_url: https://bench.example/\nlanguage: it\n"
FRONT = "title: Prova\ndate: 2024-05-01\n"
KIB = 1024


def post(body: str, front: str = FRONT) -> dict[str, str]:
    return {"content/posts/prova.md": f"---\n{front}---\n\n{body}\n"}


def product(front: str) -> dict[str, str]:
    return {"content/products/vaso.md": f"---\ntitle: Vaso\nprice: 12\n{front}---\n\nTesto.\n"}


def compressed_svg(size: int) -> dict[str, str | bytes]:
    """A .svgz of the tiniest elements (the check's costliest content), ``size`` bytes once
    decompressed, in a few KB."""
    start, end = b'<svg xmlns="http://www.w3.org/2000/svg">', b"</svg>\n"
    text = start + b"<g/>" * ((size - len(start) - len(end)) // 4) + end
    return {"content/assets/mappa.svgz": gzip.compress(text, 9, mtime=0)}


def theme(files: dict[str, str]) -> dict[str, str]:
    return {"storefront.yaml": CONFIG + "theme: prova\n", "themes/prova/theme.yaml": "name: prova\n",
            **{f"themes/prova/{name}": text for name, text in files.items()}}


def alias_bomb(levels: int) -> str:
    """The classic "billion laughs": each level is nine aliases of the one before."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        previous, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def fill(unit: str, size: int = limits.MAX_FILE_BYTES - 2 * KIB) -> str:
    """``unit`` repeated to just under ``size`` bytes."""
    return unit * (size // len(unit.encode("utf-8")))


def blocks(line: str, lines_per_block: int, total_lines: int = limits.MAX_LINES - 10) -> str:
    """Blocks of ``line`` separated by blank lines, within the line limits."""
    block = "\n".join([line] * lines_per_block) + "\n\n"
    return block * (total_lines // (lines_per_block + 1))


def marks_blocks(unit: str, marks_per_unit: int) -> str:
    """Paragraphs as full of ``unit`` as the inline-marks limits allow."""
    paragraph = unit * (limits.MAX_BLOCK_MARKS // marks_per_unit) + "\n\n"
    return paragraph * (limits.MAX_MARKS // limits.MAX_BLOCK_MARKS)


def bracket_scan() -> str:
    """Unclosed "[" followed by as much text as the bracket budget allows them to scan."""
    opening = limits.MAX_BLOCK_MARKS // 2  # scanning costs opening**2 / 2 + opening * tail
    tail = (limits.MAX_BRACKET_SCAN - opening * opening // 2) // opening - 10
    return "[" * opening + "a" * tail + "\n"


def tag_scan() -> str:
    """"<b" never closed, each followed by text: every one is scanned to the end of the file."""
    count, text_after = 99, 2_000  # 99 * 100 / 2 * 2,000 is just under the budget
    assert count * (count + 1) // 2 * text_after < limits.MAX_TAG_SCAN
    return ("<b " + "x" * text_after + "\n\n") * count


def deep_list() -> str:
    unit = "".join("    " * level + "- a\n" for level in range(limits.MAX_NESTING)) + "\n"
    return fill(unit, min(limits.MAX_FILE_BYTES, 400 * KIB))


def deep_html() -> str:
    depth = limits.MAX_NESTING
    unit = '<div markdown="1">\n\n' * depth + "*a*\n\n" + "</div>\n\n" * depth
    return unit * (limits.MAX_LINES // unit.count("\n"))


CASES: dict[str, Callable[[], dict[str, str] | dict[str, str | bytes]]] = {
    # -- the inputs of issue 7, over the limits -------------------------------------------------
    "over-list-260": lambda: post("".join("    " * n + "- a\n" for n in range(260))),
    "over-list-2000": lambda: post("".join("    " * n + "- a\n" for n in range(2000))),
    "over-markdown-div-400": lambda: post('<div markdown="1">\n\n' * 400 + "a\n\n" + "</div>\n\n" * 400),
    "over-brackets-20000": lambda: post("[" * 20_000),
    "over-post-50MB": lambda: post(("Lorem ipsum dolor sit amet, consectetur. " * 2 + "\n") * 600_000),
    "over-strings-alias-bomb": lambda: theme({"strings/it.yaml": alias_bomb(9)}),
    "over-front-matter-alias-bomb": lambda: post("x", FRONT + alias_bomb(9)),
    "over-tags-int": lambda: post("x", FRONT + "draft: !!int abc\n"),
    "over-tags-bool": lambda: post("x", FRONT + "draft: !!bool maybe\n"),
    "over-tags-timestamp": lambda: post("x", "title: Prova\ndate: !!timestamp 2024-13-45\n"),
    "over-tags-python": lambda: post("x", "title: !!python/name:os.system x\ndate: 2024-05-01\n"),
    "over-tags-config": lambda: {"storefront.yaml": CONFIG + "page_size: !!int abc\n"},
    "over-number-5000-digits": lambda: product("order: " + "1" * 5000 + "\n"),
    "over-tag-name-400": lambda: post("x", FRONT + "tags: [" + "a" * 400 + "]\n"),
    "over-tags-3000": lambda: post("x", FRONT + "tags: [" + ", ".join(
        f"t{n}" for n in range(3000)) + "]\n"),
    "over-file-size": lambda: post(fill("Una pagina lunga, ma non troppo.\n\n", limits.MAX_FILE_BYTES + KIB)),
    "over-marks": lambda: post(("*a* " * 500 + "\n\n") * (limits.MAX_MARKS // 1000 + 1)),
    "over-theme-strings": lambda: theme({"strings/it.yaml": "".join(
        f"extra_{n}: {'x' * 990}\n" for n in range(limits.MAX_THEME_STRINGS // 1000 + 10))}),
    "over-svgz-bomb": lambda: compressed_svg(limits.MAX_SVG_BYTES + KIB),
    "over-yaml-nesting": lambda: {"storefront.yaml": CONFIG + "menu: " + "[" * 100 + "]" * 100 + "\n"},
    # -- the most expensive content found under each limit -------------------------------------
    "under-prose": lambda: post(fill("La maiolica nasce dall'argilla rossa e dallo *smalto* bianco, "
                                     "con i [colori](/) stesi a pennello. " * 6 + "\n\n")),
    "under-paragraphs": lambda: post(blocks("a", 1)),
    "under-footnotes": lambda: post("".join(f"Testo[^{n}].\n\n[^{n}]: nota\n\n"
                                            for n in range(limits.MAX_LINES // 4 - 10))),
    "under-rules": lambda: post(blocks("---", limits.MAX_BLOCK_LINES)),
    "under-setext": lambda: post(blocks("-", limits.MAX_BLOCK_LINES)),
    "under-list-items": lambda: post(blocks("- a", limits.MAX_BLOCK_LINES)),
    "under-table-rows": lambda: post(("| a | b |\n|---|---|\n" + "| [x](/) | *z* |\n" * 300
                                      + "\n") * 16),
    "under-table-columns": lambda: post(blocks("|a" * (limits.MAX_TABLE_COLUMNS - 1), 3, 1_200)),
    "under-emphasis": lambda: post(marks_blocks("*a* ", 2)),
    "under-code-spans": lambda: post(marks_blocks("`a` ", 2)),
    "under-links": lambda: post(marks_blocks("[a](/) ", 1)),
    "under-quotes": lambda: post(marks_blocks("'a\" ", 2)),
    "under-entities": lambda: post(marks_blocks("&amp; ", 1)),
    "under-line-breaks": lambda: post(blocks("a  ", limits.MAX_BLOCK_LINES)),
    "under-bracket-scan": lambda: post(bracket_scan()),
    "under-nested-brackets": lambda: post(("[" * 990 + "]" * 990 + "\n\n") * 2),
    "under-link-parens": lambda: post("[a](" * 990 + "\n"),
    "under-tag-scan": lambda: post(tag_scan()),
    "under-deep-lists": lambda: post(deep_list()),
    "under-deep-html": lambda: post(deep_html()),
    "under-yaml-aliases": lambda: post("x", FRONT + "author: &s " + "a" * 100 + "\ntags: ["
                                       + ", ".join(["*s"] * (limits.MAX_YAML_EXPANSION // 110))
                                       + "]\n"),
    "under-svgz": lambda: compressed_svg(limits.MAX_SVG_BYTES),
    "under-tags": lambda: post("x", FRONT + "tags: [" + ", ".join(
        f"{n:03}" + "a" * (limits.MAX_NAME_LENGTH - 3) for n in range(limits.MAX_TAGS)) + "]\n"),
    "under-theme-strings": lambda: theme({"strings/it.yaml": "".join(
        f"extra_{n}: {'x' * 990}\n" for n in range(limits.MAX_THEME_STRINGS // 1000 - 10))}),
}


def write_site(root: Path, files: dict[str, str] | dict[str, str | bytes]) -> None:
    (root / "storefront.yaml").write_text(CONFIG, encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def measure(root: Path, memory: int, timeout: float,
            code: str | None = None) -> tuple[str, float, float, float, str]:
    """Build ``root`` in a child process; (status, wall s, CPU s, peak RSS MiB, first error)."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a long report never blocks
        process = subprocess.Popen(
            [sys.executable, "-m", "storefront", "--root", str(root), "build"],
            stdout=subprocess.DEVNULL, stderr=errors, preexec_fn=limit_memory,
            env={**os.environ, "PYTHONPATH": code} if code else None)
        status = ""
        while True:
            pid, code_status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > started + timeout:
                process.kill()
                pid, code_status, usage = os.wait4(process.pid, 0)
                status = "TIMEOUT"
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(code_status)
        errors.seek(0)
        error = errors.read().decode("utf-8", "replace")
    if not status:
        status = "KILLED" if process.returncode < 0 or "MemoryError" in error else str(
            process.returncode)
    first = next((line for line in error.splitlines() if line.strip()), "")
    return status, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run the cases whose name contains one of these")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--memory", type=int, default=2048, help="address-space limit, MiB")
    parser.add_argument("--code", help="the src folder of the storefront to measure")
    args = parser.parse_args()
    print(f"{'case':30s} {'exit':>7s} {'wall s':>7s} {'CPU s':>7s} {'RSS MiB':>8s}  first error")
    for name, make in CASES.items():
        if args.only and not any(word in name for word in args.only):
            continue
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            write_site(root, make())
            status, wall, cpu, rss, first = measure(root, args.memory * 1024 * 1024, args.timeout,
                                                    args.code)
        print(f"{name:30s} {status:>7s} {wall:7.1f} {cpu:7.1f} {rss:8.0f}  {first[:100]}", flush=True)


if __name__ == "__main__":
    main()

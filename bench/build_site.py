"""Benchmark: build a generated shop of N posts and products, cold and warm; print the figures.

Run on demand (not part of the test suite):

    .venv/bin/python bench/build_site.py --posts 1000 --products 300

Prints the wall time of a first build into an empty output folder, of a second build with nothing
changed (every file compared, none rewritten), pages per second, and the peak memory (RSS).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from storefront.build import BuildRequest, build_site

REPO = Path(__file__).resolve().parents[1]
TAGS = ["smalti", "forno", "tornio", "tavola", "eventi", "bottega", "novità", "montelupo"]


def make_site(root: Path, posts: int, products: int) -> None:
    shutil.copy(REPO / "storefront.yaml", root / "storefront.yaml")
    shutil.copytree(REPO / "themes", root / "themes")
    shutil.copytree(REPO / "content", root / "content")  # the example shop, then many more
    paragraph = ("La maiolica nasce dall'argilla rossa, dallo smalto bianco allo stagno e dai "
                 "colori stesi a pennello prima della seconda cottura. ") * 6
    for n in range(posts):
        tags = ", ".join(TAGS[(n + k) % len(TAGS)] for k in range(3))
        (root / "content" / "posts" / f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}-articolo-{n}.md"
         ).write_text(f"---\ntitle: Articolo numero {n}\ntags: [{tags}]\n---\n\n{paragraph}\n\n"
                      f"<!--more-->\n\n## Dettagli\n\n{paragraph}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
                      encoding="utf-8")
    for n in range(products):
        (root / "content" / "products" / f"prodotto-{n}.md").write_text(
            f"---\ntitle: Prodotto {n}\nprice: {10 + n % 90}.50\nsku: P-{n:05d}\n"
            f"category: Categoria {n % 5}\norder: {n}\n---\n\n{paragraph}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--products", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make_site(root, args.posts, args.products)
        request = BuildRequest(root=root)
        started = time.perf_counter()
        cold = build_site(request)
        cold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        warm = build_site(request)
        warm_seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"site: {args.posts} posts, {args.products} products -> {cold.pages} pages, "
          f"{cold.files} files")
    print(f"cold build: {cold_seconds:.2f} s ({cold.pages / cold_seconds:.0f} pages/s), "
          f"{cold.written} written")
    print(f"warm build: {warm_seconds:.2f} s, {warm.written} written, {warm.unchanged} unchanged")
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

"""What Markdown alone costs per post of the benchmark corpus: the floor of a cold build.

Run on demand (not part of the test suite):

    .venv/bin/python bench/markdown_cost.py [--posts 1000] [--runs 5] [--seed 2025]

Converts the bodies of the corpus of :mod:`corpus` in this process, one converter per variant
reused with ``reset()`` (as storefront does; building a converter is not timed), after a warm-up.
Each pass converts all posts with each variant in turn. Prints CPU ms per post of this process
(``time.process_time``: time spent waiting for a busy CPU does not count), best and median of
``--runs`` passes, and the ratio to bare Python-Markdown:

- storefront body + summary: ``render_body``, the reader's Markdown stage (before the engine
  rewrite: the body, then the text before ``<!--more-->`` again for the summary; plus link
  prefixing, word count and link extraction);
- storefront render_markdown: the project's renderer as it is now;
- project extensions + smarty / without smarty: Python-Markdown with the extension list of
  ``storefront.markdown`` (smarty taken out of it if listed) and its settings, with Python-
  Markdown's ``smarty`` added, and without it;
- bare + smarty, bare: ``markdown.Markdown()`` with smarty only, and with no extension.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable

import markdown
from corpus import SEED, make_corpus

import storefront.markdown as project

SMARTY = "markdown.extensions.smarty"


def converter(extensions: list[str]) -> Callable[[str], str]:
    configs = {
        "markdown.extensions.toc": {"slugify": lambda value, _sep: project.slugify(value)},
        "markdown.extensions.footnotes": {"BACKLINK_TITLE": ""},
        SMARTY: {"smart_angled_quotes": False},
    }
    instance = markdown.Markdown(
        extensions=extensions, output_format="html",
        extension_configs={name: config for name, config in configs.items() if name in extensions})
    return lambda text: instance.reset().convert(text)


def variants() -> dict[str, Callable[[str], object] | None]:
    """The renderers to time; None for one this version of storefront does not have."""
    found: dict[str, Callable[[str], object] | None] = {
        "storefront body + summary": _render_body(),
        "storefront render_markdown": project.render_markdown,
    }
    listed: list[str] | None = getattr(project, "_EXTENSIONS", None)
    base = [name for name in listed if name != SMARTY] if listed else None
    found["project extensions + smarty"] = converter([*base, SMARTY]) if base else None
    found["project extensions without smarty"] = converter(base) if base else None
    found["bare + smarty"] = converter([SMARTY])
    found["bare Python-Markdown"] = converter([])
    return found


def _render_body() -> Callable[[str], object] | None:
    """The reader's Markdown stage: ``render_body`` (in ``documents``, later in ``body``)."""
    for module in ("storefront.body", "storefront.documents"):
        try:
            render_body: Callable[[str], object] = importlib.import_module(module).render_body
        except (ImportError, AttributeError):
            continue
        return render_body
    return None


def ms_per_post(variants: dict[str, Callable[[str], object]], bodies: list[str],
                runs: int) -> dict[str, list[float]]:
    """CPU ms per post of each variant, per pass; the variants take turns within each pass."""
    for convert in variants.values():
        for body in bodies[:20]:
            convert(body)
    passes: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, convert in variants.items():
            started = time.process_time()
            for body in bodies:
                convert(body)
            passes[name].append((time.process_time() - started) * 1000 / len(bodies))
    return passes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    bodies = [post.body for post in make_corpus(args.posts, 0, args.seed).posts]
    words = sum(len(body.split()) for body in bodies) / len(bodies)
    found = variants()
    measured = ms_per_post({name: convert for name, convert in found.items() if convert},
                           bodies, args.runs)
    bare = min(measured["bare Python-Markdown"])
    width = max(map(len, found))
    print(f"{len(bodies)} posts of {words:.0f} words on average (Markdown {markdown.__version__}),"
          f" {args.runs} passes")
    print(f"{'variant':<{width}}  CPU ms/post best  median  x bare")
    for name in found:
        passes = measured.get(name)
        if passes is None:
            print(f"{name:<{width}}  n/a (not in this version of storefront)")
            continue
        print(f"{name:<{width}}  {min(passes):16.2f}  {statistics.median(passes):6.2f}  "
              f"{min(passes) / bare:5.2f}")


if __name__ == "__main__":
    main()

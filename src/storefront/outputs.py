"""Stage 5: the output plan. Every file a build writes, planned before anything is made.

Pure. Each :class:`Output` says where it goes, which URL it answers, who claims it (a content
file, or a description such as "the feeds") and how it is produced: a page rendered from a
:class:`~storefront.plan.RenderTask`, a feed made from documents (planned by
:mod:`storefront.channels`, made only when its inputs changed), a small generated file (sitemap,
robots.txt, the redirects, the theme's minified and bundled stylesheets and scripts:
:mod:`storefront.bundle`), a file copied as it is (the theme's other static files, assets;
streamed, never held in memory) or an image the image stage made (:mod:`storefront.images`: a
photo without its metadata, its resized copies, its share card), copied from the build cache.
URL collisions and link targets are checked against this plan, and the later stages render and
write only what it lists.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from storefront.bundle import StaticOutput
from storefront.plan import RenderTask
from storefront.seo import SitemapEntry, render_robots, render_sitemap
from storefront.sources import SourceFile
from storefront.urls import STATIC_FOLDER, UnsafePath, UrlBuilder

Kind = Literal["page", "feed", "data", "file", "image"]


@dataclass(frozen=True)
class Output:
    """One file of the built site and how it is produced."""

    url: str
    source: str  # who claims the URL: a content file or a description
    kind: Kind
    task: int = -1  # page: index into the plan's tasks
    file: Path | None = None  # file, image: copied from here (an image: from the build cache)
    sha256: str = ""  # file, data, image: the hash of the bytes
    size: int = -1  # image: the size of the bytes
    data: bytes | None = None  # data: the bytes
    make: Callable[[], bytes] | None = field(default=None, compare=False)  # feed: makes the bytes
    inputs: tuple[str, ...] = ()  # feed: the documents it is made from (full content), in order
    extra: str = ""  # feed: what else its bytes depend on besides them and the site (a title)
    clock: str = ""  # feed: "day" when its bytes depend on the build day (see deps.ClockUse)
    alias: bool = False  # page: a redirect page at an old address (checked as an alias)


@dataclass(frozen=True)
class OutputPlan:
    tasks: tuple[RenderTask, ...]
    outputs: tuple[Output, ...]

    @property
    def claims(self) -> list[tuple[str, str]]:
        """Who claims each URL; redirect pages are checked as aliases, not claims."""
        return [(output.url, output.source) for output in self.outputs if not output.alias]

    @property
    def known(self) -> frozenset[str]:
        """Every URL the build writes, old addresses aside (what links may lead to)."""
        return frozenset(output.url for output in self.outputs if not output.alias)

    @property
    def pages(self) -> frozenset[str]:
        """The site's pages (``page_exists``), redirect pages aside."""
        return frozenset(output.url for output in self.outputs
                         if output.kind == "page" and not output.alias)


def plan_outputs(tasks: list[RenderTask], generated: Sequence[Output],
                 redirect_pages: Sequence[RenderTask], urls: UrlBuilder, static: Sequence[StaticOutput],
                 assets: list[SourceFile]) -> OutputPlan:
    """All outputs of a build: pages, the ``generated`` files (feeds, redirects: see
    :mod:`storefront.channels`; images: see :mod:`storefront.images`), sitemap, robots, theme
    static files, the ``assets`` copied as they are and redirect pages."""
    outputs = [Output(task.url, task.source, "page", task=index) for index, task in enumerate(tasks)]
    outputs += generated
    entries = tuple(SitemapEntry(urls.absolute(task.url), task.meta.modified or task.meta.published)
                    for task in tasks if not task.meta.noindex)
    sitemap = urls.url("/sitemap.xml")
    outputs.append(_sitemap_output(sitemap, entries))
    outputs.append(data_output(urls.url("/robots.txt"), "the sitemap",
                               render_robots(urls.absolute(sitemap))))
    for item in static:
        url = urls.url(f"/{STATIC_FOLDER}/{item.name}")
        outputs.append(Output(url, "the theme's static files", "data", data=item.data,
                              sha256=item.sha256) if item.data is not None else
                       Output(url, "the theme's static files", "file", file=item.file,
                              sha256=item.sha256))
    for asset in assets:
        outputs.append(Output(urls.url(f"/assets/{asset.asset_path}"), asset.path, "file",
                              file=asset.file, sha256=asset.digest))
    outputs += [Output(task.url, task.source, "page", task=index, alias=True)
                for index, task in enumerate(redirect_pages, len(tasks))]
    return OutputPlan((*tasks, *redirect_pages), tuple(outputs))


def output_path(output: Output, urls: UrlBuilder) -> str | None:
    """The file an output is written to, relative to the output folder (None if unsafe)."""
    try:
        return urls.output_path(output.url)
    except UnsafePath:
        return None


@functools.lru_cache(maxsize=2)
def _sitemap_output(url: str, entries: tuple[SitemapEntry, ...]) -> Output:
    """The sitemap (remembered: the preview plans it at every save, and a save rarely changes
    which pages exist or their dates)."""
    return data_output(url, "the sitemap", render_sitemap(entries))


def data_output(url: str, source: str, data: bytes) -> Output:
    """A small generated file, made every build and written only when its bytes changed."""
    return Output(url, source, "data", data=data, sha256=hashlib.sha256(data).hexdigest())



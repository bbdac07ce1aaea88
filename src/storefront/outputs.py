"""Stage 5: the output plan. Every file a build writes, planned before anything is made.

Pure. Each :class:`Output` says where it goes, which URL it answers, who claims it (a content
file, or a description such as "the feeds") and how it is produced: a page rendered from a
:class:`~storefront.plan.RenderTask`, a feed made from posts, a small generated file (sitemap,
robots.txt, the theme's minified and bundled stylesheets and scripts: :mod:`storefront.bundle`)
or a file copied as it is (the theme's other static files, assets; streamed, never held in
memory). URL collisions and link targets are checked against this plan, and the later stages
render and write only what it lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from storefront.archive import render_issue_feed
from storefront.bundle import StaticOutput
from storefront.feeds import render_atom, render_rss
from storefront.plan import RenderTask, newsletter_feed_url
from storefront.seo import SitemapEntry, render_robots, render_sitemap
from storefront.site import SiteModel
from storefront.sources import SourceFile
from storefront.urls import UnsafePath, UrlBuilder

Kind = Literal["page", "feed", "data", "file"]


@dataclass(frozen=True)
class Output:
    """One file of the built site and how it is produced."""

    url: str
    source: str  # who claims the URL: a content file or a description
    kind: Kind
    task: int = -1  # page: index into the plan's tasks
    file: Path | None = None  # file: copied from here
    sha256: str = ""  # file, data: the hash of the bytes
    data: bytes | None = None  # data: the bytes
    make: Callable[[], bytes] | None = field(default=None, compare=False)  # feed: makes the bytes
    inputs: tuple[str, ...] = ()  # feed: the documents it is made from (full content)


@dataclass(frozen=True)
class OutputPlan:
    tasks: tuple[RenderTask, ...]
    outputs: tuple[Output, ...]

    @property
    def claims(self) -> list[tuple[str, str]]:
        return [(output.url, output.source) for output in self.outputs]

    @property
    def known(self) -> frozenset[str]:
        """Every URL the build writes (what links may lead to)."""
        return frozenset(output.url for output in self.outputs)

    @property
    def pages(self) -> frozenset[str]:
        return frozenset(task.url for task in self.tasks)


def plan_outputs(tasks: list[RenderTask], model: SiteModel, config: object, urls: UrlBuilder,
                 static: tuple[StaticOutput, ...], assets: list[SourceFile],
                 strings: dict[str, str] | None = None) -> OutputPlan:
    """All outputs of a build: pages, feeds, sitemap, robots, theme static files and assets."""
    from storefront.config import SiteConfig

    assert isinstance(config, SiteConfig)
    outputs = [Output(task.url, task.source, "page", task=index) for index, task in enumerate(tasks)]
    posts = model.posts
    inputs = tuple(post.source for post in posts[:20])
    for name, render in (("/feed.xml", render_rss), ("/atom.xml", render_atom)):
        url = urls.url(name)
        outputs.append(Output(url, "the feeds", "feed", inputs=inputs,
                              make=_feed(render, posts, config, urls, url)))
    if config.newsletter.enabled or model.newsletter:
        url = newsletter_feed_url(config, urls)
        title = f"{(strings or {}).get('nl_archive', 'Newsletter')} · {config.title}"
        issues = model.newsletter
        outputs.append(Output(url, "the newsletter archive", "feed",
                              inputs=tuple(issue.source for issue in issues[:20]),
                              make=lambda: render_issue_feed(issues, config, urls, url, title)))
    entries = [SitemapEntry(urls.absolute(task.url), task.meta.modified or task.meta.published)
               for task in tasks if not task.meta.noindex]
    sitemap = urls.url("/sitemap.xml")
    outputs.append(_data(sitemap, "the sitemap", render_sitemap(entries)))
    outputs.append(_data(urls.url("/robots.txt"), "the sitemap",
                         render_robots(urls.absolute(sitemap))))
    for item in static:
        url = urls.url(f"/static/{item.name}")
        outputs.append(Output(url, "the theme's static files", "data", data=item.data,
                              sha256=item.sha256) if item.data is not None else
                       Output(url, "the theme's static files", "file", file=item.file,
                              sha256=item.sha256))
    for asset in assets:
        outputs.append(Output(urls.url(f"/assets/{asset.asset_path}"), asset.path, "file",
                              file=asset.file, sha256=asset.digest))
    return OutputPlan(tuple(tasks), tuple(outputs))


def output_path(output: Output, urls: UrlBuilder) -> str | None:
    """The file an output is written to, relative to the output folder (None if unsafe)."""
    try:
        return urls.output_path(output.url)
    except UnsafePath:
        return None


def _data(url: str, source: str, data: bytes) -> Output:
    return Output(url, source, "data", data=data, sha256=hashlib.sha256(data).hexdigest())


def _feed(render: Callable[..., bytes], posts: tuple[object, ...], config: object,
          urls: UrlBuilder, url: str) -> Callable[[], bytes]:
    return lambda: render(posts, config, urls, url)

"""Build a site: wire the stages together and report what happened.

``build_site`` never prints and never exits; it returns a :class:`BuildReport` or raises
:class:`~storefront.errors.BuildFailed` with every problem found. Nothing is written to the output
directory until every page has rendered.
"""

from __future__ import annotations

import os
import time
import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from storefront.bundle import load_theme_assets
from storefront.checks import (
    LinkTargets,
    check_config_links,
    check_links,
    image_warnings,
    left_out_summary,
    unpublished_reasons,
)
from storefront.config import CONFIG_NAME, SiteConfig, load_config
from storefront.documents import Document
from storefront.errors import BuildFailed, ContentError, error_at, line_of_key
from storefront.feeds import render_atom, render_rss
from storefront.output import write_site
from storefront.plan import Planner, RenderTask, check_collisions
from storefront.presentation import template_globals
from storefront.reader import ReadContext, read_document
from storefront.render import Renderer
from storefront.seo import SitemapEntry, render_robots, render_sitemap
from storefront.site import BuildOptions, SiteModel, build_model
from storefront.sources import DOCUMENT_KINDS, SourceFile, discover_sources
from storefront.theme import load_strings, resolve_theme_chain
from storefront.urls import UrlBuilder
from storefront.values import parse_base_url


@dataclass(frozen=True)
class BuildRequest:
    """Everything a build depends on besides the files."""

    root: Path
    output: Path | None = None  # default: root/output
    options: BuildOptions = field(default_factory=BuildOptions)
    base_url: str | None = None  # overrides storefront.yaml (the preview server uses this)
    now: datetime | None = None  # default: SOURCE_DATE_EPOCH, else the clock
    require_base_url: bool = True


@dataclass(frozen=True)
class BuildReport:
    pages: int
    files: int
    written: int
    unchanged: int
    deleted: int
    seconds: float
    next_change: datetime | None
    warnings: tuple[ContentError, ...]
    output: Path
    left_out: tuple[str, ...] = ()


def build_time(zone: zoneinfo.ZoneInfo) -> datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch == "":
        return datetime.now(zone)
    try:
        return datetime.fromtimestamp(int(epoch.strip()), zone)
    except (ValueError, OverflowError, OSError):
        raise BuildFailed([error_at(
            "SOURCE_DATE_EPOCH", 0, f'must be a whole number of seconds since 1970, got "{epoch}"',
            "set it with: export SOURCE_DATE_EPOCH=$(date +%s), or unset it")]) from None


def build_site(request: BuildRequest) -> BuildReport:
    """Build ``request.root`` into its output directory."""
    started = time.perf_counter()
    config = _effective_config(request)
    output = request.output or request.root / "output"
    check_output_folder(request.root, output)
    rendered = render_site(config, request)
    report = write_site(output, rendered.files)
    return BuildReport(
        pages=rendered.pages, files=len(rendered.files), written=report.written,
        unchanged=report.unchanged, deleted=report.deleted,
        seconds=time.perf_counter() - started, next_change=rendered.model.next_change,
        warnings=rendered.warnings, output=output, left_out=rendered.left_out,
    )


def check_output_folder(root: Path, output: Path) -> None:
    """Refuse an output folder that would overwrite or mix with the site's own files."""
    site, target = root.resolve(), output.resolve()
    protected = [site / "content", site / "themes", site / "storefront.yaml"]
    if target == site or target in site.parents or any(
            target == p or p in target.parents or target in p.parents for p in protected):
        raise BuildFailed([error_at(
            "--output", 0, f"the output folder {output} would overwrite the site's own files",
            "choose a separate folder such as output/ (the default)")])
    if target.exists() and not target.is_dir():
        raise BuildFailed([error_at("--output", 0, f"{output} is a file, not a folder",
                                    "choose a folder for the built site")])


def _effective_config(request: BuildRequest) -> SiteConfig:
    config = load_config(request.root)
    if request.base_url is not None:
        try:
            config = replace(config, base_url=parse_base_url(request.base_url))
        except ValueError as exc:
            raise BuildFailed([error_at("--base-url", 0, str(exc))]) from None
    if request.require_base_url and not config.base_url:
        raise BuildFailed([error_at(
            "storefront.yaml", 0, "base_url is required to build the public site",
            "add a line like base_url: https://www.example.com/ (or pass --base-url)")])
    return config


@dataclass(frozen=True)
class RenderedSite:
    files: dict[str, bytes]
    pages: int
    model: SiteModel
    warnings: tuple[ContentError, ...]
    left_out: tuple[str, ...] = ()


def render_site(config: SiteConfig, request: BuildRequest) -> RenderedSite:
    """Run every stage up to (not including) writing; return the files to write.

    Problems are collected per stage and reported together: every file's parse errors first
    (later checks would only repeat them), then every whole-site check at once.
    """
    root = request.root
    zone = zoneinfo.ZoneInfo(config.timezone)
    now = request.now or build_time(zone)
    urls = UrlBuilder.from_base_url(config.base_url)
    chain = resolve_theme_chain(root, config.theme)
    strings = load_strings(chain, config.language)
    sources = discover_sources(root)
    texts = {s.path: s.data.decode("utf-8", "replace") for s in sources if s.kind != "assets"}
    documents, errors = read_documents(sources, ReadContext(config, urls))
    if errors:
        raise BuildFailed(errors)
    model = build_model(documents, config, urls, request.options, now)
    tasks = Planner(model, config, urls, strings).plan()
    # Theme static files (issue 11): bundled, minified and fingerprinted (storefront.bundle);
    # templates reach them, the map link and the holiday closures through template globals.
    theme_assets = load_theme_assets(chain)
    static = theme_assets.files
    extras = template_globals(config, urls, theme_assets, now)
    assets = {s.asset_path: s for s in sources if s.kind == "assets"}
    generated = {
        urls.url("/feed.xml"): render_rss(model.posts, config, urls, urls.url("/feed.xml")),
        urls.url("/atom.xml"): render_atom(model.posts, config, urls, urls.url("/atom.xml")),
    }
    claims = [(task.url, task.source) for task in tasks]
    claims += [(urls.url(f"/static/{name}"), "the theme's static files") for name in static]
    claims += [(urls.url(f"/assets/{name}"), source.path) for name, source in assets.items()]
    claims += [(url, "the feeds") for url in generated]
    claims += [(urls.url(u), "the sitemap") for u in ("/sitemap.xml", "/robots.txt")]
    known = frozenset(url for url, _ in claims)
    pages = frozenset(task.url for task in tasks)
    warnings = image_warnings(model, texts)
    renderer = Renderer(chain, config, urls, strings, model.nav, now, pages, extras)
    problems = check_collisions(claims, urls)
    reasons = unpublished_reasons(documents, model, now)
    # only what is published is checked: a draft waiting for its photo must not block a build
    problems += check_links(model.published(), texts, LinkTargets(known, reasons), urls)
    problems += check_config_links(config, _config_text(root), pages, urls)
    problems += renderer.load(_template_users(tasks, texts))
    if request.options.strict:
        problems += warnings
    if problems:
        raise BuildFailed(problems)

    files: dict[str, bytes] = {}
    for task in tasks:
        try:
            files[urls.output_path(task.url)] = renderer.render(task)
        except BuildFailed as exc:
            problems.extend(exc.errors)
    if problems:
        raise BuildFailed(problems)
    for url, data in generated.items():
        files[urls.output_path(url)] = data
    files["sitemap.xml"] = render_sitemap(_sitemap_entries(tasks, urls))
    files["robots.txt"] = render_robots(urls.absolute(urls.url("/sitemap.xml")))
    for name, data in static.items():
        files[urls.output_path(urls.url(f"/static/{name}"))] = data
    for name, source in assets.items():
        files[urls.output_path(urls.url(f"/assets/{name}"))] = source.data
    return RenderedSite(files, len(tasks), model, tuple(warnings), left_out_summary(reasons))


def _config_text(root: Path) -> str:
    return (root / CONFIG_NAME).read_text(encoding="utf-8")


def _template_users(tasks: list[RenderTask], texts: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
    users: dict[str, list[tuple[str, int]]] = {}
    for task in tasks:
        line = line_of_key(texts[task.source], "template") if task.source in texts else 0
        users.setdefault(task.template, []).append((task.source, line))
    return users


def read_documents(sources: tuple[SourceFile, ...],
                   context: ReadContext) -> tuple[list[Document], list[ContentError]]:
    """Parse every document, collecting the problems of all files."""
    documents: list[Document] = []
    errors: list[ContentError] = []
    for source in sources:
        if source.kind not in DOCUMENT_KINDS:
            continue
        try:
            documents.append(read_document(source, context))
        except BuildFailed as exc:
            errors.extend(exc.errors)
    return documents, errors


def _sitemap_entries(tasks: list[RenderTask], urls: UrlBuilder) -> list[SitemapEntry]:
    return [
        SitemapEntry(urls.absolute(task.url), task.meta.modified or task.meta.published)
        for task in tasks
        if not task.meta.noindex
    ]

"""Build a site: wire the stages together and report what happened.

``build_site`` never prints and never exits; it returns a :class:`BuildReport` or raises
:class:`~storefront.errors.BuildFailed` with every problem found. Nothing is written to the output
directory until every page has rendered.
"""

from __future__ import annotations

import difflib
import os
import time
import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from storefront.config import SiteConfig, load_config
from storefront.documents import Document
from storefront.errors import BuildFailed, ContentError, error_at
from storefront.feeds import render_atom, render_rss
from storefront.output import write_site
from storefront.plan import Planner, RenderTask, check_collisions
from storefront.reader import ReadContext, read_document
from storefront.render import Renderer, collect_static
from storefront.seo import SitemapEntry, render_robots, render_sitemap
from storefront.site import BuildOptions, SiteModel, build_model
from storefront.sources import DOCUMENT_KINDS, SourceFile, discover_sources
from storefront.theme import load_strings, resolve_theme_chain
from storefront.urls import UrlBuilder


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
        warnings=rendered.warnings, output=output,
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
        from storefront.config import parse_base_url

        try:
            config = replace(config, base_url=parse_base_url(request.base_url))
        except ValueError as exc:
            raise BuildFailed([error_at("--base-url", 0, f"--base-url {exc}")]) from None
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


def render_site(config: SiteConfig, request: BuildRequest) -> RenderedSite:
    """Run every stage up to (not including) writing; return the files to write."""
    root = request.root
    zone = zoneinfo.ZoneInfo(config.timezone)
    now = request.now or build_time(zone)
    urls = UrlBuilder.from_base_url(config.base_url)
    chain = resolve_theme_chain(root, config.theme)
    strings = load_strings(chain, config.language)
    sources = discover_sources(root)
    documents, errors = read_documents(sources, ReadContext(config, urls))
    if errors:
        raise BuildFailed(errors)
    model = build_model(documents, config, urls, request.options, now)
    tasks = Planner(model, config, urls, strings).plan()
    static = collect_static(chain)
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
    check_collisions(claims, urls)
    known = {url for url, _ in claims} | {urls.url(u) for u in ("/sitemap.xml", "/robots.txt")}
    check_links(documents, model, sources, known, urls)
    check_form_pages(config, root, {task.url for task in tasks}, urls)
    warnings = _warnings(model)
    if request.options.strict and warnings:
        raise BuildFailed(warnings)

    renderer = Renderer(chain, config, urls, strings, model.nav, now,
                        frozenset(task.url for task in tasks))
    renderer.load({task.template for task in tasks})
    files: dict[str, bytes] = {}
    render_errors: list[ContentError] = []
    for task in tasks:
        try:
            files[urls.output_path(task.url)] = renderer.render(task)
        except BuildFailed as exc:
            render_errors.extend(exc.errors)
    if render_errors:
        raise BuildFailed(render_errors)
    for url, data in generated.items():
        files[urls.output_path(url)] = data
    files["sitemap.xml"] = render_sitemap(_sitemap_entries(tasks, urls))
    files["robots.txt"] = render_robots(urls.absolute(urls.url("/sitemap.xml")))
    for name, path in static.items():
        files[urls.output_path(urls.url(f"/static/{name}"))] = path.read_bytes()
    for name, source in assets.items():
        files[urls.output_path(urls.url(f"/assets/{name}"))] = source.data
    return RenderedSite(files, len(tasks), model, warnings)


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


def check_links(documents: list[Document], model: SiteModel, sources: tuple[SourceFile, ...],
                known: set[str], urls: UrlBuilder) -> None:
    """Every site-internal link or image in content must lead to a page or file of the site."""
    texts = {s.path: s.data.decode("utf-8", "replace") for s in sources}
    published = {p.url for p in model.posts} | {p.url for p in model.products} | {
        p.url for p in model.pages}
    errors: list[ContentError] = []
    for document in documents:
        targets = list(document.links)
        targets += [t for t in _images(document) if t.startswith("/")]
        for target in targets:
            if target in known or target in published or urls.url(target.lstrip("/")) in known:
                continue
            errors.append(error_at(document.source, _line_of(texts[document.source], target),
                                   f"the link {target} leads to no page or file of the site",
                                   _link_hint(target, known, urls)))
    if errors:
        raise BuildFailed(errors)


def _link_hint(target: str, known: set[str], urls: UrlBuilder) -> str:
    """Suggest the nearest URL of the same kind (a file for a file, a page for a page)."""
    is_file = target.startswith(urls.url("assets/")) or target.startswith("/assets/")
    candidates = sorted(u for u in known if ("/assets/" in u) == is_file)
    close = difflib.get_close_matches(target, candidates, 1, 0.6)
    if close:
        return f"did you mean {close[0]}?"
    if is_file:
        return f"put the file at content{target.removeprefix(urls.base_path.rstrip('/'))}"
    return "link to a page of the site, such as /prodotti/ or /blog/"


def check_form_pages(config: SiteConfig, root: Path, pages: set[str], urls: UrlBuilder) -> None:
    """Each form's thank-you page, and the privacy notice of a form that asks for consent, must be
    pages of the site (or external URLs)."""
    lines = (root / "storefront.yaml").read_text(encoding="utf-8").split("\n")
    errors = []
    consent_forms = sorted(f.name for f in config.forms.values() if f.consent_field is not None)
    privacy = config.privacy_page
    if consent_forms and not privacy.startswith(("http://", "https://")) and (
            urls.url(privacy) not in pages):
        line = next((n for n, text in enumerate(lines, 1) if text.startswith("privacy_page:")), 0)
        errors.append(error_at(
            "storefront.yaml", line,
            f"the privacy notice {privacy} is not a page of the site, but the form "
            f'"{consent_forms[0]}" asks for consent to it',
            "write content/pages/privacy.md, or set privacy_page: to the page that has it"))
    for form in config.forms.values():
        target = form.success_page
        if target.startswith(("http://", "https://")) or urls.url(target) in pages:
            continue
        line = next((n for n, text in enumerate(lines, 1)
                     if "success_page:" in text and target in text), 0)
        errors.append(error_at("storefront.yaml", line,
                               f'the success_page {target} of form "{form.name}" is not a page '
                               "of the site",
                               "create it in content/pages/ (for example a grazie.md page)"))
    if errors:
        raise BuildFailed(errors)


def _images(document: Document) -> list[str]:
    image = getattr(document, "image", "")
    return [*getattr(document, "images", ()), *([image] if image else [])]


def _line_of(text: str, target: str) -> int:
    needle = target.split("/", 2)[-1] if target.count("/") > 1 else target
    for number, line in enumerate(text.split("\n"), 1):
        if target in line:
            return number
    for number, line in enumerate(text.split("\n"), 1):
        if needle and needle in line:
            return number
    return 1


def _warnings(model: SiteModel) -> tuple[ContentError, ...]:
    """Problems that do not stop a build unless ``--strict``: missing image descriptions."""
    found: list[ContentError] = []
    for post in model.posts:
        if post.image and not post.image_alt:
            found.append(error_at(post.source, 1, "the image has no image_alt description",
                                  "add image_alt: a short description for blind readers"))
    for product in model.products:
        if product.images and not product.image_alt:
            found.append(error_at(product.source, 1, "the images have no image_alt description",
                                  "add image_alt: a short description for blind readers"))
    return tuple(sorted(found, key=ContentError.sort_key))

"""The site as the newsletter sees it: config, theme, published documents and issues, images.

Reads the site's files through the build's own stages (discover, read, model, images), so an
issue shows exactly what the site publishes; nothing is written into the site. Problems in the
content are raised as :class:`~storefront.errors.BuildFailed`, like a build would report them.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storefront.cache import BuildCache
from storefront.config import CONFIG_NAME, SiteConfig, load_config
from storefront.documents import NewsletterIssue
from storefront.errors import BuildFailed, StorefrontError
from storefront.fingerprints import code_fingerprint
from storefront.imagecache import ImageStore
from storefront.images import ImageStage
from storefront.imageuses import collect_uses
from storefront.localize import localize
from storefront.parsing import parse_chunk
from storefront.picture import ImageCatalog, site_path
from storefront.reader import ReaderSettings
from storefront.request import CACHE_DIR, build_time
from storefront.site import BuildOptions, SiteModel, build_model
from storefront.sources import DOCUMENT_KINDS, SourceFile, discover_sources
from storefront.theme import Theme, load_strings, resolve_theme_chain
from storefront.urls import UrlBuilder
from storefront.workers import WorkerPool


@dataclass(frozen=True)
class NewsletterSite:
    root: Path
    config: SiteConfig
    urls: UrlBuilder
    chain: tuple[Theme, ...]
    strings: dict[str, str]
    model: SiteModel
    issues: tuple[NewsletterIssue, ...]  # every issue file, drafts and sent ones, by date
    digests: dict[str, str]  # source path -> SHA-256 of the file
    now: datetime
    assets: tuple[SourceFile, ...] = ()  # the files under content/assets/


def load_site(root: Path, now: datetime | None = None) -> NewsletterSite:
    """Read the site at ``root`` as a public build would see it at ``now``."""
    config = load_config(root)
    if not config.newsletter.enabled:
        raise StorefrontError(
            "the newsletter is not set up: add to storefront.yaml a section\n"
            "  newsletter:\n    form: newsletter   # the form people sign up with")
    zone = zoneinfo.ZoneInfo(config.timezone)
    moment = now or build_time(zone)
    urls = UrlBuilder.from_base_url(config.base_url)
    chain = resolve_theme_chain(root, config.theme)
    strings = load_strings(chain, config.language)
    sources = discover_sources(root)
    parsed = parse_chunk(ReaderSettings.of(config),
                         [s for s in sources if s.kind in DOCUMENT_KINDS])
    errors = [error for item in parsed for error in item.errors]
    if errors:
        raise BuildFailed(errors)
    documents = [localize(item.document, urls) for item in parsed if item.document is not None]
    model = build_model(documents, config, urls, BuildOptions(), moment)
    issues = tuple(sorted((d for d in documents if isinstance(d, NewsletterIssue)),
                          key=lambda issue: (issue.date, issue.slug)))
    digests = {s.path: s.digest for s in sources}
    assets = tuple(s for s in sources if s.kind == "assets")
    return NewsletterSite(root, config, urls, chain, strings, model, issues, digests, moment, assets)


def issue_images(site: NewsletterSite, issue: NewsletterIssue) -> ImageCatalog:
    """What the site's build makes of the images the issue shows: the same copies at the same
    URLs (a photo the site shows gets its resized copies; any other is published as it is).

    Taken from the build cache, or made now (and kept there) when the cache does not have them.
    """
    config_text = (site.root / CONFIG_NAME).read_text("utf-8")
    shown = {use.path for use in collect_uses([issue], site.config, "", site.urls.base_path)[0]}
    assets = [a for a in site.assets if site_path("/assets/" + a.asset_path, "/") in shown]
    cache = BuildCache(site.root / CACHE_DIR, code_fingerprint())
    pool = WorkerPool()
    try:
        stage = ImageStage(site.config, site.urls, ImageStore(cache), pool,
                           lambda _path, _sha256: False)
        result = stage.run(assets, site.model.published(), config_text)
    finally:
        pool.close()
        cache.close()
    if result.errors:
        raise BuildFailed(list(result.errors))
    return result.catalog


def find_issue(site: NewsletterSite, name: str) -> NewsletterIssue:
    """The issue named by its slug, its file name or its path."""
    wanted = name.strip().removesuffix(".md").rsplit("/", 1)[-1]
    for issue in site.issues:
        stem = issue.source.rsplit("/", 1)[-1].removesuffix(".md")
        if wanted in (issue.slug, stem):
            return issue
    known = ", ".join(issue.slug for issue in site.issues) or "none yet"
    raise StorefrontError(f'no newsletter issue "{name}" in content/newsletter/ (issues: {known}); '
                          "draft one with: storefront newsletter new")

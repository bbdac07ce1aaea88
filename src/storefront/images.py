"""The image stage: every image of the site processed once, and what pages know of it.

Stage 5, between the site model and the page plan (share cards are part of each page's head). It

1. collects where the published documents and the config use images (Markdown ``<img>``,
   ``image:`` of posts and pages, ``images:`` of products, the site's share image), each with its
   file and line;
2. decides what each file under ``content/assets/`` needs: every photo is published at its own URL
   without metadata; a photo a page shows also gets resized copies in every format, and one used
   as a share image a 1200x630 card per focal point; SVGs are checked for scripts, GIFs copied;
3. takes from the build cache what was made before (keyed by the source's SHA-256, the settings,
   the pipeline and the codecs' versions; every file still where the output folder or the cache
   says, and intact) and has the worker processes make the rest, one photo per job, in parallel;
4. returns the :class:`~storefront.picture.ImageCatalog` templates read, the files to publish and
   every problem with its ``file:line``.

A rebuild whose photos did not change decodes nothing; the cache can be kept between CI runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storefront.cache import BuildCache, store_page
from storefront.config import CONFIG_NAME, SiteConfig
from storefront.documents import Document, NewsletterIssue, Page, Post, Product, field_line
from storefront.errors import ContentError, error_at, line_of_key
from storefront.fingerprints import digest
from storefront.imaging import (
    EXTENSION,
    PIPELINE,
    ImageProblem,
    Recipe,
    image_size,
    library_versions,
    process,
    writable_formats,
)
from storefront.picture import Card, ImageCatalog, ImageInfo, Variant, site_path
from storefront.sources import SourceFile
from storefront.svg import SvgProblem, check_svg
from storefront.urls import UrlBuilder
from storefront.workers import WorkerPool

RASTER = frozenset({"jpg", "jpeg", "jpe", "png", "webp", "avif", "heic", "heif", "tif", "tiff", "bmp"})
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_ALT = re.compile(r"""\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class ImageUse:
    """One place that shows an image."""

    path: str  # site path, normalised: /assets/foto.jpg
    source: str  # the content file (or storefront.yaml) that names it
    line: int
    written: str  # as the owner wrote it, for messages
    shown: bool  # a page shows it (resized copies needed)
    card: str | None  # the focal point when it is a share image


@dataclass(frozen=True)
class ImageJob:
    """The work one photo still needs (only the parts the cache did not have)."""

    path: str  # content/assets/foto.jpg
    file: str
    original: str  # cache key of each part, "" when not needed
    variants: str
    cards: tuple[tuple[str, str], ...]  # (focus, key)


@dataclass(frozen=True)
class ImageState:
    """What a worker needs for every job of a build (pickled once)."""

    recipe: Recipe
    store: Path


@dataclass(frozen=True)
class JobOutcome:
    path: str
    entries: tuple[tuple[str, str], ...] = ()  # (cache key, JSON payload)
    problem: tuple[str, str] | None = None  # (message, hint)


@dataclass(frozen=True)
class ImageFile:
    """A file the build publishes for an image: its URL, who claims it, where its bytes are."""

    url: str
    source: str
    file: Path
    sha256: str
    size: int


@dataclass
class ImageResult:
    catalog: ImageCatalog
    files: list[ImageFile]
    errors: list[ContentError]
    warnings: list[ContentError]
    processed: int  # photos that needed work in this build
    copied: frozenset[str] = field(default_factory=frozenset)  # asset paths published as they are


# -- where images are used ----------------------------------------------------------------------

def collect_uses(documents: Iterable[Document], config: SiteConfig, config_text: str,
                 base_path: str) -> tuple[list[ImageUse], list[ContentError]]:
    """Every use of a site image, and the Markdown images written without a description."""
    uses: set[ImageUse] = set()
    warnings: set[ContentError] = set()

    def add(url: str, source: str, line: int, shown: bool, card: str | None) -> None:
        if url.startswith("/") and not url.startswith("//"):
            uses.add(ImageUse(site_path(url, base_path), source, line, url, shown, card))

    for document in documents:
        lines = dict(document.links)
        for html in _html_of(document):
            for tag in _IMG.findall(html):
                src = _attribute(_SRC, tag)
                written = site_path(src, base_path) if src.startswith("/") else src
                line = lines.get(written, lines.get(src, 1))
                add(src, document.source, line, True, None)
                if not _attribute(_ALT, tag).strip():
                    warnings.add(error_at(document.source, line,
                                          f"the image {written} has no description (alt text)",
                                          f"write one between the brackets: ![what the photo "
                                          f"shows]({written})"))
        if isinstance(document, (Post, Page, NewsletterIssue)) and document.image:
            add(document.image, document.source, field_line(document, "image"), True,
                getattr(document, "image_focus", ""))
        elif isinstance(document, Product):
            for number, image in enumerate(document.images, 1):
                line = dict(document.lines).get(f"images[{number}]", field_line(document, "images"))
                add(image, document.source, line, True, document.image_focus if number == 1 else None)
    if config.image:
        add(config.image, CONFIG_NAME, line_of_key(config_text, "image"), False, "")
    return sorted(uses), sorted(warnings, key=ContentError.sort_key)


def _html_of(document: Document) -> list[str]:
    """The owner's HTML of a document: its body and, where it has one, its summary."""
    return [str(getattr(document, name)) for name in ("content_html", "answer_html", "summary_html")
            if hasattr(document, name)]


def _attribute(pattern: re.Pattern[str], tag: str) -> str:
    import html

    match = pattern.search(tag)
    if match is None:
        return ""
    return html.unescape(next(group for group in match.groups() if group is not None))


# -- the stage ----------------------------------------------------------------------------------

def recipe_of(config: SiteConfig) -> Recipe:
    settings = config.images
    return Recipe(settings.widths, writable_formats(settings.formats), settings.quality,
                  settings.max_megapixels * 1_000_000)


class ImageStage:
    """Processes the images of one build (see the module's docstring)."""

    def __init__(self, config: SiteConfig, urls: UrlBuilder, cache: BuildCache, pool: WorkerPool,
                 held: Callable[[str, str], bool],
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.config, self.urls, self.cache, self.pool = config, urls, cache, pool
        self.held = held  # held(output path, sha256): the output folder already has these bytes
        self.progress = progress
        self._recipe: Recipe | None = None
        self._base = ""

    def _key(self, *parts: str) -> str:
        if self._recipe is None:
            self._recipe = recipe_of(self.config)
            self._base = digest(PIPELINE, library_versions(), repr(self._recipe))
        return digest(self._base, *parts)

    def run(self, assets: Sequence[SourceFile], documents: Iterable[Document],
            config_text: str) -> ImageResult:
        uses, warnings = collect_uses(documents, self.config, config_text, self.urls.base_path)
        by_path: dict[str, list[ImageUse]] = {}
        for use in uses:
            by_path.setdefault(use.path, []).append(use)
        errors: list[ContentError] = []
        images: dict[str, ImageInfo] = {}
        jobs: list[ImageJob] = []
        stored: dict[str, dict[str, Any]] = {}
        rasters: list[tuple[SourceFile, list[ImageUse]]] = []
        copied: set[str] = set()
        for asset in assets:
            path = site_path("/assets/" + asset.asset_path, "/")
            used = by_path.pop(path, [])
            extension = asset.path.rsplit(".", 1)[-1].lower() if "." in asset.path else ""
            if extension in RASTER:
                rasters.append((asset, used))
                job, found = self._plan_job(asset, used)
                stored.update(found)
                if job is not None:
                    jobs.append(job)
                continue
            copied.add(asset.path)
            if extension == "svg":
                info = self._svg(asset, path, errors)
            elif extension == "gif" and used:
                info = self._gif(asset, path, used, errors)
            else:
                info = None
                for use in used:
                    errors.append(error_at(use.source, use.line,
                                           f"the image {use.written} is not an image (a "
                                           f".{extension or 'extensionless'} file)",
                                           "link to it as [text](...) instead, or use a JPEG, "
                                           "PNG, WebP, AVIF, HEIC, GIF or SVG file"))
            if info is not None and used:
                images[path] = info
        outcomes = self._process(jobs)
        failed: dict[str, tuple[str, str]] = {}
        fresh: list[tuple[str, str]] = []
        for outcome in outcomes:
            if outcome.problem is not None:
                failed[outcome.path] = outcome.problem
            fresh.extend(outcome.entries)
            stored.update((key, json.loads(payload)) for key, payload in outcome.entries)
        files: list[ImageFile] = []
        cards: dict[str, Card] = {}
        used_keys: list[str] = []
        for asset, used in rasters:
            problem = failed.get(asset.path)
            if problem is not None:
                errors.extend(_problem_errors(asset, used, problem))
                continue
            keys = self._keys(asset, used)
            used_keys.extend(key for key in keys.values() if key)
            self._publish(asset, used, keys, stored, images, cards, files)
        self.cache.save_images(fresh, used_keys, _now())
        catalog = ImageCatalog(images, cards, self.urls.base_path)
        return ImageResult(catalog, files, errors, warnings, len(jobs), frozenset(copied))

    # -- planning the work --------------------------------------------------------------------

    def _keys(self, asset: SourceFile, used: list[ImageUse]) -> dict[str, str]:
        sha = asset.digest
        keys = {"original": self._key("original", sha),
                "variants": self._key("variants", sha) if any(u.shown for u in used) else ""}
        for focus in sorted({u.card for u in used if u.card is not None}):
            keys[f"card {focus}"] = self._key("card", sha, focus)
        return keys

    def _plan_job(self, asset: SourceFile,
                  used: list[ImageUse]) -> tuple[ImageJob | None, dict[str, dict[str, Any]]]:
        """The parts of a photo the cache cannot give (None: none), and the parts it can."""
        keys = self._keys(asset, used)
        entries = self.cache.image_entries(key for key in keys.values() if key)
        found: dict[str, dict[str, Any]] = {}
        for key, payload in entries.items():
            try:
                entry = json.loads(payload)
                files = entry["files"]
                if all(self._available(asset, file) for file in files):
                    found[key] = entry
            except (ValueError, KeyError, TypeError):
                continue
        missing = {name: key for name, key in keys.items() if key and key not in found}
        if not missing:
            return None, found
        if asset.file is None:
            raise ValueError(f"{asset.path} has no file")
        cards = tuple((name[5:], key) for name, key in missing.items() if name.startswith("card "))
        return ImageJob(asset.path, str(asset.file), missing.get("original", ""),
                        missing.get("variants", ""), cards), found

    def _available(self, asset: SourceFile, file: list[Any]) -> bool:
        """A stored file is in the output folder as the build would write it, or intact in the
        cache (then it can be copied)."""
        path = self.urls.output_path(self._file_url(asset, file))
        return self.held(path, str(file[4])) or self.cache.image_intact(str(file[4]))

    def _process(self, jobs: list[ImageJob]) -> list[JobOutcome]:
        if not jobs:
            return []
        state = ImageState(recipe_of(self.config), self.cache.images)
        total = len(jobs)
        if self.progress is not None:
            self.progress(0, total)
        progress = self.progress
        return self.pool.map(process_chunk, state, jobs, chunk=1, serial_below=2,
                             done=(lambda count: progress(count, total)) if progress else None)

    # -- what is published --------------------------------------------------------------------

    def _file_url(self, asset: SourceFile, file: list[Any]) -> str:
        """The URL of a stored file: the photo's own for the original, else named by content."""
        role, fmt, width, _, sha = file[:5]
        own = "/assets/" + asset.asset_path
        if role == "original":
            return self.urls.url(own)
        folder, _, name = own.rpartition("/")
        stem = name.rsplit(".", 1)[0]
        label = "card" if role == "card" else f"{width}w"
        return self.urls.url(f"{folder}/{stem}-{label}.{str(sha)[:10]}.{EXTENSION[str(fmt)]}")

    def _publish(self, asset: SourceFile, used: list[ImageUse], keys: dict[str, str],
                 stored: dict[str, dict[str, Any]], images: dict[str, ImageInfo],
                 cards: dict[str, Card], files: list[ImageFile]) -> None:
        path = site_path("/assets/" + asset.asset_path, "/")
        original = stored[keys["original"]]
        variants: list[Variant] = []
        for name, key in keys.items():
            if not key:
                continue
            for file in stored[key]["files"]:
                url = self._file_url(asset, file)
                sha, size = str(file[4]), int(file[5])
                files.append(ImageFile(url, asset.path, self.cache.image_path(sha), sha, size))
                if file[0] == "variant":
                    variants.append(Variant(url, int(file[2]), int(file[3]), str(file[1])))
                elif file[0] == "card":
                    cards[f"{path} {name[5:]}"] = Card(url, int(file[2]), int(file[3]))
        if used:
            fallback = _fallback_of(variants)
            images[path] = ImageInfo(self.urls.url(path), int(original["width"]),
                                     int(original["height"]), tuple(variants), fallback)

    def _svg(self, asset: SourceFile, path: str, errors: list[ContentError]) -> ImageInfo | None:
        assert asset.file is not None
        checked = check_svg(asset.file.read_bytes())
        if isinstance(checked, SvgProblem):
            errors.append(error_at(asset.path, checked.line, checked.message, checked.hint))
            return None
        return ImageInfo(self.urls.url(path), checked.width, checked.height)

    def _gif(self, asset: SourceFile, path: str, used: list[ImageUse],
             errors: list[ContentError]) -> ImageInfo | None:
        assert asset.file is not None
        try:
            width, height, _ = image_size(asset.file.read_bytes(), recipe_of(self.config).max_pixels)
        except ImageProblem as exc:
            errors.extend(_problem_errors(asset, used, (exc.message, exc.hint)))
            return None
        return ImageInfo(self.urls.url(path), width, height)


def _fallback_of(variants: list[Variant]) -> str:
    formats = {v.format for v in variants}
    for fmt in ("jpeg", "png", "webp"):
        if fmt in formats:
            return fmt
    return ""


def _problem_errors(asset: SourceFile, used: list[ImageUse],
                    problem: tuple[str, str]) -> list[ContentError]:
    message, hint = problem
    if not used:
        return [error_at(asset.path, 0, f"this file {message}", hint)]
    return [error_at(use.source, use.line, f"the image {use.written} {message}", hint)
            for use in used]


def _now() -> int:
    import time

    return int(time.time())


# -- in the workers -----------------------------------------------------------------------------

def process_chunk(state: ImageState, jobs: Sequence[ImageJob]) -> list[JobOutcome]:
    """Process some photos (in a worker or in this process); a photo's problem is a value."""
    return [_process_one(state, job) for job in jobs]


def _process_one(state: ImageState, job: ImageJob) -> JobOutcome:
    try:
        data = Path(job.file).read_bytes()
    except OSError as exc:
        return JobOutcome(job.path, problem=(f"cannot be read ({exc.strerror or exc})",
                                             "check that the file is there and readable"))
    try:
        result = process(data, state.recipe, bool(job.variants), tuple(f for f, _ in job.cards),
                         bool(job.original))
    except ImageProblem as exc:
        return JobOutcome(job.path, problem=(exc.message, exc.hint))
    except MemoryError:
        return JobOutcome(job.path, problem=("is too large to process on this machine",
                                             "resize it to a web size, such as 4000 pixels wide"))
    groups: dict[str, list[list[Any]]] = {}
    for encoded in result.outputs:
        sha = store_page(state.store, encoded.data)
        key = (job.original if encoded.role == "original" else job.variants
               if encoded.role == "variant" else dict(job.cards)[encoded.focus])
        groups.setdefault(key, []).append([encoded.role, encoded.format, encoded.width,
                                           encoded.height, sha, len(encoded.data)])
    for key in (job.original, job.variants):
        if key:
            groups.setdefault(key, [])  # an animated image has no resized copies
    entries = tuple((key, json.dumps({"width": result.width, "height": result.height,
                                      "files": files}, separators=(",", ":")))
                    for key, files in groups.items())
    return JobOutcome(job.path, entries)

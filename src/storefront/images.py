"""The image stage: every image of the site processed once, and what pages know of it.

Stage 5, between the site model and the page plan (share cards are part of each page's head). It

1. collects where the published documents, the config and the theme's templates use images
   (:mod:`storefront.imageuses`), each with its file and line;
2. decides what each file under ``content/assets/`` needs: every photo is published at its own URL
   without metadata; a photo a page shows also gets resized copies in every format, and one used
   as a share image a 1200x630 card per focal point; SVGs are checked for scripts, GIFs copied;
3. takes from the build cache what was made before (:mod:`storefront.imagecache`: keyed by the
   source's SHA-256, the settings, the pipeline and the codecs' versions; every file still where
   the output folder or the cache says, and intact) and has the worker processes make the rest
   (:mod:`storefront.imagework`), one photo per job, in parallel, with progress;
4. returns the :class:`~storefront.picture.ImageCatalog` pages and feeds read, the files to
   publish (outputs of kind ``image``, copied from the cache) and every problem with its
   ``file:line``.

A rebuild whose photos did not change decodes nothing; the cache can be kept between CI runs.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from storefront.config import SiteConfig
from storefront.documents import Document
from storefront.errors import ContentError, error_at
from storefront.fingerprints import digest
from storefront.geotags import LAYERED, MAYBE, NO, VIDEO, place_of
from storefront.imagecache import ImageStore
from storefront.imagelibs import ImageLibraries, image_libraries
from storefront.imageuses import DocumentUses, ImageUse, collect_uses
from storefront.imagework import ImageJob, ImageState, JobOutcome, process_chunk
from storefront.imaging import (
    EXTENSION,
    PIPELINE,
    ImageProblem,
    Recipe,
    image_size,
)
from storefront.outputs import Output
from storefront.picture import Card, ImageCatalog, ImageInfo, Variant
from storefront.sources import SourceFile
from storefront.svg import SvgProblem, check_compressed_svg, check_svg
from storefront.templateimages import TemplateImage
from storefront.urls import NAME_BYTES, UrlBuilder, url_path
from storefront.workers import WorkerPool

# the photos' extensions, their other names too: .jfif (a JPEG saved by Windows), .hif (the HEIF
# of Canon, Fujifilm and Sony cameras); a file under any other name is published as it is
RASTER = frozenset({"jpg", "jpeg", "jpe", "jfif", "png", "webp", "avif", "heic", "heif", "hif",
                    "tif", "tiff", "bmp"})
# camera RAW files: the sensor's data with the camera's own EXIF (the GPS position, its serial
# number), which storefront can neither decode nor clean: published as they are (an owner may
# offer one for download on purpose), with a warning
CAMERA_RAW = frozenset({"dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf",
                        "rw2", "raf", "pef", "srw", "rwl", "iiq", "3fr", "erf", "mrw", "x3f"})
_RAW_HINT = ("export a JPEG from it and publish that instead (storefront removes that data from "
             "photos), or move the RAW file out of content/assets/; leave it only if visitors may "
             "download it with that data")

# videos, JPEG XL and Photoshop files can hold the place where they were made, which storefront
# cannot remove either: a warning when they do (see storefront.geotags)
_VIDEO_HINT = ("export or share the video without its location (on a phone: turn Location off "
               "in the share options), or host it on a video site and link to it; leave it only "
               "if visitors may see where it was recorded")
_LAYERED_HINT = ("export a JPEG, PNG or WebP from it and publish that instead (storefront removes "
                 "that data from photos), or remove the location in the editor; leave it only if "
                 "visitors may see where the photo was taken")

@dataclass(frozen=True)
class ImageResult:
    catalog: ImageCatalog
    outputs: tuple[Output, ...]  # the files made from photos (kind "image")
    errors: tuple[ContentError, ...]
    warnings: tuple[ContentError, ...]
    processed: int  # photos that needed work in this build
    copied: frozenset[str]  # the assets published as they are (not photos): their source paths


@dataclass
class ImageMemo:
    """What a long-lived session (the preview) remembers of its last image stage: each
    document's uses, and the last result with the digest of what it was made from."""

    uses: dict[int, DocumentUses] = field(default_factory=dict)
    key: str = ""
    result: ImageResult | None = None


def recipe_of(config: SiteConfig, writable: tuple[str, ...]) -> Recipe:
    """The settings, with the modern formats asked for that the installed Pillow can write."""
    settings = config.images
    return Recipe(settings.widths, tuple(f for f in settings.formats if f in writable),
                  settings.quality, settings.max_megapixels * 1_000_000)


class ImageStage:
    """Processes the images of one build (see the module's docstring).

    ``held(path, sha256)`` says whether the output folder already holds these bytes at that
    path (then a stored file need not be in the cache any more).
    """

    def __init__(self, config: SiteConfig, urls: UrlBuilder, store: ImageStore, pool: WorkerPool,
                 held: Callable[[str, str], bool],
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.config, self.urls, self.store, self.pool = config, urls, store, pool
        self.held = held
        self.progress = progress
        self._base = ""

    @functools.cached_property
    def libraries(self) -> ImageLibraries:
        """Pillow's versions and formats (asked only when a build has photos, and then usually
        known from the cache without importing Pillow: see storefront.imagelibs)."""
        return image_libraries(self.store.cache)

    @functools.cached_property
    def recipe(self) -> Recipe:
        return recipe_of(self.config, self.libraries.formats)

    def _key(self, *parts: str) -> str:
        if not self._base:
            self._base = digest(PIPELINE, self.libraries.versions, repr(self.recipe))
        return digest(self._base, *parts)

    def run(self, assets: Sequence[SourceFile], documents: Iterable[Document],
            config_text: str, memo: ImageMemo | None = None,
            templates: Iterable[TemplateImage] = ()) -> ImageResult:
        """The stage; with a session's ``memo``, the same photos, uses and settings as last time
        give last time's result at the cost of a look at each file it publishes. ``templates``:
        the photos the theme's templates name (:mod:`storefront.templateimages`)."""
        uses, warnings = collect_uses(documents, self.config, config_text, self.urls.base_path,
                                      memo.uses if memo is not None else None, templates)
        if memo is None:
            return self._run(assets, uses, warnings)
        key = digest(repr(self.config.images), self.urls.base_path, repr(uses), repr(warnings),
                     *(f"{asset.path} {asset.digest}" for asset in assets))
        last = memo.result
        if memo.key == key and last is not None and all(
                self.held(self.urls.output_path(output.url) or "", output.sha256)
                or self.store.intact(output.sha256) for output in last.outputs):
            return replace(last, processed=0)
        memo.key, memo.result = "", None
        result = self._run(assets, uses, warnings)
        if not result.errors:
            memo.key, memo.result = key, result
        return result

    def _run(self, assets: Sequence[SourceFile], uses: list[ImageUse],
             warnings: list[ContentError]) -> ImageResult:
        by_path: dict[str, list[ImageUse]] = {}
        for use in uses:
            by_path.setdefault(use.path, []).append(use)
        errors: list[ContentError] = []
        images: dict[str, ImageInfo] = {}
        jobs: list[ImageJob] = []
        stored: dict[str, dict[str, Any]] = {}
        rasters: list[tuple[SourceFile, list[ImageUse], dict[str, str]]] = []
        copied: set[str] = set()
        for asset in assets:
            path = "/assets/" + asset.asset_path  # a file's own name: nothing to decode or cut
            used = by_path.pop(path, [])
            extension = asset.path.rsplit(".", 1)[-1].lower() if "." in asset.path else ""
            if extension in RASTER:
                keys = self._keys(asset, used)
                too_long = self._copy_name_bytes(asset, keys)
                if too_long:
                    errors.extend(_problem_errors(asset, used, (
                        f"has a name too long for its resized copies: theirs would have "
                        f"{too_long} bytes, and a file name can have at most {NAME_BYTES} (an "
                        f"accented letter takes 2)",
                        "give the photo a shorter name, and write the new name where it is used")))
                    continue
                rasters.append((asset, used, keys))
                job = self._plan_job(asset, keys, stored)
                if job is not None:
                    jobs.append(job)
                continue
            copied.add(asset.path)
            warnings.extend(_place_warning(asset, extension))
            info = self._copied_info(asset, path, extension, used, errors)
            if info is not None and used:
                images[path] = info
        failed: dict[str, tuple[str, str]] = {}
        fresh: list[tuple[str, str]] = []
        for outcome in self._process(jobs):
            if outcome.problem is not None:
                failed[outcome.path] = outcome.problem
            fresh.extend(outcome.entries)
            stored.update((key, json.loads(payload)) for key, payload in outcome.entries)
        outputs: dict[str, Output] = {}
        cards: dict[str, Card] = {}
        for asset, used, keys in rasters:
            problem = failed.get(asset.path)
            if problem is not None:
                errors.extend(_problem_errors(asset, used, problem))
                continue
            self._publish(asset, used, keys, stored, images, cards, outputs)
        self.store.save(fresh, [key for _, _, keys in rasters for key in keys.values() if key],
                        int(time.time()))
        catalog = ImageCatalog(images, cards, self.urls.base_path)
        return ImageResult(catalog, tuple(outputs.values()), tuple(errors), tuple(warnings),
                           len(jobs), frozenset(copied))

    # -- planning the work --------------------------------------------------------------------

    def _keys(self, asset: SourceFile, used: list[ImageUse]) -> dict[str, str]:
        """The cache key of each part the photo needs ("" when a part is not needed)."""
        sha = asset.digest
        keys = {"original": self._key("original", sha),
                "variants": self._key("variants", sha) if any(u.shown for u in used) else ""}
        for focus in sorted({u.card for u in used if u.card is not None}):
            keys[f"card {focus}"] = self._key("card", sha, focus)
        return keys

    def _copy_name_bytes(self, asset: SourceFile, keys: dict[str, str]) -> int:
        """The bytes of the longest name the photo's resized copies or cards would have (see
        :meth:`_file_url`), when more than a file name can hold; else 0."""
        if not any(key for name, key in keys.items() if name != "original"):
            return 0  # published as it is, under its own name
        stem = asset.asset_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        label = max(["card", *(f"{width}w" for width in self.config.images.widths)], key=len)
        extension = max(EXTENSION.values(), key=len)
        size = len(f"{stem}-{label}.{'0' * 10}.{extension}".encode("utf-8", "surrogatepass"))
        return size if size > NAME_BYTES else 0

    def _plan_job(self, asset: SourceFile, keys: dict[str, str],
                  stored: dict[str, dict[str, Any]]) -> ImageJob | None:
        """The parts of a photo the cache cannot give (None: none); those it can go to
        ``stored``."""
        for key, payload in self.store.entries(key for key in keys.values() if key).items():
            try:
                entry = json.loads(payload)
                if all(self._available(asset, file) for file in entry["files"]):
                    stored[key] = entry
            except (ValueError, KeyError, TypeError, IndexError):
                continue
        missing = {name: key for name, key in keys.items() if key and key not in stored}
        if not missing:
            return None
        assert asset.file is not None, f"{asset.path} has no file"
        cards = tuple((name[5:], key) for name, key in missing.items() if name.startswith("card "))
        return ImageJob(asset.path, str(asset.file), missing.get("original", ""),
                        missing.get("variants", ""), cards, asset.digest)

    def _available(self, asset: SourceFile, file: list[Any]) -> bool:
        """A stored file is in the output folder as the build would write it, or intact in the
        cache (then it can be copied)."""
        path = self.urls.output_path(self._file_url(asset, file))
        return self.held(path, str(file[4])) or self.store.intact(str(file[4]))

    def _process(self, jobs: list[ImageJob]) -> list[JobOutcome]:
        """Make what the cache did not have, in parallel, telling the progress photo by photo."""
        outcomes: list[JobOutcome] = []
        if not jobs:
            return outcomes
        if self.progress is not None:
            self.progress(0, len(jobs))
        state = ImageState(self.recipe, self.store.folder)
        # the largest photos first, so that no worker is left encoding a big one alone at the end
        order = sorted(range(len(jobs)), key=lambda i: -_file_size(jobs[i].file))
        for part in self.pool.imap(process_chunk, state, [jobs[i] for i in order], chunk=1,
                                   heavy=True):
            outcomes.extend(part)
            if self.progress is not None:
                self.progress(len(outcomes), len(jobs))
        by_job = dict(zip(order, outcomes, strict=True))
        return [by_job[index] for index in range(len(jobs))]

    # -- what is published --------------------------------------------------------------------

    def _file_url(self, asset: SourceFile, file: list[Any], encoded: bool = False) -> str:
        """The URL of a stored file: the photo's own for the original, else named by content;
        as the output's path, or ``encoded`` as pages and feeds write it."""
        role, fmt, width, _, sha = file[:5]
        own = "/assets/" + asset.asset_path
        if role != "original":
            folder, _, name = own.rpartition("/")
            stem = name.rsplit(".", 1)[0]
            label = "card" if role == "card" else f"{width}w"
            own = f"{folder}/{stem}-{label}.{str(sha)[:10]}.{EXTENSION[str(fmt)]}"
        return self.urls.url(url_path(own) if encoded else own)

    def _publish(self, asset: SourceFile, used: list[ImageUse], keys: dict[str, str],
                 stored: dict[str, dict[str, Any]], images: dict[str, ImageInfo],
                 cards: dict[str, Card], outputs: dict[str, Output]) -> None:
        path = "/assets/" + asset.asset_path  # a file's own name: nothing to decode or cut
        original = stored[keys["original"]]
        variants: list[Variant] = []
        for name, key in keys.items():
            if not key:
                continue
            for file in stored[key]["files"]:
                url = self._file_url(asset, file)
                sha, size = str(file[4]), int(file[5])
                # one card may serve two focal points (a photo narrower than the card's shape)
                outputs.setdefault(url, Output(url, asset.path, "image", file=self.store.path(sha),
                                               sha256=sha, size=size))
                shown = self._file_url(asset, file, encoded=True)
                if file[0] == "variant":
                    variants.append(Variant(shown, int(file[2]), int(file[3]), str(file[1])))
                elif file[0] == "card":
                    cards[f"{path} {name[5:]}"] = Card(shown, int(file[2]), int(file[3]))
        if used:
            images[path] = ImageInfo(self.urls.url(url_path(path)), int(original["width"]),
                                     int(original["height"]), tuple(variants), _fallback_of(variants))

    def _copied_info(self, asset: SourceFile, path: str, extension: str, used: list[ImageUse],
                     errors: list[ContentError]) -> ImageInfo | None:
        """What pages know of a file published as it is: an SVG (checked for scripts) or a GIF
        has a size; any other file a page shows as an image is an error there."""
        assert asset.file is not None
        if extension == "svg":
            checked = check_svg(asset.file.read_bytes())
            if isinstance(checked, SvgProblem):
                errors.append(error_at(asset.path, checked.line, checked.message, checked.hint))
                return None
            return ImageInfo(self.urls.url(url_path(path)), checked.width, checked.height)
        if extension == "svgz" or asset.path.lower().endswith(".svg.gz"):
            # served by many hosts as an SVG with Content-Encoding: gzip: its scripts run too
            compressed = check_compressed_svg(asset.file.read_bytes())
            if isinstance(compressed, SvgProblem):
                errors.append(error_at(asset.path, compressed.line, compressed.message,
                                       compressed.hint))
                return None
        if extension == "gif" and used:
            try:
                width, height, _ = image_size(asset.file.read_bytes(),
                                            self.config.images.max_megapixels * 1_000_000)
            except ImageProblem as exc:
                errors.extend(_problem_errors(asset, used, (exc.message, exc.hint)))
                return None
            return ImageInfo(self.urls.url(url_path(path)), width, height)
        for use in used:
            errors.append(error_at(use.source, use.line,
                                   f"the image {use.written} is not an image (a "
                                   f".{extension or 'extensionless'} file)",
                                   "export a JPEG from the camera RAW file and show that"
                                   if extension in CAMERA_RAW else
                                   "link to it as [text](...) instead, or use a JPEG, PNG, WebP, "
                                   "AVIF, HEIC, GIF or SVG file"))
        return None


def _place_warning(asset: SourceFile, extension: str) -> list[ContentError]:
    """A warning for a file published as it is that holds (or may hold) the place where it was
    made: always for a camera RAW file, for a video, JPEG XL or Photoshop file when it does (see
    :mod:`storefront.geotags`); none for any other file."""
    if extension in CAMERA_RAW:
        return [error_at(asset.path, 0, "this camera RAW file is published as it is, with the data "
                         "the camera wrote into it (often the place where the photo was taken, the "
                         "camera's serial number, the date)", _RAW_HINT)]
    if extension not in VIDEO and extension not in LAYERED:
        return []
    assert asset.file is not None
    presence = place_of(str(asset.file), extension)
    if presence == NO:
        return []
    holds = "may hold" if presence == MAYBE else "holds"
    if extension in VIDEO:
        return [error_at(asset.path, 0, f"this video {holds} the place where it was recorded (the "
                         "GPS position the phone or camera wrote into it) and is published as it "
                         "is: storefront cannot remove it from a video", _VIDEO_HINT)]
    return [error_at(asset.path, 0, f"this .{extension} file {holds} the place where the photo was "
                     "taken (a GPS position in its EXIF or XMP) and is published as it is: "
                     "storefront cannot remove it from this format", _LAYERED_HINT)]


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # reported by the job itself


def _fallback_of(variants: list[Variant]) -> str:
    formats = {v.format for v in variants}
    return next((fmt for fmt in ("jpeg", "png", "webp") if fmt in formats), "")


def _problem_errors(asset: SourceFile, used: list[ImageUse],
                    problem: tuple[str, str]) -> list[ContentError]:
    message, hint = problem
    if not used:
        return [error_at(asset.path, 0, f"this file {message}", hint)]
    return [error_at(use.source, use.line, f"the image {use.written} {message}", hint)
            for use in used]

"""What a build is asked to do and what it reports, and the checks made before it starts.

:mod:`storefront.build` runs builds; this module holds the plain data both it and its callers
(the CLI, the preview) use, so that the request types do not depend on the pipeline.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from storefront.config import SiteConfig, load_config
from storefront.errors import BuildFailed, ContentError, error_at
from storefront.site import BuildOptions
from storefront.values import parse_base_url

CACHE_DIR = ".storefront-cache"
PREVIEW_DIR = ".storefront-preview"

# progress(stage, done, total): what a long build is doing, for a progress bar
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildRequest:
    """Everything a build depends on besides the files."""

    root: Path
    output: Path | None = None  # default: root/output
    options: BuildOptions = field(default_factory=BuildOptions)
    base_url: str | None = None  # overrides storefront.yaml (the preview server uses this)
    now: datetime | None = None  # default: SOURCE_DATE_EPOCH, else the clock
    require_base_url: bool = True
    cache_dir: Path | None = None  # default: root/.storefront-cache
    use_cache: bool = True  # False: start from nothing and keep nothing (--no-cache)
    jobs: int | None = None  # worker processes; default: the cores

    @property
    def output_dir(self) -> Path:
        return self.output or self.root / "output"

    @property
    def cache_folder(self) -> Path | None:
        if not self.use_cache:
            return None
        return self.cache_dir or self.root / CACHE_DIR


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
    rendered: int = 0  # pages rendered (the others were unchanged since the last build)
    parsed: int = 0  # files parsed (the others came from the cache)
    cache_discarded: int = 0  # cache entries found damaged or foreign, and ignored
    changed: tuple[str, ...] = ()  # output paths written or deleted
    notices: tuple[str, ...] = ()  # advice that is not an error (an alias to add, say)
    images: int = 0  # photos processed (decoded and encoded); the others came from the cache


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


def check_output_folder(root: Path, output: Path, cache: Path | None = None) -> None:
    """Refuse an output folder that would overwrite or mix with the site's own files, or with
    the build cache (``cache``: a ``--cache-dir``), which the owner would publish with the site."""
    site, target = root.resolve(), output.resolve()
    protected = [site / "content", site / "themes", site / "storefront.yaml", site / CACHE_DIR]
    if target == site or target in site.parents or any(
            target == p or p in target.parents or target in p.parents for p in protected):
        raise BuildFailed([error_at(
            "--output", 0, f"the output folder {output} would overwrite the site's own files",
            "choose a separate folder such as output/ (the default)")])
    problem = cache_folder_problem(root, cache) if cache is not None else None
    if problem is not None:
        raise BuildFailed([error_at("--cache-dir", 0, problem, CACHE_HINT)])
    kept = cache.resolve() if cache is not None else None
    if kept is not None and (target == kept or kept in target.parents or target in kept.parents):
        raise BuildFailed([error_at(
            "--output", 0, f"the output folder {output} and the build cache {cache} are inside "
            "each other: the cache (every page and draft) would be published with the site",
            "keep them apart, for example --cache-dir .storefront-cache and --output output")])
    if target.exists() and not target.is_dir():
        raise BuildFailed([error_at("--output", 0, f"{output} is a file, not a folder",
                                    "choose a folder for the built site")])
    if output.is_symlink() and not target.exists():
        raise BuildFailed([error_at(
            "--output", 0, f"the output folder {output} is a link to {target}, which does not exist",
            "make that folder, or remove the link and build again")])


CACHE_HINT = "choose a folder of its own, such as .storefront-cache (the default)"


def cache_folder_problem(root: Path, cache: Path) -> str | None:
    """Why ``cache`` cannot be the build cache of the site at ``root``, or None.

    A cache keeps its pages and images in folders named ``pages`` and ``images`` (and cleans
    away the ``templates`` of older versions), and empties them when it starts afresh or is
    cleaned: a
    cache folder that is the site, holds it, or lies in its content or themes would delete the
    owner's files (``--cache-dir content`` deleted content/pages, every page of the site).
    """
    site, kept = root.resolve(), cache.resolve()
    own = (site / "content", site / "themes", site / "storefront.yaml")
    if kept == site or kept in site.parents or any(kept == p or p in kept.parents for p in own):
        return (f"the build cache {cache} would mix with the site's own files (its content, "
                "themes or storefront.yaml), which a cache starting afresh would delete")
    return None


def effective_config(request: BuildRequest, memo: list[Any] | None = None) -> SiteConfig:
    """``storefront.yaml`` with the request's overrides; the base URL checked when required
    (``memo``: see :func:`~storefront.config.load_config`)."""
    config = load_config(request.root, memo, request.output_dir)
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

"""``storefront clean``: forget what builds remembered.

Deletes the build cache and the preview folder, and on request the files a build wrote into the
output folder (those its manifest lists, nothing else: a ``CNAME`` the owner put there stays). The
next build then starts from nothing, as ``--no-cache`` would. Returns lines for the CLI to print.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from storefront.cache import remove_cache
from storefront.config import CONFIG_NAME
from storefront.errors import StorefrontError
from storefront.output import remove_written
from storefront.request import CACHE_DIR, PREVIEW_DIR, cache_folder_problem


def clean_site(root: Path, cache_dir: Path | None = None, output: Path | None = None) -> list[str]:
    """Remove the cache, the preview folder and (with ``output``) what builds wrote there.

    ``root`` must be a site (a mistyped ``--root`` said "nothing to clean", as if all were
    clean), unless the cache to remove is named (``--cache-dir``)."""
    if cache_dir is None and not (root / CONFIG_NAME).is_file():
        raise StorefrontError(f"no {CONFIG_NAME} in {root}: run this in the folder of your site, "
                              "or give it with --root (a cache elsewhere: --cache-dir)")
    if cache_dir is not None and (problem := cache_folder_problem(root, cache_dir)) is not None:
        raise StorefrontError(f"{problem}; nothing was deleted")
    done: list[str] = []
    cache = cache_dir or root / CACHE_DIR
    if remove_cache(cache):
        done.append(f"removed the build cache {cache}")
    preview = root / PREVIEW_DIR
    if (preview / ".storefront-manifest.json").is_file():
        shutil.rmtree(preview)
        done.append(f"removed the preview folder {preview}")
    if output is not None:
        removed = remove_written(output)
        done.append(f"removed {removed} files storefront wrote into {output}")
    return done or ["nothing to clean"]

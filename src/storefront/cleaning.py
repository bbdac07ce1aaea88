"""``storefront clean``: forget what builds remembered.

Deletes the build cache and the preview folder, and on request the files a build wrote into the
output folder (those its manifest lists, nothing else: a ``CNAME`` the owner put there stays). The
next build then starts from nothing, as ``--no-cache`` would. Returns lines for the CLI to print.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from storefront.cache import remove_cache
from storefront.output import remove_written
from storefront.request import CACHE_DIR, PREVIEW_DIR


def clean_site(root: Path, cache_dir: Path | None = None, output: Path | None = None) -> list[str]:
    """Remove the cache, the preview folder and (with ``output``) what builds wrote there."""
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

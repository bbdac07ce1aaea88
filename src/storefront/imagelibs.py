"""Which Pillow, pillow-heif and codecs a build would process photos with, usually known without
importing them.

Processed photos are cached under keys that name these libraries' versions (an upgrade may change
the bytes a clean build would write). Importing Pillow and pillow-heif and asking their codecs
costs about 35 ms, which a build whose photos are all in the cache (a one-edit build) paid only
to name those keys. The answer is kept in the build cache with a stamp made without importing
anything: the size, mtime and inode of every file of both packages and of the codec libraries
their wheels bundle beside them, plus the version of the zlib this process runs with (Pillow's
wheels use the system's). Reinstalling or upgrading either package changes the stamp. A Pillow
from a system package (Debian's ``python3-pil``) uses codecs that the system upgrades on its own:
it has no bundled-library folder, gets no stamp, and is asked on every build.
"""

from __future__ import annotations

import importlib.util
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from storefront.cache import BuildCache
from storefront.fingerprints import digest
from storefront.imaging import library_versions, writable_formats
from storefront.installed import stat_line

MEMO = "image libraries"
MODERN_FORMATS = ("avif", "webp")  # every format storefront.yaml may ask for (ModernFormat)
# (package, its compiled module when it lies outside the package, the wheel's bundled libraries)
INSTALLED = (("PIL", None, "pillow.libs"), ("pillow_heif", "_pillow_heif", "pillow_heif.libs"))


@dataclass(frozen=True)
class ImageLibraries:
    versions: str  # Pillow's and pillow-heif's versions and their codecs'
    formats: tuple[str, ...]  # the modern formats the installed Pillow can encode


def image_libraries(cache: BuildCache) -> ImageLibraries:
    """The libraries' versions and abilities: from the cache when their files are those it saw."""
    stamp = installed_stamp()
    if stamp is not None:
        known = _stored(cache.memo(MEMO), stamp)
        if known is not None:
            return known
    found = ImageLibraries(library_versions(), writable_formats(MODERN_FORMATS))
    if stamp is not None and cache.persistent:
        cache.save_memo(MEMO, json.dumps({"stamp": stamp, "versions": found.versions,
                                          "formats": list(found.formats)}))
    return found


def installed_stamp(installed: tuple[tuple[str, str | None, str], ...] = INSTALLED) -> str | None:
    """A digest of the installed files of Pillow and pillow-heif with their bundled codecs, found
    without importing them; None when either is missing or has no bundled-library folder."""
    parts = [f"zlib {zlib.ZLIB_RUNTIME_VERSION}"]
    try:
        for package, module, bundled in installed:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                return None
            folder = Path(next(iter(spec.submodule_search_locations)))
            libraries = folder.parent / bundled
            if not libraries.is_dir():
                return None
            files = [folder, libraries]
            if module is not None:
                compiled = importlib.util.find_spec(module)
                if compiled is None or compiled.origin is None:
                    return None
                files.append(Path(compiled.origin))
            parts += [stat_line(path) for path in files]
    except (OSError, ImportError, ValueError):
        return None
    return digest(*parts)


def _stored(payload: str | None, stamp: str) -> ImageLibraries | None:
    try:
        data = json.loads(payload or "")
        if data["stamp"] != stamp:
            return None
        versions, formats = data["versions"], data["formats"]
        if not isinstance(versions, str) or not all(f in MODERN_FORMATS for f in formats):
            return None
        return ImageLibraries(versions, tuple(formats))
    except (ValueError, KeyError, TypeError):
        return None

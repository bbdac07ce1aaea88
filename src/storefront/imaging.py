"""Decode a photo safely and have what pages show of it made: resized copies, a share card, and
the photo itself without metadata.

Stage 3, pure: bytes in, bytes out (no file I/O), so a worker process can run it and the result
depends only on the bytes and the :class:`Recipe`. Pillow does the work (pillow-heif adds HEIC
and HEIF, the format of iPhone photos):

* only the formats a web page can use are opened (never, say, EPS, which Pillow would hand to
  Ghostscript), and an image larger than ``max_pixels`` is refused from its header, before a
  byte of it is decoded (a decompression bomb: a small file that would take gigabytes);
* the EXIF orientation is applied, so the photo stands upright without its EXIF block;
* copies are never wider than the photo; JPEGs are decoded at a reduced scale (libjpeg's DCT
  scaling) when the largest copy needs no more, which makes large photos several times faster;
* the outputs themselves (no metadata but the colour profile, fixed single-threaded encoders)
  are made by :mod:`storefront.renditions`.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storefront.imageconfig import ImageQuality
from storefront.metadata import MetadataError
from storefront.renditions import (
    CARD_SIZE,
    EXTENSION,
    ORIGINAL_FORMAT,
    Encoded,
    card,
    original_bytes,
    prepared,
    variants,
)

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["EXTENSION", "PIPELINE", "Encoded", "ImageProblem", "Processed", "Recipe", "image_size",
           "library_versions", "process", "variant_widths", "writable_formats"]

PIPELINE = "4"  # change when the output of this module changes for the same input and recipe
# Pillow's format names of what may be opened: what browsers show, plus HEIC/HEIF, TIFF and BMP
OPENABLE = ("JPEG", "PNG", "WEBP", "AVIF", "HEIF", "TIFF", "BMP", "GIF")


class ImageProblem(Exception):
    """The bytes are not an image storefront can use: a message and a hint for the owner."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Recipe:
    """The settings that decide the bytes of every output (part of each cache key)."""

    widths: tuple[int, ...]
    formats: tuple[str, ...]  # modern formats this Pillow can write: "avif", "webp"
    quality: ImageQuality
    max_pixels: int


@dataclass(frozen=True)
class Processed:
    width: int  # the photo's own size, upright
    height: int
    outputs: tuple[Encoded, ...]


def writable_formats(wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The modern formats of ``wanted`` that the installed Pillow can encode (AVIF may be absent)."""
    from PIL import features

    return tuple(f for f in wanted if features.check(f))


def library_versions() -> str:
    """The versions of Pillow, pillow-heif and the codecs they use: what the bytes depend on."""
    import PIL
    import pillow_heif
    from PIL import features

    codecs = " ".join(f"{name}={features.version(name)}" for name in ("jpg", "zlib", "webp", "avif"))
    return f"pillow={PIL.__version__} pillow-heif={pillow_heif.__version__} {codecs}"


def variant_widths(width: int, wanted: tuple[int, ...]) -> tuple[int, ...]:
    """The configured widths the photo can give without upscaling, plus its own width when some
    configured width is larger than the photo (its full detail is still worth offering)."""
    fitting = tuple(w for w in wanted if w < width)
    return (*fitting, width) if len(fitting) < len(wanted) else fitting


def fallback_format(source_format: str, has_alpha: bool) -> str:
    """The format every browser shows, for the ``<img>`` itself: the photo's own where it can."""
    if source_format == "WEBP":
        return "webp"
    if has_alpha or source_format in ("PNG", "GIF"):
        return "png"
    return "jpeg"


def process(data: bytes, recipe: Recipe, copies: bool, cards: tuple[str, ...],
            original: bool) -> Processed:
    """What one photo needs: the copy without metadata (``original``), the resized copies in
    every format (``copies``), and one share card per focal point in ``cards``."""
    with _opened(data, recipe.max_pixels) as image:
        source_format = str(image.format)
        if source_format == "TIFF":
            # a recent Pillow (13) turns a TIFF upright as it loads it (its size says so already, and
            # the orientation tag goes): read both once that is done, not to turn it twice
            image.load()
        orientation = _orientation(image)
        stored = image.size
        width, height = (stored[1], stored[0]) if orientation in (5, 6, 7, 8) else stored
        outputs: list[Encoded] = []
        if original:
            outputs.append(Encoded("original", ORIGINAL_FORMAT[source_format], width, height,
                                   original_bytes(data, image, source_format, orientation,
                                                  recipe.quality)))
        # an animation (APNG, animated WebP) is published as it is (its frames kept losslessly);
        # the other formats publish their first image only, so their other frames are no
        # animation but the next page of a scan, a HEIF's other images, a phone's depth map (MPO)
        animated = source_format in ("PNG", "WEBP") and getattr(image, "is_animated", False)
        if (copies or cards) and not animated:
            widths = variant_widths(width, recipe.widths)
            needed = max(widths) if copies else 1
            if cards:
                needed = max(needed, _card_source_width(width, height))
            if source_format in ("JPEG", "MPO") and needed < width:
                scale = needed / width
                image.draft(image.mode, (math.ceil(stored[0] * scale), math.ceil(stored[1] * scale)))
            upright, icc = prepared(image)
            if copies:
                outputs.extend(variants(upright, icc, (width, height), widths, recipe.formats,
                                        recipe.quality,
                                        fallback_format(source_format, upright.mode == "RGBA")))
            outputs.extend(card(upright, icc, focus, recipe.quality) for focus in cards)
    return Processed(width, height, tuple(outputs))


def image_size(data: bytes, max_pixels: int) -> tuple[int, int, str]:
    """Width, height and format of an image read from its header (GIFs, which are copied as
    they are); raises :class:`ImageProblem` like :func:`process`."""
    with _opened(data, max_pixels) as image:
        return image.size[0], image.size[1], ORIGINAL_FORMAT[str(image.format)]


# -- decoding -----------------------------------------------------------------------------------

@contextmanager
def _opened(data: bytes, max_pixels: int) -> Iterator[Image.Image]:
    from PIL import Image, UnidentifiedImageError

    _register_heif()
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = None  # the header is read here; the size is checked below
            try:
                image = Image.open(io.BytesIO(data), formats=OPENABLE)
                pixels = image.size[0] * image.size[1]
            except UnidentifiedImageError:
                raise ImageProblem(
                    "is not an image storefront can read (it is not a JPEG, PNG, WebP, AVIF, "
                    "HEIC, TIFF, BMP or GIF file)", _UNREADABLE_HINT) from None
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise _unreadable(exc) from None
            if pixels > max_pixels:
                raise _too_large(image.size, max_pixels)
            Image.MAX_IMAGE_PIXELS = max_pixels  # and Pillow's own checks while decoding
            try:
                yield image
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise _too_large(None, max_pixels) from None
            except (OSError, SyntaxError, ValueError, EOFError, MetadataError) as exc:
                raise _unreadable(exc) from None
            finally:
                image.close()
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> ImageProblem:
    limit = max_pixels // 1_000_000
    shown = f"{size[0]}x{size[1]} pixels ({size[0] * size[1] // 1_000_000} megapixels)" if size else \
        "far larger than a photo"
    return ImageProblem(
        f"is {shown}, more than the limit of {limit} megapixels (an image this large would "
        "exhaust the memory of the build)",
        "resize it to a web size (a 4000-pixel-wide photo is plenty), or raise "
        "images.max_megapixels in storefront.yaml")


_UNREADABLE_HINT = "save it again as JPEG, PNG, WebP, AVIF or HEIC, or replace it"


def _unreadable(exc: BaseException) -> ImageProblem:
    detail = str(exc).split("\n")[0] or type(exc).__name__
    return ImageProblem(f"is damaged or cut short, storefront cannot read it ({detail})",
                        _UNREADABLE_HINT)


_heif_registered: list[bool] = []


def _register_heif() -> None:
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered.append(True)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except (ValueError, SyntaxError, OSError):  # a broken EXIF block: as if there were none
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _card_source_width(width: int, height: int) -> int:
    """The upright width a card needs the decoded photo to have (its crop must be 1200 wide)."""
    crop_width = min(width, height * CARD_SIZE[0] / CARD_SIZE[1])
    return min(width, math.ceil(width * CARD_SIZE[0] / crop_width))

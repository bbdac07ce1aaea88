"""Decode a photo safely and encode what pages show of it: resized copies, a share card, and the
photo itself without metadata.

Stage 3, pure: bytes in, bytes out (no file I/O), so a worker process can run it and the result
depends only on the bytes and the :class:`Recipe`. Pillow does the work (pillow-heif adds HEIC
and HEIF, the format of iPhone photos):

* only the formats a web page can use are opened (never, say, EPS, which Pillow would hand to
  Ghostscript), and an image larger than ``max_pixels`` is refused from its header, before a
  byte of it is decoded (a decompression bomb: a small file that would take gigabytes);
* the EXIF orientation is applied, so the photo stands upright without its EXIF block;
* nothing of the source's metadata is passed to an encoder but the ICC colour profile, and only
  an RGB one; a CMYK or grey profile is applied (the pixels are converted to sRGB) instead;
* copies are never wider than the photo; JPEGs are decoded at a reduced scale (libjpeg's DCT
  scaling) when the largest copy needs no more, which makes large photos several times faster;
* every encoder runs single-threaded with fixed settings: its bytes are the same on any machine
  and in any worker (AVIF's output depends on its thread count).
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from storefront.imageconfig import ImageQuality
from storefront.metadata import MetadataError, strip_jpeg, strip_png, strip_webp
from storefront.values import focus_point

if TYPE_CHECKING:
    from PIL import Image

PIPELINE = "1"  # change when the output of this module changes for the same input and recipe
CARD_SIZE = (1200, 630)
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif",
        "gif": "image/gif", "svg": "image/svg+xml", "heif": "image/heif", "tiff": "image/tiff",
        "bmp": "image/bmp"}
EXTENSION = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
# Pillow's format names of what may be opened: what browsers show, plus HEIC/HEIF, TIFF and BMP
OPENABLE = ("JPEG", "PNG", "WEBP", "AVIF", "HEIF", "TIFF", "BMP", "GIF")
_ORIGINAL_FORMAT = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "AVIF": "avif",
                    "HEIF": "heif", "TIFF": "tiff", "BMP": "bmp", "GIF": "gif"}
AVIF_SPEED = 8  # 0 (slowest, smallest) to 10: 8 is ten times faster than 6 for ~4% more bytes

Role = Literal["original", "variant", "card"]


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
class Encoded:
    """One output file of an image."""

    role: Role
    format: str  # "jpeg", "png", "webp", "avif" (or the source's own format for "original")
    width: int
    height: int
    data: bytes
    focus: str = ""  # cards: the focal point they were cut around


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


def process(data: bytes, recipe: Recipe, variants: bool, cards: tuple[str, ...],
            original: bool) -> Processed:
    """What one photo needs: the copy without metadata (``original``), the resized copies in
    every format (``variants``), and one share card per focal point in ``cards``."""
    with _opened(data, recipe.max_pixels) as image:
        source_format = str(image.format)
        orientation = _orientation(image)
        stored = image.size
        width, height = (stored[1], stored[0]) if orientation in (5, 6, 7, 8) else stored
        outputs: list[Encoded] = []
        if original:
            outputs.append(Encoded("original", _ORIGINAL_FORMAT[source_format], width, height,
                                   _original_bytes(data, image, source_format, orientation,
                                                   recipe.quality)))
        # an animation (APNG, animated WebP) is published as it is; an MPO's second frame is a
        # phone's depth or gain map, not an animation
        animated = source_format != "MPO" and getattr(image, "is_animated", False)
        if (variants or cards) and not animated:
            widths = variant_widths(width, recipe.widths)
            needed = max(widths) if variants else 1
            if cards:
                needed = max(needed, _card_source_width(width, height))
            if source_format in ("JPEG", "MPO") and needed < width:
                scale = needed / width
                image.draft(image.mode, (math.ceil(stored[0] * scale), math.ceil(stored[1] * scale)))
            upright, icc = _prepared(image)
            if variants:
                outputs.extend(_variants(upright, icc, width, height, widths, recipe,
                                         fallback_format(source_format, upright.mode == "RGBA")))
            outputs.extend(_card(upright, icc, focus, recipe.quality) for focus in cards)
    return Processed(width, height, tuple(outputs))


def image_size(data: bytes, max_pixels: int) -> tuple[int, int, str]:
    """Width, height and format of an image read from its header (GIFs, which are copied as
    they are); raises :class:`ImageProblem` like :func:`process`."""
    with _opened(data, max_pixels) as image:
        return image.size[0], image.size[1], _ORIGINAL_FORMAT[str(image.format)]


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


def _prepared(image: Image.Image) -> tuple[Image.Image, bytes | None]:
    """The decoded image upright, in RGB or RGBA with no metadata, and the ICC profile to keep."""
    from PIL import Image as PILImage
    from PIL import ImageCms, ImageOps

    image.load()
    icc = image.info.get("icc_profile") or None
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
        upright = upright.point(lambda value: value / 256).convert("L")
    has_alpha = upright.has_transparency_data
    target = "RGBA" if has_alpha else "RGB"
    if icc is not None:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = profile.profile.xcolor_space.strip()
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            profile, space, icc = None, "", None  # a broken profile: the pixels as they are
        if profile is not None and (space != "RGB" or upright.mode not in ("RGB", "RGBA")):
            # a CMYK or grey profile cannot travel with RGB pixels: apply it now, to sRGB
            source = upright.convert("RGB") if upright.mode not in ("RGB", "CMYK", "L") else upright
            if has_alpha:
                alpha = upright.getchannel("A")
            try:
                converted = ImageCms.profileToProfile(
                    source, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
            except ImageCms.PyCMSError:
                converted = None
            upright = converted if isinstance(converted, PILImage.Image) else source.convert("RGB")
            if has_alpha:
                upright.putalpha(alpha)
            icc = None
    if upright.mode != target:
        upright = upright.convert(target)
    clean = upright.copy()
    clean.info.clear()
    return clean, icc


# -- outputs ------------------------------------------------------------------------------------

def _variants(image: Image.Image, icc: bytes | None, width: int, height: int,
              widths: tuple[int, ...], recipe: Recipe, fallback: str) -> list[Encoded]:
    from PIL import Image as PILImage

    formats = [f for f in recipe.formats if f != fallback] + [fallback]
    found: list[Encoded] = []
    current = image
    for target in sorted(widths, reverse=True):
        size = (target, max(1, round(height * target / width)))
        if current.size != size:
            current = current.resize(size, PILImage.Resampling.LANCZOS)
        found.extend(Encoded("variant", fmt, size[0], size[1],
                             encode(current, fmt, recipe.quality, icc)) for fmt in formats)
    return sorted(found, key=lambda e: (e.width, e.format))


def _card_source_width(width: int, height: int) -> int:
    """The upright width a card needs the decoded photo to have (its crop must be 1200 wide)."""
    crop_width = min(width, height * CARD_SIZE[0] / CARD_SIZE[1])
    return min(width, math.ceil(width * CARD_SIZE[0] / crop_width))


def _card(image: Image.Image, icc: bytes | None, focus: str, quality: ImageQuality) -> Encoded:
    """A 1200x630 crop around the focal point (smaller when the photo is: never upscaled)."""
    from PIL import Image as PILImage

    if image.mode == "RGBA":
        flat = PILImage.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    across, down = focus_point(focus)
    ratio = CARD_SIZE[0] / CARD_SIZE[1]
    crop_w = min(image.width, round(image.height * ratio))
    crop_h = min(image.height, round(crop_w / ratio))
    left = min(max(0, round(across * image.width - crop_w / 2)), image.width - crop_w)
    top = min(max(0, round(down * image.height - crop_h / 2)), image.height - crop_h)
    box = (left, top, left + crop_w, top + crop_h)
    size = CARD_SIZE if crop_w >= CARD_SIZE[0] else (crop_w, crop_h)
    card = image.resize(size, PILImage.Resampling.LANCZOS, box=box)
    return Encoded("card", "jpeg", size[0], size[1], encode(card, "jpeg", quality, icc), focus)


def encode(image: Image.Image, fmt: str, quality: ImageQuality, icc: bytes | None) -> bytes:
    """Encode with fixed settings and no metadata but the ICC profile."""
    out = io.BytesIO()
    profile = {"icc_profile": icc} if icc else {}
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=quality.jpeg, optimize=True, progressive=True, **profile)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=quality.webp, method=4, **profile)
    elif fmt == "avif":
        image.save(out, "AVIF", quality=quality.avif, speed=AVIF_SPEED, max_threads=1, **profile)
    elif fmt == "png":
        image.save(out, "PNG", **profile)
    elif fmt == "heif":
        image.save(out, "HEIF", quality=quality.jpeg, **profile)
    else:
        image.save(out, fmt.upper(), **profile)
    return out.getvalue()


def _original_bytes(data: bytes, image: Image.Image, source_format: str, orientation: int,
                    quality: ImageQuality) -> bytes:
    """The photo at full size without metadata: losslessly for JPEG, PNG and WebP (the
    compressed data is kept as it is); other formats are encoded again, in the same format."""
    if source_format in ("JPEG", "MPO"):
        return strip_jpeg(data, orientation)
    if source_format == "PNG":
        return strip_png(data, orientation)
    if source_format == "WEBP":
        return strip_webp(data, orientation)
    from PIL import ImageOps

    image.load()
    icc = image.info.get("icc_profile") or None
    upright = ImageOps.exif_transpose(image).copy()
    upright.info.clear()
    fmt = _ORIGINAL_FORMAT[source_format]
    if fmt in ("heif", "avif") and upright.mode not in ("RGB", "RGBA"):
        upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
    return encode(upright, fmt, quality, icc)

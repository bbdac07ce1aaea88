"""What is made of a decoded photo: resized copies, a share card, the photo without metadata.

Stage 3, pure: images in, bytes out. :mod:`storefront.imaging` decodes a photo safely and asks
for these. Every output carries no metadata but an RGB ICC colour profile (a CMYK or grey one is
applied, converting the pixels to sRGB, since it cannot travel with RGB pixels), and every
encoder runs single-threaded with fixed settings, so its bytes are the same on any machine and in
any worker (AVIF's output depends on its thread count). The photo itself is published without
metadata losslessly where the format allows (:mod:`storefront.metadata`): its compressed data is
kept byte for byte.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from storefront.imageconfig import ImageQuality
from storefront.metadata import strip_jpeg, strip_png, strip_webp
from storefront.values import focus_point

if TYPE_CHECKING:
    from PIL import Image

CARD_SIZE = (1200, 630)
EXTENSION = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
# Pillow's format names of what may be opened, and the format each is published in
ORIGINAL_FORMAT = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "AVIF": "avif",
                   "HEIF": "heif", "TIFF": "tiff", "BMP": "bmp", "GIF": "gif"}
AVIF_SPEED = 8  # 0 (slowest, smallest) to 10: 8 is ten times faster than 6 for ~4% more bytes

Role = Literal["original", "variant", "card"]


@dataclass(frozen=True)
class Encoded:
    """One output file of an image."""

    role: Role
    format: str  # "jpeg", "png", "webp", "avif" (or the source's own format for "original")
    width: int
    height: int
    data: bytes
    focus: str = ""  # cards: the focal point they were cut around


def prepared(image: Image.Image) -> tuple[Image.Image, bytes | None]:
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


def variants(image: Image.Image, icc: bytes | None, size: tuple[int, int],
             widths: tuple[int, ...], formats: tuple[str, ...], quality: ImageQuality,
             fallback: str) -> list[Encoded]:
    """The copies at each width, in each modern format and in the ``fallback`` format, by width
    then format. ``image`` is upright and at least as wide as the widest copy (it may have been
    decoded at a reduced scale); ``size`` is the photo's own, which gives the copies' shape."""
    from PIL import Image as PILImage

    chosen = [f for f in formats if f != fallback] + [fallback]
    found: list[Encoded] = []
    current = image
    for target in sorted(widths, reverse=True):
        shape = (target, max(1, round(size[1] * target / size[0])))
        if current.size != shape:
            current = current.resize(shape, PILImage.Resampling.LANCZOS)
        found.extend(Encoded("variant", fmt, shape[0], shape[1], encode(current, fmt, quality, icc))
                     for fmt in chosen)
    return sorted(found, key=lambda e: (e.width, e.format))


def card(image: Image.Image, icc: bytes | None, focus: str, quality: ImageQuality) -> Encoded:
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
    made = image.resize(size, PILImage.Resampling.LANCZOS, box=box)
    return Encoded("card", "jpeg", size[0], size[1], encode(made, "jpeg", quality, icc), focus)


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


def original_bytes(data: bytes, image: Image.Image, source_format: str, orientation: int,
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
    fmt = ORIGINAL_FORMAT[source_format]
    if fmt in ("heif", "avif") and upright.mode not in ("RGB", "RGBA"):
        upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
    return encode(upright, fmt, quality, icc)

"""Photos made by the tests, carrying what a phone puts in them (imported as ``photos``).

Each photo is upright once its EXIF orientation is applied, with a red block in its top-left
corner and blue elsewhere, so a test can tell whether an output stands upright. Every metadata
block carries a marker string (``MARKER-...``) that must never reach the output.
"""

from __future__ import annotations

import functools
import io
import struct

from PIL import Image, ImageCms

MARKERS = (b"MARKER-EXIF", b"MARKER-GPS", b"MARKER-XMP", b"MARKER-IPTC", b"MARKER-COMMENT",
           b"MARKER-TEXT", b"MARKER-JUMBF", b"MARKER-SECOND")
RED, BLUE = (220, 20, 20), (20, 40, 200)
# the transpose that stores an upright picture so that this EXIF orientation shows it upright
_STORE = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
          8: Image.Transpose.ROTATE_270}
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
       b'syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
       b'exif:GPSLatitude="43,44.0N" exif:UserComment="MARKER-XMP"/></rdf:RDF></x:xmpmeta>')


@functools.cache
def srgb_profile() -> bytes:
    """One sRGB profile for every photo of a test run (a profile records when it was made)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def upright(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Blue with a red block in the top-left quarter."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height // 2))
    return image.convert(mode) if mode != "RGB" else image


def exif_block(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "MARKER-EXIF camera maker"
    exif[0x0110] = "Serial 0042"
    exif[0x8825] = {1: "N", 2: (43.0, 44.0, 1.0), 3: "E", 4: (11.0, 1.0, 7.0),
                    0x001B: b"ASCII\x00\x00\x00MARKER-GPS"}
    return exif


def stored(image: Image.Image, orientation: int) -> Image.Image:
    transpose = _STORE[orientation]
    return image.transpose(transpose) if transpose is not None else image


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(width: int, height: int, orientation: int = 1, everything: bool = True) -> bytes:
    """A JPEG with EXIF (GPS, maker), XMP, a comment, an ICC profile, and, with ``everything``,
    an IPTC block, a JUMBF (C2PA) segment and a second image appended after its end (MPF)."""
    picture = stored(upright(width, height), orientation)
    out = io.BytesIO()
    options = {"exif": exif_block(orientation).tobytes(), "icc_profile": srgb_profile(),
               "comment": b"MARKER-COMMENT", "xmp": XMP, "quality": 90}
    if everything:
        second = Image.new("RGB", (32, 24), (0, 200, 0))
        second_exif = exif_block(1)
        second_exif[0x010F] = "MARKER-SECOND"
        second.encoderinfo = {"exif": second_exif.tobytes()}
        picture.save(out, "MPO", save_all=True, append_images=[second], **options)
    else:
        picture.save(out, "JPEG", **options)
    data = out.getvalue()
    if everything:
        iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x12\x1c\x02\x5a\x00\x0bMARKER-IPTC"
        data = data[:2] + _segment(0xED, iptc) + _segment(0xEB, b"JP\x00\x00MARKER-JUMBF") + data[2:]
    return data


def png(width: int, height: int, orientation: int = 1, alpha: bool = False) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "MARKER-TEXT")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    picture = stored(upright(width, height, "RGBA" if alpha else "RGB"), orientation)
    out = io.BytesIO()
    picture.save(out, "PNG", pnginfo=info, exif=exif_block(orientation).tobytes(),
                 icc_profile=srgb_profile())
    return out.getvalue()


def webp(width: int, height: int, orientation: int = 1, lossless: bool = False) -> bytes:
    picture = stored(upright(width, height), orientation)
    out = io.BytesIO()
    picture.save(out, "WEBP", exif=exif_block(orientation).tobytes(), xmp=XMP,
                 icc_profile=srgb_profile(), lossless=lossless, quality=90)
    return out.getvalue()


def heic(width: int, height: int, orientation: int = 1) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    picture = stored(upright(width, height), orientation)
    out = io.BytesIO()
    picture.save(out, "HEIF", exif=exif_block(orientation).tobytes(), xmp=XMP,
                 icc_profile=srgb_profile(), quality=90)
    return out.getvalue()


def is_upright(image: Image.Image) -> bool:
    """Red in the top-left corner and blue in the others (after the EXIF orientation)."""
    from PIL import ImageOps

    shown = ImageOps.exif_transpose(image).convert("RGB")
    w, h = shown.size

    def near(point: tuple[int, int], colour: tuple[int, int, int]) -> bool:
        pixel = shown.getpixel(point)
        assert isinstance(pixel, tuple)
        return all(abs(a - b) < 60 for a, b in zip(pixel, colour, strict=False))

    return (near((w // 8, h // 8), RED) and near((w - w // 8, h // 8), BLUE)
            and near((w // 8, h - h // 8), BLUE))

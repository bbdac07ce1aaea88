"""Videos, JPEG XL and Photoshop files made by the tests, box by box, holding the place where they
were made as phones and editors write it (imported as ``placed``)."""

from __future__ import annotations

import struct

import photos

LOCATION = b"+45.4642+009.1900/"  # ISO 6709, as in a phone's video
APPLE_KEY = b"com.apple.quicktime.location.ISO6709"


def box(kind: bytes, payload: bytes) -> bytes:
    """An ISO base media (QuickTime, MP4, 3GP, JPEG XL) box."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def video(udta: bytes = b"", meta: bytes = b"", brand: bytes = b"qt  ") -> bytes:
    """A video's structure: ``ftyp``, the media data first (as phones write it), then ``moov``
    with a track whose sample tables happen to hold the bytes of ``©xyz`` and ``loci`` (they are
    not metadata), and the given ``udta`` and ``meta`` contents."""
    tables = box(b"stbl", box(b"stco", struct.pack(">II", 0, 2) + b"\xa9xyzloci"))
    trak = box(b"trak", box(b"tkhd", bytes(84)) + box(b"mdia", box(b"minf", tables)))
    moov = box(b"mvhd", bytes(100)) + trak
    if udta:
        moov += box(b"udta", udta)
    if meta:
        moov += box(b"meta", meta)
    return (box(b"ftyp", brand + bytes(4) + brand) + box(b"mdat", bytes(40_000))
            + box(b"moov", moov))


def android_location() -> bytes:
    """``udta/©xyz``, as Android's camera (and older iPhones) write it."""
    return box(b"\xa9xyz", struct.pack(">HH", len(LOCATION), 0x15C7) + LOCATION)


def iphone_location() -> bytes:
    """``meta`` with the ``mdta`` key of the location, as iPhones write it."""
    keys = box(b"keys", struct.pack(">II", 0, 1) + struct.pack(">I4s", 8 + len(APPLE_KEY), b"mdta")
               + APPLE_KEY)
    value = box(b"data", struct.pack(">II", 1, 0) + LOCATION)
    return box(b"hdlr", bytes(8) + b"mdta" + bytes(13)) + keys + box(b"ilst", box(
        struct.pack(">I", 1), value))


def jpeg_xl(*boxes: bytes) -> bytes:
    """A JPEG XL file in its container, with these boxes before the codestream."""
    return (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ")
            + b"".join(boxes) + box(b"jxlc", b"\xff\x0a" + bytes(30)))


def exif_gps() -> bytes:
    """EXIF (a TIFF structure) with the GPS position of :func:`photos.exif_block`."""
    return photos.exif_block().tobytes()[6:]  # without the "Exif\0\0" of a JPEG segment


def photoshop(*resources: tuple[int, bytes]) -> bytes:
    """A 2x2 RGB Photoshop file with these image resources (id, data)."""
    blocks = b""
    for resource, data in resources:
        blocks += (b"8BIM" + struct.pack(">HBxI", resource, 0, len(data)) + data
                   + bytes(len(data) % 2))
    return (b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 2, 2, 8, 3) + struct.pack(">I", 0)
            + struct.pack(">I", len(blocks)) + blocks + struct.pack(">IH", 0, 0) + bytes(12))

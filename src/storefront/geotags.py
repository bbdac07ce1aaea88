"""Whether a file published as it is holds the place where it was made.

Part of the image stage (:mod:`storefront.images`), for the files of ``content/assets/`` that
storefront copies without cleaning them: a phone's video (``.mov``, ``.mp4``, ``.m4v``, ``.3gp``)
records the GPS position where it was filmed, a JPEG XL or Photoshop file (``.jxl``, ``.psd``)
can keep the camera's EXIF or XMP with it. storefront can clean neither, so the owner is warned;
a warning on every video would be noise for the owners who know, so only a file that really
holds a position is reported, found by reading the file's own structure, never its pixels or
frames:

- a video (ISO base media / QuickTime): the boxes at the top of the file are walked by their
  headers, skipping the media data, and in ``moov`` only its ``udta`` and ``meta`` boxes (bytes,
  not the sample tables) are read: ``©xyz`` (Apple and Android), ``loci`` (3GPP), the
  ``com.apple.quicktime.location.ISO6709`` key (iPhones), or XMP with a GPS position;
- a JPEG XL file: its ``Exif`` and ``xml `` boxes (a bare codestream has no metadata);
- a Photoshop file: its image resources 1058/1059 (EXIF) and 1060 (XMP).

A file whose structure cannot be read to the end of what matters (truncated, another format
under that name, metadata compressed with Brotli, which storefront does not read) *may* hold one:
:data:`MAYBE`. File I/O only, a few small reads per file; Pillow is imported only to read an
EXIF block.
"""

from __future__ import annotations

import struct
import warnings
from typing import BinaryIO, Literal

Presence = Literal["yes", "maybe", "no"]
YES: Presence = "yes"
MAYBE: Presence = "maybe"
NO: Presence = "no"

VIDEO = frozenset({"mov", "qt", "mp4", "m4v", "3gp", "3g2"})
LAYERED = frozenset({"jxl", "psd", "psb"})  # images in formats storefront does not decode

_GPS_IFD = 0x8825
_XMP_GPS = (b"GPSLatitude", b"GPSLongitude")
_APPLE_LOCATION = b"com.apple.quicktime.location.ISO6709"
_MAX_BOXES = 10_000  # boxes looked at in one file: a hostile file cannot make the walk long
_MAX_READ = 16 << 20  # the most of one metadata box read (real ones are a few KiB)


class _Unreadable(Exception):
    """The file's structure ends or breaks before what matters was read."""


def place_of(path: str, extension: str) -> Presence:
    """Whether the file at ``path`` (named ``.extension``) holds where it was made."""
    try:
        with open(path, "rb") as handle:
            if extension in VIDEO:
                return _video(handle)
            if extension == "jxl":
                return _jpeg_xl(handle)
            if extension in ("psd", "psb"):
                return _photoshop(handle)  # .psb: its resources are laid out alike
    except (OSError, _Unreadable, struct.error):
        return MAYBE
    return NO


def _boxes(handle: BinaryIO, start: int, end: int | None) -> list[tuple[bytes, int, int]]:
    """The boxes from ``start`` to ``end`` (None: the end of the file) as (type, payload offset,
    payload size), found from their headers alone."""
    found: list[tuple[bytes, int, int]] = []
    position = start
    while end is None or position + 8 <= end:
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8 and end is None:
            break  # the end of the file (a few bytes of padding at most)
        if len(header) < 8 or len(found) >= _MAX_BOXES:
            raise _Unreadable
        size, kind = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:  # a 64-bit size follows (large media data)
            size = struct.unpack(">Q", _read(handle, 8))[0]
            payload += 8
        elif size == 0:  # the last box, to the end of its container or of the file
            size = (end if end is not None else handle.seek(0, 2)) - position
        if size < payload - position or (end is not None and position + size > end):
            raise _Unreadable
        found.append((kind, payload, position + size - payload))
        position += size
    return found


def _read(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) < size:
        raise _Unreadable
    return data


def _payload(handle: BinaryIO, offset: int, size: int) -> bytes:
    if size > _MAX_READ:
        raise _Unreadable
    handle.seek(offset)
    return _read(handle, size)


def _video(handle: BinaryIO) -> Presence:
    top = _boxes(handle, 0, None)
    if not any(kind == b"moov" for kind, _, _ in top):
        return MAYBE  # no movie header: not a video this reader understands
    for kind, offset, size in top:
        if kind == b"uuid" and _xmp_has_gps(_payload(handle, offset, size)):
            return YES  # Adobe's XMP box at the top level
        if kind != b"moov":
            continue
        for child, child_offset, child_size in _boxes(handle, offset, offset + size):
            if child not in (b"udta", b"meta"):
                continue  # trak (the sample tables: megabytes) is skipped, not read
            data = _payload(handle, child_offset, child_size)
            if (b"\xa9xyz" in data or b"loci" in data or _APPLE_LOCATION in data
                    or _xmp_has_gps(data)):
                return YES
    return NO


def _jpeg_xl(handle: BinaryIO) -> Presence:
    if handle.read(12) != b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return NO  # a bare codestream: no place for metadata
    presence = NO
    for kind, offset, size in _boxes(handle, 12, None):
        if kind == b"Exif":  # four bytes of offset to the TIFF header, then EXIF
            data = _payload(handle, offset, size)
            if _exif_has_gps(data[4 + int.from_bytes(data[:4], "big"):]):
                return YES
        elif kind == b"xml ":
            if _xmp_has_gps(_payload(handle, offset, size)):
                return YES
        elif kind == b"brob" and _payload(handle, offset, min(size, 4)) in (b"Exif", b"xml "):
            presence = MAYBE  # compressed with Brotli: not read
    return presence


def _photoshop(handle: BinaryIO) -> Presence:
    header = _read(handle, 26)
    if header[:4] != b"8BPS":
        return MAYBE
    mode_data = struct.unpack(">I", _read(handle, 4))[0]
    handle.seek(26 + 4 + mode_data)
    end = handle.tell() + 4 + struct.unpack(">I", _read(handle, 4))[0]
    while handle.tell() + 12 <= end:
        signature, resource, name_length = struct.unpack(">4sHB", _read(handle, 7))
        if signature != b"8BIM":
            raise _Unreadable
        handle.seek(name_length + (1 - name_length % 2), 1)  # the name, padded to an even size
        size = struct.unpack(">I", _read(handle, 4))[0]
        start = handle.tell()
        if resource in (1058, 1059, 1060):
            data = _payload(handle, start, size)
            if _xmp_has_gps(data) if resource == 1060 else _exif_has_gps(data):
                return YES
        handle.seek(start + size + size % 2)
    return NO


def _exif_has_gps(data: bytes) -> bool:
    """Whether EXIF (a TIFF structure) has a GPS block with something in it."""
    from PIL import Image  # only here: a build whose photos are cached never imports Pillow

    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged EXIF: Pillow warns, and reads what it can
            exif.load(data)
            return bool(exif.get_ifd(_GPS_IFD))
    except (ValueError, OSError, struct.error, SyntaxError, KeyError, TypeError):
        raise _Unreadable from None


def _xmp_has_gps(data: bytes) -> bool:
    return any(name in data for name in _XMP_GPS)

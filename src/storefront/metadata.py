"""Remove identifying metadata from JPEG, PNG and WebP files without touching their pixels.

Stage 3, pure: bytes in, bytes out. A photo linked by hand (``/assets/foto.jpg``) is published
at its own URL as the owner took it, full size, but without what can identify a person or a
place: EXIF (GPS position, camera serial number, dates), XMP, IPTC, maker notes, comments,
embedded thumbnails and previews (which can show the uncropped original), C2PA/JUMBF manifests,
and the second images a phone appends after the first (MPF depth maps and gain maps, each with
an EXIF block of its own).

Each filter is a list of what to *keep*, never of what to drop: the segments or chunks a decoder
needs to show the picture (compressed data, tables, palette, transparency, animation) and the ICC
colour profile. Anything else, including blocks no list names yet, is left out. The compressed
image data is copied byte for byte, so nothing is re-encoded. The one fact of the EXIF block
that changes how the picture looks, its orientation, is written back alone when it is not the
default, so the photo still shows upright.

Why hand-written: the libraries that edit metadata in place remove the blocks they know (piexif
only EXIF; exiv2 leaves unknown segments and the images appended after a JPEG's end, with their
own EXIF and GPS tags); a privacy guarantee needs a list of what is kept.
"""

from __future__ import annotations

import struct
import zlib

ORIENTATION_TAG = 0x0112


class MetadataError(ValueError):
    """The file's structure is broken where it should name its blocks."""


def orientation_exif(orientation: int) -> bytes:
    """A TIFF-format EXIF block holding only the orientation tag (big-endian, one IFD entry)."""
    header = b"MM\x00\x2a\x00\x00\x00\x08"
    entry = struct.pack(">HHIHH", ORIENTATION_TAG, 3, 1, orientation, 0)
    return header + struct.pack(">H", 1) + entry + struct.pack(">I", 0)


# -- JPEG ---------------------------------------------------------------------------------------

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_TABLES = {0xC4, 0xCC, 0xDB, 0xDD, 0xDC}  # DHT, DAC, DQT, DRI, DNL
_SOS, _EOI = 0xDA, 0xD9


def _keep_jpeg_app(marker: int, payload: bytes) -> bool:
    """An APP1-APP15 segment a decoder needs (APP0 is JFIF's, kept without its thumbnail)."""
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    return marker == 0xEE and payload.startswith(b"Adobe")  # colour transform of CMYK/YCCK


def strip_jpeg(data: bytes, orientation: int = 1) -> bytes:
    """The JPEG without metadata, ending at its first End Of Image (nothing appended after)."""
    if data[:2] != b"\xff\xd8":
        raise MetadataError("not a JPEG file")
    head: list[bytes] = [b"\xff\xd8"]
    body: list[bytes] = []
    position = 2
    while True:
        marker, position = _next_marker(data, position)
        if marker == _EOI:
            body.append(b"\xff\xd9")
            break
        if position + 2 > len(data):
            raise MetadataError("the file ends inside a segment")
        length = struct.unpack(">H", data[position:position + 2])[0]
        end = position + length
        if length < 2 or end > len(data):
            raise MetadataError("a segment runs past the end of the file")
        segment = b"\xff" + bytes([marker]) + data[position:end]
        payload = data[position + 2:end]
        if marker == 0xE0:
            if payload.startswith(b"JFIF\x00") and len(payload) >= 14:
                # version, units, density; its own thumbnail (the pixels after) is left out,
                # and so is a JFXX segment (a thumbnail alone)
                head.append(b"\xff\xe0\x00\x10" + payload[:12] + b"\x00\x00")
        elif 0xE1 <= marker <= 0xEF:
            if _keep_jpeg_app(marker, payload):
                body.append(segment)
        elif marker in _SOF or marker in _JPEG_TABLES:
            body.append(segment)
        elif marker == _SOS:
            scan_end = _scan_end(data, end)
            body.append(segment + data[end:scan_end])
            end = scan_end
        position = end  # COM, JPG extensions and anything unknown are left out
    if orientation != 1:
        exif = b"Exif\x00\x00" + orientation_exif(orientation)
        head.append(b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
    return b"".join(head + body)


def _next_marker(data: bytes, position: int) -> tuple[int, int]:
    """The marker at ``position`` (fill bytes skipped) and the position after it. Bytes before
    it that are not 0xFF (padding some cameras leave between segments) are skipped, and so left
    out, as libjpeg skips them: the segments read here are those every viewer decodes."""
    position = data.find(b"\xff", position)
    if position < 0:
        raise MetadataError("the file ends before its End Of Image marker")
    while position < len(data) and data[position] == 0xFF:
        position += 1
    if position >= len(data):
        raise MetadataError("the file ends before its End Of Image marker")
    return data[position], position + 1


def _scan_end(data: bytes, position: int) -> int:
    """Where the entropy-coded data after a Start Of Scan header ends: at the next marker that
    is neither a stuffed 0xFF00 nor a restart marker."""
    while True:
        found = data.find(b"\xff", position)
        if found < 0 or found + 1 >= len(data):
            raise MetadataError("the image data is cut short")
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position = found + 1 if following == 0xFF else found + 2
            continue
        return found


# -- PNG ----------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT",
             b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT"}


def strip_png(data: bytes, orientation: int = 1) -> bytes:
    """The PNG (or APNG) without text, EXIF, time or private chunks."""
    if not data.startswith(PNG_SIGNATURE):
        raise MetadataError("not a PNG file")
    kept = [PNG_SIGNATURE]
    position = len(PNG_SIGNATURE)
    while position < len(data):
        if position + 8 > len(data):
            raise MetadataError("the file ends inside a chunk header")
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        end = position + 12 + length
        if end > len(data):
            raise MetadataError("a chunk runs past the end of the file")
        if kind == b"IDAT" and orientation != 1 and not any(c[4:8] == b"eXIf" for c in kept):
            kept.append(_png_chunk(b"eXIf", orientation_exif(orientation)))
        if kind in _PNG_KEEP:
            kept.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    return b"".join(kept)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


# -- WebP ---------------------------------------------------------------------------------------

_WEBP_KEEP = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def strip_webp(data: bytes, orientation: int = 1) -> bytes:
    """The WebP without its EXIF and XMP chunks (and any chunk the format does not define)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MetadataError("not a WebP file")
    chunks: list[tuple[bytes, bytes]] = []
    position = 12
    while position + 8 <= len(data):
        kind, size = struct.unpack("<4sI", data[position:position + 8])
        end = position + 8 + size
        if end > len(data):
            raise MetadataError("a chunk runs past the end of the file")
        if kind in _WEBP_KEEP:
            chunks.append((kind, data[position + 8:end]))
        position = end + (size & 1)
    extended = bool(chunks) and chunks[0][0] == b"VP8X"
    if extended:
        header = bytearray(chunks[0][1])
        header[0] &= ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF
        if orientation != 1:
            header[0] |= _VP8X_EXIF
            chunks.append((b"EXIF", orientation_exif(orientation)))
        chunks[0] = (b"VP8X", bytes(header))
    body = b"".join(kind + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)
                    for kind, payload in chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body

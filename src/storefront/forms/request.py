"""Read and decode a form submission from a WSGI environ.

The body is read only up to the size limit (a declared ``Content-Length`` above it is refused
before a byte is read). Two encodings are understood, as browsers send them:
``application/x-www-form-urlencoded`` and ``multipart/form-data``. The multipart reader is strict
and small on purpose: form fields only (file parts are ignored, since no form declares a file),
UTF-8 text only. Anything malformed raises :class:`BadRequest`; nothing here raises anything else
for any input. No storage, no validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

RawForm = dict[str, list[str]]

_MAX_FIELDS = 200
_MAX_LENGTH_DIGITS = 18  # a Content-Length longer than this is absurd (an exabyte)


class BadRequest(Exception):
    """The body cannot be decoded."""


class BodyTooLarge(Exception):
    """The body is larger than the configured limit."""


def read_body(environ: Mapping[str, Any], limit: int) -> bytes:
    """Return the request body, or raise :class:`BodyTooLarge` / :class:`BadRequest`."""
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    stream = environ["wsgi.input"]
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise BadRequest("invalid Content-Length")
        if len(declared) > _MAX_LENGTH_DIGITS:  # before int(), which refuses > 4,300 digits
            raise BodyTooLarge
        length = int(declared)
        if length > limit:
            raise BodyTooLarge
        body = _read_exactly(stream, length)
        if len(body) < length:
            raise BadRequest("body shorter than Content-Length")
        return body
    if not environ.get("wsgi.input_terminated"):
        return b""  # PEP 3333: without a length, reading could block forever
    body = _read_exactly(stream, limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    return body


def _read_exactly(stream: Any, length: int) -> bytes:
    chunks: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def parse_form(content_type: str, body: bytes) -> RawForm:
    """Decode a body into ``{name: [values]}``; raise :class:`BadRequest` when malformed."""
    media_type, params = parse_header_value(content_type)
    if media_type == "application/x-www-form-urlencoded" or (not media_type and not body):
        return _parse_urlencoded(body)
    if media_type == "multipart/form-data":
        boundary = params.get("boundary", "")
        if not boundary or len(boundary) > 70:
            raise BadRequest("multipart body without a valid boundary")
        return _parse_multipart(body, boundary.encode("latin-1", "replace"))
    raise BadRequest(f"unsupported content type {media_type!r}")


def _parse_urlencoded(body: bytes) -> RawForm:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, encoding="utf-8",
            errors="strict", max_num_fields=_MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("malformed URL-encoded body") from exc
    form: RawForm = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


_HEADER_PARAM = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_header_value(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/sub; a=1; b="x"`` into the lowercased type and its parameters."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _HEADER_PARAM.finditer(";" + rest):
        raw = match.group(2).strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params.setdefault(match.group(1).lower(), raw)
    return main.strip().lower(), params


def _parse_multipart(body: bytes, boundary: bytes) -> RawForm:
    delimiter = b"--" + boundary
    # Everything before the first delimiter is preamble; a missing close delimiter is an error.
    if not body.startswith(delimiter):
        start = body.find(b"\r\n" + delimiter)
        if start < 0:
            raise BadRequest("multipart body without its boundary")
        body = body[start + 2 :]
    end = body.find(b"\r\n" + delimiter + b"--")
    if end < 0:
        raise BadRequest("multipart body is not terminated")
    parts = body[len(delimiter) : end].split(b"\r\n" + delimiter)
    if len(parts) > _MAX_FIELDS:
        raise BadRequest("too many fields")
    form: RawForm = {}
    for part in parts:
        if not part.startswith(b"\r\n"):
            raise BadRequest("malformed multipart delimiter")
        head, separator, content = part[2:].partition(b"\r\n\r\n")
        if not separator:
            head, separator, content = part[2:].partition(b"\r\n")  # a part with no headers
            if head or not separator:
                raise BadRequest("malformed multipart part")
        headers = _part_headers(head)
        disposition, params = parse_header_value(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in params:
            raise BadRequest("multipart part without a form-data name")
        if "filename" in params:
            continue  # no form declares a file field
        try:
            value = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("a multipart field is not UTF-8") from exc
        form.setdefault(params["name"], []).append(value)
    return form


def _part_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    if not head:
        return headers
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("multipart headers are not UTF-8") from exc
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise BadRequest("malformed multipart header")
        headers[name.strip().lower()] = value.strip()
    return headers

"""HTTP plumbing of the endpoint: the response value, JSON and HTML bodies, routing.

Pure functions of their arguments; no storage, no validation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Headers = list[tuple[str, str]]


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def to_json(data: object) -> bytes:
    """JSON that stays inert even if a browser sniffs it as HTML."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def wants_json(environ: Mapping[str, Any]) -> bool:
    """The client asked for JSON (the theme's script does)."""
    return "application/json" in str(environ.get("HTTP_ACCEPT") or "").lower()


def json_response(status: int, data: object, cors: Headers | None = None) -> Response:
    headers = [("Content-Type", "application/json; charset=utf-8"), *(cors or [])]
    return Response(status, to_json(data), headers)


def html_response(status: int, page: str, form_action_sources: str,
                  cors: Headers | None = None) -> Response:
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
           f"frame-ancestors 'none'; form-action {form_action_sources}")
    headers = [("Content-Type", "text/html; charset=utf-8"),
               ("Content-Security-Policy", csp), *(cors or [])]
    return Response(status, page.encode("utf-8"), headers)


def split_route(environ: Mapping[str, Any], prefix: str) -> tuple[str, str] | None:
    """``(form name, "submit" | "token" | "confirm" | "unsubscribe")`` for a path under
    ``prefix``, else None."""
    raw_path = str(environ.get("SCRIPT_NAME") or "") + str(environ.get("PATH_INFO") or "")
    path = raw_path.encode("latin-1", "replace").decode("utf-8", "replace")
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix):]
    rest = rest[:-1] if rest.endswith("/") else rest
    action = "submit"
    for suffix in ("token", "confirm", "unsubscribe"):
        if rest.endswith("/" + suffix):
            rest, action = rest[: -len(suffix) - 1], suffix
            break
    return None if "/" in rest or not rest else (rest, action)

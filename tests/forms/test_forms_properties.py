"""Property tests: arbitrary field dicts and raw bodies never cause a 5xx and never come back
unescaped in a response."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from forms_support import SITE, VALID, WsgiClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from storefront.forms import FormsApp

CANARY = "<x-canary a=\"'\">&amp;</x-canary>"

#: Every tag and attribute the endpoint's own pages use.
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "p", "ul", "li",
                "a", "dl", "dt", "dd", "form", "input", "button", "strong"}
ALLOWED_ATTRS = {"lang", "charset", "name", "content", "href", "method", "action", "type",
                 "value"}

FIELD_NAMES = sorted({name for fields in VALID.values() for name in fields}
                     | {"website", "_ts", "other", ""})

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag {tag}")
        self.problems.extend(f"attr {name}" for name, _ in attrs if name not in ALLOWED_ATTRS)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"end tag {tag}")


def check_response(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status < 500, body
    event(f"status {status}")
    text = body.decode("utf-8")
    assert "<x-canary" not in text.lower()
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/json"):
        json.loads(text)
        assert "<" not in text and ">" not in text
    elif content_type.startswith("text/html"):
        parser = Structure()
        parser.feed(text)
        parser.close()
        assert parser.problems == []
    else:
        assert status in (303,) and body == b""


def field_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=60),
        st.text(max_size=20).map(lambda t: t + CANARY),
        st.sampled_from(["on", "", "maria@example.com", "+39 055 1234", "2", "Ritiro",
                         "x" * 300, "\r\n", "=?utf-8?q?a=0D=0A?=", "\x00", "\u2028"]),
    )


def call(client: WsgiClient, form: str, body: bytes, content_type: str, as_json: bool,
         origin: str | None) -> None:
    client.origin = origin
    result = client.request("POST", f"/api/forms/{form}", body, content_type=content_type,
                            json=as_json)
    check_response(result.status, result.headers, result.body)


@PROPERTY_SETTINGS
@given(
    form=st.sampled_from(sorted(VALID)),
    fields=st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)),
                           field_values(), max_size=12),
    start_valid=st.booleans(),
    with_token=st.sampled_from(["fresh", "aged", "none", "junk"]),
    as_json=st.booleans(),
    multipart=st.booleans(),
)
def test_arbitrary_fields_never_5xx_or_unescaped(
    app: FormsApp, form: str, fields: dict[str, str], start_valid: bool, with_token: str,
    as_json: bool, multipart: bool,
) -> None:
    client = WsgiClient(app, app.clock)  # type: ignore[arg-type]
    data: dict[str, Any] = {**(VALID[form] if start_valid else {}), **fields}
    if with_token in ("fresh", "aged"):
        data["_ts"] = client.token(form)
        if with_token == "aged":
            client.clock.advance(5)  # type: ignore[attr-defined]
    elif with_token == "junk":
        data["_ts"] = "1." + CANARY
    data.pop("", None) if multipart else None
    if multipart:
        boundary = "hypothesis-boundary-7d3f"
        parts = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in data.items() if '"' not in name and "\r" not in name
            and "\n" not in name and boundary not in str(value)
        )
        body = (parts + f"--{boundary}--\r\n").encode("utf-8", "surrogatepass")
        content_type = f"multipart/form-data; boundary={boundary}"
    else:
        body = urlencode(data, encoding="utf-8", errors="surrogatepass").encode()
        content_type = "application/x-www-form-urlencoded"
    call(client, form, body, content_type, as_json, SITE)


@PROPERTY_SETTINGS
@given(
    form=st.sampled_from([*sorted(VALID), "missing"]),
    body=st.one_of(st.binary(max_size=400), st.text(max_size=300).map(str.encode)),
    content_type=st.one_of(
        st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                         "multipart/form-data; boundary=x", 'multipart/form-data; boundary="a b"',
                         "text/plain", "", "application/json"]),
        st.text(max_size=40),
    ),
    as_json=st.booleans(),
    origin=st.one_of(st.none(), st.just(SITE), st.text(max_size=30)),
    token_route=st.booleans(),
)
def test_raw_bodies_never_5xx(
    app: FormsApp, form: str, body: bytes, content_type: str, as_json: bool,
    origin: str | None, token_route: bool,
) -> None:
    client = WsgiClient(app, app.clock)  # type: ignore[arg-type]
    client.origin = origin
    path = f"/api/forms/{form}" + ("/token" if token_route else "")
    result = client.request("POST", path, body + CANARY.encode(), content_type=content_type,
                            json=as_json)
    check_response(result.status, result.headers, result.body)


@PROPERTY_SETTINGS
@given(
    boundary=st.text(st.characters(codec="ascii", exclude_characters='"\r\n'), min_size=1,
                     max_size=20),
    parts=st.lists(st.tuples(st.binary(max_size=40), st.binary(max_size=60)), max_size=5),
    tail=st.sampled_from([b"--\r\n", b"--", b"", b"\r\n", b"-"]),
)
def test_mangled_multipart_never_5xx(
    app: FormsApp, boundary: str, parts: list[tuple[bytes, bytes]], tail: bytes,
) -> None:
    client = WsgiClient(app, app.clock)  # type: ignore[arg-type]
    delimiter = b"--" + boundary.encode()
    body = b"".join(delimiter + b"\r\n" + head + b"\r\n\r\n" + content + b"\r\n"
                    for head, content in parts) + delimiter + tail
    result = client.request("POST", "/api/forms/contact", body,
                            content_type=f'multipart/form-data; boundary="{boundary}"')
    check_response(result.status, result.headers, result.body)

"""WSGI-level tests of the request rules: routes, methods, size limit, body formats, origins."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from urllib.parse import urlencode

import pytest
from forms_support import SECRET, SITE, VALID, FakeClock, WsgiClient, make_config

from storefront.forms import create_app

MULTIPART_BOUNDARY = "----storefront1234"


def multipart(fields: dict[str, str], boundary: str = MULTIPART_BOUNDARY) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_get_405_with_allow(client: WsgiClient, method: str) -> None:
    for path in ("/api/forms/contact", "/api/forms/contact/token"):
        result = client.request(method, path)
        assert result.status == 405
        assert result.headers["allow"] == "POST"


def test_405_as_json(client: WsgiClient) -> None:
    result = client.request("GET", "/api/forms/contact", json=True)
    assert result.status == 405
    assert result.json() == {"ok": False, "errors": {}, "form_errors": [
        "A questo indirizzo si possono solo inviare moduli."]}


@pytest.mark.parametrize("path", ["/api/forms/nope", "/api/forms/", "/other/contact",
                                  "/api/forms/contact/extra", "/api/forms/nope/token"])
def test_unknown_routes_are_404(client: WsgiClient, path: str) -> None:
    assert client.request("POST", path).status == 404


def test_trailing_slash_is_accepted(client: WsgiClient) -> None:
    token = client.token("newsletter")
    client.clock.advance(5)
    body = urlencode({**VALID["newsletter"], "_ts": token}).encode()
    assert client.request("POST", "/api/forms/newsletter/", body).status == 303


def test_token_route_returns_a_token(client: WsgiClient) -> None:
    result = client.request("POST", "/api/forms/contact/token", json=True)
    assert result.status == 200
    token = result.json()["token"]
    assert set(result.json()) == {"token"}
    assert token.count(".") == 2


def test_declared_length_above_limit_is_413_without_reading(client: WsgiClient) -> None:
    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body must not be read")

    result = client.request("POST", "/api/forms/contact", b"",
                            headers={"Content-Length": "32769"})
    assert result.status == 413
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/forms/contact",
               "HTTP_ORIGIN": "https://bottega.example", "CONTENT_LENGTH": "99999999",
               "wsgi.input": Unreadable(), "HTTP_ACCEPT": "application/json"}
    response = client.app.handle(environ)
    assert response.status == 413
    assert "32 KiB" in response.body.decode()


@pytest.mark.parametrize("length", ["9" * 19, "9" * 5000, "0" * 30 + "5"])
def test_absurdly_long_content_length_is_413(client: WsgiClient, length: str) -> None:
    result = client.request("POST", "/api/forms/contact", b"",
                            headers={"Content-Length": length})
    assert result.status == 413  # not int()'s 4,300-digit limit turned into a 500


def test_body_at_limit_is_read_and_above_is_413(client: WsgiClient) -> None:
    token = client.token("contact")
    client.clock.advance(5)
    fields = {**VALID["contact"], "_ts": token}
    body = urlencode(fields).encode()
    padding = 32768 - len(body) - len("&pad=")
    exact = body + b"&pad=" + b"x" * padding
    assert len(exact) == 32768
    assert client.request("POST", "/api/forms/contact", exact).status == 303
    assert client.request("POST", "/api/forms/contact", exact + b"x").status == 413


def _environ_without_length(body: bytes, terminated: bool) -> dict[str, object]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/forms/newsletter",
            "HTTP_ORIGIN": "https://bottega.example", "HTTP_ACCEPT": "application/json",
            "wsgi.input": io.BytesIO(body), "wsgi.input_terminated": terminated,
            "CONTENT_TYPE": "application/x-www-form-urlencoded"}


def test_body_without_length_is_read_only_when_terminated(client: WsgiClient) -> None:
    small = urlencode(VALID["newsletter"]).encode()
    # PEP 3333: without Content-Length and wsgi.input_terminated the body counts as empty
    unread = client.app.handle(_environ_without_length(small, terminated=False))
    assert unread.status == 422
    assert b"Email" in unread.body
    read = client.app.handle(_environ_without_length(small, terminated=True))
    assert read.status == 422  # read and valid; only the token is missing
    assert b'"errors":{}' in read.body
    big = b"email=" + b"x" * 40000
    assert client.app.handle(_environ_without_length(big, terminated=True)).status == 413


def test_multipart_bodies_are_understood(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    token = client.token("contact")
    client.clock.advance(5)
    body = multipart({**VALID["contact"], "message": "Ciao àè\r\nriga due", "_ts": token})
    result = client.request("POST", "/api/forms/contact", body,
                            content_type=f"multipart/form-data; boundary={MULTIPART_BOUNDARY}")
    assert result.status == 303, result.text
    assert '"Ciao àè\\nriga due"' in db_rows()[0][2]


def test_multipart_file_parts_are_ignored(client: WsgiClient) -> None:
    token = client.token("newsletter")
    client.clock.advance(5)
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nx@example.com\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"privacy\"\r\n\r\non\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"_ts\"\r\n\r\n{token}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"a.exe\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\nMZ\x00\x01\r\n--{boundary}--\r\n"
    ).encode()
    result = client.request("POST", "/api/forms/newsletter", body,
                            content_type=f'multipart/form-data; boundary="{boundary}"')
    assert result.status == 303


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\nv"),
    ("multipart/form-data", b"--xyz--\r\n"),
    ("multipart/form-data; boundary=xyz", b"no boundary here"),
    ("multipart/form-data; boundary=xyz",
     b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\xfe\r\n--xyz--\r\n'),
    ("application/x-www-form-urlencoded", b"name=%FF%FE"),
    ("application/x-www-form-urlencoded", b"name=\xff"),
    ("application/json", b'{"name": "x"}'),
    ("text/plain", b"name=x"),
])
def test_malformed_or_unsupported_bodies_are_400(
    client: WsgiClient, content_type: str, body: bytes
) -> None:
    result = client.request("POST", "/api/forms/contact", body, content_type=content_type,
                            json=True)
    assert result.status == 400
    assert result.json()["form_errors"] == [
        "I dati inviati non sono leggibili. Ricarica la pagina e riprova."]


def test_invalid_content_length_is_400(client: WsgiClient) -> None:
    result = client.request("POST", "/api/forms/contact", b"a=b",
                            headers={"Content-Length": "12abc"})
    assert result.status == 400


# -- origin check ---------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [
    "https://bottega.example", "https://www.bottega.example", "http://forms.internal",
    "HTTPS://BOTTEGA.EXAMPLE:443",
])
def test_allowed_origins(client: WsgiClient, origin: str) -> None:
    client.origin = origin
    assert client.request("POST", "/api/forms/contact/token").status == 200


@pytest.mark.parametrize("origin", [
    "https://evil.example", "null", "http://bottega.example.evil.example",
    "https://bottega.example:8443", "http://127.0.0.2:8000", "https://localhost:8000", "",
    "javascript:alert(1)", "http://bottega.example",  # the site is https: http is another origin
    "http://127.0.0.1:8000", "http://localhost:1313", "http://[::1]:8000",  # public site: no
    "https://forms.internal", "http://forms.internal:8081",  # the endpoint's host, other scheme/port
])
def test_foreign_origins_are_403(client: WsgiClient, origin: str) -> None:
    client.origin = origin
    result = client.request("POST", "/api/forms/contact", json=True)
    assert result.status == 403
    assert result.json()["form_errors"] == [
        "Questo modulo si può inviare solo dal sito https://bottega.example/."]
    assert "access-control-allow-origin" not in result.headers


def test_no_origin_and_no_referer_is_403(client: WsgiClient) -> None:
    client.origin = None
    assert client.request("POST", "/api/forms/contact/token").status == 403


def test_referer_is_used_when_origin_is_absent(client: WsgiClient) -> None:
    client.origin = None
    ok = client.request("POST", "/api/forms/contact/token",
                        headers={"Referer": "https://bottega.example/contatti/"})
    assert ok.status == 200
    bad = client.request("POST", "/api/forms/contact/token",
                         headers={"Referer": "https://evil.example/bottega.example/"})
    assert bad.status == 403


def test_origin_header_wins_over_referer(client: WsgiClient) -> None:
    client.origin = "https://evil.example"
    result = client.request("POST", "/api/forms/contact/token",
                            headers={"Referer": "https://bottega.example/contatti/"})
    assert result.status == 403


def test_cors_header_echoes_an_allowed_origin(client: WsgiClient) -> None:
    client.origin = "https://www.bottega.example"
    result = client.request("POST", "/api/forms/contact/token")
    assert result.headers["access-control-allow-origin"] == "https://www.bottega.example"
    assert result.headers["vary"] == "Origin"


def test_without_base_url_only_local_and_listed_origins(tmp_path: Path) -> None:
    config = make_config(base_url="")
    with create_app(config, tmp_path, secret=SECRET, deliver_mail=False) as app:
        client = WsgiClient(app, FakeClock())
        assert client.request("POST", "/api/forms/contact/token").status == 403
        client.origin = "http://127.0.0.1:8000"
        assert client.request("POST", "/api/forms/contact/token").status == 200


def _token_status(config_base_url: str, origin: str, tmp_path: Path,
                  allowed: tuple[str, ...] | None = None) -> tuple[int, dict[str, str]]:
    config = make_config(base_url=config_base_url)
    if allowed is not None:
        config = dataclasses.replace(
            config, form_endpoint=dataclasses.replace(config.form_endpoint, allowed_origins=allowed))
    with create_app(config, tmp_path, secret=SECRET, deliver_mail=False) as app:
        client = WsgiClient(app, FakeClock(), origin=origin)
        result = client.request("POST", "/api/forms/contact/token")
        return result.status, result.headers


def test_loopback_origins_only_for_a_local_site_or_when_listed(tmp_path: Path) -> None:
    assert _token_status("http://127.0.0.1:8000/", "http://localhost:1313", tmp_path)[0] == 200
    assert _token_status("http://localhost:8000/", "http://[::1]:9000", tmp_path)[0] == 200
    assert _token_status(SITE + "/", "http://127.0.0.1:8000", tmp_path)[0] == 403
    listed = (SITE.replace("https://", "https://www."), "http://127.0.0.1:8000")
    status, headers = _token_status(SITE + "/", "http://127.0.0.1:8000", tmp_path, listed)
    assert status == 200 and headers["access-control-allow-origin"] == "http://127.0.0.1:8000"
    assert _token_status(SITE + "/", "http://127.0.0.1:9000", tmp_path, listed)[0] == 403


def test_form_action_allows_loopback_only_when_loopback_posts_are_allowed(tmp_path: Path) -> None:
    public = _token_status(SITE + "/", "https://evil.example", tmp_path)[1]
    assert "127.0.0.1" not in public["content-security-policy"]
    local = _token_status("", "https://evil.example", tmp_path)[1]
    assert "http://127.0.0.1:*" in local["content-security-policy"]


def test_every_response_is_uncacheable_and_nosniff(client: WsgiClient) -> None:
    for result in (client.request("GET", "/api/forms/contact"),
                   client.request("POST", "/api/forms/contact/token"),
                   client.post("contact", VALID["contact"])):
        assert result.headers["cache-control"] == "no-store"
        assert result.headers["x-content-type-options"] == "nosniff"


def test_secret_persists_in_the_database(site_root: Path) -> None:
    config = make_config()
    clock = FakeClock()
    with create_app(config, site_root, clock=clock, deliver_mail=False, environ={}) as first:
        token = WsgiClient(first, clock).token("contact")
    clock.advance(10)
    with create_app(config, site_root, clock=clock, deliver_mail=False, environ={}) as second:
        result = WsgiClient(second, clock).post("contact", VALID["contact"], token=token)
        assert result.status == 303


def test_secret_from_environment(site_root: Path) -> None:
    config = make_config()
    clock = FakeClock()
    env_a = {"STOREFRONT_FORMS_SECRET": "a" * 32}
    env_b = {"STOREFRONT_FORMS_SECRET": "b" * 32}
    with create_app(config, site_root, clock=clock, deliver_mail=False, environ=env_a) as a:
        token = WsgiClient(a, clock).token("contact")
    clock.advance(10)
    with create_app(config, site_root, clock=clock, deliver_mail=False, environ=env_b) as b:
        result = WsgiClient(b, clock).post("contact", VALID["contact"], token=token)
        assert result.status == 200  # the other secret's token is not accepted: confirm page
        assert "Conferma l&#x27;invio" in result.text


def test_short_secret_in_environment_is_refused(site_root: Path) -> None:
    from storefront.errors import StorefrontError

    with pytest.raises(StorefrontError, match="at least 16 characters"):
        create_app(make_config(), site_root, environ={"STOREFRONT_FORMS_SECRET": "short"})

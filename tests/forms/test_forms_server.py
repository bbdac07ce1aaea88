"""The same app served by waitress on loopback and exercised over real HTTP."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from forms_support import SECRET, SITE, VALID, FakeClock, make_config, rows

from storefront.forms import FormsApp, create_app
from storefront.forms.server import BackgroundServer

pytestmark = pytest.mark.both_backends


@pytest.fixture
def served(site_root: Path, clock: FakeClock) -> Iterator[tuple[BackgroundServer, FakeClock]]:
    app = create_app(make_config(), site_root, clock=clock, secret=SECRET, deliver_mail=False)
    with app, BackgroundServer(app, threads=4) as server:
        yield server, clock


def http_request(server: BackgroundServer, method: str, path: str, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        all_headers = {"Origin": SITE, "Content-Type": "application/x-www-form-urlencoded",
                       **(headers or {})}
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def token_over_http(server: BackgroundServer, form: str, **headers: str) -> str:
    status, _, body = http_request(server, "POST", f"/api/forms/{form}/token",
                                   headers={"Accept": "application/json", **headers})
    assert status == 200
    return str(json.loads(body)["token"])


def test_submit_over_http(served: tuple[BackgroundServer, FakeClock], site_root: Path) -> None:
    server, clock = served
    token = token_over_http(server, "contact")
    clock.advance(5)
    body = urlencode({**VALID["contact"], "_ts": token, "website": ""}).encode()
    status, headers, payload = http_request(server, "POST", "/api/forms/contact", body)
    assert status == 303
    assert headers["location"] == f"{SITE}/grazie/"
    assert headers["server"] == "storefront-forms"
    assert payload == b""
    assert rows(site_root, "SELECT form, status FROM submissions") == [("contact", "received")]


def test_json_over_http(served: tuple[BackgroundServer, FakeClock]) -> None:
    server, clock = served
    token = token_over_http(server, "newsletter")
    clock.advance(5)
    body = urlencode({"email": "nope", "privacy": "on", "_ts": token}).encode()
    status, headers, payload = http_request(server, "POST", "/api/forms/newsletter", body,
                                            {"Accept": "application/json"})
    assert status == 422
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["access-control-allow-origin"] == SITE
    assert json.loads(payload)["errors"]["email"]


def test_multipart_over_http(served: tuple[BackgroundServer, FakeClock], site_root: Path) -> None:
    server, clock = served
    token = token_over_http(server, "newsletter")
    clock.advance(5)
    boundary = "----WebKitFormBoundaryabc123"
    fields = {"email": "multi@example.com", "privacy": "on", "_ts": token, "website": ""}
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ) + f"--{boundary}--\r\n"
    status, _, _ = http_request(server, "POST", "/api/forms/newsletter", body.encode(),
                                {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 303
    assert rows(site_root, "SELECT email FROM submissions") == [("multi@example.com",)]


def test_too_large_and_wrong_method_over_http(served: tuple[BackgroundServer, FakeClock]) -> None:
    server, _ = served
    status, _, payload = http_request(server, "POST", "/api/forms/contact", b"x" * 40_000)
    assert status == 413
    assert b"32 KiB" in payload
    status, headers, _ = http_request(server, "GET", "/api/forms/contact")
    assert status == 405
    assert headers["allow"] == "POST"
    status, _, _ = http_request(server, "POST", "/api/forms/contact/token",
                                headers={"Origin": "https://evil.example"})
    assert status == 403


def test_keep_alive_connection_serves_many_requests(
    served: tuple[BackgroundServer, FakeClock], site_root: Path,
) -> None:
    server, clock = served
    tokens = [token_over_http(server, "newsletter") for _ in range(5)]  # each works once
    clock.advance(5)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        for n, token in enumerate(tokens):
            body = urlencode({"email": f"k{n}@example.com", "privacy": "on", "_ts": token})
            conn.request("POST", "/api/forms/newsletter", body=body,
                         headers={"Origin": SITE, "X-Forwarded-For": f"198.51.100.{n}",
                                  "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            assert response.status == 303
    finally:
        conn.close()
    assert rows(site_root, "SELECT COUNT(*) FROM submissions") == [(5,)]


def _post_newsletter(server: BackgroundServer, token: str, forwarded_for: str) -> int:
    body = urlencode({"email": "r@example.com", "privacy": "on", "_ts": token}).encode()
    return http_request(server, "POST", "/api/forms/newsletter", body,
                        {"X-Forwarded-For": forwarded_for})[0]


def test_rate_limit_uses_the_client_address_from_the_trusted_proxy(
    served: tuple[BackgroundServer, FakeClock],
) -> None:
    server, clock = served
    tokens = [token_over_http(server, "newsletter") for _ in range(12)]  # each works once
    clock.advance(5)
    for token in tokens[:10]:
        assert _post_newsletter(server, token, "192.0.2.1") == 303
    assert _post_newsletter(server, tokens[10], "192.0.2.1") == 429
    assert _post_newsletter(server, tokens[11], "192.0.2.2") == 303


def test_forwarded_for_is_ignored_without_a_trusted_proxy(site_root: Path, clock: FakeClock) -> None:
    app = create_app(make_config(), site_root, clock=clock, secret=SECRET, deliver_mail=False)
    with app, BackgroundServer(app, trusted_proxy=None) as server:
        tokens = [token_over_http(server, "newsletter") for _ in range(11)]  # each works once
        clock.advance(5)
        for n, token in enumerate(tokens[:10]):
            assert _post_newsletter(server, token, f"192.0.2.{n}") == 303
        assert _post_newsletter(server, tokens[10], "192.0.2.200") == 429  # all are 127.0.0.1


def test_serve_command_runs_and_stops_on_sigterm(site_root: Path) -> None:
    env = {**os.environ, "STOREFRONT_FORMS_SECRET": "x" * 32}
    process = subprocess.Popen(
        [sys.executable, "-m", "storefront.forms", "--root", str(site_root), "serve", "--port",
         "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("storefront forms: serving on http://127.0.0.1:"), line
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/api/forms/contact/token", headers={"Origin": SITE})
        response = conn.getresponse()
        assert response.status == 200
        assert "token" in json.loads(response.read())
        conn.close()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "storefront forms: stopped" in out


def test_app_is_a_plain_wsgi_callable(app: FormsApp) -> None:
    from wsgiref.validate import validator

    checked = validator(app)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/forms/contact", "SCRIPT_NAME": "",
               "QUERY_STRING": "", "SERVER_NAME": "x", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
               "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False}
    seen: list[str] = []
    result = checked(environ, lambda status, headers, exc_info=None: seen.append(status))
    body = b"".join(result)
    result.close()  # type: ignore[attr-defined]
    assert seen == ["405 Method Not Allowed"]
    assert body.startswith(b"<!DOCTYPE html>")

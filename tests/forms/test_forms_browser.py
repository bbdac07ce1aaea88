"""forms.js in a real browser: the example shop's contact page, built with the default theme and
served next to the endpoint on loopback, opened in Debian's Chromium (never a downloaded one).

With JavaScript: the token is fetched, server-side errors appear next to their field, and a valid
form lands on the thank-you page. Without JavaScript: the plain POST gets the confirm page, whose
button sends the message."""

from __future__ import annotations

import dataclasses
import mimetypes
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storefront.build import BuildRequest, build_site
from storefront.config import load_config
from storefront.forms import create_app
from storefront.forms.server import BackgroundServer

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def static_files(root: Path) -> Callable[..., Any]:
    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = (root / environ["PATH_INFO"].lstrip("/")).resolve()
        if path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(root) or not path.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind)])
        return [path.read_bytes()]
    return serve


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    assert Path(CHROMIUM).exists(), "install Chromium: apt-get install -y chromium"
    work = tmp_path_factory.mktemp("forms-browser")
    output = work / "output"
    build_site(BuildRequest(root=REPO, output=output, use_cache=False))  # none left in the repo
    config = load_config(REPO)
    endpoint = dataclasses.replace(config.form_endpoint, min_fill_seconds=1.0, rate_limit=1000)
    config = dataclasses.replace(config, form_endpoint=endpoint)
    forms_app = create_app(config, work, secret=b"browser-test-secret-0123456789", deliver_mail=False)
    files = static_files(output.resolve())

    def combined(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"].startswith("/api/forms/"):
            return forms_app(environ, start_response)
        return files(environ, start_response)

    with forms_app, BackgroundServer(combined) as server:
        yield server.url, work / "data" / "forms.sqlite3"


def with_browser(scenario: Callable[[Any], None]) -> None:
    """Run ``scenario(browser)`` on a thread of its own.

    Playwright's sync API refuses to start where another sync session is running (the browser
    checks in tests/browser keep one open for the whole test session); a fresh thread has none.
    """
    from playwright.sync_api import sync_playwright

    failure: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                      args=LAUNCH_ARGS)
                try:
                    scenario(chromium)
                finally:
                    chromium.close()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="forms-browser")
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the browser scenario did not finish in 120 s"
    if failure:
        raise failure[0]


def stored_names(db_path: Path) -> list[str]:
    import json

    conn = sqlite3.connect(db_path)
    try:
        return [json.loads(d)["name"] for (d,) in conn.execute(
            "SELECT data FROM submissions WHERE form = 'contact' ORDER BY id")]
    finally:
        conn.close()


def fill_contact(page: Any, name: str, email: str) -> None:
    page.fill("#f-contact-name", name)
    page.fill("#f-contact-email", email)
    page.fill("#f-contact-message", "Vorrei sapere se il vaso blu è disponibile.")
    page.check("#f-contact-privacy")


def test_with_javascript_errors_show_next_to_fields_then_success(site: tuple[str, Path]) -> None:
    url, db_path = site
    requests: list[str] = []
    with_browser(lambda browser: _javascript_scenario(browser, url, requests))
    assert stored_names(db_path)[-1] == "Giulia JS"
    assert all(r.split(" ", 1)[1].startswith(url) for r in requests), requests


def _javascript_scenario(browser: Any, url: str, requests: list[str]) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    try:
        page.goto(f"{url}/contatti/")
        # the token is fetched once the form is scrolled into view or first focused
        fill_contact(page, "Giulia JS", "giulia@example")  # the browser accepts it, we do not
        page.wait_for_function(
            "document.querySelector('#form-contact input[name=_ts]').value !== ''")
        assert requests.count(f"POST {url}/api/forms/contact/token") == 1
        time.sleep(1.1)
        page.click("#form-contact button[type=submit]")
        error = page.locator("#err-contact-email")
        error.wait_for(state="visible")
        assert "nome@esempio.it" in error.inner_text()
        email = page.locator("#f-contact-email")
        assert email.get_attribute("aria-invalid") == "true"
        assert "err-contact-email" in email.get_attribute("aria-describedby")
        assert page.evaluate("document.activeElement.id") == "f-contact-email"
        assert page.url == f"{url}/contatti/"  # no page load: it was fetch
        page.fill("#f-contact-email", "giulia@example.com")
        page.click("#form-contact button[type=submit]")
        page.wait_for_url(f"{url}/grazie/")
    finally:
        context.close()


def test_without_javascript_the_confirm_page_sends(site: tuple[str, Path]) -> None:
    url, db_path = site
    with_browser(lambda browser: _no_javascript_scenario(browser, url))
    assert stored_names(db_path)[-1] == "Paolo senza JS"


def _no_javascript_scenario(browser: Any, url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{url}/contatti/")
        fill_contact(page, "Paolo senza JS", "paolo@example.com")
        page.click("#form-contact button[type=submit]")
        page.wait_for_url(f"{url}/api/forms/contact")
        assert page.title() == "Conferma l'invio"
        assert "Paolo senza JS" in page.inner_text("dl")
        time.sleep(1.1)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/grazie/")
    finally:
        context.close()

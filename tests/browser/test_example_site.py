"""The example shop as visitors and validators see it: real Chromium, axe-core, the Nu checker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support import NPM, require

PAGES = [
    "/", "/blog/", "/prodotti/", "/faq/", "/tag/", "/contatti/", "/chi-siamo/", "/404.html",
    "/prodotti/vaso-notturno/", "/prodotti/piatto-limoni/",
    "/blog/2025/03/smalti-primavera/", "/spedizioni/", "/tag/maiolica/",
]
WIDTHS = [375, 1280]


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_axe_violations_and_no_third_party_requests(browser, example_url, path, width,
                                                                 tmp_path) -> None:
    axe = require(NPM / "axe-core" / "axe.min.js", "npm install axe-core")
    page = browser.new_page(viewport={"width": width, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        response = page.goto(example_url + path)
        assert response is not None
        assert response.status == 200 or path == "/404.html"
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        page.add_script_tag(path=str(axe))
        result = page.evaluate(
            "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    finally:
        page.close()
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, f"requests left the site: {sorted(requested)}"
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == []
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"


@pytest.mark.browser
def test_pages_work_without_javascript(browser, example_url) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(example_url + "/faq/")
        summary = page.locator("details summary").first
        summary.click()
        assert page.locator("details[open]").count() == 1
        page.goto(example_url + "/prodotti/vaso-notturno/")
        assert page.locator("form[data-storefront-form='order']").count() == 1
        assert page.locator("a[href^='mailto:']").count() >= 1
        assert page.locator("a[href^='https://wa.me/']").count() >= 1
    finally:
        context.close()


def test_html_is_valid_per_the_nu_checker(example_output: Path) -> None:
    vnu = require(NPM / "vnu-jar" / "build" / "dist" / "vnu.jar", "npm install vnu-jar")
    completed = subprocess.run(
        ["java", "-jar", str(vnu), "--skip-non-html", "--also-check-css", "--format", "json",
         str(example_output)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    messages = json.loads(completed.stderr or '{"messages": []}')["messages"]
    problems = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "warning"
    ]
    assert problems == []
    assert completed.returncode == 0

"""Both owners' sites as visitors and validators see them: real Chromium, axe-core, the Nu checker.

Every page at a phone, a tablet and a desktop width, in the light and the dark colour scheme:
no axe violation, no request leaving the host, nothing scrolling sideways, no link or button
wider than its box or its container, one stylesheet. A full-page screenshot of each goes to the
artifacts folder for a reviewer.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support import NPM, require

PAGES = {
    "example": [
        "/", "/blog/", "/prodotti/", "/faq/", "/tag/", "/contatti/", "/chi-siamo/", "/404.html",
        "/prodotti/vaso-notturno/", "/prodotti/piatto-limoni/", "/prodotti/tazza-mare/",
        "/blog/2025/03/smalti-primavera/", "/blog/2026/11/ordini-di-natale/", "/spedizioni/",
        "/tag/maiolica/",
    ],
    "shop-en": [
        "/", "/shop/", "/journal/", "/contact/", "/topics/",
        "/shop/wildflower-honey/", "/shop/comb-honey/", "/shop/beeswax-candles/",
        "/journal/swarm-season/", "/journal/jarring-day/",
    ],
}
CASES = [(site, path) for site, paths in PAGES.items() for path in paths]
WIDTHS = {375: 812, 768: 1024, 1280: 800}  # a phone, a tablet, a laptop: width -> height

# Links, buttons and form controls whose content runs out of their own box (text overflowing a
# button), or whose box runs out of its container (a no-wrap label wider than the column).
# Things kept out of sight on purpose (the honeypot, visually-hidden text, the skip link before
# it has focus) are not judged.
OVERFLOWING = """() => {
  const hidden = (el) => el.closest('.hp, .visually-hidden, [hidden]') ||
    (el.classList.contains('skip-link') && document.activeElement !== el);
  const container = (el) => {
    let box = el.parentElement;
    while (box && getComputedStyle(box).display === 'inline') box = box.parentElement;
    return box;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
    ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' +
    (el.textContent || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  const found = [];
  for (const el of document.querySelectorAll('a, button, summary, .btn, input, select, textarea')) {
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (hidden(el) || style.display === 'none' || style.visibility === 'hidden' || !rect.width) continue;
    if (style.display !== 'inline' && style.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1) {
      found.push(name(el) + ': content ' + el.scrollWidth + 'px wide in a ' + el.clientWidth + 'px box');
    }
    const box = container(el);
    if (box && getComputedStyle(box).overflowX === 'visible') {
      const outer = box.getBoundingClientRect();
      if (rect.right > outer.right + 1 || rect.left < outer.left - 1) {
        found.push(name(el) + ': ' + Math.round(rect.width) + 'px wide, sticks out of its ' +
                   Math.round(outer.width) + 'px container');
      }
    }
  }
  return found;
}"""


def save_screenshot(page, path: Path) -> None:
    """A full-page screenshot with every image in it (a full-page capture does not scroll, so
    lazy images below the first screen would stay blank)."""
    page.evaluate("""() => Promise.all(Array.from(document.images).map(img => {
      img.loading = 'eager';
      return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
    }))""")
    page.screenshot(path=str(path), full_page=True)


def screenshot_name(site: str, path: str, width: int, mode: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    return f"{site}--{slug}--{width}--{mode}.png"


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("site", "path"), CASES)
def test_page_is_accessible_stays_on_the_host_and_fits(browser, site_urls, screenshots, site, path,
                                                      width, scheme) -> None:
    axe = require(NPM / "axe-core" / "axe.min.js", "npm install axe-core")
    page = browser.new_page(viewport={"width": width, "height": WIDTHS[width]},
                            color_scheme=scheme)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        response = page.goto(site_urls[site] + path)
        assert response is not None
        assert response.status == 200 or path == "/404.html"
        save_screenshot(page, screenshots / screenshot_name(site, path, width, scheme))
        stylesheets = page.eval_on_selector_all("link[rel=stylesheet]", "els => els.map(e => e.href)")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        overflowing = page.evaluate(OVERFLOWING)
        page.add_script_tag(path=str(axe))
        result = page.evaluate(
            "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
    finally:
        page.close()
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, f"requests left the site: {sorted(requested)}"
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == []
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    assert overflowing == []
    assert len(stylesheets) == 1 and re.search(r"/static/css/site\.[0-9a-f]{8}\.css$", stylesheets[0])


@pytest.mark.browser
def test_pages_work_without_javascript(browser, example_url) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(example_url + "/faq/")
        summary = page.locator("details.faq-item summary").first
        summary.click()
        assert page.locator("details.faq-item[open]").count() == 1
        page.goto(example_url + "/prodotti/vaso-notturno/")
        assert page.locator("form[data-storefront-form='order']").count() == 1
        assert page.locator("a[href^='mailto:']").count() >= 1
        assert page.locator("a[href^='https://wa.me/']").count() >= 1
    finally:
        context.close()


@pytest.mark.parametrize("site", list(PAGES))
def test_html_is_valid_per_the_nu_checker(built_sites: dict[str, Path], site: str) -> None:
    vnu = require(NPM / "vnu-jar" / "build" / "dist" / "vnu.jar", "npm install vnu-jar")
    completed = subprocess.run(
        ["java", "-jar", str(vnu), "--skip-non-html", "--also-check-css", "--format", "json",
         str(built_sites[site])],
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

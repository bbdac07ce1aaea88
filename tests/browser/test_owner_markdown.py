"""Markdown as owners write it, judged by the Nu checker: every page of ``tests/sites/owner-markdown``
is valid HTML with no id used twice.

The site holds what the example shops do not: headings named like the theme's own sections
("Shipping" on the page that shows the shipping policy, "Main" in a product's description).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_example_site import WIDTHS

from storefront.build import BuildRequest, build_site
from support import NPM, SITES, require

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
_ID = re.compile(r'\sid="([^"]*)"')


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("owner-markdown-output")
    build_site(BuildRequest(root=SITES / "owner-markdown", output=folder, now=NOW, use_cache=False))
    return folder


@pytest.fixture(scope="module")
def site_url(output: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _page(output: Path, path: str) -> str:
    return (output / path.strip("/") / "index.html").read_text(encoding="utf-8")


def test_every_page_is_valid_html_per_the_nu_checker(output: Path) -> None:
    vnu = require(NPM / "vnu-jar" / "build" / "dist" / "vnu.jar", "npm install vnu-jar")
    completed = subprocess.run(
        ["java", "-jar", str(vnu), "--skip-non-html", "--format", "json", str(output)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    messages = json.loads(completed.stderr or '{"messages": []}')["messages"]
    problems = [
        f"{Path(m.get('url', '')).parent.name}/{Path(m.get('url', '')).name}:{m.get('lastLine')}: "
        f"{m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "warning"
    ]
    assert problems == []
    assert completed.returncode == 0


def test_no_page_uses_an_id_twice(output: Path) -> None:
    repeated = {}
    for page in sorted(output.rglob("*.html")):
        counts = Counter(_ID.findall(page.read_text(encoding="utf-8")))
        twice = sorted(name for name, count in counts.items() if count > 1)
        if twice:
            repeated[page.relative_to(output).as_posix()] = twice
    assert repeated == {}


def test_headings_named_like_the_themes_sections_leave_the_sections_their_ids(output: Path) -> None:
    delivery = _page(output, "/delivery/")
    # the policies the product pages link to (#shipping, #returns) are the theme's sections
    assert '<section id="shipping"' in delivery and '<section id="returns"' in delivery
    assert '<h2 id="shipping_1">Shipping</h2>' in delivery
    assert '<h2 id="returns_1">Returns</h2>' in delivery
    assert '<h2 id="main_1">Main</h2>' in _page(output, "/prodotti/mug/")


def test_every_in_page_link_has_its_target_on_the_page(output: Path) -> None:
    # a footnote reference in a summary on a listing page pointed to a footnote left behind
    dangling = {}
    for page in sorted(output.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        missing = sorted(set(re.findall(r'href="#([^"]+)"', html)) - set(_ID.findall(html)))
        if missing:
            dangling[page.relative_to(output).as_posix()] = missing
    assert dangling == {}


def test_summaries_in_listings_and_descriptions_leave_out_footnote_numbers(output: Path) -> None:
    blog = _page(output, "/blog/")
    assert "The clay comes from a bank by the river, dug in autumn and left to weather." in blog
    assert '<h2>What we changed</h2>' in blog
    assert ('<meta name="description" content="The clay comes from a bank by the river, dug in '
            'autumn and left to weather.">') in _page(output, "/blog/2026/10/raw-clay/")
    bowl = _page(output, "/prodotti/bowl/")
    assert '<div class="product-summary">A deep bowl for porridge, thrown thick' in bowl


def test_a_summary_cut_inside_a_quote_or_an_html_block_is_closed_in_its_card(output: Path) -> None:
    visits = _page(output, "/tag/visits/")
    assert ('<blockquote>\n<p>The shed smells of wet clay and woodsmoke.</p>\n</blockquote>'
            in visits)
    assert ('<div class="notice">\n<p><strong>Saturday 7 November</strong>, from ten until four.'
            '</p>\n</div>') in visits


def test_each_faq_answer_keeps_its_footnotes_and_headings_to_itself(output: Path) -> None:
    faq = _page(output, "/faq/")
    assert '<h3 id="oven-in-short">In short</h3>' in faq
    assert '<sup id="oven-fnref:1"><a class="footnote-ref" href="#oven-fn:1">1</a></sup>' in faq
    assert '<li id="oven-fn:1">' in faq and 'href="#oven-fnref:1"' in faq
    assert '<a href="#dishwasher">the dishwasher</a>' in faq  # a link to another question


def test_a_faq_group_named_like_a_question_file_leaves_the_question_its_anchor(output: Path) -> None:
    faq = _page(output, "/faq/")
    assert '<details class="faq-item" id="returns">' in faq
    assert '<section class="faq-group" id="returns_1" aria-labelledby="returns_1-title">' in faq
    assert '<a href="#returns_1">Returns</a>' in faq


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/prodotti/glaze-kit/", "/faq/", "/delivery/", "/blog/"])
def test_pages_are_accessible_on_a_phone(browser, site_url: str, path: str) -> None:
    axe = require(NPM / "axe-core" / "axe.min.js", "npm install axe-core")
    page = browser.new_page(viewport={"width": 375, "height": WIDTHS[375]})
    try:
        page.goto(site_url + path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        page.add_script_tag(path=str(axe))
        result = page.evaluate(
            "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
    finally:
        page.close()
    # a code block with a long line scrolled sideways, a region no keyboard could scroll
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == []
    assert overflow <= 0


def test_a_products_markdown_summary_is_text_in_its_card_description_and_structured_data(
        output: Path) -> None:
    text = "The little jug for the breakfast table – it’s the one in the journal."
    jug = _page(output, "/prodotti/jug/")
    assert f'<meta name="description" content="{text}">' in jug
    data = [json.loads(block) for block in
            re.findall(r'<script type="application/ld\+json">(.*?)</script>', jug)]
    assert [d["description"] for d in data if d["@type"] == "Product"] == [text]
    assert f'<p class="card-summary">{text}</p>' in _page(output, "/prodotti/")

"""Old addresses lead to the right page in a real browser, with JavaScript off as well.

The example shop is served by a plain static server (no _redirects, no nginx), so what brings the
visitor home is the redirect page storefront leaves at each alias.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

ALIASES = [
    ("/la-bottega/", "/chi-siamo/", "Chi siamo"),
    ("/chi-siamo.html", "/chi-siamo/", "Chi siamo"),
    ("/prodotti/vaso-melagrana-grande/", "/prodotti/vaso-melagrana/", "Vaso «Melagrana»"),
    ("/blog/2025/06/lavastoviglie-microonde/", "/blog/2025/06/ceramica-lavastoviglie-microonde/",
     "Lavastoviglie, microonde, forno"),
]


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize(("alias", "target", "heading"), ALIASES)
def test_an_alias_brings_the_visitor_to_the_page(browser, example_url, alias, target, heading,
                                                 javascript) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(example_url + alias)
        page.wait_for_url(example_url + target, timeout=10_000)
        assert heading in page.locator("h1").first.inner_text()
        canonical = page.locator("link[rel=canonical]").get_attribute("href")
    finally:
        context.close()
    assert canonical is not None and canonical.endswith(target)
    assert {urlsplit(url).hostname for url in requested} == {"127.0.0.1"}

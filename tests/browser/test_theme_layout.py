"""The default theme in Chromium: phone-first layout, the menu without JavaScript, paper, forms
that degrade honestly, and a minified stylesheet that styles exactly like its source.

Both owners' sites (see conftest): the example shop (a form endpoint in storefront.yaml, served
here by a static-only server, so the endpoint does not answer) and shop-en (no endpoint at all).
"""

from __future__ import annotations

import pytest
from test_example_site import WIDTHS, save_screenshot, screenshot_name

from support import REPO

pytestmark = pytest.mark.browser

PRODUCTS = {
    "example": ["angioletti-segnaposto", "brocca-aurora", "formella-rondine", "insalatiera-salvia",
                "piatto-limoni", "tazza-mare", "vaso-melagrana", "vaso-notturno"],
    "shop-en": ["wildflower-honey", "heather-honey", "comb-honey", "beeswax-candles"],
}
PRODUCT_PATH = {"example": "/prodotti/{}/", "shop-en": "/shop/{}/"}

# Is the element entirely inside the first screen (nothing to scroll to see it)?
ON_FIRST_SCREEN = """(el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 &&
         r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}"""


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("site", "slug"),
                         [(site, slug) for site, slugs in PRODUCTS.items() for slug in slugs])
def test_the_first_screen_of_a_product_holds_photo_price_and_an_order_button(
        browser, site_urls, site, slug, width) -> None:
    page = browser.new_page(viewport={"width": width, "height": WIDTHS[width]})
    try:
        page.goto(site_urls[site] + PRODUCT_PATH[site].format(slug))
        photo = page.locator(".product-gallery img, .product-gallery .placeholder").first
        price = page.locator(".product-info .price").first
        button = page.locator(".order-actions .btn").first
        for what, element in (("photo", photo), ("price", price), ("order button", button)):
            assert element.evaluate(ON_FIRST_SCREEN), f"the {what} is below the first screen"
    finally:
        page.close()


@pytest.mark.parametrize("width", [375, 768])
@pytest.mark.parametrize("site", list(PRODUCTS))
def test_the_menu_opens_and_closes_without_javascript_on_a_phone_or_tablet(browser, site_urls, site,
                                                                          width) -> None:
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": width, "height": WIDTHS[width]})
    page = context.new_page()
    try:
        page.goto(site_urls[site] + "/")
        links = page.locator(".site-nav a")
        button = page.locator("summary.site-menu-button")
        assert button.is_visible() and links.count() >= 2
        assert not links.first.is_visible()
        button.click()
        assert all(links.nth(n).is_visible() for n in range(links.count()))
        assert links.first.evaluate(ON_FIRST_SCREEN)
        button.click()
        assert not links.first.is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("site", list(PRODUCTS))
def test_on_a_desktop_the_menu_links_are_in_the_header(browser, site_urls, site) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(site_urls[site] + "/")
        assert not page.locator("summary.site-menu-button").is_visible()
        links = page.locator(".site-nav a")
        assert all(links.nth(n).evaluate(ON_FIRST_SCREEN) for n in range(links.count()))
        tops = links.evaluate_all("els => els.map(e => Math.round(e.getBoundingClientRect().top))")
        assert len(set(tops)) == 1, "the menu links wrap onto a second row"
    finally:
        context.close()


def _relative_luminance(rgb: tuple[float, ...]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    lighter, darker = sorted((_relative_luminance(first), _relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# Every element of the footer that holds text: its colour and the colour under it (the first
# opaque background up the tree; paper is white).
FOOTER_TEXT = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const under = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const el of document.querySelectorAll('.site-footer *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || !el.getClientRects().length || style.visibility === 'hidden') continue;
    if (el.closest('.visually-hidden, [hidden]')) continue;
    found.push({text: el.textContent.trim().slice(0, 40), color: parse(style.color).slice(0, 3),
                background: under(el)});
  }
  return found;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("site", list(PRODUCTS))
def test_printed_pages_are_black_on_white_without_buttons(browser, site_urls, screenshots, site,
                                                          scheme) -> None:
    page = browser.new_page(viewport={"width": 768, "height": 1024})
    page.emulate_media(media="print", color_scheme=scheme)
    product = PRODUCT_PATH[site].format(PRODUCTS[site][0 if site == "shop-en" else 4])
    try:
        for path in ("/", product):
            page.goto(site_urls[site] + path)
            save_screenshot(page, screenshots / screenshot_name(site, path, 768, f"print-{scheme}"))
            texts = page.evaluate(FOOTER_TEXT)
            assert texts, "the footer printed no text"
            faint = [(t["text"], round(contrast(t["color"], t["background"]), 1)) for t in texts
                     if contrast(t["color"], t["background"]) < 7]
            assert faint == [], "footer text too faint on paper"
            assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == \
                "rgb(255, 255, 255)"
            visible_buttons = page.locator(".btn, summary.site-menu-button, form").evaluate_all(
                "els => els.filter(e => e.getClientRects().length).length")
            assert visible_buttons == 0
        # the contacts the order buttons carried are printed as words
        printed = page.locator(".order-box .print-only")
        assert printed.is_visible() and "@" in printed.inner_text()
    finally:
        page.close()


def test_the_first_listing_image_is_fetched_at_once_and_the_others_lazily(browser, site_urls) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 812})
    try:
        for site, path in (("example", "/prodotti/"), ("example", "/"), ("shop-en", "/shop/")):
            page.goto(site_urls[site] + path)
            images = page.locator(".card-media img")
            first = images.first
            assert first.get_attribute("fetchpriority") == "high"
            assert first.get_attribute("loading") is None
            assert all(images.nth(n).get_attribute("loading") == "lazy"
                       for n in range(1, images.count()))
            if path != "/":  # on the home page the hero comes first
                assert first.evaluate(ON_FIRST_SCREEN)
    finally:
        page.close()


def test_catalogue_is_one_flow_of_two_columns_on_a_phone_and_four_on_a_desktop(browser,
                                                                              site_urls) -> None:
    for width, columns in ((375, 2), (768, 3), (1280, 4)):
        page = browser.new_page(viewport={"width": width, "height": WIDTHS[width]})
        try:
            page.goto(site_urls["example"] + "/prodotti/")
            lefts = page.locator(".grid-catalog").first.locator("> li").evaluate_all(
                "els => els.map(e => Math.round(e.getBoundingClientRect().left))")
            tracks = page.locator(".grid-catalog").evaluate_all(
                "els => els.map(e => getComputedStyle(e).gridTemplateColumns.split(' ').length)")
            assert set(tracks) == {columns}
            assert len(set(lefts)) == min(columns, len(lefts))
            headings = page.locator(".catalog-heading").all_inner_texts()
            assert headings == ["Decorazioni", "Tavola", "Vasi"]
        finally:
            page.close()


def test_without_a_form_endpoint_forms_are_mailto_buttons_and_nothing_is_posted(
        browser, site_urls) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    methods: list[str] = []
    page.on("request", lambda request: methods.append(f"{request.method} {request.url}"))
    try:
        for path in ("/", "/contact/", "/shop/wildflower-honey/"):
            page.goto(site_urls["shop-en"] + path)
            page.locator(".site-footer").scroll_into_view_if_needed()
            assert page.locator("form").count() == 0
            assert page.locator("script[src*='forms']").count() == 0
            mailto = page.locator(".footer-newsletter a.btn[href^='mailto:']")
            assert mailto.get_attribute("href").startswith(
                "mailto:orders@hedgerow-honey-and-beeswax.example?subject=The%20hive%20letter")
        assert not [m for m in methods if not m.startswith("GET ")]
        # the contact page names no form, and still shows the whole business card and a map link
        page.goto(site_urls["shop-en"] + "/contact/")
        card = page.locator(".page-card .business-card")
        text = card.inner_text()
        for expected in ("3 Mill Lane", "+44 1364 555 0123", "orders@", "Closed for Christmas"):
            assert expected in text
        assert card.locator("a[href^='https://www.openstreetmap.org/search?query=']").count() == 1
    finally:
        page.close()


def test_when_the_endpoint_does_not_answer_the_form_says_so_and_offers_email_and_phone(
        browser, site_urls) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 812})
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    try:
        page.goto(site_urls["example"] + "/contatti/")
        form = page.locator("#form-contact")
        notice = page.locator("#unavailable-contact")
        assert notice.is_hidden()
        form.scroll_into_view_if_needed()
        notice.wait_for(state="visible", timeout=5000)
        assert notice.locator("a[href^='mailto:info@bottega-aurora.example']").count() == 1
        assert notice.locator("a[href^='tel:+390571555018']").count() == 1
        assert posts == [site_urls["example"] + "/api/forms/contact/token"]
        # sending tries the endpoint once more, then says so again without posting the form
        page.fill("#f-contact-name", "Giulia")
        page.fill("#f-contact-email", "giulia@example.com")
        page.fill("#f-contact-message", "Avete la brocca in verde?")
        page.check("#f-contact-privacy")
        page.click("#form-contact button[type=submit]")
        page.wait_for_function("() => document.activeElement.id === 'unavailable-contact'")
        assert page.url == site_urls["example"] + "/contatti/"
        assert page.input_value("#f-contact-message") == "Avete la brocca in verde?"
        assert posts.count(site_urls["example"] + "/api/forms/contact") == 0
        assert not page.locator("#form-contact button[type=submit]").is_disabled()
    finally:
        page.close()


# Every element's computed style, as one string per element. Custom properties (--gap) are left
# out: the browser keeps their text as written, spaces included; the properties that use them
# are compared with their resolved values.
COMPUTED = """() => Array.from(document.querySelectorAll('*')).map(el => {
  const s = getComputedStyle(el);
  return Array.from(s).filter(p => !p.startsWith('--'))
    .map(p => p + ':' + s.getPropertyValue(p)).join(';');
})"""


@pytest.mark.parametrize("width", [375, 1280])
def test_the_minified_stylesheet_styles_every_element_as_its_source(browser, site_urls,
                                                                      built_sites, width) -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (REPO / "src/storefront/themes/default/static/css/site.css",
                     REPO / "themes/bottega/static/css/bottega.css"))
    bundle = next((built_sites["example"] / "static" / "css").glob("site.*.css"))
    assert bundle.stat().st_size < 0.8 * len(source.encode())
    page = browser.new_page(viewport={"width": width, "height": WIDTHS[width]})
    try:
        for path in ("/", "/prodotti/piatto-limoni/", "/contatti/", "/blog/2025/03/smalti-primavera/"):
            page.unroute("**/*")
            page.goto(site_urls["example"] + path)
            minified = page.evaluate(COMPUTED)
            page.route(f"**/static/css/{bundle.name}",
                       lambda route: route.fulfill(body=source, content_type="text/css"))
            page.goto(site_urls["example"] + path)
            unminified = page.evaluate(COMPUTED)
            assert len(minified) == len(unminified)
            differing = [n for n, (a, b) in enumerate(zip(minified, unminified, strict=True)) if a != b]
            assert differing == [], f"{path}: {len(differing)} elements styled differently"
    finally:
        page.close()

"""The preview server end to end: save a file, the open page reloads by itself."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storefront.preview import PreviewServer
from support import SITES, free_port, wait_until


@contextmanager
def serving(site: Path, port: int = 0) -> Iterator[tuple[Path, str]]:
    """The preview of ``site`` on ``port`` (0: a free one): the site and the server's address."""
    server = PreviewServer(site, log=lambda line: None, port=port)
    server.start()
    try:
        yield site, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def preview(tmp_path: Path):
    site = tmp_path / "site"
    shutil.copytree(SITES / "basic", site)
    with serving(site) as running:
        yield running


@pytest.mark.browser
def test_saving_a_file_reloads_the_page_and_errors_show_in_the_browser(browser, preview) -> None:
    site, base = preview
    page = browser.new_page()
    try:
        page.goto(base + "/chi-siamo/")
        assert page.locator("main").inner_text().count("Dal 1952 in via Fillungo.") == 1
        source = site / "content" / "pages" / "chi-siamo.md"
        source.write_text(source.read_text(encoding="utf-8").replace("Dal 1952", "Dal 1953"),
                          encoding="utf-8")
        page.wait_for_selector("text=Dal 1953 in via Fillungo.", timeout=15_000)

        source.write_text("---\ntitle: [rotto\n---\n", encoding="utf-8")
        overlay = page.wait_for_selector("#storefront-errors", timeout=15_000)
        assert "content/pages/chi-siamo.md:2: invalid YAML" in overlay.inner_text()
        assert "Dal 1953 in via Fillungo." in page.locator("main").inner_text()
        page.set_viewport_size({"width": 375, "height": 812})  # the owner's phone: it all wraps
        assert overlay.evaluate("e => e.scrollWidth <= e.clientWidth"), overlay.inner_text()
    finally:
        page.close()


@pytest.fixture
def themed_preview(tmp_path: Path):
    """The preview of a site whose child theme adds a stylesheet of its own."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "basic", site)
    theme = site / "themes" / "custom"
    (theme / "static" / "css").mkdir(parents=True)
    (theme / "theme.yaml").write_text("name: custom\nextends: default\n"
                                      "stylesheets: [css/custom.css]\n", encoding="utf-8")
    (theme / "static" / "css" / "custom.css").write_text(
        ".site-main { outline: 3px solid rgb(1, 2, 3) }\n", encoding="utf-8")
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: custom\n", encoding="utf-8")
    with serving(site) as running:
        yield running


@pytest.mark.browser
def test_a_stylesheet_edit_is_swapped_in_without_reloading_the_page(browser, themed_preview) -> None:
    site, base = themed_preview
    page = browser.new_page()
    try:
        page.goto(base + "/chi-siamo/")
        outline = "() => getComputedStyle(document.querySelector('.site-main')).outlineColor"
        assert page.evaluate(outline) == "rgb(1, 2, 3)"
        page.evaluate("() => { window.notReloaded = true; }")
        (site / "themes/custom/static/css/custom.css").write_text(
            ".site-main { outline: 3px solid rgb(4, 5, 6) }\n", encoding="utf-8")
        page.wait_for_function(f"() => ({outline})() === 'rgb(4, 5, 6)'", timeout=15_000)
        assert page.evaluate("() => window.notReloaded") is True  # swapped, not reloaded
        hrefs = page.evaluate("() => [...document.querySelectorAll('link[rel=stylesheet]')]"
                              ".map(link => new URL(link.href).pathname)")
        assert hrefs == ["/static/css/site.css"]
    finally:
        page.close()


@pytest.mark.browser
def test_a_tab_left_open_across_a_restart_of_the_preview_reloads_again(browser, tmp_path) -> None:
    """The owner stops the preview (Ctrl+C) and starts it again; the tab stays open. The page
    waited for an epoch past the old server's (35 after an afternoon of saves), the new one
    counts from 1: the tab waited on, saves showed nothing, until the owner pressed F5. A tab
    now knows which server it came from and reloads when another one answers."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "basic", site)
    source = site / "content" / "pages" / "chi-siamo.md"
    port = free_port()
    page = browser.new_page()
    try:
        with serving(site, port) as (_, base):
            page.goto(base + "/chi-siamo/")
            for year in range(1953, 1956):  # a few saves: the old server's epoch moves on
                source.write_text(source.read_text(encoding="utf-8").replace(
                    str(year - 1), str(year)), encoding="utf-8")
                page.wait_for_selector(f"text=Dal {year} in via Fillungo.", timeout=15_000)
        source.write_text(source.read_text(encoding="utf-8").replace("1955", "1956"),
                          encoding="utf-8")  # while the preview is stopped
        with serving(site, port):
            page.wait_for_selector("text=Dal 1956 in via Fillungo.", timeout=15_000)
            source.write_text(source.read_text(encoding="utf-8").replace("1956", "1957"),
                              encoding="utf-8")
            page.wait_for_selector("text=Dal 1957 in via Fillungo.", timeout=15_000)
    finally:
        page.close()


@pytest.mark.browser
def test_seven_tabs_of_the_preview_all_load_and_all_reload(browser, preview) -> None:
    """A browser opens at most six connections to a server, and each tab of the preview held one
    waiting for the next build: with six tabs open (the home, a post, a product, the contact
    page...) a seventh never loaded (Chromium: still loading after 60 s), nor did any click in
    the others. The tabs of a browser now share one wait.

    The owner opens the tabs from the first one (a link opened in a new tab), so Chromium runs
    them all in one renderer process: seven renderers of their own took 700 MiB, and a CI machine
    short of memory killed one ("Page crashed"). The connections are the browser's either way."""
    site, base = preview
    context = browser.new_context()
    try:
        first = context.new_page()
        first.goto(base + "/", timeout=15_000)
        tabs = [first]
        for address in ("/chi-siamo/", "/blog/", "/faq/", "/prodotti/", "/chi-siamo/", "/blog/"):
            with context.expect_page(timeout=15_000) as opened:
                first.evaluate("address => { window.open(address); }", base + address)
            tab = opened.value
            tab.wait_for_load_state(timeout=15_000)
            tabs.append(tab)
        source = site / "content" / "pages" / "chi-siamo.md"
        source.write_text(source.read_text(encoding="utf-8").replace("Dal 1952", "Dal 1953"),
                          encoding="utf-8")
        for tab in (tabs[1], tabs[5]):
            tab.wait_for_selector("text=Dal 1953 in via Fillungo.", timeout=15_000)
    finally:
        context.close()


@pytest.fixture
def form_preview(tmp_path: Path):
    """The preview of a site whose contact page has a form (it posts to a form endpoint)."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "basic", site)
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "form_endpoint: {url: /api/forms/}\n",
                      encoding="utf-8")
    with serving(site) as running:
        yield running


@pytest.mark.browser
def test_what_the_owner_typed_in_a_form_survives_a_reload(browser, form_preview) -> None:
    """The owner tries the contact form in the preview, half-way through a message saves a post
    (or the editor saves by itself): the page reloaded and the message was gone. What was typed
    is put back after the reload (only on that page, only once)."""
    site, base = form_preview
    page = browser.new_page()
    try:
        page.goto(base + "/contatti/")
        form = "form:has(textarea)"
        page.fill(f"{form} textarea", "Vorrei ordinare due pagnotte\nper sabato.")
        page.fill(f"{form} input[type=email]", "anna@example.com")
        page.check(f"{form} input[type=checkbox]")
        page.evaluate("() => { window.notReloaded = true; }")
        post = site / "content" / "posts" / "2024-06-10-focaccia.md"
        post.write_text(post.read_text(encoding="utf-8") + "\nCalda.\n", encoding="utf-8")
        page.wait_for_function("() => window.notReloaded === undefined", timeout=15_000)
        page.wait_for_load_state()
        assert page.input_value(f"{form} textarea") == "Vorrei ordinare due pagnotte\nper sabato."
        assert page.input_value(f"{form} input[type=email]") == "anna@example.com"
        assert page.is_checked(f"{form} input[type=checkbox]")
        page.goto(base + "/contatti/")  # a new visit starts with an empty form
        assert page.input_value(f"{form} textarea") == ""
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("tab", ["hidden", "covered"])
def test_a_tab_that_paints_nothing_still_waits_for_news_and_reloads(browser, tmp_path: Path,
                                                                   tab: str) -> None:
    """A page waits for news once it is painted; a hidden tab (or a window covered by the
    editor) paints nothing, no animation frame comes, and it waits all the same, so a save
    reloads it and the preview does not hold its feeds back waiting for it."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "basic", site)
    server = PreviewServer(site, log=lambda line: None, port=0)
    server.start()
    page = browser.new_page()
    try:
        script = "window.requestAnimationFrame = function () { return 0; };"
        if tab == "hidden":
            script += ("Object.defineProperty(document, 'visibilityState', "
                       "{get: function () { return 'hidden'; }});")
        page.add_init_script(script)
        page.goto(f"http://127.0.0.1:{server.port}/blog/2024/06/focaccia/")
        page.wait_for_function("() => true")
        assert wait_until(lambda: server.builder.waiting == 1, 10, 0.02)
        source = site / "content/posts/2024-06-10-focaccia.md"
        source.write_text(source.read_text(encoding="utf-8") + "\nSfornata a mezzogiorno.\n",
                          encoding="utf-8")
        page.wait_for_selector("text=Sfornata a mezzogiorno.", timeout=15_000)
        assert wait_until(lambda: server.builder.waiting == 1, 10, 0.02)  # the reloaded page waits too
    finally:
        page.close()
        server.stop()

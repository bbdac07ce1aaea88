"""The shop's channels in built sites: every feed, the merchant feed, JSON-LD, noindex, aliases.

The fixture site (tests/sites/basic) and the example shop (content/) are built for real; every
feed is then held to the W3C Feed Validator's rules (tests/feed_rules.py), the merchant feed to
Merchant Center's (tests/merchant_rules.py), and every JSON-LD block to Google's required
properties (tests/jsonld_rules.py). Each rule module is shown to fail on a broken input in
tests/test_rules.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import etree

from feed_rules import atom_problems, json_feed_problems, rss_problems
from jsonld_rules import jsonld_blocks, jsonld_problems
from merchant_rules import merchant_problems
from storefront.build import BuildRequest, build_site
from support import REPO, SITES

EPOCH = "1795000000"  # 2026-11-18, as in test_build
BASIC_URL = "https://forno.example/"
SHOP_URL = "https://www.bottega-aurora.example/"
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _build(root: Path, output: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    # no cache: it would be left inside the fixture site (and copied by every test after)
    build_site(BuildRequest(root=root, output=output, use_cache=False))
    return output


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _build(SITES / "basic", tmp_path_factory.mktemp("basic"), monkeypatch)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _build(REPO, tmp_path_factory.mktemp("shop"), monkeypatch)


def feeds_in(output: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {"rss": [], "atom": [], "json": []}
    for path in sorted(output.rglob("*")):
        kind = {"feed.xml": "rss", "atom.xml": "atom", "feed.json": "json"}.get(path.name)
        if kind:
            found[kind].append(path)
    return found


def self_url(output: Path, path: Path, base: str) -> str:
    return base + path.relative_to(output).as_posix()


def html_pages(output: Path) -> list[Path]:
    return sorted(p for p in output.rglob("*.html") if not p.is_relative_to(output / "static"))


# -- feeds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("site", "base"), [("basic", BASIC_URL), ("shop", SHOP_URL)])
def test_every_feed_meets_the_validator_rules(site: str, base: str, request) -> None:
    output = request.getfixturevalue(site)
    feeds = feeds_in(output)
    checks = {"rss": rss_problems, "atom": atom_problems, "json": json_feed_problems}
    for kind, paths in feeds.items():
        for path in paths:
            assert checks[kind](path.read_bytes(), self_url(output, path, base)) == [], path
    # the blog, each tag that has posts, and the products; JSON Feed for the blog
    assert len(feeds["rss"]) == len(feeds["atom"]) >= 4 and len(feeds["json"]) == 1


def test_the_feeds_are_where_the_pages_say(basic: Path) -> None:
    assert sorted(p.relative_to(basic).as_posix() for p in feeds_in(basic)["rss"]) == [
        "feed.xml", "prodotti/feed.xml", "tag/dolci/feed.xml", "tag/grani/feed.xml",
        "tag/natale/feed.xml", "tag/pane/feed.xml"]
    for page in html_pages(basic):
        html = page.read_text(encoding="utf-8")
        for href in re.findall(r'<link rel="alternate" type="application/[a-z+]+" title="[^"]*" '
                               r'href="([^"]+)"', html):
            assert (basic / href.lstrip("/")).is_file(), f"{page} advertises {href}"


def test_a_tag_page_links_its_own_feeds_and_lists_posts_and_products(basic: Path) -> None:
    page = (basic / "tag/pane/index.html").read_text(encoding="utf-8")
    assert 'type="application/rss+xml" title="Forno Rossi · #pane (RSS)" href="/tag/pane/feed.xml"' in page
    assert 'type="application/atom+xml" title="Forno Rossi · #pane (Atom)" href="/tag/pane/atom.xml"' in page
    assert 'href="/prodotti/pagnotta/"' in page and 'href="/blog/2024/06/focaccia/"' in page
    feed = etree.fromstring((basic / "tag/pane/feed.xml").read_bytes())
    assert feed.xpath("//item/link/text()") == ["https://forno.example/blog/2024/06/focaccia/",
                                                "https://forno.example/blog/2024/05/pane-di-grano-antico/"]
    catalog = (basic / "prodotti/index.html").read_text(encoding="utf-8")
    assert 'href="/prodotti/feed.xml"' in catalog and "/tag/pane/feed.xml" not in catalog


def test_the_products_feed_shows_new_and_changed_products_with_price_and_photo(basic: Path) -> None:
    root = etree.fromstring((basic / "prodotti/feed.xml").read_bytes())
    items = root.findall("channel/item")
    # dated products only (the colomba has no date), the latest change first
    assert [i.findtext("title") for i in items] == ["Panettone artigianale", "Pagnotta di grano antico"]
    panettone = items[0]
    content = panettone.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    # the photo as its largest copy in a format every reader shows (the original may be huge)
    photo = "https://forno.example/assets/panettone-16w.c1a8d0f8fb.png"
    assert f'<img src="{photo}"' in content
    assert "<del>32,00\xa0€</del> <strong>25,60\xa0€</strong>" in content
    assert panettone.findtext("{http://base.google.com/ns/1.0}price") == "25.60 EUR"
    media = panettone.find(".//{http://search.yahoo.com/mrss/}content")
    assert (media.get("url"), media.get("medium")) == (photo, "image")


def test_a_renamed_document_keeps_its_first_address_as_feed_id(basic: Path) -> None:
    """The focaccia's first alias is its old address: readers must not see it twice."""
    rss = etree.fromstring((basic / "feed.xml").read_bytes())
    focaccia = rss.find("channel/item")
    assert focaccia.findtext("link") == "https://forno.example/blog/2024/06/focaccia/"
    guid = focaccia.find("guid")
    assert (guid.text, guid.get("isPermaLink")) == (BASIC_URL + "blog/focaccia-del-mattino/", "false")
    atom = etree.fromstring((basic / "atom.xml").read_bytes())
    assert atom.findtext("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}id") == guid.text


# -- merchant feed -----------------------------------------------------------------------------


@pytest.mark.parametrize(("site", "ids"), [
    # catalogue order; the colomba has no photo, so it is left out (with a warning)
    ("basic", ["DOL-01", "PAN-01"]),
    # the discontinued angioletti and the draft lampada are not for sale
    ("shop", ["AUR-DEC-001", "AUR-TAV-001", "AUR-TAV-002", "AUR-TAV-003", "AUR-TAV-004",
              "AUR-VAS-001", "AUR-VAS-002"]),
])
def test_the_merchant_feed_meets_merchant_centers_rules(site: str, ids: list[str], request) -> None:
    data = (request.getfixturevalue(site) / "merchant.xml").read_bytes()
    assert merchant_problems(data) == []
    root = etree.fromstring(data)
    assert root.xpath("//g:id/text()", namespaces={"g": "http://base.google.com/ns/1.0"}) == ids


def test_merchant_items_carry_sale_dates_identifiers_and_shipping(basic: Path) -> None:
    g = "{http://base.google.com/ns/1.0}"
    items = {i.findtext(f"{g}id"): i for i in etree.fromstring(
        (basic / "merchant.xml").read_bytes()).iter("item")}
    panettone = items["DOL-01"]
    assert (panettone.findtext(f"{g}price"), panettone.findtext(f"{g}sale_price")) == (
        "32.00 EUR", "25.60 EUR")
    # from the day of the build to the first instant after sale_until (2099-01-06, included)
    assert panettone.findtext(f"{g}sale_price_effective_date") == (
        "2026-11-18T00:00+0100/2099-01-07T00:00+0100")
    assert panettone.findtext(f"{g}availability_date") == "2026-12-10T00:00+0100"
    assert (panettone.findtext(f"{g}brand"), panettone.findtext(f"{g}mpn"),
            panettone.findtext(f"{g}identifier_exists")) == ("Forno Rossi Lucca", "FR-PAN-1KG", None)
    pagnotta = items["PAN-01"]
    assert (pagnotta.findtext(f"{g}brand"), pagnotta.findtext(f"{g}identifier_exists")) == (
        "Forno Rossi", "no")
    # an SVG drawing is not a product photo for Google
    assert pagnotta.findall(f"{g}additional_image_link") == []
    countries = [s.findtext(f"{g}country") for s in pagnotta.findall(f"{g}shipping")]
    assert countries == ["IT", "SM", "FR", "DE", "AT"]
    italy = pagnotta.find(f"{g}shipping")
    assert [(e.tag.removeprefix(g), e.text) for e in italy] == [
        ("country", "IT"), ("service", "Italia"), ("price", "7.50 EUR"), ("min_handling_time", "1"),
        ("max_handling_time", "2"), ("min_transit_time", "1"), ("max_transit_time", "3")]
    assert [t.findtext(f"{g}price_threshold") for t in pagnotta.findall(f"{g}free_shipping_threshold")] == [
        "60.00 EUR", "60.00 EUR"]


# -- structured data ---------------------------------------------------------------------------


@pytest.mark.parametrize("site", ["basic", "shop"])
def test_every_jsonld_block_loads_and_meets_googles_requirements(site: str, request) -> None:
    output = request.getfixturevalue(site)
    seen: set[str] = set()
    for page in html_pages(output):
        for block in jsonld_blocks(page.read_text(encoding="utf-8")):
            seen.add(block["@type"])
            assert jsonld_problems(block, merchant=True) == [], page
    assert {"Product", "BreadcrumbList", "LocalBusiness", "FAQPage", "BlogPosting"} <= seen


def test_products_and_pages_have_breadcrumbs_matching_the_visible_trail(basic: Path) -> None:
    product = jsonld_blocks((basic / "prodotti/panettone/index.html").read_text(encoding="utf-8"))
    trail = next(b for b in product if b["@type"] == "BreadcrumbList")["itemListElement"]
    assert [(i["name"], i["item"]) for i in trail] == [
        ("Forno Rossi", BASIC_URL), ("Prodotti", BASIC_URL + "prodotti/"),
        ("Dolci", BASIC_URL + "prodotti/#dolci"),
        ("Panettone artigianale", BASIC_URL + "prodotti/panettone/")]
    page = jsonld_blocks((basic / "chi-siamo/index.html").read_text(encoding="utf-8"))
    assert [(i["name"], i["item"]) for i in page[0]["itemListElement"]] == [
        ("Forno Rossi", BASIC_URL), ("Chi siamo", BASIC_URL + "chi-siamo/")]


def test_product_jsonld_repeats_the_shop_wide_policies(basic: Path) -> None:
    blocks = jsonld_blocks((basic / "prodotti/pagnotta/index.html").read_text(encoding="utf-8"))
    offer = next(b for b in blocks if b["@type"] == "Product")["offers"]
    assert [d["shippingRate"]["value"] for d in offer["shippingDetails"]] == ["7.50", "15.00"]
    policy = offer["hasMerchantReturnPolicy"]
    assert (policy["merchantReturnDays"], policy["merchantReturnLink"]) == (
        14, BASIC_URL + "spedizioni/#returns")
    # the readable section is where the link says
    section = (basic / "spedizioni/index.html").read_text(encoding="utf-8")
    assert 'id="returns"' in section and 'id="shipping"' in section
    assert "7,50\xa0€, gratuita da 60,00\xa0€" in section and "Francia, Germania, Austria" in section


def test_a_site_without_an_address_is_an_online_store(copy_site, monkeypatch, tmp_path) -> None:
    site = copy_site("basic")
    config = site / "storefront.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"  address: \{[^}]*\}\n", "", text), encoding="utf-8")
    output = _build(site, tmp_path / "out", monkeypatch)
    home = jsonld_blocks((output / "index.html").read_text(encoding="utf-8"))
    assert [b["@type"] for b in home] == ["OnlineStore"]
    assert jsonld_problems(home[0]) == []
    assert "openingHours" not in home[0] and "geo" not in home[0]


def test_structured_data_shows_photos_in_formats_google_reads(copy_site, monkeypatch,
                                                              tmp_path) -> None:
    """Google takes structured data's images in the formats Google Images shows (BMP, GIF, JPEG,
    PNG, WebP, SVG, AVIF): a product or post photo that is a TIFF (or an iPhone's HEIC) is given
    as its plain JPEG copy, as the merchant feed gives it."""
    from PIL import Image

    site = copy_site("basic")
    Image.new("RGB", (40, 30), "orange").save(site / "content/assets/forno.tiff")
    for path, old in (("products/pagnotta.md", "/assets/pagnotta.png"),
                      ("posts/2024-05-01-pane-di-grano-antico.md", "/assets/pane.svg")):
        file = site / "content" / path
        file.write_text(file.read_text(encoding="utf-8").replace(old, "/assets/forno.tiff"),
                        encoding="utf-8")
    output = _build(site, tmp_path / "out", monkeypatch)
    copy = re.compile(re.escape(BASIC_URL) + r"assets/forno-40w\.[0-9a-f]+\.jpg")
    pages = ("prodotti/pagnotta/index.html", "blog/2024/05/pane-di-grano-antico/index.html")
    images = [block["image"] for page in pages
              for block in jsonld_blocks((output / page).read_text(encoding="utf-8"))
              if block["@type"] in ("Product", "BlogPosting")]
    assert len(images) == 2 and copy.fullmatch(images[0][0]) and copy.fullmatch(images[1])
    merchant = etree.fromstring((output / "merchant.xml").read_bytes())
    assert images[0][0] in merchant.xpath("//g:image_link/text()",
                                          namespaces={"g": "http://base.google.com/ns/1.0"})


# -- share cards, tags, noindex ----------------------------------------------------------------


def test_open_graph_says_product_with_price_and_article_with_tags(basic: Path) -> None:
    product = (basic / "prodotti/panettone/index.html").read_text(encoding="utf-8")
    assert '<meta property="og:type" content="product">' in product
    assert '<meta property="product:price:amount" content="25.60">' in product
    assert '<meta property="product:price:currency" content="EUR">' in product
    post = (basic / "blog/2024/05/pane-di-grano-antico/index.html").read_text(encoding="utf-8")
    assert '<meta property="article:published_time" content="2024-05-01T00:00:00+02:00">' in post
    assert re.findall(r'<meta property="article:tag" content="([^"]+)">', post) == ["pane", "grani"]


def _card(page: str) -> dict[str, str]:
    return dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):(?:image[:a-z]*|card))" '
                           r'content="([^"]*)">', page))


def test_an_svg_is_never_a_share_image(copy_site, monkeypatch, tmp_path) -> None:
    """Facebook, X, LinkedIn and WhatsApp show no SVG: a post whose image: is an SVG shares the
    site's image card (with its size), or no image at all; and a page that falls back to the
    site's image does not describe it with its own title."""
    site = copy_site("basic")
    svg_post = "blog/2024/05/pane-di-grano-antico/index.html"
    output = _build(site, tmp_path / "out", monkeypatch)
    card = _card((output / svg_post).read_text(encoding="utf-8"))
    assert card == {"twitter:card": "summary"}  # no image at all rather than an SVG
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "author: Anna Rossi\n", "author: Anna Rossi\nimage: /assets/panettone.png\n"),
        encoding="utf-8")
    output = _build(site, tmp_path / "out2", monkeypatch)
    home = _card((output / "index.html").read_text(encoding="utf-8"))
    assert home["og:image"].startswith("https://forno.example/assets/panettone-card.")
    card = _card((output / svg_post).read_text(encoding="utf-8"))
    assert card["og:image"] == card["twitter:image"] == home["og:image"]
    assert card["og:image:width"] == home["og:image:width"] != ""
    assert card["twitter:card"] == "summary_large_image"
    # the alt text written for the post's own SVG does not describe the shop's photo
    assert "og:image:alt" not in card and "twitter:image:alt" not in card
    no_image = _card((output / "blog/2024/06/focaccia/index.html").read_text(encoding="utf-8"))
    assert no_image["og:image"] == home["og:image"] and "og:image:alt" not in no_image
    with_image = _card((output / "prodotti/panettone/index.html").read_text(encoding="utf-8"))
    assert with_image["og:image:alt"] == "Un panettone alto e dorato"


def test_a_gif_share_image_says_its_size(copy_site, monkeypatch, tmp_path) -> None:
    """A GIF is shared as it is (no card is cut from it): its own size goes with it, so that a
    share preview can lay it out before fetching it."""
    from PIL import Image

    site = copy_site("basic")
    Image.new("RGB", (40, 20), "red").save(site / "content/assets/forno.gif")
    post = site / "content/posts/2024-05-01-pane-di-grano-antico.md"
    post.write_text(post.read_text(encoding="utf-8").replace("/assets/pane.svg", "/assets/forno.gif"),
                    encoding="utf-8")
    output = _build(site, tmp_path / "out", monkeypatch)
    card = _card((output / "blog/2024/05/pane-di-grano-antico/index.html").read_text(encoding="utf-8"))
    assert card["og:image"] == "https://forno.example/assets/forno.gif"
    assert (card["og:image:width"], card["og:image:height"]) == ("40", "20")


def test_product_pages_show_their_tags_and_plain_share_links(basic: Path) -> None:
    page = (basic / "prodotti/panettone/index.html").read_text(encoding="utf-8")
    assert '<a href="/tag/natale/" rel="tag">natale</a>' in page
    assert ('href="https://wa.me/?text=Panettone%20artigianale%20'
            'https%3A//forno.example/prodotti/panettone/"') in page
    assert "<script src=" not in page.split("<body", 1)[1] or "forms.js" in page  # no share scripts


def test_noindex_pages_say_so_and_stay_out_of_the_sitemap(basic: Path) -> None:
    sitemap = etree.parse(str(basic / "sitemap.xml"))
    listed = set(sitemap.xpath("//s:loc/text()", namespaces=SITEMAP_NS))
    for page in html_pages(basic):
        noindex = '<meta name="robots" content="noindex">' in page.read_text(encoding="utf-8")
        url = BASIC_URL + page.relative_to(basic).as_posix().removesuffix("index.html")
        assert (url in listed) == (not noindex), page
    noindexed = {"grazie/", "privacy/", "404.html", "about/", "storia.html", "focaccia/"}
    assert {BASIC_URL + path for path in noindexed}.isdisjoint(listed)


# -- aliases -----------------------------------------------------------------------------------


def test_each_alias_has_a_redirect_page_a_netlify_line_and_an_nginx_entry(basic: Path) -> None:
    page = (basic / "storia.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://forno.example/chi-siamo/">' in page
    assert '<meta http-equiv="refresh" content="0; url=/chi-siamo/">' in page
    assert '<a href="/chi-siamo/">Chi siamo</a>' in page
    assert '<meta name="robots" content="noindex">' in page and "<script" not in page
    assert (basic / "focaccia" / "index.html").is_file()  # "/focaccia" becomes a folder's page
    assert (basic / "_redirects").read_text(encoding="utf-8").splitlines()[2:] == [
        "/spedizioni-faq/ /faq/#spedite 301",
        "/about/ /chi-siamo/ 301",
        "/storia.html /chi-siamo/ 301",
        "/blog/focaccia-del-mattino/ /blog/2024/06/focaccia/ 301",
        "/focaccia /blog/2024/06/focaccia/ 301",
        "/prodotti/pane-antico/ /prodotti/pagnotta/ 301",
    ]
    nginx = (basic / "nginx-redirects.conf").read_text(encoding="utf-8")
    assert '    "/focaccia" "/blog/2024/06/focaccia/";\n' in nginx
    assert '    "/about/" "/chi-siamo/";\n    "/about" "/chi-siamo/";\n' in nginx


def test_a_site_without_aliases_still_writes_an_empty_nginx_map(copy_site, monkeypatch, tmp_path) -> None:
    site = copy_site("basic")
    for path in (site / "content").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"aliases:(\n  - .*)+\n|aliases: .*\n", "", text), encoding="utf-8")
    output = _build(site, tmp_path / "out", monkeypatch)
    assert (output / "nginx-redirects.conf").read_text(encoding="utf-8").endswith(
        "map $uri $storefront_redirect {\n}\n")
    assert len((output / "_redirects").read_text(encoding="utf-8").splitlines()) == 2
    assert not (output / "about").exists()


def test_aliases_move_with_the_base_path(copy_site, monkeypatch, tmp_path) -> None:
    site = copy_site("basic")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    output = tmp_path / "out"
    build_site(BuildRequest(root=site, output=output, base_url="https://example.com/forno/"))
    assert "/forno/about/ /forno/chi-siamo/ 301" in (output / "_redirects").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=/forno/chi-siamo/">' in (
        output / "about/index.html").read_text(encoding="utf-8")
    shutil.rmtree(output)

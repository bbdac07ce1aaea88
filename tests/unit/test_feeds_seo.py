"""storefront.feeds (RSS and Atom) and storefront.seo (sitemap, robots, JSON-LD)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from lxml import etree

from storefront.build import build_site
from storefront.config import parse_config
from storefront.documents import Document, FaqEntry, Post, Product
from storefront.feeds import FeedChannel, channel, post_items
from storefront.localize import localize
from storefront.reader import ReaderSettings, read_document
from storefront.request import BuildRequest
from storefront.seo import (
    SitemapEntry,
    business_jsonld,
    faq_jsonld,
    post_jsonld,
    product_jsonld,
    render_robots,
    render_sitemap,
    split_hours,
    to_jsonld,
)
from storefront.sources import Kind, SourceFile
from storefront.urls import UrlBuilder
from storefront.xmlfeeds import render_atom, render_rss
from support import NPM, replace_in

ROME = ZoneInfo("Europe/Rome")
CONFIG = parse_config(
    "title: Bottega Aurora\n"
    "description: Ceramiche fatte a mano.\n"
    "base_url: https://example.com/shop/\n"
    "author: Anna\n"
    "image: /assets/share.jpg\n"
    "business:\n"
    "  name: Bottega Aurora\n"
    "  legal_name: Aurora srl\n"
    "  vat_number: IT01234567890\n"
    "  phone: '+39 055 123'\n"
    "  email: ciao@example.com\n"
    "  address: {street: Via Roma 1, postal_code: '50100', city: Firenze, region: FI, country: IT}\n"
    "  geo: {latitude: 43.77, longitude: 11.25}\n"
    "  opening_hours:\n"
    "    - {days: Mar-Ven, hours: '9:30-13, 15:30-19', schema: 'Tu-Fr 09:30-13:00,15:30-19:00'}\n"
    "    - {days: Sab, hours: '10-13', schema: 'Sa 10:00-13:00'}\n"
    "social:\n"
    "  - {name: Instagram, url: 'https://instagram.com/aurora'}\n"
)
URLS = UrlBuilder.from_base_url(CONFIG.base_url)
SITEMAP_XSD = NPM / "sitemap" / "schema" / "sitemap.xsd"
RFC822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def doc(kind: Kind, name: str, front_matter: str, body: str = "Testo.\n") -> Document:
    data = f"---\n{front_matter}\n---\n{body}".encode()
    source = SourceFile(kind, f"content/{kind}/{name}", data, hashlib.sha256(data).hexdigest())
    return localize(read_document(source, ReaderSettings.of(CONFIG)), URLS)


def newest_first(*posts: Document) -> list[Post]:
    found = [p for p in posts if isinstance(p, Post)]
    return sorted(found, key=lambda p: p.date, reverse=True)


POSTS = newest_first(
    doc("posts", "2024-05-01-pane.md", "title: Pane & sale\ntags: [pane, Grani antichi]",
        "Il *nostro* pane.\n\n<!--more-->\n\nCon [foto](/assets/p.jpg).\n"),
    doc("posts", "p00001-dolci.md", "title: Dolci\ndate: 2012-01-01T15:05:00Z\nsummary: Buoni."),
    doc("posts", "2024-06-10-focaccia.md",
        "title: Focaccia\ndate: 2024-06-10 07:30\nupdated: 2024-06-12 10:00"),
)


FEED_SIZE = CONFIG.feeds.items


def blog(posts: list[Post] = POSTS, updated: datetime | None = None) -> FeedChannel:
    return channel(CONFIG, URLS, CONFIG.title, URLS.url("/"), post_items(posts, CONFIG, URLS), updated)


def rss() -> bytes:
    return render_rss(blog())


def atom() -> bytes:
    return render_atom(blog())


# -- RSS ---------------------------------------------------------------------------------------


def test_rss_parses_cleanly_with_entries_newest_first() -> None:
    feed = feedparser.parse(rss())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert [e.link for e in feed.entries] == [
        "https://example.com/shop/blog/2024/06/focaccia/",
        "https://example.com/shop/blog/2024/05/pane/",
        "https://example.com/shop/blog/2012/01/p00001-dolci/",
    ]
    assert [e.title for e in feed.entries] == ["Focaccia", "Pane & sale", "Dolci"]
    assert feed.entries[1].id == "https://example.com/shop/blog/2024/05/pane/"
    assert [t.term for t in feed.entries[1].tags] == ["pane", "Grani antichi"]
    # root-relative links become absolute: a feed reader has no page to resolve them against
    assert feed.entries[1].content[0].value == str(POSTS[1].content_html).replace(
        'href="/shop/', 'href="https://example.com/shop/')
    assert 'href="https://example.com/shop/assets/p.jpg"' in feed.entries[1].content[0].value
    assert feed.entries[1].summary == "<p>Il <em>nostro</em> pane.</p>"


def test_an_entry_with_many_tags_is_written_in_linear_time(monkeypatch) -> None:
    """feedgen rebuilds an entry's RSS categories at each call of ``category``: one call per tag
    made a post with 600 tags take a minute (each of its 600 tag feeds wrote 600 categories,
    each call copying all the ones before). All of an entry's terms go in one call."""
    from feedgen.entry import FeedEntry

    calls: list[int] = []
    original = FeedEntry.category

    def counted(self, category=None, replace=False, **kwargs):
        calls.append(1)
        return original(self, category, replace, **kwargs)

    monkeypatch.setattr(FeedEntry, "category", counted)
    terms = tuple(f"tag{number}" for number in range(300))
    feed = blog()
    feed = replace(feed, items=(replace(feed.items[0], categories=terms),))
    for render in (render_rss, render_atom):
        calls.clear()
        parsed = feedparser.parse(render(feed))
        assert [t.term for t in parsed.entries[0].tags] == list(terms)
        assert len(calls) == 1


def test_the_rss_channel_links_to_the_site_and_to_itself() -> None:
    feed = feedparser.parse(rss())
    channel = etree.fromstring(rss()).find("channel")
    assert channel.findtext("link") == "https://example.com/shop/"  # the site, not the feed
    self_link = channel.find("{http://www.w3.org/2005/Atom}link")
    assert (self_link.get("rel"), self_link.get("href")) == ("self", "https://example.com/shop/feed.xml")
    assert (feed.feed.title, feed.feed.subtitle, feed.feed.language) == (
        "Bottega Aurora", "Ceramiche fatte a mano.", "it")


def test_rss_dates_are_rfc_822() -> None:
    dates = re.findall(rb"<(pubDate|lastBuildDate)>([^<]*)</", rss())
    assert [name for name, _ in dates].count(b"pubDate") == 3
    for _, value in dates:
        assert RFC822.match(value.decode()), value
    channel = etree.fromstring(rss()).find("channel")
    assert channel.findtext("lastBuildDate") == "Wed, 12 Jun 2024 10:00:00 +0200"  # the latest update
    assert channel.findall("item")[2].findtext("pubDate") == "Sun, 01 Jan 2012 16:05:00 +0100"


# -- Atom --------------------------------------------------------------------------------------


def test_atom_parses_cleanly_with_entries_newest_first() -> None:
    feed = feedparser.parse(atom())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.id for e in feed.entries] == [
        "https://example.com/shop/blog/2024/06/focaccia/",
        "https://example.com/shop/blog/2024/05/pane/",
        "https://example.com/shop/blog/2012/01/p00001-dolci/",
    ]
    assert {(link.rel, link.href) for link in feed.feed.links} == {
        ("alternate", "https://example.com/shop/"), ("self", "https://example.com/shop/atom.xml"),
    }
    assert feed.feed.author == "Anna"


def test_atom_content_is_declared_as_html() -> None:
    entry = feedparser.parse(atom()).entries[1]
    assert entry.content[0].type == "text/html"  # "CDATA" is no Atom content type
    assert entry.content[0].value == str(POSTS[1].content_html).replace(
        'href="/shop/', 'href="https://example.com/shop/')
    root = etree.fromstring(atom())
    types = {c.get("type") for c in root.iter("{http://www.w3.org/2005/Atom}content")}
    assert types == {"html"}


def test_atom_dates_are_rfc_3339_and_updates_are_kept() -> None:
    root = etree.fromstring(atom())
    names = ("updated", "published")
    values = [e.text for name in names for e in root.iter(f"{{http://www.w3.org/2005/Atom}}{name}")]
    assert len(values) == 1 + 3 + 3
    for value in values:
        assert RFC3339.match(value), value
    entry = root.find("{http://www.w3.org/2005/Atom}entry")
    assert entry.findtext("{http://www.w3.org/2005/Atom}published") == "2024-06-10T07:30:00+02:00"
    assert entry.findtext("{http://www.w3.org/2005/Atom}updated") == "2024-06-12T10:00:00+02:00"


# -- both --------------------------------------------------------------------------------------


def test_two_renders_are_byte_identical() -> None:
    assert rss() == rss()
    assert atom() == atom()


def test_an_empty_blog_still_gives_deterministic_valid_feeds() -> None:
    # with no post there is no date to use: the feed must not fall back to "now"
    first = (render_rss(blog([])), render_atom(blog([])))
    again = (render_rss(blog([])), render_atom(blog([])))
    assert first == again
    assert re.search(rb"<lastBuildDate>Thu, 01 Jan 1970 00:00:00 \+0000</lastBuildDate>", first[0])
    for data, version in zip(first, ("rss20", "atom10"), strict=True):
        feed = feedparser.parse(data)
        assert (feed.bozo, feed.version, feed.entries) == (False, version, [])


def test_an_empty_blog_can_be_dated_by_the_caller() -> None:
    moment = datetime(2024, 6, 15, 12, tzinfo=ROME)
    data = render_atom(blog([], updated=moment))
    assert b"<updated>2024-06-15T12:00:00+02:00</updated>" in data
    assert b"<lastBuildDate>Sat, 15 Jun 2024 12:00:00 +0200</lastBuildDate>" in render_rss(
        blog([], updated=moment))


def test_feeds_hold_the_newest_posts_only() -> None:
    many = [replace(POSTS[0], title=f"Post {n}", url=f"/shop/blog/{n}/",
                    date=datetime(2024, 1, 1, tzinfo=ROME).replace(day=1 + n), updated=None)
            for n in range(FEED_SIZE + 5)]
    many.sort(key=lambda p: p.date, reverse=True)
    for data in (render_rss(blog(many)), render_atom(blog(many))):
        titles = [e.title for e in feedparser.parse(data).entries]
        assert titles == [f"Post {n}" for n in range(FEED_SIZE + 4, 4, -1)]


# -- sitemap and robots ------------------------------------------------------------------------


def sitemap_schema() -> etree.XMLSchema:
    if not SITEMAP_XSD.is_file():
        pytest.fail(
            f"{SITEMAP_XSD} is missing: run `npm install --prefix .cache/npm sitemap` in the repository "
            "root (scripts/test.sh does it)"
        )
    return etree.XMLSchema(etree.parse(str(SITEMAP_XSD)))


def test_the_sitemap_validates_against_the_sitemaps_org_schema() -> None:
    data = render_sitemap([
        SitemapEntry("https://example.com/shop/blog/2024/05/pane/", datetime(2024, 5, 1, 9, 30, tzinfo=ROME)),
        SitemapEntry("https://example.com/shop/"),
        SitemapEntry("https://example.com/shop/cerca/?q=a&b=c",
                     datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=ROME)),
    ])
    document = etree.fromstring(data)
    schema = sitemap_schema()
    assert schema.validate(document), schema.error_log
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert document.xpath("//s:loc/text()", namespaces=ns) == [
        "https://example.com/shop/",
        "https://example.com/shop/blog/2024/05/pane/",
        "https://example.com/shop/cerca/?q=a&b=c",
    ]
    assert document.xpath("//s:lastmod/text()", namespaces=ns) == [
        "2024-05-01T09:30:00+02:00", "2024-01-02T03:04:05.000678+01:00",
    ]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


# RFC 3986: what a URL may hold (unreserved, reserved and percent escapes), and nothing else
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")


def test_a_unicode_base_url_gives_escaped_urls_in_sitemap_feeds_and_share_tags(copy_site,
                                                                              tmp_path: Path) -> None:
    site = copy_site("basic")
    replace_in(site / "storefront.yaml", "base_url: https://forno.example/",
               "base_url: https://caffè.it/caffè/")
    out = tmp_path / "out"
    build_site(BuildRequest(root=site, output=out))
    base = "https://xn--caff-8oa.it/caff%C3%A8/"
    sitemap = etree.parse(str(out / "sitemap.xml"))
    schema = sitemap_schema()
    assert schema.validate(sitemap), schema.error_log
    locs = sitemap.xpath("//s:loc/text()", namespaces={"s": "http://www.sitemaps.org/schemas/sitemap/0.9"})
    assert base in locs and all(URI.fullmatch(loc) and loc.startswith(base) for loc in locs)
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((out / name).read_bytes())
        assert not feed.bozo, feed.bozo_exception
        links = [feed.feed.link] + [entry.link for entry in feed.entries]
        assert all(URI.fullmatch(link) and link.startswith(base) for link in links), links
    page = (out / "chi-siamo/index.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{base}chi-siamo/">' in page
    assert f'<meta property="og:url" content="{base}chi-siamo/">' in page
    assert (out / "robots.txt").read_text(encoding="utf-8").endswith(f"Sitemap: {base}sitemap.xml\n")


def test_the_schema_check_can_fail() -> None:
    broken = render_sitemap([SitemapEntry("https://example.com/", datetime(2024, 5, 1))]).replace(
        b"<lastmod>2024-05-01T00:00:00</lastmod>", b"<lastmod>1 maggio</lastmod>")
    assert not sitemap_schema().validate(etree.fromstring(broken))


def test_robots_points_at_the_sitemap() -> None:
    assert render_robots("https://example.com/shop/sitemap.xml") == (
        b"User-agent: *\nAllow: /\n\nSitemap: https://example.com/shop/sitemap.xml\n"
    )


# -- JSON-LD -----------------------------------------------------------------------------------


def test_jsonld_can_never_close_its_script_element() -> None:
    nasty = {"@type": "Thing", "name": "</script><script>alert(1)</script> & <!--", "x": ["</SCRIPT>"]}
    text = to_jsonld(nasty)
    assert "</script" not in text.lower()
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"@context": "https://schema.org", **nasty}


def test_product_jsonld_has_an_offer_with_exact_price_and_currency() -> None:
    product = doc("products", "vaso.md", "title: Vaso blu\nprice: 12.50\nsku: V-1\nsummary: Un vaso.\n"
                  "category: Vasi\nimages: [/assets/v.jpg]\navailability: out_of_stock")
    assert isinstance(product, Product)
    data = json.loads(to_jsonld(product_jsonld(product, CONFIG, URLS)))
    assert data == {
        "@context": "https://schema.org", "@type": "Product", "name": "Vaso blu",
        "url": "https://example.com/shop/prodotti/vaso/", "sku": "V-1", "description": "Un vaso.",
        "image": ["https://example.com/shop/assets/v.jpg"], "category": "Vasi",
        "brand": {"@type": "Brand", "name": "Bottega Aurora"},  # the business, by default
        "offers": {"@type": "Offer", "price": "12.50", "priceCurrency": "EUR",
                   "availability": "https://schema.org/OutOfStock",
                   "itemCondition": "https://schema.org/NewCondition",
                   "url": "https://example.com/shop/prodotti/vaso/"},
    }


def test_image_paths_written_with_spaces_or_accents_are_encoded_in_structured_data() -> None:
    """A phone's export is "Foto del forno.jpg": the owner writes the path as the file is named.
    Structured data takes encoded URLs; an escape the owner wrote stays as it is."""
    product = doc("products", "vaso.md", "title: Vaso\nprice: 12.50\n"
                  "images: [/assets/Foto del forno.jpg, /assets/perché.jpg, /assets/50%25.jpg]")
    assert isinstance(product, Product)
    assert product_jsonld(product, CONFIG, URLS)["image"] == [
        "https://example.com/shop/assets/Foto%20del%20forno.jpg",
        "https://example.com/shop/assets/perch%C3%A9.jpg",
        "https://example.com/shop/assets/50%25.jpg"]
    post = replace(POSTS[0], image="/shop/assets/pane caldo.jpg")
    assert post_jsonld(post, CONFIG, URLS)["image"] == (
        "https://example.com/shop/assets/pane%20caldo.jpg")


def test_a_running_sale_offers_the_sale_price_until_its_last_day() -> None:
    product = doc("products", "vaso.md",
                  "title: Vaso\nprice: 20.00\nsale_price: 15.00\nsale_until: 2024-06-30")
    assert isinstance(product, Product)
    offer = product_jsonld(replace(product, on_sale=True), CONFIG, URLS)["offers"]
    assert (offer["price"], offer["priceValidUntil"]) == ("15.00", "2024-06-30")
    ended = product_jsonld(replace(product, on_sale=False), CONFIG, URLS)["offers"]
    assert ended["price"] == "20.00" and "priceValidUntil" not in ended
    assert Decimal(ended["price"]) == product.price


def test_faq_jsonld_has_questions_with_plain_text_answers() -> None:
    entries = [doc("faq", "a.md", "question: Spedite?", "Sì, in *tutta* l'Europa & oltre.\n"),
               doc("faq", "b.md", "question: Resi?", "Entro 14 giorni.\n")]
    assert all(isinstance(e, FaqEntry) for e in entries)
    data = json.loads(to_jsonld(faq_jsonld(entries)))  # type: ignore[arg-type]
    assert data == {
        "@context": "https://schema.org", "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": "Spedite?",
             "acceptedAnswer": {"@type": "Answer", "text": "Sì, in tutta l\u2019Europa & oltre."}},
            {"@type": "Question", "name": "Resi?",
             "acceptedAnswer": {"@type": "Answer", "text": "Entro 14 giorni."}},
        ],
    }


def test_blog_posting_jsonld_has_zoned_dates_author_and_image() -> None:
    post = POSTS[0]  # focaccia: dated and updated
    data = post_jsonld(post, CONFIG, URLS)
    assert data["@type"] == "BlogPosting"
    assert data["datePublished"] == "2024-06-10T07:30:00+02:00"
    assert data["dateModified"] == "2024-06-12T10:00:00+02:00"
    assert RFC3339.match(data["datePublished"]) and RFC3339.match(data["dateModified"])
    assert data["author"] == {"@type": "Person", "name": "Anna"}
    assert data["image"] == "https://example.com/shop/assets/share.jpg"  # the site's share image
    assert data["mainEntityOfPage"] == "https://example.com/shop/blog/2024/06/focaccia/"
    assert data["publisher"] == {"@type": "Organization", "name": "Bottega Aurora"}
    assert post_jsonld(POSTS[1], CONFIG, URLS)["keywords"] == "pane, Grani antichi"


TUE_FRI = ["Tuesday", "Wednesday", "Thursday", "Friday"]


def test_local_business_jsonld_has_a_postal_address_and_hours() -> None:
    data = json.loads(to_jsonld(business_jsonld(CONFIG, URLS)))
    assert data == {
        "@context": "https://schema.org", "@type": "LocalBusiness", "name": "Bottega Aurora",
        "url": "https://example.com/shop/", "legalName": "Aurora srl", "vatID": "IT01234567890",
        "telephone": "+39 055 123", "email": "ciao@example.com",
        "image": "https://example.com/shop/assets/share.jpg",
        "address": {"@type": "PostalAddress", "streetAddress": "Via Roma 1", "postalCode": "50100",
                    "addressLocality": "Firenze", "addressRegion": "FI", "addressCountry": "IT"},
        "geo": {"@type": "GeoCoordinates", "latitude": 43.77, "longitude": 11.25},
        "openingHours": ["Tu-Fr 09:30-13:00", "Tu-Fr 15:30-19:00", "Sa 10:00-13:00"],
        "openingHoursSpecification": [
            {"@type": "OpeningHoursSpecification", "dayOfWeek": TUE_FRI, "opens": "09:30",
             "closes": "13:00"},
            {"@type": "OpeningHoursSpecification", "dayOfWeek": TUE_FRI, "opens": "15:30",
             "closes": "19:00"},
            {"@type": "OpeningHoursSpecification", "dayOfWeek": ["Saturday"], "opens": "10:00",
             "closes": "13:00"},
        ],
        "sameAs": ["https://instagram.com/aurora"],
    }


def test_a_business_without_address_is_an_organization_never_a_local_business() -> None:
    # Google rejects a LocalBusiness without an address: a shop is then an OnlineStore
    config = parse_config("title: Solo web\nbusiness:\n  opening_hours: [{days: Lu, hours: '9-12', "
                          "schema: 'Mo 09:00-12:00'}]\n  geo: {latitude: 1.5, longitude: 2.5}\n")
    urls = UrlBuilder.from_base_url("")
    assert business_jsonld(config, urls) == {"@type": "Organization", "name": "Solo web", "url": "/"}
    assert business_jsonld(config, urls, sells_products=True) == {
        "@type": "OnlineStore", "name": "Solo web", "url": "/"}


@pytest.mark.parametrize(
    ("schema", "entries"),
    [
        ("Mo-Sa 07:00-13:00", ["Mo-Sa 07:00-13:00"]),
        ("Tu-Fr 09:30-13:00, 15:30-19:00", ["Tu-Fr 09:30-13:00", "Tu-Fr 15:30-19:00"]),
        (" Mo,We 09:00-12:00 ", ["Mo,We 09:00-12:00"]),
    ],
)
def test_split_hours(schema: str, entries: list[str]) -> None:
    assert split_hours(schema) == entries


def test_a_long_product_summary_is_cut_for_the_description_as_a_posts_is(copy_site,
                                                                          tmp_path: Path) -> None:
    site = copy_site("basic")
    summary = ("Un chilo di pane a lievitazione naturale, " * 8).strip()
    product = site / "content/products/pagnotta.md"
    product.write_text(product.read_text(encoding="utf-8").replace(
        "summary: Un chilo di pane a lievitazione naturale.", f"summary: {summary}"), encoding="utf-8")
    post = site / "content/posts/2024-06-10-focaccia.md"
    post.write_text(post.read_text(encoding="utf-8").replace(
        "author: Marco Rossi", f"author: Marco Rossi\nsummary: {summary}"), encoding="utf-8")
    out = tmp_path / "out"
    build_site(BuildRequest(root=site, output=out))

    def described(page: str) -> set[str]:
        html = (out / page).read_text(encoding="utf-8")
        return set(re.findall(r'<meta (?:name|property)="(?:og:|twitter:)?description" '
                              r'content="([^"]*)">', html))

    cut = {summary[:200].rsplit(" ", 1)[0] + "…"}  # at a word, with an ellipsis
    assert cut == {"Un chilo di pane a lievitazione naturale, " * 4 + "Un chilo di pane a lievitazione…"}
    assert described("blog/2024/06/focaccia/index.html") == cut
    assert described("prodotti/pagnotta/index.html") == cut

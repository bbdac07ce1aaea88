"""The rule checkers themselves: they pass the reviewed golden outputs and fail broken variants.

A checker that cannot fail would prove nothing, so each rule the channel tests rely on is broken
here on purpose, one at a time, starting from the golden tree (tests/golden/basic).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from feed_rules import atom_problems, json_feed_problems, rss_problems
from jsonld_rules import jsonld_blocks, jsonld_problems
from merchant_rules import merchant_problems
from support import TESTS

GOLDEN = TESTS / "golden" / "basic"
BASE = "https://forno.example/"


def golden(name: str) -> bytes:
    return (GOLDEN / name).read_bytes()


def test_the_golden_outputs_pass() -> None:
    assert rss_problems(golden("feed.xml"), BASE + "feed.xml") == []
    assert atom_problems(golden("atom.xml"), BASE + "atom.xml") == []
    assert json_feed_problems(golden("feed.json"), BASE + "feed.json") == []
    assert merchant_problems(golden("merchant.xml")) == []


@pytest.mark.parametrize(("old", "new", "problem"), [
    (b"<pubDate>Mon, 10 Jun 2024 07:30:00 +0200</pubDate>", b"<pubDate>2024-06-10T07:30:00+02:00</pubDate>",
     "is not an RFC 822 date"),
    (b"<pubDate>Mon, 10 Jun 2024", b"<pubDate>Tue, 10 Jun 2024", "wrong day of the week"),
    (b'<atom:link href="https://forno.example/feed.xml" rel="self" type="application/rss+xml"/>', b"",
     "atom:link rel=self"),
    (b"<link>https://forno.example/blog/2024/06/focaccia/</link>", b"<link>/blog/2024/06/focaccia/</link>",
     "is not absolute"),
    (b'<a href="https://forno.example/chi-siamo/">', b'<a href="/chi-siamo/">',
     "relative link '/chi-siamo/'"),
    (b'<guid isPermaLink="false">https://forno.example/blog/focaccia-del-mattino/</guid>',
     b'<guid isPermaLink="true">focaccia</guid>', "is not an absolute URL"),
    (b"<description>Pane e dolci cotti a legna a Lucca.</description>", b"", "missing <description>"),
])
def test_rss_rules_fail_on_broken_feeds(old: bytes, new: bytes, problem: str) -> None:
    data = golden("feed.xml")
    assert old in data
    problems = rss_problems(data.replace(old, new, 1), BASE + "feed.xml")
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(("old", "new", "problem"), [
    (b"<updated>2024-06-11T00:00:00+02:00</updated>", b"<updated>2024-06-11T00:00:00</updated>",
     "is not an RFC 3339 date"),
    (b'<link href="https://forno.example/atom.xml" rel="self" type="application/atom+xml"/>', b"",
     "no link rel=self"),
    (b"<id>https://forno.example/</id>", b"<id>forno</id>", "id is not an absolute IRI"),
])
def test_atom_rules_fail_on_broken_feeds(old: bytes, new: bytes, problem: str) -> None:
    data = golden("atom.xml")
    assert old in data
    problems = atom_problems(data.replace(old, new, 1), BASE + "atom.xml")
    assert any(problem in p for p in problems), problems


def test_atom_needs_an_author_somewhere() -> None:
    without = re.sub(rb"\s*<author>.*?</author>", b"", golden("atom.xml"), flags=re.S)
    assert b"<author>" not in without
    assert any("no author, and the feed has none" in p for p in atom_problems(without, BASE + "atom.xml"))


def test_json_feed_rules_fail_on_a_broken_feed() -> None:
    feed = json.loads(golden("feed.json"))
    feed["items"][0]["date_published"] = "10/06/2024"
    del feed["items"][1]["id"]
    feed["items"][2]["url"] = "/blog/"
    problems = json_feed_problems(json.dumps(feed).encode(), BASE + "feed.json")
    assert any("is not an RFC 3339 date" in p for p in problems)
    assert any("id must be a non-empty string" in p for p in problems)
    assert any("url is not absolute" in p for p in problems)


@pytest.mark.parametrize(("old", "new", "problem"), [
    (b"<g:price>32.00 EUR</g:price>", b"<g:price>32,00 EUR</g:price>", "is not a price like"),
    (b"<g:price>32.00 EUR</g:price>", b"<g:price>32.00 EURO</g:price>", "is not a price like"),
    (b"<g:price>32.00 EUR</g:price>", b"<g:price>32.00 XYZ</g:price>", "not an ISO 4217 currency"),
    (b"<g:sale_price>25.60 EUR</g:sale_price>", b"<g:sale_price>40.00 EUR</g:sale_price>",
     "is not below price"),
    (b"<g:availability>in_stock</g:availability>", b"<g:availability>disponibile</g:availability>",
     "availability 'disponibile'"),
    (b"<g:availability_date>2026-12-10T00:00+0100</g:availability_date>", b"",
     "preorder needs an availability_date"),
    (b"<g:id>DOL-01</g:id>", b"<g:id>" + b"X" * 51 + b"</g:id>", "longer than 50"),
    (b"<g:id>DOL-01</g:id>", b"<g:id>PAN-01</g:id>", "is used twice"),
    (b"2026-11-18T00:00+0100/2099-01-07T00:00+0100", b"2026-11-18/2099-01-07", "is not start/end"),
    (b"2026-11-18T00:00+0100/2099-01-07T00:00+0100", b"2099-01-07T00:00+0100/2026-11-18T00:00+0100",
     "ends before it starts"),
    (b"<g:condition>new</g:condition>", b"<g:condition>nuovo</g:condition>", "condition 'nuovo'"),
    (b"<g:identifier_exists>no</g:identifier_exists>", b"", "no identifier_exists: no"),
    (b"<g:identifier_exists>no</g:identifier_exists>", b"<g:gtin>8001234567890</g:gtin>",
     "is not a valid GTIN"),
    (b"<g:brand>Forno Rossi</g:brand>", b"", "missing g:brand"),
    (b"<g:image_link>https://forno.example/assets/pagnotta-16w.ba401a48c4.png</g:image_link>", b"",
     "missing g:image_link"),
    (b"<g:max_transit_time>3</g:max_transit_time>", b"<g:max_transit_time>0</g:max_transit_time>",
     "min_transit_time is above the maximum"),
])
def test_merchant_rules_fail_on_broken_items(old: bytes, new: bytes, problem: str) -> None:
    data = golden("merchant.xml")
    assert old in data
    problems = merchant_problems(data.replace(old, new, 1))
    assert any(problem in p for p in problems), problems


def _product() -> dict[str, Any]:
    html = (GOLDEN / "prodotti/panettone/index.html").read_text(encoding="utf-8")
    return next(b for b in jsonld_blocks(html) if b["@type"] == "Product")


def test_the_golden_jsonld_passes() -> None:
    for page in sorted(GOLDEN.rglob("*.html")):
        for block in jsonld_blocks(page.read_text(encoding="utf-8")):
            assert jsonld_problems(block, merchant=True) == [], page


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(_product())
    offer = data["offers"]
    if change == "no offer":
        del data["offers"]
    elif change == "no currency":
        del offer["priceCurrency"]
    elif change == "rate currency":
        offer["shippingDetails"][0]["shippingRate"]["currency"] = "USD"
    elif change == "no destination":
        offer["shippingDetails"][1]["shippingDestination"] = [{"@type": "DefinedRegion"}]
    elif change == "days":
        offer["shippingDetails"][0]["deliveryTime"]["transitTime"]["minValue"] = 9
    elif change == "no return days":
        del offer["hasMerchantReturnPolicy"]["merchantReturnDays"]
    elif change == "no brand":
        del data["brand"]
    elif change == "no policy":
        del offer["hasMerchantReturnPolicy"]
    elif change == "relative image":
        data["image"] = ["/assets/panettone.png"]
    return data


@pytest.mark.parametrize(("change", "problem"), [
    ("no offer", "needs an Offer"), ("no currency", "priceCurrency None"),
    ("rate currency", "the offer's currency EUR"), ("no destination", "addressCountry codes"),
    ("days", "min <= max"), ("no return days", "needs merchantReturnDays"),
    ("no brand", "Brand with a name"), ("no policy", "want hasMerchantReturnPolicy"),
    ("relative image", "image URLs must be absolute"),
])
def test_product_rules_fail_on_broken_blocks(change: str, problem: str) -> None:
    problems = jsonld_problems(_broken(change), merchant=True)
    assert any(problem in p for p in problems), problems


def test_business_breadcrumb_and_unknown_type_rules_fail() -> None:
    home = jsonld_blocks((GOLDEN / "index.html").read_text(encoding="utf-8"))[0]
    assert home["@type"] == "LocalBusiness"
    without_address = {k: v for k, v in home.items() if k != "address"}
    assert any("needs a PostalAddress" in p for p in jsonld_problems(without_address))
    organization = {**without_address, "@type": "Organization"}
    assert any("place properties" in p for p in jsonld_problems(organization))
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList",
              "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Home", "item": BASE}]}
    assert jsonld_problems(crumbs) == ["BreadcrumbList: needs at least two ListItems"]
    event = {"@context": "https://schema.org", "@type": "Event"}
    assert jsonld_problems(event) == ["unchecked @type 'Event'"]

"""storefront.merchant (the Merchant Center feed), storefront.offers (merchant JSON-LD) and the
products/JSON feeds of storefront.feeds, on documents read from text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from storefront.config import parse_config
from storefront.documents import Product
from storefront.feeds import channel, feed_url, product_items, render_json_feed
from storefront.merchant import check_products, google_date, item_attributes, shipping_attributes
from storefront.offers import return_policy, shipping_details
from storefront.urls import UrlBuilder
from support import read_text

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=ROME)
CONFIG = parse_config(
    "title: Bottega\nbase_url: https://example.com/\nbusiness: {name: Aurora}\n"
    "shipping:\n  handling_days: 1-2\n  zones:\n"
    "    - {name: Italia, countries: [IT], price: 9, free_over: 120, transit_days: 2-4}\n"
    "    - {countries: [FR, DE], price: 18, transit_days: 4-8}\n"
    "returns: {days: 14, fees: fixed, fee: 6.50}\n")
URLS = UrlBuilder.from_base_url(CONFIG.base_url)


def product(name: str, front: str, body: str = "Un pezzo fatto a mano.\n", on_sale: bool = False) -> Product:
    read = read_text("products", name, f"---\n{front}\n---\n{body}", CONFIG)
    assert isinstance(read, Product)
    return replace(read, on_sale=on_sale)


VASO = "title: Vaso\nprice: 40\nsku: V-1\nimages: [/assets/vaso.jpg]"


def messages(found: tuple) -> list[str]:
    return [e.format() for e in found]


# -- which products the merchant feed lists ----------------------------------------------------


def test_products_google_cannot_list_are_left_out_with_a_reason() -> None:
    products = [
        product("a.md", VASO),
        product("b.md", "title: B\nprice: 1\nsku: B\navailability: discontinued\nimages: [/x.jpg]"),
        product("c.md", "title: C\nprice: 1\nsku: C\nimages: [/assets/c.svg]"),
        product("d.md", "title: D\nprice: 1\nsku: D\navailability: preorder\nimages: [/d.jpg]"),
        product("e.md", "title: E\nprice: 1\nsku: E\navailability: preorder\nimages: [/e.jpg]\n"
                        "availability_date: 2026-11-01"),
    ]
    checked = check_products(products, NOW)
    assert [p.sku for p in checked.listed] == ["V-1", "E"]
    assert messages(checked.warnings) == [
        "content/products/c.md:5: left out of the merchant feed: Google needs a photo of the product "
        "(JPEG, PNG, GIF, WebP, BMP or TIFF)\n  hint: add images: [/assets/prodotti/foto.jpg]",
        "content/products/d.md:5: left out of the merchant feed: Google needs the date a preorder "
        "ships\n  hint: add availability_date: with the day it ships, written YYYY-MM-DD (at most "
        "a year ahead)",
        "content/products/e.md:7: the availability_date 2026-11-01 has passed, but the product is "
        "still a preorder\n  hint: set the new date, or availability: in_stock",
    ]
    assert checked.errors == ()


def test_a_product_at_price_0_is_left_out_of_the_merchant_feed_with_a_reason() -> None:
    """Merchant Center disapproves an item at price 0: the feed listed <g:price>0.00 EUR</g:price>
    without a word. A free sample or catalogue is fine on the site, so the build goes on and
    the product is left out of the feed, with a warning at its price (an error with --strict)."""
    products = [product("a.md", VASO),
                product("campione.md", "title: Campione\nprice: 0\nsku: C-0\nimages: [/c.jpg]"),
                product("fine.md", "title: Fine\nprice: 0.00\nsku: F\navailability: "
                                   "discontinued\nimages: [/f.jpg]")]
    checked = check_products(products, NOW)
    assert [p.sku for p in checked.listed] == ["V-1"]
    assert messages(checked.warnings) == [
        "content/products/campione.md:3: left out of the merchant feed: Google refuses a price of "
        "0 (it lists no free products)\n  hint: if the product is sold, write its price, like "
        "price: 12.50; a free one stays on the site, only the merchant feed leaves it out",
    ]
    assert checked.errors == ()


def test_ids_are_skus_or_slugs_unique_and_short() -> None:
    products = [product("a.md", VASO), product("b.md", VASO),
                product("c.md", "title: C\nprice: 1\nslug: " + "c" * 51 + "\nimages: [/c.jpg]")]
    assert messages(check_products(products, NOW).errors) == [
        'content/products/b.md:4: the product id "V-1" is also used by content/products/a.md\n'
        "  hint: give each product its own sku: (the merchant feed's id)",
        # at both files, each naming the other: either may be the one to change
        'content/products/a.md:4: the product id "V-1" is also used by content/products/b.md\n'
        "  hint: give each product its own sku: (the merchant feed's id)",
        "content/products/c.md:4: the slug is 51 characters long, but Google's product ids may have "
        "at most 50\n  hint: shorten it (the merchant feed uses it as the product id)",
    ]


# -- the attributes of one item ----------------------------------------------------------------


def test_an_item_has_the_specifications_attributes_in_english() -> None:
    attributes = item_attributes(product("vaso.md", VASO + "\ncategory: Vasi"), CONFIG, URLS, NOW)
    plain = [(name, value) for name, value in attributes if isinstance(value, str)]
    assert plain == [
        ("id", "V-1"), ("title", "Vaso"), ("description", "Un pezzo fatto a mano."),
        ("link", "https://example.com/prodotti/vaso/"), ("image_link", "https://example.com/assets/vaso.jpg"),
        ("availability", "in_stock"), ("price", "40.00 EUR"), ("product_type", "Vasi"),
        ("brand", "Aurora"), ("condition", "new"), ("identifier_exists", "no"),
    ]


def test_a_running_sale_has_its_effective_dates_from_the_day_of_the_build() -> None:
    sale = product("vaso.md", VASO + "\nsale_price: 30\nsale_until: 2026-12-24", on_sale=True)
    attributes = dict(item_attributes(sale, CONFIG, URLS, NOW))
    assert (attributes["price"], attributes["sale_price"]) == ("40.00 EUR", "30.00 EUR")
    assert attributes["sale_price_effective_date"] == "2026-11-18T00:00+0100/2026-12-25T00:00+0100"
    open_ended = dict(item_attributes(product("v.md", VASO + "\nsale_price: 30", on_sale=True),
                                      CONFIG, URLS, NOW))
    assert open_ended["sale_price"] == "30.00 EUR" and "sale_price_effective_date" not in open_ended
    over = dict(item_attributes(replace(sale, on_sale=False), CONFIG, URLS, NOW))
    assert "sale_price" not in over


def test_identifiers_and_long_texts() -> None:
    long = product("v.md", "title: " + "Vaso grande " * 20 + "\nprice: 5\nsku: V\ngtin: 4006381333931\n"
                   "mpn: M-1\nimages: [" + ", ".join(f"/f{n}.jpg" for n in range(13)) + "]",
                   body="parola " * 1000)
    attributes = item_attributes(long, CONFIG, URLS, NOW)
    found = dict(attributes)
    assert len(found["title"]) <= 150 and ("Vaso grande " * 20).startswith(found["title"] + " ")
    assert len(found["description"]) <= 5000 and found["description"].endswith("parola")
    assert (found["gtin"], found["mpn"]) == ("4006381333931", "M-1") and "identifier_exists" not in found
    assert sum(1 for name, _ in attributes if name == "additional_image_link") == 10
    assert google_date(datetime(2024, 5, 1, 9, 5, tzinfo=ZoneInfo("America/New_York"))) == (
        "2024-05-01T09:05-0400")


def test_shipping_from_the_shop_wide_policy_in_the_site_currency_only() -> None:
    shipping = shipping_attributes(product("v.md", VASO), CONFIG)
    assert [dict(value)["country"] for name, value in shipping if name == "shipping"] == ["IT", "FR", "DE"]
    assert [value for name, value in shipping if name == "free_shipping_threshold"] == [
        (("country", "IT"), ("price_threshold", "120.00 EUR"))]
    assert shipping_attributes(product("v.md", VASO + "\ncurrency: USD"), CONFIG) == ()


# -- schema.org --------------------------------------------------------------------------------


def test_an_item_that_reaches_the_threshold_ships_free_there() -> None:
    assert CONFIG.shipping is not None
    rates = [d["shippingRate"]["value"] for d in shipping_details(CONFIG.shipping, Decimal("120"), "EUR")]
    assert rates == ["0.00", "18.00"]
    assert [d["shippingRate"]["value"] for d in shipping_details(CONFIG.shipping, Decimal("119.99"),
                                                                 "EUR")] == ["9.00", "18.00"]


def test_return_policies() -> None:
    assert CONFIG.returns is not None
    policy = return_policy(CONFIG.returns, CONFIG, "https://example.com/spedizioni/#returns")
    assert policy == {
        "@type": "MerchantReturnPolicy", "applicableCountry": ["IT", "FR", "DE"],
        "returnPolicyCategory": "https://schema.org/MerchantReturnFiniteReturnWindow",
        "merchantReturnDays": 14, "returnMethod": "https://schema.org/ReturnByMail",
        "returnFees": "https://schema.org/ReturnShippingFees",
        "returnShippingFeesAmount": {"@type": "MonetaryAmount", "value": "6.50", "currency": "EUR"},
        "merchantReturnLink": "https://example.com/spedizioni/#returns",
    }
    none = parse_config("title: B\nreturns: {days: 0, countries: [IT]}\n")
    assert none.returns is not None
    assert return_policy(none.returns, none) == {
        "@type": "MerchantReturnPolicy", "applicableCountry": "IT",
        "returnPolicyCategory": "https://schema.org/MerchantReturnNotPermitted"}


# -- products feed and JSON Feed ---------------------------------------------------------------


def test_the_products_feed_lists_dated_products_latest_change_first() -> None:
    products = [product("a.md", VASO + "\ndate: 2024-01-01"),
                product("b.md", "title: B\nprice: 2\ndate: 2024-02-01\nupdated: 2024-06-01"),
                product("c.md", "title: C\nprice: 3")]
    items = product_items(products, CONFIG, URLS)
    assert [i.title for i in items] == ["B", "Vaso"]
    assert items[0].updated == datetime(2024, 6, 1, tzinfo=ROME)
    assert items[1].content_html.startswith('<p><img src="https://example.com/assets/vaso.jpg" alt="Vaso">'
                                             "</p><p><strong>40,00\xa0€</strong></p>")
    summary_only = replace(CONFIG, feeds=replace(CONFIG.feeds, content="summary", items=1))
    [only] = product_items(products, summary_only, URLS)
    assert only.content_html == "" and only.title == "B"


def test_json_feed_items_have_ids_content_and_dates() -> None:
    feed = channel(CONFIG, URLS, "Bottega", "/prodotti/",
                   product_items([product("a.md", VASO + "\ndate: 2024-01-01")], CONFIG, URLS))
    document = json.loads(render_json_feed(feed))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "https://example.com/prodotti/feed.json"
    [item] = document["items"]
    assert (item["id"], item["date_published"], item["image"]) == (
        "https://example.com/prodotti/a/", "2024-01-01T00:00:00+01:00", "https://example.com/assets/vaso.jpg")


def test_feeds_of_a_listing_written_as_a_file_live_in_a_folder_of_its_name() -> None:
    assert feed_url("/tag/corsi/", "feed.xml") == "/tag/corsi/feed.xml"
    assert feed_url("/tag/corsi.html", "atom.xml") == "/tag/corsi/atom.xml"
    assert feed_url("/", "feed.json") == "/feed.json"

"""Issue 10's new inputs: shipping/returns/feeds in storefront.yaml, GTINs, aliases, product fields."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from storefront.config import FeedSettings, SiteConfig, parse_config
from storefront.documents import Document, Page, Post, Product, item_line
from storefront.errors import BuildFailed
from storefront.policyconfig import DayRange, parse_country, parse_day_range, returns_countries
from storefront.sources import Kind
from storefront.values import gtin_check_digit, parse_alias, parse_gtin
from support import read_text

ROME = ZoneInfo("Europe/Rome")
POLICIES = (
    "shipping:\n"
    "  handling_days: 1-2\n"
    "  zones:\n"
    "    - {name: Italia, countries: [IT, sm], price: 9.00, free_over: 120, transit_days: 2-4}\n"
    "    - {countries: [FR, DE, NO], price: 18, transit_days: 4–8}\n"
    "returns:\n"
    "  days: 14\n"
    "  method: [by_mail, in_store]\n"
    "  fees: fixed\n"
    "  fee: 6.50\n"
)


def problems(text: str) -> list[str]:
    with pytest.raises(BuildFailed) as caught:
        parse_config(text)
    return [error.format() for error in caught.value.errors]


# -- storefront.yaml ---------------------------------------------------------------------------


def test_policies_map_onto_typed_values() -> None:
    config = parse_config("title: Bottega\n" + POLICIES)
    assert config.shipping is not None and config.returns is not None
    italy, europe = config.shipping.zones
    assert config.shipping.handling_days == DayRange(1, 2)
    assert (italy.name, italy.countries, italy.price, italy.free_over) == (
        "Italia", ("IT", "SM"), Decimal("9.00"), Decimal("120"))
    # "NO" is Norway here, not YAML 1.1's false: country codes are read as written
    assert (europe.countries, europe.transit_days, europe.free_over) == (("FR", "DE", "NO"),
                                                                         DayRange(4, 8), None)
    assert config.shipping.countries == ("IT", "SM", "FR", "DE", "NO")
    assert (config.returns.days, config.returns.method, config.returns.fees, config.returns.fee) == (
        14, ("by_mail", "in_store"), "fixed", Decimal("6.50"))
    assert returns_countries(config.returns, config.shipping, "IT") == config.shipping.countries
    assert config.feeds == FeedSettings(items=20, content="full", merchant=False)


def test_a_site_without_policies_has_none() -> None:
    config = parse_config("title: Bottega\n")
    assert (config.shipping, config.returns) == (None, None)


def test_bad_policy_values_are_reported_together_with_their_lines() -> None:
    assert problems(
        "title: Bottega\n"
        "shipping:\n"
        "  handling_days: due\n"
        "  zones:\n"
        '    - {countries: [IT, Italia], price: "9,00", transit_days: 4-2}\n'
        "returns:\n"
        "  days: -1\n"
        "  method: by_pigeon\n"
        "  fees: gratis\n"
        "feeds:\n"
        "  items: 0\n"
        "  content: riassunto\n"
    ) == [
        'storefront.yaml:3: shipping.handling_days must be a number of days such as 3, or a range '
        'such as 2-4, got "due"\n  hint: business days, like 3 or 2-4',
        'storefront.yaml:5: shipping.zones[1].countries[2] must be a two-letter ISO 3166 country code '
        'such as IT or DE, got "Italia"; the code of Italia is IT\n'
        '  hint: two-letter codes such as [IT, FR, DE]',
        'storefront.yaml:5: shipping.zones[1].price must be a number like 12.50, got "9,00"\n'
        "  hint: write the amount without the currency symbol, like 9.00",
        "storefront.yaml:5: shipping.zones[1].transit_days must go from the smaller to the larger "
        'number of days (at most 90), got "4-2"\n  hint: business days, like 3 or 2-4',
        "storefront.yaml:7: returns.days must be at least 0, got -1",
        'storefront.yaml:8: returns.method[1] must be one of by_mail, in_store, got "by_pigeon"',
        'storefront.yaml:9: returns.fees must be one of free, customer_pays, fixed, got "gratis"',
        "storefront.yaml:11: feeds.items must be at least 1, got 0",
        'storefront.yaml:12: feeds.content must be one of full, summary, got "riassunto"',
    ]


def test_policy_checks_across_entries_name_the_exact_line() -> None:
    assert problems(
        "title: Bottega\n"
        "shipping:\n"
        "  handling_days: 1\n"
        "  zones:\n"
        "    - {countries: [IT], price: 9, transit_days: 2}\n"
        "    - countries:\n"
        "        - FR\n"
        "        - it\n"
        "      price: 18\n"
        "      transit_days: 5\n"
    ) == ["storefront.yaml:8: the country IT is in two shipping zones (1 and 2)\n"
          "  hint: list each country in one zone only"]
    assert problems("title: Bottega\nreturns:\n  days: 30\n") == [
        "storefront.yaml:3: returns: no country to apply the policy to\n"
        "  hint: add countries: [IT], or a shipping: section, or business: address: country:"]
    assert problems("title: Bottega\nreturns:\n  days: 30\n  fees: fixed\n  countries: [IT]\n") == [
        "storefront.yaml:3: returns: fees: fixed needs the amount in fee:, like fee: 6.50"]
    assert problems("title: Bottega\nshipping:\n  handling_days: 1\n  zones: []\n") == [
        "storefront.yaml:3: shipping needs at least one zone in zones:"]


def test_returns_default_to_the_business_country() -> None:
    config = parse_config("title: B\nbusiness: {address: {country: it}}\nreturns: {days: 14}\n")
    assert config.returns is not None
    assert returns_countries(config.returns, None, "IT") == ("IT",)


@pytest.mark.parametrize(("text", "expected"), [("3", DayRange(3, 3)), ("2-4", DayRange(2, 4)),
                                                (" 2 – 5 ", DayRange(2, 5)), ("0", DayRange(0, 0))])
def test_day_ranges(text: str, expected: DayRange) -> None:
    assert parse_day_range(text) == expected


def test_day_ranges_print_as_people_write_them() -> None:
    assert (str(DayRange(2, 4)), str(DayRange(3, 3))) == ("2–4", "3")


@pytest.mark.parametrize("text", ["", "tre", "-1", "2-", "4-2", "1-91"])
def test_bad_day_ranges(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day_range(text)


def test_countries_are_iso_codes_and_regions_are_not_countries() -> None:
    assert (parse_country("it"), parse_country("DE")) == ("IT", "DE")
    for text in ("EU", "ITA", "Italia", "UN", "I"):
        with pytest.raises(ValueError, match="two-letter ISO 3166"):
            parse_country(text)


@pytest.mark.parametrize(("name", "code"), [("Italia", "IT"), ("italy", "IT"), (" Germania ", "DE"),
                                            ("Regno Unito", "GB"), ("San Marino", "SM")])
def test_a_country_written_by_name_is_refused_with_its_code(name: str, code: str) -> None:
    with pytest.raises(ValueError, match=f"; the code of {name.strip()} is {code}$"):
        parse_country(name)


# -- GTIN and aliases --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "digits"), [
    ("4006381333931", "4006381333931"),     # EAN-13
    ("036000291452", "036000291452"),       # UPC-A
    ("96385074", "96385074"),               # EAN-8
    ("10614141000415", "10614141000415"),   # GTIN-14
    ("9788804668237", "9788804668237"),     # ISBN-13
    ("0362 8281-8705", "036282818705"),     # as printed, with spaces and dashes
])
def test_valid_gtins(text: str, digits: str) -> None:
    assert parse_gtin(text) == digits


@pytest.mark.parametrize(("text", "message"), [
    ("4006381333932", 'has a wrong check digit: "4006381333932" would end in 1'),
    ("400638133393", 'has a wrong check digit'),
    ("12345", "must have 8, 12, 13 or 14 digits, got 5"),
    ("EAN 4006381333931", "must be the digits under the barcode"),
    ("2012345678903", "is a number for use inside one store"),
    ("03628287", "is a number for use inside one store"),
    ("0512345000107", "is a coupon number"),
    ("9812345678902", "is a coupon number"),
])
def test_invalid_gtins(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_gtin(text)


def test_the_check_digit_follows_gs1() -> None:
    # GS1's worked example: 629104150021 -> check digit 3
    assert gtin_check_digit("629104150021") == 3
    assert all(gtin_check_digit(body) == int(check) for body, check in
               [("400638133393", "1"), ("03600029145", "2"), ("9638507", "4")])


@pytest.mark.parametrize("text", ["/blog/vecchio/", "/vecchio", "/prodotto.php", "/caffè/",
                                  "/shop/a-b_c.html"])
def test_valid_aliases(text: str) -> None:
    assert parse_alias(text) == text


@pytest.mark.parametrize("text", ["blog/vecchio/", "//evil.example/", "https://x.example/",
                                  "/a/../../etc/", "/a b/", "/a?id=3", "/a#top", '/a"b', "/a;b",
                                  "/a{b}", "/a\\b"])
def test_invalid_aliases(text: str) -> None:
    with pytest.raises(ValueError):
        parse_alias(text)


# -- new front-matter fields -------------------------------------------------------------------


CONFIG = parse_config("title: Bottega\nbase_url: https://example.com/shop/\n" + POLICIES)


def read(kind: Kind, name: str, text: str, config: SiteConfig = CONFIG) -> Document:
    return read_text(kind, name, text, config)


def errors_of(kind: Kind, name: str, text: str) -> list[str]:
    with pytest.raises(BuildFailed) as caught:
        read(kind, name, text)
    return [error.format() for error in caught.value.errors]


def test_product_identifiers_condition_and_dates() -> None:
    product = read("products", "vaso.md",
                   "---\ntitle: Vaso\nprice: 10\nbrand: Aurora\ngtin: 4006381333931\n"
                   "mpn: AUR-7\ncondition: used\ndate: 2024-05-01\nupdated: 2024-06-01 10:00\n"
                   "availability: preorder\navailability_date: 2024-12-01\nnoindex: true\n---\n")
    assert isinstance(product, Product)
    assert (product.brand, product.gtin, product.mpn, product.condition) == (
        "Aurora", "4006381333931", "AUR-7", "used")
    assert product.date == datetime(2024, 5, 1, tzinfo=ROME)
    assert product.updated == datetime(2024, 6, 1, 10, tzinfo=ROME)
    assert product.availability_date == datetime(2024, 12, 1, tzinfo=ROME)
    assert product.noindex is True


def test_products_default_to_new_with_no_identifiers() -> None:
    product = read("products", "vaso.md", "---\ntitle: Vaso\nprice: 10\n---\n")
    assert isinstance(product, Product)
    assert (product.brand, product.gtin, product.mpn, product.condition, product.date) == (
        "", "", "", "new", None)
    assert (product.noindex, product.aliases) == (False, ())


def test_bad_product_fields_name_their_lines() -> None:
    assert errors_of("products", "vaso.md",
                     "---\ntitle: Vaso\nprice: 10\ngtin: 4006381333932\ncondition: nuovo\n"
                     f"mpn: {'x' * 71}\n---\n") == [
        'content/products/vaso.md:4: gtin has a wrong check digit: "4006381333932" would end in 1; '
        "a typing mistake is likely\n  hint: copy every digit printed under the barcode; leave gtin "
        "out when the product has none (handmade pieces usually have none)",
        'content/products/vaso.md:5: condition must be one of new, refurbished, used, got "nuovo"\n'
        "  hint: write it in English: new, refurbished or used",
        f'content/products/vaso.md:6: mpn must be 1 to 70 characters, got "{"x" * 71}"',
    ]


def test_aliases_keep_their_lines_and_get_the_base_path() -> None:
    post = read("posts", "2024-05-01-pane.md",
                "---\ntitle: Pane\naliases:\n  - /blog/pane-vecchio/\n  - /pane.html\n---\n")
    assert isinstance(post, Post)
    assert post.aliases == ("/shop/blog/pane-vecchio/", "/shop/pane.html")
    assert [item_line(post, "aliases", n) for n in (1, 2)] == [4, 5]
    page = read("pages", "chi.md", "---\ntitle: Chi\naliases: [/about/]\n---\n")
    assert isinstance(page, Page)
    assert page.aliases == ("/shop/about/",) and item_line(page, "aliases", 1) == 3
    single = read("faq", "a.md", "---\nquestion: Q?\n\naliases: /vecchia-faq/\n---\nA.\n")
    assert single.aliases == ("/shop/vecchia-faq/",) and item_line(single, "aliases", 1) == 4


def test_bad_aliases_are_errors_with_their_line() -> None:
    assert errors_of("pages", "chi.md", "---\ntitle: Chi\naliases:\n  - /ok/\n  - about/\n---\n") == [
        'content/pages/chi.md:5: aliases[2] must be an old address of this site starting with "/", '
        'like /blog/vecchio-titolo/, got "about/"\n'
        "  hint: list the page's old addresses, like [/blog/vecchio-titolo/]"]


def test_page_noindex_and_policies() -> None:
    page = read("pages", "s.md", "---\ntitle: Spedizioni\npolicies: true\nnoindex: false\n---\n")
    assert isinstance(page, Page)
    assert (page.policies, page.noindex) == (True, False)
    default = read("pages", "t.md", "---\ntitle: T\n---\n")
    assert isinstance(default, Page) and default.noindex is None


def test_policies_need_a_policy_in_the_config() -> None:
    bare = parse_config("title: Bottega\n")
    with pytest.raises(BuildFailed) as caught:
        read("pages", "s.md", "---\ntitle: Spedizioni\n\npolicies: true\n---\n", bare)
    assert [e.format() for e in caught.value.errors] == [
        "content/pages/s.md:4: policies: true, but storefront.yaml has no shipping: or returns: "
        "section to show\n  hint: describe them in storefront.yaml (see the README), or remove "
        "policies: from this page"]


def test_an_availability_date_is_the_day_back_when_out_of_stock_and_refused_when_in_stock() -> None:
    """Out of stock, the date may say when the product is back (a theme of the owner's can show
    it: product.availability_date); in stock or discontinued it says nothing, and is refused."""
    back = read("products", "vaso.md", "---\ntitle: Vaso\nprice: 10\navailability: out_of_stock\n"
                "availability_date: 2030-01-15\n---\n")
    assert isinstance(back, Product)
    assert back.availability_date == datetime(2030, 1, 15, tzinfo=ROME)
    for availability in ("in_stock", "discontinued"):
        assert errors_of("products", "vaso.md", f"---\ntitle: Vaso\nprice: 10\navailability: "
                         f"{availability}\navailability_date: 2030-01-15\n---\n")[0].startswith(
            "content/products/vaso.md:5: availability_date is the day a preorder ships")

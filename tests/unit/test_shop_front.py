"""What the shop front shows: opening hours and closures, the map link, the home page's products,
and forms without an endpoint. Config parsing, the pure functions and the site model."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from storefront.config import SiteConfig, parse_config
from storefront.documents import Document, Product
from storefront.errors import BuildFailed
from storefront.hours import closure_changes, hours_jsonld, visible_closures
from storefront.presentation import closure_dates, map_url
from storefront.reader import ReaderSettings, read_document
from storefront.site import BuildOptions, build_model, select_featured
from storefront.sources import Kind, SourceFile
from storefront.urls import UrlBuilder
from storefront.values import split_opening_hours

ROME = ZoneInfo("Europe/Rome")
CLOSURES = ("business:\n  closures:\n"
            "    - {from: 2026-08-10, until: 2026-08-25, note: Chiuso per ferie}\n"
            "    - {from: 2026-12-24, until: 2027-01-06}\n")


def config(text: str = "") -> SiteConfig:
    return parse_config("title: Bottega\nbase_url: https://example.com/\n" + text)


def problems(text: str) -> list[str]:
    with pytest.raises(BuildFailed) as caught:
        config(text)
    return [error.format() for error in caught.value.errors]


# -- opening hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "days", "ranges"), [
    ("Mo-Fr 09:00-18:00", ("Mo", "Tu", "We", "Th", "Fr"), (("09:00", "18:00"),)),
    ("Tu-Fr 09:30-13:00,15:30-19:00", ("Tu", "We", "Th", "Fr"),
     (("09:30", "13:00"), ("15:30", "19:00"))),
    ("Sa,Su 10:00-12:30", ("Sa", "Su"), (("10:00", "12:30"),)),
    ("Fr-Mo 18:00-02:00", ("Fr", "Sa", "Su", "Mo"), (("18:00", "02:00"),)),  # past midnight
    ("Mo 09:00-13:00, 15:00-19:00", ("Mo",), (("09:00", "13:00"), ("15:00", "19:00"))),
])
def test_opening_hours_are_read_into_days_and_time_ranges(text, days, ranges) -> None:
    assert split_opening_hours(text) == (days, ranges)


@pytest.mark.parametrize("text", ["Lun-Ven 9-18", "Mo-Fr", "Mo-Fr 9:00-18:00", "Mo-Xx 09:00-18:00",
                                  "Mo 09:00-09:00", "Mo 25:00-26:00", "09:00-18:00"])
def test_opening_hours_in_another_form_are_an_error_with_the_line(text: str) -> None:
    assert problems(f"business:\n  opening_hours:\n    - {{days: x, hours: y, schema: '{text}'}}\n") == [
        f'storefront.yaml:5: business.opening_hours[1].schema must be opening hours like '
        f'"Mo-Fr 09:00-13:00,15:00-19:00" or "Sa,Su 10:00-12:30", got "{text}"']


def test_hours_become_opening_hours_specifications_and_closures_special_ones() -> None:
    site = config("business:\n  opening_hours:\n"
                  "    - {days: Mar-Ven, hours: x, schema: 'Tu-Fr 09:30-13:00,15:30-19:00'}\n"
                  "    - {days: Dom, hours: Chiuso}\n"
                  "  closures:\n    - {from: 2026-08-10, until: 2026-08-25, note: Ferie}\n")
    tue_fri = ["Tuesday", "Wednesday", "Thursday", "Friday"]
    assert hours_jsonld(site.business) == {
        "openingHoursSpecification": [
            {"@type": "OpeningHoursSpecification", "dayOfWeek": tue_fri, "opens": "09:30",
             "closes": "13:00"},
            {"@type": "OpeningHoursSpecification", "dayOfWeek": tue_fri, "opens": "15:30",
             "closes": "19:00"}],
        "specialOpeningHoursSpecification": [
            {"@type": "OpeningHoursSpecification", "validFrom": "2026-08-10",
             "validThrough": "2026-08-25", "opens": "00:00", "closes": "00:00"}],
    }
    assert hours_jsonld(config().business) == {}


# -- holiday closures --------------------------------------------------------------------------


def test_a_closure_that_ends_before_it_starts_is_an_error_on_its_line() -> None:
    assert problems("business:\n  closures:\n    - {from: 2026-08-25, until: 2026-08-10}\n") == [
        "storefront.yaml:5: the closure ends (until: 2026-08-10) before it starts (from: "
        "2026-08-25); write the first day in from:, the last in until:"]
    assert problems("business:\n  closures:\n    - {from: 10 agosto, until: 2026-08-10}\n") == [
        'storefront.yaml:5: business.closures[1].from must be a day such as 2026-08-10, '
        'got "10 agosto"']


@pytest.mark.parametrize(("now", "shown"), [
    (datetime(2026, 6, 1, tzinfo=ROME), [("Chiuso per ferie", False, False), ("", False, False)]),
    (datetime(2026, 7, 11, tzinfo=ROME), [("Chiuso per ferie", False, True), ("", False, False)]),
    (datetime(2026, 8, 10, 0, 0, tzinfo=ROME), [("Chiuso per ferie", True, True), ("", False, False)]),
    (datetime(2026, 8, 25, 23, 59, tzinfo=ROME), [("Chiuso per ferie", True, True), ("", False, False)]),
    (datetime(2026, 8, 26, tzinfo=ROME), [("", False, False)]),
    (datetime(2027, 1, 7, tzinfo=ROME), []),
])
def test_closures_show_from_a_month_before_until_their_last_day(now, shown) -> None:
    notices = visible_closures(config(CLOSURES).business.closures, now, ROME)
    assert [(n.note, n.current, n.soon) for n in notices] == shown


def test_closures_schedule_a_rebuild_when_their_notice_appears_starts_and_ends() -> None:
    closures = config(CLOSURES).business.closures
    assert sorted(closure_changes(closures, datetime(2026, 8, 12, tzinfo=ROME), ROME)) == [
        datetime(2026, 8, 26, tzinfo=ROME), datetime(2026, 11, 24, tzinfo=ROME),
        datetime(2026, 12, 24, tzinfo=ROME), datetime(2027, 1, 7, tzinfo=ROME)]
    model = build_model([], config(CLOSURES), UrlBuilder.from_base_url("https://example.com/"),
                        BuildOptions(), datetime(2026, 8, 12, tzinfo=ROME))
    assert model.next_change == datetime(2026, 8, 26, tzinfo=ROME)


@pytest.mark.parametrize(("start", "until", "locale", "text"), [
    (date(2026, 8, 10), date(2026, 8, 25), "it_IT", "10 agosto – 25 agosto 2026"),
    (date(2026, 12, 24), date(2027, 1, 6), "it_IT", "24 dicembre 2026 – 6 gennaio 2027"),
    (date(2026, 8, 15), date(2026, 8, 15), "it_IT", "15 agosto 2026"),
    (date(2026, 8, 10), date(2026, 8, 25), "en_US", "August 10 – August 25, 2026"),
    (date(2026, 8, 10), date(2026, 8, 25), "en_GB", "10 August – 25 August 2026"),
])
def test_closure_dates_are_words_for_the_locale_and_the_dash_never_starts_a_line(
        start, until, locale, text) -> None:
    # written with plain spaces; the only break opportunity is the thin space after the dash
    shown = closure_dates(start, until, locale)
    assert shown.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ") == text
    assert " " not in shown and shown.count("\u2009") == (start != until)
    if start != until:
        assert "\u202f–\u2009" in shown


# -- the map link ------------------------------------------------------------------------------

ADDRESS = "  address: {street: Via dei Vasai 14, postal_code: '50056', city: Montelupo, country: IT}\n"
GEO = "  geo: {latitude: 43.73, longitude: 11.02}\n"


@pytest.mark.parametrize(("extra", "link"), [
    (GEO, "https://www.openstreetmap.org/?mlat=43.73&mlon=11.02#map=17/43.73/11.02"),
    ("", "https://www.openstreetmap.org/search?query=Via%20dei%20Vasai%2014%2C%2050056%20Montelupo%2C%20IT"),
    (GEO + "  map: google\n", "https://www.google.com/maps/search/?api=1&query=43.73%2C11.02"),
    ("  map: Google\n", "https://www.google.com/maps/search/?api=1&query=Via+dei+Vasai+14%2C+50056+Montelupo%2C+IT"),
    (GEO + "  map: apple\n", "https://maps.apple.com/?ll=43.73%2C11.02&q=Aurora"),
    (GEO + "  map: none\n", ""),
    ("  map: 'https://maps.example/place/aurora'\n", "https://maps.example/place/aurora"),
])
def test_the_map_link_opens_the_owners_choice_of_map(extra: str, link: str) -> None:
    assert map_url(config("business:\n  name: Aurora\n" + ADDRESS + extra).business) == link


def test_no_address_and_no_coordinates_means_no_map_link() -> None:
    assert map_url(config("business:\n  name: Aurora\n").business) == ""


def test_a_map_that_is_neither_a_provider_nor_an_https_link_is_an_error() -> None:
    assert problems("business:\n  map: bing\n") == [
        'storefront.yaml:4: business.map must be openstreetmap, google, apple, none or an https:// '
        'link to your place on a map, got "bing"']


# -- forms without an endpoint and the contact page --------------------------------------------


def test_forms_post_to_the_endpoint_only_when_one_is_configured() -> None:
    assert config("form_endpoint: {url: /api/forms/}\n").form_mode == "live"
    assert config("business: {email: a@b.example}\n").form_mode == "mailto"
    assert config("business: {email: a@b.example}\nform_fallback: hide\n").form_mode == "hidden"
    assert config().form_mode == "hidden"  # mailto needs an address to write to
    assert problems("has_form_endpoint: true\n")[0].startswith(
        'storefront.yaml:3: unknown key "has_form_endpoint"')


def test_the_contact_page_defaults_by_language() -> None:
    assert config().effective_contact_page == "/contatti/"
    assert config("language: en\n").effective_contact_page == "/contact/"
    assert config("contact_page: /dove-siamo/\n").effective_contact_page == "/dove-siamo/"


# -- the home page's products ------------------------------------------------------------------

CONFIG = config()
URLS = UrlBuilder.from_base_url(CONFIG.base_url)


def product(slug: str, extra: str = "") -> Document:
    data = f"---\ntitle: {slug}\nprice: 10\n{extra}\n---\nTesto.\n".encode()
    kind: Kind = "products"
    source = SourceFile(kind, f"content/products/{slug}.md", data, hashlib.sha256(data).hexdigest())
    return read_document(source, ReaderSettings.of(CONFIG))


def test_the_home_page_shows_pinned_products_first_then_only_those_that_can_be_ordered() -> None:
    docs = [product("a-venduto", "availability: out_of_stock\norder: 1"),
            product("b-disponibile", "order: 2"),
            product("c-fuori-produzione", "availability: discontinued\norder: 3\npinned: true"),
            product("d-su-ordinazione", "availability: preorder\norder: 4"),
            product("e-nascosto", "featured: false\norder: 5"),
            product("f-disponibile", "order: 6")]
    model = build_model(docs, CONFIG, URLS, BuildOptions(), datetime(2026, 1, 1, tzinfo=ROME))
    featured = select_featured(model.products, 3)
    assert [p.slug for p in featured] == ["c-fuori-produzione", "b-disponibile", "d-su-ordinazione"]
    assert [p.slug for p in select_featured(model.products, 10)] == [
        "c-fuori-produzione", "b-disponibile", "d-su-ordinazione", "f-disponibile"]
    assert all(isinstance(p, Product) for p in featured)


def test_pinned_and_not_featured_contradict_each_other() -> None:
    with pytest.raises(BuildFailed) as caught:
        product("vaso", "featured: false\npinned: true")
    assert [e.format() for e in caught.value.errors] == [
        "content/products/vaso.md:5: pinned: true puts the product on the home page, but "
        "featured: false keeps it off\n  hint: keep one of the two lines"]

"""storefront.values: the scalar parsers behind every front-matter field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from storefront.values import (
    date_from_filename,
    localize,
    parse_currency,
    parse_datetime,
    parse_day,
    parse_link,
    parse_price,
    parse_slug,
    parse_template_name,
)

ROME = ZoneInfo("Europe/Rome")
DATE_FORMS = "2024-05-01, 2024-05-01 10:30 or 2024-05-01T10:30:00+02:00"


# -- dates -------------------------------------------------------------------------------------


def test_a_bare_date_is_midnight_and_naive() -> None:
    assert parse_datetime("2024-05-01") == datetime(2024, 5, 1, 0, 0)
    assert parse_datetime("2024-05-01").tzinfo is None


def test_a_date_with_a_time_is_naive_local_time() -> None:
    assert parse_datetime("2024-05-01 10:30") == datetime(2024, 5, 1, 10, 30)
    assert parse_datetime("2024-05-01T10:30:15") == datetime(2024, 5, 1, 10, 30, 15)
    assert parse_datetime("2024-05-01 9:05") == datetime(2024, 5, 1, 9, 5)


def test_a_z_suffix_is_aware_utc() -> None:
    moment = parse_datetime("2012-01-01T15:05:00Z")
    assert moment == datetime(2012, 1, 1, 15, 5, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)


def test_an_explicit_offset_is_kept() -> None:
    moment = parse_datetime("2024-05-01T10:30:00+02:00")
    assert moment.utcoffset() == timedelta(hours=2)
    assert moment.astimezone(UTC) == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2024-13-01", "2024-02-30", "2024-05-01T25:00", "yesterday", "01/05/2024", ""]
)
def test_bad_dates_say_which_forms_are_accepted(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_datetime(text)
    assert str(caught.value) == f'must be a date such as {DATE_FORMS}, got "{text}"'


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1899-12-31 23:00",
                                  "3000-01-01T00:00:00+02:00", "0224-05-01"])
def test_dates_outside_the_years_1900_to_2999_are_rejected(text: str) -> None:
    """9999-12-31 (an owner's "for ever") made a day after it overflow Python's calendar: the
    end of a sale, a closure's last day, or the date moved to the site's zone."""
    with pytest.raises(ValueError) as caught:
        parse_datetime(text)
    assert str(caught.value) == f'must be a date in the years 1900 to 2999, got "{text}"'


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01"])
def test_days_outside_the_years_1900_to_2999_are_rejected(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_day(text)
    assert str(caught.value) == f'must be a day in the years 1900 to 2999, got "{text}"'


def test_the_first_and_last_accepted_years() -> None:
    assert parse_datetime("1900-01-01").year == 1900
    assert parse_datetime("2999-12-31 23:59").year == 2999
    assert parse_day("2999-12-31").year == 2999


def test_localize_attaches_the_zone_to_naive_and_converts_aware() -> None:
    assert localize(datetime(2024, 5, 1, 10, 30), ROME) == datetime(2024, 5, 1, 10, 30, tzinfo=ROME)
    converted = localize(datetime(2012, 1, 1, 15, 5, tzinfo=UTC), ROME)
    assert (converted.hour, converted.utcoffset()) == (16, timedelta(hours=1))


def test_date_from_filename_splits_the_prefix() -> None:
    assert date_from_filename("2024-05-01-vaso-blu") == (datetime(2024, 5, 1), "vaso-blu")


@pytest.mark.parametrize("stem", ["vaso-blu", "p00001-some-title", "2024-05-01", "2024-13-01-bad-month"])
def test_date_from_filename_without_a_valid_prefix_keeps_the_stem(stem: str) -> None:
    assert date_from_filename(stem) == (None, stem)


# -- prices ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.50", "12.50"), ("12.5", "12.50"), ("12", "12.00"), (" 7.00 ", "7.00"), ("0", "0.00"),
     ("0.99", "0.99")],
)
def test_prices_are_exact_decimals_with_two_places(text: str, expected: str) -> None:
    """One price reads one way: 12.5 and 12.50 are the same value, and equal values must look
    the same on every page (a preview session takes an equal document as unchanged)."""
    value = parse_price(text)
    assert isinstance(value, Decimal)
    assert str(value) == expected
    assert value.as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize("text", ["12,50", "dodici", "-1", "€12", "12.50 EUR", "NaN", "Infinity", ""])
def test_prices_that_are_not_plain_numbers_are_rejected(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_price(text)
    assert str(caught.value) == f'must be a number like 12.50, got "{text}"'


def test_a_price_with_three_decimals_is_rejected() -> None:
    with pytest.raises(ValueError, match=r'^must have at most two decimals, got "1\.234"$'):
        parse_price("1.234")


@pytest.mark.parametrize("text", ["1e2", "1E+2", "-0", "+3", "1_000", "0x10", "\u0661\u0662"])
def test_prices_in_exotic_number_syntax_are_rejected(text: str) -> None:
    # Decimal() accepts these, but "1E+2" or "-0" would end up verbatim in the JSON-LD offer
    with pytest.raises(ValueError, match=r"^must be a number like 12\.50, got "):
        parse_price(text)


# -- slugs, templates, links -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["vaso-blu", "a", "2024", "x1-y2"])
def test_good_slugs_pass_unchanged(text: str) -> None:
    assert parse_slug(text) == text


@pytest.mark.parametrize("text", ["../x", "A B", "a/b", "Vaso", "-a", "a-", "a--b", "a_b", "", "è"])
def test_bad_slugs_are_rejected(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_slug(text)
    assert str(caught.value) == (
        f'must use only lowercase letters, digits and dashes (like "vaso-blu"), got "{text}"'
    )


def test_template_names_get_the_html_suffix_and_stay_in_the_folder() -> None:
    assert parse_template_name("landing") == "landing.html"
    assert parse_template_name("landing.html") == "landing.html"
    with pytest.raises(ValueError, match=r'template file name such as "landing\.html", got "\.\./base"'):
        parse_template_name("../base")


@pytest.mark.parametrize("name", ["post.html", "product", "catalog.html", "404", "index.html",
                                  "newsletter_issue.html", "redirect"])
def test_the_templates_of_other_pages_are_not_page_templates(name: str) -> None:
    with pytest.raises(ValueError, match=f'"{name}" is the template of '):
        parse_template_name(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/assets/photo.jpg", "/assets/photo.jpg"),
        ("assets/photo.jpg", "/assets/photo.jpg"),
        (" /assets/photo.jpg ", "/assets/photo.jpg"),
        ("https://cdn.example/x.jpg", "https://cdn.example/x.jpg"),
        ("http://cdn.example/x.jpg", "http://cdn.example/x.jpg"),
    ],
)
def test_links_are_site_paths_or_http_urls(text: str, expected: str) -> None:
    assert parse_link(text) == expected


@pytest.mark.parametrize(
    "text", ["photo.jpg", "../photo.jpg", "/assets/../../etc/passwd", "/assets\\x.jpg", "javascript:alert(1)"]
)
def test_links_that_could_escape_or_are_not_urls_are_rejected(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_link(text)
    assert str(caught.value) == f'must be a path like /assets/photo.jpg or an https:// URL, got "{text}"'


def test_a_fixed_offset_survives_localize_unchanged_as_an_instant() -> None:
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2024, 7, 1, 12, 0, tzinfo=plus_two)
    assert localize(moment, ROME) == moment
    assert localize(moment, ROME).tzinfo is ROME


def test_a_catalog_snapshot_stored_before_two_decimal_prices_is_not_a_change() -> None:
    """A newsletter draft compares the catalogue with the snapshot stored with the last issue;
    one stored before prices had two decimals ("12", "6.5") shows the same prices."""
    from storefront.newsletter.draft import _as_shown

    old = {"title": "Vaso", "price": "12", "sale_price": "6.5", "availability": "in_stock"}
    now = {"title": "Vaso", "price": "12.00", "sale_price": "6.50", "availability": "in_stock"}
    assert _as_shown(old) == _as_shown(now)
    assert _as_shown({**old, "price": "13"}) != _as_shown(now)
    assert _as_shown({**old, "sale_price": ""}) != _as_shown(now)


@pytest.mark.parametrize(("code", "name"), [("ITL", "Italian Lira"), ("HRK", "Croatian Kuna"),
                                            ("XXX", "Unknown Currency"), ("XAU", "Gold")])
def test_a_currency_no_longer_in_use_or_no_money_is_refused(code: str, name: str) -> None:
    with pytest.raises(ValueError, match=rf'in use today, such as EUR or USD, got "{code.lower()}" '
                                         rf'\({name}\)'):
        parse_currency(code.lower())
    assert [parse_currency(code) for code in ("eur", "CHF", "JPY", "XOF")] == [
        "EUR", "CHF", "JPY", "XOF"]

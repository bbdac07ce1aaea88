"""The formats the date filter takes, and the ones it refuses instead of printing garbage (the
mini-site tests/sites/invalid/template-date-format shows the whole lines)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from storefront.dateformats import date_format_problem
from storefront.formatting import Formatter

DAY = date(2024, 5, 1)
VALID = ["short", "medium", "long", "full", "d", "MMMM y", "d MMMM y", "dd/MM/yyyy", "dd.MM.yy",
         "EEEE d MMMM", "d 'di' MMMM", "d 'l''anno' y", "ww Y", "QQQ y", "y", "MMM", "E d/M",
         "d MMMM, y", "LLLL", "d 'de' MMMM 'de' y", "d. MMMM y"]


@pytest.mark.parametrize("locale", ["it_IT", "en"])
@pytest.mark.parametrize("format_", VALID)
def test_a_valid_format_prints_what_babel_prints(locale: str, format_: str) -> None:
    formatter = Formatter(locale, "Europe/Rome")
    assert date_format_problem(format_, False) is None
    assert formatter.date(DAY, format_) == format_date(DAY, format_, locale=locale)
    moment = datetime(2024, 5, 1, 18, 30, tzinfo=ZoneInfo("Europe/Rome"))
    assert formatter.date(moment, format_) == format_date(moment.date(), format_, locale=locale)
    assert formatter.date(moment, "datetime") == format_datetime(
        moment, "medium", tzinfo=moment.tzinfo, locale=locale)


@pytest.mark.parametrize(("format_", "message", "instead"), [
    ("giorno", 'the filter "date" has no format "giorno"', ""),  # printed "2460432iorno"
    ("Lungo", 'the filter "date" has no format "Lungo"', "long"),  # printed "l2024n2460432o"
    ("LONG", 'the filter "date" has no format "LONG"', "long"),
    ("%d/%m/%Y", 'the format "%d/%m/%Y" is written the strftime way (%d, %m, %Y), which the '
                 'filter "date" does not read', "dd/MM/y"),
    ("%d de %B de %Y", 'the format "%d de %B de %Y" is written the strftime way (%d, %m, %Y), '
                       'which the filter "date" does not read', "dd 'de' MMMM 'de' y"),
    ("DD/MM/YYYY", 'in the format "DD/MM/YYYY", "DD" is the day of the year (122 on 1 May) and '
                   '"YYYY" is the year the week belongs to (2025 on 30 December 2024)',
     "dd/MM/yyyy"),  # printed "122/05/2024"
    ("d MMMM YYYY", 'in the format "d MMMM YYYY", "YYYY" is the year the week belongs to (2025 on '
                    "30 December 2024)", "d MMMM yyyy"),
    ("dd/mm/yyyy", 'in the format "dd/mm/yyyy", "mm" is the minutes of a time of day, not the '
                   "month", "dd/MM/yyyy"),
    ("gg/mm/aaaa", 'in the format "gg/mm/aaaa", "mm" is the minutes of a time of day, not the '
                   "month", "dd/MM/yyyy"),
    ("d 'di MMMM", "the format \"d 'di MMMM\" opens a quote (') it never closes", ""),
    ("d MMMM, ore", 'the filter "date" has no format "d MMMM, ore"', ""),  # printed "1 maggio, 3r2"
    ("", 'the format "" shows nothing of the date', ""),
    ("HH:mm", 'the format "HH:mm" shows a time of day ("HH"), and this date has none', ""),
    ("dddd", 'the filter "date" has no format "dddd"', ""),
])
def test_a_format_that_is_no_name_nor_pattern_is_refused(format_: str, message: str,
                                                          instead: str) -> None:
    problem = date_format_problem(format_, False)
    assert problem is not None
    assert (problem.message, problem.instead) == (message, instead)
    with pytest.raises(ValueError, match="format"):
        Formatter("it_IT", "Europe/Rome").date(DAY, format_)


def test_the_quote_advice_is_given_for_a_pattern_with_words_not_for_a_name() -> None:
    assert "single quotes" in date_format_problem("d MMMM, ore", False).advice  # type: ignore[union-attr]
    assert date_format_problem("giorno", False).advice == ""  # type: ignore[union-attr]


def test_a_time_in_a_pattern_of_a_date_with_a_time_names_the_formats_that_show_it() -> None:
    problem = date_format_problem("d MMMM HH:mm", True)
    assert problem is not None
    assert problem.advice == 'for the day with its time, write "datetime" or "long_datetime"'


def test_the_price_filter_takes_a_currency_code_in_any_case_and_refuses_anything_else() -> None:
    formatter = Formatter("it_IT", "Europe/Rome")
    assert formatter.price(Decimal("12.5"), "EUR") == format_currency(Decimal("12.5"), "EUR",
                                                                      locale="it_IT")
    assert formatter.price(Decimal("12.5"), "eur") == formatter.price(Decimal("12.5"), "EUR")
    for currency in ("euro", "€", "ITL", ""):  # printed "12,50 euro", "12,50 ITL"...
        with pytest.raises(ValueError, match="currency"):
            formatter.price(Decimal("12.5"), currency)

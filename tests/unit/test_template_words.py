"""A template's mistakes in the owner's words: the values a template reads fields or items of,
the filters given values they cannot use, the macros given values they do not take (the
mini-sites in tests/sites/invalid/template-* show the whole lines)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import jinja2
import pytest

from storefront.config import Business, SiteConfig
from storefront.render import template_environment
from storefront.site import NavItem
from storefront.templateerrors import explain
from storefront.templateundefined import missing_words
from storefront.theme import Theme
from storefront.urls import UrlBuilder


def _explained(tmp_path: Path, source: str, **values: object) -> tuple[str, str]:
    """The message and hint for the page ``source`` renders into, at its last line (the call)."""
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "page.html").write_text(source, encoding="utf-8")
    chain = (Theme(name="t", path=tmp_path / "theme", label="themes/t"),)
    env = template_environment(chain, "", SiteConfig(title="Mini"),
                               UrlBuilder.from_base_url("https://mini.example/"))
    with pytest.raises(Exception) as failed:
        env.get_template("page.html").render(values)
    found = explain(failed.value, failed.value.__traceback__, chain, env)
    assert found is not None, repr(failed.value)
    (label, line), message, hint = found
    assert (label, line) == ("themes/t/templates/page.html", source.count("\n") + 1)
    return message, hint


def test_a_date_without_a_time_is_given_a_format_with_one(tmp_path: Path) -> None:
    message, hint = _explained(tmp_path, '{{ day|date("datetime") }}', day=date(2026, 8, 10))
    assert message == 'the format "datetime" shows a time of day, and this date has none'
    assert hint.startswith('write "short" (10/08/26), "medium" (10 ago 2026)')
    assert "datetime" not in hint  # only the formats a day has


def test_a_date_filter_given_a_list_or_a_document_says_what_it_was_given(tmp_path: Path) -> None:
    assert _explained(tmp_path, "{{ days|date }}", days=[1]) == (
        'the filter "date" is given a list, not a date', "it takes a date, such as {{ post.date|date }}")


def test_the_price_filter_given_a_currency_that_is_no_text(tmp_path: Path) -> None:
    assert _explained(tmp_path, "{{ 3|price(978) }}") == (
        'the filter "price" is given a number (978) for "currency", not a text',
        'write a currency code in quotes, such as "EUR", or product.currency')
    assert _explained(tmp_path, '{{ amount|price("EUR") }}', amount=datetime(2026, 1, 1))[0] == (
        'the filter "price" is given a date, not a number')


def test_the_country_filter_given_a_number(tmp_path: Path) -> None:
    assert _explained(tmp_path, "{{ 39|country }}") == (
        'the filter "country" is given a number (39), not a text',
        'it takes a text, such as {{ "DE"|country }}')


def test_a_macro_given_a_value_it_has_no_name_for_says_what_it_takes(tmp_path: Path) -> None:
    source = '{% macro icon(name, label="") %}{{ name }}{% endmacro %}\n{{ icon("x", size=2) }}'
    assert _explained(tmp_path, source) == (
        'the macro "icon" has no value named "size"', "it takes, in brackets: name, label (optional)")


class _Thing:
    colour = "blu"


@pytest.mark.parametrize(("obj", "name", "expected"), [
    (None, "title", ("this value is empty (none), so it has no field \"title\"",
                     "show it only when it is set, inside {% if %} … {% endif %}")),
    (SiteConfig(title="x"), "titel", ('the site settings have no field "titel"',
                                      'did you mean "title"?')),
    (Business(), 7, ("the business settings have no item 7", "")),
    (NavItem("Chi siamo", "/chi-siamo/"), "titolo", ('the menu link has no field "titolo"',
                                                     'did you mean "title"?')),
    ((NavItem("a", "/a/"), NavItem("b", "/b/"), NavItem("c", "/c/")), 3,
     ("the list has 3 items, so no item 3", "its items are [0] to [2]")),
    ((), 0, ("the list is empty, so it has no item 0",
             "go through its items with {% for %}, which shows nothing for an empty list, or "
             "check that it has one first, with {% if %}")),
    ([], "first", ('a list has no field "first"',
                   "take its first item with |first, or each item with {% for %}")),
    ("", 0, ("the text is empty, so it has no character 0", "")),
    ({"rss": "/feed.xml", "atom": "/atom.xml"}, "rsss", ('there is no field "rsss" here',
                                                         'did you mean "rss"?')),
    ({"rss": "/feed.xml", "atom": "/atom.xml"}, "x", ('there is no field "x" here',
                                                      "what there is here: atom, rss")),
    ({}, "contatto", ('there is no field "contatto" here', "it is empty")),
    (date(2026, 1, 1), "yeer", ('the date has no field "yeer"', 'did you mean "year"?')),
    (Decimal("1.5"), "cents", ('a number has no field "cents"', "")),
    (_Thing(), "color", ('this value has no field "color"', 'did you mean "colour"?')),
])
def test_a_missing_field_or_item_is_named_as_the_owner_knows_the_value(
        obj: object, name: object, expected: tuple[str, str]) -> None:
    assert missing_words(obj, name) == expected


def test_a_macro_a_template_lacks_is_named_with_the_template(tmp_path: Path) -> None:
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "_cards.html").write_text("{% macro post_card(post) %}{% endmacro %}")
    (templates / "page.html").write_text('{% import "_cards.html" as cards %}{{ cards.post_crad(1) }}')
    chain = (Theme(name="t", path=tmp_path / "theme", label="themes/t"),)
    env = template_environment(chain, "", SiteConfig(title="Mini"),
                               UrlBuilder.from_base_url("https://mini.example/"))
    with pytest.raises(jinja2.UndefinedError) as failed:
        env.get_template("page.html").render()
    assert str(failed.value) == 'the template "_cards.html" has no macro "post_crad"'
    assert failed.value.__notes__ == ['did you mean "post_card"?']


def test_a_date_format_that_is_no_name_nor_pattern_is_refused_with_the_names(tmp_path: Path) -> None:
    message, hint = _explained(tmp_path, '{{ day|date("giorno") }}', day=date(2026, 8, 10))
    assert message == 'the filter "date" has no format "giorno"'  # it printed "2461263iorno"
    assert hint.startswith('write "short" (10/08/26), "medium" (10 ago 2026)')
    assert _explained(tmp_path, '{{ day|date("%d/%m/%Y") }}', day=date(2026, 8, 10))[1] == (
        'write "dd/MM/y" (10/08/2026); a pattern writes the day as d, the month as M, the year as y')


def test_the_price_filter_given_a_currency_symbol_or_name_says_the_code(tmp_path: Path) -> None:
    assert _explained(tmp_path, '{{ 3|price("€") }}') == (
        'the filter "price" has no currency "€"', 'write "EUR"')
    assert _explained(tmp_path, '{{ 3|price("dollari") }}') == (
        'the filter "price" has no currency "dollari"',
        'write a currency code in quotes, such as "EUR", or product.currency')


def test_a_name_the_template_has_no_value_for_names_the_nearest_and_the_values(
        tmp_path: Path) -> None:
    """Jinja said "'titolo' is undefined"."""
    post = SiteConfig(title="Ciao")  # any value with fields the owner knows by name
    message, hint = _explained(tmp_path, "{{ titolo }}", post=post, page=None)
    assert message == 'this template has no value "titolo"'
    assert hint == 'did you mean "post.title"? The values this template has: post, page'
    message, hint = _explained(tmp_path, "{% for p in [1] %}{% set anno = 1 %}{{ anni }}"
                               "{% endfor %}", posts=[])
    assert message == 'this template has no value "anni"'
    assert hint == 'did you mean "anno"? The values this template has: posts, anno, p'
    assert _explained(tmp_path, "{% for p in posst %}{% endfor %}", posts=[])[1].startswith(
        'did you mean "posts"?')


def test_a_tag_prints_as_its_name_and_a_document_printed_whole_is_refused(tmp_path: Path) -> None:
    """{{ post.tags|join(", ") }} showed "Tag(name='natale', slug='natale', url=...)", and
    {{ p }} "<Post content/posts/ciao.md>"."""
    from markupsafe import Markup

    from storefront.deps import DocumentView
    from storefront.documents import Category, Post, Tag

    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text('{{ tags|join(", ") }} {{ category }}')
    chain = (Theme(name="t", path=tmp_path / "theme", label="themes/t"),)
    env = template_environment(chain, "", SiteConfig(title="Mini"),
                               UrlBuilder.from_base_url("https://mini.example/"))
    tags = (Tag("natale", "natale", "/tag/natale/"), Tag("novità", "novita", "/tag/novita/"))
    assert env.get_template("page.html").render(
        tags=tags, category=Category("Vasi", "vasi", "/vasi/")) == "natale, novità Vasi"
    post = Post(source="content/posts/ciao.md", title="Ciao", date=datetime(2024, 5, 1),
                updated=None, summary_html=Markup(""), content_html=Markup(""), has_more=False,
                tags=tags, author="", image="", image_alt="", slug="ciao", url="/blog/ciao/",
                reading_minutes=1, draft=False, expires=None, description="")
    (templates / "post.html").write_text("{{ p }}")
    with pytest.raises(jinja2.TemplateRuntimeError) as failed:
        env.get_template("post.html").render(p=DocumentView(post))
    assert str(failed.value) == "the post is printed whole, which shows the reader nothing"
    assert failed.value.__notes__ == ["print one of its fields, such as its title: {{ post.title }}"]


def test_a_price_times_a_number_with_a_decimal_point_says_to_make_it_a_plain_number(
        tmp_path: Path) -> None:
    # {{ product.price * 1.22 }} (a price with VAT): Python refuses a Decimal times a float; "a
    # number and a number cannot be multiplied", with advice about quotes, said nothing true
    message, hint = _explained(tmp_path, "{{ price * 1.22 }}", price=Decimal("30"))
    assert message == ("an exact amount (such as a price) and a number with a decimal point "
                       "(such as 1.22) cannot be multiplied (*)")
    assert hint == ("make the amount a plain number with |float first, as in "
                    "{{ (product.price|float * 1.22)|price(product.currency) }}")
    message, _ = _explained(tmp_path, "{{ 0.5 + price }}", price=Decimal("30"))
    assert message == ("a number with a decimal point (such as 1.22) and an exact amount (such "
                       "as a price) cannot be added (+)")

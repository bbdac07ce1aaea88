"""storefront.theme.Translator: theme strings filled in with their values."""

from __future__ import annotations

import pytest

from storefront.theme import Translator

IT = Translator({"sale_until": "Offerta valida fino al {date}", "nl_sent_on": "Spedita il {date}",
                 "available_from": "Disponibile dal {date}",
                 "scheduled_badge": "Programmato: esce il {date}"}, "it")


@pytest.mark.parametrize(("key", "date", "expected"), [
    ("sale_until", "8 marzo 2026", "Offerta valida fino all'8 marzo 2026"),
    ("nl_sent_on", "11 gennaio 2026", "Spedita l'11 gennaio 2026"),
    ("available_from", "11 aprile 2026", "Disponibile dall'11 aprile 2026"),
    ("scheduled_badge", "8 giugno 2026", "Programmato: esce l'8 giugno 2026"),
])
def test_italian_articles_elide_before_eight_and_eleven(key: str, date: str, expected: str) -> None:
    # "fino al 8 marzo", "Spedita il 11 gennaio": otto and undici start with a vowel, and
    # Italian writes "all'8", "l'11" (CLDR's "8 marzo 2026" comes after the theme's article)
    assert IT(key, date=date) == expected


@pytest.mark.parametrize("date", ["1 marzo 2026", "18 marzo 2026", "28 marzo 2026", "12 marzo 2026"])
def test_other_days_keep_their_article(date: str) -> None:
    assert IT("sale_until", date=date) == f"Offerta valida fino al {date}"


def test_english_strings_are_filled_in_as_written() -> None:
    english = Translator({"x": "Sent on {date}", "y": "il {date}"}, "en")
    assert english("y", date="8 March 2026") == "il 8 March 2026"


def test_a_value_that_is_markup_keeps_its_tags_and_elides_by_the_text_it_shows() -> None:
    from markupsafe import Markup

    from storefront.theme import Translator

    strings = {"updated_on": "Aggiornato il {date} & {note}"}
    t = Translator(strings, "it")
    time = Markup('<time datetime="2024-06-11">11 giugno 2024</time>')
    shown = t("updated_on", date=time, note="<b>")
    assert isinstance(shown, Markup)  # the page shows the element, not its tags
    assert shown == ("Aggiornato l&#39;<time datetime=\"2024-06-11\">11 giugno 2024</time>"
                     " &amp; &lt;b&gt;")
    assert t("updated_on", date=Markup("<time>12 giugno</time>"), note="") == \
        "Aggiornato il <time>12 giugno</time> &amp; "

"""A child theme's strings: a mistyped key is reported at its line, with the key it meant."""

from __future__ import annotations

from pathlib import Path

from storefront.stringkeys import mistyped_string_keys
from storefront.theme import resolve_theme_chain

WARNING = (
    'warning: themes/vetrina/strings/it.yaml:3: the theme string "read_mor" replaces no string '
    "of the themes vetrina extends, and no template asks for it\n"
    '  hint: did you mean "read_more"? (as it is, pages keep the text of '
    "<built-in theme default>/strings/it.yaml)\n"
)


def test_a_mistyped_key_is_a_warning_at_its_line_and_strict_builds_fail(copy_site,
                                                                          run_cli) -> None:
    site = copy_site("theme-strings")
    built = run_cli("--root", site, "build")
    assert built.code == 0
    # only the typo: "share" replaces the parent's text, "readmore" is asked for by the theme's
    # own post.html, and "banner_estate" is near no key (a template may build its name)
    assert built.err == WARNING
    page = (site / "output/blog/index.html").read_text(encoding="utf-8")
    assert "Continua a leggere" in page and "Leggi tutto" not in page  # what the owner meant
    post = (site / "output/blog/2024/05/ciao/index.html").read_text(encoding="utf-8")
    assert "Leggi il resto" in post and "Condividi la storia" in post
    strict = run_cli("--root", site, "build", "--strict", "--output", site / "strict")
    assert strict.code == 1
    assert "themes/vetrina/strings/it.yaml:3" in strict.err


def test_the_key_meant_is_found_in_any_theme_further_up_the_chain(copy_site) -> None:
    """A grandchild's typo of a key that only its parent (a site theme) adds."""
    site = copy_site("theme-strings")
    (site / "themes/vetrina/strings/it.yaml").write_text(
        "banner_estate: Saldi d'estate\n", encoding="utf-8")
    child = site / "themes/festa"
    (child / "strings").mkdir(parents=True)
    (child / "theme.yaml").write_text("name: festa\nextends: vetrina\n", encoding="utf-8")
    (child / "strings/it.yaml").write_text("\nbaner_estate: Saldi!\n", encoding="utf-8")
    chain = resolve_theme_chain(site, "festa")
    [warning] = mistyped_string_keys(chain, "it")
    assert warning.format().startswith('themes/festa/strings/it.yaml:2: the theme string '
                                       '"baner_estate" replaces no string of the themes festa')
    assert 'did you mean "banner_estate"? (as it is, pages keep the text of ' \
           "themes/vetrina/strings/it.yaml)" in warning.hint
    assert mistyped_string_keys(chain, "en") == []  # no strings in that language: nothing to say


def test_the_built_in_theme_alone_has_nothing_to_report() -> None:
    chain = resolve_theme_chain(Path("/nonexistent-site"), "default")
    assert mistyped_string_keys(chain, "it") == []


def test_new_keys_that_are_no_typo_or_that_a_template_builds_are_taken_as_meant(copy_site) -> None:
    """Keys farther than a typo from every known one (read_time beside reading_time) and keys a
    template builds from a quoted start (t("shipping_" ~ zone)) are no warning: a --strict build
    of such a theme passes."""
    site = copy_site("theme-strings")
    theme = site / "themes/vetrina"
    (theme / "strings/it.yaml").write_text(
        "read_time: Lettura\ncontact_us: Scrivici\nprev_page: Indietro\n"
        "shipping_it: In Italia\nshipping_eu: In Europa\n", encoding="utf-8")
    (theme / "templates/post.html").write_text(
        '{%- extends "default/post.html" -%}\n{%- block content -%}\n{{ super() }}\n'
        '{%- for zone in ["it", "eu"] %}<p>{{ t("shipping_" ~ zone) }}</p>{% endfor -%}\n'
        "{%- endblock -%}\n", encoding="utf-8")
    assert mistyped_string_keys(resolve_theme_chain(site, "vetrina"), "it") == []
    # and a typo beside them is still found
    with (theme / "strings/it.yaml").open("a", encoding="utf-8") as strings:
        strings.write("in_stok: Disponibile\n")
    [warning] = mistyped_string_keys(resolve_theme_chain(site, "vetrina"), "it")
    assert warning.format().startswith("themes/vetrina/strings/it.yaml:6:")
    assert 'did you mean "in_stock"?' in warning.hint


def test_a_session_sees_the_typo_fixed_at_its_next_build(copy_site) -> None:
    """The answer is kept per state of the theme files (a preview's saves do not read the
    templates again), so a save that fixes the key drops the warning at once."""
    from storefront.build import BuildRequest, BuildSession

    site = copy_site("theme-strings")
    session = BuildSession(BuildRequest(root=site, output=site / "output"))
    try:
        first = session.build()
        assert [w.format().split(":")[0] for w in first.warnings] == [
            "themes/vetrina/strings/it.yaml"]
        again = session.build()  # nothing changed
        assert again.warnings == first.warnings
        strings = site / "themes/vetrina/strings/it.yaml"
        strings.write_text(strings.read_text(encoding="utf-8").replace("read_mor:", "read_more:"),
                           encoding="utf-8")
        fixed = session.build()
        assert fixed.warnings == ()
        page = (site / "output/blog/index.html").read_text(encoding="utf-8")
        assert "Leggi tutto" in page
    finally:
        session.close()

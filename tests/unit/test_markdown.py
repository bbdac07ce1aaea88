"""storefront.markdown: the fixed extension set, slugs, summaries and plain text."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from storefront.markdown import (
    THEME_IDS,
    excerpt,
    first_paragraph,
    plain_text,
    render_inline,
    render_markdown,
    scope_ids,
    slugify,
)


def test_tables() -> None:
    assert render_markdown("| Ingrediente | Quantità |\n|---|--:|\n| Farina | 1 kg |\n") == (
        "<table>\n<thead>\n<tr>\n<th>Ingrediente</th>\n<th style=\"text-align: right;\">Quantità</th>\n"
        "</tr>\n</thead>\n<tbody>\n<tr>\n<td>Farina</td>\n<td style=\"text-align: right;\">1 kg</td>\n"
        "</tr>\n</tbody>\n</table>"
    )


def test_fenced_code_keeps_its_language_and_escapes_its_text() -> None:
    assert render_markdown("```python\nif a < b and c:\n    pass\n```\n") == (
        '<pre><code class="language-python">if a &lt; b and c:\n    pass\n</code></pre>'
    )


def test_footnotes_link_both_ways() -> None:
    html = render_markdown("Solo il sabato[^1].\n\n[^1]: Dalle 8.\n")
    assert html.startswith(
        '<p>Solo il sabato<sup id="fnref:1"><a class="footnote-ref" href="#fn:1">1</a></sup>.</p>'
    )
    assert '<li id="fn:1">\n<p>Dalle 8.&#160;<a class="footnote-backref" href="#fnref:1"' in html


def test_footnotes_do_not_leak_into_the_next_document() -> None:
    render_markdown("A[^1].\n\n[^1]: Nota.\n")
    assert render_markdown("B.\n") == "<p>B.</p>"


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("## Perché è così", '<h2 id="perche-e-cosi">Perché è così</h2>'),
        ("# Vasi & Piatti!", '<h1 id="vasi-piatti">Vasi &amp; Piatti!</h1>'),
        ("### 100% ceramica", '<h3 id="100-ceramica">100% ceramica</h3>'),
        ("## ???", '<h2 id="section">???</h2>'),
    ],
)
def test_headings_get_ascii_ids(markdown: str, html: str) -> None:
    assert render_markdown(markdown) == html


def test_repeated_headings_get_unique_ids_and_ids_restart_per_document() -> None:
    assert render_markdown("## Orari\n\n## Orari\n") == (
        '<h2 id="orari">Orari</h2>\n<h2 id="orari_1">Orari</h2>'
    )
    assert render_markdown("## Orari\n") == '<h2 id="orari">Orari</h2>'


def test_headings_named_like_the_themes_own_elements_get_the_next_free_id() -> None:
    html = render_markdown("## Shipping\n\n## Shipping\n\n## Main\n\n## Foto 2\n\n## Shipping 1\n")
    assert html == ('<h2 id="shipping_1">Shipping</h2>\n<h2 id="shipping_2">Shipping</h2>\n'
                    '<h2 id="main_1">Main</h2>\n<h2 id="foto-2_1">Foto 2</h2>\n'
                    '<h2 id="shipping-1">Shipping 1</h2>')


def test_every_fixed_id_of_the_default_themes_templates_is_kept_from_headings() -> None:
    templates = Path(__file__).parents[2] / "src" / "storefront" / "themes" / "default" / "templates"
    fixed = {name for template in templates.rglob("*.html")
             for name in re.findall(r'\sid="([^"{]*)"', template.read_text(encoding="utf-8"))}
    assert fixed and fixed <= THEME_IDS


def test_attribute_lists() -> None:
    assert render_markdown("## Contatti {: #scrivici .evidenza }") == (
        '<h2 class="evidenza" id="scrivici">Contatti</h2>'
    )
    assert render_markdown("![Vaso](/assets/v.jpg){: width=\"300\" loading=lazy }") == (
        '<p><img alt="Vaso" loading="lazy" src="/assets/v.jpg" width="300"></p>'
    )


def test_markdown_inside_html_blocks() -> None:
    assert render_markdown('<div class="box" markdown="1">\n*Nota* bene\n</div>\n') == (
        '<div class="box">\n<p><em>Nota</em> bene</p>\n</div>'
    )
    # without the attribute the block stays raw HTML
    assert render_markdown("<div>\n*raw*\n</div>\n") == "<div>\n*raw*\n</div>"


def test_smart_quotes_and_dashes() -> None:
    assert render_markdown("L'ordine \"arriva\" -- presto...") == (
        "<p>L&rsquo;ordine &ldquo;arriva&rdquo; &ndash; presto&hellip;</p>"
    )


def test_sane_lists_do_not_merge_ordered_and_bulleted() -> None:
    assert render_markdown("1. uno\n2. due\n\n* a\n* b\n") == (
        "<ol>\n<li>uno</li>\n<li>due</li>\n</ol>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    )


def test_html_output_format_has_no_xhtml_slashes() -> None:
    assert render_markdown("a  \nb\n\n---\n") == "<p>a<br>\nb</p>\n<hr>"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Perché è così", "perche-e-cosi"),
        ("  Ceramica   Raku  ", "ceramica-raku"),
        ("Vasi & Piatti", "vasi-piatti"),
        ("Caffè-bar_2024", "caffe-bar-2024"),
        ("日本", ""),
        ("--", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Straße", "strasse"),
        ("Kırmızı vazo", "kirmizi-vazo"),  # Turkish dotless i
        ("Łódź", "lodz"),
        ("Ærø", "aero"),
        ("Øl fra Đakovo", "ol-fra-dakovo"),
        ("Œuvre", "oeuvre"),
        ("Þórr", "thorr"),
        ("Guðrún", "gudrun"),
    ],
)
def test_slugify_spells_latin_letters_that_do_not_decompose(text: str, slug: str) -> None:
    # NFKD leaves ß, ı, ł, æ, ø, đ, œ, þ, ð whole, and the ASCII step dropped them: the tag
    # "Straße" had the page /tag/strae/, and "Kırmızı vazo" /tag/krmz-vazo/
    assert slugify(text) == slug


def test_render_inline_drops_a_single_paragraph_only() -> None:
    assert render_inline("Un *vaso* blu") == "Un <em>vaso</em> blu"
    assert render_inline("uno\n\ndue") == "<p>uno</p>\n<p>due</p>"




def test_an_excerpt_has_no_footnote_references_and_no_ids() -> None:
    html = render_markdown("Dal fiume[^1], d'autunno[^1][^b].\n\n## Poi {#poi}\n\n"
                           "<span id='x' class=\"y\">z</span>\n\n[^1]: Sì.\n[^b]: No.\n")
    assert excerpt(html.split('<div class="footnote">')[0]) == (
        "<p>Dal fiume, d&rsquo;autunno.</p>\n<h2>Poi</h2>\n"
        "<p><span class=\"y\">z</span></p>\n")
    assert excerpt('<p><code>&lt;b id="x"&gt;</code> id="y"</p>') == (
        '<p><code>&lt;b id="x"&gt;</code> id="y"</p>')


def test_scoped_ids_and_the_links_to_them_take_the_prefix_other_links_do_not() -> None:
    html = render_markdown("Sì[^1], vedi [sotto](#in-breve) e [il forno](#forno).\n\n"
                           "### In breve\n\n`<a href=\"#in-breve\">`\n\n"
                           "<span id='x'>y</span>\n\n[^1]: Nota.\n")
    scoped = scope_ids(html, "lavastoviglie")
    assert ('<sup id="lavastoviglie-fnref:1"><a class="footnote-ref" href="#lavastoviglie-fn:1">'
            in scoped)
    assert '<a href="#lavastoviglie-in-breve">sotto</a>' in scoped
    assert '<a href="#forno">il forno</a>' in scoped
    assert '<h3 id="lavastoviglie-in-breve">In breve</h3>' in scoped
    assert '<code>&lt;a href="#in-breve"&gt;</code>' in scoped
    assert '<span id="lavastoviglie-x">' in scoped
    assert '<li id="lavastoviglie-fn:1">' in scoped and 'href="#lavastoviglie-fnref:1"' in scoped
    assert scope_ids("<p>Sì.</p>", "a") == "<p>Sì.</p>"


def test_first_paragraph() -> None:
    assert first_paragraph("<h2>T</h2>\n<p>Uno\ndue</p>\n<p>Tre</p>") == "Uno\ndue"
    assert first_paragraph("<h2>T</h2>") == ""


def test_plain_text_strips_tags_and_decodes_entities() -> None:
    html = render_markdown("## Titolo\n\nL'*ordine* [arriva](/x/) & parte.\n\n- uno\n- due\n")
    assert plain_text(html) == "Titolo L\u2019ordine arriva & parte. uno due"
    assert plain_text("<p>a &lt;b&gt;</p>") == "a <b>"
    assert plain_text("") == ""


def test_converters_are_per_thread_and_give_the_same_html() -> None:
    text = "## Perché\n\nTesto[^1].\n\n[^1]: Nota.\n"
    expected = render_markdown(text)
    results: list[str] = []

    def work() -> None:
        results.extend(render_markdown(text) for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 80


HEADING_TEXTS = [
    "## Cosa c'è di nuovo\n\nTesto.\n\n## Cosa c'è di nuovo\n\n## Shipping\n\n### foto-1\n",
    "# Uno {#proprio}\n\n## Uno\n\n## proprio\n\n## Dettagli {: .grande data-toc-label='Breve' }\n",
    "## Orari[^1] e *prezzi* `2 €` <span>nuovi</span>\n\n[^1]: Nota.\n",
    "## A &amp; B &lt;tag&gt; \"virgolette\"\n\n#### Fine -- davvero...\n",
    "[TOC]\n\n## Primo\n\n### Secondo\n\n## Terzo\n",
    "- [TOC]\n\n## In una lista il segno resta testo\n",
    "Nessun titolo, solo testo [TOC] in mezzo.\n",
    '<div markdown="1">\n## Dentro un blocco\n</div>\n\n## Fuori\n',
]


@pytest.mark.parametrize("text", HEADING_TEXTS)
def test_heading_ids_are_those_of_pythons_markdowns_toc_extension(text: str) -> None:
    """storefront.headings skips the table of contents that the extension builds for every text
    and storefront never reads; the ids (and a [TOC] marker's table) must stay the extension's."""
    from markdown.extensions.toc import TocTreeprocessor

    from storefront.headings import HeadingIds
    from storefront.markdown import _converter

    ours = render_markdown(text)
    processor = _converter().treeprocessors["toc"]
    assert type(processor) is HeadingIds
    processor.__class__ = TocTreeprocessor  # the extension's own run, same settings
    try:
        theirs = render_markdown(text)
    finally:
        processor.__class__ = HeadingIds
    assert ours == theirs
    assert 'id="' in ours or "<h" not in ours


def test_a_toc_marker_paragraph_becomes_the_table_of_contents() -> None:
    html = render_markdown("[TOC]\n\n## Primo\n\n## Secondo\n")
    assert html.startswith('<div class="toc">\n<ul>\n<li><a href="#primo">Primo</a></li>')

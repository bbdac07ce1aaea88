"""storefront.typography gives exactly what Python-Markdown's smarty gives, only faster."""

from __future__ import annotations

import markdown as md
from hypothesis import given, settings
from hypothesis import strategies as st

from storefront.markdown import render_markdown, summary_before_more

_EXTENSIONS = [
    "markdown.extensions.tables", "markdown.extensions.fenced_code",
    "markdown.extensions.footnotes", "markdown.extensions.toc", "markdown.extensions.attr_list",
    "markdown.extensions.md_in_html", "markdown.extensions.sane_lists", "markdown.extensions.smarty",
]


def smarty_reference(text: str) -> str:
    from storefront.markdown import _heading_id

    converter = md.Markdown(
        extensions=_EXTENSIONS, output_format="html",
        extension_configs={"markdown.extensions.toc": {"slugify": _heading_id},
                           "markdown.extensions.footnotes": {"BACKLINK_TITLE": ""},
                           "markdown.extensions.smarty": {"smart_angled_quotes": False}})
    return converter.convert(text)


# Text made of the characters the rules look at, Markdown syntax around them, and words.
_PIECES = st.sampled_from([
    "'", '"', "--", "---", "...", "....", " ", "\n", "\n\n", "a", "l'", "dell'arte", "'80s",
    "'s", "(", ")", "[", "]", "`code 'x'`", "*", "**", "&nbsp;", "&mdash;", "–", "—", "-", ".",
    "> ", "- ", "1. ", "# ", "<em>", "</em>", "<b>x</b>", "\\'", "\\\"", "é", "2", "s", "!", ",",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_same_html_as_smarty(text: str) -> None:
    assert render_markdown(text) == smarty_reference(text)


def test_italian_prose() -> None:
    text = ("L'argilla \"rossa\" dell'Impruneta -- quella degli anni '80 --- e poi... "
            "'cotta' due volte.\n\n```\nnon 'qui'\n```\n")
    html = render_markdown(text)
    assert html == smarty_reference(text)
    assert "L&rsquo;argilla &ldquo;rossa&rdquo;" in html and "non 'qui'" in html


def test_summary_split_from_the_rendered_body() -> None:
    html = render_markdown("Primo *paragrafo*.\n\n<!--more-->\n\nIl resto.\n")
    assert summary_before_more(html) == "<p>Primo <em>paragrafo</em>.</p>"
    # a marker inside a paragraph cannot be split from the HTML: the caller renders it alone
    assert summary_before_more(render_markdown("Uno <!--more--> due.\n")) is None

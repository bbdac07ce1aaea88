"""The Markdown speed-ups change nothing: storefront.typography gives exactly what
Python-Markdown's smarty gives; storefront.inline, storefront.blocks, storefront.passes and
storefront.headings exactly what Python-Markdown's own processors and passes give."""

from __future__ import annotations

import re

import markdown as md
from hypothesis import example, given, settings
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
    # a marker inside a paragraph cuts the paragraph there, closed (like Hugo's inline divider)
    assert summary_before_more(render_markdown("Uno <!--more--> due.\n")) == "<p>Uno</p>"
    assert summary_before_more(render_markdown("Niente segno.\n")) is None


_MARKDOWN = st.sampled_from([
    "a", " ", "\n", "\n\n", "  \n", "*", "**", "_", "__", "`", "``", "\\", "[", "]", "(", ")",
    "[x](/y/)", "![i](/i.png)", "[r][1]", "\n\n[1]: /z/", "[^1]", "\n\n[^1]: nota", "<b>",
    "</b>", "<http://a.example/>", "<m@a.example>", "&amp;", "&#8212;", "&", "<!-- c -->", "!",
    "- ", "1. ", "> ", "# ", "    code", "```\nx\n```", "| a | b |\n|---|---|\n| 1 | 2 |", "'", '"',
    "\n===\n", "\n---\n", "***", "___", " - - -", "|", "#", ">", "]:", "[^", "\n\n[^2]:", "\n\n[r]: /r/",
    # what storefront.passes and storefront.headings look for
    "\t", "\r\n", "\r", " \n", "\x02", "\x03", "~~~\ny\n~~~", "```", "~~~", "<", "&lt;",
    '<div markdown="1">\n', "\n</div>\n", "<p>", "[TOC]", "\n\n[TOC]\n\n", "\n## Titolo ",
    "\n## Titolo\n", "\n### a {#x}\n", "{: data-toc-label='l' }",
    "&#38", "&#x41g", "&#8364 ", "&#", "&amp", "&copy ",
])


def reference_inline(text: str) -> str:
    """Python-Markdown with its own inline processor and block parser (typography as in
    storefront's converter)."""
    from storefront.markdown import _heading_id
    from storefront.typography import TypographyExtension

    # the extensions by name, as Python-Markdown's documentation configures them (storefront
    # passes instances, which skips the entry-point scan): the same HTML either way
    named = [name for name in _EXTENSIONS if name != "markdown.extensions.smarty"]
    converter = md.Markdown(
        extensions=[*named, TypographyExtension()], output_format="html",
        extension_configs={"markdown.extensions.toc": {"slugify": _heading_id},
                           "markdown.extensions.footnotes": {"BACKLINK_TITLE": ""}})
    return converter.convert(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(_MARKDOWN, max_size=40).map("".join))
# a fragment put in place ("<p>") before a placeholder whose own fragment is a block: that is no
# paragraph of its own, which a replace of "<p>PH</p>" after the first one took it for
@example('a<p><div markdown="1">\n')
# a character reference without its ";": the raw-HTML extractor writes it back with one
@example("Prezzo: 10&#8364 al kg\n")
def test_the_prefiltered_inline_processor_and_block_parser_change_nothing(text: str) -> None:
    """Also the skipped whole-text passes (storefront.passes) and the heading ids without the
    table of contents (storefront.headings): the reference has Python-Markdown's own."""
    assert render_markdown(text) == reference_inline(text)


_AROUND_QUOTES = st.sampled_from([
    "'", '"', "-", ".", " ", "\t", "\n", "a", "s", "é", "1", "8", "0", "(", "[", ";", "!",
    "&nbsp;", "&mdash;", "&#8211;", "–", "—", "\x02", "\x03",
])


@settings(max_examples=2000, deadline=None)
@given(st.lists(_AROUND_QUOTES, max_size=14).map("".join), st.integers(min_value=0, max_value=60))
def test_each_rule_matches_what_smartys_expression_matches(text: str, position: int) -> None:
    """The rules' expressions start with the quote (faster to search) but match, from any
    position, exactly where smarty's do; a rule's precheck finds every text its rule matches."""
    from storefront.typography import _RULES

    position = min(position, len(text))
    for rule in _RULES:
        ours = rule.regex.search(text, position)
        smartys = re.compile(rule.same_as).search(text, position)
        assert (ours and (ours.span(), ours.groups())) == (smartys and (smartys.span(), smartys.groups()))
        if rule.precheck is not None and smartys is not None:
            assert rule.precheck.search(text) is not None

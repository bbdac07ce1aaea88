"""Links with nothing to read out (storefront.body.unnamed_links): a warning at their line,
an error with --strict, like an image without a description."""

from __future__ import annotations

from pathlib import Path

import pytest

from storefront.body import render_body, unnamed_links
from storefront.build import build_site
from storefront.errors import BuildFailed
from storefront.request import BuildOptions, BuildRequest


def test_links_without_text_are_found_with_their_lines() -> None:
    body = render_body(
        "Primo paragrafo con [la bottega](/bottega/).\n\n"
        "Qui [](/negozio/) e [ ![](/assets/a.png) ](/foto/), un'immagine senza descrizione.\n\n"
        "Ma [![il forno](/assets/forno.png)](/forno/) e <a href=\"/x/\" aria-label=\"X\"></a>\n"
        "hanno un nome, come [**grassetto**](/y/) e le note[^1].\n\n"
        "[^1]: Una nota.\n",
        first_line=5)
    assert body.unnamed_links == (7, 7)
    assert render_body("Nessun link qui.\n").unnamed_links == ()


def test_only_links_with_nothing_to_read_are_found_at_their_own_line() -> None:
    text = ("[Il negozio](/negozio/) e la [bottega](/bottega/).\n\n"
            "<a id=\"top\"></a> un segnalibro, non un link.\n\n"
            "<a href='/x/'><img src='/assets/logo.png' alt='Logo'></a> e "
            "<a href=\"/y/\" aria-labelledby=\"t\"></a> hanno un nome.\n\n"
            "Ma questo no: [](/negozio/).\n")
    assert render_body(text).unnamed_links == (7,)  # not line 1, where /negozio/ has a name


def test_pasted_html_is_read_as_a_browser_reads_it() -> None:
    """alt=Logo and ARIA-LABEL=Home name their links (they were warned about, and failed a
    --strict build); <a href=/z/></a> is a link with nothing to read (it was not seen)."""
    html = ("<a href='/x/'><img src='/y.png' alt=Logo></a> <a href=/z/></a> "
            "<a href=\"/w/\" ARIA-LABEL=Home></a> <a title=\"a > b\" href=\"/v/\"></a> "
            "<a href='/u/'><!-- <b>nome</b> --></a>")
    assert unnamed_links(html) == ("/z/", "/u/")


def test_links_left_open_by_raw_html_are_read_in_one_pass() -> None:
    # thousands of <a never closed (within the limits): the pass pairs each with the next </a>
    html = "<p>" + "<a href='/x/'>" * 20_000 + "bene</a></p><p><a href=\"/y/\"></a></p>"
    assert unnamed_links(html) == ("/y/",)


def test_a_link_without_text_is_a_warning_and_an_error_when_strict(copy_site,
                                                                    tmp_path: Path) -> None:
    site = copy_site("basic")
    post = site / "content/posts/2024-05-01-pane-di-grano-antico.md"
    lines = post.read_text(encoding="utf-8").splitlines()
    post.write_text("\n".join([*lines, "", "Vieni a trovarci: [](/chi-siamo/)."]) + "\n",
                    encoding="utf-8")
    expected = (f"{post.relative_to(site)}:{len(lines) + 2}: this link has no text to read out\n"
                "  hint: write the words to click between the brackets, [our workshop](/bottega/), "
                "or describe the image it links: [![the workshop](/assets/bottega.jpg)](/bottega/)")
    report = build_site(BuildRequest(root=site, output=tmp_path / "out"))
    assert expected in [w.format() for w in report.warnings]
    with pytest.raises(BuildFailed) as failed:
        build_site(BuildRequest(root=site, output=tmp_path / "strict",
                                options=BuildOptions(strict=True)))
    assert expected in [e.format() for e in failed.value.errors]

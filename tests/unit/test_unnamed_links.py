"""Links with nothing to read out (storefront.body.unnamed_links): a warning at their line,
an error with --strict, like an image without a description."""

from __future__ import annotations

from pathlib import Path

import pytest

from storefront.body import render_body
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


def test_a_link_without_text_is_a_warning_and_an_error_when_strict(copy_site,
                                                                    tmp_path: Path) -> None:
    site = copy_site("basic")
    post = site / "content/posts/2024-05-01-pane-di-grano-antico.md"
    lines = post.read_text(encoding="utf-8").splitlines()
    post.write_text("\n".join([*lines, "", "Vieni a trovarci: [](/chi-siamo/)."]) + "\n",
                    encoding="utf-8")
    expected = (f"{post.relative_to(site)}:{len(lines) + 2}: this link has no text to read out\n"
                "  hint: write the words to click between the brackets: "
                "[our workshop](/bottega/)")
    report = build_site(BuildRequest(root=site, output=tmp_path / "out"))
    assert expected in [w.format() for w in report.warnings]
    with pytest.raises(BuildFailed) as failed:
        build_site(BuildRequest(root=site, output=tmp_path / "strict",
                                options=BuildOptions(strict=True)))
    assert expected in [e.format() for e in failed.value.errors]

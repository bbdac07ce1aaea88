"""One mini-site per kind of invalid input, each with its exact expected error lines.

Every case must fail with exit code 1, print exactly ``expected.txt`` on stderr, and leave a
previous ``output/`` byte-for-byte as it was.
"""

from __future__ import annotations

import pytest

from support import SITES, tree_bytes

CASES = sorted(p.name for p in (SITES / "invalid").iterdir() if p.is_dir())


def test_every_required_kind_of_invalid_input_has_a_case() -> None:
    required = {
        "invalid-yaml", "missing-title", "bad-date", "price-not-number", "unknown-currency",
        "unknown-availability", "duplicate-url", "unknown-config-key", "missing-theme",
        "template-syntax-error", "unclosed-front-matter", "not-utf8", "unsafe-slug",
        "unsafe-permalink", "missing-image", "not-an-image", "image-bomb", "svg-script",
        "svgz-script", "yaml-quote-closed-early",
        "bad-gtin", "unknown-condition", "alias-collides-with-page",
        "alias-collides-with-alias", "bad-policy-config", "shipping-country-twice", "merchant-ids",
        # hostile input (issue 7): each limit of storefront.limits, and YAML tags
        "markdown-nested-too-deep", "markdown-html-nested-too-deep", "markdown-brackets",
        "markdown-unclosed-html-tags", "markdown-too-many-lines", "markdown-block-too-long",
        "markdown-table-too-wide", "summary-too-complex", "names-too-long", "numbers-too-long",
        "yaml-tags", "yaml-tag-in-config", "yaml-too-deep", "yaml-alias-bomb-in-front-matter",
        "yaml-alias-bomb-in-theme-strings", "yaml-tag-in-theme-strings",
    }
    assert required <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_reports_exact_errors_and_keeps_output(case, copy_site, run_cli) -> None:
    site = copy_site(f"invalid/{case}")
    output = site / "output"
    output.mkdir()
    (output / "index.html").write_text("<p>the last good build</p>\n", encoding="utf-8")
    (output / "blog").mkdir()
    (output / "blog" / "index.html").write_bytes(b"old blog\n")
    before = tree_bytes(output)

    result = run_cli("--root", site, "build")

    expected = (SITES / "invalid" / case / "expected.txt").read_text(encoding="utf-8")
    assert result.code == 1
    assert result.err == expected
    assert "Traceback" not in result.err
    assert tree_bytes(output) == before


@pytest.mark.parametrize("folder", ["content/assets", "content/posts", "themes/vetrina/static"])
def test_a_file_name_that_is_not_utf8_is_named_and_refused(copy_site, run_cli, folder) -> None:
    """A zip made on Windows unpacks "caffè.png" as the byte 0xE8, which is no UTF-8: every later
    step failed on the name with an internal error (exit 70)."""
    import os

    site = copy_site("invalid/theme-string-placeholder")
    (site / "themes/vetrina/strings/it.yaml").unlink()
    (site / folder).mkdir(parents=True, exist_ok=True)
    name = os.path.join(os.fsencode(site / folder), b"caff\xe8.png")
    with open(name, "wb") as handle:
        handle.write(b"not read")
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert result.err == (f"{folder}/caff\ufffd.png: this file's name is not UTF-8 text (made on "
                          "another system, or unpacked from an old zip)\n"
                          "  hint: rename the file, retyping its accented letters\n"
                          "build failed: 1 problem; nothing was written\n")


def test_file_names_longer_than_a_file_system_allows_are_named_and_refused(copy_site,
                                                                         run_cli) -> None:
    """A page whose file name of 252 letters (and ".md") became a file name of 257 bytes under a
    permalink ending in ".html", and a photo whose resized copies added 23 bytes to a long name,
    failed the write with "error: File name too long: .../.output.staging-.../.tmp-1-2.html".
    (Made here: a name that long in the repository would not check out on every system.)"""
    site = copy_site("invalid/file-names-too-long")
    (site / "content/products/vaso.md").unlink()
    (site / "storefront.yaml").write_text(
        "title: Mini\nbase_url: https://mini.example/\nlanguage: it\n"
        "permalinks: {page: '/{slug}.html'}\n", encoding="utf-8")
    stem = "la-nostra-storia-" + "a" * 235
    (site / "content/pages").mkdir(parents=True)
    (site / f"content/pages/{stem}.md").write_text("---\ntitle: Storia\n---\n\nTesto.\n",
                                                   encoding="utf-8")
    photo = "vaso-" + "b" * 230 + ".png"
    (site / "content/assets").mkdir()
    (site / "content/assets" / photo).write_bytes(
        (SITES / "invalid/merchant-ids/content/assets/vaso.png").read_bytes())
    (site / "content/pages/vaso.md").write_text(
        f"---\ntitle: Vaso\n---\n\n![Un vaso](/assets/{photo})\n", encoding="utf-8")
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert result.err == (
        f"content/pages/{stem}.md: the URL /{stem[:59]}… makes a file or folder name of 257 "
        f'bytes ("{stem[:30]}…"); a name can have at most 255\n'
        "  hint: the slug is made of the file's name: give the file a shorter name, or write a "
        "shorter slug: in its front matter\n"
        f"content/pages/vaso.md:5: the image /assets/{photo} has a name too long for its "
        "resized copies: theirs would have 257 bytes, and a file name can have at most 255 (an "
        "accented letter takes 2)\n"
        "  hint: give the photo a shorter name, and write the new name where it is used\n"
        "build failed: 2 problems; nothing was written\n")
    assert not (site / "output").exists()

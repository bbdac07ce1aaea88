"""End-to-end builds of the fixture site: golden tree, determinism, safe and minimal output."""

from __future__ import annotations

import hashlib
import os
import shutil
import unicodedata
from pathlib import Path

import pytest

from storefront.bundle import fingerprint, minify
from storefront.output import MANIFEST
from support import REPO, TESTS, tree_bytes

GOLDEN = TESTS / "golden" / "basic"
THEME_STATIC = REPO / "src" / "storefront" / "themes" / "default" / "static"
EPOCH = "1795000000"  # 2026-11-18: pins "now" for scheduling, sales and expiry


@pytest.fixture(autouse=True)
def pinned_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def build(run_cli, site: Path, *args: str | Path) -> Path:
    result = run_cli("--root", site, "build", *args)
    assert result.code == 0, result.err
    return Path(args[args.index("--output") + 1]) if "--output" in args else site / "output"


def test_output_matches_the_reviewed_golden_tree(copy_site, run_cli, request) -> None:
    """Every generated file equals tests/golden/basic; theme static files are checked apart.

    The theme's CSS and JS are the theme's files minified under fingerprinted names, so the golden
    tree leaves them out and the test checks instead that each one is its source minified, named
    by the hash of its bytes (keeping the golden diff about generation).
    """
    output = build(run_cli, copy_site("basic"))
    everything = tree_bytes(output)
    actual = {name: data for name, data in everything.items() if not name.startswith("static/")}
    if request.config.getoption("--regen-golden"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        # the manifest records when files were written: machine state, left out of the tree
        shutil.copytree(output, GOLDEN, ignore=shutil.ignore_patterns("static", MANIFEST))
    expected = tree_bytes(GOLDEN)
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], f"{name} differs from tests/golden/basic/{name}"
    static = {name.removeprefix("static/"): data for name, data in everything.items()
              if name.startswith("static/")}
    sources = tree_bytes(THEME_STATIC)
    assert len(static) == len(sources)
    for name, data in sources.items():
        made = minify(name, data)
        assert static[fingerprint(name, hashlib.sha256(made).hexdigest())] == made
    css = minify("css/site.css", sources["css/site.css"])
    assert len(css) < 0.8 * len(sources["css/site.css"])
    href = f'href="/static/{fingerprint("css/site.css", hashlib.sha256(css).hexdigest())}"'
    assert href.encode() in actual["index.html"]


def test_two_builds_are_byte_identical(copy_site, run_cli, tmp_path) -> None:
    site = copy_site("basic")
    first = tree_bytes(build(run_cli, site, "--output", tmp_path / "one"))
    second = tree_bytes(build(run_cli, site, "--output", tmp_path / "two"))
    assert first == second
    assert not any(str(site).encode() in data for data in first.values()), "machine path leaked"


def test_rebuild_rewrites_nothing_and_reports_it(copy_site, run_cli) -> None:
    site = copy_site("basic")
    output = build(run_cli, site)
    stamps = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file()}
    result = run_cli("--root", site, "build")
    assert result.code == 0
    assert " 0 written, " in result.out and " 0 deleted" in result.out
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file()} == stamps


def test_stale_files_are_deleted_and_foreign_files_kept(copy_site, run_cli) -> None:
    site = copy_site("basic")
    output = build(run_cli, site)
    (output / "CNAME").write_text("forno.example\n", encoding="utf-8")
    page = output / "blog" / "2012" / "01" / "p00001-dolci-di-natale" / "index.html"
    assert page.is_file()
    (site / "content" / "posts" / "p00001-dolci-di-natale.md").unlink()
    result = run_cli("--root", site, "build")
    assert result.code == 0, result.err
    assert not page.exists() and not (output / "blog" / "2012").exists()
    # its tags' pages stay (products carry them too), their feeds of posts go with it
    assert (output / "tag" / "natale" / "index.html").is_file()
    assert not (output / "tag" / "natale" / "feed.xml").exists()
    assert (output / "CNAME").read_text(encoding="utf-8") == "forno.example\n"
    assert "6 deleted" in result.out  # the post, blog page 2, RSS and Atom of its two tags


def test_failed_build_leaves_previous_output_untouched(copy_site, run_cli) -> None:
    site = copy_site("basic")
    output = build(run_cli, site)
    before = tree_bytes(output)
    post = site / "content" / "posts" / "2024-06-10-focaccia.md"
    post.write_text(post.read_text(encoding="utf-8").replace("title: La focaccia del mattino\n", ""),
                    encoding="utf-8")
    (site / "content" / "pages" / "nuova.md").write_text("---\ntitle: Nuova\n---\n\nCiao.\n",
                                                         encoding="utf-8")
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert 'content/posts/2024-06-10-focaccia.md:2: missing required field "title"' in result.err
    assert tree_bytes(output) == before


def test_drafts_and_future_posts_only_on_request(copy_site, run_cli, tmp_path) -> None:
    site = copy_site("basic")
    plain = build(run_cli, site, "--output", tmp_path / "plain")
    assert not (plain / "blog/2024/07/bozza/index.html").exists()
    assert not (plain / "blog/2099/01/futuro/index.html").exists()
    everything = build(run_cli, site, "--drafts", "--future", "--output", tmp_path / "all")
    draft = (everything / "blog/2024/07/bozza/index.html").read_text(encoding="utf-8")
    future = (everything / "blog/2099/01/futuro/index.html").read_text(encoding="utf-8")
    # so the owner sees in the preview what visitors will not see yet
    assert "Bozza: non ancora pubblicata" in draft
    assert "Programmato: esce il 1 gennaio 2099" in future
    published = (everything / "blog/2024/06/focaccia/index.html").read_text(encoding="utf-8")
    assert "badge-unpublished" not in published


def _epoch(moment: str) -> str:
    from datetime import datetime

    return str(int(datetime.fromisoformat(moment).timestamp()))


def test_build_reports_the_next_change(copy_site, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch("2098-01-02T12:00:00+01:00"))
    result = run_cli("--root", copy_site("basic"), "build")
    assert result.code == 0
    # the earliest of: the 2099-01-01 post, the panettone sale ending after 2099-01-06, the day
    # that end comes within a year, when the product page starts announcing it, and the new year
    assert "next change: 2098-01-06T00:00:00+01:00" in result.out


def test_the_new_year_is_a_next_change_when_the_pages_show_the_year(copy_site, run_cli,
                                                                    monkeypatch) -> None:
    """The footer's © shows the build's year: a build on New Year's Day changes every page, so
    the build says so (CI schedules its rebuilds by it). It said the next post or sale instead,
    and the site kept last year's © until then."""
    site = copy_site("basic")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch("2097-12-24T13:00:00+01:00"))
    result = run_cli("--root", site, "build", "--jobs", "1")
    assert result.code == 0, result.err
    assert "next change: 2098-01-01T00:00:00+01:00" in result.out
    before = tree_bytes(site / "output")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch("2097-12-31T23:59:59+01:00"))
    assert run_cli("--root", site, "build", "--jobs", "1").code == 0
    after = tree_bytes(site / "output")
    # only the merchant feed's sale_price_effective_date moves with the day (as documented)
    assert [name for name in before if before[name] != after.get(name)] == ["merchant.xml"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch("2098-01-01T00:00:00+01:00"))
    assert run_cli("--root", site, "build", "--jobs", "1").code == 0
    assert "© 2098" in (site / "output/index.html").read_text(encoding="utf-8")


def test_italian_dates_prices_and_sales(copy_site, run_cli) -> None:
    output = build(run_cli, copy_site("basic"))
    post = (output / "blog/2024/05/pane-di-grano-antico/index.html").read_text(encoding="utf-8")
    assert "1 maggio 2024" in post
    panettone = (output / "prodotti/panettone/index.html").read_text(encoding="utf-8")
    assert "25,60\xa0€" in panettone and "32,00\xa0€" in panettone and "<del" in panettone
    colomba = (output / "prodotti/colomba/index.html").read_text(encoding="utf-8")
    assert "28,00\xa0€" in colomba and "20,00" not in colomba and "<del" not in colomba


@pytest.mark.parametrize(("language", "word"), [("it", "Gratis"), ("en", "Free")])
def test_a_free_product_reads_free_not_zero(copy_site, run_cli, language: str, word: str) -> None:
    """A free sample (``price: 0``, which stays on the site) read "0,00 €" on its page, its
    card and its order form; it now reads "Gratis" or "Free"."""
    site = copy_site("basic")
    if language == "en":
        config = site / "storefront.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace(
            "language: it\nlocale: it_IT\n", "language: en\nlocale: en_US\n"), encoding="utf-8")
    (site / "content/products/campione.md").write_text(
        "---\ntitle: Campione\nprice: 0\nsku: C-0\n---\nUn assaggio.\n", encoding="utf-8")
    output = build(run_cli, site)
    page = (output / "prodotti/campione/index.html").read_text(encoding="utf-8")
    assert f'<span class="price-now">{word}</span>' in page
    assert "0,00" not in page and "0.00" not in page.replace('"0.00"', "")
    listing = (output / "prodotti/index.html").read_text(encoding="utf-8")
    assert f'<span class="price-now">{word}</span>' in listing


def test_english_site_uses_english_strings_and_formats(copy_site, run_cli) -> None:
    site = copy_site("basic")
    config = site / "storefront.yaml"
    text = config.read_text(encoding="utf-8").replace("language: it\nlocale: it_IT\n",
                                                      "language: en\nlocale: en_US\n")
    config.write_text(text, encoding="utf-8")
    output = build(run_cli, site)
    post = (output / "blog/2024/05/pane-di-grano-antico/index.html").read_text(encoding="utf-8")
    assert "May 1, 2024" in post and 'lang="en"' in post
    assert "€25.60" in (output / "prodotti/panettone/index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("language", "one_day"), [
    ("it", ["1 giorno lavorativo", "in 1 giorno lavorativo.", "entro 1 giorno dalla consegna."]),
    ("en", ["1 business day<", "within 1 business day.", "within 1 day of delivery."]),
])
def test_one_day_of_shipping_or_returns_reads_in_the_singular(copy_site, run_cli, language,
                                                               one_day) -> None:
    site = copy_site("basic")
    config = site / "storefront.yaml"
    text = config.read_text(encoding="utf-8")
    for old, new in (("handling_days: 1-2", "handling_days: 1"), ("transit_days: 1-3", "transit_days: 1"),
                     ("days: 14", "days: 1"), ("language: it", f"language: {language}")):
        assert old in text
        text = text.replace(old, new, 1)
    config.write_text(text, encoding="utf-8")
    policies = (build(run_cli, site) / "spedizioni/index.html").read_text(encoding="utf-8")
    assert all(words in policies for words in one_day)
    assert "1 giorni" not in policies and "1 business days" not in policies
    assert "1 days" not in policies
    # more days stay plural
    assert ("3–5 giorni lavorativi" if language == "it" else "3–5 business days") in policies


def test_no_file_is_written_outside_the_output_folder(copy_site, run_cli, tmp_path) -> None:
    site = copy_site("basic")
    before = {p for p in tmp_path.rglob("*")}
    output = build(run_cli, site)
    created = {p for p in tmp_path.rglob("*")} - before
    cache = site / ".storefront-cache"  # the build cache is the one thing kept in the site
    assert created and all(p in (output, cache) or output in p.parents or cache in p.parents
                           for p in created)


def test_base_path_prefixes_every_internal_url(copy_site, run_cli) -> None:
    output = build(run_cli, copy_site("basic"), "--base-url", "https://example.com/forno/")
    home = (output / "index.html").read_text(encoding="utf-8")
    assert 'href="/forno/static/' in home and 'href="/static/' not in home
    assert (output / "index.html").is_file() and (output / "static").is_dir()


def test_a_base_path_warns_that_crawlers_read_robots_txt_only_at_the_host_root(copy_site,
                                                                              run_cli) -> None:
    # output/robots.txt is served at /forno/robots.txt, where no crawler looks for it
    site = copy_site("basic")
    config = site / "storefront.yaml"
    assert "warning: storefront.yaml" not in run_cli("--root", site, "build").err
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("base_url: https://forno.example/",
                                   "base_url: https://forno.example/forno/"), encoding="utf-8")
    warning = (
        "warning: storefront.yaml:3: the site is served below /forno/, but crawlers read "
        "robots.txt only at the root of the host, https://forno.example/robots.txt: the one "
        "written into the output folder is never read\n"
        "  hint: so that search engines find the sitemap, add this line to "
        "https://forno.example/robots.txt (ask whoever runs the host): "
        "Sitemap: https://forno.example/forno/sitemap.xml\n")
    result = run_cli("--root", site, "build")
    assert result.code == 0 and warning in result.err
    assert "Sitemap: https://forno.example/forno/sitemap.xml" in (
        site / "output" / "robots.txt").read_text(encoding="utf-8")
    assert warning in run_cli("--root", site, "build").err  # a build with nothing to do too
    # the owner cannot fix it in the site: --strict leaves it a warning (the one problem
    # --strict finds in this site is a product without a photo, left out of the merchant feed)
    strict = run_cli("--root", site, "build", "--strict")
    assert strict.err.endswith("build failed: 1 problem; nothing was written\n")
    assert "robots.txt" not in strict.err


def test_listings_written_as_files_have_their_later_pages_in_a_folder(copy_site, run_cli) -> None:
    site = copy_site("basic")
    config = site / "storefront.yaml"
    text = config.read_text(encoding="utf-8").replace("url: /blog/}", "url: /blog.html}")
    config.write_text(text + "permalinks: {blog: /blog.html, tag: '/tag/{slug}.html'}\n",
                      encoding="utf-8")
    post = site / "content/posts/p00001-dolci-di-natale.md"  # a third post tagged pane
    post.write_text(post.read_text(encoding="utf-8").replace("[dolci, natale]", "[dolci, natale, pane]"),
                    encoding="utf-8")
    output = build(run_cli, site)
    # page 2 beside the listing's feeds (/tag/pane/feed.xml), never at /blog.htmlpage/2/
    assert (output / "blog/page/2/index.html").is_file()
    assert (output / "tag/pane/page/2/index.html").is_file()
    assert (output / "tag/pane/feed.xml").is_file()
    assert 'href="/blog/page/2/" rel="next"' in (output / "blog.html").read_text(encoding="utf-8")
    assert 'href="/tag/pane.html" rel="prev"' in (
        output / "tag/pane/page/2/index.html").read_text(encoding="utf-8")
    assert not [path for path in output.rglob("*") if ".html" in path.parent.as_posix()]


def test_environment_has_no_effect_without_source_date_epoch(copy_site, run_cli, monkeypatch,
                                                             tmp_path) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    site = copy_site("basic")
    first = tree_bytes(build(run_cli, site, "--output", tmp_path / "a"))
    second = tree_bytes(build(run_cli, site, "--output", tmp_path / "b"))
    assert first == second
    assert os.environ.get("SOURCE_DATE_EPOCH") is None


def test_output_folder_may_not_overlap_the_site(copy_site, run_cli) -> None:
    site = copy_site("basic")
    before = tree_bytes(site)
    for target in (site, site / "content", site / "content" / "assets", site.parent):
        result = run_cli("--root", site, "build", "--output", target)
        assert result.code == 1
        assert "would overwrite the site's own files" in result.err
    assert tree_bytes(site) == before


def test_output_folder_may_not_overlap_the_build_cache(copy_site, run_cli, tmp_path) -> None:
    # a cache inside what is published publishes every stored page and draft with the site
    site = copy_site("basic")
    for cache, output in (("ci", "ci"), ("public/.cache", "public"), ("ci", "ci/pages")):
        result = run_cli("--root", site, "build", "--cache-dir", tmp_path / cache,
                         "--output", tmp_path / output)
        assert result.code == 1
        assert "and the build cache" in result.err and "inside each other" in result.err
        assert not (tmp_path / cache).exists() and not (tmp_path / output).exists()
    assert run_cli("--root", site, "build", "--cache-dir", tmp_path / "ci",
                   "--output", tmp_path / "public").code == 0


def test_two_files_whose_names_differ_only_in_unicode_form_are_an_error(copy_site, run_cli) -> None:
    # "caffè" written as a Mac writes it (e + combining accent) and as one code point: both are
    # content/posts/caffè.md to the builder, and one post silently replaced the other
    site = copy_site("basic")
    posts = site / "content" / "posts"
    (posts / "caffe\u0300.md").write_text("---\ntitle: Caffè\ndate: 2024-03-01\n---\n\nUno.\n",
                                           encoding="utf-8")
    assert run_cli("--root", site, "build").code == 0
    (posts / "caff\u00e8.md").write_text("---\ntitle: Caffè 2\ndate: 2024-03-02\n---\n\nDue.\n",
                                          encoding="utf-8")
    before = tree_bytes(site / "output")
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert "content/posts/caffè.md: two files have this name" in unicodedata.normalize(
        "NFC", result.err)
    assert tree_bytes(site / "output") == before


def test_symlinks_in_content_are_refused_not_followed(copy_site, run_cli, tmp_path) -> None:
    site = copy_site("basic")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("private", encoding="utf-8")
    (site / "content" / "assets" / "linked").symlink_to(secret)
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert result.err.startswith("content/assets/linked: this is a symbolic link; content must be "
                                 "real files\n")
    assert not (site / "output").exists()


def test_symlinks_in_a_theme_are_refused_not_published(copy_site, run_cli, tmp_path) -> None:
    """A theme's static files are published as they are: a link in a theme copied from
    elsewhere must not publish a file of the machine."""
    site = copy_site("basic")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "id_ed25519").write_text("private", encoding="utf-8")
    theme = site / "themes" / "linked"
    (theme / "static").mkdir(parents=True)
    (theme / "theme.yaml").write_text("name: linked\nextends: default\n", encoding="utf-8")
    (theme / "static" / "key.txt").symlink_to(secret / "id_ed25519")
    (theme / "static" / "keys").symlink_to(secret)
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: linked\n", encoding="utf-8")
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert result.err.startswith(
        "themes/linked/static/key.txt: this is a symbolic link; theme files must be real files\n"
        "  hint: copy the file into the theme instead of linking to it\n"
        "themes/linked/static/keys: this is a symbolic link;")
    assert not (site / "output").exists()


def test_links_to_drafts_and_relative_links_are_explained(copy_site, run_cli) -> None:
    site = copy_site("basic")
    post = site / "content" / "posts" / "2024-06-10-focaccia.md"
    post.write_text(post.read_text(encoding="utf-8")
                    + "\n[bozza](/blog/2024/07/bozza/) e ![pane](assets/pane.svg)\n",
                    encoding="utf-8")
    result = run_cli("--root", site, "build")
    assert result.code == 1
    assert result.err.splitlines()[:4] == [
        "content/posts/2024-06-10-focaccia.md:15: the link /blog/2024/07/bozza/ leads to a page "
        "that is a draft (draft: true)",
        "  hint: publish that page first, or remove the link for now",
        "content/posts/2024-06-10-focaccia.md:15: the link assets/pane.svg is relative, so it "
        "breaks on pages at other depths",
        "  hint: write it from the site root, like /assets/pane.svg",
    ]


def test_a_draft_with_a_missing_image_does_not_block_the_public_build(copy_site, run_cli,
                                                                      tmp_path) -> None:
    site = copy_site("basic")
    draft = site / "content" / "posts" / "2024-07-01-bozza.md"
    draft.write_text(draft.read_text(encoding="utf-8") + "\n![forno](/assets/forno.jpg)\n",
                     encoding="utf-8")
    assert run_cli("--root", site, "build").code == 0
    with_drafts = run_cli("--root", site, "build", "--drafts", "--output", tmp_path / "preview")
    assert with_drafts.code == 1
    assert with_drafts.err.startswith("content/posts/2024-07-01-bozza.md:8: the image "
                                      "/assets/forno.jpg does not exist\n")

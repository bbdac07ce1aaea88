"""The shop's channels on the build engine: each feed and redirect file is made again exactly when
what it shows changed, and the clock's part in the merchant feed is never forgotten.

(tests/test_incremental.py checks that incremental builds equal clean ones after random edits;
these say that the work done is the work needed.)
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from PIL import Image

from storefront.build import BuildRequest, build_site
from storefront.request import BuildReport

NOV_18 = 1795000000  # 2026-11-18 15:26 in Rome: the panettone's sale (to 2099) runs, preorder
PANETTONE = "content/products/panettone.md"
FOCACCIA = "content/posts/2024-06-10-focaccia.md"
FEEDS = {"feed.xml", "atom.xml", "feed.json"}


def build(site: Path, monkeypatch: pytest.MonkeyPatch, epoch: int = NOV_18) -> BuildReport:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    return build_site(BuildRequest(root=site, output=site / "output", jobs=1))


def edit(site: Path, path: str, old: str, new: str) -> None:
    file = site / path
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_product_edit_remakes_the_products_feeds_and_the_merchant_feed_only(
        copy_site, monkeypatch) -> None:
    site = copy_site("basic")
    build(site, monkeypatch)
    edit(site, PANETTONE, "Lievitato per tre giorni.", "Lievitato per quattro giorni.")
    changed = set(build(site, monkeypatch).changed)
    assert changed == {"prodotti/panettone/index.html", "prodotti/feed.xml", "prodotti/atom.xml",
                       "merchant.xml"}


def test_a_post_edit_remakes_the_feeds_that_list_it_and_no_other(copy_site, monkeypatch) -> None:
    site = copy_site("basic")
    build(site, monkeypatch)
    post = site / FOCACCIA
    post.write_text(post.read_text("utf-8") + "\nUna riga in più.\n", encoding="utf-8")
    changed = set(build(site, monkeypatch).changed)
    # the blog's feeds and those of its one tag; not the products', the merchant's, other tags'
    assert changed == {"blog/2024/06/focaccia/index.html", *FEEDS, "tag/pane/feed.xml",
                       "tag/pane/atom.xml"}


def test_a_product_tag_reaches_the_tag_pages_but_no_feed(copy_site, monkeypatch) -> None:
    site = copy_site("basic")
    build(site, monkeypatch)
    edit(site, PANETTONE, "tags: [natale, dolci]", "tags: [natale, dolci, pane]")
    report = build(site, monkeypatch)
    changed = set(report.changed)
    # the tag pages list products; the tags' feeds list posts only, the merchant feed no tags
    assert {"tag/pane/index.html", "tag/index.html", "prodotti/panettone/index.html",
            "prodotti/feed.xml", "prodotti/atom.xml"} <= changed
    assert not changed & {"tag/pane/feed.xml", "tag/pane/atom.xml", "merchant.xml", *FEEDS}
    assert "Panettone artigianale" in (site / "output/tag/pane/index.html").read_text("utf-8")


def test_an_alias_edit_rewrites_the_redirects_and_nothing_else(
        copy_site, monkeypatch) -> None:
    site = copy_site("basic")
    build(site, monkeypatch)
    edit(site, FOCACCIA, "aliases: [/blog/focaccia-del-mattino/, /focaccia]",
         "aliases: [/blog/focaccia-del-mattino/, /focaccia-calda/]")
    report = build(site, monkeypatch)
    # the old redirect page goes, the new one comes; the feeds are made again (they show the
    # first alias, as the entries' id) but come out the same; no page shows aliases
    assert set(report.changed) == {"_redirects", "nginx-redirects.conf", "focaccia/index.html",
                                   "focaccia-calda/index.html"}
    assert report.rendered == 2  # the new redirect page, and the post's (it reads it in full)
    assert not (site / "output/focaccia/index.html").exists()
    edit(site, FOCACCIA, "aliases: [/blog/focaccia-del-mattino/,", "aliases: [/blog/focaccia/,")
    changed = set(build(site, monkeypatch).changed)
    assert {"feed.xml", "tag/pane/atom.xml", "blog/focaccia/index.html"} <= changed
    assert "https://forno.example/blog/focaccia/</guid>" in (
        site / "output/feed.xml").read_text("utf-8")


def test_the_merchant_feed_is_made_again_on_a_new_day_while_a_sale_runs(
        copy_site, monkeypatch) -> None:
    site = copy_site("basic")
    build(site, monkeypatch)
    same_day = build(site, monkeypatch, NOV_18 + 3600)
    assert (same_day.parsed, same_day.rendered, same_day.changed) == (0, 0, ())
    next_day = build(site, monkeypatch, NOV_18 + 86400)
    assert next_day.changed == ("merchant.xml",) and next_day.rendered == 0
    feed = (site / "output/merchant.xml").read_text("utf-8")
    assert "<g:sale_price_effective_date>2026-11-19T00:00+0100/" in feed


def test_a_preorder_date_passing_brings_its_warning_without_any_file_changing(
        copy_site, monkeypatch) -> None:
    site = copy_site("basic")
    edit(site, PANETTONE, "sale_until: 2099-01-06\n", "")  # no end: no sale dates in the feed

    def warned(report: BuildReport) -> list[str]:
        return [w.message for w in report.warnings if w.location.path == PANETTONE]

    assert warned(build(site, monkeypatch)) == []
    after = build(site, monkeypatch, NOV_18 + 30 * 86400)  # 2026-12-18: the panettone ships 12-10
    assert after.changed == () and after.parsed == 0
    assert warned(after) == [
        "the availability_date 2026-12-10 has passed, but the product is still a preorder"]


def test_feeds_show_the_photos_in_a_text_as_their_plain_copies(copy_site, monkeypatch) -> None:
    site = copy_site("basic")
    Image.new("RGB", (40, 30), (200, 120, 40)).save(site / "content/assets/forno.tiff")
    edit(site, FOCACCIA, "Leggi [chi siamo]", "![Il forno](/assets/forno.tiff)\n\nLeggi [chi siamo]")
    build(site, monkeypatch)
    output = site / "output"
    page = (output / "blog/2024/06/focaccia/index.html").read_text("utf-8")
    copy = re.search(r'<img src="(/assets/forno-40w\.[0-9a-f]+\.jpg)"', page)
    assert copy is not None  # what the page shows, besides AVIF and WebP: no reader shows a TIFF
    for feed in ("feed.xml", "atom.xml", "feed.json", "tag/pane/feed.xml"):
        text = (output / feed).read_text("utf-8").replace("\\", "")
        assert f'src="https://forno.example{copy.group(1)}"' in html.unescape(text), feed
        assert "forno.tiff" not in text, feed
    # another photo under the same name: the feeds show its new copy
    Image.new("RGB", (40, 30), (20, 120, 240)).save(site / "content/assets/forno.tiff")
    changed = set(build(site, monkeypatch).changed)
    assert {"feed.xml", "atom.xml", "feed.json", "tag/pane/feed.xml"} <= changed
    page = (output / "blog/2024/06/focaccia/index.html").read_text("utf-8")
    copy = re.search(r'<img src="(/assets/forno-40w\.[0-9a-f]+\.jpg)"', page)
    assert copy is not None
    assert f'src="https://forno.example{copy.group(1)}"' in (output / "feed.json").read_text(
        "utf-8").replace("\\", "")

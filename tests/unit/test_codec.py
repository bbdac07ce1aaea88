"""storefront.codec: every document field survives the build cache's JSON, exactly.

Each kind of document is read from a file that sets every front-matter key, so every field of
the model holds something other than its default (checked, so a field added later without a
value here fails the test); it must come back equal from plain JSON and from the cache's own
stored form (a second parse served by the SQLite cache).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from storefront.cache import BuildCache
from storefront.codec import CodecError, decode, encode
from storefront.config import SiteConfig, parse_config
from storefront.documents import DOCUMENT_TYPES, Document, Product
from storefront.fingerprints import code_fingerprint
from storefront.parsing import parse_sources
from storefront.reader import ReaderSettings
from storefront.sources import Kind, SourceFile
from storefront.workers import WorkerPool
from support import SITES, read_text

CONFIG = parse_config(
    "title: Forno\nbase_url: https://example.com/\ncurrency: EUR\nauthor: Anna\n"
    "shipping:\n  handling_days: 1\n  zones: [{countries: [IT], price: 5, transit_days: 1-2}]\n"
    "forms:\n  contact:\n    fields: [{name: email, type: email}]\n")

FILES: dict[Kind, tuple[str, str]] = {
    "posts": ("2024-05-01-pane.md", (
        "---\ntitle: Pane\ndate: 2024-05-01 07:30\nupdated: 2024-05-02T10:00:00+02:00\n"
        "summary: Il pane.\ntags: [pane, Grani antichi]\nauthor: Bea\nimage: /assets/p.jpg\n"
        "image_alt: Una pagnotta\ndraft: true\nslug: pane-nuovo\nexpires: 2030-01-01\n"
        "description: Tutto sul pane.\nnoindex: true\nimage_focus: top left\n"
        "aliases:\n  - /blog/pane-vecchio/\n  - /pane.html\n---\n"
        "Il *nostro* pane, [chi siamo](/chi-siamo/).\n\n<!--more-->\n\nAltro [](/x/).\n")),
    "products": ("vaso.md", (
        "---\ntitle: Vaso\nprice: 40.50\ncurrency: USD\nsku: V-1\navailability: preorder\n"
        "images: [/assets/v.jpg, /assets/w.jpg]\nimage_alt: Un vaso\nsale_price: 30\n"
        "sale_until: 2030-12-24\ncategory: Vasi\ntags: [blu]\norder: 3\nsummary: Blu.\n"
        "draft: true\nslug: vaso-blu\nfeatured: true\npinned: true\nbrand: Aurora\ngtin: 4006381333931\n"
        "mpn: AUR-7\ncondition: used\ndate: 2024-05-01\nupdated: 2024-06-01 10:00\n"
        "availability_date: 2030-12-01\nnoindex: true\naliases: [/vaso/]\nimage_focus: 30% 70%\n---\n"
        "Un vaso [blu](/blu/) [](/x/).\n")),
    "faq": ("spedite.md", (
        "---\nquestion: Spedite?\ngroup: Ordini\norder: 2\ndraft: true\n"
        "aliases: [/spedizioni-faq/]\n---\nSì, [ovunque](/spedizioni/) [](/x/).\n")),
    "pages": ("chi-siamo.md", (
        "---\ntitle: Chi siamo\nslug: noi\nmenu: 2\ntemplate: about.html\ndraft: true\n"
        "description: Il forno.\nform: contact\nimage: /assets/f.jpg\nnoindex: false\n"
        "aliases: [/about/]\npolicies: true\nimage_focus: center\n---\nDal 1950, [blog](/blog/) [](/x/).\n")),
    "newsletter": ("2024-03-01-marzo.md", (
        "---\ntitle: Marzo\ndate: 2024-03-01\nsubject: Novità di marzo\nsummary: Il forno.\n"
        "image: /assets/m.jpg\nimage_alt: Il forno\nslug: marzo-2024\nsent: 2024-03-02 09:00\n"
        "draft: true\nnoindex: true\naliases: [/lettera/marzo/]\n---\n"
        "Ciao, [il blog](/blog/) [](/x/).\n")),
}
MODEL_SET = {"on_sale": True, "sale_note": True, "scheduled": True}  # what the site model decides


def documents() -> list[Document]:
    found = []
    for kind, (name, text) in FILES.items():
        document = read_text(kind, name, text, CONFIG)
        model_fields = {f.name: MODEL_SET[f.name] for f in dataclasses.fields(document)
                        if f.name in MODEL_SET}
        found.append(dataclasses.replace(document, **model_fields))
    return found


@pytest.mark.parametrize("document", documents(), ids=lambda d: type(d).__name__)
def test_every_field_of_a_document_round_trips_through_json(document: Document) -> None:
    unset = [f.name for f in dataclasses.fields(document)
             if f.default is not dataclasses.MISSING and getattr(document, f.name) == f.default]
    assert unset == [], "give these fields a value in FILES, so the round trip tests them"
    data = json.loads(json.dumps(encode(document)))
    again = decode(type(document), data)
    assert again == document
    # equal is not enough: the types must come back too (tuples, Markup, zones, Decimal)
    for field in dataclasses.fields(document):
        before, after = getattr(document, field.name), getattr(again, field.name)
        assert type(after) is type(before), field.name
        assert repr(after) == repr(before), field.name


def test_the_kinds_cover_every_document_type() -> None:
    assert {type(d) for d in documents()} == set(DOCUMENT_TYPES)


def test_a_wrong_literal_or_a_missing_field_does_not_decode() -> None:
    product = next(d for d in documents() if isinstance(d, Product))
    data = encode(product)
    with pytest.raises(CodecError):
        decode(Product, {**data, "condition": "nuovo"})
    with pytest.raises(CodecError):
        decode(Product, {k: v for k, v in data.items() if k != "aliases"})


def test_documents_served_by_the_cache_equal_freshly_parsed_ones(tmp_path: Path) -> None:
    sources = []
    for kind, (name, text) in FILES.items():
        data = text.encode("utf-8")
        sources.append(SourceFile(kind, f"content/{kind}/{name}", data, f"sha-{kind}"))
    settings = ReaderSettings.of(CONFIG)
    pool = WorkerPool(1)
    cache = BuildCache(tmp_path / "cache", code_fingerprint())
    try:
        fresh = parse_sources(sources, settings, cache, {}, pool)
        cached = parse_sources(sources, settings, cache, {}, pool)  # nothing in memory
    finally:
        cache.close()
        pool.close()
    assert fresh.errors == [] and fresh.parsed == len(FILES)
    assert cached.parsed == 0
    assert cached.documents == fresh.documents and cached.hashes == fresh.hashes


def test_the_shop_fronts_config_round_trips_with_its_closure_days() -> None:
    config = parse_config((SITES / "shop-en" / "storefront.yaml").read_text("utf-8"))
    assert config.business.closures and isinstance(config.business.closures[0].start, date)
    assert encode(config.business.closures[0])["start"] == {
        "$date": config.business.closures[0].start.isoformat()}
    assert decode(SiteConfig, json.loads(json.dumps(encode(config)))) == config
    with pytest.raises(CodecError):
        decode(SiteConfig, {**encode(config), "business": {
            **encode(config.business), "closures": [{"start": {"$date": "2026-02-30"},
                                                     "until": {"$date": "2026-03-01"}, "note": ""}]}})


def test_pairs_of_plain_values_decode_only_with_their_exact_types() -> None:
    """(text, line) pairs are checked in place: a boolean is not a line, a number is not text."""
    from storefront.documents import Lines

    assert decode(Lines, [["title", 2], ["date", 3]]) == (("title", 2), ("date", 3))
    for wrong in ([["title", True]], [["title", "2"]], [[2, 2]], [["title"]], [["title", 2, 3]],
                  [("title", 2)], ["title"]):
        with pytest.raises(CodecError):
            decode(Lines, wrong)


@pytest.mark.parametrize("written, shown", [
    ("2024-03-31 02:30", "2024-03-31T03:30:00+02:00"),  # the hour the clocks skip in Rome
    ("2024-10-27 02:30", "2024-10-27T02:30:00+02:00"),  # the hour they run twice: the first
    ("2024-05-01 07:30", "2024-05-01T07:30:00+02:00"),
])
def test_a_time_of_the_change_to_summer_time_reads_the_same_from_the_cache(
        tmp_path: Path, written: str, shown: str) -> None:
    """Datetimes compare by instant, so 02:30+01:00 (a time that does not exist in Rome) equals
    03:30+02:00: a post dated in the skipped hour was kept as written, came back from the cache
    as the other, and a build from the cache printed another time than a clean build."""
    config = parse_config("title: Forno\nbase_url: https://example.com/\ntimezone: Europe/Rome\n")
    text = f"---\ntitle: Pane\ndate: {written}\nupdated: {written}\n---\nIl pane.\n"
    sources = [SourceFile("posts", "content/posts/pane.md", text.encode("utf-8"), "sha-pane")]
    settings = ReaderSettings.of(config)
    pool = WorkerPool(1)
    cache = BuildCache(tmp_path / "cache", code_fingerprint())
    try:
        fresh = parse_sources(sources, settings, cache, {}, pool)
        cached = parse_sources(sources, settings, cache, {}, pool)
    finally:
        cache.close()
        pool.close()
    assert cached.parsed == 0
    [before], [after] = fresh.documents, cached.documents
    for document in (before, after):
        assert document.date.isoformat() == shown
        assert document.updated is not None and document.updated.isoformat() == shown

"""storefront.codec and the cached form of parsed documents: what is stored comes back equal."""

from __future__ import annotations

from datetime import date

import pytest

from storefront.codec import CodecError, decode, encode
from storefront.config import SiteConfig, parse_config
from storefront.documents import Document, Post, Product
from storefront.parsing import _decode, _encode
from storefront.reader import ReaderSettings, read_document
from storefront.sources import SourceFile, discover_sources, with_data
from support import SITES

SETTINGS = ReaderSettings.of(parse_config((SITES / "basic" / "storefront.yaml").read_text("utf-8")))
DOCUMENTS: list[Document] = [read_document(with_data(source), SETTINGS)
                             for source in discover_sources(SITES / "basic") if source.kind != "assets"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.source)
def test_every_document_of_the_fixture_site_round_trips(document: Document) -> None:
    restored = _decode(_encode("key", document, ("card", "full")))
    assert restored == (document, ("card", "full"))
    assert restored is not None
    assert all(type(getattr(restored[0], name)) is type(getattr(document, name))
               for name in ("content_html", "summary_html", "date") if hasattr(document, name))


def test_a_payload_of_the_wrong_shape_is_refused() -> None:
    post = next(d for d in DOCUMENTS if isinstance(d, Post))
    data = encode(post)
    with pytest.raises(CodecError):
        decode(Post, {**data, "title": 3})
    with pytest.raises(CodecError):
        decode(Post, {key: value for key, value in data.items() if key != "date"})
    with pytest.raises(CodecError):
        decode(Post, {**data, "date": {"$dt": "2024-13-45T00:00:00", "tz": "Europe/Rome"}})


def test_the_shop_fronts_config_round_trips_with_its_closure_days() -> None:
    config = parse_config((SITES / "shop-en" / "storefront.yaml").read_text("utf-8"))
    assert config.business.closures and isinstance(config.business.closures[0].start, date)
    assert encode(config.business.closures[0])["start"] == {
        "$date": config.business.closures[0].start.isoformat()}
    assert decode(SiteConfig, encode(config)) == config
    with pytest.raises(CodecError):
        decode(SiteConfig, {**encode(config), "business": {
            **encode(config.business), "closures": [{"start": {"$date": "2026-02-30"},
                                                     "until": {"$date": "2026-03-01"}, "note": ""}]}})


def test_a_pinned_product_round_trips() -> None:
    data = b"---\ntitle: Vaso\nprice: 10\npinned: true\navailability: out_of_stock\n---\nTesto.\n"
    source = SourceFile("products", "content/products/vaso.md", data, "0" * 64)
    product = read_document(source, SETTINGS)
    assert isinstance(product, Product) and product.pinned and not product.available
    assert _decode(_encode("key", product, ("card", "full"))) == (product, ("card", "full"))

"""storefront.codec and the cached form of parsed documents: what is stored comes back equal."""

from __future__ import annotations

import pytest

from storefront.codec import CodecError, decode, encode
from storefront.config import parse_config
from storefront.documents import Document, Post
from storefront.parsing import _decode, _encode
from storefront.reader import ReaderSettings, read_document
from storefront.sources import discover_sources, with_data
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

"""storefront.checks.check_repeats: a barcode or an FAQ question that two published documents
share, and the repeats that are not one (a draft copy, one question under two headings)."""

from __future__ import annotations

from storefront.checks import check_repeats
from storefront.config import parse_config
from storefront.documents import Document
from support import read_text

CONFIG = parse_config("title: Bottega\nbase_url: https://example.com/\n")


def doc(kind: str, name: str, front: str) -> Document:
    return read_text(kind, name, f"---\n{front}\n---\n\nTesto.\n", CONFIG)  # type: ignore[arg-type]


def messages(documents: list[Document]) -> list[str]:
    return [error.format() for error in check_repeats(documents)]


def test_one_question_in_one_group_is_refused_at_both_files() -> None:
    found = messages([doc("faq", "a.md", "question: Quanto costa?\ngroup: Spedizioni"),
                      doc("faq", "b.md", "question: quanto  COSTA?\ngroup: spedizioni")])
    assert [line.splitlines()[0] for line in found] == [
        'content/faq/b.md:2: the question "quanto  COSTA?" is also asked in content/faq/a.md',
        'content/faq/a.md:2: the question "Quanto costa?" is also asked in content/faq/b.md']


def test_one_question_under_two_headings_is_two_answers() -> None:
    # the FAQ page shows each group under its heading: the reader tells the two apart
    assert messages([doc("faq", "a.md", "question: Quanto costa?\ngroup: Spedizioni in Italia"),
                     doc("faq", "b.md", "question: Quanto costa?\ngroup: Spedizioni all'estero"),
                     doc("faq", "c.md", "question: Quanto costa?")]) == []


def test_a_draft_copy_does_not_count() -> None:
    # built with --drafts (the preview's default), the copy is published in the model
    product = "title: Vaso\nprice: 30\ngtin: 4006381333931"
    assert messages([doc("products", "vaso.md", product),
                     doc("products", "vaso-nuovo.md", product + "\ndraft: true"),
                     doc("faq", "a.md", "question: Spedite?"),
                     doc("faq", "b.md", "question: Spedite?\ndraft: true")]) == []
    assert len(messages([doc("products", "vaso.md", product),
                         doc("products", "vaso-nuovo.md", product)])) == 2

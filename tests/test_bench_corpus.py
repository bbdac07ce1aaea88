"""The engine benchmark's corpus (bench/corpus.py): deterministic, and a site storefront builds."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from support import REPO, tree_bytes


@pytest.fixture
def corpus(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/corpus.py, imported as the benchmark runs it (bench/ on sys.path)."""
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    return importlib.import_module("corpus")


def test_same_seed_gives_a_byte_identical_corpus(corpus: ModuleType, tmp_path: Path) -> None:
    for name, seed in (("first", 7), ("second", 7), ("other", 8)):
        corpus.write_storefront_site(corpus.make_corpus(12, 4, seed), tmp_path / name)
    first = tree_bytes(tmp_path / "first")
    assert len([name for name in first if name.startswith("content/posts/")]) == 12
    assert first == tree_bytes(tmp_path / "second")
    assert first != tree_bytes(tmp_path / "other")


def test_the_corpus_builds_with_every_post_and_product_page(corpus: ModuleType, run_cli,
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Its links to posts, products and images pass the link checker; ~870 words a post."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", corpus.SOURCE_DATE_EPOCH)
    generated = corpus.make_corpus(20, 6)
    corpus.write_storefront_site(generated, tmp_path / "site")
    result = run_cli("--root", tmp_path / "site", "--debug", "build", "--strict",
                     "--output", tmp_path / "out")
    assert result.code == 0, result.err
    for document in (*generated.posts, *generated.products):
        assert (tmp_path / "out" / document.url.lstrip("/") / "index.html").is_file()
    words = [len(post.body.split()) for post in generated.posts]
    assert 800 <= sum(words) / len(words) <= 940

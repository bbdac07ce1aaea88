"""A deterministic benchmark corpus: N blog posts and M products, as a storefront site.

Run on its own to look at (or keep) a corpus; :mod:`engine` uses it to build the sites it times:

    .venv/bin/python bench/corpus.py DIR [--posts 1000] [--products 300] [--seed 2025]

writes ``DIR/storefront`` (the repository's storefront.yaml and bottega theme, the example shop's
pages, FAQ and assets, plus the generated posts and products) and ``DIR/hugo`` (the same posts
and products as a Hugo site, see :mod:`hugo_site`), and prints a digest of each tree.

Each post has about 870 words (a first paragraph, ``<!--more-->`` in most posts, 2-3 ``##``
sections, a bullet list, a numbered list, a blockquote, emphasis, "straight quotes" and
apostrophes, links to other posts and to products by their site paths, sometimes an external
link), 2-4 of 30 tags, a date between 2021 and 2024 and, for a quarter of them, a cover image.
Products have a price, a SKU, one of 5 categories and, for two thirds, an image: tiny PNGs
generated here. The same seed gives a byte-identical corpus (only ``random.Random(seed)``, no
clock, no hash order).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import corpus_text as text

from storefront.markdown import slugify

REPO = Path(__file__).resolve().parents[1]
SEED = 2025
WORDS_PER_POST = 870
ROME = ZoneInfo("Europe/Rome")
FIRST_DATE = datetime(2021, 1, 1, 9, 0, tzinfo=ROME)
DATE_SPAN = timedelta(days=4 * 365)
# "now" for every build of the corpus (SOURCE_DATE_EPOCH): 2025-06-01, after the last post
SOURCE_DATE_EPOCH = "1748736000"
POST_COVERS = 12
# FAQ answers of the example shop that link to its own posts or products, which are left out
_EXAMPLE_LINK = re.compile(r"\]\(/(?:blog|prodotti)/[^)]")


@dataclass(frozen=True)
class Post:
    number: int
    title: str
    slug: str
    date: datetime
    tags: tuple[str, ...]
    image: str  # a site path, or "" for none
    body: str

    @property
    def url(self) -> str:
        return f"/blog/{self.date:%Y}/{self.date:%m}/{self.slug}/"

    @property
    def file_name(self) -> str:
        return f"{self.date:%Y-%m-%d}-{self.slug}.md"


@dataclass(frozen=True)
class Product:
    number: int
    title: str
    slug: str
    price: Decimal
    sku: str
    category: str
    image: str  # a site path, or "" for none
    body: str

    @property
    def url(self) -> str:
        return f"/prodotti/{self.slug}/"


@dataclass(frozen=True)
class Corpus:
    seed: int
    posts: tuple[Post, ...]
    products: tuple[Product, ...]
    images: tuple[tuple[str, bytes], ...]  # (site path, PNG bytes)


class _Writer:
    """Fills the templates of :mod:`corpus_text` with one seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def fill(self, template: str) -> str:
        rng = self.rng
        filled = template.format(obj=rng.choice(text.OBJECTS), color=rng.choice(text.COLORS),
                                 place=rng.choice(text.PLACES), person=rng.choice(text.PEOPLE),
                                 season=rng.choice(text.SEASONS), n=rng.randrange(3, 40))
        return filled[0].upper() + filled[1:]

    def paragraph(self, low: int = 3, high: int = 6) -> str:
        chosen = self.rng.sample(text.SENTENCES, self.rng.randint(low, high))
        return " ".join(self.fill(sentence) for sentence in chosen)

    def bullets(self, template: list[str], numbered: bool) -> str:
        count = self.rng.randint(3, 5)
        if numbered:
            start = self.rng.randrange(len(template) - count + 1)
            return "\n".join(f"{k}. {step}" for k, step in
                             enumerate(template[start:start + count], 1))
        return "\n".join(f"- {self.fill(item)}" for item in self.rng.sample(template, count))


def make_corpus(posts: int, products: int, seed: int = SEED) -> Corpus:
    """The posts and products for ``seed``: the same arguments give the same corpus."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    made_products = tuple(_product(writer, number) for number in range(1, products + 1))
    heads = [_post_head(writer, number, posts) for number in range(1, posts + 1)]
    made_posts = tuple(
        Post(number, title, slug, date, tags, image,
             _post_body(writer, number, heads, made_products))
        for number, (title, slug, date, tags, image) in enumerate(heads, 1))
    images = [(f"/assets/bench/blog/copertina-{k:02d}.png", _tiny_png(rng)) for k in
              range(POST_COVERS)]
    images += [(product.image, _tiny_png(rng)) for product in made_products if product.image]
    return Corpus(seed, made_posts, made_products, tuple(images))


_PostHead = tuple[str, str, datetime, tuple[str, ...], str]


def _post_head(writer: _Writer, number: int, total: int) -> _PostHead:
    rng = writer.rng
    title = writer.fill(rng.choice(text.TITLES))
    slug = f"{slugify(title)}-{number}"
    offset = DATE_SPAN * (number - 1) / max(total, 1)
    date = (FIRST_DATE + offset).replace(hour=rng.randint(8, 19), minute=rng.choice([0, 15, 30, 45]),
                                         second=0, microsecond=0)
    tags = tuple(sorted(rng.sample(text.TAGS, rng.randint(2, 4))))
    image = f"/assets/bench/blog/copertina-{rng.randrange(POST_COVERS):02d}.png" if (
        rng.random() < 0.25) else ""
    return title, slug, date, tags, image


def _post_body(writer: _Writer, number: int, heads: list[_PostHead],
               products: tuple[Product, ...]) -> str:
    rng = writer.rng
    target = rng.randint(WORDS_PER_POST - 60, WORDS_PER_POST + 60)
    parts = [writer.paragraph(3, 4)]
    if rng.random() < 0.85:
        parts.append("<!--more-->")
    parts.append(writer.paragraph())
    for section, heading in enumerate(rng.sample(text.HEADINGS, rng.choice([2, 3]))):
        parts.append("## " + writer.fill(heading))
        parts.append(writer.paragraph())
        if section == 0:
            parts.append(writer.bullets(text.BULLETS, numbered=False))
        elif section == 1:
            parts.append("> " + writer.fill(rng.choice(text.QUOTES)))
            parts.append(writer.paragraph(2, 3))
            parts.append(writer.bullets(text.STEPS, numbered=True))
    closing = _links(writer, number, heads, products)
    while _words(parts) + len(closing.split()) + 35 < target:  # 35: half a paragraph
        parts.append(writer.paragraph())
    parts.append(closing)
    return "\n\n".join(parts) + "\n"


def _links(writer: _Writer, number: int, heads: list[_PostHead],
           products: tuple[Product, ...]) -> str:
    rng = writer.rng
    sentences = [writer.paragraph(1, 2)]
    # other posts, never this one: indices into heads without position number - 1
    picks = rng.sample(range(len(heads) - 1), min(len(heads) - 1, rng.randint(1, 2)))
    for pick in picks:
        title, slug, date, _tags, _image = heads[pick + (pick >= number - 1)]
        url = f"/blog/{date:%Y}/{date:%m}/{slug}/"
        sentences.append(rng.choice(text.POST_LINKS).format(title=title, url=url))
    if products and rng.random() < 0.6:
        product = rng.choice(products)
        sentences.append(rng.choice(text.PRODUCT_LINKS).format(title=product.title,
                                                               url=product.url))
    if rng.random() < 0.3:
        sentences.append(rng.choice(text.EXTERNAL_LINKS))
    return " ".join(sentences)


def _words(parts: list[str]) -> int:
    return sum(len(part.split()) for part in parts)


def _product(writer: _Writer, number: int) -> Product:
    rng = writer.rng
    category = rng.choice(sorted(text.CATEGORIES))
    title = f"{rng.choice(text.CATEGORIES[category])} {rng.choice(text.COLORS)}"
    slug = f"{slugify(title)}-{number}"
    price = Decimal(rng.randrange(16, 360)) / 2
    image = f"/assets/bench/prodotti/{slug}.png" if rng.random() < 2 / 3 else ""
    details = [f"- **Materiale**: maiolica, smalto {rng.choice(text.COLORS)}",
               f"- **Misure**: altezza {rng.randrange(5, 40)} cm",
               "- **Lavaggio**: a mano o in lavastoviglie"]
    body = "\n\n".join([writer.paragraph(2, 4), writer.paragraph(2, 3), "## Dettagli",
                        "\n".join(details)]) + "\n"
    return Product(number, title, slug, price, f"BEN-{number:05d}", category, image, body)


def _tiny_png(rng: random.Random) -> bytes:
    """A 16x16 PNG of one random colour (a few dozen bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rng.randrange(256) for _ in range(3)) * 16
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * 16, 9)) + chunk(b"IEND", b""))


def quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def storefront_post(post: Post, body: str | None = None) -> str:
    """The post's source file for storefront (``body`` replaces the generated one)."""
    lines = ["---", f"title: {quoted(post.title)}", f"date: {post.date:%Y-%m-%d %H:%M}",
             f"tags: [{', '.join(post.tags)}]"]
    if post.image:
        lines += [f"image: {post.image}", f"image_alt: {quoted('Copertina: ' + post.title)}"]
    return "\n".join([*lines, "---", "", body if body is not None else post.body])


def storefront_product(product: Product) -> str:
    lines = ["---", f"title: {quoted(product.title)}", f"price: {product.price:.2f}",
             f"sku: {product.sku}", f"category: {product.category}", f"order: {product.number}"]
    if product.image:
        lines += ["images:", f"  - {product.image}", f"image_alt: {quoted(product.title)}"]
    return "\n".join([*lines, "---", "", product.body])


def post_source(site: Path, post: Post) -> Path:
    """Where :func:`write_storefront_site` put ``post``."""
    return site / "content" / "posts" / post.file_name


def write_storefront_site(corpus: Corpus, site: Path) -> None:
    """The corpus as a storefront site in the new folder ``site``."""
    site.mkdir(parents=True)
    shutil.copy(REPO / "storefront.yaml", site / "storefront.yaml")
    shutil.copytree(REPO / "themes", site / "themes")
    content = site / "content"
    for folder in ("pages", "assets"):
        shutil.copytree(REPO / "content" / folder, content / folder)
    (content / "faq").mkdir()
    for answer in sorted((REPO / "content" / "faq").glob("*.md")):
        if not _EXAMPLE_LINK.search(answer.read_text(encoding="utf-8")):
            shutil.copy(answer, content / "faq" / answer.name)
    (content / "posts").mkdir()
    for post in corpus.posts:
        post_source(site, post).write_text(storefront_post(post), encoding="utf-8")
    (content / "products").mkdir()
    for product in corpus.products:
        (content / "products" / f"{product.slug}.md").write_text(storefront_product(product),
                                                                 encoding="utf-8")
    write_images(corpus, content)


def write_images(corpus: Corpus, folder: Path) -> None:
    """The generated images under ``folder`` (``/assets/x.png`` -> ``folder/assets/x.png``)."""
    for site_path, data in corpus.images:
        target = folder / site_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def tree_digest(root: Path) -> str:
    """sha256 over every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def main() -> None:
    from hugo_site import write_hugo_site

    parser = argparse.ArgumentParser(description="Write the benchmark corpus as a storefront "
                                     "site and a Hugo site.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    corpus = make_corpus(args.posts, args.products, args.seed)
    write_storefront_site(corpus, args.directory / "storefront")
    write_hugo_site(corpus, args.directory / "hugo")
    for name in ("storefront", "hugo"):
        print(f"{args.directory / name}: sha256 {tree_digest(args.directory / name)}")


if __name__ == "__main__":
    main()

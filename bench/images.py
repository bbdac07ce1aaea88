"""Benchmark: the image pipeline on 100 generated 4000x3000 phone photos; print the figures.

Run on demand (not part of the test suite):

    .venv/bin/python bench/images.py [--photos 100] [--jobs N]

Makes a shop of 20 products with 5 photos each (JPEGs with detail, an EXIF block with GPS and an
orientation, as phones write them), then prints:

* the cold build (nothing cached: every photo decoded, resized, encoded) and a warm build into an
  empty output folder with the cache kept (what CI with a kept cache does: no image work), and a
  build with nothing changed;
* bytes in (the photos) and bytes out (the copies without metadata at their own URLs, the resized
  copies, the share cards);
* the weight of a product page before (the page plus its five photos as they were published
  before this pipeline: the originals) and after (the page plus what a browser downloads from
  its srcset: a phone 390 px wide at 3x, a desktop at 1280 px 1x, with AVIF, WebP or only JPEG).
"""

from __future__ import annotations

import argparse
import io
import random
import re
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from storefront.build import BuildRequest, build_site

PER_PRODUCT = 5


def photo(seed: int) -> bytes:
    """A 4000x3000 JPEG with texture (noise, shapes, gradients), EXIF orientation and GPS."""
    rng = random.Random(seed)
    small = Image.effect_noise((500, 375), 60).convert("RGB")
    base = Image.new("RGB", (500, 375), tuple(rng.randrange(60, 200) for _ in range(3)))
    image = Image.blend(base, small, 0.35)
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = rng.randrange(500), rng.randrange(375)
        r = rng.randrange(10, 80)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(1)).resize((4000, 3000), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((4000, 3000), 18).convert("RGB")
    image = Image.blend(image, grain, 0.12)
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "Phone"
    exif[0x8825] = {1: "N", 2: (43.0, 44.0, 1.0), 3: "E", 4: (11.0, 1.0, 7.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def make_site(root: Path, photos: int) -> int:
    """The shop; returns the bytes of its photos."""
    root.mkdir(parents=True)
    (root / "storefront.yaml").write_text(
        "title: Bottega\nbase_url: https://bottega.example/\nlanguage: it\n", encoding="utf-8")
    assets = root / "content" / "assets"
    assets.mkdir(parents=True)
    (root / "content" / "products").mkdir()
    total = 0
    for n in range(photos):
        data = photo(n)
        total += len(data)
        (assets / f"foto-{n:03d}.jpg").write_bytes(data)
    for p in range(-(-photos // PER_PRODUCT)):
        names = [f"/assets/foto-{n:03d}.jpg" for n in range(p * PER_PRODUCT,
                                                            min(photos, (p + 1) * PER_PRODUCT))]
        listed = "\n".join(f"  - {name}" for name in names)
        (root / "content" / "products" / f"vaso-{p}.md").write_text(
            f"---\ntitle: Vaso {p}\nprice: 40\nimages:\n{listed}\nimage_alt: Il vaso {p}\n---\n\n"
            "Un vaso fatto a mano.\n", encoding="utf-8")
    return total


def timed(request: BuildRequest) -> tuple[float, int]:
    started = time.perf_counter()
    report = build_site(request)
    return time.perf_counter() - started, report.images


def chosen(srcset: str, needed: int) -> str:
    """The candidate of a srcset a browser takes for ``needed`` device pixels."""
    candidates = sorted((int(w[:-1]), url) for url, w in (c.strip().split() for c in srcset.split(",")))
    return next((url for width, url in candidates if width >= needed), candidates[-1][1])


def displayed_width(sizes: str, viewport: int) -> int:
    """The CSS width a ``sizes`` attribute gives an image in a viewport this wide (min-width
    conditions; lengths in px, rem or vw)."""
    for part in sizes.split(","):
        condition = re.match(r"\s*\(min-width:\s*([\d.]+)(rem|px)\)\s*(.+)", part)
        if condition:
            minimum = float(condition.group(1)) * (16 if condition.group(2) == "rem" else 1)
            if viewport < minimum:
                continue
            part = condition.group(3)
        length = re.match(r"\s*([\d.]+)(vw|rem|px)", part)
        if length:
            value, unit = float(length.group(1)), length.group(2)
            return round(value * viewport / 100 if unit == "vw" else value * (16 if unit == "rem" else 1))
    return viewport


def page_weight(output: Path, page: str, css_width: int, dpr: int, accepts: tuple[str, ...]) -> int:
    """The page's HTML plus the images a browser downloads for it (all of them, once scrolled)."""
    html = (output / page).read_text(encoding="utf-8")
    total = len(html.encode())
    for picture in re.findall(r"<picture>.*?</picture>", html, re.DOTALL):
        sources = dict(re.findall(r'<source type="image/(\w+)" srcset="([^"]+)"', picture))
        fmt = next((f for f in accepts if f in sources), None)
        img = re.search(r'<img [^>]*srcset="([^"]+)"', picture)
        srcset = sources[fmt] if fmt else (img.group(1) if img else "")
        sizes = re.search(r'sizes="([^"]+)"', picture)
        shown = displayed_width(sizes.group(1) if sizes else "100vw", css_width)
        url = chosen(srcset, shown * dpr)
        total += (output / url.lstrip("/")).stat().st_size
    for img in re.findall(r"<img [^>]*>", re.sub(r"<picture>.*?</picture>", "", html, flags=re.DOTALL)):
        src = re.search(r'src="(/[^"]+)"', img)
        if src:
            total += (output / src.group(1).lstrip("/")).stat().st_size
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "site"
        print(f"making {args.photos} photos of 4000x3000 ...", flush=True)
        bytes_in = make_site(root, args.photos)
        cache = Path(folder) / "cache"
        cold, processed = timed(BuildRequest(root=root, output=root / "output", cache_dir=cache,
                                             jobs=args.jobs))
        warm, again = timed(BuildRequest(root=root, output=root / "output-2", cache_dir=cache,
                                         jobs=args.jobs))
        same, _ = timed(BuildRequest(root=root, output=root / "output-2", cache_dir=cache,
                                     jobs=args.jobs))
        output = root / "output-2"
        files = [p for p in (output / "assets").iterdir() if p.is_file()]
        originals = sum(p.stat().st_size for p in files if re.fullmatch(r"foto-\d+\.jpg", p.name))
        copies = sum(p.stat().st_size for p in files if re.search(r"-\d+w\.", p.name))
        cards = sum(p.stat().st_size for p in files if "-card." in p.name)
        mb = 1024 * 1024
        print(f"cold build: {cold:.1f} s ({processed} photos processed, "
              f"{cold / max(1, processed):.2f} s per photo on the machine's cores)")
        print(f"warm build, empty output, kept cache: {warm:.2f} s ({again} photos processed)")
        print(f"build with nothing changed: {same:.2f} s")
        print(f"bytes in: {bytes_in / mb:.1f} MiB in {args.photos} photos")
        print(f"bytes out: {(originals + copies + cards) / mb:.1f} MiB = originals without metadata "
              f"{originals / mb:.1f} MiB + resized copies {copies / mb:.1f} MiB + share cards "
              f"{cards / mb:.1f} MiB ({len(files)} files)")
        page = "prodotti/vaso-0/index.html"
        html = len((output / page).read_bytes())
        before = html + sum((root / "content/assets" / f"foto-{n:03d}.jpg").stat().st_size
                            for n in range(PER_PRODUCT))
        print(f"product page before (HTML + its {PER_PRODUCT} photos as taken): {before / 1024:.0f} KiB")
        for label, width, dpr in (("phone 390 px @3x", 390, 3), ("desktop 1280 px @1x", 1280, 1)):
            for accepts, name in ((("avif", "webp"), "AVIF"), (("webp",), "WebP"), ((), "JPEG")):
                after = page_weight(output, page, width, dpr, accepts)
                print(f"product page after, {label}, {name}: {after / 1024:.0f} KiB "
                      f"({before / after:.0f}x lighter)")
        stored = sum(p.stat().st_size for p in (cache / "images").rglob("*") if p.is_file())
        print(f"processed images in the cache folder: {stored / mb:.1f} MiB")


if __name__ == "__main__":
    main()

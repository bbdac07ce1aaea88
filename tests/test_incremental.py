"""Incremental builds equal clean builds, whatever the owner changes and in whatever order.

A property test applies random sequences of edits, additions, deletions and renames of posts,
products, FAQs, pages (their text too), templates, theme strings, the child theme's static files
(its stylesheet, bundled with the default one; an image it links with url(); a favicon replacing
the default's), the config (its title, page size, base URL, language, locale, time zone and
currency; holiday closures too) and the build time (crossing the days a closure's notice appears,
starts and ends) to a fixture site, and of what the shop's channels read: product
tags (tag pages), brands and GTINs and dates (the products and merchant feeds), aliases (redirect
pages, ``_redirects``, the nginx map, feed ids; colliding ones too), ``noindex`` (robots meta,
sitemap), which page shows the shipping and returns policies (the products' structured data link to
it), and photos (replaced, added, deleted, with or without the pages that show them; named by a
template too).
After every step it builds three ways and compares the outputs byte for byte:

* ``live``: one long-lived :class:`BuildSession` reused for every step (what the preview does);
* ``cached``: a new session each step, sharing the persistent cache (CI with a kept cache);
* ``clean``: ``--no-cache`` into an empty folder.

A step that makes the site invalid must fail the same way in all three, leave the live output as
it was, and not poison the cache for the steps after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storefront.build import BuildRequest, BuildSession, build_site
from storefront.errors import BuildFailed
from storefront.output import MANIFEST
from storefront.site import BuildOptions
from support import SITES, tree_bytes

PHOTO_COLOURS = [(200, 40, 40), (40, 160, 60), (30, 60, 200), (220, 200, 40)]

POSTS = "content/posts"
WORDS = st.sampled_from(["pane", "forno", "lievito", "grano", "l'impasto", '"caldo"', "--", "..."])
TEXT = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
TAGS = st.lists(st.sampled_from(["pane", "dolci", "forno", "Natale", "grani"]), max_size=3)
# old addresses now and then taken: another document's alias, a page, a document's own alias
TAKEN = ["/prodotti/pane-antico/", "/blog/", "/focaccia", "/vecchio-0/"]
GTINS = ["4006381333931", "8001234567897", "4006381333932"]  # the last one's check digit is wrong


def start_site(folder: Path) -> Path:
    site = folder / "site"
    shutil.copytree(SITES / "basic", site)
    theme = site / "themes" / "custom"
    (theme / "templates").mkdir(parents=True)
    (theme / "strings").mkdir()
    (theme / "theme.yaml").write_text(THEME_YAML, encoding="utf-8")
    (theme / "strings" / "it.yaml").write_text("blog: Il nostro blog\n", encoding="utf-8")
    (theme / "static" / "css").mkdir(parents=True)
    (theme / "static" / "css" / "custom.css").write_text(".callout { color: #123 }\n",
                                                         encoding="utf-8")
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: custom\n"
                      "images: {widths: [24, 48], formats: [webp]}\n", encoding="utf-8")
    apply_closures(site, 7)  # all of them: every move of the clock crosses a closure's dates
    write_photo(site, 0, 0, 60)
    focaccia = site / POSTS / "2024-06-10-focaccia.md"
    replace_in(focaccia, "---\n", "---\nimage: /assets/foto-0.jpg\nimage_alt: Foto\n")
    with focaccia.open("a", encoding="utf-8") as handle:
        handle.write("\n![Il forno](/assets/foto-0.jpg)\n")
    return site


def write_photo(site: Path, index: int, colour: int, width: int) -> None:
    """A small JPEG (with an EXIF orientation, so that it is turned) at /assets/foto-N.jpg."""
    from PIL import Image

    image = Image.new("RGB", (width, 40), PHOTO_COLOURS[colour % len(PHOTO_COLOURS)])
    image.paste((250, 250, 250), (0, 0, width // 3, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = site / "content/assets" / f"foto-{index}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", exif=exif.tobytes(), quality=80)


def photo_files(site: Path) -> list[Path]:
    return sorted((site / "content/assets").glob("foto-*.jpg"))


THEME_YAML = "name: custom\nextends: default\nstylesheets: [css/custom.css]\n"
# build times: 2024-06-21, a day later (the merchant feed's sale dates), 2024-07-03, 2024-07-25,
# 2024-12-12, 2025-01-01 (a new year), 2100-01-01 (the sales and preorders over)
CLOCKS = [1719000000, 1719100000, 1720000000, 1721900000, 1734000000, 1735700000, 4102444800]
# holiday closures whose notice appears, starts and ends between those build times
CLOSURES = [
    "{from: 2024-07-01, until: 2024-07-20, note: Ferie}",
    "{from: 2024-08-10, until: 2024-08-25, note: Chiuso per ferie}",
    "{from: 2024-12-24, until: 2025-01-06}",
]
BAD_CLOSURE = "{from: 2024-12-24, until: 2024-12-20}"  # ends before it starts: an invalid config


def posts(site: Path) -> list[Path]:
    return sorted((site / POSTS).glob("*.md"))


def write_post(path: Path, title: str, date: str, tags: list[str], body: str,
               draft: bool = False) -> None:
    tag_list = ", ".join(f'"{t}"' for t in tags)
    path.write_text(f"---\ntitle: {json.dumps(title)}\ndate: {date}\ntags: [{tag_list}]\n"
                    f"draft: {'true' if draft else 'false'}\n---\n\n{body}\n\n<!--more-->\n\nAltro.\n",
                    encoding="utf-8")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new, 1) if old in text else text + new, encoding="utf-8")


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, tuple[object, ...]]:
    kind = draw(st.sampled_from([
        "edit_body", "edit_title", "add_post", "delete_post", "rename_post", "toggle_draft",
        "edit_price", "edit_faq", "edit_text", "add_page", "template", "strings", "config", "clock",
        "static", "closures", "product_tags", "brand", "gtin", "product_date", "aliases", "noindex",
        "policies",
        "replace_photo", "add_photo", "delete_photo",
    ]))
    return kind, (draw(st.integers(0, 50)), draw(TEXT), draw(TAGS), draw(st.integers(1, 28)))


def set_key(path: Path, key: str, value: str | None) -> None:
    """Write ``key: value`` in the front matter (replacing the key's line), or remove it (None)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    end = lines.index("---", 1)
    kept: list[str] = []
    for line in lines[1:end]:
        if line.startswith(f"{key}:") or (line.startswith(" ") and kept and kept[-1] == ""):
            kept.append("")  # the key's line, or an item of its block list
        else:
            kept.append(line)
    kept = [line for line in kept if line]
    added = [f"{key}: {value}"] if value is not None else []
    path.write_text("\n".join([lines[0], *added, *kept, *lines[end:]]), encoding="utf-8")


def apply_channels(site: Path, kind: str, index: int, text: str, tags: list[str],
                   day: int) -> None:
    """Edits of what the channels read, on a product (or, for aliases and noindex, a post or
    page too)."""
    products = sorted((site / "content/products").glob("*.md"))
    product = products[index % len(products)]
    documents = [*products, *posts(site), *sorted((site / "content/pages").glob("*.md"))]
    position = (index + day) % len(documents)
    target = documents[position]
    if kind == "product_tags":
        set_key(product, "tags", "[" + ", ".join(json.dumps(t) for t in tags) + "]")
    elif kind == "brand":
        set_key(product, "brand", json.dumps(text) if day % 3 else None)
    elif kind == "gtin":
        gtin = GTINS[2] if day % 9 == 0 else GTINS[day % 2]  # now and then a wrong one
        set_key(product, "gtin", gtin if index % 4 else None)
    elif kind == "product_date":
        key = "updated" if index % 2 else "date"
        set_key(product, key, f"2024-{day % 12 + 1:02d}-{day:02d}" if day % 5 else None)
    elif kind == "aliases":
        # a folder, a page, a name for a folder, a name only a server can redirect
        own = [f"/vecchio-{position}{end}" for end in ("/", ".html", "", ".php")]
        extra = TAKEN[day % len(TAKEN)] if day % 6 == 0 else own[day % 4] if day % 2 else ""
        chosen = dict.fromkeys(a for a in (own[index % 4], extra) if a)
        set_key(target, "aliases", f"[{', '.join(chosen)}]" if index % 5 else None)
    elif kind == "noindex":
        set_key(target, "noindex", ["true", "false", None][day % 3])
    elif kind == "policies":
        pages = sorted((site / "content/pages").glob("*.md"))
        set_key(pages[index % len(pages)], "policies", "true" if day % 2 else None)


def apply(site: Path, kind: str, args: tuple[object, ...]) -> None:
    index, text, tags, day = args
    assert isinstance(index, int) and isinstance(text, str) and isinstance(tags, list)
    assert isinstance(day, int)
    existing = posts(site)
    pick = existing[index % len(existing)] if existing else None
    if kind in ("product_tags", "brand", "gtin", "product_date", "aliases", "noindex", "policies"):
        apply_channels(site, kind, index, text, tags, day)
    elif kind == "edit_body" and pick is not None:
        with pick.open("a", encoding="utf-8") as handle:
            handle.write(f"\n{text}\n")
    elif kind == "edit_title" and pick is not None:
        lines = pick.read_text(encoding="utf-8").split("\n")
        lines = [f"title: {json.dumps(text)}" if line.startswith("title:") else line for line in lines]
        pick.write_text("\n".join(lines), encoding="utf-8")
    elif kind == "add_post" or pick is None:
        write_post(site / POSTS / f"2024-03-{day:02d}-nuovo-{index}.md", text, f"2024-03-{day:02d}",
                   tags, text)
    elif kind == "delete_post":
        pick.unlink()
    elif kind == "rename_post":
        pick.rename(pick.with_name(f"2024-02-{day:02d}-rinominato-{index}.md"))
    elif kind == "toggle_draft":
        body = pick.read_text(encoding="utf-8")
        if "draft: true" in body:
            pick.write_text(body.replace("draft: true", "draft: false"), encoding="utf-8")
        else:
            pick.write_text(body.replace("---\n", "---\ndraft: true\n", 1), encoding="utf-8")
    elif kind == "edit_price":
        product = sorted((site / "content/products").glob("*.md"))[index % 3]
        lines = product.read_text(encoding="utf-8").split("\n")
        lines = [f"price: {day + 0.5}" if line.startswith("price:") else line for line in lines]
        product.write_text("\n".join(lines), encoding="utf-8")
    elif kind == "edit_faq":
        with (site / "content/faq/orari.md").open("a", encoding="utf-8") as handle:
            handle.write(f"\n{text}\n")
    elif kind == "edit_text":  # a product's or a page's text (a paragraph after the first)
        documents = [*sorted((site / "content/products").glob("*.md")),
                     *sorted((site / "content/pages").glob("*.md"))]
        with documents[index % len(documents)].open("a", encoding="utf-8") as handle:
            handle.write(f"\n{text}\n")
    elif kind == "add_page":
        (site / f"content/pages/pagina-{index}.md").write_text(
            f"---\ntitle: {json.dumps(text)}\nmenu: {day}\n---\n\n{text}\n", encoding="utf-8")
    elif kind == "template":
        apply_template(site, index, text)
    elif kind == "strings":
        (site / "themes/custom/strings/it.yaml").write_text(
            f"blog: {json.dumps(text)}\n" if index % 3 else "", encoding="utf-8")
    elif kind == "config":
        apply_config(site, index, text)
    elif kind == "clock":  # on by one to three build times (from the last one, back to the first)
        now = int(os.environ.get("SOURCE_DATE_EPOCH", CLOCKS[0]))
        at = CLOCKS.index(now) if now in CLOCKS else 0
        os.environ["SOURCE_DATE_EPOCH"] = str(CLOCKS[(at + 1 + index % 3) % len(CLOCKS)])
    elif kind == "static":
        apply_static(site, index, text)
    elif kind == "closures":
        apply_closures(site, index)
    elif kind in ("replace_photo", "add_photo", "delete_photo"):
        apply_photo(site, kind, index, day, pick)


# what a config edit may change besides the page size and the title (each between two values):
# what the pages print from it (dates, prices, countries, URLs, theme strings), and where the site
# lives (a base URL with a path: the documents' links are made again, no quick save)
CONFIG_CHOICES = {
    "base_url": ("https://forno.example/", "https://pane.example/negozio/"),
    "locale": ("it_IT", "en_GB"),
    "timezone": ("Europe/Rome", "America/Santiago"),
    "currency": ("EUR", "USD"),
    "language": ("it", "en"),
}


def apply_config(site: Path, index: int, text: str) -> None:
    config = site / "storefront.yaml"
    lines = config.read_text(encoding="utf-8").split("\n")
    if index % 7 < 2:
        lines = [f"page_size: {index % 3 + 1}" if line.startswith("page_size:") else
                 f"title: {json.dumps(text)}" if line.startswith("title:") and index % 2 else line
                 for line in lines]
    else:
        key = list(CONFIG_CHOICES)[index % 7 - 2]
        value = CONFIG_CHOICES[key][index // 7 % 2]
        lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines]
    config.write_text("\n".join(lines), encoding="utf-8")


def apply_photo(site: Path, kind: str, index: int, day: int, pick: Path) -> None:
    """Replace, add (shown by a post) or delete a photo; a deleted photo's references go too
    unless ``index`` is odd (then the build must fail the same way each time)."""
    existing = photo_files(site)
    if kind == "replace_photo" and existing:
        number = int(existing[index % len(existing)].stem.split("-")[1])
        write_photo(site, number, day, 30 + day * 2)
    elif kind == "add_photo" or not existing:
        write_photo(site, index, day, 30 + day)
        with pick.open("a", encoding="utf-8") as handle:
            handle.write(f"\n![Foto {index}](/assets/foto-{index}.jpg)\n")
    else:
        victim = existing[index % len(existing)]
        victim.unlink()
        if index % 2 == 0:
            for post in posts(site):
                text = post.read_text(encoding="utf-8")
                lines = [line for line in text.split("\n") if f"/assets/{victim.name}" not in line]
                post.write_text("\n".join(lines), encoding="utf-8")


def apply_template(site: Path, index: int, text: str) -> None:
    """Override, change or remove a template of the child theme (the default one shows through);
    now and then the template names a photo with a constant path (one that may not exist:
    then the build must fail the same way each time)."""
    templates = site / "themes/custom/templates"
    name = ["post.html", "_footer.html", "_cards.html"][index % 3]
    target = templates / name
    if target.exists() and index % 2:
        target.unlink()
        return
    default = Path(__file__).parents[1] / "src/storefront/themes/default/templates" / name
    source = default.read_text(encoding="utf-8")
    marker = f"<!-- {hashlib.sha256(text.encode()).hexdigest()[:8]} -->"
    if index % 4 == 2:
        marker += f'{{{{ picture("/assets/foto-{index // 4 % 3}.jpg", "Foto") }}}}'
    target.write_text(source.replace("</footer>", f"{marker}</footer>", 1)
                      if "</footer>" in source else source + marker, encoding="utf-8")


def apply_static(site: Path, index: int, text: str) -> None:
    """Edit the child theme's stylesheet (bundled after the default one), an image it links, its
    favicon (replacing the default's), or whether it lists a stylesheet at all."""
    static = site / "themes/custom/static"
    colour = hashlib.sha256(text.encode()).hexdigest()[:6]
    choice = index % 5
    if choice == 0:
        (static / "css/custom.css").write_text(f".callout {{ color: #{colour} }}\n", encoding="utf-8")
    elif choice == 1:  # links an image, which may have been removed: then the build fails
        (static / "css/custom.css").write_text(
            f".callout {{ background: url(../img/dot.svg) }} /* {colour} */\n", encoding="utf-8")
    elif choice == 2:
        image = static / "img/dot.svg"
        if image.exists() and index % 2:
            image.unlink()
        else:
            image.parent.mkdir(exist_ok=True)
            image.write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><title>{colour}</title></svg>',
                             encoding="utf-8")
    elif choice == 3:
        favicon = static / "favicon.svg"
        if favicon.exists() and index % 2:
            favicon.unlink()
        else:
            favicon.write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><desc>{colour}</desc></svg>',
                               encoding="utf-8")
    else:
        manifest = site / "themes/custom/theme.yaml"
        listed = "stylesheets:" in manifest.read_text(encoding="utf-8")
        manifest.write_text("name: custom\nextends: default\n" if listed else THEME_YAML,
                            encoding="utf-8")


def apply_closures(site: Path, index: int) -> None:
    """Set ``business.closures`` in storefront.yaml to some of :data:`CLOSURES` (or none), now
    and then with :data:`BAD_CLOSURE` too."""
    config = site / "storefront.yaml"
    lines = [line for line in config.read_text(encoding="utf-8").split("\n")
             if not line.startswith(("  closures:", "    - {from:"))]
    chosen = [closure for bit, closure in enumerate(CLOSURES) if index >> bit & 1]
    chosen += [BAD_CLOSURE] if index % 7 == 6 else []
    at = lines.index("business:") + 1
    lines[at:at] = ["  closures:", *(f"    - {closure}" for closure in chosen)] if chosen else []
    config.write_text("\n".join(lines), encoding="utf-8")


def outcome(build: object) -> tuple[str, object]:
    try:
        assert callable(build)
        build()
    except BuildFailed as exc:
        return "failed", [error.format() for error in exc.errors]
    return "ok", None


def check_manifest(output: Path) -> None:
    """The manifest lists exactly the files the build wrote, with the hash of their bytes."""
    files = json.loads((output / MANIFEST).read_text(encoding="utf-8"))["files"]
    on_disk = {name: data for name, data in tree_bytes(output).items()}
    assert sorted(files) == sorted(on_disk)
    for name, (sha, size, _) in files.items():
        assert hashlib.sha256(on_disk[name]).hexdigest() == sha and len(on_disk[name]) == size


@settings(max_examples=int(os.environ.get("STOREFRONT_PROPERTY_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.parametrize("options", [
    BuildOptions(),
    # as the preview builds: drafts and scheduled posts too, stylesheets under their plain names
    # (its quick saves show a post's pages before the site is planned: see storefront.quicksave)
    BuildOptions(drafts=True, future=True, hashed_assets=False),
], ids=["build", "preview"])
@given(steps=st.lists(operations(), min_size=1, max_size=7))
def test_incremental_builds_equal_clean_builds(options: BuildOptions,
                                               steps: list[tuple[str, tuple[object, ...]]]) -> None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        site = start_site(base)
        live = BuildSession(BuildRequest(root=site, output=base / "live", jobs=1,
                                         options=options))
        try:
            live.build(shown=lambda final, changed: None)  # as the preview: pages, then feeds
            for number, (kind, args) in enumerate(steps):
                apply(site, kind, args)
                before = tree_bytes(base / "live")
                clean_dir = base / f"clean-{number}"
                clean = outcome(lambda: build_site(BuildRequest(
                    root=site, output=clean_dir, use_cache=False, jobs=1, options=options)))
                def pages_in_place(final: frozenset[str], changed: tuple[str, ...],
                                   clean_dir: Path = clean_dir) -> None:
                    # as the preview builds: when it lets browsers in, every file but the feeds
                    # is already as the clean build wrote it
                    expected = {k: v for k, v in tree_bytes(clean_dir).items() if k in final}
                    assert {k: v for k, v in tree_bytes(base / "live").items()
                            if k in final} == expected, "files in place before the feeds"

                incremental = outcome(lambda: live.build(shown=pages_in_place))
                cached = outcome(lambda: build_site(BuildRequest(
                    root=site, output=base / "cached", jobs=1, options=options)))
                assert incremental == clean, f"step {number}: {kind}"
                assert cached == clean, f"step {number}: {kind}"
                if clean[0] == "failed":
                    assert tree_bytes(base / "live") == before  # a failed build writes nothing
                    continue
                expected = tree_bytes(clean_dir)
                assert tree_bytes(base / "live") == expected, f"step {number}: {kind} (live)"
                assert tree_bytes(base / "cached") == expected, f"step {number}: {kind} (cached)"
                check_manifest(base / "live")
                shutil.rmtree(clean_dir)
        finally:
            live.close()
            if epoch is not None:
                os.environ["SOURCE_DATE_EPOCH"] = epoch


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")

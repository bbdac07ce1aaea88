"""The image pipeline on a site of photos the tests make: what is published, how pages show it,
and that every photo is processed once."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image, ImageOps

import photos
import placed
from storefront.build import BuildRequest, build_site
from storefront.cache import DATABASE
from storefront.errors import BuildFailed
from storefront.imagecache import SWEEP_MEMO
from storefront.request import CACHE_DIR
from storefront.site import BuildOptions
from support import check_leftovers_swept, tree_bytes

RASTER = {".jpg", ".png", ".webp", ".avif", ".heic"}
WIDTHS = (64, 128, 256)
POST = "blog/2024/05/forno/index.html"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A shop whose photos carry GPS, XMP, IPTC, comments and EXIF orientations 6 and 8."""
    root = tmp_path / "site"
    widths = ", ".join(str(w) for w in WIDTHS)
    write(root / "storefront.yaml", "title: Forno\nbase_url: https://forno.example/\n"
          f"image: /assets/condivisione.jpg\nimages:\n  widths: [{widths}]\n")
    write(root / "content/posts/2024-05-01-forno.md",
          "---\ntitle: Il forno\nimage: /assets/forno.jpg\nimage_alt: Il forno acceso\n"
          "image_focus: top left\n---\n\nIl forno.\n\n![Il banco di lavoro](/assets/banco.jpg)\n\n"
          "![](/assets/senza.png)\n\n![Il logo](/assets/logo.svg)\n")
    write(root / "content/products/vaso.md",
          "---\ntitle: Vaso\nprice: 30\nimages:\n  - /assets/vaso.webp\n  - /assets/vaso.heic\n"
          "image_alt: Un vaso blu\n---\n\nUn vaso.\n")
    write(root / "content/pages/chi-siamo.md",
          "---\ntitle: Chi siamo\nimage: /assets/chi.png\n---\n\nNoi.\n")
    write(root / "content/assets/forno.jpg", photos.jpeg(300, 400, orientation=6))
    write(root / "content/assets/banco.jpg", photos.jpeg(320, 240, orientation=8))
    write(root / "content/assets/senza.png", photos.png(200, 150, orientation=6, alpha=True))
    write(root / "content/assets/vaso.webp", photos.webp(300, 300, orientation=6))
    write(root / "content/assets/vaso.heic", photos.heic(280, 200))
    write(root / "content/assets/chi.png", photos.png(260, 180))
    write(root / "content/assets/condivisione.jpg", photos.jpeg(1600, 1000, everything=False))
    write(root / "content/assets/privata.jpg", photos.jpeg(120, 90, orientation=6))
    write(root / "content/assets/logo.svg",
          '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20"><rect width="40" '
          'height="20"/></svg>\n')
    animated = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    gif = io.BytesIO()
    animated[0].save(gif, "GIF", save_all=True, append_images=animated[1:], comment=b"keep me")
    write(root / "content/assets/animato.gif", gif.getvalue())
    return root


def build(root: Path, output: str = "output", **options: object):
    return build_site(BuildRequest(root=root, output=root / output, **options))  # type: ignore[arg-type]


def opened(path: Path) -> Image.Image:
    """The image, loaded (its file closed)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    with Image.open(path) as image:
        image.load()
        return image


def test_every_published_photo_is_upright_and_free_of_identifying_metadata(site: Path) -> None:
    build(site)
    profile = opened(site / "content/assets/banco.jpg").info["icc_profile"]
    published = [p for p in sorted((site / "output/assets").rglob("*")) if p.suffix in RASTER]
    assert len(published) > 40
    for path in published:
        data = path.read_bytes()
        assert [m for m in photos.MARKERS if m in data] == [], path.name
        image = opened(path)
        exif = image.getexif()
        assert set(exif) <= {0x0112}, (path.name, dict(exif))  # at most the orientation
        assert not exif.get_ifd(0x8825)  # no GPS
        assert not {"xmp", "XML:com.adobe.xmp", "comment", "photoshop", "Comment"} \
            & set(image.info), (path.name, sorted(image.info))
        if "-card." in path.name:  # a crop: only its top row is sure to show both colours
            rgb = image.convert("RGB")
            assert rgb.getpixel((2, 2))[0] > 150 and rgb.getpixel((image.width - 3, 2))[0] < 100
        else:
            assert photos.is_upright(image), path.name
        if path.suffix in (".jpg", ".webp", ".avif"):
            assert image.info.get("icc_profile") == profile, path.name  # the colours kept
    with Image.open(site / "output/assets/banco.jpg") as second:
        assert getattr(second, "n_frames", 1) == 1  # the image appended after the JPEG is gone


def test_copies_are_never_wider_than_the_photo_and_have_the_configured_widths(site: Path) -> None:
    build(site)
    assets = site / "output/assets"
    expected = {"forno": (64, 128, 256), "banco": (64, 128, 256), "senza": (64, 128, 200),
                "vaso": (64, 128, 256), "chi": (64, 128, 256)}
    for stem, widths in expected.items():
        found = {int(m.group(1)) for p in assets.glob(f"{stem}-*w.*")
                 if (m := re.match(rf"{stem}-(\d+)w\.", p.name))}
        assert tuple(sorted(found)) == widths, stem
    for path in assets.glob("*w.*"):
        width = int(path.name.rsplit("-", 1)[1].split("w.")[0])
        assert opened(path).width == width
    assert not list(assets.glob("condivisione-*w.*"))  # a share image only: a card, no copies
    formats = {p.suffix for p in assets.glob("banco-*w.*")}
    assert formats == {".jpg", ".webp", ".avif"}
    assert {p.suffix for p in assets.glob("senza-*w.*")} == {".png", ".webp", ".avif"}
    assert {p.suffix for p in assets.glob("vaso-*w.*")} == {".jpg", ".webp", ".avif"}  # HEIC -> JPEG


def test_markdown_images_become_pictures_with_srcset_sizes_and_dimensions(site: Path) -> None:
    build(site)
    html = (site / "output" / POST).read_text(encoding="utf-8")
    pictures = re.findall(r"<picture>.*?</picture>", html)
    banco = next(p for p in pictures if "banco-" in p)
    assert re.findall(r'type="(image/\w+)"', banco) == ["image/avif", "image/webp"]
    for fmt in ("avif", "webp", "jpg"):
        widths = re.findall(rf"banco-(\d+)w\.\w+\.{fmt} (\d+)w", banco)
        assert widths == [(str(w), str(w)) for w in WIDTHS]
    img = re.search(r"<img [^>]*>", banco)
    assert img is not None
    tag = img.group(0)
    assert 'width="256" height="192"' in tag and 'alt="Il banco di lavoro"' in tag
    assert 'sizes="(min-width: 46rem) 46rem, 100vw"' in tag
    images = re.findall(r"<img [^>]*>", html)
    assert "forno-" in images[0]  # the cover comes first: loaded at once
    assert 'fetchpriority="high"' in images[0] and "loading=" not in images[0]
    for later in images[1:]:
        assert 'loading="lazy"' in later and 'decoding="async"' in later
        assert "fetchpriority" not in later
    logo = next(tag for tag in images if "logo.svg" in tag)
    assert 'width="40" height="20"' in logo  # an SVG keeps its own size and file


def test_share_cards_are_1200x630_and_follow_the_focal_point(site: Path) -> None:
    write(site / "content/posts/2024-06-01-grande.md",
          "---\ntitle: Grande\nimage: /assets/grande.jpg\nimage_alt: Grande\n"
          "image_focus: 0% 50%\n---\n\nGrande.\n")
    big = photos.upright(2400, 1000)  # red on the left half of its top half
    data = io.BytesIO()
    big.save(data, "JPEG", quality=90)
    write(site / "content/assets/grande.jpg", data.getvalue())
    build(site)
    html = (site / "output/blog/2024/06/grande/index.html").read_text(encoding="utf-8")
    card_url = re.search(r'<meta property="og:image" content="https://forno.example(/[^"]+)"', html)
    assert card_url is not None and "grande-card." in card_url.group(1)
    card = opened(site / "output" / card_url.group(1).lstrip("/"))
    assert card.size == (1200, 630)
    # cut from the left edge, the red block reaches 756 px into the card (600 from the centre)
    assert card.convert("RGB").getpixel((700, 50))[0] > 150
    assert card.convert("RGB").getpixel((800, 50))[0] < 100
    home = (site / "output/index.html").read_text(encoding="utf-8")
    site_card = re.search(r'<meta property="og:image" content="[^"]+/(condivisione-card\.[^"]+)"', home)
    assert site_card is not None
    assert opened(site / "output/assets" / site_card.group(1)).size == (1200, 630)
    small = (site / "output/chi-siamo/index.html").read_text(encoding="utf-8")
    small_card = re.search(r'og:image" content="[^"]+/(chi-card\.[^"]+)"', small)
    assert small_card is not None  # a small photo gives a smaller card, never upscaled
    assert opened(site / "output/assets" / small_card.group(1)).size == (260, 136)


def test_a_photo_is_processed_once(site: Path) -> None:
    first = build(site)
    assert first.images == 8
    again = build(site)
    assert again.images == 0 and again.written == 0
    post = site / "content/posts/2024-05-01-forno.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nUna riga in più.\n", encoding="utf-8")
    edited = build(site)
    assert edited.images == 0 and edited.rendered >= 1
    write(site / "content/assets/banco.jpg", photos.jpeg(400, 300, orientation=6))
    replaced = build(site)
    assert replaced.images == 1
    pages = {path for path in replaced.changed if path.endswith(".html")}
    assert pages == {POST}  # only the page that shows the photo
    assert "assets/banco.jpg" in replaced.changed
    assert any(path.startswith("assets/banco-256w.") for path in replaced.changed)


def test_one_worker_or_two_and_a_rebuild_give_the_same_bytes(site: Path, tmp_path: Path) -> None:
    one = build_site(BuildRequest(root=site, output=tmp_path / "one", jobs=1, use_cache=False))
    two = build_site(BuildRequest(root=site, output=tmp_path / "two", jobs=2, use_cache=False))
    assert one.images == two.images == 8
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")
    build_site(BuildRequest(root=site, output=tmp_path / "three", jobs=2, use_cache=False))
    assert tree_bytes(tmp_path / "three") == tree_bytes(tmp_path / "one")


def test_processed_photos_outlive_a_new_storefront_and_damage_is_detected(site: Path,
                                                                         tmp_path: Path) -> None:
    build(site)
    with sqlite3.connect(site / CACHE_DIR / DATABASE) as db:
        db.execute("UPDATE meta SET value = 'another storefront' WHERE key = 'code'")
    report = build(site, "second")
    assert report.images == 0 and report.rendered == report.pages
    stored = sorted((site / CACHE_DIR / "images").rglob("*"))
    victim = next(p for p in stored if p.is_file())
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    report = build(site, "third")
    assert report.cache_discarded >= 1 and report.images >= 1
    clean = build_site(BuildRequest(root=site, output=tmp_path / "clean", use_cache=False))
    assert clean.images == 8
    assert tree_bytes(site / "third") == tree_bytes(tmp_path / "clean")


def test_dropping_old_processed_photos_deletes_only_the_caches_own_files(site: Path) -> None:
    """Entries no build used for a month go with the files no entry names: only files named as
    the cache names them (``images/ab/ab...``, a whole SHA-256); whatever else is in the folder
    (the owner's, another tool's, another process's temporary file) stays."""
    build(site)
    images = site / CACHE_DIR / "images"
    orphan = images / "ab" / ("ab" + "0" * 62)  # the cache's own name, named by no entry
    foreign = [images / "ab" / "notes.txt", images / "ab" / ("cd" + "0" * 62),
               images / "ab" / (("ab" + "0" * 62) + ".jpg"), images / "ab" / ".tmp-1-2",
               images / "ricordi" / ("ab" + "0" * 62), images / "LEGGIMI"]
    for path in (orphan, *foreign):
        write(path, b"kept?")
    with sqlite3.connect(site / CACHE_DIR / DATABASE) as db:
        db.execute("INSERT INTO images VALUES ('an old photo', '{}', '', 0)")
    build(site, "second")
    assert not orphan.exists()
    assert [path for path in foreign if not path.exists()] == []
    assert build(site, "third").images == 0  # the files the entries name are still there


def test_a_killed_writers_temporary_file_is_swept_from_the_image_cache(site: Path) -> None:
    """A build killed while a worker writes a processed photo leaves ``ab/.tmp-PID-N``. A later
    build deletes it once its writer no longer runs and nobody touched it for a while; a live
    writer's file (this process's, however old), a dead writer's fresh one (the same id may be a
    live process on another machine sharing the cache) and other names stay. The folder is
    looked at about once an hour, not on every build."""
    check_leftovers_swept(site / CACHE_DIR / "images", lambda output: build(site, output),
                          SWEEP_MEMO)


DEFAULT_TEMPLATES = Path(__file__).parents[1] / "src/storefront/themes/default/templates"


def theme_files(site: Path, files: dict[str, str]) -> None:
    """Theme ``figlio`` extends ``padre``, which extends the default theme; ``files`` are their
    templates (``figlio/_footer.html``), written over the default's when they are the same."""
    for name in ("figlio", "padre"):
        parent = "padre" if name == "figlio" else "default"
        write(site / f"themes/{name}/theme.yaml", f"name: {name}\nextends: {parent}\n")
    for name, text in files.items():
        theme, _, template = name.partition("/")
        write(site / f"themes/{theme}/templates/{template}", text)
    config = site / "storefront.yaml"
    if "theme:" not in config.read_text(encoding="utf-8"):
        write(config, config.read_text(encoding="utf-8") + "theme: figlio\n")


def test_photos_a_theme_template_names_are_processed_and_a_missing_one_is_an_error(
        site: Path) -> None:
    """``picture("/assets/x.jpg")`` and ``image("/assets/x.jpg")`` in a template are uses like a
    post's: copies in every format and size, width and height; through a parent's template named
    by prefix too. A parent's template the child replaced is never shown: its photos are not
    asked for. A path to no file is an error at the template's line."""
    footer = (DEFAULT_TEMPLATES / "_footer.html").read_text(encoding="utf-8")
    marker = '<footer class="site-footer">'
    write(site / "content/assets/vetrina.jpg", photos.jpeg(300, 200, everything=False))
    theme_files(site, {
        "figlio/_footer.html": footer.replace(marker, marker + '\n{{ picture("/assets/privata.jpg",'
                                              ' "Il negozio", sizes="10rem") }}'
                                              '<p class="w">{{ image("/assets/privata.jpg").width'
                                              ' }}</p>'),
        "figlio/post.html": '{% extends "padre/post.html" %}',
        "padre/post.html": '{% extends "default/post.html" %}{% block content %}\n'
                           '{{ picture(path="/assets/vetrina.jpg") }}{{ super() }}{% endblock %}',
        # replaced by figlio's own, named by nothing: never shown
        "padre/_footer.html": '{{ picture("/assets/mai.jpg") }}',
        # picture and image given another meaning: not the photos' functions
        "figlio/altro.html": '{% macro picture(p) %}{{ p }}{% endmacro %}{{ picture("/assets/a.jpg") }}'
                             '{% for image in [1] %}{{ image("/assets/b.jpg") }}{% endfor %}',
    })
    build(site)
    home = (site / "output/index.html").read_text(encoding="utf-8")
    shown = re.search(r"<picture>(?:(?!</picture>).)*privata-(?:(?!</picture>).)*</picture>", home)
    assert shown is not None, home
    assert re.findall(r'type="(image/\w+)"', shown.group(0)) == ["image/avif", "image/webp"]
    assert 'width="120" height="90"' in shown.group(0)  # the photo, upright
    assert 'sizes="10rem"' in shown.group(0) and 'alt="Il negozio"' in shown.group(0)
    assert '<p class="w">120</p>' in home
    assets = site / "output/assets"
    assert {p.suffix for p in assets.glob("privata-*w.*")} == {".jpg", ".webp", ".avif"}
    assert {p.suffix for p in assets.glob("vetrina-*w.*")} == {".jpg", ".webp", ".avif"}
    post = (site / "output" / POST).read_text(encoding="utf-8")
    assert re.search(r'<picture>.*?vetrina-256w\.\w+\.jpg.*?width="256" height="171"', post)

    theme = site / "themes/figlio/templates/_footer.html"
    write(theme, theme.read_text(encoding="utf-8").replace("/assets/privata.jpg\"", "/assets/vetrine.jpg\""))
    with pytest.raises(BuildFailed) as failure:
        build(site)
    line = theme.read_text(encoding="utf-8").split("\n").index(marker) + 2
    assert [e.format() for e in failure.value.errors] == [
        f"themes/figlio/templates/_footer.html:{line}: the image /assets/vetrine.jpg does not "
        "exist\n  hint: did you mean /assets/vetrina.jpg?"]


def test_photos_linked_by_hand_are_published_losslessly_without_metadata(site: Path) -> None:
    build(site)
    source = opened(site / "content/assets/privata.jpg")
    published = opened(site / "output/assets/privata.jpg")
    assert published.size == source.size and published.tobytes() == source.tobytes()  # not re-encoded
    assert dict(published.getexif()) == {0x0112: 6}  # the orientation alone, still upright
    assert photos.is_upright(published)
    assert published.info.get("icc_profile") == source.info["icc_profile"]
    assert (site / "output/assets/animato.gif").read_bytes() == \
        (site / "content/assets/animato.gif").read_bytes()
    assert (site / "output/assets/logo.svg").read_bytes() == \
        (site / "content/assets/logo.svg").read_bytes()


def test_a_missing_description_is_a_warning_and_an_error_when_strict(site: Path) -> None:
    report = build(site)
    warnings = [w.format() for w in report.warnings]
    assert any(w.startswith("content/posts/2024-05-01-forno.md:12: the image /assets/senza.png "
                            "has no description") for w in warnings), warnings
    with pytest.raises(BuildFailed, match=r"forno.md:12: the image /assets/senza.png has no "):
        build_site(BuildRequest(root=site, output=site / "strict",
                                options=BuildOptions(strict=True)))


def camera_raw() -> bytes:
    """A camera RAW file as far as metadata goes: TIFF-based (as DNG, CR2, NEF, ARW...), with
    the camera's EXIF and its GPS position."""
    data = io.BytesIO()
    photos.upright(64, 48).save(data, "TIFF", exif=photos.exif_block().tobytes())
    return data.getvalue()


def test_a_camera_raw_file_is_published_as_it_is_with_a_warning(site: Path) -> None:
    """A RAW file keeps the camera's EXIF (the GPS position, its serial number), which storefront
    cannot remove: linked as a download or not linked at all, it is published as it is (an owner
    may offer one on purpose) with a warning naming it, an error with ``--strict``; shown as an
    image it is an error saying to export a JPEG."""
    raws = ["dng", "cr2", "cr3", "nef", "arw", "orf", "rw2", "RAF"]
    for extension in raws:
        write(site / f"content/assets/raw/scatto.{extension}", camera_raw())
    write(site / "content/pages/scarica.md",
          "---\ntitle: Scarica\n---\n\nIl [file RAW](/assets/raw/scatto.dng).\n")
    report = build(site)
    warned = [w.format() for w in report.warnings if "RAW" in w.message]
    assert warned == [f"content/assets/raw/scatto.{extension}: this camera RAW file is published "
                      "as it is, with the data the camera wrote into it (often the place where "
                      "the photo was taken, the camera's serial number, the date)\n  hint: export "
                      "a JPEG from it and publish that instead (storefront removes that data from "
                      "photos), or move the RAW file out of content/assets/; leave it only if "
                      "visitors may download it with that data" for extension in sorted(raws)]
    for extension in raws:
        published = site / f"output/assets/raw/scatto.{extension}"
        assert b"MARKER-GPS" in published.read_bytes()  # as it is: hence the warning
    with pytest.raises(BuildFailed) as strict:
        build_site(BuildRequest(root=site, output=site / "strict",
                                options=BuildOptions(strict=True)))
    assert sum("camera RAW" in e.message for e in strict.value.errors) == len(raws)
    write(site / "content/pages/scarica.md",
          "---\ntitle: Scarica\n---\n\n![Lo scatto](/assets/raw/scatto.nef)\n")
    with pytest.raises(BuildFailed) as shown:
        build(site, "shown")
    assert [e.format() for e in shown.value.errors] == [
        "content/pages/scarica.md:5: the image /assets/raw/scatto.nef is not an image (a .nef "
        "file)\n  hint: export a JPEG from the camera RAW file and show that"]


def test_a_video_or_photo_file_holding_where_it_was_made_is_published_with_a_warning(
        site: Path) -> None:
    """A phone's video records where it was filmed, a JPEG XL or Photoshop file may keep the
    camera's GPS position: storefront cannot remove it, so such a file is published as it is with
    a warning naming it (an error with ``--strict``). Only a file that holds a position is
    reported (the same bytes in a video's sample tables are not one); one whose structure cannot
    be read may hold one."""
    assets = site / "content/assets"
    holding = {
        "video/android.mp4": placed.video(placed.android_location(), brand=b"mp42"),
        "video/iphone.MOV": placed.video(meta=placed.iphone_location()),
        "video/vecchio.3gp": placed.video(placed.box(b"loci", bytes(6) + b"Milano\x00"),
                                          brand=b"3gp4"),
        "video/montato.m4v": placed.video(placed.box(b"XMP_", photos.XMP)),
        "foto/scatto.jxl": placed.jpeg_xl(placed.box(b"Exif", bytes(4) + placed.exif_gps())),
        "foto/ritocco.psd": placed.photoshop((1005, bytes(16)), (1058, placed.exif_gps())),
        "foto/livelli.psd": placed.photoshop((1060, photos.XMP)),
    }
    clean = {
        "video/pulito.mp4": placed.video(placed.box(b"\xa9too", b"Lavf61"), brand=b"mp42"),
        "video/muto.mov": placed.video(),
        "foto/pulita.jxl": placed.jpeg_xl(placed.box(b"xml ", b"<x:xmpmeta/>")),
        "foto/nuda.jxl": b"\xff\x0a" + bytes(30),  # a bare codestream: no metadata at all
        "foto/pulito.psd": placed.photoshop((1005, bytes(16))),
    }
    unreadable = {"video/tagliato.mp4": placed.video(placed.android_location())[:30_000]}
    for name, data in {**holding, **clean, **unreadable}.items():
        write(assets / name, data)
    write(site / "content/pages/video.md",
          "---\ntitle: Video\n---\n\nIl [video](/assets/video/android.mp4).\n")
    report = build(site)
    warned = {w.location.path: w.message for w in report.warnings if "published as it is" in w.message
              and "RAW" not in w.message}
    assert sorted(warned) == sorted(f"content/assets/{name}" for name in [*holding, *unreadable])
    assert warned["content/assets/video/android.mp4"] == (
        "this video holds the place where it was recorded (the GPS position the phone or camera "
        "wrote into it) and is published as it is: storefront cannot remove it from a video")
    assert warned["content/assets/video/tagliato.mp4"].startswith("this video may hold the place")
    assert warned["content/assets/foto/ritocco.psd"] == (
        "this .psd file holds the place where the photo was taken (a GPS position in its EXIF or "
        "XMP) and is published as it is: storefront cannot remove it from this format")
    hint = next(w.hint for w in report.warnings if w.location.path.endswith("iphone.MOV"))
    assert "without its location" in hint and "video site" in hint
    for name, data in {**holding, **clean}.items():
        assert (site / "output/assets" / name).read_bytes() == data  # as it is: hence the warning
    with pytest.raises(BuildFailed) as strict:
        build_site(BuildRequest(root=site, output=site / "strict",
                                options=BuildOptions(strict=True)))
    assert sum("published as it is" in e.message for e in strict.value.errors) == len(
        holding) + len(unreadable)
    assert not (site / "strict").exists()


def test_the_decompression_bomb_limit_is_a_setting(site: Path) -> None:
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "  max_megapixels: 1\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(site)
    messages = [e.format() for e in failed.value.errors]
    assert messages == [
        "storefront.yaml:3: the image /assets/condivisione.jpg is 1600x1000 pixels (1 megapixels), "
        "more than the limit of 1 megapixels (an image this large would exhaust the memory of the "
        "build)\n  hint: resize it to a web size (a 4000-pixel-wide photo is plenty), or raise "
        "images.max_megapixels in storefront.yaml"]


def test_a_base_path_reaches_image_urls(site: Path) -> None:
    build_site(BuildRequest(root=site, output=site / "output", base_url="https://x.example/shop/"))
    html = (site / "output" / POST).read_text(encoding="utf-8")
    assert 'srcset="/shop/assets/banco-64w.' in html
    assert 'og:image" content="https://x.example/shop/assets/forno-card.' in html


def test_an_upright_card_keeps_the_focus_inside_the_photo() -> None:
    from storefront.imageconfig import ImageQuality
    from storefront.imaging import Recipe, process

    data = io.BytesIO()
    ImageOps.pad(photos.upright(400, 400), (400, 2000)).save(data, "PNG")
    recipe = Recipe((100,), ("webp",), ImageQuality(), 10_000_000)
    for focus in ("0% 0%", "100% 100%", "50% 50%"):
        card = process(data.getvalue(), recipe, False, (focus,), False).outputs[0]
        assert (card.width, card.height) == (400, 210)


def test_a_first_build_reports_its_image_progress(site: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    build_site(BuildRequest(root=site, output=site / "output", jobs=2),
               lambda stage, done, total: seen.append((stage, done, total)))
    images = [(done, total) for stage, done, total in seen if stage == "images"]
    assert images[0] == (0, 8) and images[-1] == (8, 8)
    assert [done for done, _ in images] == sorted(done for done, _ in images)


def test_photos_whose_names_need_escaping_get_urls_that_work(site: Path) -> None:
    write(site / "content/assets/Foto Perché 50%.JPG", photos.jpeg(300, 200, everything=False))
    write(site / "content/posts/2024-06-01-nomi.md",
          "---\ntitle: Nomi\nimage: /assets/Foto%20Perch%C3%A9%2050%25.JPG\nimage_alt: Nomi\n---\n\n"
          "![Il forno](/assets/Foto%20Perch%C3%A9%2050%25.JPG)\n")
    build(site)
    html = (site / "output/blog/2024/06/nomi/index.html").read_text(encoding="utf-8")
    picture = re.search(r"<picture>.*?</picture>", html)
    assert picture is not None
    urls = [url for srcset in re.findall(r'srcset="([^"]+)"', picture.group(0))
            for url, _, _ in (entry.strip().partition(" ") for entry in srcset.split(","))]
    urls += re.findall(r'<img src="([^"]+)"', picture.group(0))
    card = re.search(r'<meta property="og:image" content="https://forno.example(/[^"]+)"', html)
    assert card is not None
    urls.append(card.group(1))
    assert len(urls) == 11  # 3 widths in 3 formats, the <img> and the card
    for url in urls:  # no space to end a srcset entry, no "%" read as an escape
        assert url.startswith("/assets/Foto%20Perch%C3%A9%2050%25-"), url
        assert (site / "output" / unquote(url).lstrip("/")).is_file(), url


def test_a_turned_tiff_is_shown_at_its_upright_size() -> None:
    from storefront.imageconfig import ImageQuality
    from storefront.imaging import Recipe, process

    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: 200x300 pixels that show as 300x200
    data = io.BytesIO()
    photos.stored(photos.upright(300, 200), 6).save(data, "TIFF", exif=exif)
    recipe = Recipe((64, 128), ("webp",), ImageQuality(), 10_000_000)
    result = process(data.getvalue(), recipe, True, ("",), True)
    assert (result.width, result.height) == (300, 200)
    shapes = {(o.role, o.format): (o.width, o.height) for o in result.outputs if o.width == 64}
    assert shapes == {("variant", "jpeg"): (64, 43), ("variant", "webp"): (64, 43)}
    for encoded in result.outputs:
        image = Image.open(io.BytesIO(encoded.data))
        assert image.size == (encoded.width, encoded.height), encoded.role
        if encoded.role != "card":
            assert photos.is_upright(ImageOps.exif_transpose(image)), encoded.role


def test_an_animation_as_share_image_is_shared_as_it_is(site: Path) -> None:
    frames = [Image.new("RGB", (300, 200), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    for kind in ("webp", "png"):  # an animated WebP, an APNG: no card is cut from a moving image
        data = io.BytesIO()
        frames[0].save(data, kind.upper(), save_all=True, append_images=frames[1:])
        write(site / f"content/assets/mossa.{kind}", data.getvalue())
        write(site / f"content/posts/2024-06-0{len(kind)}-{kind}.md",
              f"---\ntitle: Mossa {kind}\nimage: /assets/mossa.{kind}\nimage_alt: Si muove\n---\n\n"
              f"![Si muove](/assets/mossa.{kind})\n")
    build(site)
    for kind in ("webp", "png"):
        html = (site / f"output/blog/2024/06/{kind}/index.html").read_text(encoding="utf-8")
        assert f'<meta property="og:image" content="https://forno.example/assets/mossa.{kind}">' \
            in html
        assert '<meta property="og:image:width" content="300">' in html
        assert f'<img src="/assets/mossa.{kind}" alt="Si muove" width="300" height="200"' in html
        assert getattr(opened(site / f"output/assets/mossa.{kind}"), "n_frames", 1) == 2
    assert build(site).images == 0  # what the cache keeps of an animation is enough


def test_photos_under_their_other_extensions_lose_their_metadata_too(site: Path) -> None:
    # .hif: the HEIF of Canon, Fujifilm and Sony cameras; .jfif: a JPEG as Windows saves it
    write(site / "content/assets/fotocamera.HIF", photos.heic(300, 200))
    write(site / "content/assets/scaricata.jfif", photos.jpeg(300, 200, orientation=6))
    write(site / "content/posts/2024-06-01-altre.md",
          "---\ntitle: Altre\n---\n\n![Dalla fotocamera](/assets/fotocamera.HIF)\n")
    build(site)
    for name in ("fotocamera.HIF", "scaricata.jfif"):
        published = (site / "output/assets" / name).read_bytes()
        assert [m for m in photos.MARKERS if m in published] == [], name
    assert photos.is_upright(opened(site / "output/assets/scaricata.jfif"))
    html = (site / "output/blog/2024/06/altre/index.html").read_text(encoding="utf-8")
    assert 'srcset="/assets/fotocamera-64w.' in html and 'width="256" height="171"' in html

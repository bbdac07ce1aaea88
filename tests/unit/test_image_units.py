"""The image pipeline's pure parts: metadata keep-lists, the SVG check, <picture> markup, config."""

from __future__ import annotations

import gzip
import io

import pytest
from PIL import Image

import photos
from storefront.config import parse_config
from storefront.errors import BuildFailed
from storefront.imageconfig import ImageQuality
from storefront.imaging import ImageProblem, Recipe, process, variant_widths
from storefront.metadata import MetadataError, strip_jpeg, strip_png, strip_webp
from storefront.picture import ImageCatalog, ImageInfo, PageImages, Variant, rewrite_images
from storefront.svg import SvgInfo, SvgProblem, check_compressed_svg, check_svg
from storefront.values import parse_focus


def loaded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image


# -- metadata ------------------------------------------------------------------------------------

def test_a_jpeg_keeps_its_pixels_and_profile_and_loses_everything_else() -> None:
    source = photos.jpeg(120, 80, orientation=8)
    stripped = strip_jpeg(source, orientation=8)
    assert [m for m in photos.MARKERS if m in stripped] == []
    before, after = loaded(source), loaded(stripped)
    assert after.tobytes() == before.tobytes()  # the same compressed data, decoded the same
    assert after.info["icc_profile"] == before.info["icc_profile"]
    assert dict(after.getexif()) == {0x0112: 8}
    assert stripped.endswith(b"\xff\xd9") and stripped.count(b"\xff\xd8") == 1  # no second image
    assert b"Exif" not in strip_jpeg(source, orientation=1)


def test_a_jfif_thumbnail_is_left_out() -> None:
    source = photos.jpeg(40, 30, everything=False)
    length = int.from_bytes(source[4:6], "big")  # the JFIF segment, first after the SOI
    assert source[6:11] == b"JFIF\x00" and length == 16
    thumbnail = bytes(photos.RED) * 4  # 2x2 pixels: what the camera saw, maybe before a crop
    jfif = source[6:18] + b"\x02\x02" + thumbnail
    data = source[:4] + (len(jfif) + 2).to_bytes(2, "big") + jfif + source[4 + length:]
    assert loaded(data).size == (40, 30)
    stripped = strip_jpeg(data)
    assert thumbnail not in stripped
    assert stripped[2:20] == source[2:20]  # the JFIF segment as Pillow writes it: no thumbnail
    assert loaded(stripped).tobytes() == loaded(source).tobytes()
    assert strip_jpeg(source) == strip_jpeg(data)


def test_a_progressive_jpeg_with_restart_markers_survives() -> None:
    out = io.BytesIO()
    photos.upright(200, 120).save(out, "JPEG", progressive=True, restart_marker_blocks=2,
                                  comment=b"MARKER-COMMENT")
    stripped = strip_jpeg(out.getvalue())
    assert b"MARKER-COMMENT" not in stripped
    assert loaded(stripped).tobytes() == loaded(out.getvalue()).tobytes()


def test_a_jpeg_with_bytes_between_its_segments_is_read_as_viewers_read_it() -> None:
    # some cameras leave padding between segments; libjpeg (Pillow, browsers) skips it
    source = photos.jpeg(120, 80, orientation=6, everything=False)
    at = source.index(b"\xff\xdb")  # the quantisation table, after the metadata
    padded = source[:at] + b"\x00\x00\x00" + source[at:]
    stripped = strip_jpeg(padded, orientation=6)
    assert [m for m in photos.MARKERS if m in stripped] == []
    assert loaded(stripped).tobytes() == loaded(source).tobytes()
    assert {e.role for e in process(padded, RECIPE, True, (), True).outputs} == {
        "original", "variant"}


@pytest.mark.parametrize("broken", [b"not a jpeg", b"\xff\xd8\xff\xe1\x00", b"\xff\xd8\xff\xdb\x00\x43"])
def test_a_broken_jpeg_is_refused(broken: bytes) -> None:
    with pytest.raises(MetadataError):
        strip_jpeg(broken)


def test_a_png_keeps_its_pixels_and_loses_text_and_exif() -> None:
    source = photos.png(90, 60, orientation=6, alpha=True)
    stripped = strip_png(source, orientation=6)
    assert [m for m in photos.MARKERS if m in stripped] == []
    after = loaded(stripped)
    assert after.tobytes() == loaded(source).tobytes() and after.mode == "RGBA"
    assert dict(after.getexif()) == {0x0112: 6} and photos.is_upright(after)
    assert after.info["icc_profile"] == loaded(source).info["icc_profile"]


@pytest.mark.parametrize("lossless", [False, True])
def test_a_webp_keeps_its_pixels_and_loses_exif_and_xmp(lossless: bool) -> None:
    source = photos.webp(90, 60, orientation=6, lossless=lossless)
    stripped = strip_webp(source, orientation=6)
    assert [m for m in photos.MARKERS if m in stripped] == []
    after = loaded(stripped)
    assert after.tobytes() == loaded(source).tobytes()
    assert dict(after.getexif()) == {0x0112: 6} and photos.is_upright(after)
    plain = strip_webp(source)
    assert b"EXIF" not in plain and loaded(plain).getexif().get(0x0112) is None


# -- decoding ------------------------------------------------------------------------------------

RECIPE = Recipe((64, 128), ("avif", "webp"), ImageQuality(), 1_000_000)


def test_widths_never_exceed_the_photo() -> None:
    assert variant_widths(1000, (480, 960, 1600)) == (480, 960, 1000)
    assert variant_widths(1600, (480, 960, 1600)) == (480, 960, 1600)
    assert variant_widths(4000, (480, 960, 1600)) == (480, 960, 1600)
    assert variant_widths(300, (480, 960, 1600)) == (300,)


def test_a_heic_photo_gives_jpeg_webp_and_avif_copies() -> None:
    result = process(photos.heic(160, 100, orientation=6), RECIPE, True, (), True)
    assert {(e.role, e.format) for e in result.outputs} == {
        ("original", "heif"), ("variant", "jpeg"), ("variant", "webp"), ("variant", "avif")}
    for encoded in result.outputs:
        assert [m for m in photos.MARKERS if m in encoded.data] == []


@pytest.mark.parametrize("kind", ["TIFF", "HEIF", "AVIF"])
def test_a_file_of_several_images_that_browsers_cannot_animate_is_a_photo(kind: str) -> None:
    # a scanner's TIFF of two pages, a HEIF or AVIF holding a burst: their own format is published
    # as the first image, so pages show resized copies of it (Chrome and Firefox show no TIFF, HEIC)
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    photos.upright(160, 100).save(out, kind, save_all=True,
                                  append_images=[Image.new("RGB", (160, 100), (0, 200, 0))])
    assert getattr(loaded(out.getvalue()), "n_frames", 1) == 2
    result = process(out.getvalue(), RECIPE, True, ("",), True)
    made = {(e.role, e.format, e.width) for e in result.outputs}
    assert {("variant", "jpeg", 128), ("variant", "webp", 128), ("card", "jpeg", 160)} <= made
    for encoded in result.outputs:
        assert photos.is_upright(loaded(encoded.data)), encoded


def test_a_cmyk_photo_is_converted_to_srgb() -> None:
    out = io.BytesIO()
    photos.upright(100, 80).convert("CMYK").save(out, "JPEG")
    result = process(out.getvalue(), RECIPE, True, (), False)
    webp = next(e for e in result.outputs if e.format == "webp")
    image = loaded(webp.data)
    assert image.mode == "RGB" and photos.is_upright(image)


@pytest.mark.parametrize("data", [b"", b"GIF89a broken", b"%!PS-Adobe-3.0 EPSF-3.0\n"])
def test_what_is_not_a_usable_image_is_a_problem_not_a_crash(data: bytes) -> None:
    with pytest.raises(ImageProblem, match=r"storefront cannot read|storefront can read"):
        process(data, RECIPE, True, (), True)


def test_a_truncated_photo_is_a_problem() -> None:
    data = photos.jpeg(200, 100, everything=False)
    with pytest.raises(ImageProblem, match="damaged or cut short"):
        process(data[: len(data) // 2], RECIPE, True, (), False)


# -- SVG -----------------------------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="30px" height="10">%s</svg>'


@pytest.mark.parametrize(("body", "line", "says"), [
    (b"\n<script>alert(1)</script>", 2, "<script> element"),
    (b'<svg:script xmlns:svg="http://www.w3.org/2000/svg"/>', 1, "<script> element"),
    (b'\n\n<rect ONMOUSEOVER="x()"/>', 3, "event handler"),
    (b'<a href=" javascript:alert(1)"><text>x</text></a>', 1, "runs a script"),
    (b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"/></foreignObject>', 1, "HTML"),
    # each of these ran its script in Chromium, opened from the shop's own site
    (b'<a xmlns:q="http://www.w3.org/1999/xlink" q:href="javascript:alert(1)"><rect/></a>', 1,
     "runs a script"),
    (b'<a><set attributeName="href" to="javascript:alert(1)"/><rect/></a>', 1, "animates a link"),
    (b'<a>\n<animate attributeName="xlink:href" values="#a; javascript:alert(1)"/></a>', 2,
     "animates a link"),
    (b'<g xmlns:h="http://www.w3.org/1999/xhtml">\n<h:iframe srcdoc="&lt;script&gt;x()&lt;'
     b'/script&gt;"/></g>', 2, "HTML (<h:iframe>)"),
    (b'<iframe xmlns="http://www.w3.org/1999/xhtml" srcdoc="&lt;script&gt;x()&lt;/script&gt;"/>', 1,
     "HTML (<iframe>)"),
])
def test_an_svg_that_can_run_a_script_is_refused(body: bytes, line: int, says: str) -> None:
    problem = check_svg(SVG % body)
    assert isinstance(problem, SvgProblem) and problem.line == line and says in problem.message


def test_an_svg_with_entities_or_broken_xml_is_refused() -> None:
    laughs = b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg>&b;</svg>'
    assert isinstance(check_svg(laughs), SvgProblem)
    broken = check_svg(b"<svg>\n<rect>")
    assert isinstance(broken, SvgProblem) and "not readable" in broken.message


def test_a_plain_svg_passes_with_its_size() -> None:
    assert check_svg(SVG % b"<rect/>") == SvgInfo(30, 10)
    drawn = (b'<g xmlns:h="http://www.w3.org/1999/xhtml"><rect/></g><a href="#x"><set '
             b'attributeName="fill" to="red"/><animate attributeName="href" values="#a;#b"/></a>')
    assert check_svg(SVG % drawn) == SvgInfo(30, 10)  # an unused namespace, plain animations
    assert check_svg(b'<svg viewBox="0 0 40 20"/>') == SvgInfo(40, 20)
    assert check_svg(b"<svg/>") == SvgInfo()


def test_a_compressed_svg_is_checked_as_it_decompresses_within_a_limit() -> None:
    """A .svgz runs its scripts like an SVG (served with Content-Encoding: gzip): its
    decompressed text is checked, every gzip member of it, never more than the limit."""
    safe = SVG % b"<rect/>"
    assert check_compressed_svg(gzip.compress(safe)) == SvgInfo(30, 10)
    script = check_compressed_svg(gzip.compress(SVG % b"\n<script>alert(1)</script>"))
    assert isinstance(script, SvgProblem) and script.line == 2 and "<script>" in script.message
    # a second member hides nothing: browsers decode both
    joined = check_compressed_svg(gzip.compress(safe[:-6]) + gzip.compress(b"<script/></svg>"))
    assert isinstance(joined, SvgProblem) and "<script>" in joined.message
    bomb = check_compressed_svg(gzip.compress(b" " * 2000 + safe), limit=1000)
    assert isinstance(bomb, SvgProblem) and "expands to more than" in bomb.message
    for damaged in (safe, gzip.compress(safe)[:-12], gzip.compress(safe) + b"rest"):
        problem = check_compressed_svg(damaged)
        assert isinstance(problem, SvgProblem), damaged
        assert "cannot be decompressed" in problem.message
    assert isinstance(check_compressed_svg(b""), SvgProblem)


# -- markup --------------------------------------------------------------------------------------

INFO = ImageInfo("/assets/a.jpg", 2000, 1000, tuple(
    Variant(f"/assets/a-{w}w.h.{fmt}", w, w // 2, fmt)
    for w in (480, 960, 1600) for fmt in ("avif", "jpeg", "webp")), "jpeg")
CATALOG = ImageCatalog({"/assets/a.jpg": INFO}, base_path="/shop/")


def test_owner_attributes_stay_and_an_owner_size_wins() -> None:
    html = rewrite_images('<p><img alt="A &amp; B" src="/shop/assets/a.jpg" class="wide" '
                          'width="300"></p>', CATALOG.info, "50vw", PageImages())
    assert html.count("<picture>") == 1 and 'class="wide"' in html and 'width="300"' in html
    assert 'height="' not in html and 'alt="A &amp; B"' in html and 'sizes="50vw"' in html


def test_images_already_in_a_picture_or_elsewhere_are_left_as_written() -> None:
    written = ('<picture><source srcset="/x.webp"><img src="/shop/assets/a.jpg" alt="x"></picture>'
               '<img src="https://cdn.example/b.jpg" alt="b">')
    assert str(rewrite_images(written, CATALOG.info, "100vw", PageImages())) == written


def test_only_the_first_image_of_a_page_is_eager() -> None:
    page = PageImages()
    html = str(rewrite_images('<img src="/shop/assets/a.jpg" alt="1"><img src="/shop/assets/a.jpg" '
                              'alt="2">', CATALOG.info, "100vw", page))
    first, second = html.split("</picture>")[:2]
    assert 'fetchpriority="high"' in first and "loading" not in first
    assert 'loading="lazy" decoding="async"' in second
    assert page.count == 2


def test_the_catalog_answers_for_feeds_and_percent_encoded_paths() -> None:
    catalog = ImageCatalog({"/assets/è un.jpg": INFO})
    assert catalog.info("/assets/%C3%A8%20un.jpg") is INFO
    assert CATALOG.fallback_url("/shop/assets/a.jpg") == "/assets/a-1600w.h.jpeg"
    assert CATALOG.fallback_url("/shop/assets/missing.jpg") == "/shop/assets/missing.jpg"


# -- configuration -------------------------------------------------------------------------------

def test_image_settings_are_checked_with_their_lines() -> None:
    with pytest.raises(BuildFailed) as failed:
        parse_config("title: x\nimages:\n  widths: [480, 5]\n  formats: [webp, gif]\n"
                     "  quality: {jpeg: 0, avif: 101}\n  max_megapixels: 0\n  colours: 3\n")
    assert [e.format().split("\n")[0] for e in failed.value.errors] == [
        'storefront.yaml:3: images.widths[2] must be a width in pixels between 16 and 10000, got "5"',
        'storefront.yaml:4: images.formats[2] must be one of avif, webp, got "gif"',
        "storefront.yaml:5: images.quality.avif must be at most 100, got 101",
        "storefront.yaml:5: images.quality.jpeg must be at least 1, got 0",
        "storefront.yaml:6: images.max_megapixels must be at least 1, got 0",
        'storefront.yaml:7: unknown key "images.colours"',
    ]


@pytest.mark.parametrize(("text", "focus"), [
    ("top", "50% 0%"), ("bottom right", "100% 100%"), ("center", "50% 50%"), ("30% 70%", "30% 70%"),
    ("12.5% 0%", "12.5% 0%"),
])
def test_focal_points(text: str, focus: str) -> None:
    assert parse_focus(text) == focus


@pytest.mark.parametrize("text", ["30%", "120% 10%", "up", "top top top", "0.3 0.7"])
def test_bad_focal_points(text: str) -> None:
    with pytest.raises(ValueError, match="must be a point"):
        parse_focus(text)


def test_a_mail_image_is_the_plain_copy_as_an_absolute_url_no_wider_than_the_column() -> None:
    """An issue's images: the largest JPEG copy (a mail program shows no AVIF), absolute, with a
    width attribute (Outlook ignores CSS widths) capped by the column and by the photo; the tag
    stays a tag whatever its attributes hold."""
    from storefront.newsletter.mailtemplate import CONTENT_WIDTH, mail_body
    from storefront.urls import UrlBuilder

    urls = UrlBuilder.from_base_url("https://shop.example/")
    small = ImageInfo("/assets/s.jpg", 40, 30, (Variant("/assets/s-40w.h.jpeg", 40, 30, "jpeg"),),
                      "jpeg")
    catalog = ImageCatalog({"/assets/a.jpg": INFO, "/assets/s.jpg": small})
    html = mail_body('<p><img alt="A &amp; &lt;B&gt;" src="/assets/a.jpg"> '
                     '<img alt="" src="/assets/s.jpg"> <img src="https://cdn.example/x.png">'
                     ' <img width="90" src="/assets/s.jpg"></p>', urls, "marzo", catalog)
    assert html == (
        f'<p><img width="{CONTENT_WIDTH}" alt="A &amp; &lt;B&gt;" '
        'src="https://shop.example/assets/a-1600w.h.jpeg"> '
        '<img width="40" alt="" src="https://shop.example/assets/s-40w.h.jpeg"> '
        f'<img width="{CONTENT_WIDTH}" src="https://cdn.example/x.png"> '
        '<img width="90" src="https://shop.example/assets/s-40w.h.jpeg"></p>')


def test_a_mail_image_written_as_raw_html_is_found_however_its_src_is_quoted() -> None:
    from storefront.newsletter.mailtemplate import mail_body
    from storefront.urls import UrlBuilder

    urls = UrlBuilder.from_base_url("https://shop.example/")
    catalog = ImageCatalog({"/assets/a.jpg": INFO})
    plain = "https://shop.example/assets/a-1600w.h.jpeg"
    for tag in ("<img src='/assets/a.jpg' alt=''>", "<img src=/assets/a.jpg alt=''>",
                "<img data-src=\"/x.jpg\" SRC = \"/assets/a.jpg\" alt=''>"):
        html = mail_body(tag, urls, "marzo", catalog)
        assert f'src="{plain}"' in html, html
        assert html.startswith('<img width="560" ') and html.endswith(" alt=''>"), html
    assert 'data-src="/x.jpg"' in mail_body('<img data-src="/x.jpg" src="/assets/a.jpg">', urls,
                                            "marzo", catalog)


def test_a_mail_link_with_a_query_keeps_it_and_gains_the_campaign_escaped_once() -> None:
    """A shop link written ``?a=1&amp;b=2`` in the HTML keeps both fields and gains the UTM
    fields, every ``&`` written ``&amp;`` once; a link elsewhere stays exactly as written."""
    from storefront.newsletter.mailtemplate import mail_body
    from storefront.urls import UrlBuilder

    urls = UrlBuilder.from_base_url("https://shop.example/")
    html = mail_body('<a href="/cerca/?a=1&amp;b=x%26y&amp;utm_source=old#r">s</a> '
                     '<a href="https://altro.example/?a=1&amp;b=2">o</a>', urls, "marzo")
    assert html == (
        '<a href="https://shop.example/cerca/?a=1&amp;b=x%26y&amp;utm_source=newsletter'
        '&amp;utm_medium=email&amp;utm_campaign=marzo#r">s</a> '
        '<a href="https://altro.example/?a=1&amp;b=2">o</a>')


def test_a_mail_link_gets_the_campaign_however_it_is_quoted_and_keeps_its_query() -> None:
    """<a href='/negozio/'> pasted in an issue stayed relative: a dead link in every mailbox;
    [vasi](/cerca/?q=vasi&page=2) (Markdown writes &amp;) lost its page=2 to "amp;page"."""
    from storefront.newsletter.mailtemplate import mail_body
    from storefront.urls import UrlBuilder

    urls = UrlBuilder.from_base_url("https://shop.example/")
    utm = "utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=marzo"
    html = mail_body("<a href='/negozio/'>a</a> <a href=/negozio/>b</a> <A HREF = \"/x/\">c</A> "
                     '<a href="/cerca/?q=vasi&amp;page=2">d</a> '
                     '<a href="https://altro.example/?a=1&amp;b=2">e</a>', urls, "marzo")
    assert html == (f"<a href='https://shop.example/negozio/?{utm}'>a</a> "
                    f'<a href="https://shop.example/negozio/?{utm}">b</a> '
                    f'<A HREF = "https://shop.example/x/?{utm}">c</A> '
                    f'<a href="https://shop.example/cerca/?q=vasi&amp;page=2&amp;{utm}">d</a> '
                    '<a href="https://altro.example/?a=1&amp;b=2">e</a>')

"""Whole-site checks that run after the site model is built: links, forms' pages, the menu.

Pure. Each check returns its problems rather than raising, so the build can report the problems of
every check together. Links are compared the way a browser will follow
them: with the base path, percent-decoded and in Unicode NFC form.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from storefront.config import CONFIG_NAME, SiteConfig
from storefront.documents import (
    Document,
    FaqEntry,
    NewsletterIssue,
    Page,
    Post,
    Product,
    field_line,
    item_line,
)
from storefront.errors import ContentError, error_at, line_of_key
from storefront.imageuses import DocumentUses, remembered_uses
from storefront.markdown import slugify
from storefront.picture import site_path
from storefront.plan import RenderTask
from storefront.site import SiteModel
from storefront.templateimages import TemplateImage
from storefront.urls import UrlBuilder, is_site_path
from storefront.values import clean_name

_EXTERNAL = ("http://", "https://")


@dataclass(frozen=True)
class LinkTargets:
    """What a link may lead to, and why some URLs are not (or not yet) on the site."""

    known: frozenset[str]  # every URL the build writes
    unpublished: dict[str, str]  # URL -> "is a draft", "is scheduled for ...", ...
    # URLs below these are answered by something else than the build: the forms endpoint, which a
    # form pasted in a page may post to (<form action="/api/forms/contact">)
    served: tuple[str, ...] = ()


def unpublished_reasons(documents: Iterable[Document], model: SiteModel,
                        now: datetime) -> dict[str, str]:
    """Why documents that parsed fine are not on the site (to explain links to them)."""
    published = {getattr(d, "url", None) for d in model.published()}
    reasons: dict[str, str] = {}
    for document in documents:
        url = getattr(document, "url", None)
        if url is None or url in published:
            continue
        if getattr(document, "draft", False):
            reasons[url] = "is a draft (draft: true)"
        elif isinstance(document, Post) and document.date.timestamp() > now.timestamp():
            reasons[url] = f"is scheduled for {document.date:%Y-%m-%d %H:%M}"
        elif isinstance(document, Post) and document.expires is not None:
            reasons[url] = f"expired on {document.expires:%Y-%m-%d %H:%M}"
    return reasons


def left_out_summary(reasons: dict[str, str]) -> tuple[str, ...]:
    """Counts of what the build left out, with the option that would include it."""
    drafts = sum(1 for r in reasons.values() if r.startswith("is a draft"))
    scheduled = sum(1 for r in reasons.values() if r.startswith("is scheduled"))
    expired = sum(1 for r in reasons.values() if r.startswith("expired"))
    parts = []
    if drafts:
        parts.append(f"{drafts} draft{'s' if drafts != 1 else ''} (--drafts shows them)")
    if scheduled:
        parts.append(f"{scheduled} scheduled post{'s' if scheduled != 1 else ''} "
                     "(--future shows them)")
    if expired:
        parts.append(f"{expired} expired post{'s' if expired != 1 else ''}")
    return tuple(parts)


@functools.lru_cache(maxsize=1 << 16)
def normalize_target(target: str) -> str:
    """A link as the server will see it: percent-decoded, NFC (remembered: the preview checks
    every link of the site at each save)."""
    return unicodedata.normalize("NFC", unquote(target))


def served_elsewhere(config: SiteConfig, urls: UrlBuilder) -> tuple[str, ...]:
    """The site URLs the build does not write but the site answers: the forms endpoint's, when
    storefront.yaml configures one on this site (:attr:`LinkTargets.served`)."""
    endpoint = config.form_endpoint.url
    if not config.has_form_endpoint or not is_site_path(endpoint):
        return ()
    return (normalize_target(urls.url(endpoint.rstrip("/") + "/")),)


def check_links(documents: Iterable[Document], targets: LinkTargets, urls: UrlBuilder,
                image_uses: dict[int, DocumentUses] | None = None) -> list[ContentError]:
    """Every site-internal link or image in content must lead to a page or file of the site.

    ``image_uses``: each document's images as the image stage found them (by the document
    object), so that a build does not look through every body for images twice."""
    errors: list[ContentError] = []
    for document in documents:
        for target, line in document.links:
            if not target.startswith("/"):
                errors.append(error_at(
                    document.source, line,
                    f"the link {target} is relative, so it breaks on pages at other depths",
                    f"write it from the site root, like /{target.lstrip('./')}"))
                continue
            _check(document.source, line, urls.url(target), target, targets, urls, errors)
        for image, line in _images(document):
            if not image.startswith(_EXTERNAL):
                _check(document.source, line, image,
                       image.removeprefix(urls.base_path.rstrip("/")), targets, urls, errors)
        errors.extend(_pages_shown_as_photos(
            remembered_uses(document, urls.base_path, image_uses), targets, urls))
    return errors


def _pages_shown_as_photos(shown: DocumentUses, targets: LinkTargets,
                           urls: UrlBuilder) -> list[ContentError]:
    """Images (``images:``, ``image:``, ``![...](...)``) naming a page or a file that is no
    picture (``/chi-siamo/``, ``/feed.xml``): the link check finds them on the site, so a page
    showed a broken image, and its share card or the merchant feed named the page as the photo.
    A file of content/assets is left to the image stage, which says what kind of file it is."""
    found = []
    for use in shown.uses:
        if use.path.startswith("/assets/") or _is_image(use.path):
            continue
        if normalize_target(urls.url(use.path)) in targets.known:
            found.append(error_at(use.source, use.line,
                                  f"the image {use.path} is the address of a page or a file "
                                  "that is no photo",
                                  "name a photo of content/assets, like /assets/foto.jpg"))
    return found


def check_template_images(found: Iterable[TemplateImage], targets: LinkTargets,
                          urls: UrlBuilder) -> list[ContentError]:
    """A photo a theme's template names with a constant path (``picture("/assets/x.jpg")``)
    must be a file of the site, or every page showing the template would show a broken image."""
    errors: list[ContentError] = []
    for image in found:
        path = site_path(image.written, urls.base_path)
        if path.startswith("/assets/"):
            _check(image.template, image.line, urls.url(path), image.written, targets, urls,
                   errors)
    return errors


def check_config_image(config: SiteConfig, config_text: str, targets: LinkTargets,
                       urls: UrlBuilder) -> list[ContentError]:
    """The site's share image (``image:`` in storefront.yaml) must be a file of the site: every
    page without a photo of its own names it as its ``og:image``, so a missing one gave every
    shared link a broken card."""
    errors: list[ContentError] = []
    if config.image and not config.image.startswith(_EXTERNAL):
        path = site_path(config.image, urls.base_path)
        _check(CONFIG_NAME, line_of_key(config_text, "image"), urls.url(path), config.image,
               targets, urls, errors)
    return errors


def _check(source: str, line: int, url: str, written: str, targets: LinkTargets,
           urls: UrlBuilder, errors: list[ContentError]) -> None:
    resolved = normalize_target(url)
    if resolved in targets.known or resolved.startswith(targets.served):
        return
    reason = targets.unpublished.get(resolved)
    if reason is not None:
        errors.append(error_at(source, line, f"the link {written} leads to a page that {reason}",
                               "publish that page first, or remove the link for now"))
        return
    what = (f"the image {written} does not exist" if _is_image(written)
            else f"the link {written} leads to no page or file of the site")
    errors.append(error_at(source, line, what, _link_hint(resolved, targets.known, urls)))


_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".avif", ".heic", ".heif",
                     ".hif", ".gif", ".svg", ".tif", ".tiff", ".bmp")


def _is_image(target: str) -> bool:
    return target.lower().endswith(_IMAGE_EXTENSIONS)


_GENERATED = re.compile(r"-(?:\d+w|card)\.[0-9a-f]{10}\.\w+$")  # resized copies, share cards


def _link_hint(target: str, known: frozenset[str], urls: UrlBuilder) -> str:
    """Suggest the nearest URL of the same kind (a file for a file, a page for a page)."""
    assets = urls.url("assets/")
    is_file = target.startswith(assets)
    candidates = sorted(u for u in known if u.startswith(assets) == is_file
                        and not _GENERATED.search(u))
    if target + "/" in known:
        return f"did you mean {target}/ (with the final slash)?"
    # a Mac or Windows folder finds FOTO.JPG as foto.jpg; the web server does not
    same = [u for u in candidates if u.casefold() == target.casefold()]
    if same:
        return f"did you mean {same[0]}? (capital letters count in a web address)"
    close = difflib.get_close_matches(target, candidates, 1, 0.6)
    if close:
        return f"did you mean {close[0]}?"
    if is_file:
        return f"put the file at content/{target.removeprefix(urls.base_path)}"
    return "link to a page of the site, such as /prodotti/ or /blog/"


def _images(document: Document) -> list[tuple[str, int]]:
    """The images named in the front matter, each with its line."""
    if isinstance(document, Product):
        return [(image, item_line(document, "images", n))
                for n, image in enumerate(document.images, 1)]
    if isinstance(document, (Post, Page, NewsletterIssue)) and document.image:
        return [(document.image, field_line(document, "image"))]
    return []


def check_config_links(config: SiteConfig, config_text: str, pages: frozenset[str],
                       urls: UrlBuilder) -> list[ContentError]:
    """Menu entries, forms' thank-you pages and the privacy notice must be pages of the site."""
    errors: list[ContentError] = []

    def missing(target: str) -> bool:
        return not target.startswith(_EXTERNAL) and normalize_target(urls.url(target)) not in pages

    for item in config.menu:
        if missing(item.url):
            errors.append(error_at(CONFIG_NAME, _line_with(config_text, "url:", item.url),
                                   f'the menu entry "{item.title}" links to {item.url}, which is '
                                   "not a page of the site",
                                   "fix the url: of the menu entry, or create that page"))
    consent_forms = sorted(f.name for f in config.forms.values() if f.consent_field is not None)
    if consent_forms and missing(config.privacy_page):
        errors.append(error_at(
            CONFIG_NAME, line_of_key(config_text, "privacy_page"),
            f"the privacy notice {config.privacy_page} is not a page of the site, but the form "
            f'"{consent_forms[0]}" asks for consent to it',
            "write content/pages/privacy.md, or set privacy_page: to the page that has it"))
    for form in config.forms.values():
        if missing(form.success_page):
            errors.append(error_at(
                CONFIG_NAME, _line_with(config_text, "success_page:", form.success_page),
                f'the success_page {form.success_page} of form "{form.name}" is not a page of '
                "the site", "create it in content/pages/ (for example a grazie.md page)"))
    pending = config.newsletter.pending_page
    if pending and missing(pending):
        errors.append(error_at(
            CONFIG_NAME, _line_with(config_text, "pending_page:", pending),
            f"the newsletter's pending_page {pending} is not a page of the site",
            "create it in content/pages/ (it asks the reader to confirm by mail), or remove "
            "the line: the endpoint then shows a page of its own"))
    return errors


def _line_with(text: str, key: str, value: str) -> int:
    pattern = re.compile(re.escape(key) + r"\s*['\"]?" + re.escape(value))
    return next((n for n, line in enumerate(text.split("\n"), 1) if pattern.search(line)), 0)


def robots_warnings(urls: UrlBuilder, line: int) -> list[ContentError]:
    """A site served below a base path (``https://example.com/shop/``): crawlers read only the
    host's ``/robots.txt``, never ``/shop/robots.txt``, so the sitemap must be declared there.

    Advice, not a problem of the site (``--strict`` leaves it a warning): robots.txt is still
    written, for an owner who serves the folder at a host's root too. ``line``: of base_url in
    storefront.yaml (0 when it came from ``--base-url``).
    """
    if urls.base_path == "/" or not urls.base_url:
        return []
    root = urls.absolute("/robots.txt")
    sitemap = urls.absolute(urls.url("/sitemap.xml"))
    return [error_at(CONFIG_NAME, line,
                     f"the site is served below {urls.base_path}, but crawlers read robots.txt "
                     f"only at the root of the host, {root}: the one written into the output "
                     "folder is never read",
                     f"so that search engines find the sitemap, add this line to {root} (ask "
                     f"whoever runs the host): Sitemap: {sitemap}")]


def check_repeats(documents: Iterable[Document]) -> list[ContentError]:
    """Two published products with one barcode (``gtin``), or two FAQ entries asking one
    question in one group (compared without case and extra spaces): each is reported at both
    files, naming the other. A barcode names one product, and the structured data of two pages
    claimed it; the FAQ page listed the question twice under one heading, and its FAQPage data
    too (which search engines refuse). One question under two headings ("Quanto costa?" for
    Italy and for abroad) is two answers the reader tells apart, and a draft (built only with
    --drafts, as the preview does) is a copy the owner is still working on: neither counts."""
    errors: list[ContentError] = []
    first: dict[tuple[str, str, str], Document] = {}
    for document in documents:
        if getattr(document, "draft", False):
            continue
        if isinstance(document, Product) and document.gtin:
            key = ("gtin", "", document.gtin)
        elif isinstance(document, FaqEntry):  # grouped as the FAQ page groups them
            key = ("question", slugify(document.group) if document.group else "",
                   clean_name(document.question).casefold())
        else:
            continue
        other = first.setdefault(key, document)
        if other is document:
            continue
        for mine, theirs in ((document, other), (other, document)):
            if isinstance(mine, Product):
                errors.append(error_at(
                    mine.source, field_line(mine, "gtin"),
                    f"the gtin {mine.gtin} is also the gtin of {theirs.source}",
                    "a barcode names one product: copy the number from this product's own label"))
            elif isinstance(mine, FaqEntry):
                errors.append(error_at(
                    mine.source, field_line(mine, "question"),
                    f'the question "{mine.question}" is also asked in {theirs.source}',
                    "answer it once: merge the two answers into one file, and remove the other"))
    return errors


def image_warnings(model: SiteModel) -> list[ContentError]:
    """Problems that stop a build only with ``--strict``: images without a description."""
    found: list[ContentError] = []
    for post in model.posts:
        if post.image and not post.image_alt:
            found.append(error_at(post.source, field_line(post, "image"),
                                  "the image has no image_alt description",
                                  "add image_alt: a short description for blind readers"))
    for product in model.products:
        if product.images and not product.image_alt:
            found.append(error_at(product.source, field_line(product, "images"),
                                  "the images have no image_alt description",
                                  "add image_alt: a short description for blind readers"))
    return sorted(found, key=ContentError.sort_key)


def unnamed_link_warnings(documents: Iterable[Document]) -> list[ContentError]:
    """Problems that stop a build only with ``--strict``: links with no text (``[](/negozio/)``),
    which a screen reader can only call "link" or read out as an address."""
    return sorted((error_at(document.source, line, "this link has no text to read out",
                            "write the words to click between the brackets, [our workshop]"
                            "(/bottega/), or describe the image it links: [![the workshop]"
                            "(/assets/bottega.jpg)](/bottega/)")
                   for document in documents for line in document.unnamed_links),
                  key=ContentError.sort_key)


def missing_templates(tasks: Iterable[RenderTask], exists: Callable[[str], bool],
                      documents: Mapping[str, Document]) -> list[ContentError]:
    """Pages whose template the theme does not have, blamed on the page that names it."""
    errors: list[ContentError] = []
    found: dict[str, bool] = {}
    for task in tasks:
        present = found.get(task.template)
        if present is None:
            present = found[task.template] = exists(task.template)
        if present:
            continue
        document = documents.get(task.source)
        errors.append(error_at(
            task.source if document is not None else "<theme>",
            field_line(document, "template") if document is not None else 0,
            f'template "{task.template}" not found in the theme',
            "check the template: field of the page, or add the file to your theme"))
    return errors

"""Where the published site shows images: each use with its file and line.

Stage 5, pure: the first step of the image stage (:mod:`storefront.images`). A use is a Markdown
image or an ``<img>`` the owner wrote (in a body or a summary), the ``image:`` of a post, page or
newsletter issue, an entry of a product's ``images:``, the site's share image (``image:`` in
storefront.yaml), or a photo a theme's template names with a constant path
(:mod:`storefront.templateimages`). Each says whether a page shows it (then it needs resized
copies) and whether it is a share image (then it needs a card cut around its focal point). A
Markdown image written without a description is a warning here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storefront.config import CONFIG_NAME, SiteConfig
from storefront.documents import Document, NewsletterIssue, Page, Post, Product, field_line, item_line
from storefront.errors import ContentError, error_at, line_of_key
from storefront.htmltags import mentions_tag, tags
from storefront.picture import site_path
from storefront.templateimages import TemplateImage
from storefront.urls import is_site_path


@dataclass(frozen=True, order=True)
class ImageUse:
    """One place that shows an image."""

    path: str  # site path, normalised: /assets/foto.jpg
    source: str  # the content file (storefront.yaml, a template) that names it
    line: int
    written: str  # as the owner wrote it, for messages
    shown: bool  # a page shows it (resized copies needed)
    card: str | None  # the focal point when it is a share image


def collect_uses(documents: Iterable[Document], config: SiteConfig, config_text: str,
                 base_path: str, memo: dict[int, DocumentUses] | None = None,
                 templates: Iterable[TemplateImage] = (),
                 ) -> tuple[list[ImageUse], list[ContentError]]:
    """Every use of a site image, and the Markdown images written without a description.

    ``memo`` (the preview session's) keeps each document's uses by the document object: a
    session holds an unchanged document as the same object from build to build. ``templates``:
    the photos the theme's templates name (those under ``/assets/``: a page shows them).
    """
    uses: set[ImageUse] = set()
    warnings: set[ContentError] = set()
    seen: dict[int, DocumentUses] = {}
    for document in documents:
        known = seen[id(document)] = remembered_uses(document, base_path, memo)
        uses.update(known.uses)
        warnings.update(known.warnings)
    if memo is not None:
        memo.clear()
        memo.update(seen)
    if config.image and is_site_path(config.image):
        uses.add(ImageUse(site_path(config.image, base_path), CONFIG_NAME,
                          line_of_key(config_text, "image"), config.image, False, ""))
    for found in templates:
        path = site_path(found.written, base_path)
        if path.startswith("/assets/"):
            uses.add(ImageUse(path, found.template, found.line, found.written, True, None))
    return sorted(uses, key=_use_order), sorted(warnings, key=ContentError.sort_key)


def _use_order(use: ImageUse) -> tuple[str, str, int, str, bool, bool, str]:
    """The order of :class:`ImageUse`, where a use without a card (None) and one with a card
    ("") may share all else: dataclass ordering compared None with "" (an internal error)."""
    return (use.path, use.source, use.line, use.written, use.shown, use.card is not None,
            use.card or "")


@dataclass(frozen=True)
class DocumentUses:
    """The images one document shows, and its images without a description."""

    document: Document  # held, so that its id is not given to another object meanwhile
    base_path: str
    uses: tuple[ImageUse, ...]
    warnings: tuple[ContentError, ...]


def remembered_uses(document: Document, base_path: str,
                    memo: dict[int, DocumentUses] | None) -> DocumentUses:
    """``document``'s uses as ``memo`` holds them (the image stage's of this build, or the
    preview session's of an unchanged document), or found again when it holds none for it."""
    known = memo.get(id(document)) if memo is not None else None
    if known is None or known.document is not document or known.base_path != base_path:
        known = document_uses(document, base_path)
    return known


def document_uses(document: Document, base_path: str) -> DocumentUses:
    """Where ``document`` shows images (see :func:`collect_uses`)."""
    uses: list[ImageUse] = []
    warnings: list[ContentError] = []

    def add(url: str, line: int, card: str | None) -> None:
        if is_site_path(url):
            uses.append(ImageUse(site_path(url, base_path), document.source, line, url, True, card))

    lines = dict(document.links)
    for text in _html_of(document):
        if not mentions_tag(text, "img"):
            continue
        for tag in tags(text, ("img",)):
            src = tag.value("src") or ""
            if tag.closing:
                continue
            written = site_path(src, base_path) if src.startswith("/") else src
            line = lines.get(written, lines.get(src, 1))
            add(src, line, None)
            if not (tag.value("alt") or "").strip():
                warnings.append(error_at(document.source, line,
                                         f"the image {written} has no description (alt text)",
                                         f"write one between the brackets: ![what the photo "
                                         f"shows]({written})"))
    if isinstance(document, (Post, Page, NewsletterIssue)) and document.image:
        focus = document.image_focus if isinstance(document, (Post, Page)) else ""
        add(document.image, field_line(document, "image"), focus)
    elif isinstance(document, Product):
        for number, image in enumerate(document.images, 1):
            add(image, item_line(document, "images", number),
                document.image_focus if number == 1 else None)
    return DocumentUses(document, base_path, tuple(uses), tuple(warnings))


def _html_of(document: Document) -> list[str]:
    """The owner's HTML of a document: its body and, where it has one, its summary."""
    return [str(getattr(document, name)) for name in ("content_html", "answer_html", "summary_html")
            if hasattr(document, name)]


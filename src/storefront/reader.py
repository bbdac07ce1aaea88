"""Read one source file into one typed document.

Stage 3, pure: bytes in, a :class:`~storefront.documents.Document` out (or a
:class:`~storefront.errors.BuildFailed` listing every problem of that file). The result depends
only on the file and on :class:`ReaderSettings` (the few settings a reader uses), never on where the
site is deployed: URLs are site paths and links stay as written, so the build cache can key a
parsed document by the file's digest and the settings' fingerprint, and share it between the
preview and production builds. Every front-matter key keeps its line.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
import zoneinfo
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from functools import partial

import yaml
from babel.numbers import get_currency_precision
from markupsafe import Markup

from storefront.body import Body, reading_minutes, render_body
from storefront.config import Permalinks, SiteConfig
from storefront.documents import (
    Category,
    Document,
    FaqEntry,
    Lines,
    NewsletterIssue,
    Page,
    Post,
    Product,
    Tag,
)
from storefront.errors import BuildFailed, ContentError, error_at
from storefront.frontmatter import SplitDocument, split_front_matter
from storefront.limits import (
    MAX_TAGS,
    LimitExceeded,
    check_markdown,
    check_name,
    check_size,
    check_slug,
    check_tags,
)
from storefront.markdown import plain_summary, plain_text, scope_ids, slugify
from storefront.meta import FaqMeta, IssueMeta, PageMeta, PostMeta, ProductMeta
from storefront.schema import Mapper, YamlProblem, compose_yaml
from storefront.sources import SourceFile, decode_text
from storefront.urls import SVG_NAMES, UrlBuilder, link_file_name
from storefront.values import clean_name, date_from_filename, day_start, localize

_SCHEMAS: dict[str, type] = {
    "posts": PostMeta, "products": ProductMeta, "faq": FaqMeta, "pages": PageMeta,
    "newsletter": IssueMeta,
}
_SITE_PATHS = UrlBuilder("")  # documents hold site paths; a build adds its base path later


@dataclass(frozen=True)
class ReaderSettings:
    """The settings of ``storefront.yaml`` that reading a document depends on (and only those)."""

    timezone: str
    permalinks: Permalinks
    author: str
    currency: str
    form_names: tuple[str, ...]
    has_policies: bool  # storefront.yaml declares shipping: or returns: (pages may show them)

    @classmethod
    def of(cls, config: SiteConfig) -> ReaderSettings:
        return cls(config.timezone, config.permalinks, config.author, config.currency,
                   tuple(sorted(config.forms)),
                   config.shipping is not None or config.returns is not None)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def tag(self, name: str) -> Tag:
        slug = name_slug(name, "tag")
        return Tag(name, slug, _SITE_PATHS.permalink(self.permalinks.tag, slug))


def name_slug(name: str, kind: str) -> str:
    """The URL name of a tag or category: its slug, or for a name without a Latin letter or a
    digit (``עברית``, ``русский``, ``🍞``), ``kind`` and a short hash of the name, so two such
    names get two pages (a fixed fallback put every one of them on one page and in one feed).
    Names that differ only in case stay one tag, as with a slug."""
    slug = slugify(name)
    if slug:
        return slug
    key = unicodedata.normalize("NFC", name.strip()).casefold()
    return f"{kind}-{hashlib.blake2b(key.encode(), digest_size=4).hexdigest()}"


def read_document(source: SourceFile, settings: ReaderSettings) -> Document:
    """Parse one content file; raise :class:`BuildFailed` with all of its problems."""
    _check_limit(source.path, 0, partial(check_size, len(source.data)))
    text = decode_text(source)
    split = split_front_matter(text, source.path)
    offset = split.front_matter_line - 1
    try:
        node = compose_yaml(split.front_matter) if split.has_front_matter else None
    except YamlProblem as exc:
        problem = exc.shifted(offset)
        raise BuildFailed(
            [error_at(source.path, problem.line, problem.message, problem.hint)]
        ) from None
    mapper = Mapper(source.path, line_offset=offset)
    meta = mapper.build(_SCHEMAS[source.kind], node)
    if meta is None or mapper.errors:
        if node is None:  # no fields at all: say where they go, not only which one is missing
            hint = _missing_front_matter(split)
            raise BuildFailed([replace(error, hint=hint) for error in mapper.errors])
        raise BuildFailed(mapper.errors)
    lines = key_lines(node, offset)
    line_of = dict(lines)
    check_markdown_limits(source.path, split, getattr(meta, "summary", ""), line_of.get("summary", 1))
    check_name_limits(source.path, meta, line_of)
    body = render_body(split.body, getattr(meta, "summary", ""), split.body_line,
                       None if isinstance(meta, IssueMeta) else line_of.get("summary", 1))
    if isinstance(meta, PostMeta):
        return _post(source, meta, body, lines, settings)
    if isinstance(meta, ProductMeta):
        return _product(source, meta, body, lines, settings)
    if isinstance(meta, IssueMeta):
        return _issue(source, meta, body, lines, settings)
    if isinstance(meta, FaqMeta):
        _check_answer(source.path, meta, body, split)
        anchor = slugify(source.stem) or "faq"
        # the FAQ page shows every answer: each one's ids (footnotes, headings) get its anchor
        answer = Markup(scope_ids(str(body.content_html), anchor))  # noqa: S704 (owner's HTML)
        return FaqEntry(source.path, meta.question, meta.group, meta.order, answer, anchor,
                        meta.draft, body.links, lines, meta.aliases, body.unnamed_links)
    assert isinstance(meta, PageMeta)
    slug = meta.slug or slugify(source.stem) or "page"
    if meta.form is not None and meta.form not in settings.form_names:
        known = ", ".join(settings.form_names) or "none are defined"
        raise BuildFailed([error_at(source.path, dict(lines).get("form", 1),
                                    f'form "{meta.form}" is not defined in storefront.yaml',
                                    f"known forms: {known}")])
    if meta.policies and not settings.has_policies:
        raise BuildFailed([error_at(source.path, dict(lines).get("policies", 1),
                                    "policies: true, but storefront.yaml has no shipping: or "
                                    "returns: section to show",
                                    "describe them in storefront.yaml (see the README), or remove "
                                    "policies: from this page")])
    _check_effect(source.path, lines, [
        ("image_focus", "image_focus places the crop of the page's image, but it has no image:",
         "add image: /assets/foto.jpg (the photo shown when the page is shared), or remove "
         "image_focus"),
    ] if meta.image_focus and not meta.image else _uncut("page's image", meta.image,
                                                          meta.image_focus))
    url = _SITE_PATHS.permalink(settings.permalinks.page, slug)
    return Page(source.path, meta.title, slug, url, meta.menu, meta.template, meta.description,
                body.content_html, meta.form, meta.image or "", meta.draft, body.links, lines,
                meta.noindex, meta.aliases, meta.policies, meta.image_focus, body.unnamed_links)


def _check_answer(path: str, meta: FaqMeta, body: Body, split: SplitDocument) -> None:
    """A published question needs an answer: the FAQ page showed an empty disclosure and its
    structured data an empty ``Answer`` (which search engines refuse for the whole page)."""
    if meta.draft or plain_text(str(body.content_html)):
        return
    raise BuildFailed([error_at(
        path, split.body_line - 1, "this question has no answer: no words follow the front "
        "matter", "write the answer below this line, in words (a photo or a comment alone "
        "is no answer), or add draft: true until it is ready")])


def _check_effect(path: str, lines: Lines, unused: list[tuple[str, str, str]]) -> None:
    """Refuse fields written where they do nothing (``image_alt`` without an image, ``sale_until``
    without a sale): each is ``(key, message, hint)``. The owner who wrote one expects it to
    show somewhere, and it showed nowhere, silently."""
    line_of = dict(lines)
    errors = [error_at(path, line_of.get(key, 1), message, hint) for key, message, hint in unused]
    if errors:
        raise BuildFailed(errors)


def _missing_front_matter(split: SplitDocument) -> str:
    """The hint for a document whose front matter gave no fields: absent, or empty."""
    if not split.has_front_matter:
        return ("the file has no front matter: its first line must be just ---, then its fields "
                "(one per line), then another line with just ---")
    return (f"the front matter between the --- on lines 1 and {split.body_line - 1} is empty: "
            "write the fields between those two lines")


def check_markdown_limits(path: str, split: SplitDocument, summary: str, summary_line: int) -> None:
    """Check the body and the summary against the limits, naming the file's lines."""
    _check_limit(path, split.body_line - 1, partial(check_markdown, split.body))
    if summary:
        _check_limit(path, summary_line, partial(check_markdown, summary), whole_line=True)


def check_name_limits(path: str, meta: object, line_of: dict[str, int]) -> None:
    """Tags and categories become folders of ``output/`` and are listed on many pages: refuse
    names too long for a folder or a menu, and more tags than a page can list."""
    for key, what in (("tags", "the tag"), ("category", "the category")):
        value = getattr(meta, key, ())
        for number, name in enumerate([value] if isinstance(value, str) else value, 1):
            shown = f'{what} "{name[:30]}…"' if len(name) > 30 else f'{what} "{name}"'
            line = line_of.get(f"{key}[{number}]", line_of.get(key, 1))
            _check_limit(path, line, partial(check_slug, slugify(name), shown), whole_line=True)
            _check_limit(path, line, partial(check_name, name, shown), whole_line=True)
    tags = getattr(meta, "tags", ())
    if len(tags) > MAX_TAGS:  # repeats are one tag (and cost nothing): count the different ones
        kind = "product" if isinstance(meta, ProductMeta) else "post"
        _check_limit(path, line_of.get("tags", 1), partial(
            check_tags, len({name_slug(name, "tag") for name in tags}), kind), whole_line=True)


def _check_limit(path: str, offset: int, check: Callable[[], None],
                 whole_line: bool = False) -> None:
    """Run ``check``; a breach becomes this file's error at ``offset`` + the line it names.

    With ``whole_line`` the text sits on the line ``offset`` (a front matter value): the
    breach is reported there.
    """
    try:
        check()
    except LimitExceeded as exc:
        line = offset if whole_line else (offset + exc.line if exc.line else 0)
        raise BuildFailed([error_at(path, line, exc.message, exc.hint)]) from None


def key_lines(node: yaml.Node | None, offset: int) -> Lines:
    """The line of every top-level key, and of every item of a list value as ``key[N]``."""
    if not isinstance(node, yaml.MappingNode):
        return ()
    lines: list[tuple[str, int]] = []
    for key_node, value_node in node.value:
        key = str(key_node.value)
        lines.append((key, key_node.start_mark.line + 1 + offset))
        if isinstance(value_node, yaml.SequenceNode):
            lines.extend((f"{key}[{index}]", item.start_mark.line + 1 + offset)
                         for index, item in enumerate(value_node.value, 1))
    return tuple(lines)


def _dated(source: SourceFile, written: datetime | None) -> tuple[datetime, str]:
    """The date of a dated document (front matter, else the file name) and its name's slug."""
    name_date, name_slug = date_from_filename(source.stem)
    moment = written or name_date
    if moment is None:
        raise BuildFailed(
            [error_at(source.path, 1, 'missing required field "date"',
                      "add a line like date: 2024-05-01, or start the file name with 2024-05-01-")]
        )
    return moment, name_slug


def _post(source: SourceFile, meta: PostMeta, body: Body, lines: Lines,
          settings: ReaderSettings) -> Post:
    moment, name_slug = _dated(source, meta.date)
    zone = settings.zone
    date = localize(moment, zone)
    slug = meta.slug or slugify(name_slug) or "post"
    updated = localize(meta.updated, zone) if meta.updated else None
    _check_updated(source.path, date, updated, lines,
                   "date" if meta.date else "the date in the file name")
    _check_effect(source.path, lines, _image_fields("post", meta.image, meta.image_alt,
                                                    meta.image_focus)
                  + _uncut("post's image", meta.image, meta.image_focus))
    return Post(
        source=source.path, title=meta.title, date=date, updated=updated,
        summary_html=body.summary_html, content_html=body.content_html, has_more=body.has_more,
        tags=_tags(meta.tags, settings), author=meta.author or settings.author,
        image=meta.image or "", image_alt=meta.image_alt, slug=slug,
        url=_SITE_PATHS.permalink(settings.permalinks.post, slug, date),
        reading_minutes=reading_minutes(body.words), draft=meta.draft,
        expires=localize(meta.expires, zone) if meta.expires else None,
        description=meta.description or plain_summary(body.summary_html), links=body.links,
        unnamed_links=body.unnamed_links,
        lines=lines, noindex=meta.noindex, aliases=meta.aliases,
        image_focus=meta.image_focus,
    )


def _issue(source: SourceFile, meta: IssueMeta, body: Body, lines: Lines,
           settings: ReaderSettings) -> NewsletterIssue:
    moment, name_slug = _dated(source, meta.date)
    slug = meta.slug or slugify(name_slug) or "newsletter"
    zone = settings.zone
    _check_effect(source.path, lines, _image_fields("newsletter issue", meta.image, meta.image_alt, ""))
    return NewsletterIssue(
        source=source.path, title=meta.title, subject=meta.subject or meta.title,
        date=localize(moment, zone), summary=meta.summary, image=meta.image or "",
        image_alt=meta.image_alt, slug=slug,
        url=_SITE_PATHS.permalink(settings.permalinks.newsletter_issue, slug),
        sent=localize(meta.sent, zone) if meta.sent else None, draft=meta.draft,
        content_html=body.content_html, links=body.links, lines=lines,
        unnamed_links=body.unnamed_links,
        description=meta.summary or plain_summary(body.summary_html), noindex=meta.noindex,
        aliases=meta.aliases,
    )


def _product(source: SourceFile, meta: ProductMeta, body: Body, lines: Lines,
             settings: ReaderSettings) -> Product:
    currency = meta.currency or settings.currency
    cents = [(key, amount) for key, amount in (("price", meta.price), ("sale_price", meta.sale_price))
             if amount is not None and amount != amount.to_integral_value()]
    if cents and get_currency_precision(currency) == 0:
        # the page rounds the amount to what the currency has (Babel: "3.200 JPY" for 3199.50),
        # while the structured data and the merchant feed would say 3199.50: two prices
        raise BuildFailed([error_at(
            source.path, dict(lines).get(key, 1),
            f"{key} {amount} has cents, but {currency} has no smaller unit",
            f"write a whole amount, like {key}: {amount.to_integral_value()}")
            for key, amount in cents])
    if meta.sale_price is not None and meta.sale_price >= meta.price:
        raise BuildFailed([error_at(
            source.path, dict(lines).get("sale_price", 1),
            f"sale_price ({meta.sale_price}) must be lower than price ({meta.price})",
            "sale_price is the discounted price: write it lower than price (were the two "
            "swapped?), or remove sale_price when the offer is over")])
    if meta.sale_price is not None and not meta.sale_price:
        # "0" for "no sale": the page showed 0,00 € with the price struck through, the offer
        # of its structured data and the merchant feed's sale_price said 0.00
        raise BuildFailed([error_at(
            source.path, dict(lines).get("sale_price", 1),
            "sale_price is 0: the product would be shown as free during the sale, on its page, "
            "in its structured data and in the merchant feed",
            "write the discounted price, like sale_price: 9.90; to end the sale, remove the "
            "sale_price line")])
    repeated = _repeated_images(source.path, meta.images, lines)
    if repeated:
        raise BuildFailed(repeated)
    unused = _image_fields("product", ",".join(meta.images), meta.image_alt, meta.image_focus)
    unused += _uncut("product's first image", meta.images[0] if meta.images else None,
                     meta.image_focus)
    if meta.sale_until is not None and meta.sale_price is None:
        unused.append(("sale_until", "sale_until ends a sale, but the product has no "
                       "sale_price:", "add sale_price: with the discounted price, or remove "
                       "sale_until"))
    # out of stock, the date may be when it is back: a theme of the owner's can show it
    if meta.availability_date is not None and meta.availability in ("in_stock", "discontinued"):
        unused.append(("availability_date", "availability_date is the day a preorder ships (or "
                       "an out-of-stock product is back), but the product is "
                       f"{meta.availability.replace('_', ' ')} (availability: "
                       f"{meta.availability})",
                       "write availability: preorder if it is made to order, or remove "
                       "availability_date"))
    _check_effect(source.path, lines, unused)
    if meta.pinned and not meta.featured:
        raise BuildFailed([error_at(
            source.path, dict(lines).get("pinned", 1),
            "pinned: true puts the product on the home page, but featured: false keeps it off",
            "keep one of the two lines")])
    slug = meta.slug or slugify(source.stem) or "product"
    category = None
    if meta.category:
        name = clean_name(meta.category)
        cat_slug = name_slug(name, "category")
        # categories are sections of the catalogue page: an anchor there
        category = Category(name, cat_slug,
                            _SITE_PATHS.url(settings.permalinks.products) + "#" + cat_slug)
    zone = settings.zone
    date = localize(meta.date, zone) if meta.date else None
    updated = localize(meta.updated, zone) if meta.updated else None
    _check_updated(source.path, date, updated, lines, "date")
    sale_until, sale_ends = _sale_end(meta.sale_until, zone)
    return Product(
        source=source.path, title=meta.title, slug=slug,
        url=_SITE_PATHS.permalink(settings.permalinks.product, slug,
                                  category=category.slug if category else ""),
        price=meta.price, currency=currency, sku=meta.sku,
        availability=meta.availability, images=meta.images, image_alt=meta.image_alt,
        sale_price=meta.sale_price,
        sale_until=sale_until, sale_ends=sale_ends,
        category=category, tags=_tags(meta.tags, settings), order=meta.order,
        summary=meta.summary, summary_html=body.summary_html, content_html=body.content_html,
        draft=meta.draft, featured=meta.featured, links=body.links, lines=lines, brand=meta.brand,
        unnamed_links=body.unnamed_links,
        gtin=meta.gtin, mpn=meta.mpn, condition=meta.condition,
        date=date, updated=updated,
        availability_date=localize(meta.availability_date, zone) if meta.availability_date else None,
        noindex=meta.noindex, aliases=meta.aliases, pinned=meta.pinned,
        image_focus=meta.image_focus,
    )


def _image_fields(kind: str, image: str | None, alt: str,
                  focus: str) -> list[tuple[str, str, str]]:
    """``image_alt`` and ``image_focus`` of a document without an image (see
    :func:`_check_effect`)."""
    if image:
        return []
    key = "images" if kind == "product" else "image"
    example = "images: [/assets/foto.jpg]" if kind == "product" else "image: /assets/foto.jpg"
    unused = []
    if alt:
        unused.append(("image_alt", f"image_alt describes the {kind}'s {key}, but it has no "
                       f"{key}:",
                       f"add {example}, or remove image_alt"))
    if focus:
        unused.append(("image_focus", f"image_focus places the crop of the {kind}'s {key}, but "
                       f"it has no {key}:",
                       f"add {example}, or remove image_focus"))
    return unused


def _uncut(whose: str, image: str | None, focus: str) -> list[tuple[str, str, str]]:
    """``image_focus`` on an image no share card is cut from (see :func:`_check_effect`): an
    SVG (no social site shows one, so the page is shared with the site's ``image:``), a GIF
    (shared whole) or an image on another site (never fetched). The focus was dropped silently."""
    if not focus or not image:
        return []
    name = link_file_name(image)
    if name.endswith(SVG_NAMES):
        kind, hint = "an SVG", ("SVG images are not cropped (no social site shows one: the page "
                                "is shared with the site's image: instead); remove image_focus")
    elif name.endswith(".gif"):
        kind, hint = "a GIF", "GIF images are not cropped (they are shared whole); remove image_focus"
    elif name.startswith(("http://", "https://")):
        kind, hint = "on another site", ("images on another site are not cropped; remove "
                                         "image_focus, or save the photo in content/assets/ and "
                                         "write its /assets/ path")
    else:
        return []
    return [("image_focus", f"image_focus places the crop of the {whose} for its share card, "
             f"but {image} is {kind}, so it does nothing", hint)]


def _repeated_images(path: str, images: tuple[str, ...], lines: Lines) -> list[ContentError]:
    """A photo listed twice in a product's ``images:`` (a copy and paste that was meant to
    name another photo): the gallery would show it twice, and the image stage failed on the
    two uses of one line with an internal error."""
    line_of = dict(lines)
    first: dict[str, int] = {}
    errors = []
    for number, image in enumerate(images, 1):
        if image in first:
            errors.append(error_at(
                path, line_of.get(f"images[{number}]", line_of.get("images", 1)),
                f"the photo {image} is listed twice in images (as photo {first[image]} and "
                f"{number})", "remove the repeat, or write the name of the photo you meant"))
        first.setdefault(image, number)
    return errors


def _sale_end(until: date | datetime | None, zone: tzinfo) -> tuple[datetime | None,
                                                                    datetime | None]:
    """``sale_until`` as the model holds it, and the first instant the sale no longer runs: a
    day alone runs through that day (to the start of the next, where that is 01:00 in zones
    whose clocks skip midnight), a time ends then (also when it is midnight)."""
    if until is None:
        return None, None
    if isinstance(until, datetime):
        moment = localize(until, zone)
        return moment, moment
    return day_start(until, zone), day_start(until + timedelta(days=1), zone)


def _check_updated(path: str, published: datetime | None, updated: datetime | None,
                   lines: Lines, what: str) -> None:
    """Refuse an ``updated:`` before the publication date: the page's structured data and the
    feeds would say the text changed before it was published."""
    if published is None or updated is None or updated >= published:
        return
    raise BuildFailed([error_at(
        path, dict(lines).get("updated", 1),
        f"updated ({_day_or_moment(updated)}) is before {what} ({_day_or_moment(published)})",
        "write the day of the last change, on or after the publication date (with the time when "
        "it is the same day, like 2024-05-01 18:30), or remove updated: if nothing changed")])


def _day_or_moment(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}" if moment.time() == time() else f"{moment:%Y-%m-%d %H:%M}"


def _tags(names: tuple[str, ...], settings: ReaderSettings) -> tuple[Tag, ...]:
    seen: dict[str, Tag] = {}
    for name in names:
        tag = settings.tag(clean_name(str(name)))
        seen.setdefault(tag.slug, tag)
    return tuple(seen.values())


def is_visible(moment: datetime | None, now: datetime) -> bool:
    return moment is None or moment > now

"""Read one source file into one typed document.

Stage 3, pure: bytes in, a :class:`~storefront.documents.Document` out (or a
:class:`~storefront.errors.BuildFailed` listing every problem of that file). The result depends
only on the file and the config, so a later cache can key it by content hash and config.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from storefront.config import SiteConfig
from storefront.documents import (
    Category,
    Document,
    FaqEntry,
    FaqMeta,
    Page,
    PageMeta,
    Post,
    PostMeta,
    Product,
    ProductMeta,
    Tag,
    reading_minutes,
    render_body,
)
from storefront.errors import BuildFailed, error_at, line_of_key
from storefront.frontmatter import split_front_matter
from storefront.markdown import plain_summary, slugify
from storefront.schema import Mapper, YamlProblem, compose_yaml
from storefront.sources import SourceFile, decode_text
from storefront.urls import UrlBuilder
from storefront.values import date_from_filename, localize

_SCHEMAS: dict[str, type] = {
    "posts": PostMeta, "products": ProductMeta, "faq": FaqMeta, "pages": PageMeta,
}


@dataclass(frozen=True)
class ReadContext:
    """What reading a document needs besides the file."""

    config: SiteConfig
    urls: UrlBuilder

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.config.timezone)

    def tag(self, name: str) -> Tag:
        slug = slugify(name) or "tag"
        return Tag(name, slug, self.urls.permalink(self.config.permalinks.tag, slug))


def read_document(source: SourceFile, context: ReadContext) -> Document:
    """Parse one content file; raise :class:`BuildFailed` with all of its problems."""
    text = decode_text(source)
    split = split_front_matter(text, source.path)
    try:
        node = compose_yaml(split.front_matter) if split.has_front_matter else None
    except YamlProblem as exc:
        problem = exc.shifted(split.front_matter_line - 1)
        raise BuildFailed(
            [error_at(source.path, problem.line, problem.message, problem.hint)]
        ) from None
    mapper = Mapper(source.path, line_offset=split.front_matter_line - 1)
    meta = mapper.build(_SCHEMAS[source.kind], node)
    if meta is None or mapper.errors:
        raise BuildFailed(mapper.errors)
    if isinstance(meta, PostMeta):
        return _post(source, meta, split.body, context)
    if isinstance(meta, ProductMeta):
        return _product(source, meta, split.body, context)
    if isinstance(meta, FaqMeta):
        body = render_body(split.body, base_path=context.urls.base_path)
        return FaqEntry(source.path, meta.question, meta.group, meta.order, body.content_html,
                        slugify(source.stem) or "faq", meta.draft, body.links)
    assert isinstance(meta, PageMeta)
    body = render_body(split.body, base_path=context.urls.base_path)
    slug = meta.slug or slugify(source.stem) or "page"
    _check_form(source, meta.form, context)
    url = context.urls.permalink(context.config.permalinks.page, slug)
    image = context.urls.url(meta.image) if meta.image else ""
    return Page(source.path, meta.title, slug, url, meta.menu, meta.template, meta.description,
                body.content_html, meta.form, image, meta.draft, body.links)


def _post(source: SourceFile, meta: PostMeta, body_text: str, context: ReadContext) -> Post:
    name_date, name_slug = date_from_filename(source.stem)
    moment = meta.date or name_date
    if moment is None:
        raise BuildFailed(
            [error_at(source.path, 1, 'missing required field "date"',
                      "add a line like date: 2024-05-01, or start the file name with 2024-05-01-")]
        )
    zone = context.zone
    date = localize(moment, zone)
    slug = meta.slug or slugify(name_slug) or "post"
    body = render_body(body_text, meta.summary, context.urls.base_path)
    url = context.urls.permalink(context.config.permalinks.post, slug, date)
    return Post(
        source=source.path, title=meta.title, date=date,
        updated=localize(meta.updated, zone) if meta.updated else None,
        summary_html=body.summary_html, content_html=body.content_html, has_more=body.has_more,
        tags=_tags(meta.tags, context), author=meta.author or context.config.author,
        image=context.urls.url(meta.image) if meta.image else "", image_alt=meta.image_alt,
        slug=slug, url=url, reading_minutes=reading_minutes(body.words), draft=meta.draft,
        expires=localize(meta.expires, zone) if meta.expires else None,
        description=meta.description or plain_summary(body.summary_html), links=body.links,
    )


def _product(source: SourceFile, meta: ProductMeta, body_text: str,
             context: ReadContext) -> Product:
    currency = meta.currency or context.config.currency
    if meta.sale_price is not None and meta.sale_price >= meta.price:
        raise BuildFailed([error_at(
            source.path, line_of_key(decode_text(source), "sale_price"),
            f"sale_price ({meta.sale_price}) must be lower than price ({meta.price})",
            "remove sale_price when the offer is over, or set sale_until")])
    if meta.pinned and not meta.featured:
        raise BuildFailed([error_at(
            source.path, line_of_key(decode_text(source), "pinned"),
            "pinned: true puts the product on the home page, but featured: false keeps it off",
            "keep one of the two lines")])
    slug = meta.slug or slugify(source.stem) or "product"
    category = None
    if meta.category:
        cat_slug = slugify(meta.category) or "category"
        # categories are sections of the catalogue page: an anchor there
        anchor = context.urls.url(context.config.permalinks.products) + "#" + cat_slug
        category = Category(meta.category, cat_slug, anchor)
    body = render_body(body_text, meta.summary, context.urls.base_path)
    sale_until = None
    if meta.sale_until is not None:
        sale_until = localize(meta.sale_until, context.zone)
    url = context.urls.permalink(context.config.permalinks.product, slug,
                                 category=category.slug if category else "")
    return Product(
        source=source.path, title=meta.title, slug=slug, url=url, price=meta.price,
        currency=currency, sku=meta.sku, availability=meta.availability,
        images=tuple(context.urls.url(image) for image in meta.images), image_alt=meta.image_alt,
        sale_price=meta.sale_price, sale_until=sale_until, category=category,
        tags=_tags(meta.tags, context), order=meta.order, summary=meta.summary,
        summary_html=body.summary_html, content_html=body.content_html, draft=meta.draft,
        featured=meta.featured, links=body.links, pinned=meta.pinned,
    )


def _tags(names: tuple[str, ...], context: ReadContext) -> tuple[Tag, ...]:
    seen: dict[str, Tag] = {}
    for name in names:
        tag = context.tag(str(name))
        seen.setdefault(tag.slug, tag)
    return tuple(seen.values())


def _check_form(source: SourceFile, form: str | None, context: ReadContext) -> None:
    if form is not None and form not in context.config.forms:
        known = ", ".join(sorted(context.config.forms)) or "none are defined"
        raise BuildFailed([error_at(source.path, line_of_key(decode_text(source), "form"),
                                    f'form "{form}" is not defined in storefront.yaml',
                                    f"known forms: {known}")])



def is_visible(moment: datetime | None, now: datetime) -> bool:
    return moment is None or moment > now

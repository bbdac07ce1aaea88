"""Plan every output page: its URL, its template, its context and its share metadata.

Stage 5a, pure. One :class:`RenderTask` per HTML page (so a later issue can render them in
parallel or skip unchanged ones) plus the generated files (feeds, sitemap, robots). Two outputs
claiming one path are reported here, naming the documents involved.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from storefront.archive import newsletter_feed_title, newsletter_feed_url
from storefront.config import CONFIG_NAME, SiteConfig
from storefront.documents import Document, Page, Post, Product, field_line
from storefront.errors import ContentError, error_at
from storefront.feeds import FeedLink, feed_links, feed_url
from storefront.markdown import plain_summary
from storefront.picture import ImageCatalog
from storefront.seo import (
    PageMeta,
    PostJsonLd,
    PostSite,
    breadcrumbs_jsonld,
    business_jsonld,
    faq_jsonld,
    product_jsonld,
    to_jsonld,
)
from storefront.site import SiteModel, select_featured
from storefront.urls import (
    NAME_BYTES,
    SVG_NAMES,
    UnsafePath,
    UrlBuilder,
    folders_of,
    link_file_name,
    longest_name,
)

T = TypeVar("T")


PAGE_WINDOW = 2  # page links on each side of the current page


@dataclass(frozen=True)
class Paginator:
    """Where a listing page is among its pages.

    ``pages`` links the first and last pages and the ones near this one; ``(0, "")`` marks a gap
    (shown as "…"), so a listing of 200 pages does not link every page from every page.
    """

    number: int
    count: int
    prev_url: str | None
    next_url: str | None
    pages: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RenderTask:
    """One HTML page to render."""

    url: str
    template: str
    meta: PageMeta
    source: str  # the document it comes from, or a description like "the blog listing"
    context: dict[str, Any] = field(default_factory=dict)


def page_url(first_url: str, number: int) -> str:
    """The URL of page ``number`` of the listing at ``first_url``: ``/blog/page/2/``.

    A listing written as a file (``/blog.html``) has its later pages in a folder of its name
    (``/blog/page/2/``), as its feeds do, not at ``/blog.htmlpage/2/``.
    """
    return first_url if number == 1 else feed_url(first_url, f"page/{number}/")


def paginate(items: Sequence[T], size: int, first_url: str) -> Iterator[tuple[tuple[T, ...], Paginator]]:
    """Split ``items`` into pages at ``first_url``, ``first_url``page/2/, ... (see :func:`page_url`)."""
    count = max(1, -(-len(items) // size))
    urls = [page_url(first_url, n) for n in range(1, count + 1)]
    for index in range(count):
        chunk = tuple(items[index * size:(index + 1) * size])
        yield chunk, Paginator(
            number=index + 1, count=count,
            prev_url=urls[index - 1] if index > 0 else None,
            next_url=urls[index + 1] if index + 1 < count else None,
            pages=page_window(index + 1, urls),
        )


def page_window(number: int, urls: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """Links to the first, the last and the nearby pages, with ``(0, "")`` where pages are skipped."""
    shown = sorted({1, len(urls), *range(max(1, number - PAGE_WINDOW),
                                         min(len(urls), number + PAGE_WINDOW) + 1)})
    window: list[tuple[int, str]] = []
    for page in shown:
        if window and page > window[-1][0] + 1:
            window.append((0, ""))
        window.append((page, urls[page - 1]))
    return tuple(window)


class Planner:
    """Collect the pages of a site and the metadata each one advertises."""

    def __init__(self, model: SiteModel, config: SiteConfig, urls: UrlBuilder,
                 strings: dict[str, str], memo: dict[Any, Any] | None = None,
                 images: ImageCatalog | None = None) -> None:
        self.model = model
        self.images = images if images is not None else ImageCatalog()
        self.config = config
        self.urls = urls
        self.strings = strings
        self.tasks: list[RenderTask] = []
        # head data of a document's page, which depends only on the document (a product's also on
        # the returns page's link: in its key) and on the config, strings and URLs (a session
        # keeps it while those stay the same)
        self.memo: dict[Any, Any] = memo if memo is not None else {}

    def meta(self, title: str, url: str, description: str = "", focus: str = "",
             **extra: Any) -> PageMeta:
        """Head data of a page; its share image is the card cut from ``image`` around ``focus``
        (or from the site's ``image``), with its size, when storefront made one."""
        full_title = title if title == self.config.title else f"{title} · {self.config.title}"
        image = extra.pop("image", "")
        if not shareable(image):
            # the site's image instead, which the document's image_alt does not describe
            extra.pop("image_alt", None)
            image = self.urls.url(self.config.image) if shareable(self.config.image) else ""
            focus = ""
        card = self.images.card(image, focus) if image else None
        info = self.images.info(image) if image and card is None else None
        if card is not None:
            image = card.url
            extra.update(image_width=card.width, image_height=card.height)
        elif info is not None and info.width and info.height:  # a GIF, shared as it is
            extra.update(image_width=info.width, image_height=info.height)
        return PageMeta(
            title=full_title, description=description or self.config.description, url=url,
            canonical=self.urls.absolute(url), image=self.urls.absolute(image) if image else "",
            **extra,
        )

    def add(self, url: str, template: str, meta: PageMeta, source: str, **context: Any) -> None:
        self.tasks.append(RenderTask(url, template, meta, source, context))

    def label(self, key: str, fallback: str) -> str:
        return self.strings.get(key, fallback)

    def plan(self) -> list[RenderTask]:
        model, urls, links = self.model, self.urls, self.config.permalinks
        home = urls.url("/")
        business = business_jsonld(self.config, urls, bool(model.products), self.returns_link,
                                   self.images.fallback_url)
        self.add(home, "index.html",
                 self.meta(self.config.title, home, jsonld=(to_jsonld(business),)),
                 "the home page", latest_posts=model.posts[: self.config.home_posts],
                 featured_products=select_featured(model.products, self.config.featured_products))
        blog = urls.url(links.blog)
        for posts, paginator in paginate(model.posts, self.config.page_size, blog):
            title = self.label("blog", "Blog")
            if paginator.number > 1:
                title += f" ({paginator.number})"
            url = page_url(blog, paginator.number)
            self.add(url, "blog.html", self.meta(title, url), "the blog listing", posts=posts,
                     paginator=paginator)
        for index, post in enumerate(model.posts):
            self._post(post, index)
        self._tags()
        catalog = urls.url(links.products)
        self.add(catalog, "catalog.html",
                 self.meta(self.label("products", "Products"), catalog, feeds=self.product_feeds),
                 "the product catalogue", categories=model.categories)
        for product in model.products:
            self._product(product)
        if model.faq_groups:
            faq = urls.url(links.faq)
            entries = [entry for group in model.faq_groups for entry in group.entries]
            self.add(faq, "faq.html",
                     self.meta(self.label("faq", "FAQ"), faq, jsonld=(to_jsonld(faq_jsonld(entries)),)),
                     "the FAQ page", groups=model.faq_groups)
        for page in model.pages:
            self._page(page)
        if self.config.newsletter.enabled or model.newsletter:
            self._newsletter()
        not_found = urls.url("/404.html")
        self.add(not_found, "404.html", self.meta(self.label("not_found_title", "Not found"),
                                                  not_found, noindex=True), "the 404 page")
        return self.tasks

    def own_page(self, document: Product | Page) -> RenderTask:
        """The task of a product's or a page's own page, as :meth:`plan` makes it (a preview's
        quick save: their head data reads their text)."""
        if isinstance(document, Product):
            self._product(document)
        else:
            self._page(document)
        return self.tasks.pop()

    def _post(self, post: Post, index: int) -> None:
        posts = self.model.posts
        # by the object (a session's unchanged post is the same object; hashing its value costs
        # more), held with the meta so that its id is not reused meanwhile
        known = self.memo.get(("post", id(post)))
        if known is None or known[0] is not post:
            known = self.memo["post", id(post)] = (post, self._post_meta(post))
        meta = known[1]
        self.add(post.url, "post.html", meta, post.source, post=post,
                 prev_post=posts[index + 1] if index + 1 < len(posts) else None,
                 next_post=posts[index - 1] if index > 0 else None,
                 related=self.model.related[post.url])

    def _post_meta(self, post: Post) -> PageMeta:
        site = self.memo.get("post site")
        if site is None:
            site = self.memo["post site"] = PostSite.of(self.config, self.urls,
                                                        self.label("blog", "Blog"))
        return self.meta(
            post.title, post.url, post.description, post.image_focus, og_type="article",
            image=post.image, image_alt=post.image_alt or post.title,
            jsonld=PostJsonLd.both(post, self.config, site, self.images.fallback_url),
            published=post.date, modified=post.updated, noindex=post.noindex,
            tags=tuple(tag.name for tag in post.tags),
        )

    def _tags(self) -> None:
        tags_url = self.urls.url(self.config.permalinks.tags)
        self.add(tags_url, "tags.html", self.meta(self.label("tags", "Tags"), tags_url),
                 "the tags index", tags=self.model.tags)
        for tag_count in self.model.tags:
            tag = tag_count.tag
            posts = self.model.posts_by_tag.get(tag.slug, ())
            products = self.model.products_by_tag.get(tag.slug, ())
            feeds = feed_links(tag.url, f"{self.config.title} · #{tag.name}") if posts else ()
            for chunk, paginator in paginate(posts, self.config.page_size, tag.url):
                url = page_url(tag.url, paginator.number)
                title = f"#{tag.name}" + (f" ({paginator.number})" if paginator.number > 1 else "")
                meta = self.memo.get(("tag", url, title, feeds))
                if meta is None:
                    meta = self.memo["tag", url, title, feeds] = self.meta(title, url, feeds=feeds)
                self.add(url, "tag.html", meta,
                         f'the page of tag "{tag.name}"', tag=tag, posts=chunk,
                         products=products if paginator.number == 1 else (), paginator=paginator)

    @property
    def product_feeds(self) -> tuple[FeedLink, ...]:
        title = f"{self.config.title} · {self.label('products', 'Products')}"
        return feed_links(self.urls.url(self.config.permalinks.products), title)

    @functools.cached_property
    def returns_link(self) -> str:
        """The readable returns policy (the page with ``policies: true``), for JSON-LD."""
        page = self.model.policies_page
        if page is None or self.config.returns is None:
            return ""
        return self.urls.absolute(page.url) + "#returns"

    def _trail(self, *steps: tuple[str, str]) -> str:
        """A BreadcrumbList from the home page through ``steps`` (name, URL)."""
        return to_jsonld(breadcrumbs_jsonld([(self.config.title, self.urls.url("/")), *steps],
                                            self.urls))

    def _product(self, product: Product) -> None:
        # besides the product, its head data shows the page of the returns policy
        returns_link = self.returns_link
        known = self.memo.get(("product", id(product), returns_link))
        if known is None or known[0] is not product:
            known = self.memo["product", id(product), returns_link] = (
                product, self._product_meta(product, returns_link))
        meta = known[1]
        policies = self.model.policies_page
        self.add(product.url, "product.html", meta, product.source, product=product,
                 policies_url=policies.url if policies is not None else "")

    def _product_meta(self, product: Product, returns_link: str) -> PageMeta:
        # summary: is Markdown (the product page shows it rendered): its text, not its syntax,
        # cut at a word as a post's summary is (search results and share cards show ~160)
        description = plain_summary(str(product.summary_html if product.summary
                                        else product.content_html))
        steps = [(self.label("products", "Products"), self.urls.url(self.config.permalinks.products))]
        if product.category is not None:
            steps.append((product.category.name, product.category.url))
        return self.meta(
            product.title, product.url, description, product.image_focus, og_type="product",
            image=product.images[0] if product.images else "",
            image_alt=product.image_alt or product.title,
            jsonld=(to_jsonld(product_jsonld(product, self.config, self.urls, returns_link,
                                             self.images.fallback_url)),
                    self._trail(*steps, (product.title, product.url))),
            published=product.date, modified=product.updated, noindex=product.noindex,
            price=f"{product.current_price:.2f}", currency=product.currency,
            feeds=self.product_feeds,
        )

    def _newsletter(self) -> None:
        """The archive of sent issues and a page per issue (their feed is built with the others)."""
        archive = self.urls.url(self.config.permalinks.newsletter)
        feeds = feed_links(archive, newsletter_feed_title(self.config, self.strings))
        self.add(archive, "newsletter.html",
                 self.meta(self.label("nl_archive", "Newsletter"), archive, feeds=feeds),
                 "the newsletter archive", issues=self.model.newsletter,
                 feed=newsletter_feed_url(self.config, self.urls))
        for issue in self.model.newsletter:
            meta = self.meta(issue.title, issue.url, issue.description, og_type="article",
                             image=issue.image, image_alt=issue.image_alt or issue.title,
                             published=issue.sent, noindex=issue.noindex)
            self.add(issue.url, "newsletter_issue.html", meta, issue.source, issue=issue,
                     archive=archive)

    def _page(self, page: Page) -> None:
        description = page.description or plain_summary(str(page.content_html))
        success_pages = {self.urls.url(form.success_page) for form in self.config.forms.values()}
        noindex = page.noindex if page.noindex is not None else page.url in success_pages
        meta = self.meta(page.title, page.url, description, page.image_focus, image=page.image,
                         noindex=noindex,
                         jsonld=(self._trail((page.title, page.url)),))
        self.add(page.url, page.template, meta, page.source, doc=page)


def shareable(image: str) -> bool:
    """An image social sites show in a share card: any but an SVG, compressed or not (none of
    Facebook, X, LinkedIn or WhatsApp shows one; no card is cut from it)."""
    return bool(image) and not link_file_name(image).endswith(SVG_NAMES)


def check_collisions(claims: Sequence[tuple[str, str]], urls: UrlBuilder,
                     permalinks_line: int = 0,
                     documents: Mapping[str, Document] | None = None) -> list[ContentError]:
    """Two outputs claiming one path (or a URL that would leave the output folder) are errors.

    A claim is ``(url, source)``: a content file, or a description such as "the blog listing".
    Two of the site's own pages (listings) on one URL are reported at ``permalinks_line`` of
    storefront.yaml, where their URLs are set. ``documents`` (by source) give the line of the
    field that made a URL's name too long.
    """
    owners: dict[str, str] = {}
    addresses: dict[str, str] = {}  # output path -> the first URL claiming it
    errors: list[ContentError] = []
    for url, source in claims:
        try:
            path = urls.output_path(url)
        except UnsafePath as exc:
            errors.append(error_at(source if source.startswith("content/") else CONFIG_NAME, 0,
                                   str(exc)))
            continue
        longest = longest_name(path)
        if len(longest.encode("utf-8", "surrogatepass")) > NAME_BYTES:
            errors.append(_name_too_long(url, longest, source, permalinks_line,
                                         (documents or {}).get(source)))
            continue
        first = owners.setdefault(path, source)
        addresses.setdefault(path, url)
        if first == source:
            continue
        for mine, other in ((source, first), (first, source)):
            if mine.startswith("content/"):
                line, hint = _slug_field((documents or {}).get(mine))
                errors.append(error_at(mine, line, f"the URL {url} is also used by {other}", hint))
        if not (source.startswith("content/") or first.startswith("content/")):
            errors.append(error_at(CONFIG_NAME, permalinks_line,
                                   f"{first} and {source} share the URL {url}",
                                   "change permalinks in storefront.yaml"))
    return errors + _inside_files(owners, addresses, permalinks_line)


def _slug_field(document: Document | None) -> tuple[int, str]:
    """Where a document's URL name comes from, for a URL two outputs claim: its ``slug:`` line,
    else the whole file (its name is the slug; it was reported at line 1 either way)."""
    if document is not None and "slug" in dict(document.lines):
        return field_line(document, "slug"), "give one of them another slug"
    if document is not None:
        return 0, ("its slug is made of the file's name: rename the file, or give one of the "
                   "two a slug: line in its front matter")
    return 1, "give one of them another slug"


def _name_too_long(url: str, name: str, source: str, permalinks_line: int,
                   document: Document | None) -> ContentError:
    """A URL whose file or folder name is longer than a file system allows (a page's file name
    of 252 letters under a permalink ending in ".html"): the write failed with "File name too
    long" and a path inside the staging folder."""
    size = len(name.encode("utf-8", "surrogatepass"))
    shown = f"{name[:30]}…" if len(name) > 30 else name
    shown_url = f"{url[:60]}…" if len(url) > 60 else url
    message = (f"the URL {shown_url} makes a file or folder name of {size:,} bytes (\"{shown}\"); "
               f"a name can have at most {NAME_BYTES}")
    if document is not None:
        line, hint = _long_name_field(document, name)
        return error_at(source, line, message, hint)
    if source.startswith("content/"):
        return error_at(source, 1, message, "write a shorter slug: in its front matter (without "
                        "one, the slug is made of the file's name)")
    return error_at(CONFIG_NAME, permalinks_line, message, "shorten permalinks in storefront.yaml")


def _long_name_field(document: Document, name: str) -> tuple[int, str]:
    """Where the too long ``name`` of ``document``'s URL comes from, and what to shorten: its
    category's name (a product permalink with ``{category}``) when that is the longer part,
    else its ``slug:``, else the file's name the slug is made of (no line: the whole file). It
    was reported at line 1 whatever made it."""
    lines = dict(document.lines)
    slug = getattr(document, "slug", "")
    slug = slug if slug in name else ""
    category = getattr(document, "category", None)
    if (category is not None and category.slug in name and len(category.slug) > len(slug)
            and "category" in lines):
        return lines["category"], ("shorten the category's name, whose URL name is part of "
                                   "the product's address (permalinks: product has {category}), "
                                   "or the slug")
    if "slug" in lines:
        return field_line(document, "slug"), "write a shorter slug"
    return 0, ("the slug is made of the file's name: give the file a shorter name, or write a "
               "shorter slug: in its front matter")


def _inside_files(owners: dict[str, str], addresses: dict[str, str],
                  permalinks_line: int) -> list[ContentError]:
    """Outputs whose folder is the file of another (``/feed.xml/{slug}/`` puts the posts in a
    folder named like the feed): the build could write one of them only. A slug never has a dot
    or a ``_``, so only permalinks do this; one error per such folder, at their line."""
    errors: list[ContentError] = []
    reported: set[str] = set()
    for path, source in owners.items():
        for folder in folders_of(path):
            owner = owners.get(folder)
            if owner is None or folder in reported:
                continue
            reported.add(folder)
            errors.append(error_at(
                CONFIG_NAME, permalinks_line,
                f"the URL {addresses[path]} of {source} would be inside "
                f"{addresses[folder]}, the file of {owner}",
                "change permalinks in storefront.yaml: that address cannot be a folder"))
    return errors

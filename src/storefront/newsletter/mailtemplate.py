"""Render an issue as an e-mail from the theme's ``email/`` templates: HTML and plain text.

The templates are looked up like any other (the site's theme first, then its parents, then the
built-in default theme), with the same filters and strings as pages. The HTML part is made for
mail programs: the theme's ``<style>`` is moved into ``style`` attributes by css-inline (Gmail
and Outlook drop or ignore style sheets), the layout is a table, images get a ``width`` (never
wider than the column or the image) and keep their text alternative, and every link is
absolute. An image the site shows is sent as the plain copy the site publishes for feeds and
mail (the largest JPEG or PNG copy, see :mod:`storefront.picture`), not as the full-size photo.
Links into the shop carry ``utm_source=newsletter&utm_medium=email&utm_campaign=<issue slug>``.
The plain-text part comes from ``email/issue.txt`` with the body as text
(:mod:`storefront.newsletter.plaintext`).

Each reader's unsubscribe link is written in as :data:`UNSUBSCRIBE_PLACEHOLDER`, replaced per
message when sending, so the issue is rendered once however long the list is.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import css_inline
import jinja2
from markupsafe import Markup, escape

from storefront.documents import NewsletterIssue
from storefront.forms.confirmation import list_name, shop_lines
from storefront.htmltags import Attribute, HtmlTag, escape_value, replace_values
from storefront.newsletter.plaintext import html_to_text
from storefront.newsletter.site import NewsletterSite, issue_images
from storefront.picture import ImageCatalog
from storefront.plan import RenderTask
from storefront.render import Renderer
from storefront.seo import PageMeta
from storefront.urls import UrlBuilder, is_site_path

#: Stands for the reader's own unsubscribe URL in a rendered issue (letters, digits, ``:/.-``
#: only, so escaping and CSS inlining leave it as it is).
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/storefront-reader-link"
CONTENT_WIDTH = 560  # pixels: the usual 600-pixel mail column less its padding
COVER_WIDTH = 598  # the cover spans the column but its border

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
# src="...", src='...' or src=... (raw HTML in an issue may write any); not data-src
_SRC = re.compile(r"""(?<![\w-])src\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_WIDTH = re.compile(r"\swidth=", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedIssue:
    subject: str
    html: str
    text: str


def campaign_url(url: str, urls: UrlBuilder, campaign: str) -> str:
    """An absolute URL; into the shop's own site, with the newsletter's UTM parameters."""
    if is_site_path(url):
        url = urls.absolute(url)
    parts = urlsplit(url)
    site = urlsplit(urls.base_url)
    if parts.scheme not in ("http", "https") or parts.netloc != site.netloc:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith("utm_")]
    query += [("utm_source", "newsletter"), ("utm_medium", "email"), ("utm_campaign", campaign)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def mail_body(html: str, urls: UrlBuilder, campaign: str, images: ImageCatalog | None = None) -> str:
    """An issue's body as a mail needs it: absolute links with UTM parameters (however the
    owner's HTML quotes them, read with their ``&amp;`` decoded), and each image as
    :func:`mail_image` makes it."""
    def campaign_link(tag: HtmlTag, href: Attribute) -> str | None:
        if tag.name != "a":
            return None
        url = campaign_url(href.value, urls, campaign)
        return escape_value(url) if url != href.value else None

    html = replace_values(html, ("href",), campaign_link)
    catalog = images if images is not None else ImageCatalog(base_path=urls.base_path)
    return _IMG.sub(lambda m: mail_image(m.group(0), urls, catalog), html)


def mail_image(tag: str, urls: UrlBuilder, images: ImageCatalog) -> str:
    """An ``<img>`` for mail: the absolute URL of the site's plain copy of the image, and a
    ``width`` (Outlook ignores a CSS width) no wider than the column, nor than the image."""
    found = _SRC.search(tag)
    written = next((g for g in found.groups() if g is not None), "") if found else ""
    src = htmllib.unescape(written)
    local = is_site_path(src)
    if found and local:
        # str(): a Markup joined with the plain tag would escape the whole tag
        shown = str(escape(urls.absolute(images.fallback_url(src))))
        tag = f'{tag[:found.start()]}src="{shown}"{tag[found.end():]}'
    if not _WIDTH.search(tag):
        info = images.info(src) if local else None
        width = min(CONTENT_WIDTH, info.width) if info is not None and info.width else CONTENT_WIDTH
        tag = f'<img width="{width}"' + tag[len("<img"):]
    return tag


def render_issue(site: NewsletterSite, issue: NewsletterIssue) -> RenderedIssue:
    """The issue's subject, HTML part and text part, with :data:`UNSUBSCRIBE_PLACEHOLDER`."""
    config, urls = site.config, site.urls
    renderer = Renderer(site.chain, config, urls, site.strings, site.model.nav, site.now)
    env = renderer.env
    env.autoescape = jinja2.select_autoescape(enabled_extensions=("html",),
                                              disabled_extensions=("txt",), default=True)
    images = issue_images(site, issue)
    body = mail_body(str(issue.content_html), urls, issue.slug, images)
    cover = images.info(issue.image) if issue.image else None
    context = {
        "issue": issue,
        "body_html": Markup(body),  # noqa: S704 - the owner's own Markdown, as on the site
        "subject": issue.subject,
        "preheader": issue.summary,
        "list_name": list_name(config),
        "shop_lines": shop_lines(config),
        "web_url": campaign_url(issue.url, urls, issue.slug),
        "home_url": campaign_url(urls.url("/"), urls, issue.slug),
        "image_url": urls.absolute(images.fallback_url(issue.image)) if issue.image else "",
        "image_width": min(COVER_WIDTH, cover.width) if cover is not None and cover.width
        else COVER_WIDTH,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "content_width": CONTENT_WIDTH,
    }
    meta = PageMeta(issue.title, issue.summary, issue.url, "")
    html = _render(renderer, RenderTask(issue.url, "email/issue.html", meta, issue.source, context))
    text = _render(renderer, RenderTask(issue.url, "email/issue.txt", meta, issue.source,
                                        {**context, "body_text": html_to_text(body)}))
    inlined = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False).inline(html)
    return RenderedIssue(issue.subject, inlined, text)


def _render(renderer: Renderer, task: RenderTask) -> str:
    """Render one email template; a template problem is a :class:`BuildFailed` naming it."""
    return renderer.render(task)[0].decode("utf-8")

"""Draft a new issue (``storefront newsletter new``) and mark an issue as sent.

The draft is a Markdown file under ``content/newsletter/`` with front matter like a post. Its
body starts with a paragraph for the owner to write, then lists what the site published since
the last issue went out: new posts (title, image, summary, link) and new or changed products
(image, price, the sale price with its end date). "Changed" compares each product with the
catalogue recorded when the last issue was sent (title, price, sale, availability). Everything
is plain Markdown the owner can edit or delete before sending.

Links are site paths (``/blog/...``): the site and the mail make them absolute themselves.
Writes only a new file, and ``sent:`` into an existing issue's front matter.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from contextlib import suppress
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from babel.dates import format_date

from storefront.documents import NewsletterIssue, Post, Product
from storefront.errors import StorefrontError
from storefront.formatting import Formatter
from storefront.forms.confirmation import list_name
from storefront.markdown import slugify
from storefront.newsletter.site import NewsletterSite
from storefront.urls import UrlBuilder

FOLDER = Path("content") / "newsletter"


def catalog_snapshot(products: tuple[Product, ...]) -> dict[str, Any]:
    """What a reader is told about each product, to compare with at the next draft."""
    return {
        product.slug: {
            "title": product.title, "price": str(product.price), "currency": product.currency,
            "sale_price": str(product.sale_price) if product.on_sale else "",
            "sale_until": product.sale_last_day.date().isoformat() if product.sale_last_day else "",
            "availability": product.availability,
        }
        for product in products
    }


def since_last_issue(site: NewsletterSite, last_queued: str | None) -> datetime | None:
    """When the last issue went out: the later of the database's record and the files' ``sent``."""
    moments = [issue.sent for issue in site.issues if issue.sent is not None]
    if last_queued:
        moments.append(datetime.fromisoformat(last_queued))
    return max(moments) if moments else None


def new_posts(site: NewsletterSite, since: datetime | None) -> list[Post]:
    """Published posts dated after ``since``, oldest first (all of them for the first issue)."""
    return sorted((p for p in site.model.posts if since is None or p.date > since),
                  key=lambda p: p.date)


def changed_products(site: NewsletterSite, catalog: dict[str, Any]) -> list[Product]:
    """Products not in ``catalog`` or shown differently from what it recorded."""
    now = catalog_snapshot(site.model.products)
    return [p for p in site.model.products
            if _as_shown(catalog.get(p.slug)) != _as_shown(now[p.slug])]


def _as_shown(entry: Any) -> Any:
    """A snapshot entry with its prices as values: a snapshot stored before prices were kept
    with two decimals says "12" where one taken now says "12.00", the same price."""
    if not isinstance(entry, dict):
        return entry
    shown = dict(entry)
    for key in ("price", "sale_price"):
        with suppress(InvalidOperation, TypeError):
            shown[key] = Decimal(shown[key]) if shown.get(key) else shown.get(key)
    return shown


def draft_text(site: NewsletterSite, title: str, posts: list[Post],
               products: list[Product]) -> str:
    """The Markdown file of a new issue."""
    t = site.strings.get
    meta = {"title": title, "date": site.now.strftime("%Y-%m-%d %H:%M"), "subject": title,
            "summary": ""}
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False)
    parts = [t("nl_intro_placeholder", "Write the opening of the letter here.")]
    if posts:
        parts.append(f"## {t('nl_new_posts', 'From the blog')}")
        parts.extend(_post(post, site) for post in posts)
    if products:
        parts.append(f"## {t('nl_new_products', 'New in the shop')}")
        parts.extend(_product(product, site) for product in products)
    return f"---\n{front}---\n\n" + "\n\n".join(parts) + "\n"


def _site_path(url: str, urls: UrlBuilder) -> str:
    """A model URL without the deploy base (the reader adds it back to root-relative links)."""
    return "/" + url[len(urls.base_path):] if url.startswith(urls.base_path) else url


def _text(value: str) -> str:
    """Owner text put inside Markdown link or image brackets."""
    return re.sub(r"([\[\]\\])", r"\\\1", " ".join(value.split()))


def _post(post: Post, site: NewsletterSite) -> str:
    link = _site_path(post.url, site.urls)
    lines = [f"### [{_text(post.title)}]({link})"]
    if post.image:
        alt = _text(post.image_alt or post.title)
        lines.append(f"[![{alt}]({_site_path(post.image, site.urls)})]({link})")
    if post.description:
        lines.append(post.description)
    lines.append(f"[{site.strings.get('nl_read_more', 'Read more')}]({link})")
    return "\n\n".join(lines)


def _product(product: Product, site: NewsletterSite) -> str:
    config = site.config
    formatter = Formatter(config.effective_locale, config.timezone)
    link = _site_path(product.url, site.urls)
    lines = [f"### [{_text(product.title)}]({link})"]
    if product.images:
        alt = _text(product.image_alt or product.title)
        lines.append(f"[![{alt}]({_site_path(product.images[0], site.urls)})]({link})")
    price = formatter.price(product.current_price, product.currency)
    line = f"**{price}**"
    if product.on_sale:
        was = site.strings.get("nl_price_was", "instead of {price}").format(
            price=formatter.price(product.price, product.currency))
        line += f" {was}"
        if product.sale_last_day is not None:
            line += ", " + site.strings.get("nl_sale_until", "on sale until {date}").format(
                date=formatter.date(product.sale_last_day, "long"))
    lines.append(line)
    if product.summary:
        lines.append(product.summary)
    return "\n\n".join(lines)


def default_title(site: NewsletterSite) -> str:
    month = format_date(site.now, "MMMM y", locale=site.config.effective_locale)
    return f"{list_name(site.config)}: {month}"


def create_draft(site: NewsletterSite, title: str, posts: list[Post],
                 products: list[Product]) -> Path:
    """Write ``content/newsletter/<date>-<slug>.md``; never over an existing file."""
    slug = slugify(title)
    if not slug:
        raise StorefrontError(f'cannot make a file name from "{title}"; use some letters or digits')
    path = site.root / FOLDER / f"{site.now:%Y-%m-%d}-{slug}.md"
    if path.exists():
        raise StorefrontError(f"{path} already exists; choose another title")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(draft_text(site, title, posts, products))
    return path


def _front_matter_without_sent(text: str) -> tuple[list[str], str, str] | None:
    """The front matter's lines but ``sent:``, the separator and the rest; None without one."""
    head, separator, rest = text.partition("\n---")
    if not text.startswith("---") or not separator:
        return None
    return [item for item in head.split("\n") if not item.startswith("sent:")], separator, rest


def issue_digest(text: str) -> str:
    """SHA-256 of an issue's file as the owner wrote it: the ``sent:`` line that
    :func:`mark_sent` writes does not count (a resumed send is not a changed issue)."""
    parts = _front_matter_without_sent(text)
    kept = text if parts is None else "\n".join(parts[0]) + parts[1] + parts[2]
    return hashlib.sha256(kept.encode("utf-8")).hexdigest()


def mark_sent(root: Path, issue: NewsletterIssue, moment: datetime) -> None:
    """Write ``sent: <moment>`` into the issue's front matter (replacing a ``sent:`` line), so
    the site publishes it. The rest of the file is kept as the owner wrote it."""
    path = root / issue.source
    parts = _front_matter_without_sent(path.read_text(encoding="utf-8"))
    if parts is None:
        raise StorefrontError(f"{issue.source}: no front matter to record the sending in")
    lines, separator, rest = parts
    line = f"sent: {moment.isoformat(timespec='seconds')}"
    updated = "\n".join([*lines, line]) + separator + rest
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        os.fchmod(descriptor, stat.S_IMODE(os.stat(path).st_mode))  # the owner's file's mode
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(updated)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

"""Helpers of the newsletter tests: a small shop with a post, a product and the newsletter set
up, the endpoint app bound to it, and readers of mails and of the database."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

from forms_support import SECRET, rows, site_yaml
from PIL import Image

from storefront.config import load_config
from storefront.forms import FormsApp, create_app

NEWSLETTER_YAML = """\
newsletter:
  form: newsletter
  name: La lettera della bottega
  sender: lettera@bottega.example
  confirm_days: 7
business:
  name: Bottega Aurora
  address: {street: Via dei Vasai 14, postal_code: "50056", city: Montelupo Fiorentino, region: FI}
"""

POST = """\
---
title: Il nuovo forno
date: 2025-03-02
summary: Come cuociamo adesso i nostri pezzi.
image: /assets/forno.jpg
image_alt: La bocca del forno
---

Il forno nuovo è arrivato.
"""

PRODUCT = """\
---
title: Vaso blu
price: 48.00
sale_price: 39.00
sale_until: 2099-03-31
images: [/assets/vaso.jpg]
summary: Un vaso a bulbo in gres.
---

Il vaso.
"""

ISSUE = """\
---
title: La lettera di marzo
date: 2025-03-05
summary: Il forno nuovo e un vaso in offerta.
---

Cari lettori, a marzo è arrivato il [forno nuovo](/blog/2025/03/il-nuovo-forno/).
Guardate anche il [vaso blu](/prodotti/vaso-blu/) e [un sito amico](https://altro.example/x).

![Il vaso blu](/assets/vaso.jpg)
"""

SECRET_TEXT = SECRET.decode()


def write_shop(root: Path, **options: Any) -> Path:
    """The test shop in ``root`` (posts, a product, one issue); return the database path."""
    (root / "storefront.yaml").write_text(site_yaml(**options) + NEWSLETTER_YAML, encoding="utf-8")
    for folder, name, text in (("posts", "2025-03-02-il-nuovo-forno.md", POST),
                               ("products", "vaso-blu.md", PRODUCT),
                               ("newsletter", "2025-03-05-marzo.md", ISSUE)):
        (root / "content" / folder).mkdir(parents=True, exist_ok=True)
        (root / "content" / folder / name).write_text(text, encoding="utf-8")
    (root / "content" / "pages").mkdir(parents=True, exist_ok=True)
    for slug in ("privacy", "grazie", "iscritto", "ordine-ricevuto"):
        (root / "content" / "pages" / f"{slug}.md").write_text(
            f"---\ntitle: {slug}\n---\n\nTesto.\n", encoding="utf-8")
    (root / "content" / "assets").mkdir(parents=True, exist_ok=True)
    for image in ("forno.jpg", "vaso.jpg"):  # real photos: the build reads them
        Image.new("RGB", (40, 30), (180, 90, 40)).save(root / "content" / "assets" / image, "JPEG")
    return root / "data" / "forms.sqlite3"


def shop_app(root: Path, clock: Any) -> FormsApp:
    """The endpoint of the test shop (the secret comes from STOREFRONT_FORMS_SECRET)."""
    return create_app(load_config(root), root, clock=clock, deliver_mail=False,
                      environ={"STOREFRONT_FORMS_SECRET": SECRET_TEXT})


def query(root: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Query the shop's form database (SQLite or PostgreSQL, as its config says)."""
    return rows(root, sql, params)


def status_of(root: Path, email: str) -> str | None:
    found = query(root, "SELECT status FROM subscribers WHERE email = ?", (email,))
    return found[0][0] if found else None


URL = re.compile(r"https?://[^\s<>\"']+")


def header(message: Message, name: str) -> str:
    """A header decoded (the sink parses with the compat32 policy, which leaves RFC 2047 words)."""
    return str(make_header(decode_header(message[name])))


def part(message: Message, content_type: str) -> str:
    """The decoded text of the message's first part of ``content_type``."""
    for item in message.walk():
        if item.get_content_type() == content_type:
            payload = item.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(item.get_content_charset() or "utf-8")
    raise AssertionError(f"no {content_type} part")


def text_part(message: Message) -> str:
    return part(message, "text/plain")


def html_part(message: Message) -> str:
    return part(message, "text/html")


def path_of(url: str) -> str:
    """``/api/forms/newsletter/confirm?t=...`` from the absolute link in a mail."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]

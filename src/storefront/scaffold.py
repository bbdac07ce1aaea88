"""Create new sites and new documents for the owner (``storefront init`` and ``storefront new``).

Writes only new files and never overwrites one that exists.
"""

from __future__ import annotations

import shutil
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from storefront.config import CONFIG_NAME
from storefront.errors import StorefrontError
from storefront.limits import MAX_TITLE_LENGTH
from storefront.markdown import slugify

NEW_KINDS = ("post", "product", "faq", "page")
_FOLDERS = {"post": "posts", "product": "products", "faq": "faq", "page": "pages"}
EXAMPLE_PARTS = (CONFIG_NAME, "content", "themes")


def example_site() -> Path:
    """The bundled example shop: packaged with the wheel, or the source checkout."""
    packaged = Path(__file__).parent / "example"
    if (packaged / CONFIG_NAME).is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / CONFIG_NAME).is_file() and (checkout / "content").is_dir():
        return checkout
    raise StorefrontError("the example shop is missing from this installation")


def init_site(directory: Path) -> Path:
    """Copy the example shop into ``directory`` (which must be new or empty)."""
    if directory.exists() and any(directory.iterdir()):
        raise StorefrontError(f"{directory} is not empty; choose a new folder for the site")
    source = example_site()
    directory.mkdir(parents=True, exist_ok=True)
    for part in EXAMPLE_PARTS:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, directory / part,
                            ignore=shutil.ignore_patterns(".*", "__pycache__"))
        elif origin.is_file():
            shutil.copy2(origin, directory / part)
    return directory


def create_document(root: Path, kind: str, title: str, now: datetime | None = None) -> Path:
    """Write ``content/<kind>/<slug>.md`` with front matter for ``title``; return its path."""
    if not (root / CONFIG_NAME).is_file():
        raise StorefrontError(f"no {CONFIG_NAME} in {root}: run this in the folder of your site")
    if len(title) > MAX_TITLE_LENGTH:  # the build would refuse the file it made
        what = "question" if kind == "faq" else "title"
        raise StorefrontError(f"the {what} is {len(title)} characters long; storefront allows at "
                              f"most {MAX_TITLE_LENGTH}: shorten it (longer text belongs in the "
                              "file, below the front matter)")
    slug = _short(slugify(title))
    if not slug:
        raise StorefrontError(f'cannot make a file name from "{title}"; use some letters or digits')
    moment = now or datetime.now(_site_zone(root))
    meta: dict[str, Any]
    if kind == "post":
        name = f"{moment:%Y-%m-%d}-{slug}.md"
        meta = {"title": title, "date": moment.strftime("%Y-%m-%d %H:%M"), "tags": [],
                "summary": "", "draft": True}
        body = "Scrivi qui il tuo articolo.\n\n<!--more-->\n"
    elif kind == "product":
        name = f"{slug}.md"
        meta = {"title": title, "price": "0.00", "sku": "", "availability": "in_stock",
                "category": "", "images": [], "summary": "", "draft": True}
        body = "Descrivi qui il prodotto.\n"
    elif kind == "faq":
        name = f"{slug}.md"
        meta = {"question": title, "group": "", "order": 0}
        body = "Scrivi qui la risposta.\n"
    elif kind == "page":
        name = f"{slug}.md"
        meta = {"title": title}
        body = "Scrivi qui il testo della pagina.\n"
    else:
        raise StorefrontError(f"unknown kind {kind!r}; use one of {', '.join(NEW_KINDS)}")
    path = root / "content" / _FOLDERS[kind] / name
    if path.exists():
        raise StorefrontError(f"{path} already exists; choose another title")
    path.parent.mkdir(parents=True, exist_ok=True)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False,
                           width=1_000_000)  # a long title on one line to edit
    front = front.replace("price: '0.00'", "price: 0.00")
    with path.open("x", encoding="utf-8") as handle:
        handle.write(f"---\n{front}---\n\n{body}")
    return path


def _short(slug: str, most: int = 80) -> str:
    """``slug`` cut at a dash to at most ``most`` characters: a long title made a file name the
    file system refused ("File name too long"); the title itself is kept whole."""
    if len(slug) <= most:
        return slug
    cut = slug[:most + 1].rsplit("-", 1)[0]
    return cut if cut else slug[:most]


def _site_zone(root: Path) -> zoneinfo.ZoneInfo:
    try:
        data = yaml.safe_load((root / CONFIG_NAME).read_text(encoding="utf-8"))
        return zoneinfo.ZoneInfo(str(data.get("timezone", "Europe/Rome")))
    except (OSError, AttributeError, yaml.YAMLError, zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Europe/Rome")

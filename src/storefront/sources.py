"""Discover the content files of a site.

Stage 2. Walks ``content/`` in sorted order, decides each file's kind from its top folder and
reads it once. Hidden files and editor temp files are ignored; anything else that does not fit is
an error rather than being skipped, so nothing an owner wrote silently disappears.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from storefront.errors import BuildFailed, ContentError, error_at

Kind = Literal["posts", "products", "faq", "pages", "assets"]
DOCUMENT_KINDS: tuple[Kind, ...] = ("posts", "products", "faq", "pages")
CONTENT_DIR = "content"


@dataclass(frozen=True)
class SourceFile:
    """One file under ``content/``: its kind, site-relative path and bytes."""

    kind: Kind
    path: str  # relative to the site root, forward slashes: content/posts/x.md
    data: bytes
    digest: str

    @property
    def stem(self) -> str:
        return self.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]

    @property
    def asset_path(self) -> str:
        """For assets: the path below ``content/assets/``."""
        return self.path.split("/", 2)[2]


def is_ignored(name: str) -> bool:
    """Hidden files and the temp files editors leave behind."""
    return (
        name.startswith((".", "#", "~"))
        or name.endswith(("~", ".swp", ".swx", ".tmp", ".bak", "___jb_tmp___", "___jb_old___"))
        or name in {"Thumbs.db", "desktop.ini"}
    )


def discover_sources(root: Path) -> tuple[SourceFile, ...]:
    """Every content file under ``root/content``, sorted by path."""
    content = root / CONTENT_DIR
    if not content.is_dir():
        return ()
    found: list[SourceFile] = []
    errors: list[ContentError] = []
    for path in sorted(_walk(content)):
        # NFC: a Mac writes "é" as two code points; links typed in an editor use one
        rel = unicodedata.normalize("NFC", path.relative_to(root).as_posix())
        if path.is_symlink():
            # A link could publish anything on the machine (or loop); content must be real files.
            errors.append(error_at(rel, 0, "this is a symbolic link; content must be real files",
                                   "copy the file into content/ instead of linking to it"))
            continue
        parts = path.relative_to(content).parts
        top = parts[0] if len(parts) > 1 else ""
        if top not in (*DOCUMENT_KINDS, "assets"):
            errors.append(
                error_at(rel, 0, "this file is not in a known content folder",
                         "move it into content/posts, products, faq, pages or assets")
            )
            continue
        if top != "assets" and (len(parts) != 2 or path.suffix != ".md"):
            errors.append(
                error_at(rel, 0, f"content/{top}/ holds only .md files, one per document",
                         "put images and other files in content/assets/")
            )
            continue
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            # replaced while the folder was read (an editor saving through a temp file and a
            # rename): the file is not there now, and the change will trigger another build
            continue
        found.append(SourceFile(top, rel, data, hashlib.sha256(data).hexdigest()))
    if errors:
        raise BuildFailed(errors)
    return tuple(found)


def _walk(folder: Path) -> list[Path]:
    result: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return result  # removed while the walk went on: a change, not a crash
    for entry in entries:
        if is_ignored(entry.name):
            continue
        if entry.is_symlink():
            result.append(entry)  # reported by discover_sources, never followed
        elif entry.is_dir():
            result.extend(_walk(entry))
        elif entry.is_file():
            result.append(entry)
    return result


def decode_text(source: SourceFile) -> str:
    """The file as text: UTF-8 (a BOM is dropped), newlines normalised to ``\\n``."""
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = source.data.count(b"\n", 0, exc.start) + 1
        raise BuildFailed(
            [error_at(source.path, line, "the file is not UTF-8 text",
                      "save it as UTF-8 in your editor (it may be Latin-1 or Windows-1252)")]
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")

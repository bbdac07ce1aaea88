"""When a document's address changes, suggest the alias that keeps old links working.

Pure. The preview remembers where each published document was at its last build; when a slug is
edited or a file renamed, the old address would break every link already shared on social media,
in newsletters and in search results, so the preview says which ``aliases:`` line to add.
A renamed file is recognised by its kind and title.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storefront.documents import Document


@dataclass(frozen=True)
class Address:
    """Where a published document lives, and what it is (to recognise a renamed file)."""

    kind: str
    title: str
    url: str
    aliases: tuple[str, ...]


def addresses(documents: Iterable[Document], base_path: str) -> dict[str, Address]:
    """Source path -> address of every document that has a page of its own (site paths)."""
    found = {}
    for document in documents:
        url = getattr(document, "url", None)
        if isinstance(url, str):
            site_path = "/" + url.removeprefix(base_path)
            found[document.source] = Address(type(document).__name__,
                                              str(getattr(document, "title", "")), site_path,
                                              tuple(getattr(document, "aliases", ())))
    return found


def moved(before: Mapping[str, Address], now: Mapping[str, Address],
          pending: Mapping[str, str]) -> dict[str, str]:
    """Source -> old address of every document still missing the alias for an earlier address:
    ``pending`` from earlier builds (dropped once the alias is added or the address is back),
    plus what moved since ``before``."""
    gone = {source: old for source, old in before.items() if source not in now}
    found = {}
    for source, new in now.items():
        old_url = pending.get(source)
        if old_url is None:
            old = before.get(source)
            if old is None:  # a new file: a renamed one when a vanished file had its kind, title
                key = (new.kind, new.title)
                renamed = next((s for s, g in gone.items() if (g.kind, g.title) == key), None)
                if renamed is not None:  # renamed again: from where it was before its last name
                    old_url = pending.get(renamed, gone[renamed].url)
            else:
                old_url = old.url
        if old_url is not None and old_url != new.url and old_url not in new.aliases:
            found[source] = old_url
    return found


def alias_suggestions(moves: Mapping[str, str], now: Mapping[str, Address]) -> list[str]:
    """One line of advice per moved document."""
    return [f"{source}: its address moved from {old} to {now[source].url}, so links shared "
            f"before would break; add to its front matter: aliases: [{old}]"
            for source, old in sorted(moves.items())]

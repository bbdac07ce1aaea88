"""A preview save that changed only the text of a post, a product or a page: its pages first,
the site after.

Stage 8, beside :mod:`storefront.rendering`. A preview save plans the whole site again (the model,
every page, every output, the checks) before it renders the pages that changed: at 1,000 posts
that is ~100 ms before the browser is told, for the commonest save of all, a document's text. Yet
when a document's card (title, date, summary, tags, photo, price: what other pages show of it),
its links and its addresses are as they were, and nothing else changed since the last good
build, the pages that change are exactly those whose records say they read the document's body:
its own page, and a listing that shows whole posts. Those pages are rendered from the last
build's tasks, with the document's new version (as the site model holds it: a scheduled post, a
product on sale) put in place of the old one wherever the task holds it, and written; the own
page of a product or a page is planned again (its head data reads its text); the browsers are
told; then the build goes on as always (plan, checks, render, write, feeds), finds those pages
as they must be, and finishes the rest. Whatever the conditions do not cover (an FAQ answer: the
FAQ page's structured data reads it) goes the usual way, the pages shown when all are in place.

Pure but for :func:`render_quick`'s rendering (a page's bytes go to the cache's page folder).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from storefront.cache import OutputRecord, store_page
from storefront.deps import map_documents
from storefront.documents import DOCUMENT_TYPES, Document, Page, Post, Product
from storefront.errors import BuildFailed
from storefront.imageuses import document_uses
from storefront.parsing import Hashes
from storefront.plan import RenderTask
from storefront.rendering import RenderState, renderer_for
from storefront.site import BuildOptions, modelled
from storefront.sources import Kind, SourceFile, StatCache, read_source

MOST_CHANGED = 3  # documents in one save (a save of more goes the usual way)
KINDS = ("posts", "products", "pages")  # of the documents whose text a quick save shows
MOST_PAGES = 12  # pages that read a changed post's body (more: the usual way)


@dataclass(frozen=True)
class QuickBase:
    """What the last good preview build of a variant planned and rendered."""

    shape: tuple[Any, ...]  # what else the build depends on: config, theme, options, base path
    day: datetime  # its build time
    next_change: datetime | None  # when the site changes with no file changing
    sources: tuple[tuple[str, str, str], ...]  # (path, kind, SHA-256) of every content file
    files: Mapping[str, str]  # path -> the file as discovered (absolute, its own spelling)
    documents: Mapping[str, Document]  # source path -> the document it planned with
    hashes: Mapping[str, Hashes]
    pages: Mapping[str, int]  # output path of a page -> its task's index in ``state.tasks``
    final: frozenset[str]  # every output path but the feeds'
    state: RenderState
    records: Mapping[str, OutputRecord]
    options: BuildOptions
    own_page: Callable[[Product | Page], RenderTask]  # see Planner.own_page

    @functools.cached_property
    def known(self) -> dict[str, tuple[str, str]]:
        """Path of every content file -> (kind, SHA-256)."""
        return {path: (kind, sha) for path, kind, sha in self.sources}


def changed_documents(base: QuickBase, shape: tuple[Any, ...], now: datetime,
                      sources: Sequence[SourceFile]) -> list[str] | None:
    """The posts, products and pages whose files changed since ``base``, when a quick save may
    show them: nothing but the content of a few of them changed (no file added, removed or
    renamed, no asset, the same config, theme and build day); None otherwise."""
    if shape != base.shape or not still_current(base, now):
        return None
    if len(sources) != len(base.sources):
        return None
    changed = []
    for source, (path, kind, sha) in zip(sources, base.sources, strict=True):
        if source.path != path or source.kind != kind:
            return None
        if source.digest != sha:
            if kind not in KINDS:
                return None
            changed.append(path)
    return changed if 0 < len(changed) <= MOST_CHANGED else None


def still_current(base: QuickBase, now: datetime) -> bool:
    """Whether the site of ``base`` is the site at ``now``, its files aside: the same day, and
    no scheduled change (a post published, a sale ended) since."""
    return now.date() == base.day.date() and (
        base.next_change is None or now.timestamp() < base.next_change.timestamp())


def saved_sources(base: QuickBase, root: str, saved: AbstractSet[str], now: datetime,
                  stats: StatCache) -> list[SourceFile] | None:
    """The posts, products and pages that changed among the files ``saved`` (the preview's
    watcher names them: absolute paths), read now; None when a quick save may not show them
    before the site's files are listed again.

    Each path must be the file of such a document ``base`` knows, there as a regular file, or a
    file neither there nor known (an editor's temporary file, come and gone); any other (the
    config, a theme file, an asset, a new file, a folder) and the save goes the usual way. The
    watcher's word is taken for what it does not name: the build that follows lists every file
    and shows its pages again if it makes them otherwise (one event missed, say)."""
    if not still_current(base, now):
        return None
    known = base.known
    top = os.path.abspath(root)
    changed: list[SourceFile] = []
    for name in sorted(saved):
        rel = unicodedata.normalize(
            "NFC", os.path.relpath(os.path.abspath(name), top).replace(os.sep, "/"))
        entry = known.get(rel)
        if entry is None:
            # only under content/ is a file neither there nor known a temporary file come and
            # gone (a theme file or the config deleted is none)
            if os.path.lexists(name) or not rel.startswith("content/"):
                return None
            continue
        if os.path.abspath(name) != base.files.get(rel):  # another spelling of its name (NFD)
            return None
        kind, sha = entry
        if kind not in KINDS or os.path.islink(name) or not os.path.isfile(name):
            return None
        try:
            source = read_source(cast(Kind, kind), rel, name, stats)
        except OSError:
            return None
        if source.digest != sha:
            changed.append(source)
            if len(changed) > MOST_CHANGED:
                return None
    return changed or None


def quick_tasks(base: QuickBase, documents: Mapping[str, Document],
                hashes: Mapping[str, Hashes], changed: Sequence[str], now: datetime
                ) -> list[tuple[str, RenderTask]] | None:
    """The pages to show first, with the tasks that render them now: those whose records read
    a changed document's body, each task holding the new version wherever it held the old one
    (a product's or a page's own page planned again). None when a document changed more than
    its body and links' text (its card, its links' targets, its addresses), or when a task
    holds it where it cannot be replaced."""
    replaced: dict[int, Document] = {}  # id of the old version -> the new one
    mine: dict[str, Product | Page] = {}  # path -> a product's or page's new version
    for path in changed:
        old, new = base.documents.get(path), documents.get(path)
        if type(old) is not type(new) or not isinstance(new, (Post, Product, Page)):
            return None
        assert isinstance(old, (Post, Product, Page))
        if (hashes.get(path, ("", ""))[0] != base.hashes.get(path, ("", ""))[0]
                or new.aliases != old.aliases or _targets(new) != _targets(old)
                or _images(new) != _images(old)):
            return None
        # as the site model holds it: a scheduled post, a product on sale are its copies
        copy = modelled(new, base.options, now)
        if copy is None:
            return None
        replaced[id(old)] = copy
        if isinstance(copy, (Product, Page)):
            mine[path] = copy
    fresh = {id(new) for new in replaced.values()}
    reading = sorted(page for page, record in base.records.items()
                     if page in base.pages
                     and any((path, "full") in record.deps.documents for path in changed))
    if not reading or len(reading) > MOST_PAGES:
        return None
    tasks = []
    for page in reading:
        task = base.state.tasks[base.pages[page]]
        own = mine.get(task.source)
        if own is not None:  # its head data reads its text: planned again
            made = base.own_page(own)
            if (made.url, made.template) != (task.url, task.template):
                return None
            task = made
        else:
            task = dataclasses.replace(task, context=_replace(task.context, replaced),
                                       meta=_replace(task.meta, replaced))
        if _holds(task.context, changed, fresh) or _holds(task.meta, changed, fresh):
            return None
        tasks.append((page, task))
    return tasks


def render_quick(state: RenderState, tasks: Sequence[tuple[str, RenderTask]]
                 ) -> list[tuple[str, str, int]] | None:
    """Render the tasks with the last build's renderer; (output path, SHA-256, size) of each,
    their bytes in the cache's page folder. None when a page does not render (the build that
    follows reports it at its line)."""
    renderer = renderer_for(state)
    made = []
    for page, task in tasks:
        try:
            data, _ = renderer.render(task)
        except BuildFailed:
            return None
        made.append((page, store_page(state.page_folder, data), len(data)))
    return made


def _targets(document: Post | Product | Page) -> list[str]:
    """Where a document's text links and which photos it shows (their lines aside)."""
    return sorted(target for target, _ in document.links)


def _images(document: Post | Product | Page) -> list[tuple[str, bool, str | None]]:
    """How a document uses each image (their lines aside): a link to a photo made into the
    photo itself has the same targets, but needs resized copies the last build did not make,
    and the last build's catalogue would show it as a bare ``<img>``."""
    return sorted({(use.path, use.shown, use.card) for use in document_uses(document, "/").uses},
                  key=repr)


def _replace(value: Any, replaced: Mapping[int, Document]) -> Any:
    """``value`` with the new version of each replaced document, walked as
    :func:`storefront.deps.as_views` walks a page's context (what a template can reach), and
    into a dataclass that holds a document itself (a post's structured data in its head data,
    which reads the post's card)."""
    return map_documents(value, lambda document: replaced.get(id(document), document),
                         holders=True)


def _holds(value: Any, changed: Sequence[str], fresh: AbstractSet[int], depth: int = 6) -> bool:
    """Whether a version of a changed document other than its new one (``fresh``: their ids) is
    still within ``value`` (the old one, or a copy of it the replacement did not know):
    anywhere in it, documents' own fields aside (a document holds no other of these)."""
    if isinstance(value, DOCUMENT_TYPES):
        return cast(Document, value).source in changed and id(value) not in fresh
    if depth == 0:
        return False
    if isinstance(value, (tuple, list)):
        return any(_holds(item, changed, fresh, depth - 1) for item in value)
    if isinstance(value, dict):
        return any(_holds(item, changed, fresh, depth - 1) for item in value.values())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_holds(getattr(value, f.name), changed, fresh, depth - 1)
                   for f in dataclasses.fields(value))
    return False

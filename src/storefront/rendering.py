"""Stage 6: render the pages whose inputs changed, in parallel, and remember what each read.

For every planned page the last build left an :class:`~storefront.cache.OutputRecord`: the
fingerprint of its inputs, the hash of its bytes and the dependencies it recorded. A page is
rendered again only when the fingerprint of those same dependencies, evaluated now, differs (or
its bytes are nowhere to be found); then its new record is what it read this time. Rendered pages
go straight into the cache's page folder (named by their SHA-256), so no process holds the whole
site in memory and the write stage copies them into place. Feeds go there too, made again only
when the documents they list (or the site, or their clock) changed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from storefront.cache import OutputRecord, StoredDocument, page_file, store_page
from storefront.config import SiteConfig
from storefront.deps import BodyLoader, DependencyRecord, deferred, set_body_loader
from storefront.environment import compile_all
from storefront.errors import BuildFailed, ContentError, error_at
from storefront.fingerprints import Fingerprinter, digest, signature
from storefront.localize import prefix_links
from storefront.outputs import Output
from storefront.plan import RenderTask
from storefront.presentation import Presentation
from storefront.site import NavItem
from storefront.staging import stage_file
from storefront.theme import Theme
from storefront.urls import UrlBuilder
from storefront.workers import WorkerPool

if TYPE_CHECKING:
    import jinja2

    from storefront.render import Renderer


@dataclass(frozen=True)
class RenderState:
    """Everything a worker needs to render this build's pages (pickled once per build)."""

    chain: tuple[Theme, ...]
    config: SiteConfig
    strings: dict[str, str]
    nav: tuple[NavItem, ...]
    now: datetime
    pages: frozenset[str]
    tasks: tuple[RenderTask, ...]
    page_folder: Path
    theme_key: str = ""  # storefront's code and the theme files: when it changes, so do templates
    bodies: str = ""  # the cache database workers read deferred bodies from
    deferrable: Mapping[str, str] = field(default_factory=dict)  # source -> key stored there
    presentation: Presentation = field(default_factory=Presentation)  # asset_url(), image()...
    staging: str = ""  # a first build's staging folder, where each page is put as it is rendered
    paths: tuple[str, ...] = ()  # with ``staging``: each task's output path
    compiled: str = ""  # the cache's folder of compiled templates (storefront.bytecode), if any
    # False with a throwaway cache (--no-cache) and ``staging``: the staging folder holds the
    # only copy of each page, as no later build reads the cache's (a second file per page,
    # created and deleted again, was a tenth of a clean build's time on a slow disk)
    keep_pages: bool = True


@dataclass(frozen=True)
class Rendered:
    """One page's outcome: where its bytes are and what it read, or its problems."""

    index: int
    sha256: str = ""
    size: int = 0
    deps: DependencyRecord = field(default_factory=DependencyRecord)
    errors: tuple[ContentError, ...] = ()
    staged: tuple[int, int] | None = None  # size and mtime of its file in the staging folder
    signature: str = ""  # its task's (see select_pages)


_renderer: list[object] = []  # [state, renderer] of this process's current build


def renderer_for(state: RenderState) -> Renderer:
    """This process's renderer of ``state``'s build, made on first use."""
    from storefront.render import Renderer

    if not _renderer or _renderer[0] is not state:
        urls = UrlBuilder.from_base_url(state.config.base_url)
        _renderer[:] = [state, Renderer(state.chain, state.config, urls, state.strings, state.nav,
                                        state.now, state.pages, state.theme_key,
                                        state.presentation, state.compiled)]
        set_body_loader(body_loader(state.bodies, state.deferrable, urls.base_path)
                        if state.bodies else None)
    renderer = _renderer[1]
    assert isinstance(renderer, Renderer)
    return renderer


def compile_templates(state: RenderState) -> None:
    """Compile the theme's templates in this process, before it forks the workers that render
    ``state``: they inherit them compiled (or loaded from the cache's signed store)."""
    compile_all(renderer_for(state).env)


def precompile_templates(chain: tuple[Theme, ...], theme_key: str, config: SiteConfig,
                         compiled: str = "") -> None:
    """:func:`compile_templates` before the render state exists (while the workers parse the
    content): the renderer made later for the same theme state finds them compiled."""
    from storefront.render import template_environment

    if theme_key:  # only an environment kept by its theme key is found again
        compile_all(template_environment(chain, theme_key, config,
                                         UrlBuilder.from_base_url(config.base_url), compiled))


def render_chunk(state: RenderState, indices: Sequence[int]) -> list[Rendered]:
    """Render some pages (in a worker or in this process); a page's problem is a value."""
    renderer = renderer_for(state)
    results = []
    shared: dict[int, tuple[Any, Any]] = {}  # see fingerprints.signature
    for index in indices:
        task = state.tasks[index]
        # before the render: a template may change a list of its context ({% do %})
        made = signature(task.template, task.meta, task.context, shared)
        try:
            data, deps = renderer.render(task)
        except BuildFailed as exc:
            results.append(Rendered(index, errors=exc.errors))
            continue
        except RecursionError:
            task = state.tasks[index]
            results.append(Rendered(index, errors=(error_at(
                task.source, 0, f"{task.url} is nested too deeply to render",
                "check the templates for a macro or include that calls itself"),)))
            continue
        staged = None
        if state.staging and not state.keep_pages:
            sha = hashlib.sha256(data).hexdigest()
            staged = stage_file("", os.path.join(state.staging, state.paths[index]), data)
        else:
            sha = store_page(state.page_folder, data)
            if state.staging:
                staged = stage_file(page_file(state.page_folder, sha),
                                    os.path.join(state.staging, state.paths[index]), data)
        results.append(Rendered(index, sha, len(data), deps, staged=staged, signature=made))
    return results


def forget_renderer() -> None:
    """Drop this process's renderer and its connection to the build cache (before forking
    workers: a forked worker would otherwise close the parent's connection when it replaces
    them, which SQLite warns against). The next render in this process makes them again."""
    _renderer.clear()
    set_body_loader(None)


def body_loader(database: str, keys: Mapping[str, str], base_path: str) -> BodyLoader:
    """Loads a deferred body from the build cache, checked against its row's checksum and the key
    the parent process parsed (a row changed since is an error, never used)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)

    def load(source: str, name: str) -> Markup:
        row = connection.execute("SELECT key, meta, html, summary, checksum FROM documents "
                                 "WHERE path = ?", (source,)).fetchone()
        if row is None or row[0] != keys.get(source) or StoredDocument(*row[:4]).checksum() != row[4]:
            raise BuildFailed([error_at(source, 0, "the build cache changed during the build",
                                        "build again")])
        return Markup(prefix_links(row[2], base_path))  # noqa: S704 - the owner's own HTML

    return load


def with_deferred_bodies(state: RenderState) -> RenderState:
    """The state with the bodies of stored documents deferred: what workers are sent.

    Documents are looked for where templates see them as documents (:func:`~storefront.deps.
    as_views`: in the context, inside tuples and dataclasses); each value is looked at once
    (listings, tags and related posts share their tuples and documents between pages), and a
    value with no stored document in it is kept as it is, not copied.
    """
    deferrable = dict(state.deferrable)
    light: dict[int, tuple[Any, Any]] = {}  # id -> (value, its light form), the value held

    def lighten(value: Any) -> Any:
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        found = light.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        result = value
        source = getattr(value, "source", None)
        if isinstance(value, tuple):
            items = [lighten(item) for item in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                result = tuple(items)
        elif isinstance(source, str) and hasattr(value, "lines"):
            if source in deferrable:
                result = deferred(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = [f.name for f in dataclasses.fields(value) if f.init]
            if any(_may_hold_documents(getattr(value, name)) for name in fields):
                changes = {name: lighten(getattr(value, name)) for name in fields}
                if any(changes[name] is not getattr(value, name) for name in fields):
                    result = dataclasses.replace(value, **changes)
        light[id(value)] = (value, result)
        return result

    tasks = []
    for task in state.tasks:
        context = {key: lighten(value) for key, value in task.context.items()}
        meta = lighten(task.meta)  # a post's structured data holds the post (seo.PostJsonLd)
        same = meta is task.meta and all(context[key] is value for key, value in task.context.items())
        tasks.append(task if same else dataclasses.replace(task, context=context, meta=meta))
    return dataclasses.replace(state, tasks=tuple(tasks), deferrable=deferrable)


def _may_hold_documents(value: Any) -> bool:
    """Whether :func:`with_deferred_bodies` looks inside a dataclass's field: a tuple, or a
    document itself."""
    return isinstance(value, tuple) or (isinstance(getattr(value, "source", None), str)
                                        and hasattr(value, "lines"))


class LazyMapping(Mapping[str, str]):
    """A mapping made on first use (what bodies may be deferred is asked only when pages go to
    the workers, which a preview's save rarely needs); a plain dict is what workers are sent."""

    def __init__(self, make: Callable[[], Mapping[str, str]]) -> None:
        self._make: Callable[[], Mapping[str, str]] | None = make
        self._made: Mapping[str, str] = {}

    def _data(self) -> Mapping[str, str]:
        if self._make is not None:
            self._made, self._make = self._make(), None
        return self._made

    def __getitem__(self, key: str) -> str:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self._data()),)  # sent to a worker as the dict it stands for


def template_identity(env: jinja2.Environment) -> Callable[[str], str]:
    """What a template name resolves to now: the file it comes from and its bytes, or missing.

    Remembered per name for the life of the function (one build).
    """

    import jinja2

    @functools.cache
    def identity(name: str) -> str:
        assert env.loader is not None
        try:
            source, filename, _ = env.loader.get_source(env, name)
        except jinja2.TemplateNotFound:
            return "missing"
        return digest(filename or name, hashlib.sha256(source.encode("utf-8")).hexdigest())

    return identity


@dataclass
class PageMemo:
    """What a long-lived session remembers of its last build, so that a page whose task and
    inputs are the same objects or values as then is not fingerprinted again (a preview save
    costs what it changes, not what the site holds).

    A page is taken as unchanged when: the site fingerprint, the theme, the set of pages, the
    year and the answers of the build-wide tracked calls (asset URLs, closures on view, and the
    image catalog behind ``image()``, ``picture()`` and the images of Markdown text) are the
    same as last time; its task equals last time's (same template, head data and
    context: documents compare as values); no document it read changed; and it did not use the
    exact build time. Anything else is fingerprinted as in a fresh build.
    """

    context: tuple[object, ...] = ()
    tasks: dict[str, RenderTask] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    documents: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """Which pages a build renders: the records of the pages kept as they were, the indices of
    the tasks to render, and each task's signature and the memo's comparison values."""

    kept: dict[str, OutputRecord]
    todo: list[int]
    signatures: list[str]
    context: tuple[object, ...]
    documents: dict[str, tuple[str, str]]


def select_pages(state: RenderState, records: dict[str, OutputRecord], paths: Sequence[str],
                 fingerprints: Fingerprinter, available: Callable[[str, OutputRecord], bool],
                 memo: PageMemo | None = None) -> Selection:
    """Which pages changed: ``paths[i]`` is the output path of ``state.tasks[i]``;
    ``available(path, record)`` tells whether the bytes a record names can still be had (in the
    output folder or in the cache)."""
    memo = memo if memo is not None else PageMemo()
    context = (fingerprints.site, state.theme_key, state.pages, fingerprints.now.year,
               state.presentation)
    documents = {source: (fingerprints.document(source, "card"), fingerprints.document(source, "full"))
                 for source in fingerprints.documents}
    same_context = memo.context == context
    changed = {source for source in documents.keys() | memo.documents.keys()
               if documents.get(source) != memo.documents.get(source)}
    signatures: list[str] = []
    kept: dict[str, OutputRecord] = {}
    todo: list[int] = []
    shared: dict[int, tuple[Any, Any]] = {}  # values of the context pages share, walked once
    for index, (task, path) in enumerate(zip(state.tasks, paths, strict=True)):
        record = records.get(path)
        known = same_context and memo.tasks.get(path) == task
        signatures.append(memo.signatures[path] if known else "")
        if record is None or not available(path, record):
            # nothing to compare: its signature is made where it renders (in parallel, in a
            # first build: 20,000 pages' were 0.5 s of this process's at 10,000 posts)
            todo.append(index)
        elif (known and record.deps.clock != "moment"
              and (not changed or changed.isdisjoint(record.deps.sources))):
            kept[path] = record  # the same page, and nothing it read changed
        else:
            if not signatures[index]:
                signatures[index] = signature(task.template, task.meta, task.context, shared)
            if fingerprints.page(signatures[index], record.deps) == record.fingerprint:
                kept[path] = record
            else:
                todo.append(index)
    return Selection(kept, todo, signatures, context, documents)


def render_pages(state: RenderState, selection: Selection, paths: Sequence[str],
                 fingerprints: Fingerprinter, pool: WorkerPool,
                 progress: Callable[[int, int], None] | None = None,
                 staged: dict[str, tuple[str, int, int]] | None = None,
                 ) -> tuple[dict[str, OutputRecord], list[ContentError], PageMemo]:
    """Render the selected pages; return every page's record, the problems, and the memo of
    this build (to keep once the whole build succeeded).

    Workers that were forked holding ``state`` (:meth:`WorkerPool.share`) render it as it is;
    others are sent it with the bodies of stored documents deferred. With a staging folder in
    ``state``, the manifest entry of each page put there goes to ``staged``.
    """
    tasks = state.tasks  # as planned: the memo compares the next build's tasks with these
    todo, signatures = selection.todo, selection.signatures
    if state.bodies and pool.parallel(len(todo)) and not pool.holds(state):
        state = with_deferred_bodies(state)
    result = dict(selection.kept)
    errors: list[ContentError] = []
    shared: dict[Any, Any] = {}  # one copy of what many records list (see DependencyRecord.shared)
    done = 0
    for part in pool.imap(render_chunk, state, todo):  # progress shown as pages come in
        for outcome in part:
            if outcome.errors:
                errors.extend(outcome.errors)
                continue
            if not signatures[outcome.index]:
                signatures[outcome.index] = outcome.signature
            fingerprint = fingerprints.page(signatures[outcome.index], outcome.deps)
            result[paths[outcome.index]] = OutputRecord(fingerprint, outcome.sha256, outcome.size,
                                                        outcome.deps.shared(shared))
            if outcome.staged is not None and staged is not None:
                staged[paths[outcome.index]] = (outcome.sha256, *outcome.staged)
        done += len(part)
        if progress is not None:
            progress(done, len(todo))
    now = PageMemo(selection.context, dict(zip(paths, tasks, strict=True)),
                   dict(zip(paths, signatures, strict=True)), selection.documents)
    return result, once_per_line(errors), now


WHILE_RENDERING = " (while rendering "


def once_per_line(errors: list[ContentError]) -> list[ContentError]:
    """A template's mistake once, not once for every page that shows it (a typo in post.html
    listed a thousand times at a thousand posts): the problems of one line with one message
    become the first page's (by address), which adds how many other pages met it. Its hint is
    the first page's too: a hint may show an example made of the page's own value (the date
    filter's formats, each with what it makes of the page's date)."""
    groups: dict[tuple[Any, str], list[ContentError]] = {}
    for error in errors:
        core, found, _ = error.message.partition(WHILE_RENDERING)
        key = (error.location, core if found else error.message)
        groups.setdefault(key, []).append(error)
    kept = []
    for group in groups.values():
        first = min(group, key=lambda error: error.message)
        others = len(group) - 1
        if others and first.message.endswith(")"):
            pages = "page" if others == 1 else "pages"
            first = dataclasses.replace(
                first, message=f"{first.message[:-1]}, and {others} other {pages})")
        kept.append(first)
    return kept


def make_feeds(outputs: Sequence[Output], paths: Sequence[str], records: dict[str, OutputRecord],
               fingerprints: Fingerprinter, available: Callable[[str, OutputRecord], bool],
               page_folder: Path) -> dict[str, OutputRecord]:
    """Make the feeds whose inputs changed (``paths[i]`` is where ``outputs[i]`` goes); return
    every feed's record."""
    result: dict[str, OutputRecord] = {}
    for output, path in zip(outputs, paths, strict=True):
        if output.kind != "feed":
            continue
        assert output.make is not None
        fingerprint = fingerprints.inputs(f"feed {path}", output.inputs, output.extra)
        record = records.get(path)
        if record is None or record.fingerprint != fingerprint or not available(path, record):
            data = output.make()
            record = OutputRecord(fingerprint, store_page(page_folder, data), len(data))
        # what it uses of the clock, for the whole-build shortcut
        result[path] = dataclasses.replace(record, deps=DependencyRecord(clock=output.clock))
    return result

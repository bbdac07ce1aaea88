"""Record what a page really reads while it renders.

Learned from Lektor: dependencies are recorded, not guessed. While one page renders, a
:class:`Recorder` collects

* every template looked up by name (extends, include, import), found or missing, through
  :func:`record_template` (called by the theme's Jinja environment);
* every document it reads, at the level it reads it: ``card`` (title, URL, date, summary: what a
  listing shows) or ``full`` (the body too), through :class:`DocumentView`, the wrapper
  templates see instead of the document;
* every call of a site-wide function whose answer can change between builds
  (``page_exists``), through :func:`tracked`;
* how much of the build time it used: the year (the footer's ©) or the whole moment, through
  :class:`TrackedNow`.

The parent process later compares those dependencies' current values with the ones the page was
rendered with (:mod:`storefront.fingerprints`); a page whose dependencies did not change is
neither rendered nor written. This module only records: it computes no fingerprint.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from markupsafe import Markup

from storefront.bodystore import StoredBody
from storefront.documents import Document
from storefront.urls import UrlBuilder

Level = Literal["card", "full"]
D = TypeVar("D", bound=Document)
# How much of the build time an output uses: nothing, its year (the footer's ©), its day (the
# merchant feed's sale dates; no template can ask for it) or the exact moment. Each includes the
# ones before it.
ClockUse = Literal["", "year", "day", "moment"]
_CLOCK_ORDER = {"": 0, "year": 1, "day": 2, "moment": 3}

# The fields of a document that only its own page shows; everything else is its "card". (A
# document's old addresses matter to its feeds' ids and the redirects, never to a listing.)
BODY_FIELDS = frozenset({"content_html", "answer_html", "links", "lines", "aliases",
                         "unnamed_links"})
# The fields that hold the owner's HTML (which a page may rewrite as it shows it: its images)
HTML_FIELDS = frozenset({"content_html", "summary_html", "answer_html"})


@dataclass(frozen=True)
class DependencyRecord:
    """What one page read, in a form that can be stored as JSON and compared later."""

    templates: tuple[str, ...] = ()
    documents: tuple[tuple[str, str], ...] = ()  # (source, "card" | "full")
    calls: tuple[tuple[str, str], ...] = ()  # (function, argument)
    clock: str = ""

    @functools.cached_property
    def sources(self) -> frozenset[str]:
        """The documents read, at either level (asked by the preview at every save, whether one
        of a few changed documents is among them: ``changed.isdisjoint(record.sources)`` looks
        at the few, not at the hundreds a listing reads)."""
        return frozenset(source for source, _ in self.documents)

    def merged(self, other: DependencyRecord) -> DependencyRecord:
        recorder = Recorder()
        recorder.add(self)
        recorder.add(other)
        return recorder.snapshot()

    def shared(self, table: dict[Any, Any]) -> DependencyRecord:
        """This record made of the equal tuples already in ``table`` (and adding its own there).

        A build holds one record per output: 18,000 at 10,000 posts. Most of them list the same
        templates and calls, and each document appears in the records of many pages, yet each
        record decoded from the cache or received from a worker brings its own copies: 70 MiB of
        them at that size, against 17 MiB shared.
        """
        documents = tuple(table.setdefault(pair, pair) for pair in self.documents)
        calls = tuple(table.setdefault(call, call) for call in self.calls)
        return DependencyRecord(table.setdefault(self.templates, self.templates),
                                table.setdefault(documents, documents),
                                table.setdefault(calls, calls), self.clock)


@dataclass
class Recorder:
    """Collects the dependencies of the page being rendered."""

    templates: set[str] = field(default_factory=set)
    documents: dict[str, str] = field(default_factory=dict)
    calls: set[tuple[str, str]] = field(default_factory=set)
    clock: str = ""

    def read_document(self, source: str, level: Level) -> None:
        if self.documents.get(source) != "full":
            self.documents[source] = level

    def use_clock(self, use: ClockUse) -> None:
        if _CLOCK_ORDER[use] > _CLOCK_ORDER[self.clock]:
            self.clock = use

    def add(self, record: DependencyRecord) -> None:
        self.templates.update(record.templates)
        for source, level in record.documents:
            self.read_document(source, "full" if level == "full" else "card")
        self.calls.update(record.calls)
        self.use_clock(record.clock)  # type: ignore[arg-type]

    def snapshot(self) -> DependencyRecord:
        return DependencyRecord(tuple(sorted(self.templates)), tuple(sorted(self.documents.items())),
                                tuple(sorted(self.calls)), self.clock)


_current: Recorder | None = None


def record_template(name: str) -> None:
    """A template is being looked up for the page being rendered."""
    if _current is not None:
        _current.templates.add(name)


def current() -> Recorder | None:
    """The recorder of the page being rendered in this process, if any."""
    return _current


@contextmanager
def recording() -> Iterator[Recorder]:
    """Record into a fresh :class:`Recorder` (nested uses each get their own)."""
    global _current
    outer, _current = _current, Recorder()
    try:
        yield _current
    finally:
        _current = outer


class DeferredBody(Markup):
    """Stands for a document's body in the state sent to worker processes: the worker loads the
    body (from the build cache) only when a template reads it, so no worker holds every body."""

    __slots__ = ()


BodyLoader = Callable[[str, str], Markup]  # (source, field) -> the body
_body_loader: BodyLoader | None = None


def set_body_loader(loader: BodyLoader | None) -> None:
    global _body_loader
    _body_loader = loader


def deferred(document: D) -> D:
    """``document`` with its body fields deferred (see :class:`DeferredBody`)."""
    bodies: dict[str, Any] = {f.name: DeferredBody() for f in dataclasses.fields(document)
                              if f.name in ("content_html", "answer_html")}
    return dataclasses.replace(document, **bodies)


HtmlFilter = Callable[[Any], Any]


class DocumentView:
    """A document as templates see it: every attribute read is recorded as card or full, and
    its HTML passes through ``html`` (the page's image rewriting) when one is given."""

    __slots__ = ("_document", "_html")

    def __init__(self, document: Document, html: HtmlFilter | None = None) -> None:
        object.__setattr__(self, "_document", document)
        object.__setattr__(self, "_html", html)

    def __getattr__(self, name: str) -> Any:
        document = self._document
        recorder = _current
        if recorder is not None:
            recorder.read_document(document.source, "full" if name in BODY_FIELDS else "card")
        value = getattr(document, name)
        if isinstance(value, DeferredBody):
            assert _body_loader is not None, "a deferred body without a loader"
            value = _body_loader(document.source, name)
        elif isinstance(value, StoredBody):
            value = value.markup()
        if self._html is not None and name in HTML_FIELDS:
            return self._html(value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("documents are read-only in templates")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DocumentView):
            return bool(self._document == other._document)
        return bool(self._document == other)

    def __hash__(self) -> int:
        return hash(self._document.source)

    def __repr__(self) -> str:
        return f"<{type(self._document).__name__} {self._document.source}>"

    def __html__(self) -> str:
        """A document printed whole (``{{ p }}`` for ``{{ p.title }}``) showed "<Post
        content/posts/ciao.md>" on the page: it is an error at the template's line."""
        import jinja2

        from storefront.templatenames import owner_name

        named = owner_name(self._document)
        what = named[0] if named is not None else "the document"
        error = jinja2.TemplateRuntimeError(f"{what} is printed whole, which shows the reader "
                                            "nothing")
        error.add_note("print one of its fields, such as its title: {{ post.title }}")
        raise error


_DOCUMENT_TYPES: tuple[type, ...] = ()


def as_views(value: Any, html: HtmlFilter | None = None) -> Any:
    """``value`` with every document in it (also inside tuples and dataclasses) wrapped."""
    return map_documents(value, lambda document: DocumentView(document, html))


def map_documents(value: Any, each: Callable[[Document], Any], holders: bool = False) -> Any:
    """``value`` with ``each(document)`` for every document in it: inside tuples, lists, dicts
    and the dataclasses that hold a tuple or a list (what a template reaches of a page's
    context); with ``holders``, also inside a dataclass that holds a document itself."""
    global _DOCUMENT_TYPES
    if not _DOCUMENT_TYPES:
        from storefront.documents import DOCUMENT_TYPES

        _DOCUMENT_TYPES = DOCUMENT_TYPES
    if isinstance(value, _DOCUMENT_TYPES):
        return each(cast(Document, value))
    if isinstance(value, tuple):
        return tuple(map_documents(item, each, holders) for item in value)
    if isinstance(value, list):
        return [map_documents(item, each, holders) for item in value]
    if isinstance(value, dict):
        return {key: map_documents(item, each, holders) for key, item in value.items()}
    if (dataclasses.is_dataclass(value) and not isinstance(value, type)
            and _holds_documents(value, holders)):
        return dataclasses.replace(value, **{f.name: map_documents(getattr(value, f.name), each,
                                                                   holders)
                                             for f in dataclasses.fields(value) if f.init})
    return value


def _holds_documents(value: Any, holders: bool) -> bool:
    kinds = (tuple, list, *_DOCUMENT_TYPES) if holders else (tuple, list)
    return any(isinstance(getattr(value, f.name), kinds) for f in dataclasses.fields(value))


class TrackedNow(datetime):
    """The build time as templates see it: ``.year`` alone is a small dependency, anything else
    (comparisons, formatting, other fields) makes the page depend on the exact moment."""

    @classmethod
    def of(cls, moment: datetime) -> TrackedNow:
        return cls(moment.year, moment.month, moment.day, moment.hour, moment.minute,
                   moment.second, moment.microsecond, moment.tzinfo, fold=moment.fold)

    def __getattribute__(self, name: str) -> Any:
        recorder = _current
        if recorder is not None:
            recorder.use_clock("year" if name == "year" else "moment")
        return super().__getattribute__(name)

    def _compared(self) -> None:
        if _current is not None:
            _current.use_clock("moment")

    def __lt__(self, other: Any) -> bool:
        self._compared()
        return super().__lt__(other)

    def __le__(self, other: Any) -> bool:
        self._compared()
        return super().__le__(other)

    def __gt__(self, other: Any) -> bool:
        self._compared()
        return super().__gt__(other)

    def __ge__(self, other: Any) -> bool:
        self._compared()
        return super().__ge__(other)

    def __eq__(self, other: object) -> bool:
        self._compared()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        self._compared()
        return super().__ne__(other)

    # datetime's arithmetic reads the fields directly, never through __getattribute__
    def __sub__(self, other: Any) -> Any:
        self._compared()
        return super().__sub__(other)

    def __rsub__(self, other: Any) -> Any:
        self._compared()
        return datetime.__sub__(other, self) if isinstance(other, datetime) else NotImplemented

    def __add__(self, other: Any) -> Any:
        self._compared()
        return super().__add__(other)

    __radd__ = __add__

    __hash__ = datetime.__hash__

    def __str__(self) -> str:
        self._compared()
        return super().__str__()

    def __format__(self, spec: str) -> str:
        self._compared()
        return super().__format__(spec)


def tracked(name: str, function: Callable[[str], Any]) -> Callable[[str], Any]:
    """``function`` for templates: each call is recorded as a dependency ``(name, argument)``."""

    def call(argument: str) -> Any:
        if _current is not None:
            _current.calls.add((name, str(argument)))
        return function(str(argument))

    # a call from a template that does not fit is told what ``function`` takes, under ``name``
    functools.update_wrapper(call, function, updated=())
    call.__name__ = call.__qualname__ = name
    return call


def page_exists_in(pages: frozenset[str], urls: UrlBuilder) -> Callable[[str], bool]:
    """``page_exists(path)`` for templates: does the build write a page at that site path?"""
    return lambda path: urls.url(path) in pages

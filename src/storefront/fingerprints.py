"""Fingerprints: one short hash per input, so a build can tell what changed since the last one.

Pure (but for hashing the installed package's own files once, see :func:`code_fingerprint`).

* the **site** fingerprint covers what every page may read: storefront's own code, the config
  (base URL included), the theme strings, the menu and the build options;
* a **document** has two: its card (what listings show) and its full content;
* a page's **signature** is its template name, its head metadata and its context with documents
  written as references, so a listing whose posts or order change gets a new one;
* a page's **fingerprint** combines those with the current values of the dependencies it
  recorded the last time it rendered (:class:`storefront.deps.DependencyRecord`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import marshal
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup

import storefront
from storefront.codec import encode
from storefront.deps import BODY_FIELDS, DependencyRecord
from storefront.documents import Document
from storefront.installed import installed_version


def digest(*parts: str) -> str:
    """A short, stable hash of some strings."""
    text = "\x00".join(parts) + "\x00"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# the libraries whose output a build keeps: Markdown (documents), Jinja (pages), MarkupSafe (its
# escaping and striptags, which 2.1.5 changed), PyYAML (front matter), Babel (its locale data:
# dates and prices), feedgen and lxml (feeds), rcssmin and rjsmin (the theme's CSS and
# JavaScript); each as (module, distribution, where its version is when the distribution's
# metadata is not beside it: no attribute, the metadata Python finds)
KEPT_LIBRARIES = (
    ("markdown", "Markdown", ("markdown", "__version__")),
    ("jinja2", "Jinja2", ("jinja2", "__version__")),
    ("markupsafe", "MarkupSafe", ("markupsafe", "")),  # its __version__ is deprecated (3.0)
    ("yaml", "PyYAML", ("yaml", "__version__")),
    ("babel", "Babel", ("babel", "__version__")),
    ("feedgen", "feedgen", ("feedgen.version", "version_str")),
    ("lxml", "lxml", ("lxml", "__version__")),
    ("rcssmin", "rcssmin", ("rcssmin", "__version__")),
    ("rjsmin", "rjsmin", ("rjsmin", "__version__")),
)


@functools.cache
def code_fingerprint(libraries: tuple[tuple[str, str, tuple[str, str]], ...] = KEPT_LIBRARIES
                     ) -> str:
    """storefront's version, the bytes of its own files (code, built-in theme), the Python that
    runs it and the versions of the libraries whose output it keeps.

    A cache written by another version, or by a development copy whose code has changed since,
    must never be trusted; hashing about a hundred small files once per process costs ~2 ms. An
    upgrade of a library could change bytes a clean build would write: its version is read from
    its metadata without importing it (:mod:`storefront.installed`: a build with nothing to do
    need not import Jinja or Markdown). Pillow and its codecs are in the keys of processed
    images instead (:mod:`storefront.images`).
    """
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(f"{storefront.__version__} {sys.version}".encode())
    for module, project, asked in libraries:
        hasher.update(f" {project} {installed_version(module, project, asked)}".encode())
    package = Path(storefront.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix not in (".pyc", ".pyo") and "__pycache__" not in path.parts:
            hasher.update(path.relative_to(package).as_posix().encode())
            hasher.update(path.read_bytes())
    return hasher.hexdigest()


def site_fingerprint(config: Any, strings: Mapping[str, str], nav: Any, options: Any) -> str:
    """What every page may read besides documents and templates."""
    return digest(code_fingerprint(), _json(encode(config)), _json(dict(strings)),
                  _json(encode(nav)), _json(encode(options)))


# Fields the site model sets (a running sale, its end announced, a post shown before its date);
# not in parsed hashes.
MODEL_FIELDS = ("on_sale", "sale_note", "scheduled")


def document_hashes(document: Document) -> tuple[str, str]:
    """(card, full) hashes of a parsed document (computed once, when it is parsed).

    Its fields are written as :func:`signature` writes a context (:func:`_refs`, ``marshal``
    format 0): a tenth of a millisecond less per document than JSON of :func:`encode`.
    """
    card: list[Any] = [type(document).__name__]
    body: list[Any] = []
    kind: type = type(document)
    for name, in_body in _hashed_fields(kind):
        value = getattr(document, name)
        (body if in_body else card).append(
            (name, value if type(value) in _PLAIN or value is None else _refs(value)))
    card_hash = hashlib.blake2b(marshal.dumps(card, 0), digest_size=16).hexdigest()
    full = hashlib.blake2b(marshal.dumps([card_hash, body], 0), digest_size=16).hexdigest()
    return card_hash, full


@functools.cache
def _hashed_fields(kind: type) -> tuple[tuple[str, bool], ...]:
    """A document type's fields that its hashes cover, each with whether it is of the body."""
    return tuple((field.name, field.name in BODY_FIELDS) for field in dataclasses.fields(kind)
                 if field.name not in MODEL_FIELDS)


def signature(template: str, meta: Any, context: Mapping[str, Any],
              shared: dict[int, tuple[Any, Any]] | None = None) -> str:
    """The identity of a page's inputs, with documents as references (their content is a dependency).

    The structure is serialised with ``marshal`` format 0, which writes equal values of these plain
    types (str, int, float, bool, None, lists) as equal bytes, about four times faster than JSON;
    it is only hashed, never loaded. ``shared`` (id -> value, its references) is kept by the
    caller for the pages of one build: a value of the context several pages hold (a tag with all
    its posts, on each of its listing pages) is walked once, not once per page.
    """
    if shared is None:
        shared = {}
    items = []
    for key, value in sorted(context.items()):
        if type(value) in _PLAIN or value is None:
            items.append([str(key), value])
            continue
        known = shared.get(id(value))
        if known is None or known[0] is not value:
            known = shared[id(value)] = (value, _refs(value))
        items.append([str(key), known[1]])
    data = marshal.dumps([template, _refs(meta), items], 0)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _refs(value: Any) -> Any:
    """A JSON-able value standing for ``value``, documents replaced by their source path."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _ENCODERS[kind] = _encoder_for(kind)
    return encoder(value)


def _encoder_for(kind: type) -> Callable[[Any], Any]:
    from storefront.documents import DOCUMENT_TYPES

    if kind in DOCUMENT_TYPES:
        return lambda value: ["doc", value.source]
    if issubclass(kind, Markup):
        return lambda value: ["markup", str(value)]
    if issubclass(kind, str):
        return str
    if issubclass(kind, datetime):
        return lambda value: ["dt", value.isoformat(), str(value.tzinfo)]
    if issubclass(kind, date):
        return lambda value: ["date", value.isoformat()]
    if issubclass(kind, Decimal):
        return lambda value: ["dec", str(value)]
    if issubclass(kind, (tuple, list)):
        return lambda value: [_refs(item) for item in value]
    if issubclass(kind, Mapping):
        return lambda value: [[str(key), _refs(item)] for key, item in sorted(value.items())]
    if dataclasses.is_dataclass(kind):
        names = [f.name for f in dataclasses.fields(kind)]
        label = kind.__name__

        def fields(value: Any) -> list[Any]:
            found: list[Any] = [label]
            for name in names:  # plain values (most fields) without a call each
                item = getattr(value, name)
                found.append(item if type(item) in _PLAIN or item is None else _refs(item))
            return found

        return fields
    raise TypeError(f"cannot fingerprint {kind.__name__}")


_ENCODERS: dict[type, Callable[[Any], Any]] = {}
_PLAIN = (str, int, bool, float)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class Fingerprinter:
    """Current values of recorded dependencies, for one build."""

    def __init__(self, site: str, documents: Iterable[Document],
                 parsed: Mapping[str, tuple[str, str]], base_path: str,
                 template_identity: Callable[[str], str],
                 calls: Mapping[str, Callable[[str], Any]], now: datetime,
                 answers: str = "", known: dict[str, tuple[Any, ...]] | None = None) -> None:
        self.site = site
        # a digest of everything the tracked calls can answer (the images): when it is the same
        # as last build's, no call's answer changed
        self.answers = answers
        self.documents = {document.source: document for document in documents}
        self.parsed = parsed
        self.base_path = base_path
        self.template_identity = functools.cache(template_identity)
        self.calls = calls
        self.now = now
        self._hashes: dict[str, tuple[str, str]] = {}
        self._answers: dict[tuple[str, str], str] = {}  # a tracked call's answer, once per build
        # a session's: last build's document hashes with what they were made from
        self._known = known if known is not None else {}

    def document(self, source: str, level: str) -> str:
        """The hash of a document as the model holds it: as parsed, with the build's base path
        and what the model decided (sale running, shown before its date)."""
        hashes = self._hashes.get(source)
        if hashes is None:
            document = self.documents.get(source)
            parsed = self.parsed.get(source)
            if document is None or parsed is None:
                return "gone"
            state = repr([getattr(document, name, None) for name in MODEL_FIELDS])
            made_from = (parsed, self.base_path, state)
            known = self._known.get(source)
            if known is not None and known[0] == made_from:
                hashes = known[1]
            else:
                hashes = (digest(parsed[0], self.base_path, state),
                          digest(parsed[1], self.base_path, state))
                self._known[source] = (made_from, hashes)
            self._hashes[source] = hashes
        return hashes[1] if level == "full" else hashes[0]

    def clock(self, use: str) -> str:
        if use == "moment":
            return self.now.isoformat()
        if use == "day":
            return self.now.date().isoformat()
        return str(self.now.year) if use == "year" else ""

    def page(self, page_signature: str, record: DependencyRecord) -> str:
        """The fingerprint of a page with this signature whose render read ``record``."""
        parts = [self.site, page_signature, self.clock(record.clock)]
        parts += [f"t:{name}={self.template_identity(name)}" for name in record.templates]
        parts += [f"d:{source}={self.document(source, level)}" for source, level in record.documents]
        for call in record.calls:
            answer = self._answers.get(call)
            if answer is None:
                name, argument = call
                function = self.calls.get(name)
                value = repr(function(argument)) if function is not None else "unknown"
                answer = self._answers[call] = f"c:{name}({argument})={value}"
            parts.append(answer)
        return digest(*parts)

    def inputs(self, kind: str, sources: Iterable[str], extra: str = "") -> str:
        """The fingerprint of a generated file (a feed) made from these documents' full content."""
        return digest(self.site, kind, extra, *(f"{s}={self.document(s, 'full')}" for s in sources))

"""Stage 3 as a whole: every content file to a document, each parsed once and remembered.

A document is looked up, in this order, in the session's memory (the preview keeps it between
builds), in the build cache (the key is the file's digest, the reader settings' fingerprint and
storefront's code fingerprint), and only then parsed, in parallel when there are many. Problems
are values: every file's errors are collected and reported together, and an unexpected exception
while reading one file is reported against that file.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from storefront.bodystore import BodyStore
from storefront.cache import BuildCache, StoredDocument
from storefront.codec import CodecError, decode, encode
from storefront.documents import DOCUMENT_TYPES, Document, Post
from storefront.errors import BuildFailed, ContentError, error_at, unexpected_error
from storefront.fingerprints import code_fingerprint, digest, document_hashes
from storefront.reader import ReaderSettings, read_document
from storefront.sources import DOCUMENT_KINDS, ChangedWhileReading, SourceFile, with_data
from storefront.workers import WorkerPool

_TYPES: dict[str, type] = {cls.__name__: cls for cls in DOCUMENT_TYPES}


Hashes = tuple[str, str]  # (card, full) of a parsed document: see fingerprints.document_hashes


@dataclass(frozen=True)
class Parsed:
    """One file's outcome: its document and its hashes, or its problems."""

    path: str
    document: Document | None
    hashes: Hashes = ("", "")
    errors: tuple[ContentError, ...] = ()


@dataclass
class ParsedSite:
    """Every document of the site (in source order), their hashes, and every file's problems."""

    documents: list[Document]
    hashes: dict[str, Hashes]
    errors: list[ContentError]
    parsed: int  # files that had to be parsed (the others were remembered or cached)


def parse_sources(sources: Sequence[SourceFile], settings: ReaderSettings, cache: BuildCache,
                  memory: dict[str, tuple[str, Document, Hashes]], pool: WorkerPool,
                  progress: Callable[[int, int], None] | None = None,
                  bodies: BodyStore | None = None,
                  meanwhile: Callable[[], None] | None = None, partial: bool = False
                  ) -> ParsedSite:
    """Parse what must be parsed; take the rest from ``memory`` or the cache.

    ``partial``: ``sources`` are a few of the site's files (a preview's quick save), not all of
    them: ``memory`` keeps the others (else it forgets the files that are gone).

    With ``bodies``, the posts' bodies are kept there, not in the documents (see
    :mod:`storefront.bodystore`); ``memory`` then holds them so too. ``meanwhile``: this
    process's own work, done while workers parse (see :meth:`WorkerPool.imap`).
    """
    keep = functools.partial(_keep_body, bodies) if bodies is not None else _as_is
    base = digest(settings.fingerprint(), code_fingerprint())
    # the whole table is read when many files miss (a fresh process); a few misses (a session's
    # save) are looked up one by one
    keys = {s.path: _key(base, s.digest) for s in sources if s.kind in DOCUMENT_KINDS}
    missing = {path for path, key in keys.items() if (memory.get(path) or ("",))[0] != key}
    whole_table = len(missing) > 16
    stored: dict[str, tuple[Document, Hashes] | None] = {}
    if whole_table:  # decoded as the rows are read, each row dropped once decoded
        stored = {path: _decode(row, bodies, _body_before(memory, path))
                  for path, row in cache.each_document()
                  if path in missing and row.key == keys[path]}
    found: dict[str, tuple[Document, Hashes]] = {}
    todo: list[SourceFile] = []
    for source in sources:
        if source.kind not in DOCUMENT_KINDS:
            continue
        key = keys[source.path]
        remembered = memory.get(source.path)
        if remembered is not None and remembered[0] == key:
            found[source.path] = remembered[1:]
            continue
        if whole_table:
            decoded = stored.get(source.path)
        else:
            row = cache.document(source.path)
            decoded = (_decode(row, bodies, _body_before(memory, source.path))
                       if row is not None and row.key == key else None)
        if decoded is not None:
            found[source.path] = decoded
            memory[source.path] = (key, *decoded)
        else:
            todo.append(source)
    errors: list[ContentError] = []
    fresh: list[tuple[str, StoredDocument]] = []
    done = 0
    for part in pool.imap(parse_chunk, settings, todo, chunk=8,  # progress and cache as it goes
                          meanwhile=meanwhile):
        for outcome in part:
            errors.extend(outcome.errors)
            if outcome.document is not None:
                key = keys[outcome.path]
                if cache.persistent:  # a throwaway cache (--no-cache) is never read again
                    fresh.append((outcome.path, _encode(key, outcome.document, outcome.hashes)))
                document = keep(outcome.document, _body_before(memory, outcome.path))
                found[outcome.path] = (document, outcome.hashes)
                memory[outcome.path] = (key, document, outcome.hashes)
        done += len(part)
        if len(fresh) >= 256 or done == len(todo):
            cache.save_documents(fresh)
            fresh.clear()
            if progress is not None:
                progress(done, len(todo))
    for path in [] if partial else [p for p in memory if p not in keys]:
        del memory[path]
    ordered = [s.path for s in sources if s.path in found]
    return ParsedSite([found[p][0] for p in ordered], {p: found[p][1] for p in ordered}, errors,
                      len(todo))


def _keep_body(bodies: BodyStore, document: Document, before: object = None) -> Document:
    """``document`` with its body in ``bodies`` (a post: the bulk of a site's text); ``before``:
    the body the session held for its file (see :meth:`BodyStore.put`)."""
    if isinstance(document, Post) and isinstance(document.content_html, Markup):
        return dataclasses.replace(document,
                                   content_html=bodies.put(document.content_html, before))
    return document


def _as_is(document: Document, before: object = None) -> Document:
    return document


def _body_before(memory: dict[str, tuple[str, Document, Hashes]], path: str) -> object:
    """The body the session holds for the document of ``path`` (None: none yet)."""
    remembered = memory.get(path)
    return getattr(remembered[1], "content_html", None) if remembered is not None else None


@functools.lru_cache(maxsize=1 << 16)
def _key(base: str, source_digest: str) -> str:
    """A document's cache key (remembered: a session asks for every file's at each save)."""
    return digest(base, source_digest)


def parse_chunk(settings: ReaderSettings, sources: Sequence[SourceFile]) -> list[Parsed]:
    """Parse some files (in a worker or in this process); never raises for a file's problem."""
    results = []
    for source in sources:
        try:
            document = read_document(with_data(source), settings)
            results.append(Parsed(source.path, document, document_hashes(document)))
        except (FileNotFoundError, ChangedWhileReading):
            results.append(Parsed(source.path, None, errors=(error_at(
                source.path, 0, "the file changed while the build was reading it",
                "build again (the preview does so by itself)"),)))
        except BuildFailed as exc:
            results.append(Parsed(source.path, None, errors=exc.errors))
        except RecursionError:
            results.append(Parsed(source.path, None, errors=(error_at(
                source.path, 0, "the file is nested too deeply to read",
                "split deeply nested lists, quotes or HTML blocks"),)))
        except Exception as exc:  # a bug of storefront's that this file triggers: name the file
            results.append(Parsed(source.path, None, errors=(unexpected_error(source.path, exc),)))
    return results


_BODY = {"content_html": "html", "answer_html": "html", "summary_html": "summary"}


def _encode(key: str, document: Document, hashes: Hashes) -> StoredDocument:
    data = {field.name: encode(getattr(document, field.name))
            for field in dataclasses.fields(document) if field.name not in _BODY}
    parts = {column: str(getattr(document, name)) for name, column in _BODY.items()
             if hasattr(document, name)}
    meta = json.dumps({"type": type(document).__name__, "hashes": list(hashes), "data": data},
                      ensure_ascii=False, separators=(",", ":"))
    return StoredDocument(key, meta, parts.get("html", ""), parts.get("summary", ""))


def _decode(stored: StoredDocument, bodies: BodyStore | None = None, before: object = None
            ) -> tuple[Document, Hashes] | None:
    """A stored document, or None when it does not decode (a foreign or damaged row). With
    ``bodies``, a post's body is put there (see :func:`_keep_body`)."""
    try:
        meta = json.loads(stored.meta)
        cls = _TYPES[meta["type"]]
        data = meta["data"]
        keep = bodies is not None and cls is Post
        for name in _FIELDS[cls]:
            column = _BODY[name]
            text = "" if keep and name == "content_html" else (
                stored.summary if column == "summary" else stored.html)
            data[name] = {"$markup": text}
        document: Document = decode(cls, data)
        if keep:
            assert bodies is not None
            # set on the new, unshared instance: dataclasses.replace() made each post again
            # (a one-edit build takes 1,000 from the cache)
            object.__setattr__(document, "content_html", bodies.put(stored.html, before))
        card, full = meta["hashes"]
        return document, (str(card), str(full))
    except (CodecError, ValueError, KeyError, TypeError):
        return None


_FIELDS = {cls: [f.name for f in dataclasses.fields(cls) if f.name in _BODY] for cls in _TYPES.values()}

"""Bundle, minify and fingerprint the theme's static files: outputs of the plan.

Stage 5 (plan). Every theme of the chain lists in its ``theme.yaml`` the stylesheets it adds
(``stylesheets: [css/shop.css]``); they are joined, parent first, into ONE stylesheet
(``css/site.css``), so a page makes a single render-blocking request however many themes stack
up. CSS is minified with rcssmin and JavaScript with rjsmin: both are small, long-maintained,
conservative minifiers (they only drop comments and whitespace that cannot matter, keeping
strings, ``calc()`` operators and descendant selectors such as ``a :focus`` intact), where a
home-made regex minifier would be one more thing to get wrong.

Every output file name carries the first 8 hex digits of the SHA-256 of its bytes
(``css/site.3f2a9c1b.css``), so a host can serve ``/static/`` with a year-long cache: a changed
file gets a new name, and the pages that link it change with it. Templates never spell those
names: they ask ``asset_url('css/site.css')``. ``url()`` references inside the stylesheets are
rewritten to the fingerprinted names too; one that names no file of the theme is an error. The
preview asks for plain names (``hashed=False``), so a stylesheet edit changes the stylesheet and
no page, and the browser can swap it in place.

What is minified or bundled becomes bytes (a "data" output); every other file (images, fonts)
is copied as it is under its fingerprinted name, its hash taken from the theme's file list.
Reads only the CSS and JavaScript files of the theme.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from storefront.errors import BuildFailed, ContentError, error_at, line_of_key
from storefront.schema import FrozenDict
from storefront.theme import Theme
from storefront.urls import STATIC_FOLDER

BUNDLE = "css/site.css"  # the logical name templates ask for
HASH_LENGTH = 8

_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_MINIFIED = (".css", ".js")


@dataclass(frozen=True)
class StaticSource:
    """One theme static file, as the chain resolves it (a child's file replaces its parent's)."""

    path: Path
    label: str  # how errors name it, e.g. themes/bottega/static/css/shop.css
    sha256: str  # of the file's bytes


@dataclass(frozen=True)
class StaticOutput:
    """One file the build writes below ``static/``: made (``data``) or copied (``file``)."""

    name: str  # below static/, fingerprinted
    sha256: str
    data: bytes | None = None
    file: Path | None = None


@dataclass(frozen=True)
class ThemeAssets:
    """What the build writes below ``static/`` and the names templates ask for."""

    outputs: tuple[StaticOutput, ...]
    names: FrozenDict  # logical name (css/site.css) -> output name below static/

    def path(self, logical: str) -> str:
        """``css/site.css`` -> ``css/site.3f2a9c1b.css``; KeyError for a file the theme lacks."""
        return str(self.names[logical])

    def data(self, logical: str) -> bytes:
        """The bytes written for a minified or bundled file (for tests and tools)."""
        name = self.path(logical)
        return next(o.data for o in self.outputs if o.name == name and o.data is not None)


def fingerprint(name: str, sha256: str) -> str:
    """``js/forms.js`` -> ``js/forms.<first 8 hex digits of the SHA-256>.js``."""
    folder, base = posixpath.split(name)
    stem, dot, suffix = base.rpartition(".")
    digest = sha256[:HASH_LENGTH]
    return posixpath.join(folder, f"{stem}.{digest}.{suffix}" if dot and stem else f"{base}.{digest}")


def minify(name: str, data: bytes) -> bytes:
    """Minified CSS or JavaScript; any other file as it is."""
    return _minified(name, data.decode("utf-8")) if name.lower().endswith(_MINIFIED) else data


def _minified(name: str, text: str) -> bytes:
    if name.lower().endswith(".css"):
        import rcssmin

        return str(rcssmin.cssmin(text)).encode("utf-8")
    import rjsmin

    return str(rjsmin.jsmin(text)).encode("utf-8")


def bundle_assets(sources: Mapping[str, StaticSource], stylesheets: Sequence[str],
                  hashed: bool = True,
                  read: Callable[[Path], bytes] = Path.read_bytes) -> ThemeAssets:
    """Name every static file; minify CSS and JavaScript; join ``stylesheets`` into the bundle.

    ``sources`` are the static files by path below ``static/``. The stylesheets that go into the
    bundle are not written on their own. Raise :class:`BuildFailed` for a ``url()`` that names no
    file of the theme, and for a stylesheet or script that cannot be read as UTF-8 text.
    """
    members = list(dict.fromkeys(stylesheets))

    def named(name: str, sha256: str) -> str:
        return fingerprint(name, sha256) if hashed else name

    outputs: list[StaticOutput] = []
    names: dict[str, str] = {}
    errors: list[ContentError] = []
    for name in sorted(sources):
        if name in members or name == BUNDLE:
            continue
        source = sources[name]
        if name.lower().endswith(_MINIFIED):
            text = _text(source, read, errors)
            if text is None:
                continue
            data = _minified(name, text)
            sha256 = hashlib.sha256(data).hexdigest()
            names[name] = named(name, sha256)
            outputs.append(StaticOutput(names[name], sha256, data=data))
        else:
            names[name] = named(name, source.sha256)
            outputs.append(StaticOutput(names[name], source.sha256, file=source.path))
    texts = [(member, _text(sources[member], read, errors)) for member in members]
    parts = [_rewrite_urls(member, sources[member].label, text, names, errors)
             for member, text in texts if text is not None]
    if errors:
        raise BuildFailed(errors)
    if parts:
        data = _minified(BUNDLE, "\n".join(parts))
        sha256 = hashlib.sha256(data).hexdigest()
        names[BUNDLE] = named(BUNDLE, sha256)
        outputs.append(StaticOutput(names[BUNDLE], sha256, data=data))
    return ThemeAssets(tuple(sorted(outputs, key=lambda o: o.name)), FrozenDict(names))


def _text(source: StaticSource, read: Callable[[Path], bytes],
          errors: list[ContentError]) -> str | None:
    """A stylesheet's or script's text; None (and the problem in ``errors``) when it cannot be
    read or is not UTF-8."""
    try:
        data = read(source.path)
    except OSError as exc:
        errors.append(error_at(source.label, 0, f"cannot be read ({exc.strerror or exc})",
                               "check the file, then build again"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(error_at(source.label, data.count(b"\n", 0, exc.start) + 1,
                               "the file is not UTF-8 text", "save it as UTF-8 in your editor"))
        return None


def _rewrite_urls(member: str, label: str, text: str, names: dict[str, str],
                  errors: list[ContentError]) -> str:
    """The stylesheet's text with relative ``url()``s pointing at the output files.

    A reference is resolved from the member's own folder and rewritten relative to the
    bundle's folder, so the site works below any base path. A path of the site
    (``url(/assets/tile.png)``, a content asset) is rewritten relative to where the bundle is
    published, for the same reason: written as it is, it would miss the base path
    (``https://example.com/shop/``).
    """
    member_dir = posixpath.dirname(member)
    bundle_dir = posixpath.dirname(BUNDLE)
    published_dir = posixpath.join(STATIC_FOLDER, bundle_dir)

    def replace(match: re.Match[str]) -> str:
        target = next(group for group in match.groups() if group is not None)
        if not target or target.startswith(("//", "#")) or _SCHEME.match(target):
            return match.group(0)  # data:, https:, //host and in-document references
        path, mark, rest = _split_suffix(target)
        static = f"/{STATIC_FOLDER}/"
        if path.startswith("/") and not path.startswith(static):
            # a path of the site (/assets/tile.png, a content asset), as content writes them
            relative = posixpath.relpath(path.lstrip("/") or ".", published_dir)
            return f'url("{relative}{mark}{rest}")'
        # a theme file, relative to the stylesheet or by its published path (/static/img/x.png)
        logical = (posixpath.normpath(path.removeprefix(static)) if path.startswith(static)
                   else posixpath.normpath(posixpath.join(member_dir, path)))
        if logical not in names:
            line = text.count("\n", 0, match.start()) + 1
            errors.append(error_at(label, line, f"{match.group(0)} names no file of the theme",
                                   "put the file in the theme's static/ folder, or fix the path"))
            return match.group(0)
        relative = posixpath.relpath(names[logical], bundle_dir or ".")
        return f'url("{relative}{mark}{rest}")'

    return _URL.sub(replace, text)


def _split_suffix(target: str) -> tuple[str, str, str]:
    """``font.woff2?v=2#x`` -> ("font.woff2", "?", "v=2#x")."""
    match = re.search(r"[?#]", target)
    if match is None:
        return target, "", ""
    return target[:match.start()], match.group(0), target[match.end():]


def static_sources(chain: Sequence[Theme],
                   files: Sequence[tuple[str, str]]) -> dict[str, StaticSource]:
    """The chain's static files by path below ``static/``, children overriding parents.

    ``files`` is :func:`storefront.theme.theme_files` of the chain: (label path, SHA-256) of every
    theme file, already hashed (and remembered by a long-lived session).
    """
    hashes = dict(files)
    found: dict[str, StaticSource] = {}
    for theme in reversed(chain):
        prefix = f"{theme.label}/static/"
        for label in sorted(label for label in hashes if label.startswith(prefix)):
            name = label.removeprefix(prefix)
            found[name] = StaticSource(theme.static / name, label, hashes[label])
    return found


def theme_assets(chain: Sequence[Theme], files: Sequence[tuple[str, str]],
                 hashed: bool = True) -> ThemeAssets:
    """The chain's static files bundled and named (see :func:`bundle_assets`)."""
    sources = static_sources(chain, files)
    stylesheets: list[str] = []
    errors: list[ContentError] = []
    for theme in reversed(chain):  # parent first: a child's rules come later and win
        for name in theme.stylesheets:
            if name not in sources:
                errors.append(error_at(
                    f"{theme.label}/theme.yaml", _line_of(theme.path / "theme.yaml", name),
                    f"the stylesheet {name} is not in the theme's static/ folder",
                    f"create {theme.label}/static/{name}, or remove it from stylesheets:"))
                continue
            stylesheets.append(name)
    try:
        assets = bundle_assets(sources, stylesheets, hashed)
    except BuildFailed as failed:  # every problem of the theme's static files at once
        raise BuildFailed([*errors, *failed.errors]) from None
    if errors:
        raise BuildFailed(errors)
    return assets


class AssetsMemo:
    """A session's last :func:`theme_assets`, made again only when the theme key (storefront's code
    and every theme file) or the naming changes: a preview save of a post does not minify again."""

    def __init__(self) -> None:
        self._key: tuple[str, bool] | None = None
        self._assets: ThemeAssets | None = None

    def get(self, chain: Sequence[Theme], files: Sequence[tuple[str, str]], theme_key: str,
            hashed: bool) -> ThemeAssets:
        if self._assets is None or self._key != (theme_key, hashed):
            self._assets = None  # a failed bundle leaves nothing to reuse
            self._assets, self._key = theme_assets(chain, files, hashed), (theme_key, hashed)
        return self._assets


def _line_of(path: Path, stylesheet: str) -> int:
    """The line of ``theme.yaml`` that lists ``stylesheet`` (else that of ``stylesheets:``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0
    start = line_of_key(text, "stylesheets")
    lines = text.split("\n")
    return next((number for number, line in enumerate(lines[start - 1:], start)
                 if stylesheet in line), start) if start else 0

"""Bundle, minify and fingerprint the theme's static files.

Part of planning the outputs; :func:`bundle_assets` is pure (bytes in, bytes out), and
:func:`load_theme_assets` only reads the theme folders. Every theme of the chain lists in its
``theme.yaml`` the stylesheets it adds (``stylesheets: [css/shop.css]``); they are joined, parent
first, into ONE stylesheet (``css/site.css``), so a page makes a single render-blocking request
however many themes stack up. CSS is minified with rcssmin and JavaScript with rjsmin: both are
small, long-maintained, conservative minifiers (they only drop comments and whitespace that
cannot matter, keeping strings, ``calc()`` operators and descendant selectors such as
``a :focus`` intact), where a home-made regex minifier would be one more thing to get wrong.

Every output file name carries the first 8 hex digits of the SHA-256 of its bytes
(``css/site.3f2a9c1b.css``), so a host can serve ``/static/`` with a year-long cache: a changed
file gets a new name, and the pages that link it change with it. Templates never spell those
names: they ask ``asset_url('css/site.css')``. ``url()`` references inside the stylesheets are
rewritten to the fingerprinted names too; one that names no file of the theme is an error.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import rcssmin
import rjsmin

from storefront.errors import BuildFailed, ContentError, error_at, line_of_key
from storefront.theme import Theme

BUNDLE = "css/site.css"  # the logical name templates ask for
HASH_LENGTH = 8

_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_MINIFIERS: dict[str, Callable[[str], str]] = {".css": rcssmin.cssmin, ".js": rjsmin.jsmin}


@dataclass(frozen=True)
class StaticSource:
    """One theme static file: its bytes and how errors name it."""

    data: bytes
    label: str  # e.g. themes/bottega/static/css/shop.css


@dataclass(frozen=True)
class ThemeAssets:
    """What the build writes below ``static/`` and the names templates ask for."""

    files: dict[str, bytes]  # output path below static/ (fingerprinted) -> bytes
    names: dict[str, str]  # logical name (css/site.css) -> output path below static/

    def path(self, logical: str) -> str:
        """``css/site.css`` -> ``css/site.3f2a9c1b.css``; KeyError for a file the theme lacks."""
        return self.names[logical]


def fingerprint(name: str, data: bytes) -> str:
    """``js/forms.js`` -> ``js/forms.<first 8 hex digits of sha256>.js``."""
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    folder, base = posixpath.split(name)
    stem, dot, suffix = base.rpartition(".")
    fingerprinted = f"{stem}.{digest}.{suffix}" if dot and stem else f"{base}.{digest}"
    return posixpath.join(folder, fingerprinted)


def minify(name: str, data: bytes) -> bytes:
    """Minified CSS or JavaScript; any other file as it is."""
    minifier = _MINIFIERS.get(posixpath.splitext(name)[1].lower())
    if minifier is None:
        return data
    return minifier(data.decode("utf-8")).encode("utf-8")


def bundle_assets(sources: Mapping[str, StaticSource], stylesheets: Sequence[str]) -> ThemeAssets:
    """Fingerprint every static file; join ``stylesheets`` (in order) into the one bundle.

    ``sources`` are the static files by path below ``static/``, already resolved along the
    theme chain (a child's file replaces its parent's). The stylesheets that go into the bundle
    are not written on their own. Raise :class:`BuildFailed` for a ``url()`` that names no file.
    """
    members = list(dict.fromkeys(stylesheets))
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for name in sorted(sources):
        if name in members or name == BUNDLE:
            continue
        data = minify(name, sources[name].data)
        names[name] = fingerprint(name, data)
        files[names[name]] = data
    errors: list[ContentError] = []
    parts = [_rewrite_urls(member, sources[member], names, errors) for member in members]
    if errors:
        raise BuildFailed(errors)
    if parts:
        data = minify(BUNDLE, "\n".join(parts).encode("utf-8"))
        names[BUNDLE] = fingerprint(BUNDLE, data)
        files[names[BUNDLE]] = data
    return ThemeAssets(files, names)


def _rewrite_urls(member: str, source: StaticSource, names: dict[str, str],
                  errors: list[ContentError]) -> str:
    """The stylesheet's text with relative ``url()``s pointing at the fingerprinted files.

    A reference is resolved from the member's own folder and rewritten relative to the
    bundle's folder, so the site works below any base path.
    """
    text = source.data.decode("utf-8")
    member_dir = posixpath.dirname(member)
    bundle_dir = posixpath.dirname(BUNDLE)

    def replace(match: re.Match[str]) -> str:
        target = next(group for group in match.groups() if group is not None)
        if not target or target.startswith(("/", "#")) or _SCHEME.match(target):
            return match.group(0)  # data:, https:, site-absolute and in-document references
        path, mark, rest = _split_suffix(target)
        logical = posixpath.normpath(posixpath.join(member_dir, path))
        if logical not in names:
            line = text.count("\n", 0, match.start()) + 1
            errors.append(error_at(source.label, line, f"{match.group(0)} names no file of the theme",
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


def theme_static_files(chain: Sequence[Theme]) -> dict[str, StaticSource]:
    """The chain's static files by path below ``static/``, children overriding parents."""
    files: dict[str, StaticSource] = {}
    for theme in reversed(chain):
        if not theme.static.is_dir():
            continue
        for path in sorted(theme.static.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                name = path.relative_to(theme.static).as_posix()
                files[name] = StaticSource(path.read_bytes(), f"{theme.label}/static/{name}")
    return files


def load_theme_assets(chain: Sequence[Theme]) -> ThemeAssets:
    """Read the chain's static files and bundle them (see :func:`bundle_assets`)."""
    sources = theme_static_files(chain)
    stylesheets: list[str] = []
    errors: list[ContentError] = []
    for theme in reversed(chain):  # parent first: a child's rules come later and win
        for name in theme.stylesheets:
            if name not in sources:
                errors.append(error_at(
                    f"{theme.label}/theme.yaml", _line_of(theme.path / "theme.yaml", "stylesheets"),
                    f"the stylesheet {name} is not in the theme's static/ folder",
                    f"create {theme.label}/static/{name}, or remove it from stylesheets:"))
            stylesheets.append(name)
    if errors:
        raise BuildFailed(errors)
    return bundle_assets(sources, stylesheets)


def _line_of(path: Path, key: str) -> int:
    try:
        return line_of_key(path.read_text(encoding="utf-8"), key)
    except (OSError, UnicodeDecodeError):
        return 0

"""Resolve the theme chain and build the Jinja environment.

Lookup order, most specific first: the site's ``themes/<name>/`` (whose ``theme.yaml`` may say
``extends: <parent>``), then each parent, ending at the built-in ``default`` theme shipped in the
package. Every theme's templates are also addressable with its name as a prefix
(``{% extends "default/base.html" %}``) so a child can extend the parent's version of the same
file. Theme strings (``strings/<lang>.yaml``) merge along the same chain. Reads theme files only;
the Jinja environment over the chain is :mod:`storefront.environment`.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from storefront.errors import BuildFailed, ContentError, blamed_on, error_at, line_of_key
from storefront.limits import LimitExceeded, check_theme_strings
from storefront.markdown import plain_text
from storefront.schema import Mapper, YamlProblem, compose_yaml, repeated_keys, text_table
from storefront.sources import NOT_UTF8_NAME, StatCache, file_sha256, is_ignored, undecodable, utf8_text
from storefront.templatenames import did_you_mean
from storefront.values import parse_static_css, parse_theme_name

if TYPE_CHECKING:
    pass

BUILTIN_THEMES = Path(__file__).parent / "themes"
MAX_CHAIN = 8


@dataclass(frozen=True)
class ThemeManifest:
    """The keys a ``theme.yaml`` may have."""

    name: str = ""
    extends: str | None = field(default=None, metadata={"parse": parse_theme_name})
    description: str = ""
    stylesheets: tuple[str, ...] = field(default=(), metadata={"parse": parse_static_css})


@dataclass(frozen=True)
class Theme:
    name: str
    path: Path  # the theme folder
    label: str  # how errors name it: themes/bottega or <built-in>/default
    # what the theme adds to the site's one stylesheet, in order (paths below static/)
    stylesheets: tuple[str, ...] = ()

    @property
    def templates(self) -> Path:
        return self.path / "templates"

    @property
    def static(self) -> Path:
        return self.path / "static"


def _find_theme(root: Path, name: str) -> Theme | None:
    local = root / "themes" / name
    if (local / "theme.yaml").is_file():
        return Theme(name, local, f"themes/{name}")
    builtin = BUILTIN_THEMES / name
    if (builtin / "theme.yaml").is_file():
        return Theme(name, builtin, f"<built-in theme {name}>")
    return None


def resolve_theme_chain(root: Path, name: str) -> tuple[Theme, ...]:
    """The theme and its ancestors, child first. Errors name storefront.yaml or theme.yaml."""
    chain: list[Theme] = []
    # the line a problem is reported at, found only when there is one (a build reads it not)
    where, line_at = "storefront.yaml", (root / "storefront.yaml", "theme")
    current: str | None = name
    while current is not None:
        theme = _find_theme(root, current)
        if theme is None:
            known = sorted({p.name for p in BUILTIN_THEMES.iterdir() if p.is_dir()}
                           | {p.name for p in (root / "themes").glob("*") if p.is_dir()})
            raise BuildFailed([error_at(where, _line_of_key(*line_at), f'theme "{current}" not found',
                                        f"available themes: {', '.join(known)}; a site theme "
                                        f"needs themes/{current}/theme.yaml")])
        if len(chain) >= MAX_CHAIN and all(t.path != theme.path for t in chain):
            raise BuildFailed([error_at(where, _line_of_key(*line_at),
                                        f"more than {MAX_CHAIN} themes extend one another",
                                        "let a theme extend default, or a theme that does")])
        if any(t.path == theme.path for t in chain):
            names = [t.name for t in chain]
            raise BuildFailed([error_at(where, _line_of_key(*line_at),
                                        f'theme "{current}" extends itself in a loop',
                                        f"{names[0]} extends "
                                        + ", which extends ".join([*names[1:], f'{current} again'])
                                        + "; the last theme of a chain extends default "
                                        "(or nothing)")])
        manifest_path = f"{theme.label}/theme.yaml"
        with blamed_on(manifest_path):
            manifest = _read_manifest(theme.path / "theme.yaml", manifest_path)
        chain.append(replace(theme, stylesheets=manifest.stylesheets))
        current, where, line_at = manifest.extends, manifest_path, (theme.path / "theme.yaml",
                                                                    "extends")
    builtin_default = BUILTIN_THEMES / "default"
    if chain[-1].path != builtin_default:
        # every chain ends at the built-in theme, so a site theme holds only what it changes
        label = "<built-in theme default>"
        manifest = _read_manifest(builtin_default / "theme.yaml", f"{label}/theme.yaml")
        chain.append(Theme("default", builtin_default, label, manifest.stylesheets))
    return tuple(chain)


def _read_manifest(path: Path, shown: str) -> ThemeManifest:
    try:
        node = compose_yaml(utf8_text(path.read_bytes(), shown))
    except YamlProblem as exc:
        raise BuildFailed([error_at(shown, exc.line, exc.message, exc.hint)]) from None
    mapper = Mapper(shown)
    manifest = mapper.build(ThemeManifest, node)
    if manifest is None:
        raise BuildFailed(mapper.errors)
    return manifest


def _line_of_key(path: Path, key: str) -> int:
    try:
        return line_of_key(path.read_text(encoding="utf-8"), key)
    except (OSError, UnicodeDecodeError):
        return 0


def load_strings(chain: tuple[Theme, ...], language: str) -> dict[str, str]:
    """Theme strings for ``language``, children overriding parents."""
    strings: dict[str, str] = {}
    origin: dict[str, str] = {}  # the file each string comes from
    for theme in reversed(chain):
        path = theme.path / "strings" / f"{language}.yaml"
        if not path.is_file():
            continue
        shown = f"{theme.label}/strings/{language}.yaml"
        with blamed_on(shown):
            text = utf8_text(path.read_bytes(), shown)
            try:
                node = compose_yaml(text)
            except YamlProblem as exc:
                raise BuildFailed([error_at(shown, exc.line, exc.message, exc.hint)]) from None
        data = text_table(node)
        if data is None:
            raise BuildFailed([error_at(shown, 1, "theme strings must be a mapping key: text",
                                        "write one line per string, like home: Home")])
        problems = [error_at(shown, line, f'the theme string "{key}" is given twice',
                             "keep only one of them (else the last one wins unseen)")
                    for key, line in repeated_keys(node)]
        problems += [problem for key, value in data.items() if key in strings
                     for problem in _placeholder_problems(key, value, strings[key], origin[key],
                                                          shown, line_of_key(text, key))]
        if problems:
            raise BuildFailed(problems)
        strings.update(data)
        origin.update(dict.fromkeys(data, shown))
        try:
            check_theme_strings(sum(len(key) + len(text) for key, text in strings.items()))
        except LimitExceeded as exc:
            raise BuildFailed([error_at(shown, exc.line, exc.message, exc.hint)]) from None
    return strings


def _placeholders(text: str) -> set[str]:
    """The names of the ``{name}`` values a theme string takes (ValueError: a stray brace)."""
    return {re.split(r"[.\[!:]", field, maxsplit=1)[0]
            for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _placeholder_problems(key: str, text: str, parent: str, parent_file: str, shown: str,
                          line: int) -> list[ContentError]:
    """A string that overrides one given values must take only those values, so that the
    templates that fill the parent's can fill it (else every page using it fails, far from here).
    """
    wanted = _placeholders(parent)
    if not wanted:
        return []  # shown as it is: braces mean nothing there
    allowed = ", ".join(f"{{{name}}}" for name in sorted(wanted))
    try:
        used = _placeholders(text)
    except ValueError as exc:
        return [error_at(shown, line, f'the theme string "{key}" has a stray brace ({exc})',
                         f"write a value as {allowed}, and a brace itself as {{{{ or }}}}")]
    written = ["{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
               + "}" for _, field, spec, conversion in string.Formatter().parse(text)
               if field is not None and (spec or conversion or not field.isidentifier())]
    if written:  # {minutes:>999999999} wrote a page of a gigabyte, {minutes.__class__} Python
        return [error_at(shown, line, f'the theme string "{key}" writes a value with more than '
                         f"its name: {written[0]}", f"write each value as its name alone: {allowed}")]
    unknown = sorted(used - wanted)
    if not unknown:
        return []
    return [error_at(shown, line, f'the theme string "{key}" uses '
                     + ", ".join(f"{{{name}}}" for name in unknown)
                     + ", a value the templates do not give it",
                     f"it may use {allowed}, as in {parent_file}")]


def theme_files(chain: tuple[Theme, ...],
                remembered: StatCache | None = None) -> list[tuple[str, str]]:
    """(label path, SHA-256) of every file of every theme in the chain: what a build can read.

    A symbolic link inside a theme is refused, as in content/: a theme's static files are
    published as they are, so a link (in a theme downloaded or copied from elsewhere) could
    publish any file of the machine, a private key say.
    """
    found = []
    problems = []
    for theme in chain:
        for path in sorted(theme.path.rglob("*")):
            if is_ignored(path.name) or "__pycache__" in path.parts:
                continue
            label = f"{theme.label}/{path.relative_to(theme.path).as_posix()}"
            shown = undecodable(label)
            if shown is not None:
                problems.append(error_at(shown, 0, *NOT_UTF8_NAME))
                continue
            if path.is_symlink():
                problems.append(error_at(
                    label, 0, "this is a symbolic link; theme files must be real files",
                    "copy the file into the theme instead of linking to it"))
                continue
            if not path.is_file():
                continue
            name = str(path)
            stamp, known = remembered.get(name) if remembered else ((0, 0, 0, 0), None)
            if known is None:
                if theme.templates in path.parents:  # Jinja reads them as UTF-8: say so here
                    data = path.read_bytes()
                    try:
                        utf8_text(data, label)
                    except BuildFailed as failed:  # not remembered: checked again next time
                        problems.extend(failed.errors)
                        continue
                    known = hashlib.sha256(data).hexdigest()
                else:
                    known = file_sha256(path)
                if remembered is not None:
                    remembered.put(name, stamp, known)
            found.append((label, known))
    if problems:
        raise BuildFailed(problems)
    return found


def template_label(chain: tuple[Theme, ...], filename: str | None) -> str:
    """Show a template file as ``themes/x/templates/y.html`` rather than an absolute path."""
    if not filename:
        return "<template>"
    path = Path(filename)
    for theme in chain:
        try:
            return f"{theme.label}/templates/{path.relative_to(theme.templates).as_posix()}"
        except ValueError:
            continue
    return path.name


def missing_template_hint(chain: tuple[Theme, ...], name: str) -> str:
    """How to fix a reference to a template no theme of the chain has (``name`` as written)."""
    prefix, _, rest = name.partition("/")
    own = {theme.name: theme for theme in chain}.get(prefix) if rest else None
    if own is not None:
        holder = next((theme for theme in chain if (theme.templates / rest).is_file()), None)
        if holder is not None:
            return (f"{own.label} has no {rest} of its own; write \"{holder.name}/{rest}\" "
                    f"(the copy of {holder.label}), or \"{rest}\" for the nearest theme's")
    themes = ", ".join(theme.label for theme in chain)
    return f"create {chain[0].label}/templates/{name}, or fix the name (looked in: {themes})"


def missing_string_hint(chain: tuple[Theme, ...], language: str, key: str,
                        known: Iterable[str] = ()) -> str:
    """Where to add a theme string a template asks for, and where it already is (the other
    language, say). When it is in no strings file, the nearest of the ``known`` keys is
    suggested first: ``t("read_mroe")`` is a typo, and nothing is to be added."""
    found = []
    for theme in chain:
        for path in sorted((theme.path / "strings").glob("*.yaml")):
            try:
                if line_of_key(path.read_text(encoding="utf-8"), key):
                    found.append(f"{theme.label}/strings/{path.name}")
            except (OSError, UnicodeDecodeError):
                continue
    site_theme = next((theme for theme in chain if theme.path.parent != BUILTIN_THEMES), None)
    where = (f"{site_theme.label}/strings/{language}.yaml" if site_theme is not None
             else f"strings/{language}.yaml of your theme")
    hint = f"add a line {key}: <the text> to {where}"
    if found:
        return f"{hint} (it is in {', '.join(found)})"
    close = did_you_mean(key, sorted(known))
    return f"{close} If not, {hint}" if close else hint


class Translator:
    """``t(key, **values)`` for templates; a missing key is an error naming the key."""

    def __init__(self, strings: dict[str, str], language: str,
                 chain: tuple[Theme, ...] = ()) -> None:
        self.strings = strings
        self.language = language
        self.chain = chain  # where a missing string can be added (for the hint)

    def __call__(self, key: str, **values: Any) -> str:
        try:
            text = self.strings[key]
        except KeyError:
            import jinja2

            error = jinja2.TemplateRuntimeError(
                f'theme string "{key}" is missing for language "{self.language}"')
            error.add_note(missing_string_hint(self.chain, self.language, key, self.strings))
            raise error from None
        if not values:
            return text
        if self.language == "it":
            text = _elide(text, values)
        if any(isinstance(value, Markup) for value in values.values()):
            # a value that is markup (a <time> element): the string is escaped, the other
            # values too, and the result stays markup (else the page would show the tags)
            return escape(text).format(**values)
        return text.format(**values)


#: an Italian article or articulated preposition written just before a placeholder
_ARTICLE = re.compile(r"\b(il|al|dal|del|nel|sul) \{(\w+)\}")
_ELIDED = {"il": "l'", "al": "all'", "dal": "dall'", "del": "dell'", "nel": "nell'", "sul": "sull'"}
#: a day read with a vowel first: otto, undici ("l'8 marzo", "dall'11 aprile")
_VOWEL_DAY = re.compile(r"(8|11)(?![\d.,])")


def _elide(text: str, values: dict[str, Any]) -> str:
    """``"fino al {date}"`` becomes ``"fino all'{date}"`` when the date is the 8th or the 11th."""

    def article(match: re.Match[str]) -> str:
        value = plain_text(str(values.get(match.group(2), "")))  # a <time>: the text it shows
        if _VOWEL_DAY.match(value):
            return _ELIDED[match.group(1)] + "{" + match.group(2) + "}"
        return match.group(0)

    return _ARTICLE.sub(article, text)

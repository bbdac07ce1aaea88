"""The photos a theme's templates name: ``picture("/assets/x.jpg", ...)`` and
``image("/assets/x.jpg")`` written with a constant path.

Part of the image stage (stage 7, the uses of :mod:`storefront.imageuses`): a photo a template
names is shown by the site as surely as one a post names, so it gets resized copies in every
format like one, and a path to no file is an error at the template's line (see
:func:`storefront.checks.check_template_images`), not a broken ``<img>`` on every page.

They are found with Jinja's own parser: in each template's syntax tree, the calls of ``picture``
or ``image`` whose first argument is a constant string (only paths under ``/assets/``, the
content's files, become uses: a theme links its own files with ``asset_url()``). The templates
read are those the theme chain can show: for each name, the nearest theme's file, and a parent's
file that a template names with the theme's prefix (``{% extends "default/base.html" %}``); a
parent's template that a child theme replaced and that nothing names is never shown, so its
photos are not asked for. A path known only at render time (``picture(post.image)``) is not known
here: the page shows whatever the catalog has of it, as before. A template that gives ``picture``
or ``image`` a meaning of its own (a macro, a variable, a loop or macro parameter, an import of
that name) is left out. A template Jinja cannot read or parse is left to the render stage, which
reports it.

What was found is kept in the build cache under the digest of every template's text, so a build
whose templates did not change parses none of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storefront.cache import BuildCache
from storefront.environment import make_environment
from storefront.fingerprints import digest
from storefront.sources import is_ignored
from storefront.theme import Theme
from storefront.urls import is_site_path

if TYPE_CHECKING:
    import jinja2

#: the template functions that show a site image, and the name of their path argument
FUNCTIONS = {"picture": "path", "image": "argument"}
_MEMO = "template images"


@dataclass(frozen=True, order=True)
class TemplateImage:
    """A constant image path in a template."""

    template: str  # as errors name it: themes/bottega/templates/base.html
    line: int
    written: str  # the path as the template writes it: /assets/vetrina.jpg


@dataclass(frozen=True)
class _Template:
    theme: Theme
    name: str  # below the theme's templates/
    text: str

    @property
    def label(self) -> str:
        return f"{self.theme.label}/templates/{self.name}"


def template_images(chain: tuple[Theme, ...], cache: BuildCache) -> tuple[TemplateImage, ...]:
    """Every constant image path in the templates the chain can show (see the module's
    docstring), sorted; from ``cache`` when no template changed since it was last asked."""
    templates = read_templates(chain)
    key = digest(*(f"{t.label}\x00{t.text}" for t in templates.values()))
    stored = cache.memo(_MEMO)
    if stored is not None:
        try:
            data = json.loads(stored)
            if data["key"] == key:
                return tuple(TemplateImage(str(t), int(n), str(w)) for t, n, w in data["found"])
        except (ValueError, KeyError, TypeError):
            pass
    found = _find(chain, templates)
    cache.save_memo(_MEMO, json.dumps({"key": key, "found": [
        [image.template, image.line, image.written] for image in found]}))
    return found


def read_templates(chain: tuple[Theme, ...]) -> dict[Path, _Template]:
    """Every template file of the chain, by path (a file that cannot be read as UTF-8 text is
    left out: the render stage reports it if a page uses it)."""
    found: dict[Path, _Template] = {}
    for theme in chain:
        if not theme.templates.is_dir():
            continue
        for path in sorted(theme.templates.rglob("*")):
            if is_ignored(path.name) or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            found[path] = _Template(theme, path.relative_to(theme.templates).as_posix(), text)
    return found


def _find(chain: tuple[Theme, ...], templates: dict[Path, _Template]) -> tuple[TemplateImage, ...]:
    """Parse the templates the chain can show, following the names they give by prefix."""
    import jinja2
    from jinja2 import meta

    env = make_environment(chain)
    nearest: dict[str, Path] = {}
    for path, template in templates.items():
        nearest.setdefault(template.name, path)  # the chain's order: the nearest theme first
    prefixes = {theme.name: theme for theme in chain}  # as the loader: the last of a name wins
    queue = sorted(nearest.values())
    seen = set(queue)
    found: set[TemplateImage] = set()
    while queue:
        template = templates[queue.pop()]
        try:
            tree = env.parse(template.text, template.name)
        except jinja2.TemplateSyntaxError:
            continue
        found.update(_constant_paths(tree, template.label))
        for name in meta.find_referenced_templates(tree):
            named = _resolve(str(name), nearest, prefixes) if name is not None else None
            if named is not None and named in templates and named not in seen:
                seen.add(named)
                queue.append(named)
    return tuple(sorted(found))


def _resolve(name: str, nearest: dict[str, Path], prefixes: dict[str, Theme]) -> Path | None:
    """The file the environment's loader gives for a template name (by the chain's order, then
    by a theme's name as a prefix), or None."""
    if name in nearest:
        return nearest[name]
    prefix, _, rest = name.partition("/")
    theme = prefixes.get(prefix)
    if theme is None or not rest or ".." in rest.split("/"):
        return None
    return theme.templates / rest


def _constant_paths(tree: jinja2.nodes.Template, label: str) -> list[TemplateImage]:
    """The calls of :data:`FUNCTIONS` with a constant site path as their first argument."""
    from jinja2 import nodes

    own = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    own.update(node.name for node in tree.find_all(nodes.Macro))
    own.update(node.target for node in tree.find_all(nodes.Import))
    for node in tree.find_all(nodes.FromImport):
        own.update(name if isinstance(name, str) else name[1] for name in node.names)
    found = []
    for call in tree.find_all(nodes.Call):
        if not isinstance(call.node, nodes.Name) or call.node.name not in FUNCTIONS \
                or call.node.name in own:
            continue
        keyword = FUNCTIONS[call.node.name]
        first = call.args[0] if call.args else next(
            (k.value for k in call.kwargs if k.key == keyword), None)
        if isinstance(first, nodes.Const) and isinstance(first.value, str):
            written = first.value
            if is_site_path(written):
                found.append(TemplateImage(label, call.lineno, written))
    return found

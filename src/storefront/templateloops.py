"""Templates that extend themselves, or each other, found before Jinja runs out of stack on them.

Asked only once a page's render ran out of stack (:meth:`storefront.render.Renderer.render`):
``{% extends "post.html" %}`` inside the theme's own ``post.html`` names the file itself (the
nearest theme's comes first), and Jinja follows it until Python's stack ends. The templates the
page reaches are parsed again and their ``{% extends %}`` followed, to name the loop and its line.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from storefront.templateerrors import Explained
from storefront.theme import Theme, template_label

if TYPE_CHECKING:
    import jinja2


def extends_loop(chain: tuple[Theme, ...], env: jinja2.Environment,
                 name: str) -> Explained | None:
    """A loop of ``{% extends %}`` among the templates a page's template reaches (itself, what it
    extends, includes and imports, and so on): a template that extends itself, or two that
    extend each other, never end (Jinja runs out of stack). The loop is reported at the
    ``{% extends %}`` line of its first template, or None when there is none."""
    import jinja2
    from jinja2 import nodes

    @functools.cache
    def tags(filename: str) -> tuple[tuple[str, str, int, str], ...]:
        """The templates one names, in order: (its tag, the name as written, line, file)."""
        try:
            with open(filename, encoding="utf-8") as handle:
                tree = env.parse(handle.read(), filename=filename)
        except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
            return ()
        found = []
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            named = getattr(node, "template", None)  # a name written as it is, not worked out
            if isinstance(named, nodes.Const) and isinstance(named.value, str):
                target = _file_of(env, named.value)
                if target is not None:
                    found.append((type(node).__name__, named.value, node.lineno, target))
        return tuple(found)

    start = _file_of(env, name)
    queue, seen = ([start], {start}) if start is not None else ([], set())
    for filename in queue:  # every template the page reaches, nearest first
        walked: list[tuple[str, str, int]] = []  # (file, the name it extends, line), in order
        current: str | None = filename
        while current is not None:
            files = [step[0] for step in walked]
            if current in files:
                return _loop_error(chain, walked[files.index(current):])
            extends = next((tag for tag in tags(current) if tag[0] == "Extends"), None)
            if extends is None:
                break
            walked.append((current, extends[1], extends[2]))
            current = extends[3]
        for tag in tags(filename):
            if tag[3] not in seen:
                seen.add(tag[3])
                queue.append(tag[3])
    return None


def _file_of(env: jinja2.Environment, name: str) -> str | None:
    import jinja2

    try:
        return env.loader.get_source(env, name)[1] if env.loader is not None else None
    except jinja2.TemplateNotFound:
        return None


def _loop_error(chain: tuple[Theme, ...], loop: list[tuple[str, str, int]]) -> Explained:
    first, written, line = loop[0]
    place = (template_label(chain, first), line)
    if len(loop) == 1:
        message = f'this template extends itself ("{written}" is this same file), so it never ends'
        parent = _parent_copy(chain, first)
        hint = (f'write {{% extends "{parent[0]}" %}} to build on the copy of {parent[1]}'
                if parent else f'extend another template, such as "{chain[-1].name}/base.html"')
        return place, message, hint
    steps = "".join(f'"{step[1]}", which extends ' for step in loop[:-1])
    message = (f'this template extends {steps}"{loop[-1][1]}" (this template) again: templates '
               "that extend each other never end")
    hint = (f'make one of them extend a template outside the loop, such as '
            f'"{chain[-1].name}/base.html"')
    return place, message, hint


def _parent_copy(chain: tuple[Theme, ...], filename: str) -> tuple[str, str] | None:
    """The name that reaches the same template of a theme further down the chain, and that
    theme's label ("default/post.html", "<built-in theme default>")."""
    path = Path(filename)
    for index, theme in enumerate(chain):
        if path.is_relative_to(theme.templates):
            relative = path.relative_to(theme.templates)
            for parent in chain[index + 1:]:
                if (parent.templates / relative).is_file():
                    return f"{parent.name}/{relative.as_posix()}", parent.label
            return None
    return None

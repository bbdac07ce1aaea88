"""A child template's blocks that its parents lack, and what it writes outside its blocks.

A template that ``{% extends %}`` another shows only the blocks its parents have (and those it
shows itself, inside another block, or it or a parent shows with ``{{ self.name() }}``): Jinja
renders
a child's ``{% block contenuto %}`` (for ``content``), or ``{% block title %}`` copied from
another theme's guide, nowhere, and drops what the child writes outside its blocks (a
``<p>``, a ``{{ super() }}``), without a word; the owner saw the parent's page unchanged. What
it writes before its ``{% extends %}`` (an HTML comment, a stray line) is not dropped but
written ahead of the parent's page, before ``<!doctype html>``: browsers then lay the page out
in quirks mode. The
templates a page's template extends, from the page's up to the built-in theme's, are read
again (the built-in ones are storefront's own and right), each once per environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storefront.templateerrors import Explained
from storefront.templatenames import did_you_mean
from storefront.theme import Theme, template_label

if TYPE_CHECKING:
    import jinja2
    from jinja2 import nodes

_CHECKED = "_storefront_blocks"  # the environment's memo: template name -> its problems


def block_problems(chain: tuple[Theme, ...], env: jinja2.Environment, name: str) -> list[Explained]:
    """The problems of the blocks of ``name`` and of the templates it extends that are the
    owner's (not the built-in theme's), memoized on ``env`` (which is made again when a
    template changes). A site with no theme of its own has none: the built-in theme's blocks
    are right, and parsing its templates again cost a fresh process ~20 ms of a one-edit build."""
    if len(chain) < 2:
        return []
    memo: dict[str, list[Explained]] = env.__dict__.setdefault(_CHECKED, {})
    found = memo.get(name)
    if found is None:
        found = memo[name] = _problems(chain, env, name, set())
    return found


def _problems(chain: tuple[Theme, ...], env: jinja2.Environment, name: str,
              seen: set[str]) -> list[Explained]:
    parsed = _parse(env, name)
    if parsed is None or name in seen:
        return []
    tree, filename, parent = parsed
    owners = tuple(str(theme.templates) for theme in chain[:-1])  # the last is the built-in one
    if parent is None:
        return []
    found = _problems(chain, env, parent, seen | {name})
    if not filename.startswith(owners):
        return found
    label = template_label(chain, filename)
    blocks = _blocks_of(env, parent)
    listed = ", ".join(sorted(blocks or ()))
    for line, text in _written(tree, before=True):
        found.append(((label, line),
                      f"{text} is before the {{% extends %}}: it is written at the top of the "
                      "page, before <!doctype html>, and breaks it",
                      "delete it, or make a note a Jinja comment {# ... #}, which is not "
                      "written" + (f'; to show it, put it inside one of the blocks of "{parent}": '
                                   f"{listed}" if blocks else "")))
    if blocks is None:  # the parent names its own parent in a way known only as it renders
        return found
    known = sorted(blocks)
    called = _shown_by_self(tree)
    for block in _outer_blocks(tree):
        if block.name not in blocks and block.name not in called:
            close = did_you_mean(block.name, known)
            has = f'the blocks of "{parent}" and the templates it extends: {listed}'
            found.append(((label, block.lineno),
                          f'the block "{block.name}" is in none of the templates this one '
                          f'extends, so it is never shown',
                          f"{close} {has[0].upper()}{has[1:]}" if close else has))
    for line, text in _written(tree, before=False):
        found.append(((label, line),
                      f"{text} is outside every {{% block %}}: a template that extends another "
                      "shows only its blocks",
                      f'put it inside one of the blocks of "{parent}": {listed}'))
    return found


def _parse(env: jinja2.Environment, name: str) -> tuple[nodes.Template, str, str | None] | None:
    """The template's tree, file and the name it extends (None when it extends none, or one
    known only as it renders), or None when it cannot be read."""
    import jinja2
    from jinja2 import nodes

    try:
        source, filename, _ = env.loader.get_source(env, name) if env.loader else ("", None, None)
        tree = env.parse(source, name, filename)
    except (jinja2.TemplateError, OSError, UnicodeDecodeError):
        return None
    if filename is None:
        return None
    parent: str | None = None
    for node in tree.body:
        if isinstance(node, nodes.Extends):
            written = node.template
            parent = (written.value if isinstance(written, nodes.Const)
                      and isinstance(written.value, str) else "")
            break
    return tree, filename, parent or None


def _blocks_of(env: jinja2.Environment, name: str) -> set[str] | None:
    """Every block of the template and of the templates it extends, or None when one of them
    extends a template named in a way known only as it renders, or one that is missing or has a
    syntax error (the render reports that at the line that names it: a block check would say
    every block of the child is in none of its parents)."""
    from jinja2 import nodes

    names: set[str] = set()
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current not in seen:
        seen.add(current)
        parsed = _parse(env, current)
        if parsed is None:  # missing, or not valid: the render says so where it is named
            return None
        tree, _filename, parent = parsed
        names.update(block.name for block in tree.find_all(nodes.Block))
        names.update(_shown_by_self(tree))  # a parent's {{ self.aside() }} shows a child's block
        if parent is None and any(isinstance(node, nodes.Extends) for node in tree.body):
            return None
        current = parent
    return names


def _shown_by_self(tree: nodes.Node) -> set[str]:
    """The blocks the template shows with ``{{ self.name() }}``: Jinja finds them in any
    template of the chain, the child's too."""
    from jinja2 import nodes

    return {node.attr for node in tree.find_all(nodes.Getattr)
            if isinstance(node.node, nodes.Name) and node.node.name == "self"}


def _outer_blocks(tree: nodes.Node) -> list[nodes.Block]:
    """The blocks that are in no other block (one inside a block is shown where it is)."""
    from jinja2 import nodes

    found: list[nodes.Block] = []
    for child in tree.iter_child_nodes():
        if isinstance(child, nodes.Block):
            found.append(child)
        elif not isinstance(child, nodes.Macro | nodes.CallBlock):
            found.extend(_outer_blocks(child))
    return found


def _written(tree: nodes.Template, before: bool) -> list[tuple[int, str]]:
    """What the template writes outside its blocks, before its ``{% extends %}`` or after it:
    (its line, how the owner knows it), the first of each run of text and values. Blank text is
    nothing (Jinja writes it, but a page's white space before ``<!doctype html>`` is harmless),
    and so are comments, ``{% set %}`` and ``{% import %}``."""
    from jinja2 import nodes

    found: list[tuple[int, str]] = []
    after = False
    for node in tree.body:
        if isinstance(node, nodes.Extends):
            if before:
                break
            after = True
        elif after != before and isinstance(node, nodes.Output):
            for part in node.nodes:
                if isinstance(part, nodes.TemplateData):
                    if part.data.strip():
                        blank = part.data[:len(part.data) - len(part.data.lstrip())]
                        found.append((part.lineno + blank.count("\n"), "this text"))
                        break
                else:
                    found.append((part.lineno, "this value"))
                    break
    return found

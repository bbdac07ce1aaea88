"""A ``{% set %}`` the line that reads its name does not see, found in the template's source.

Jinja forgets what a ``{% for %}`` sets at its ``{% endfor %}``, what a block sets at its
``{% endblock %}`` (another block does not see it), and what a macro sets when it returns; a
name read before its ``{% set %}`` is not set yet. The owner only read "'totale' is undefined"
(later, 'this template has no value "totale"', with a "did you mean" for some field of the
page), though the template sets it a few lines up. Asked only once a page failed on a name with
no value (see :func:`storefront.templateerrors.explain`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2
    from jinja2 import nodes

_SCOPES = {"For": "a {% for %}", "Block": "a block", "Macro": "a macro", "With": "a {% with %}",
           "CallBlock": "a {% call %}", "FilterBlock": "a {% filter %}"}


def set_elsewhere(env: jinja2.Environment, filename: str, name: str,
                  line: int) -> tuple[str, str] | None:
    """Why the template's line ``line`` does not see the ``{% set %}`` of ``name`` the file
    ``filename`` has (the message and the hint), or None when it sets no such name."""
    import jinja2

    try:
        with open(filename, encoding="utf-8") as handle:
            tree = env.parse(handle.read(), filename=filename)
    except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
        return None
    sets: list[tuple[nodes.Node, list[nodes.Node]]] = []
    _find_sets(tree, name, [], sets)
    if not sets:
        return None
    node, scopes = sets[0]
    where = f"the {{% set %}} of \"{name}\" at line {node.lineno}"
    inner = next((scope for scope in reversed(scopes) if type(scope).__name__ in _SCOPES), None)
    if inner is not None and not _inside(inner, line):
        kind = type(inner).__name__
        what = (f'the block "{getattr(inner, "name", "")}"' if kind == "Block"
                else _SCOPES[kind])
        message = (f'"{name}" has no value here: {where} is inside {what}, which keeps it to '
                   "itself")
        if kind == "For":
            hint = (f"to keep a value a loop sets, set a namespace before the loop: "
                    f"{{% set ns = namespace({name}=none) %}}, in the loop "
                    f"{{% set ns.{name} = … %}}, and after it read ns.{name}")
        elif kind == "Block":
            hint = ("set it outside the blocks, after the {% extends %} line, for every block "
                    "to see it")
        else:
            hint = f"set it where line {line} reads it, or before {what}"
        return message, hint
    if node.lineno > line:
        return (f'"{name}" has no value yet at line {line}: {where} comes after it',
                f"move the {{% set %}} above line {line}")
    return None


def _find_sets(node: nodes.Node, name: str, scopes: list[nodes.Node],
               found: list[tuple[nodes.Node, list[nodes.Node]]]) -> None:
    """Each ``{% set %}`` of ``name`` below ``node``, with the nodes that hold it."""
    from jinja2 import nodes

    if isinstance(node, nodes.Assign | nodes.AssignBlock):
        targets = node.target.find_all(nodes.Name) if not isinstance(node.target, nodes.Name) \
            else [node.target]
        if any(target.name == name for target in targets):
            found.append((node, list(scopes)))
    for child in node.iter_child_nodes():
        _find_sets(child, name, [*scopes, node], found)


def _inside(node: nodes.Node, line: int) -> bool:
    """Whether the line is within the node: from its tag to the last line of what it holds."""
    from jinja2 import nodes

    last = max((child.lineno for child in node.find_all(nodes.Node)), default=node.lineno)
    return node.lineno <= line <= last

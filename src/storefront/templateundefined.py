"""Jinja's strict undefined value, in the owner's words for what a template reads.

A value read for a field or an item it lacks failed with storefront's or Python's name for the
value: "'storefront.deps.DocumentView object' has no attribute 'titel'", "'storefront.config.
SiteConfig object' has no attribute 'titel'", "'None' has no attribute 'title'", "tuple object has
no element 0". The error now names the value as the owner knows it, "the post has no field
"titel"", "the site settings have no field "titel"", "the list is empty, so it has no item 0",
with a hint when a field is close ("did you mean "title"?"). The words are made only when a
missing value is used (see :mod:`storefront.templatenames`). A name the template has no value
for at all (``{{ titolo }}``, ``{% for p in posst %}``) was Jinja's "'titolo' is undefined": it
is now 'this template has no value "titolo"', with the nearest name or field ("posts",
"post.title") and the values the template has.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from storefront.templatenames import did_you_mean, fields_of, owner_name

if TYPE_CHECKING:
    import jinja2

IF_SET = "show it only when it is set, inside {% if %} … {% endif %}"
_EMPTY_LIST = ("go through its items with {% for %}, which shows nothing for an empty list, or "
               "check that it has one first, with {% if %}")


@functools.cache
def owner_undefined() -> type[jinja2.StrictUndefined]:
    """Jinja's strict undefined value, whose error names the value read by the owner's name for
    it ("the post has no field "titel"", with a "did you mean" hint) instead of a class's."""
    import jinja2
    from jinja2.utils import internalcode, missing

    class OwnerUndefined(jinja2.StrictUndefined):
        __slots__ = ()

        @internalcode
        def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
            if self._undefined_hint or self._undefined_obj is missing:
                return super()._fail_with_undefined_error(*args, **kwargs)
            message, hint = missing_words(self._undefined_obj, self._undefined_name)
            error = self._undefined_exception(message)
            if hint:
                error.add_note(hint)
            raise error

    # StrictUndefined makes printing, comparing, iterating... fail through the base class's
    # function itself: each of them fails through this class's instead
    failing = jinja2.Undefined._fail_with_undefined_error
    for name in dir(jinja2.StrictUndefined):
        if getattr(jinja2.StrictUndefined, name, None) is failing:
            setattr(OwnerUndefined, name, OwnerUndefined._fail_with_undefined_error)
    return OwnerUndefined


def missing_words(obj: Any, name: Any) -> tuple[str, str]:
    """What the owner reads when a template asks ``obj`` for ``name`` (a field, or with a number
    in square brackets, an item), and a hint ("" for none)."""
    field = isinstance(name, str)
    what = f'field "{name}"' if field else f"item {name!r}"
    if obj is None:
        return f"this value is empty (none), so it has no {what}", IF_SET
    if (named := owner_name(obj)) is not None:
        words, plural = named
        return (f"{words} {'have' if plural else 'has'} no {what}",
                did_you_mean(name, fields_of(obj)) if field else "")
    module = _template_module(obj)
    if module is not None:
        macros = [key for key in vars(obj) if not key.startswith("_")]
        missing_one = what.replace("field", "macro")
        return (f'the template "{module}" has no {missing_one}',
                did_you_mean(name, macros) if field else "")
    if isinstance(obj, Mapping):
        hint = did_you_mean(name, fields_of(obj)) if field else ""
        names = ", ".join(fields_of(obj)[:12])
        return (f"there is no {what} here",
                hint or (f"what there is here: {names}" if names else "it is empty"))
    if isinstance(obj, list | tuple | str):
        return _sequence_words(obj, name)
    if isinstance(obj, date):
        return f"the date has no {what}", did_you_mean(name, fields_of(obj)) if field else ""
    if isinstance(obj, int | float | Decimal):
        return f"a number has no {what}", ""
    return f"this value has no {what}", did_you_mean(name, fields_of(obj)) if field else ""


def _sequence_words(obj: list[Any] | tuple[Any, ...] | str, name: Any) -> tuple[str, str]:
    """A list (or a text) asked for a field, or for an item it does not have."""
    kind, part = ("text", "character") if isinstance(obj, str) else ("list", "item")
    if isinstance(name, str):
        hint = "" if kind == "text" else ("take its first item with |first, or each item with "
                                          "{% for %}")
        return f'a {kind} has no field "{name}"', hint
    if not obj:
        return (f"the {kind} is empty, so it has no {part} {name!r}",
                _EMPTY_LIST if kind == "list" else "")
    count = f"{len(obj)} {part}{'s' if len(obj) > 1 else ''}"
    last = f"its only {part} is [0]" if len(obj) == 1 else f"its {part}s are [0] to [{len(obj) - 1}]"
    return f"the {kind} has {count}, so no {part} {name!r}", last


def _template_module(obj: Any) -> str | None:
    """The name of an imported template (``{% import "_cards.html" as cards %}``), or None."""
    from jinja2.environment import TemplateModule

    return str(obj.__name__) if isinstance(obj, TemplateModule) else None


_ONLY_INSIDE = {  # names Jinja gives a template only in one place
    "loop": ("inside a {% for %} … {% endfor %} (loop.index, loop.first...)",
             "use it between {% for %} and its {% endfor %}; outside, count with a "
             "{% set %} of your own"),
    "super": ("inside a {% block %} of a template that extends another: super() shows the "
              "parent's block",
              "call super() inside the {% block %} … {% endblock %} whose parent block you want"),
    "caller": ("inside a macro called with {% call %}",
               "call caller() inside a {% macro %} that a {% call %} … {% endcall %} calls"),
}


def unknown_name(name: str, seen: Mapping[str, Any], own: list[str], exported: set[str],
                 globals_: Mapping[str, Any]) -> tuple[str, str]:
    """What the owner reads when a template names ``name`` and has no value by that name. ``seen``
    is what the template line sees (the page's values, the globals, what the templates and its
    loops set), ``own`` the names of the page's values, in order, ``exported`` the names the
    templates set at their top level. The hint has the nearest name,
    or field of a value ("post.title" for "titolo", the page's values first), and the values
    there are: the page's and the site's, and the line's own (a loop's, a ``{% set %}``'s),
    not what the parent templates set for themselves."""
    import jinja2
    from jinja2.environment import TemplateModule
    from jinja2.utils import missing

    if name in _ONLY_INSIDE:
        return f'"{name}" is there only {_ONLY_INSIDE[name][0]}', _ONLY_INSIDE[name][1]
    names = {key: value for key, value in seen.items()
             if not key.startswith("_") and value is not missing
             and not isinstance(value, jinja2.Undefined)}
    hint = did_you_mean(name, sorted(names))
    common = ("page", "nav")  # every page has them: its own document comes first
    order = [key for key in own if key not in common] + [key for key in common if key in own]
    if not hint:
        fields: dict[str, str] = {}
        for key in [*order, *sorted(key for key in names if key not in own)]:
            if key in names and owner_name(names[key]) is not None:
                for field in fields_of(names[key]):
                    fields.setdefault(field, f"{key}.{field}")
        close = difflib.get_close_matches(name, sorted(fields), 1)
        if close:
            hint = f'did you mean "{fields[close[0]]}"?'
    shown = [key for key in names if key not in globals_ and key not in own]  # a loop's, a set's
    values = [key for key in [*order, *sorted(globals_), *sorted(shown)]
              if key in names and not callable(names[key])
              and not isinstance(names[key], TemplateModule)
              and key not in exported]
    has = f"the values this template has: {', '.join(values)}" if values else ""
    if hint and has:
        has = has[0].upper() + has[1:]
    return f'this template has no value "{name}"', " ".join(part for part in (hint, has) if part)

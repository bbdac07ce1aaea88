"""What went wrong while a template ran, in the owner's words and at the owner's line.

Jinja words its errors for a programmer, about the Python underneath: a filter, function or
macro given values that do not fit it is "Formatter.date() takes from 2 to 3 positional arguments
but 5 were given" or "TypeError: macro 'icon' takes no keyword argument 'size'", and a macro
called without a value it needs fails only where the macro uses it, at a line of the built-in
theme the owner never opened. These helpers say the same in the owner's terms, at the line of
the owner's template that made the call. They run only once a page failed: a template that works
never reaches them. A storefront filter given a value it cannot use (a text for a date) is
worded by :mod:`storefront.templatefilters`. (See also :mod:`storefront.templateloops` and
:mod:`storefront.templateundefined`.)
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from storefront.theme import Theme, template_label

if TYPE_CHECKING:
    import jinja2

Place = tuple[str, int]  # a template's label and line
Explained = tuple[Place, str, str]  # where, the message, the hint

_NO_SUCH = re.compile(r"No (filter|test) named '([\w.]+)'(?: found)?\.?")  # compiled, or run
_UNKNOWN_NAME = re.compile(r"'(\w+)' is undefined")  # a name with no value at all
_MISSING_PARAMETER = re.compile(r"parameter '(\w+)' was not provided")
_FUNCTION = r"(?P<function>[\w.<>]+)\(\) "
_CALL_PROBLEMS = (  # CPython's words when a call's values do not fit the function
    ("too_many", re.compile(_FUNCTION + r"takes (?:from \d+ to )?\d+ positional arguments? but")),
    ("unknown", re.compile(_FUNCTION + r"got an unexpected keyword argument '(?P<name>\w+)'")),
    ("missing", re.compile(_FUNCTION + r"missing \d+ required (?:positional |keyword-only )?"
                           r"arguments?: (?P<names>.+)")),
    ("twice", re.compile(_FUNCTION + r"got multiple values for argument '(?P<name>\w+)'")),
)
_MACRO_TOO_MANY = re.compile(r"macro '(\w+)' takes not more than (\d+) argument")
_MACRO_UNKNOWN = re.compile(r"macro '(\w+)' takes no keyword argument '(\w+)'")
_NOT_CALLABLE = re.compile(r"'(\w+)' object is not callable")
_WHAT = {"str": "a text, not a function", "Markup": "a text, not a function",
         "int": "a number, not a function", "float": "a number, not a function",
         "Decimal": "a number, not a function", "bool": "true or false, not a function",
         "datetime": "a date, not a function", "date": "a date, not a function",
         "tuple": "a list, not a function", "list": "a list, not a function",
         "NoneType": "empty (none), not a function"}


def frames(tb: TracebackType | None) -> Iterator[TracebackType]:
    """A traceback's entries, outermost first."""
    while tb is not None:
        yield tb
        tb = tb.tb_next


def in_templates(chain: tuple[Theme, ...]) -> Callable[[TracebackType], bool]:
    """Whether a traceback entry runs a template file of the chain."""
    folders = tuple(str(theme.templates) for theme in chain)
    return lambda tb: tb.tb_frame.f_code.co_filename.startswith(folders)


def template_place(chain: tuple[Theme, ...], tb: TracebackType | None) -> Place:
    """The innermost traceback frame that is a template file: its label and line."""
    inside = in_templates(chain)
    found = [entry for entry in frames(tb) if inside(entry)]
    if not found:
        return ("<template>", 0)
    return (template_label(chain, found[-1].tb_frame.f_code.co_filename), found[-1].tb_lineno)


def explain(exc: Exception, tb: TracebackType | None, chain: tuple[Theme, ...],
            env: jinja2.Environment) -> Explained | None:
    """The owner's words for a call from a template that went wrong, or None."""
    message = str(exc)
    no_such = unknown_filter_or_test(message, env)
    if no_such is not None:
        return (template_place(chain, tb), *no_such)
    unknown = _UNKNOWN_NAME.fullmatch(message)
    if unknown is not None and type(exc).__name__ == "UndefinedError":
        return _unknown_name(chain, tb, env, unknown.group(1))
    missing = _MISSING_PARAMETER.fullmatch(message)
    if missing is not None:
        return _macro_called_without(chain, tb, missing.group(1))
    if isinstance(exc, TypeError):
        from storefront.templateoperations import operation_problem

        found = operation_problem(message, chain, tb)
        if found is not None:
            return found
        found = _call_problem(message, chain, tb, env)
        if found is not None:
            return found
    from storefront.templatefilters import filter_problem

    return filter_problem(exc, tb, chain, env)


def unknown_filter_or_test(message: str, env: jinja2.Environment) -> tuple[str, str] | None:
    """Jinja's "No filter named 'datum'." (when it compiles the template) or "No test named
    'numero' found." (a test under an {% if %}, when it runs) in the owner's words, with the
    nearest name and the ones there are; None for another message."""
    from storefront.templatenames import did_you_mean

    found = _NO_SUCH.fullmatch(message)
    if found is None:
        return None
    kind, name = found.groups()
    known = sorted(key for key in (env.filters if kind == "filter" else env.tests)
                   if key.isidentifier())  # not "==", which a template writes as it is
    close = did_you_mean(name, known)
    there = f"the {kind}s there are: {', '.join(known)}"
    hint = f"{close} {there[0].upper()}{there[1:]}" if close else there
    return f'there is no {kind} "{name}"', hint


def _unknown_name(chain: tuple[Theme, ...], tb: TracebackType | None, env: jinja2.Environment,
                  name: str) -> Explained | None:
    """A name the template line has no value for. Jinja's traceback keeps, for each template
    line, the values the line saw (the page's, the globals, what its parents and loops set), and
    the frame of the render keeps the page's context, whose values are the page's own."""
    import jinja2

    from storefront.templatesets import set_elsewhere
    from storefront.templateundefined import unknown_name

    inside = in_templates(chain)
    entries = list(frames(tb))
    last = max((i for i, entry in enumerate(entries) if inside(entry)), default=-1)
    if last < 0:
        return None
    context = next((entry.tb_frame.f_locals.get("ctx") for entry in reversed(entries[:last])
                    if entry.tb_frame.f_code is jinja2.Template.render.__code__), None)
    if isinstance(context, jinja2.runtime.Context):  # the values given to the render come
        exported = set(context.exported_vars)          # after the globals
        own = [key for key in context.parent if key not in env.globals and key not in exported]
    else:
        exported, own = set(), []
    filename = entries[last].tb_frame.f_code.co_filename
    place = (template_label(chain, filename), entries[last].tb_lineno)
    elsewhere = set_elsewhere(env, filename, name, entries[last].tb_lineno)
    if elsewhere is not None:
        return (place, *elsewhere)
    return (place, *unknown_name(name, entries[last].tb_frame.f_locals, own, exported, env.globals))


def _macro_called_without(chain: tuple[Theme, ...], tb: TracebackType | None,
                          name: str) -> Explained | None:
    """A macro used a value its call did not give: blamed on the call, not on the macro's line
    (Jinja only fails once the macro uses the value, inside the macro's own file)."""
    from jinja2.runtime import Macro
    from jinja2.utils import missing

    inside = in_templates(chain)
    caller: TracebackType | None = None
    for entry in frames(tb):
        if inside(entry):
            caller = entry
        elif entry.tb_frame.f_code is Macro._invoke.__code__ and caller is not None:
            macro, given = entry.tb_frame.f_locals.get("self"), entry.tb_frame.f_locals.get("arguments")
            if (isinstance(macro, Macro) and name in macro.arguments and isinstance(given, list)
                    and given[macro.arguments.index(name)] is missing):
                place = (template_label(chain, caller.tb_frame.f_code.co_filename), caller.tb_lineno)
                return (place, f'the macro "{macro.name}" is called without a value for "{name}"',
                        _takes(_macro_parameters(macro)))
    return None


def _called_macro(entry: TracebackType, name: str,
                  fits: Callable[[Any], bool]) -> list[tuple[str, bool]] | None:
    """The parameters of the macro ``name`` a template line called, found among what the line's
    template sees (a macro defined there or imported by name, or one of a template imported as a
    module) whose call fails as the error says (``fits``); None unless they are one."""
    from jinja2.environment import TemplateModule
    from jinja2.runtime import Macro

    found = set()
    for value in entry.tb_frame.f_locals.values():
        if isinstance(value, TemplateModule):
            value = vars(value).get(name)
        if isinstance(value, Macro) and value.name == name and fits(value):
            found.add(tuple(_macro_parameters(value)))
    return list(next(iter(found))) if len(found) == 1 else None


def _macro_parameters(macro: Any) -> list[tuple[str, bool]]:
    """The macro's parameters, each with whether it must be given (Jinja compiles a check for
    each one that has no default)."""
    constants = macro._func.__code__.co_consts
    return [(name, f"parameter {name!r} was not provided" in constants) for name in macro.arguments]


def _call_problem(message: str, chain: tuple[Theme, ...], tb: TracebackType | None,
                  env: jinja2.Environment) -> Explained | None:
    """A filter, test, function or macro called from a template with values that do not fit it,
    or brackets after a value that is no function."""
    entries = list(frames(tb))
    inside = in_templates(chain)
    last = max((i for i, entry in enumerate(entries) if inside(entry)), default=-1)
    callables = _template_callables(env)
    # the call itself was refused: no frame after the template's but a wrapper's (a TypeError
    # from deeper down is storefront's own, not the template's)
    wrappers = {getattr(value, "__code__", None) for _kind, _name, value in callables.values()
                if hasattr(value, "__wrapped__")}
    if last < 0 or any(entry.tb_frame.f_code not in wrappers for entry in entries[last + 1:]):
        return None
    place = (template_label(chain, entries[last].tb_frame.f_code.co_filename), entries[last].tb_lineno)
    if (macro := _MACRO_TOO_MANY.match(message)) is not None:
        name, most = macro.group(1), int(macro.group(2))
        takes = _called_macro(entries[last], name,
                              lambda m: len(m.arguments) == most and not m.catch_varargs)
        return (place, f'the macro "{name}" is given more values than it takes',
                _takes(takes) if takes is not None else f"it takes at most {most}")
    if (macro := _MACRO_UNKNOWN.match(message)) is not None:
        name, value = macro.groups()
        takes = _called_macro(entries[last], name,
                              lambda m: value not in m.arguments and not m.catch_kwargs)
        return (place, f'the macro "{name}" has no value named "{value}"', _takes(takes))
    if (value := _NOT_CALLABLE.fullmatch(message)) is not None:
        return (place, f"brackets follow a value that is {_WHAT.get(value.group(1), 'no function')}",
                "remove the ( ) after it: only a function, a macro or a filter takes them")
    problem, found = next(((problem, found) for problem, pattern in _CALL_PROBLEMS
                           if (found := pattern.match(message)) is not None), ("", None))
    named = callables.get(found.group("function")) if found is not None else None
    if found is None or named is None:
        return None
    kind, name, function = named
    parameters = _parameters(function, kind)
    what = f'the {kind} "{name}"'
    if problem == "too_many":
        text = f"{what} is given more values than it takes"
    elif problem == "unknown":
        text = f'{what} has no value named "{found.group("name")}"'
    elif problem == "twice":
        text = f'{what} is given "{found.group("name")}" twice'
    else:
        names = re.findall(r"'(\w+)'", found.group("names"))
        if parameters is not None and not set(names) <= {shown for shown, _ in parameters}:
            names = [shown for shown, needed in parameters if needed]  # a wrapper's own name
        text = f"{what} needs a value for " + " and ".join(f'"{n}"' for n in names)
    return place, text, _takes(parameters)


def _template_callables(env: jinja2.Environment) -> dict[str, tuple[str, str, Any]]:
    """What templates call, by the name Python gives it in a TypeError: (kind, name, callable)."""
    found: dict[str, tuple[str, str, Any]] = {}
    tables: tuple[tuple[str, Mapping[str, Any]], ...] = (
        ("function", env.globals), ("test", env.tests), ("filter", env.filters))
    for kind, table in tables:
        for name in sorted(table, key=lambda n: (len(n), n)):  # "default" over its alias "d"
            value = table[name]
            if not callable(value):
                continue
            for one in (value, inspect.unwrap(value)):
                qualname = getattr(one, "__qualname__", None)
                if isinstance(one, type):
                    qualname = f"{qualname}.__init__"
                elif qualname is None:  # an object that is called, as t()
                    qualname = type(one).__call__.__qualname__
                found[qualname] = (kind, name, value)
    return found


def _parameters(value: Any, kind: str) -> list[tuple[str, bool]] | None:
    """The values a template gives in brackets, each with whether it must be given."""
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    if getattr(inspect.unwrap(value), "jinja_pass_arg", None) is not None:
        parameters = parameters[1:]  # Jinja's context or environment
    if kind != "function":
        parameters = parameters[1:]  # the value before the |, or before "is"
    shown = []
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            shown.append(("more values", False))
        elif parameter.kind is parameter.VAR_KEYWORD:
            shown.append(("named values", False))
        else:
            shown.append((parameter.name, parameter.default is parameter.empty))
    return shown


def _takes(parameters: list[tuple[str, bool]] | None) -> str:
    if parameters is None:
        return ""
    if not parameters:
        return "it takes nothing in brackets"
    return "it takes, in brackets: " + ", ".join(
        name if needed else f"{name} (optional)" for name, needed in parameters)

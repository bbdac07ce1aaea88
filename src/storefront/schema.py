"""Map YAML onto typed, frozen dataclasses, keeping line numbers for every problem.

Both ``storefront.yaml`` and the front matter of every document go through here, so an owner gets
the same kind of message everywhere: ``file:line: what is wrong`` plus a hint. The YAML is composed
into nodes (which carry their line) and each node is checked against the type hints of the target
dataclass. Unknown keys are errors (with a "did you mean" hint); every problem is collected, never
only the first. Pure: no file I/O.

Field metadata understood by :func:`build`:

* ``parse``: a callable ``str -> value`` applied to the raw scalar text; it raises ``ValueError``
  with a plain-language message when the text is wrong.
* ``hint``: a hint shown with any error about that field.
* ``minimum``: the smallest accepted value of an ``int`` field; ``maximum``: the largest.
* ``max_length``: the most characters of a ``str`` field.
* ``key_parse``: for a mapping field, a callable that raises ``ValueError`` for a bad key.
* ``doc``: a one-line description (used by the README's config reference).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

import yaml

from storefront.errors import ContentError, error_at
from storefront.limits import LimitExceeded, YamlBudget, check_number, check_size
from storefront.values import control_character, control_character_problem, invisible_only

try:  # libyaml's C parser is several times faster; fall back to pure Python when absent
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None  # type: ignore[assignment,misc]

T = TypeVar("T")

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_CORE_TAG = "tag:yaml.org,2002:"


class FrozenDict(dict[str, Any]):
    """A read-only mapping for config values: unlike ``MappingProxyType`` it can be pickled, so
    the config can cross into worker processes."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("the configuration is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


class YamlProblem(Exception):
    """The text is not valid YAML: where the parser stopped and, if elsewhere, where it began."""

    def __init__(self, line: int, problem: str, context: str = "", context_line: int = 0,
                 *, plain_hint: str | None = None) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem
        self.context = context
        self.context_line = context_line
        # a problem storefront found in valid YAML (a limit, a tag): said as it is, with its hint
        self.plain_hint = plain_hint

    def shifted(self, offset: int) -> YamlProblem:
        """The same problem in a file where the YAML starts ``offset`` lines down."""
        return YamlProblem(self.line + offset if self.line else 0, self.problem, self.context,
                           self.context_line + offset if self.context_line else 0,
                           plain_hint=self.plain_hint)

    @property
    def hint(self) -> str:
        """The likely fix, in the owner's terms."""
        if self.plain_hint is not None:
            return self.plain_hint
        if "tab" in self.problem or "'\\t'" in self.problem:
            return "indent with spaces, not tabs"
        if "mapping values are not allowed" in self.problem:
            return 'put quotes around a value that contains a colon, like title: "Orari: estate"'
        if "quote ' opened" in self.problem:
            return ("end the value with the same quote, like title: 'Pane caldo'; an apostrophe "
                    "inside single quotes is written twice, like 'L''arte del pane'")
        if 'quote " opened' in self.problem:
            return 'end the value with the same quote, like title: "L\'arte del pane"'
        if "the ' just before" in self.problem:
            return ("an apostrophe inside single quotes is written twice, like title: 'L''arte "
                    "del pane', or put the value in double quotes, like title: \"L'arte del pane\"")
        if 'the " just before' in self.problem:
            return ('a quote inside double quotes is written \\", like title: "Il \\"vero\\" pane", '
                    "or put the value in single quotes, like title: 'Il \"vero\" pane'")
        if "list opened" in self.problem or "mapping opened" in self.problem:
            return "close the brackets, and separate the items with commas"
        return "check the indentation: the keys of one block start in the same column"

    @property
    def message(self) -> str:
        if self.plain_hint is not None:
            return self.problem
        text = f"invalid YAML: {self.problem}"
        if self.context and self.context_line and self.context_line != self.line:
            text += f" ({self.context} that starts on line {self.context_line})"
        return text


class _BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer, refusing explicit tags and keeping to the limits of :mod:`limits`.

    Composition is where aliases are cheap (an alias is the same node again); counting there
    stops an alias bomb before anything walks the expanded tree, and the nesting check stops
    before the recursion goes deep.
    """

    budget: YamlBudget
    peek_event: Callable[[], yaml.Event]  # from the parser it is mixed with

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            self.budget.alias(str(event.anchor), line)
            return node
        tag: str | None = getattr(event, "tag", None)
        if tag is not None:
            shown = "!!" + tag.removeprefix(_CORE_TAG) if tag.startswith(_CORE_TAG) else tag
            raise YamlProblem(line, f'YAML tags such as "{shown}" are not supported',
                              plain_hint=f'remove "{shown}" and write the value alone (in quotes '
                              "if it must stay text)")
        collection = not isinstance(event, yaml.ScalarEvent)
        if collection:
            self.budget.enter(line)
        before = self.budget.spent
        node = super().compose_node(parent, index)
        if collection:
            self.budget.leave()
        size = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        self.budget.spend(1 + size, line)
        anchor: str | None = getattr(event, "anchor", None)
        if anchor is not None:
            self.budget.remember(anchor, before)
        return node


if _CParser is not None:
    class _Loader(_BoundedComposer, _CParser, yaml.constructor.SafeConstructor,
                  yaml.resolver.Resolver):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.budget = YamlBudget()
else:  # pragma: no cover - depends on how PyYAML was built
    class _Loader(_BoundedComposer, yaml.SafeLoader):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            yaml.SafeLoader.__init__(self, stream)
            self.budget = YamlBudget()


def compose_yaml(text: str) -> yaml.Node | None:
    """Parse YAML text into a node tree (None for an empty document).

    Raises :class:`YamlProblem` for invalid YAML, an explicit tag (``!!int``, ``!!python/...``:
    owners never need one, and each is a way to make a value that the schema does not expect)
    or a text beyond the limits of :mod:`storefront.limits`.
    """
    try:
        check_size(len(text.encode("utf-8", "surrogatepass")))
        loader = _Loader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except LimitExceeded as exc:
        raise YamlProblem(exc.line, exc.message, plain_hint=exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        context_line = exc.context_mark.line + 1 if exc.context_mark is not None else 0
        if context_line and "flow sequence" in (exc.context or ""):
            # an unclosed [list]: the owner's mistake is where it opens
            raise YamlProblem(context_line, "the list opened with [ on this line is not closed "
                              "with ] (or a comma is missing between two items)") from exc
        quote = _unclosed_quote(exc, text)
        if context_line and quote:
            # the scanner reads on to the end looking for the closing quote; the owner's
            # mistake is where the quote opens, not where the scanner gave up
            raise YamlProblem(context_line, f"the quote {quote} opened on this line is never "
                              "closed") from exc
        closing = _quote_closed_early(exc, text)
        if closing:
            quote, rest = closing
            # an apostrophe in 'L'arte' ends the value; YAML then finds text where a key goes
            raise YamlProblem(line, f"the quotes around this value close too early, at the "
                              f"{quote} just before {rest}") from exc
        if context_line and "flow mapping" in (exc.context or ""):
            raise YamlProblem(context_line, "the mapping opened with { on this line is not "
                              "closed with } (or a comma is missing)") from exc
        return_problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None and _character_at(text, mark.line, mark.column) == "\t":
            # libyaml's "found character that cannot start any token" does not say which
            return_problem = return_problem.replace("found character", "found a tab character", 1)
        raise YamlProblem(line, return_problem, exc.context or "", context_line) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(1, str(exc)) from exc


def _unclosed_quote(exc: yaml.MarkedYAMLError, text: str) -> str:
    """The quote (' or ") of a quoted value the parser ran off the end of (the text or the
    document) looking for its closing quote; "" for any other problem."""
    problem = exc.problem or ""
    mark = exc.context_mark
    if mark is None or "quoted scalar" not in (exc.context or "") or not (
            "end of stream" in problem or "unexpected document" in problem):
        return ""
    return _character_at(text, mark.line, mark.column)


def _quote_closed_early(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, str] | None:
    """(the quote, the text after it) when the parser, expecting a key or an item, found text
    right after the closing quote of a quoted value on the same line: an apostrophe inside
    single quotes (``'L'arte del pane'``) or a quote inside double quotes closed it."""
    mark = exc.problem_mark
    problem = exc.problem or ""  # libyaml's words, then PyYAML's own (without libyaml)
    if mark is None or not ("did not find expected" in problem or "but found" in problem):
        return None
    lines = text.split("\n")
    if mark.line >= len(lines) or not 0 < mark.column < len(lines[mark.line]):
        return None
    line = lines[mark.line]
    quote, after = line[mark.column - 1], line[mark.column:].rstrip()
    if quote not in "'\"" or after[:1].isspace() or after.startswith("#"):
        return None
    return quote, after if len(after) <= 30 else after[:29] + "…"


def _character_at(text: str, line: int, column: int) -> str:
    """The character at a parser mark (0-based line and column), or "" past the text."""
    lines = text.split("\n")
    return lines[line][column:column + 1] if 0 <= line < len(lines) else ""


class _Constructor(yaml.constructor.SafeConstructor):
    """Builds plain Python values from nodes with PyYAML's safe rules."""


def plain_value(node: yaml.Node) -> Any:
    """Construct the plain Python value of a node (dicts, lists, str, int, ...)."""
    return _Constructor().construct_object(node, deep=True)


def text_table(node: yaml.Node | None) -> dict[str, str] | None:
    """A mapping of plain keys to plain values, each as written (None when it is not one).

    Values stay the text the owner wrote: ``price_note: 1.50`` is "1.50", not 1.5.
    """
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode) or not all(
            isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode)
            for key, value in node.value):
        return None
    return {str(key.value): str(value.value) for key, value in node.value}


def repeated_keys(node: yaml.Node | None) -> list[tuple[str, int]]:
    """Each key of a mapping written again after its first time, with its line (1-based)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    seen: set[str] = set()
    repeated = []
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            if str(key.value) in seen:
                repeated.append((str(key.value), int(key.start_mark.line) + 1))
            seen.add(str(key.value))
    return repeated


class Mapper:
    """Check nodes against dataclass type hints for one source file, collecting errors."""

    def __init__(self, path: str, line_offset: int = 0) -> None:
        self.path = path
        self.line_offset = line_offset
        self.errors: list[ContentError] = []

    def line(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + 1 + self.line_offset

    def error(self, node: yaml.Node, message: str, hint: str = "") -> None:
        self.errors.append(error_at(self.path, self.line(node), message, hint))

    # -- dataclasses ---------------------------------------------------------------------------

    def build(self, cls: type[T], node: yaml.Node | None, where: str = "") -> T | None:
        """Build ``cls`` from a mapping node; None (with errors recorded) when it cannot."""
        if node is None:
            node = yaml.MappingNode("tag:yaml.org,2002:map", [])
            node.start_mark = yaml.Mark("", 0, -self.line_offset, 0, None, None)  # type: ignore[arg-type]
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{where or 'this'} must be a mapping of keys to values")
            return None
        fields, hints, allowed = _class_info(cls)  # type: ignore[arg-type]
        values: dict[str, Any] = {}
        seen: set[str] = set()
        ok = True
        for key_node, value_node in node.value:
            if not self.plain_key(key_node, where):
                ok = False
                continue
            key = str(key_node.value)
            if key in seen:
                self.error(key_node, f'{_join(where, key)} is given twice', "keep only one of them")
                ok = False
                continue
            seen.add(key)
            field = fields.get(key)
            if field is None or key not in allowed:
                close = difflib.get_close_matches(key, allowed, 1)
                hint = f'did you mean "{close[0]}"?' if close else "allowed keys: " + ", ".join(
                    sorted(allowed)
                )
                if key.isdigit():  # {latitude: 43,8429}: the comma ended the number
                    hint = ("a number with a comma? Write it with a dot, such as 43.8429: inside "
                            "{ } a comma separates two keys")
                self.error(key_node, f'unknown key "{_join(where, key)}"', hint)
                ok = False
                continue
            before = len(self.errors)
            value = self.convert(hints[field.name], value_node, _join(where, key), field)
            if len(self.errors) > before:
                ok = False
            else:
                values[field.name] = value
        for key, field in fields.items():
            if field.init and _required(field) and key not in seen:
                self.error(
                    node,
                    f'missing required field "{_join(where, key)}"',
                    field.metadata.get("hint", ""),
                )
                ok = False
        if not ok:
            return None
        try:
            return cls(**values)
        except ValueError as exc:  # cross-field checks in __post_init__
            self.error(node, str(exc))
            return None

    def plain_key(self, key_node: yaml.Node, where: str) -> bool:
        """Record an error and return False for a key that is a list or a mapping
        (``[tags]: [a, b]``): its name was the parser's nodes, written as Python shows them."""
        if isinstance(key_node, yaml.ScalarNode):
            return True
        self.error(key_node, f"a key {'of ' + where + ' ' if where else ''}is written in "
                   "brackets, which make it a list or a mapping",
                   "write the key alone before the colon, like tags: [a, b]")
        return False

    # -- values --------------------------------------------------------------------------------

    def convert(
        self, hint: Any, node: yaml.Node, where: str, field: dataclasses.Field[Any] | None = None
    ) -> Any:
        """Convert one node to the type ``hint``; record an error and return None if it fails."""
        field_hint = field.metadata.get("hint", "") if field is not None else ""
        parse: Callable[[str], Any] | None = field.metadata.get("parse") if field else None
        if isinstance(node, yaml.ScalarNode) and control_character(str(node.value)) >= 0:
            message, hint = control_character_problem(str(node.value),
                                                      control_character(str(node.value)))
            self.error(node, f"{where}: {message}", hint)
            return None
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            non_none = [a for a in args if a is not type(None)]
            if _is_null(node):
                return None
            return self.convert(non_none[0], node, where, field)
        if parse is not None and isinstance(node, yaml.ScalarNode) and origin not in (list, tuple):
            try:
                return parse(str(node.value))
            except ValueError as exc:
                self.error(node, f"{where} {exc}", field_hint)
                return None
        if origin in (list, tuple):
            item_hint = args[0]
            if isinstance(node, yaml.ScalarNode) and not _is_null(node) and origin is tuple:
                if "," in str(node.value):
                    # "tags: a, b" is one string in YAML: almost surely meant as a list
                    self.error(node, f'{where} must be a list, got "{node.value}"',
                               f"write it as [{node.value}]")
                    return None
                node = yaml.SequenceNode("tag:yaml.org,2002:seq", [node], node.start_mark)
            if _is_null(node):
                return ()
            if not isinstance(node, yaml.SequenceNode):
                self.error(node, f"{where} must be a list", field_hint or "write it as [a, b]")
                return None
            items = []
            for index, item in enumerate(node.value):
                item_field = field if parse is not None else None
                if (item_hint is str and isinstance(item, yaml.ScalarNode) and item.tag == _STR_TAG
                        and (not str(item.value).strip() or invisible_only(str(item.value)))):
                    # tags: ['', x] or ["\u200b", x]: a tag with no name
                    invisible = invisible_only(str(item.value))
                    self.error(item, f"{where}[{index + 1}] " + (
                        f"holds only invisible characters ({', '.join(invisible)}), which show "
                        "nothing" if invisible else "is empty"),
                        "write a value, or remove it from the list")
                    continue
                items.append(self.convert(item_hint, item, f"{where}[{index + 1}]", item_field))
            return tuple(items)
        if origin in (dict, Mapping, types.MappingProxyType):
            if not isinstance(node, yaml.MappingNode):
                self.error(node, f"{where} must be a mapping of names to values", field_hint)
                return None
            result: dict[str, Any] = {}
            check_key: Callable[[str], str] | None = field.metadata.get("key_parse") if field else None
            for key_node, value_node in node.value:
                if not self.plain_key(key_node, where):
                    continue
                key = str(key_node.value)
                if key in result:
                    self.error(key_node, f"{_join(where, key)} is given twice", "keep only one of them")
                    continue
                if check_key is not None:
                    try:
                        check_key(key)
                    except ValueError as exc:
                        self.error(key_node, f'{where}."{key}" {exc}', field_hint)
                        continue
                result[key] = self.convert(args[1], value_node, _join(where, key))
            return FrozenDict(result)
        if dataclasses.is_dataclass(hint):
            return self.build(hint, node, where)  # type: ignore[arg-type]
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, f"{where} must be a single value, not a list or mapping", field_hint)
            return None
        required = field is not None and _required(field)
        value = self._scalar(hint, origin, args, node, where, field_hint, required)
        minimum = field.metadata.get("minimum") if field is not None else None
        if minimum is not None and value is not None and value < minimum:
            self.error(node, f"{where} must be at least {minimum}, got {value}", field_hint)
            return None
        maximum = field.metadata.get("maximum") if field is not None else None
        if maximum is not None and value is not None and value > maximum:
            self.error(node, f"{where} must be at most {maximum}, got {value}", field_hint)
            return None
        longest = field.metadata.get("max_length") if field is not None else None
        if longest is not None and isinstance(value, str) and len(value) > longest:
            # 10,000 characters in a title: the text below it, pasted or indented into it
            self.error(node, f"{where} is {len(value):,} characters long; storefront allows at "
                       f"most {longest}", "shorten it: longer text belongs below the front "
                       f"matter (a line indented under {where}: is part of it)")
            return None
        return value

    def _scalar(
        self, hint: Any, origin: Any, args: tuple[Any, ...], node: yaml.ScalarNode, where: str,
        field_hint: str, required: bool = False,
    ) -> Any:
        text = str(node.value)
        if origin is Literal:
            if text in args:
                return text
            choices = ", ".join(str(a) for a in args)
            self.error(node, f'{where} must be one of {choices}, got "{text}"', field_hint)
            return None
        if hint is str:
            if _is_null(node):  # `key:`, `key: ~` or `key: null` would become "", "~" or "null"
                self.error(node, f"{where} is empty", field_hint or "write a value, or remove the line")
                return None
            if required and not text.strip():  # title: "" is no title: feeds and pages need one
                self.error(node, f"{where} is empty", field_hint or "write a value")
                return None
            if text and not text.strip():
                # category: " " made a catalogue section with a blank heading, subject: " " a
                # mail without a subject, image_alt: " " an image described by nothing
                self.error(node, f"{where} holds only spaces",
                           field_hint or "write a value, or remove the line")
                return None
            invisible = invisible_only(text)
            if invisible:  # title: "\u200b" (pasted) showed a page, a card and a feed item blank
                self.error(node, f"{where} holds only invisible characters "
                           f"({', '.join(invisible)}), which show nothing",
                           field_hint or ("write a value" if required else
                                          "write a value, or remove the line"))
                return None
            return text
        if hint is bool:
            value = plain_value(node) if node.tag == _BOOL_TAG else None
            if isinstance(value, bool):
                return value
            quoted = node.tag == _STR_TAG and text.lower() in ("true", "false")
            self.error(node, f'{where} must be true or false, got "{text}"',
                       "write it without quotes" if quoted else field_hint)
            return None
        if hint is int:
            if node.tag == _INT_TAG and not self.within_digits(node, where, field_hint):
                return None
            value = plain_value(node) if node.tag == _INT_TAG else text
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            quoted = node.tag == _STR_TAG and text.strip().lstrip("-").isdigit()
            self.error(node, f'{where} must be a whole number, got "{text}"',
                       "write it without quotes" if quoted else field_hint)
            return None
        if hint is float:
            try:
                number = float(text)
            except (ValueError, OverflowError):
                number = math.nan
            if not math.isfinite(number):  # "nan" and "inf" would end up in JSON-LD as NaN
                self.error(node, f'{where} must be a number, got "{text}"', field_hint)
                return None
            return number
        if hint is Decimal:
            return self.decimal(node, where, field_hint)
        raise TypeError(f"schema cannot map {hint!r}")  # a bug in a dataclass, not in input

    def within_digits(self, node: yaml.ScalarNode, where: str, field_hint: str) -> bool:
        """Record an error and return False for a number with too many digits."""
        try:
            check_number(str(node.value), where)
        except LimitExceeded as exc:
            self.error(node, exc.message, field_hint or exc.hint)
            return False
        return True

    def decimal(self, node: yaml.ScalarNode, where: str, field_hint: str) -> Decimal | None:
        if not self.within_digits(node, where, field_hint):
            return None
        text = str(node.value).strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or node.tag == "tag:yaml.org,2002:null":
            self.error(node, f'{where} must be a number like 12.50, got "{text}"', field_hint)
            return None
        return value


def _required(field: dataclasses.Field[Any]) -> bool:
    """The field has no default: the owner must write it."""
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def field_doc(doc: str, **metadata: Any) -> dict[str, Any]:
    """Metadata for a dataclass field: its description plus any schema options."""
    return {"doc": doc, **metadata}


@functools.cache
def _class_info(cls: type) -> tuple[dict[str, dataclasses.Field[Any]], dict[str, Any], list[str]]:
    """A dataclass's fields by key, its resolved type hints and the keys an owner may write
    (once per class: resolving the hints of a class costs about half a millisecond)."""
    fields = {f.metadata.get("key", f.name): f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    allowed = [k for k, f in fields.items() if f.init and not f.metadata.get("internal")]
    return fields, hints, allowed

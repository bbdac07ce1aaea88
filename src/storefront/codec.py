"""Turn the typed models into plain JSON values and back, exactly.

Pure. The build cache stores parsed documents as JSON (never pickle: a cache file is data, and
loading it must not be able to run code). Every type the models use has one encoding, chosen so
that decoding gives back an equal object: aware datetimes keep their zone name (so Babel prints
the same zone), calendar days (a holiday closure's) stay days, ``Decimal`` keeps its digits,
``Markup`` stays markup, tuples stay tuples and nested dataclasses are rebuilt through their type
hints (looked up once per class).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from markupsafe import Markup


class CodecError(ValueError):
    """The JSON does not have the shape of the type it should decode to."""


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` once per class (it is slow, and documents are many)."""
    return typing.get_type_hints(cls)


def encode(value: Any) -> Any:
    """A JSON-compatible value for ``value`` (models, tuples, dates, decimals, markup)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Markup):
        return {"$markup": str(value)}
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        zone = value.tzinfo
        if not isinstance(zone, zoneinfo.ZoneInfo):
            raise CodecError(f"datetime {value!r} has no IANA zone")
        return {"$dt": value.isoformat(), "tz": zone.key}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    raise CodecError(f"cannot encode {type(value).__name__}")


def decode(hint: Any, data: Any) -> Any:
    """Rebuild a value of type ``hint`` from what :func:`encode` made; CodecError on any mismatch."""
    return _decoder(hint)(data)


Decoder = Callable[[Any], Any]


@functools.cache
def _decoder(hint: Any) -> Decoder:
    """A function that decodes values of type ``hint`` (built once per type: documents are many)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_decoder(arg) for arg in args if arg is not type(None)]
        optional = type(None) in args
        return lambda data: None if data is None and optional else _first_of(options, data)
    if origin is Literal:
        return lambda data: _literal(args, data)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return lambda data: tuple(item(x) for x in _list(data))
    if origin is tuple and all(arg in _PLAIN_TYPES for arg in args):
        kinds = tuple(_PLAIN_TYPES[arg] for arg in args)  # (text, line) pairs: checked in place
        return lambda data: _plain_tuple(kinds, data)
    if origin is tuple:
        items = [_decoder(arg) for arg in args]
        return lambda data: _fixed_tuple(items, data)
    if origin is list:
        item = _decoder(args[0])
        return lambda data: [item(x) for x in _list(data)]
    if origin in (dict, Mapping):
        value = _decoder(args[1])
        return lambda data: {key: value(x) for key, x in _dict(data).items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    return lambda data: _decode_scalar(hint, data)


def _first_of(options: list[Decoder], data: Any) -> Any:
    for option in options:
        try:
            return option(data)
        except CodecError:
            continue
    raise CodecError(f"{data!r} matches no option")


def _literal(choices: tuple[Any, ...], data: Any) -> Any:
    if data not in choices:
        raise CodecError(f"{data!r} is not one of {choices}")
    return data


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise CodecError("expected a list")
    return data


def _dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CodecError("expected a mapping")
    return data


def _fixed_tuple(items: list[Decoder], data: Any) -> tuple[Any, ...]:
    if len(_list(data)) != len(items):
        raise CodecError("tuple of the wrong length")
    return tuple(item(x) for item, x in zip(items, data, strict=True))


def _plain_tuple(kinds: tuple[type, ...], data: Any) -> tuple[Any, ...]:
    if type(data) is not list or len(data) != len(kinds):
        raise CodecError("expected a tuple of the right length")
    for kind, item in zip(kinds, data, strict=True):
        if type(item) is not kind:
            raise CodecError(f"expected a {kind.__name__}")
    return tuple(data)


_PLAIN_TYPES = {str: str, int: int, bool: bool}


def _dataclass_decoder(cls: type) -> Decoder:
    hints = type_hints(cls)
    # fields of a plain type are checked in place; the others go through their decoder
    plain = {f.name: _PLAIN_TYPES[hints[f.name]] for f in dataclasses.fields(cls)
             if hints[f.name] in _PLAIN_TYPES}
    other = [(f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls)
             if f.name not in plain]
    count = len(plain) + len(other)

    def build(data: Any) -> Any:
        if not isinstance(data, dict) or len(data) != count:
            raise CodecError(f"expected the fields of {cls.__name__}")
        try:
            values = {name: data[name] for name in plain}
            for name, kind in plain.items():
                if type(values[name]) is not kind:
                    raise CodecError(f"{cls.__name__}.{name} is not a {kind.__name__}")
            for name, field in other:
                values[name] = field(data[name])
        except KeyError as exc:
            raise CodecError(f"{cls.__name__}.{exc.args[0]} is missing") from None
        return cls(**values)

    return build


def _decode_scalar(hint: Any, data: Any) -> Any:
    if hint is Markup:
        if not (isinstance(data, dict) and isinstance(data.get("$markup"), str)):
            raise CodecError("expected markup")
        return Markup(data["$markup"])  # noqa: S704 - markup this program rendered and stored
    if hint is datetime:
        if not (isinstance(data, dict) and isinstance(data.get("$dt"), str)):
            raise CodecError("expected a datetime")
        try:
            zone = zoneinfo.ZoneInfo(str(data["tz"]))
            return datetime.fromisoformat(data["$dt"]).astimezone(zone)
        except (ValueError, KeyError, zoneinfo.ZoneInfoNotFoundError) as exc:
            raise CodecError(str(exc)) from None
    if hint is date:
        if not (isinstance(data, dict) and isinstance(data.get("$date"), str)):
            raise CodecError("expected a day")
        try:
            return date.fromisoformat(data["$date"])
        except ValueError as exc:
            raise CodecError(str(exc)) from None
    if hint is Decimal:
        if not (isinstance(data, dict) and isinstance(data.get("$dec"), str)):
            raise CodecError("expected a decimal")
        return Decimal(data["$dec"])
    if hint is bool:
        if not isinstance(data, bool):
            raise CodecError("expected true or false")
        return data
    if hint is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise CodecError("expected an integer")
        return data
    if hint is float:
        if not isinstance(data, (int, float)) or isinstance(data, bool):
            raise CodecError("expected a number")
        return float(data)
    if hint is str:
        if not isinstance(data, str):
            raise CodecError("expected a string")
        return data
    if hint is Any:
        return data
    raise CodecError(f"cannot decode {hint!r}")

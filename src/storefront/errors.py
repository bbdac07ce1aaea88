"""The error model shared by every stage.

Every problem an owner can cause is a :class:`ContentError` that names a file and a line and,
where it helps, a hint on how to fix it. Stages collect these and raise one :class:`BuildFailed`
so that the owner sees every problem at once. Only the CLI prints them. This module does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in a source file: a path relative to the site root and a 1-based line (0 = whole file)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class ContentError:
    """One problem in the owner's input, with where it is and how to fix it."""

    location: SourceLocation
    message: str
    hint: str = ""

    def format(self) -> str:
        """Render as ``path:line: message`` plus an indented hint line when there is one."""
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def sort_key(self) -> tuple[str, int, str]:
        return (self.location.path, self.location.line, self.message)


class StorefrontError(Exception):
    """Base of every error storefront raises on purpose."""


class BuildFailed(StorefrontError):
    """The input has one or more problems; nothing was written."""

    def __init__(self, errors: Iterable[ContentError]) -> None:
        self.errors: tuple[ContentError, ...] = tuple(
            sorted(set(errors), key=ContentError.sort_key)
        )
        super().__init__("\n".join(error.format() for error in self.errors))


def error_at(path: PurePath | str, line: int, message: str, hint: str = "") -> ContentError:
    """Build a :class:`ContentError` from a path (shown with forward slashes) and a line."""
    shown = path.as_posix() if isinstance(path, PurePath) else path
    return ContentError(SourceLocation(shown, line), message, hint)


class ErrorCollector:
    """Collect problems across a stage, then raise them together."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def add(self, path: PurePath | str, line: int, message: str, hint: str = "") -> None:
        self.errors.append(error_at(path, line, message, hint))

    def extend(self, errors: Iterable[ContentError]) -> None:
        self.errors.extend(errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise BuildFailed(self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

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


def line_of_key(text: str, key: str) -> int:
    """The line where a top-level YAML ``key:`` is written (0 when it is not there)."""
    prefix = f"{key}:"
    return next((n for n, line in enumerate(text.split("\n"), 1) if line.startswith(prefix)), 0)


def line_containing(text: str, needle: str) -> int:
    """The first line that contains ``needle`` (1 when none does: the file as a whole)."""
    return next((n for n, line in enumerate(text.split("\n"), 1) if needle in line), 1)

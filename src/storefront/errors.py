"""The error model shared by every stage.

Every problem an owner can cause is a :class:`ContentError` that names a file and a line and,
where it helps, a hint on how to fix it. Stages collect these and raise one :class:`BuildFailed`
so that the owner sees every problem at once. Only the CLI prints them. This module does no I/O
(beyond Python reading its own source lines when it formats a traceback).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
    # the traceback of an unexpected exception, shown with --debug (text: errors cross processes)
    detail: str = field(default="", compare=False, repr=False)

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


def unexpected_error(path: PurePath | str, exc: BaseException, doing: str = "reading") -> ContentError:
    """An exception no check foresaw, reported against the file whose work raised it.

    It may be a bug in storefront rather than in the file, so the message says it was
    unexpected, and the traceback travels along (as text) for ``--debug``.
    """
    error = error_at(path, 0, f"unexpected error while {doing} this file: "
                     f"{type(exc).__name__}: {exc}",
                     "this may be a bug in storefront: run the command again with --debug to "
                     "see the details, and please report them")
    return replace(error, detail="".join(traceback.format_exception(exc)))


@contextmanager
def blamed_on(path: PurePath | str, doing: str = "reading") -> Iterator[None]:
    """Turn an unexpected exception in the block into a :class:`BuildFailed` naming ``path``.

    The per-file safety net: whatever one file makes a library do, the owner learns which
    file it was and the rest of the build goes on. Errors raised on purpose and the machine's
    own errors (``OSError``: a full disk, permissions) pass through unchanged.
    """
    try:
        yield
    except (StorefrontError, OSError):
        raise
    except Exception as exc:
        raise BuildFailed([unexpected_error(path, exc, doing)]) from exc


#: how many files a warning repeated across many is shown for (the rest are counted)
REPEATS_SHOWN = 5


@dataclass(frozen=True)
class Repeated:
    """A warning that more files have than are shown: its first instance and how many more."""

    first: ContentError
    more: int


def limit_repeats(warnings: Iterable[ContentError], shown: int = REPEATS_SHOWN
                  ) -> tuple[list[ContentError], list[Repeated]]:
    """The warnings to show, each at most ``shown`` times, and those repeated more, counted.

    A warning is the same when its message and hint are (the file and line differ): 110
    products without a photo printed 220 lines on every build, and an owner scrolling past
    them missed the one warning that was new. Pelican's log filter does the same (five, then a
    count); ``storefront build --all-warnings`` lists every one.
    """
    kept: list[ContentError] = []
    counts: dict[tuple[str, str], int] = {}
    firsts: dict[tuple[str, str], ContentError] = {}
    for warning in warnings:
        key = (warning.message, warning.hint)
        counts[key] = counts.get(key, 0) + 1
        firsts.setdefault(key, warning)
        if counts[key] <= shown:
            kept.append(warning)
    repeated = [Repeated(firsts[key], count - shown) for key, count in counts.items()
                if count > shown]
    return kept, repeated

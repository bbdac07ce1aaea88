"""Split a document into its YAML front matter and its Markdown body.

Stage 3a, pure (no I/O). The body keeps its line offset in the file, so an error found later in
the body (a broken link, say) can still name the right line.
"""

from __future__ import annotations

from dataclasses import dataclass

from storefront.errors import BuildFailed, error_at

_FENCE = "---"


@dataclass(frozen=True)
class SplitDocument:
    """Front matter text and body of one file, with where each starts (1-based lines)."""

    front_matter: str
    front_matter_line: int
    body: str
    body_line: int
    has_front_matter: bool


def split_front_matter(text: str, path: str) -> SplitDocument:
    """Split ``text``; a file that does not start with ``---`` has an empty front matter.

    Raises :class:`BuildFailed` when the opening ``---`` is never closed.
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != _FENCE:
        return SplitDocument("", 1, text, 1, has_front_matter=False)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in (_FENCE, "..."):
            front = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            return SplitDocument(front, 2, body, index + 2, has_front_matter=True)
    raise BuildFailed(
        [
            error_at(
                path,
                1,
                "the front matter opened with --- on line 1 is never closed",
                "add a line with just --- after the last front matter field",
            )
        ]
    )

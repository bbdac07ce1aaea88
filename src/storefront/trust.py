"""What a preview session takes on trust about its own output folder, and when it looks.

A build asks, for each of its ~3,000 outputs, whether the output folder already holds the bytes
it would write (:func:`~storefront.output.unchanged_in`: one ``lstat`` each). A preview save
needs the answers before it can show its pages, and looking at every file was a seventh of that
time at 1,000 posts. So while the folder's manifest is the very file this session wrote last (or
found intact), a save takes the manifest's word for it, and once the browsers are shown the
pages it looks at every file it took on trust and kept: one deleted or changed by hand meanwhile
makes the session ask for a repair build at once (``repair_needed``), which trusts nothing. A
command-line build never trusts.

Stage 9 (it reads the output folder, as the write stage does).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storefront.output import Entry, manifest_identity, unchanged_in


class FolderTrust:
    """One session's trust in its output folder, build after build."""

    def __init__(self) -> None:
        self.trusting = False
        self.trusted: list[tuple[str, str]] = []  # (path, sha256) taken as in place
        self.known: tuple[Any, ...] | None = None  # the manifest written or found intact last
        self.repair_needed = False
        self.distrusted: set[str] = set()

    def begin(self, output: Path, preview: bool) -> None:
        """A build starts: it trusts when it is a preview save, the last build did not ask for
        a repair, and the manifest is still the one this session knows."""
        self.trusted = []
        self.distrusted = set()
        self.trusting = (preview and not self.repair_needed and self.known is not None
                         and manifest_identity(output) == self.known)
        self.repair_needed = False
        self.known = None  # until this build has written it (a failed build leaves it unknown)

    def distrust(self, paths: Iterable[str]) -> None:
        """These files were written since the manifest (a preview's early quick save): look."""
        self.distrusted.update(paths)

    def known_now(self, output: Path) -> None:
        """The build wrote the manifest, or found every file it lists in place."""
        self.known = manifest_identity(output)

    def in_place(self, output: Path, manifest: dict[str, Entry], path: str, sha256: str) -> bool:
        """Whether the output folder holds these bytes at ``path``: looked at, or (trusting)
        as the manifest says, remembered for :meth:`verify`."""
        if not self.trusting or path in self.distrusted:
            return unchanged_in(output, manifest, path, sha256)
        entry = manifest.get(path)
        if entry is None or entry[0] != sha256:
            return False
        self.trusted.append((path, sha256))
        return True

    def verify(self, output: Path, manifest: dict[str, Entry],
               kept: Iterable[tuple[str, str]]) -> None:
        """Look at the files taken on trust that the build keeps (``kept``: every (path, sha256)
        of the site); any that is not in place asks for a repair build."""
        keeping = dict(kept)
        if not all(unchanged_in(output, manifest, path, sha) for path, sha in self.trusted
                   if keeping.get(path) == sha):
            self.repair_needed = True

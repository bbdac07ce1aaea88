"""Python-Markdown's block parser, told which text some block processors need.

For each block of a document (a paragraph, mostly) Python-Markdown asks every block processor in
turn whether the block is its kind, most of them with a regular-expression search over the whole
block: a heading needs a "#", a quote a ">", a rule a "-", "_" or "*", a footnote "[^", a link
reference "]:", a table a "|". A plain paragraph went through all of those searches. This parser
skips a processor when the block holds none of the texts it needs; nothing else changes: such a
processor's ``test`` would have said no (or, for the two whose ``test`` always says yes, its
``run`` would have found nothing and given the block back untouched). Processors it does not know
are always asked. A property test compares the output with Python-Markdown's own parser.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from typing import Any

from markdown.blockparser import BlockParser
from markdown.blockprocessors import (
    BlockQuoteProcessor,
    HashHeaderProcessor,
    HRProcessor,
    ReferenceProcessor,
    SetextHeaderProcessor,
)
from markdown.extensions.footnotes import FootnoteBlockProcessor
from markdown.extensions.tables import TableProcessor

# processor class (exactly: not a subclass, which may test otherwise) -> texts one of which
# every block it takes contains
_NEEDS: dict[type, tuple[str, ...]] = {
    TableProcessor: ("|",),
    HashHeaderProcessor: ("#",),
    SetextHeaderProcessor: ("\n=", "\n-"),
    HRProcessor: ("-", "_", "*"),
    BlockQuoteProcessor: (">",),
    FootnoteBlockProcessor: ("[^",),
    ReferenceProcessor: ("]:",),
}


class PrefilteredBlockParser(BlockParser):
    """:class:`BlockParser` that does not ask a processor about a block it cannot take."""

    _plan: list[tuple[Any, tuple[str, ...]]]
    _planned: list[Any]

    def parseBlocks(self, parent: etree.Element, blocks: list[str]) -> None:
        # the same loop as Python-Markdown's, with the skip added
        processors = list(self.blockprocessors)
        if getattr(self, "_planned", None) != processors:  # registered before the first document
            self._planned = processors
            self._plan = [(processor, _NEEDS.get(type(processor), ())) for processor in processors]
        plan = self._plan
        while blocks:
            for processor, needs in plan:
                if needs:
                    block = blocks[0]
                    for need in needs:
                        if need in block:
                            break
                    else:  # the block has none of them
                        continue
                # run returns True or None when it took the block
                if processor.test(parent, blocks[0]) and processor.run(parent, blocks) is not False:
                    break


def prefilter_blocks(parser: BlockParser) -> None:
    """Make a converter's block parser (its processors hold it: it is not replaced) skip."""
    parser.__class__ = PrefilteredBlockParser

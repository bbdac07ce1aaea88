"""Heading anchors: Python-Markdown's ``toc`` extension, doing only what a page uses of it.

Stage 3c, pure. Every heading gets an id (its slug, made unique in the page), as the ``toc``
extension gives it; a paragraph of its own reading ``[TOC]`` becomes the table of contents.
The extension also builds that table for every text, serializes it and runs every
postprocessor over it (``md.toc``, which storefront never reads): about a tenth of the
conversion of a post with a few headings. Here a text without the marker gets the ids alone,
through the extension's own functions, so the ids are the same; one with it gets the extension
as it is.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as etree

from markdown.extensions.toc import (
    TocExtension,
    TocTreeprocessor,
    remove_fnrefs,
    render_inner_html,
    strip_tags,
    unique,
)


class HeadingIds(TocTreeprocessor):
    """The ``toc`` treeprocessor, which builds the table only where the text asks for it."""

    def run(self, doc: etree.Element) -> None:
        marker = self.marker
        if (marker and any(el.text and marker in el.text for el in doc.iter())) \
                or self.use_anchors or self.use_permalinks not in (False, None):
            super().run(doc)
            return
        used_ids = {el.attrib["id"] for el in doc.iter() if "id" in el.attrib}
        counters: dict[str, int] = {}
        for el in doc.iter():
            if isinstance(el.tag, str) and self.header_rgx.match(el.tag):
                self.set_level(el)
                if "id" not in el.attrib:
                    name = strip_tags(render_inner_html(remove_fnrefs(el), self.md))
                    el.attrib["id"] = unique(self.slugify(html.unescape(name), self.sep),
                                             used_ids, counters)
                el.attrib.pop("data-toc-label", None)  # a label for the table, never shown


class HeadingIdsExtension(TocExtension):
    """``TocExtension`` with :class:`HeadingIds` as its treeprocessor."""

    TreeProcessorClass = HeadingIds

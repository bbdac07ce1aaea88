"""Turn an issue's HTML body into the plain-text part of the mail.

Mail programs that do not show HTML (and people who prefer text) get readable text: headings
underlined, paragraphs separated by a blank line, list items with a dash, a link as
``text <url>`` (just the URL when the text is the URL), an image as its text alternative in
brackets, line breaks kept, everything else as its text. Pure: a string in, a string out, built on
the standard library's HTML parser.
"""

from __future__ import annotations

import re
import textwrap
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "blockquote", "ul",
                     "ol", "table", "tr", "pre", "figure", "figcaption", "dl", "dt", "dd"})
_HEADINGS = {"h1": "=", "h2": "=", "h3": "-", "h4": "-", "h5": "", "h6": ""}
_SKIP = frozenset({"style", "script", "head", "title"})
WIDTH = 76


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.links: list[str] = []
        self.skipping = 0
        self.heading = ""
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCKS or tag in _HEADINGS:
            self._end_block()
            self.heading = _HEADINGS.get(tag, "") if tag in _HEADINGS else ""
            if tag in _HEADINGS and not self.heading:
                self.heading = " "
        elif tag == "li":
            self._end_block()
            self.prefix = "- "
        elif tag == "br":
            self.current.append("\n")
        elif tag == "a":
            self.links.append(values.get("href", ""))
            self.current.append("\x00")  # where the link text starts
        elif tag == "img" and values.get("alt"):
            self.current.append(f"[{values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "a" and self.links:
            href = self.links.pop()
            text = "".join(self.current)
            start = text.rfind("\x00")
            label = text[start + 1:]
            shown = label if not href or href.startswith("#") or href == label.strip() else (
                f"{label} <{href}>" if label.strip() else f"<{href}>")
            self.current = [text[:start] + shown] if start >= 0 else [text + shown]
        elif tag in _BLOCKS or tag in _HEADINGS or tag == "li":
            self._end_block()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)

    def _end_block(self) -> None:
        text = "".join(self.current).replace("\x00", "")
        self.current = []
        lines = [" ".join(line.split()) for line in text.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            if self.heading:
                title = " ".join(lines)
                underline = self.heading.strip() * min(len(title), WIDTH)
                self.blocks.append(title + ("\n" + underline if underline else ""))
            else:
                self.blocks.append("\n".join(_wrap(line, self.prefix) for line in lines))
        self.heading = ""
        self.prefix = ""

    def text(self) -> str:
        self._end_block()
        out = ""
        for index, block in enumerate(self.blocks):
            item = block.startswith("- ") and index and self.blocks[index - 1].startswith("- ")
            out += ("\n" if item else "\n\n") + block if out else block
        return out


def _wrap(line: str, prefix: str) -> str:
    """Wrap at :data:`WIDTH` without breaking a URL (a long one stays whole on its own line)."""
    indent = " " * len(prefix)
    return textwrap.fill(line, WIDTH, initial_indent=prefix, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def html_to_text(html: str) -> str:
    """The readable text of an HTML fragment, ending in one newline."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    text = re.sub(r"\n{3,}", "\n\n", writer.text()).strip()
    return text + "\n" if text else ""

"""Check an SVG file before it is published: no scripts, no event handlers, its size.

Stage 3, pure. An SVG is copied as it is, but it is served from the shop's own origin, where a
script inside it (opened directly, or through a link) runs with the shop's cookies and can rewrite
its pages. So an SVG carrying a ``<script>`` element, an ``on...`` event handler attribute, a
``javascript:`` link, or an embedded HTML document (``<foreignObject>``) is refused, with the line
of the offending element. The file is read with expat, without fetching or expanding entities (a
document type that declares entities is refused too: that is how a "billion laughs" file
explodes).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass

_LINK_ATTRIBUTES = {"href", "xlink:href", "src", "action", "formaction"}
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


@dataclass(frozen=True)
class SvgProblem:
    line: int
    message: str
    hint: str


@dataclass(frozen=True)
class SvgInfo:
    """What a page needs to know of a safe SVG: its intrinsic size, when it says one."""

    width: int = 0
    height: int = 0


_HINT = ("open the file in a drawing program and export it again as a plain drawing, or delete "
         "the element from the file")


def check_svg(data: bytes) -> SvgInfo | SvgProblem:
    """The SVG's size, or the first reason it cannot be published."""
    parser = xml.parsers.expat.ParserCreate()
    problems: list[SvgProblem] = []
    size: list[SvgInfo] = []

    def refuse(message: str) -> None:
        if not problems:
            problems.append(SvgProblem(parser.CurrentLineNumber, message, _HINT))

    def start(name: str, attributes: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1].lower()
        if local == "script":
            refuse("the SVG has a <script> element, which would run on the shop's own site")
        elif local == "foreignobject":
            refuse("the SVG embeds HTML (<foreignObject>), which can carry scripts")
        for attribute, value in attributes.items():
            lowered = attribute.lower()
            if lowered.rsplit(":", 1)[-1].startswith("on"):
                refuse(f'the SVG has an event handler ({attribute}="..."), a script that would '
                       "run on the shop's own site")
            elif lowered in _LINK_ATTRIBUTES and re.sub(r"[\s\x00-\x1f]", "", value).lower() \
                    .startswith(("javascript:", "data:text/html")):
                refuse(f"the SVG has a {attribute} that runs a script")
        if not size:
            size.append(_size(attributes))

    def entity(*_: object) -> None:
        refuse("the SVG declares entities (a way to hide content or make the file explode)")

    parser.StartElementHandler = start
    parser.EntityDeclHandler = entity
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        if problems:
            return problems[0]
        reason = xml.parsers.expat.errors.messages[exc.code]
        return SvgProblem(exc.lineno, f"the SVG is not readable: {reason}",
                          "save it again from the drawing program as SVG")
    if problems:
        return problems[0]
    return size[0] if size else SvgInfo()


def _size(attributes: dict[str, str]) -> SvgInfo:
    """Width and height in pixels from the root element (or its viewBox), when it says them."""
    width, height = (_LENGTH.match(attributes.get(key, "")) for key in ("width", "height"))
    if width and height:
        return SvgInfo(round(float(width.group(1))), round(float(height.group(1))))
    box = attributes.get("viewBox", "").replace(",", " ").split()
    try:
        _, _, box_width, box_height = (float(part) for part in box)
    except ValueError:
        return SvgInfo()
    return SvgInfo(round(box_width), round(box_height)) if box_width > 0 and box_height > 0 \
        else SvgInfo()

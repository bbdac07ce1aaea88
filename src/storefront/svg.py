"""Check an SVG file before it is published: no scripts, no event handlers, its size.

Stage 3, pure. An SVG is copied as it is, but it is served from the shop's own origin, where a
script inside it (opened directly, or through a link) runs with the shop's cookies and can rewrite
its pages. So an SVG carrying a ``<script>`` element, an ``on...`` event handler attribute, a
``javascript:`` link (under any namespace prefix, or set by an ``<animate>`` or ``<set>``), or
HTML (``<foreignObject>``, or an element of the XHTML namespace, which a browser renders inside an
SVG too: an ``<iframe srcdoc>`` runs its script) is refused, with the line of the offending
element. The file is read with expat, without fetching or expanding entities (a
document type that declares entities is refused too: that is how a "billion laughs" file
explodes).

A gzip-compressed SVG (``.svgz``, or ``.svg.gz`` beside an SVG) is served by many hosts as an SVG
with ``Content-Encoding: gzip`` (Apache's default, nginx's ``gzip_static`` for ``.svg.gz``), so
the browser runs what it holds just the same: it is decompressed, at most
:data:`~storefront.limits.MAX_SVG_BYTES` of it (a "gzip bomb" would fill the memory), and
checked like a plain one.
"""

from __future__ import annotations

import gzip
import io
import re
import xml.parsers.expat
import zlib
from dataclasses import dataclass

from storefront.limits import MAX_SVG_BYTES

_LINK_ATTRIBUTES = {"href", "src", "action", "formaction"}  # local names: any prefix
_ANIMATION_VALUES = ("to", "from", "by", "values")  # what <animate>/<set> give an attribute
_XHTML = "http://www.w3.org/1999/xhtml"
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
        namespaces.append({**namespaces[-1], **{
            key.partition(":")[2]: value for key, value in attributes.items()
            if key == "xmlns" or key.startswith("xmlns:")}})
        prefix, _, local = name.rpartition(":")
        local = local.lower()
        if local == "script":
            refuse("the SVG has a <script> element, which would run on the shop's own site")
        elif local == "foreignobject":
            refuse("the SVG embeds HTML (<foreignObject>), which can carry scripts")
        elif namespaces[-1].get(prefix) == _XHTML:
            refuse(f"the SVG embeds HTML (<{name}>), which can carry scripts")
        for attribute, value in attributes.items():
            lowered = attribute.lower().rsplit(":", 1)[-1]
            if lowered.startswith("on"):
                refuse(f'the SVG has an event handler ({attribute}="..."), a script that would '
                       "run on the shop's own site")
            elif lowered in _LINK_ATTRIBUTES and _runs_script(value):
                refuse(f"the SVG has a {attribute} that runs a script")
        if local in ("animate", "set") and any(
                _runs_script(part) for key in _ANIMATION_VALUES
                for part in attributes.get(key, "").split(";")):
            refuse(f"the SVG animates a link into a script (<{name}>)")
        if not size:
            size.append(_size(attributes))

    def end(_: str) -> None:
        namespaces.pop()

    def entity(*_: object) -> None:
        refuse("the SVG declares entities (a way to hide content or make the file explode)")

    namespaces: list[dict[str, str]] = [{}]  # prefix ("" the default) -> URI, per open element
    parser.StartElementHandler = start
    parser.EndElementHandler = end
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


def check_compressed_svg(data: bytes, limit: int = MAX_SVG_BYTES) -> SvgInfo | SvgProblem:
    """:func:`check_svg` of a gzip-compressed SVG, decompressed up to ``limit`` bytes (the line
    of a problem is the line in the decompressed drawing)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            text = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:  # not gzip, cut short, damaged
        detail = str(exc).split("\n")[0] or type(exc).__name__
        return SvgProblem(0, f"the compressed SVG cannot be decompressed ({detail})",
                          "save it again from the drawing program as compressed SVG (.svgz), "
                          "or as a plain .svg")
    if len(text) > limit:
        return SvgProblem(0, f"the compressed SVG expands to more than {limit // (1024 * 1024)} "
                          "MiB (a file made to exhaust the memory of whoever opens it)",
                          "save the drawing again as a plain .svg, or simplify it")
    return check_svg(text)


def _runs_script(value: str) -> bool:
    """A link value a browser would run as a script (spaces and control characters ignored)."""
    return re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:text/html"))


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

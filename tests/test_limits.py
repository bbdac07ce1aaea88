"""Hostile input in bounded time and memory: every build runs in its own process with its address
space limited, and must end (exit 1 naming file and line, or exit 0) well within a timeout.

The cases are those of ``bench/hostile_inputs.py`` (which prints the figures): the inputs of
issue 7 that break a limit, and the most expensive content found under each limit. Before the
limits, the 50 MB post ran out of memory, 20,000 "[" took a minute and the theme-strings alias
bomb took 40 s and 1.6 GB; now each takes about a second and well under 200 MiB.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from support import REPO

_SPEC = importlib.util.spec_from_file_location("hostile_inputs", REPO / "bench" / "hostile_inputs.py")
assert _SPEC is not None and _SPEC.loader is not None
hostile = importlib.util.module_from_spec(_SPEC)
sys.modules["hostile_inputs"] = hostile
_SPEC.loader.exec_module(hostile)

MEMORY = 1024 * 1024 * 1024  # 1 GiB of address space: the 50 MB post needed more before
MAX_RSS_MIB = 300
LOCATION = re.compile(r"^(content/[^:]+\.md|content/assets/[^:]+|storefront\.yaml|themes/[^:]+\.yaml)"
                      r"(:\d+)?: \S")

OVER = sorted(name for name in hostile.CASES if name.startswith("over-"))
UNDER = sorted(name for name in hostile.CASES if name.startswith("under-"))


def build(name: str, root: Path, timeout: float) -> tuple[str, float, float, str]:
    hostile.write_site(root, hostile.CASES[name]())
    status, wall, _cpu, rss, first = hostile.measure(root, MEMORY, timeout)
    return status, wall, rss, first


@pytest.mark.slow
@pytest.mark.parametrize("name", OVER)
def test_input_beyond_a_limit_fails_fast_naming_file_and_line(name, tmp_path) -> None:
    status, wall, rss, first = build(name, tmp_path, timeout=60)
    assert status == "1", f"{name}: exit {status} after {wall:.1f} s: {first}"
    assert LOCATION.match(first), first
    assert "unexpected" not in first and "internal error" not in first
    assert rss < MAX_RSS_MIB, f"{name}: {rss:.0f} MiB"


@pytest.mark.slow
@pytest.mark.parametrize("name", UNDER)
def test_the_worst_content_under_the_limits_builds_in_bounded_time(name, tmp_path) -> None:
    status, wall, rss, first = build(name, tmp_path, timeout=120)
    assert status == "0", f"{name}: exit {status} after {wall:.1f} s: {first}"
    assert rss < MAX_RSS_MIB, f"{name}: {rss:.0f} MiB"


def test_every_limit_has_a_worst_case_under_it() -> None:
    """A new limit comes with the content that costs most just below it."""
    names = {"MAX_FILE_BYTES": "prose", "MAX_LINES": "paragraphs", "MAX_BLOCK_LINES": "rules",
             "MAX_NESTING": "deep-lists", "MAX_MARKS": "links", "MAX_BLOCK_MARKS": "emphasis",
             "MAX_TABLE_COLUMNS": "table-columns", "MAX_BRACKET_SCAN": "bracket-scan",
             "MAX_TAG_SCAN": "tag-scan", "MAX_YAML_EXPANSION": "yaml-aliases",
             "MAX_THEME_STRINGS": "theme-strings", "MAX_SVG_BYTES": "svgz", "MAX_TAGS": "tags"}
    limits = {name for name in dir(hostile.limits) if name.startswith("MAX_")}
    # limits of sense, not of cost: a longer name or title costs what its characters do
    sense = {"MAX_NUMBER_DIGITS", "MAX_SLUG_LENGTH", "MAX_TITLE_LENGTH", "MAX_NAME_LENGTH"}
    assert limits - sense == set(names)
    assert {f"under-{case}" for case in names.values()} <= set(UNDER)

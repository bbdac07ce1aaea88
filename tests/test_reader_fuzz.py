"""Fuzzing the reader: whatever a post holds, the build ends with exit 0, or exit 1 naming the
file (and line), never an internal error, and within a time bound.

Hypothesis writes the front matter (known and unknown keys; scalars, explicit YAML tags, anchors
and aliases, deep flow nesting, long numbers) and the Markdown body (text mixed with the marks
that Python-Markdown treats specially, and runs of them nested hundreds deep).
"""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

SECONDS = 30  # the worst content under the limits builds in 3 s; a timeout would take minutes
POST = "content/posts/2024-05-01-prova.md"

KEYS = ["title", "date", "updated", "summary", "tags", "author", "image", "draft", "slug",
        "expires", "description", "image_alt", "order", "price", "menu"]
TAGS = ["!!int", "!!bool", "!!float", "!!str", "!!null", "!!timestamp", "!!binary", "!!set",
        "!!omap", "!!seq", "!!map", "!!python/name:os.system", "!!python/object/apply:os.system",
        "!", "!custom", "!<tag:yaml.org,2002:int>"]
WORDS = ["abc", "maybe", "yes", "no", "~", "null", "2024-13-45", "2024-05-01", "2024-05-01 25:61",
         "1e999", "-0", "0x1F", "0o17", "1_000", "12:30:45", ".inf", ".nan", "'quoted'",
         '"a\\x5bb"', "[a, b]", "{a: 1}", "Perché sì", "€ 12,50", ""]


def _scalar() -> st.SearchStrategy[str]:
    number = st.integers(1, 6000).map(lambda n: "9" * n)
    tagged = st.tuples(st.sampled_from(TAGS), st.sampled_from(WORDS)).map(" ".join)
    text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                   max_size=30).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return st.one_of(st.sampled_from(WORDS), number, tagged, text)


def _value() -> st.SearchStrategy[str]:
    nested = st.tuples(st.integers(1, 300), st.sampled_from(["[", "{a: "])).map(
        lambda p: p[1] * p[0] + "x" + ("]" if p[1] == "[" else "}") * p[0])
    listed = st.lists(_scalar(), max_size=5).map(lambda items: "[" + ", ".join(items) + "]")
    return st.one_of(_scalar(), nested, listed)


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    keys = draw(st.lists(st.one_of(st.sampled_from(KEYS), st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
                         max_size=6, unique=True))
    lines = [f"{key}: {draw(_value())}" for key in keys]
    if draw(st.booleans()):  # anchors and aliases, up to a small bomb
        levels = draw(st.integers(1, 8))
        lines.append('l0: &l0 ["ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha"]')
        lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 8) + "]" for n in range(1, levels)]
    if draw(st.booleans()):
        lines.insert(0, "title: Prova")
    if draw(st.booleans()):
        lines = [draw(st.text(max_size=200))]  # anything at all
    return "\n".join(lines) + "\n"


MARKS = ["[", "]", "](", "(", ")", "![", "[^1]", "[^1]: nota", "*", "**", "_", "`", "```", "~~~",
         "<", ">", "<b", "</b>", "<div>", "</div>", '<div markdown="1">', "<!--", "-->",
         "<![CDATA[", "&amp;", "&", "\\", "'", '"', "|", "|---|", "- ", "* ", "1. ", "> ", "#",
         "---", "===", "    ", "\t", "{: .a }", "<!--more-->", "  \n", "\n", "\n\n", "\r", "http://"]
RUNS = ["    - a\n", "- ", "> ", ">", '<div markdown="1">\n\n', "<div>", "*a ", "_a ", "[a ", "[",
        "](", "<b ", "`", "1. ", "|"]


def _fragment() -> st.SearchStrategy[str]:
    deep = st.tuples(st.sampled_from(RUNS), st.integers(1, 700)).map(
        lambda run: (run[0] * run[1] if run[0] != "    - a\n"
                     else "".join("    " * n + "- a\n" for n in range(run[1] // 10))))
    return st.one_of(st.text(max_size=40), st.sampled_from(MARKS), deep)


markdown_body = st.lists(_fragment(), max_size=25).map("".join)
# half of the posts have a valid front matter, so that their body is read too
posts = st.tuples(st.one_of(st.just("title: Prova\n"), front_matter()), markdown_body)


def _build(root: Path, text: str, run_cli) -> tuple[int, str, float]:
    (root / POST).write_text(text, encoding="utf-8", errors="surrogatepass")
    started = time.perf_counter()
    result = run_cli("--root", root, "build", "--no-cache")
    return result.code, result.err, time.perf_counter() - started


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(post=posts)
def test_any_post_builds_or_fails_naming_the_file_never_internal(post, run_cli,
                                                                  tmp_path_factory) -> None:
    front, body = post
    root = tmp_path_factory.mktemp("fuzz")
    (root / "storefront.yaml").write_text(
        "title: Prova\nbase_url: https://prova.example/\nlanguage: it\n", encoding="utf-8")
    (root / POST).parent.mkdir(parents=True)
    code, err, seconds = _build(root, f"---\n{front}---\n\n{body}\n", run_cli)
    event(f"exit {code}")
    assert code in (0, 1), err
    if code == 1:
        assert err.startswith(POST), err[:500]  # the file, then its line where there is one
    assert "unexpected error" not in err and "internal error" not in err, err[:2000]
    assert seconds < SECONDS

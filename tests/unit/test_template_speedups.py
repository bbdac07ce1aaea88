"""The template speed-ups change nothing: every lookup is still recorded, imports still see the
globals of the moment, and the urlencode filter gives Jinja's own text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from jinja2.filters import do_urlencode
from markupsafe import Markup

from storefront.deps import recording
from storefront.environment import forget_modules, make_environment
from storefront.formatting import urlencode
from storefront.theme import Theme


def _environment(tmp_path: Path) -> Environment:
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "_m.html").write_text("{% macro hi() %}{{ greeting }}{% endmacro %}")
    (templates / "_c.html").write_text("{% macro who(x) %}{{ x }} {{ page }}{% endmacro %}")
    (templates / "page.html").write_text(
        '{% import "_m.html" as m %}{% import "_c.html" as c with context %}'
        "{{ m.hi() }}|{{ c.who(page) }}|{{ f(x=1) }}")
    return make_environment((Theme(name="t", path=tmp_path / "theme", label="themes/t"),))


def test_every_lookup_is_recorded_and_imports_see_the_current_globals(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    env.globals.update(greeting="ciao", f=lambda **values: sorted(values))
    for page in ("uno", "due"):  # the second render finds every template already loaded
        with recording() as recorder:
            html = env.get_template("page.html").render(page=page)
        assert html == f"ciao|{page} {page}|[&#39;x&#39;]"  # autoescaped
        assert recorder.snapshot().templates == ("_c.html", "_m.html", "page.html")
    env.globals["greeting"] = "salve"
    forget_modules(env)
    assert env.get_template("page.html").render(page="tre").startswith("salve|")


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_urlencode_gives_jinjas_text(text: str) -> None:
    assert urlencode(text) == do_urlencode(text)
    assert type(urlencode(Markup(text))) is str and urlencode(Markup(text)) == do_urlencode(text)


def test_urlencode_leaves_pairs_to_jinja() -> None:
    assert urlencode({"a": "b c", "é": 1}) == do_urlencode({"a": "b c", "é": 1})
    assert urlencode(5) == "5"

"""A child template's blocks that its parents lack, and text outside its blocks (the mini-site
tests/sites/invalid/template-block-name shows the whole lines)."""

from __future__ import annotations

from pathlib import Path

from storefront.environment import make_environment
from storefront.templateblocks import block_problems
from storefront.theme import Theme

PARENT = ('<html><head>{% block head %}{% endblock %}</head>'
          '<body>{% block content %}{% endblock %}</body></html>\n')


def _problems(tmp_path: Path, child: str) -> list[tuple[int, str, str]]:
    for name, source in (("child", child), ("parent", PARENT)):
        folder = tmp_path / name / "templates"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ("page.html" if name == "child" else "base.html")).write_text(source)
    chain = (Theme("child", tmp_path / "child", "themes/child"),
             Theme("parent", tmp_path / "parent", "<built-in theme parent>"))
    env = make_environment(chain)
    return [(line, message, hint) for (_label, line), message, hint
            in block_problems(chain, env, "page.html")]


def test_a_block_the_parents_lack_is_named_with_the_nearest_one(tmp_path: Path) -> None:
    assert _problems(tmp_path, '{% extends "base.html" %}\n{% block contenuto %}x{% endblock %}\n') == [
        (2, 'the block "contenuto" is in none of the templates this one extends, so it is never '
            'shown', 'did you mean "content"? The blocks of "base.html" and the templates it '
                     "extends: content, head")]


def test_text_after_the_extends_outside_every_block_is_named_at_its_line(tmp_path: Path) -> None:
    found = _problems(tmp_path, '{% extends "base.html" %}\n{% block content %}x{% endblock %}\n'
                                "\n<p>Grazie!</p>\n{{ super() }}\n")
    assert [(line, message.split(" is ")[0]) for line, message, _hint in found] == [
        (4, "this text")]


def test_blocks_shown_inside_another_block_or_by_self_and_the_parents_blocks_are_right(
        tmp_path: Path) -> None:
    assert _problems(tmp_path, '{% extends "base.html" %}\n{% set x = 1 %}\n'
                               "{% block head %}{{ self.intro() }}{% endblock %}\n"
                               "{% block intro %}i{% endblock %}\n"
                               "{% block content %}{% block sub %}s{% endblock %}{% endblock %}"
                               "\n{% macro m() %}{% endmacro %}\n") == []
    assert _problems(tmp_path, "<p>no extends</p>{% block anything %}{% endblock %}") == []


def test_a_parent_missing_or_not_valid_is_left_to_the_render(tmp_path: Path) -> None:
    # the render says 'template "basee.html" not found' (or the parent's syntax error) at the
    # line that names it; the block check said the child's every block was in none of its
    # parents, with an empty list of blocks, and stopped the build before the render
    assert _problems(tmp_path, '{% extends "basee.html" %}\n{% block content %}x{% endblock %}\n') == []
    folder = tmp_path / "child" / "templates"
    (folder / "middle.html").write_text('{% extends "base.html" %}\n{% block content %}{% if %}'
                                        "{% endblock %}\n")
    assert _problems(tmp_path, '{% extends "middle.html" %}\n{% block content %}x{% endblock %}\n') == []


def test_a_block_a_parent_shows_with_self_is_shown(tmp_path: Path) -> None:
    # a layout's {{ self.colonna() }} shows the child's block colonna, which no parent defines:
    # the page built with it in its <main>, and the check refused it
    folder = tmp_path / "child" / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layout.html").write_text('{% extends "base.html" %}\n'
                                        "{% block content %}{{ self.colonna() }}{% endblock %}\n")
    assert _problems(tmp_path, '{% extends "layout.html" %}\n'
                               "{% block colonna %}<aside>x</aside>{% endblock %}\n") == []

"""A child theme's string that replaces nothing: most likely a mistyped key.

A child theme changes a text of the theme it extends by giving the same key in its
``strings/<language>.yaml``. A key spelt otherwise (``read_mor:`` for ``read_more:``) adds a
new string instead, which no template asks for, and every page goes on showing the parent's text
with nothing said. So a child's key that no theme further up the chain has, that no template of
the chain names in quotes (a child's own templates may use new strings: ``t("opening_soon")``),
and that is a letter or two away from a key the chain has, is reported as a warning at its line,
with the key it most likely meant. A new key far from every known one is taken as meant (a
template may build it: ``t(product.availability)``).

Reads theme files (the strings of the build's language, the templates); called after
:func:`storefront.theme.load_strings` has checked the strings files, so they are well formed.
"""

from __future__ import annotations

import difflib
import re

from storefront.errors import ContentError, error_at, line_of_key
from storefront.schema import YamlProblem, compose_yaml, text_table
from storefront.sources import is_ignored
from storefront.theme import Theme

#: a word in quotes in a template: what ``t("key")`` (or a variable set to a key) names
_QUOTED = re.compile(r"""["']([A-Za-z0-9_.-]+)["']""")
#: how alike a key must be to a known one to be taken for a typo of it (difflib's ratio):
#: "read_mor" is 0.94 from "read_more", "prcie" 0.8 from "price", "opening_soon" 0.72 from
#: "opening_hours"
CLOSE = 0.8


def mistyped_string_keys(chain: tuple[Theme, ...], language: str) -> list[ContentError]:
    """Warnings for the strings of ``chain``'s child themes that look like mistyped keys."""
    if len(chain) < 2:
        return []
    tables = [_strings(theme, language) for theme in chain]
    if not any(table for table in tables[:-1]):
        return []
    named = _named_in_templates(chain)
    warnings: list[ContentError] = []
    for index, (theme, table) in enumerate(zip(chain[:-1], tables[:-1], strict=True)):
        if not table:
            continue
        shown, text, keys = table
        above: dict[str, str] = {}  # key -> the theme further up that gives it
        for parent, known in zip(chain[index + 1:], tables[index + 1:], strict=True):
            for key in (known[2] if known else ()):
                above.setdefault(key, parent.label)
        for key in keys:
            if key in above or key in named:
                continue
            close = difflib.get_close_matches(key, list(above), n=1, cutoff=CLOSE)
            if close:
                warnings.append(error_at(
                    shown, line_of_key(text, key),
                    f'the theme string "{key}" replaces no string of the themes {theme.name} '
                    "extends, and no template asks for it",
                    f'did you mean "{close[0]}"? (as it is, pages keep the text of '
                    f"{above[close[0]]}/strings/{language}.yaml)"))
    return warnings


def _strings(theme: Theme, language: str) -> tuple[str, str, list[str]] | None:
    """A theme's strings file for ``language``: how errors name it, its text, its keys."""
    path = theme.path / "strings" / f"{language}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
        table = text_table(compose_yaml(text))
    except (OSError, UnicodeError, YamlProblem):
        return None  # none, or one load_strings reports
    if table is None:
        return None
    return f"{theme.label}/strings/{language}.yaml", text, list(table)


def _named_in_templates(chain: tuple[Theme, ...]) -> set[str]:
    """Every word in quotes in the templates of the chain."""
    named: set[str] = set()
    for theme in chain:
        folder = theme.templates
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if is_ignored(path.name) or not path.is_file() or path.is_symlink():
                continue
            try:
                named.update(_QUOTED.findall(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeError):
                continue  # the build reports a template it cannot read where it is used
    return named

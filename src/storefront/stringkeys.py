"""A child theme's string that replaces nothing: most likely a mistyped key.

A child theme changes a text of the theme it extends by giving the same key in its
``strings/<language>.yaml``. A key spelt otherwise (``read_mor:`` for ``read_more:``) adds a
new string instead, which no template asks for, and every page goes on showing the parent's text
with nothing said. So a child's key is reported as a warning at its line, with the key it most
likely meant, when it is a typo's distance from a key further up the chain (a letter or two
wrong, missing, added or swapped: ``read_mor``, ``prcie``, ``in_stok``) and no theme further
up has it, and no template of the chain names it in quotes (a child's own templates may use new
strings: ``t("opening_soon")``) or names its start (``t("shipping_" ~ zone)`` builds
``shipping_it``). A new key farther from every known one is taken as meant (``read_time``
beside ``reading_time``, ``contact_us`` beside ``contact``).

Reads theme files (the strings of the build's language, the templates); called after
:func:`storefront.theme.load_strings` has checked the strings files, so they are well formed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storefront.errors import ContentError, error_at, line_of_key
from storefront.schema import YamlProblem, compose_yaml, text_table
from storefront.templateimages import read_templates
from storefront.theme import Theme

#: a word in quotes in a template: what ``t("key")`` (or a variable set to a key) names
_QUOTED = re.compile(r"""["']([A-Za-z0-9_.-]+)["']""")
#: the most edits (a letter wrong, missing, added, or two swapped) a typo of a key has, and the
#: shortest key that may have two (one for shorter keys: "tags" and "tabs" are two words)
TYPO_EDITS = 2
TWO_EDITS_FROM = 6


_ANSWERS: dict[tuple[str, str], list[ContentError]] = {}  # (theme key, language) -> warnings


def forget_answers() -> None:
    """Drop the answers kept by theme key: they may have been read from other bytes (a theme
    file saved while a build read it)."""
    _ANSWERS.clear()


def mistyped_string_keys(chain: tuple[Theme, ...], language: str,
                         theme_key: str = "") -> list[ContentError]:
    """Warnings for the strings of ``chain``'s child themes that look like mistyped keys.

    ``theme_key`` (a digest of every theme file, :class:`~storefront.build.BuildSession`'s):
    the same key gives the same answer without reading the files again (a preview's save)."""
    if theme_key and (theme_key, language) in _ANSWERS:
        return list(_ANSWERS[theme_key, language])
    warnings = _mistyped(chain, language)
    if theme_key:
        if len(_ANSWERS) >= 4:
            _ANSWERS.clear()
        _ANSWERS[theme_key, language] = list(warnings)
    return warnings


def _mistyped(chain: tuple[Theme, ...], language: str) -> list[ContentError]:
    if len(chain) < 2:
        return []
    tables = [_strings(theme, language) for theme in chain]
    if not any(table for table in tables[:-1]):
        return []
    named = _named_in_templates(chain)
    # the start of a key a template builds: t("shipping_" ~ zone)
    prefixes = [word for word in named if len(word) > 1 and word.endswith(("_", "-", "."))]
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
            if key in above or key in named or any(key.startswith(word) for word in prefixes):
                continue
            meant = _typo_of(key, above)
            if meant is not None:
                warnings.append(error_at(
                    shown, line_of_key(text, key),
                    f'the theme string "{key}" replaces no string of the themes {theme.name} '
                    "extends, and no template asks for it",
                    f'did you mean "{meant}"? (as it is, pages keep the text of '
                    f"{above[meant]}/strings/{language}.yaml)"))
    return warnings


def _typo_of(key: str, known: Iterable[str]) -> str | None:
    """The known key ``key`` is most likely a typo of (the fewest edits, then the first in
    order), or None when none is a typo's distance away."""
    most = TYPO_EDITS if len(key) >= TWO_EDITS_FROM else 1
    best: tuple[int, str] | None = None
    for other in known:
        if abs(len(other) - len(key)) > most:
            continue
        edits = _edits(key, other, most)
        if edits <= most and (best is None or edits < best[0]):
            best = (edits, other)
    return best[1] if best is not None else None


def _edits(a: str, b: str, limit: int) -> int:
    """The edits from ``a`` to ``b`` (a letter changed, removed, added, or two neighbours
    swapped: the optimal string alignment distance); ``limit + 1`` once it is past ``limit``."""
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if (before is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2]
                    and a[i - 2] == b[j - 1]):
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit and min(row) > limit:  # a swap reaches back one row
            return limit + 1
        before, row = row, current
    return row[len(b)]


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
    for template in read_templates(chain).values():
        named.update(_QUOTED.findall(template.text))
    return named

"""Write stored submissions as CSV or JSON for the owner.

Columns follow the form's declared fields (then any stored field the config no longer declares).
CSV cells that a spreadsheet would run as a formula (starting with ``= + - @``, a tab or a CR) get
a leading apostrophe, the usual defence against formula injection; ``raw=True`` turns that off.
JSON is written as-is (UTF-8, one array). Writes only to the stream it is given.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from storefront.formconfig import FormDefinition
from storefront.forms.storage import StoredSubmission

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_META = ("id", "created_at", "status", "consent_version")


def field_names(form: FormDefinition | None, rows: Sequence[StoredSubmission]) -> list[str]:
    names = [f.name for f in form.fields] if form else []
    for row in rows:
        names.extend(name for name in row.data if name not in names)
    return names


def _cell(value: Any, raw: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if not raw and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_table(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                raw: bool = False) -> None:
    """CSV for a spreadsheet: a header, then one line per row, every cell made safe to open."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value, raw) for value in row])


def write_csv(out: TextIO, form: FormDefinition | None, rows: Sequence[StoredSubmission], *,
              raw: bool = False) -> None:
    names = field_names(form, rows)
    write_table(out, [*_META, *names],
                ([str(row.id), row.created_at, row.status, row.consent_version,
                  *(row.data.get(n) for n in names)] for row in rows), raw=raw)


def write_json(out: TextIO, rows: Sequence[StoredSubmission]) -> None:
    data = [
        {
            "id": row.id,
            "form": row.form,
            "created_at": row.created_at,
            "status": row.status,
            "consent_version": row.consent_version,
            "consent_text": row.consent_text,
            "fields": row.data,
        }
        for row in rows
    ]
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")

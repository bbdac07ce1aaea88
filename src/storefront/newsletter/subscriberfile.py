"""Read an owner's list of addresses to import, and write the subscribers out (CSV or JSON).

An import file is CSV with a header line, or a JSON array of objects, with these columns (other
columns are ignored, so an export of another service can be read as it is):

* ``email`` (also ``e-mail``, ``email address``, ``indirizzo email``), required;
* ``name`` (also ``nome``, ``full name``);
* ``consent_at``: when the person gave and confirmed consent (also ``confirmed_at``,
  ``confirm_time``, ``optin_time``, as Mailchimp names it);
* ``consent_text``, ``consent_version``: what they agreed to;
* ``evidence``: how and where consent was collected ("double opt-in on Mailchimp, list X").

A row is imported as confirmed only with evidence: ``consent_at`` and the consent text or the
evidence. Without it the address gets a confirmation mail and nothing else. Every problem of the
file is reported with its line, and a file with problems imports nothing. Pure apart from the
stream it is given.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any, TextIO

from storefront.errors import ContentError, error_at
from storefront.forms.export import write_table
from storefront.forms.subscribers import ImportedSubscriber, Subscriber
from storefront.forms.validation import is_email
from storefront.values import localize, parse_datetime

_ALIASES = {
    "email": ("email", "e-mail", "email address", "e-mail address", "indirizzo email", "mail"),
    "name": ("name", "nome", "full name", "nome e cognome"),
    "consent_at": ("consent_at", "confirmed_at", "confirm_time", "optin_time", "consent date"),
    "consent_text": ("consent_text",),
    "consent_version": ("consent_version",),
    "evidence": ("evidence", "source", "optin_source"),
}

EXPORT_COLUMNS = ("email", "name", "status", "source", "form", "signed_up_at", "consent_text",
                  "consent_version", "evidence", "signup_ip_hash", "confirmed_at",
                  "confirm_ip_hash", "unsubscribed_at", "unsubscribe_method")


def _column(keys: dict[str, str], field: str) -> str | None:
    """The file's column for ``field`` (its header compared without case)."""
    return next((keys[alias] for alias in _ALIASES[field] if alias in keys), None)


def read_import(text: str, label: str, fmt: str, zone: Any) -> tuple[list[ImportedSubscriber],
                                                                     list[ContentError]]:
    """Parse an import file; naive ``consent_at`` times are in the site's ``zone``."""
    rows: list[tuple[int, dict[str, Any]]]
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [error_at(label, exc.lineno, f"not valid JSON: {exc.msg}")]
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            return [], [error_at(label, 1, "the JSON must be an array of objects, one per address",
                                 'write [{"email": "anna@example.com", "name": "Anna"}, ...]')]
        rows = [(number, item) for number, item in enumerate(data, 1)]
        where = "entry"
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = [(reader.line_num, row) for row in reader]
        where = "line"
    items: list[ImportedSubscriber] = []
    errors: list[ContentError] = []
    seen: set[str] = set()
    for number, row in rows:
        keys = {str(key).strip().lower(): str(key) for key in row if key is not None}
        line = number if where == "line" else 0
        at = f"{where} {number}: " if where == "entry" else ""
        column = _column(keys, "email")
        if column is None:
            errors.append(error_at(label, line or 1, f"{at}no email column",
                                   "name a column email (the first line of a CSV holds the names)"))
            break
        address = str(row.get(column) or "").strip().lower()
        if not is_email(address):
            errors.append(error_at(label, line, f'{at}"{address[:80]}" is not an e-mail address'))
            continue
        if address in seen:
            continue
        seen.add(address)
        values = {field: str(row.get(name) or "").strip() for field in _ALIASES
                  if (name := _column(keys, field)) is not None}
        consent_at = None
        if values.get("consent_at"):
            try:
                consent_at = localize(parse_datetime(values["consent_at"]), zone)
            except ValueError as exc:
                errors.append(error_at(label, line, f"{at}consent_at {exc}"))
                continue
        items.append(ImportedSubscriber(
            address, values.get("name", ""), consent_at, values.get("consent_text", ""),
            values.get("consent_version", ""), values.get("evidence", "")))
    return items, errors


def _row(subscriber: Subscriber) -> list[str]:
    return [str(getattr(subscriber, column) or "") for column in EXPORT_COLUMNS]


def write_subscribers(out: TextIO, subscribers: Sequence[Subscriber], fmt: str, *,
                      raw: bool = False) -> None:
    """Every subscriber with its consent evidence (never the link nonces)."""
    if fmt == "json":
        json.dump([dict(zip(EXPORT_COLUMNS, _row(s), strict=True)) for s in subscribers], out,
                  ensure_ascii=False, indent=2)
        out.write("\n")
        return
    write_table(out, EXPORT_COLUMNS, (_row(s) for s in subscribers), raw=raw)

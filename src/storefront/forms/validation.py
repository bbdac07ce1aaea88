"""Check a submission against its form definition and produce clean, typed values.

Pure: no I/O, no clock. Input is the decoded body as ``{name: [values...]}``; fields the form does
not declare are dropped (a bot cannot store arbitrary keys), and only the first value of a repeated
name counts. Every problem of every field is collected. Error messages name the field by its
configured label and never repeat what the visitor typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from storefront.formconfig import FormDefinition, FormField
from storefront.forms.messages import Messages

Value = str | int | bool | None

# Single-line fields: no control characters at all (this is also what keeps CR/LF out of any
# mail header built from them). Multi-line fields keep tabs and newlines.
_SINGLE_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MULTI_LINE_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# Invisible format characters (Unicode category Cf: bidi overrides such as U+202E, zero-width
# spaces, BOM) hide or reorder text in the owner's mail; the zero-width (non-)joiners are kept,
# as emoji sequences and Persian or Indic spelling need them.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")


def _has_format_character(text: str) -> bool:
    return any(
        unicodedata.category(ch) == "Cf" and ch not in _ALLOWED_FORMAT
        for ch in text if not ch.isascii()
    )

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(
    rf"(?=[^@]{{1,64}}@){_ATEXT}(?:\.{_ATEXT})*"
    r"@(?=[^@]{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
)
_TEL = re.compile(r"\+?[0-9 ()./-]+", re.ASCII)
_NUMBER = re.compile(r"[+-]?[0-9]{1,15}", re.ASCII)


@dataclass(frozen=True)
class ValidationResult:
    """Clean values in field order, plus every problem found (empty when the data is valid)."""

    values: dict[str, Value]
    errors: dict[str, list[str]] = field(default_factory=dict)
    form_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.form_errors


def is_email(text: str) -> bool:
    """True for a plain ASCII address such as ``name@example.com``."""
    # "=?" would start an RFC 2047 encoded word once the address is put in a header
    return len(text) <= 254 and "=?" not in text and _EMAIL.fullmatch(text) is not None


def label_of(form_field: FormField) -> str:
    return form_field.label or form_field.name


def first_value(raw: Mapping[str, Sequence[str]], name: str) -> str:
    values = raw.get(name) or ()
    return values[0] if values else ""


def validate_submission(
    form: FormDefinition, raw: Mapping[str, Sequence[str]], messages: Messages
) -> ValidationResult:
    """Validate ``raw`` against ``form``; never raises for any input."""
    values: dict[str, Value] = {}
    errors: dict[str, list[str]] = {}
    for form_field in form.fields:
        value, problems = _check_field(form_field, first_value(raw, form_field.name), messages)
        values[form_field.name] = value
        if problems:
            errors[form_field.name] = problems
    if form.require_one_of and not any(values.get(name) for name in form.require_one_of):
        by_name = {f.name: f for f in form.fields}
        labels = ", ".join(label_of(by_name[name]) for name in form.require_one_of)
        message = messages("one_of", labels=labels)
        for name in form.require_one_of:
            errors.setdefault(name, []).append(message)
    return ValidationResult(values, errors)


def _check_field(
    form_field: FormField, text: str, messages: Messages
) -> tuple[Value, list[str]]:
    label = label_of(form_field)
    if form_field.type == "checkbox":
        checked = text != ""
        if not checked and (form_field.required or form_field.consent):
            key = "consent" if form_field.consent else "required"
            return False, [messages(key, label=label)]
        return checked, []

    multi_line = form_field.type == "textarea"
    text = unicodedata.normalize("NFC", text)
    if multi_line:
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
        bad = _MULTI_LINE_BAD.search(text)
    else:
        text = text.strip()
        bad = _SINGLE_LINE_BAD.search(text)
    empty: Value = None if form_field.type == "number" else ""
    if bad or _has_format_character(text):
        return empty, [messages("control", label=label)]
    if not text:
        if form_field.required:
            return empty, [messages("required", label=label)]
        return empty, []
    if len(text) > form_field.max_length:
        return empty, [
            messages("too_long", label=label, max=form_field.max_length, length=len(text))
        ]
    if form_field.type == "number":
        return _check_number(form_field, text, label, messages)
    if form_field.type == "email" and not is_email(text):
        return text, [messages("email", label=label)]
    if form_field.type == "tel" and not _is_phone(text):
        return text, [messages("tel", label=label)]
    if form_field.choices and text not in form_field.choices:
        return text, [messages("choice", label=label)]
    return text, []


def _check_number(
    form_field: FormField, text: str, label: str, messages: Messages
) -> tuple[Value, list[str]]:
    if not _NUMBER.fullmatch(text):
        return None, [messages("number", label=label)]
    number = int(text)
    if form_field.min_value is not None and number < form_field.min_value:
        return number, [messages("number_min", label=label, min=form_field.min_value)]
    if form_field.max_value is not None and number > form_field.max_value:
        return number, [messages("number_max", label=label, max=form_field.max_value)]
    if form_field.choices and text not in form_field.choices:
        return number, [messages("choice", label=label)]
    return number, []


def _is_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return _TEL.fullmatch(text) is not None and 6 <= digits <= 20

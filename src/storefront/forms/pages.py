"""The endpoint's own small HTML pages, for browsers without JavaScript.

Three kinds: a list of problems with a link back to the form, the "please confirm" page that
re-posts the visitor's values with a freshly signed token, and one-line pages for 403/404/405/...
Each page is a standalone, valid HTML5 document in the site's language with inline styles only.
Every dynamic value goes through :func:`html.escape` (quotes included) — visitor input appears
only on the confirm page, and only escaped. Pure: strings in, a string out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from storefront.formconfig import TOKEN_FIELD, FormDefinition
from storefront.forms.messages import Messages
from storefront.forms.validation import Value, label_of

_STYLE = (
    "body{font:1.05rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "color:#222;background:#fff}h1{font-size:1.5rem}li{margin:.3rem 0}"
    "dt{font-weight:600}dd{margin:0 0 .6rem;white-space:pre-wrap}"
    "button{font:inherit;padding:.5rem 1.2rem}a{color:#0645ad}"
)


def _page(language: str, title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}</main>\n</body>\n</html>\n"
    )


def unique(messages: Iterable[str]) -> list[str]:
    """Messages in order, each once (a "fill in one of" message is attached to several fields)."""
    return list(dict.fromkeys(messages))


def problems_page(
    messages: Messages, problems: Iterable[str], back_url: str,
) -> str:
    """The problems found, in plain language, with a link back to the form."""
    items = "".join(f"<li>{escape(p)}</li>\n" for p in unique(problems))
    body = (
        f"<p>{escape(messages('error_intro'))}</p>\n<ul>\n{items}</ul>\n"
        f'<p><a href="{escape(back_url)}">{escape(messages("back"))}</a></p>\n'
    )
    return _page(messages.language, messages("error_title"), body)


def message_page(messages: Messages, text: str, back_url: str) -> str:
    """A one-message page (403, 404, 405, 413, 429, 503)."""
    body = (
        f"<p>{escape(text)}</p>\n"
        f'<p><a href="{escape(back_url)}">{escape(messages("home"))}</a></p>\n'
    )
    return _page(messages.language, messages("error_title"), body)


def notice_page(messages: Messages, title: str, text: str, home_url: str) -> str:
    """A titled one-message page (the newsletter's "check your mail", "unsubscribed")."""
    body = (
        f"<p>{escape(text)}</p>\n"
        f'<p><a href="{escape(home_url)}">{escape(messages("home"))}</a></p>\n'
    )
    return _page(messages.language, title, body)


def button_page(messages: Messages, title: str, text: str, button: str, token: str) -> str:
    """A page whose one button posts ``t=token`` back to the page's own URL.

    Mail scanners open links by themselves; they do not press buttons, so nothing happens
    until a person does. Works without JavaScript.
    """
    body = (
        f"<p>{escape(text)}</p>\n"
        '<form method="post">\n'
        f'<input type="hidden" name="t" value="{escape(token)}">\n'
        f'<button type="submit">{escape(button)}</button>\n'
        "</form>\n"
    )
    return _page(messages.language, title, body)


def confirm_page(
    messages: Messages, form: FormDefinition, values: Mapping[str, Value], action: str,
    token: str, *, again: bool = False,
) -> str:
    """Show the values about to be sent and re-post them with a fresh token."""
    summary: list[str] = []
    hidden: list[str] = []
    for form_field in form.fields:
        value = values.get(form_field.name)
        if value is None or value is False or value == "":
            continue
        posted = "on" if value is True else str(value)
        hidden.append(
            f'<input type="hidden" name="{escape(form_field.name)}" value="{escape(posted)}">\n'
        )
        if form_field.type == "hidden":
            continue
        shown = messages("yes") if value is True else str(value)
        summary.append(f"<dt>{escape(label_of(form_field))}</dt><dd>{escape(shown)}</dd>\n")
    button = form.submit_label or messages("confirm_button")
    notice = f"<p><strong>{escape(messages('confirm_again'))}</strong></p>\n" if again else ""
    body = (
        f"{notice}<p>{escape(messages('confirm_intro'))}</p>\n"
        f"<dl>\n{''.join(summary)}</dl>\n"
        f'<form method="post" action="{escape(action)}">\n{"".join(hidden)}'
        f'<input type="hidden" name="{TOKEN_FIELD}" value="{escape(token)}">\n'
        f'<button type="submit">{escape(button)}</button>\n'
        "</form>\n"
    )
    return _page(messages.language, messages("confirm_title"), body)

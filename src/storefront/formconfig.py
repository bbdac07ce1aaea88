"""The forms declared in ``storefront.yaml`` and the settings of their endpoint.

Part of the config (stage 1): frozen dataclasses checked by :mod:`storefront.schema`. The theme
renders forms from these definitions and the endpoint (:mod:`storefront.forms`) validates against
the very same ones, so the two can never disagree. Pure, but for resolving the database's path
against the site's folders (:func:`database_place_problem`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from storefront.schema import field_doc
from storefront.values import ascii_domain, parse_base_url, parse_email, parse_site_path

FieldType = Literal["text", "email", "tel", "textarea", "number", "checkbox", "select", "hidden"]

#: Names the endpoint itself uses in every form; a declared field may not take them.
HONEYPOT_FIELD = "website"
TOKEN_FIELD = "_ts"  # noqa: S105 - a form field name, not a secret
RESERVED_FIELD_NAMES = frozenset({HONEYPOT_FIELD, TOKEN_FIELD})


@dataclass(frozen=True)
class FormField:
    name: str = field(metadata=field_doc("field name in the submission, e.g. email"))
    type: FieldType = field(default="text", metadata=field_doc("input type"))
    label: str = field(default="", metadata=field_doc("label shown next to the field"))
    required: bool = field(default=False, metadata=field_doc("must be filled in"))
    max_length: int = field(default=500, metadata=field_doc("longest accepted value, in characters"))
    choices: tuple[str, ...] = field(default=(), metadata=field_doc("allowed values (select)"))
    consent: bool = field(default=False, metadata=field_doc("this checkbox is the privacy consent"))
    help: str = field(default="", metadata=field_doc("short help text under the field"))
    min_value: int | None = field(
        default=None, metadata=field_doc("smallest accepted number (number fields)", key="min")
    )
    max_value: int | None = field(
        default=None, metadata=field_doc("largest accepted number (number fields)", key="max")
    )

    def __post_init__(self) -> None:
        if self.name in RESERVED_FIELD_NAMES or self.name.startswith("_"):
            raise ValueError(f'form field name "{self.name}" is reserved; choose another name')
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(
                f'form field name "{self.name}" must use lowercase letters, digits and _'
            )
        if self.consent and self.type != "checkbox":
            raise ValueError(f'form field "{self.name}": "consent" applies to a checkbox, the box '
                             f"a visitor ticks to give consent; remove consent: true from this "
                             f"{self.type} field, or make it type: checkbox")
        if self.type == "select" and not self.choices:
            raise ValueError(f'form field "{self.name}" is a select but has no "choices"')
        if self.type != "number" and (self.min_value is not None or self.max_value is not None):
            raise ValueError(f'form field "{self.name}": "min" and "max" apply to number fields')
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValueError(f'form field "{self.name}": "min" is larger than "max"')


def parse_notify(text: str) -> str:
    """The address that gets each submission: an e-mail address, or "" for nobody."""
    return parse_email(text) if text.strip() else ""


@dataclass(frozen=True)
class FormDefinition:
    fields: tuple[FormField, ...] = field(metadata=field_doc("the fields, in order"))
    title: str = field(default="", metadata=field_doc("heading shown above the form"))
    submit_label: str = field(default="", metadata=field_doc("text of the send button"))
    success_page: str = field(
        default="/", metadata=field_doc("where to go after sending", parse=parse_site_path)
    )
    notify: str = field(default="", metadata=field_doc(
        "e-mail address that gets each submission", parse=parse_notify,
        hint="write one address, such as ordini@negozio.it, or remove the line to get no e-mail"))
    consent_text: str = field(default="", metadata=field_doc("the consent sentence shown"))
    consent_version: str = field(default="", metadata=field_doc("version of the privacy text"))
    name: str = field(default="", metadata=field_doc("set from the key under forms:", internal=True))
    require_one_of: tuple[str, ...] = field(
        default=(), metadata=field_doc("at least one of these fields must be filled in")
    )

    def __post_init__(self) -> None:
        names = {f.name for f in self.fields}
        unknown = [n for n in self.require_one_of if n not in names]
        if unknown:
            raise ValueError(f'"require_one_of" names fields the form does not have: {unknown}')

    @property
    def consent_field(self) -> FormField | None:
        return next((f for f in self.fields if f.consent), None)


def _escaped(text: str) -> str:
    """``text`` with its line breaks and other invisible characters written as escapes (\\n),
    so a message can show it on one line."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode()
                   for ch in text)


#: ``Forno Rossi <ciao@forno.it>``: a name, then the address in angle brackets
_NAMED_ADDRESS = re.compile(r"(?P<name>[^<>]*?)\s*<(?P<address>[^<>]*)>")


def _read_mailbox(text: str) -> tuple[str, str, str]:
    """(the name or "", the address, the address as written) of an address the mails carry in
    a header: checked with :func:`~storefront.values.parse_email`, then as the mails' headers
    read it. A domain in Unicode (caffè.it) is given in its ASCII form (xn--caff-8oa.it), which
    every mail server takes. Refused: a line break (it would reach every mail's headers) and
    letters other than ASCII before the "@" (the mails cannot carry them: most servers refuse
    them)."""
    shown = _escaped(text)
    if "".join(text.splitlines()) != text:
        raise ValueError(f"must be one address on one line: a line break would reach the "
                         f'headers of every mail, got "{shown}"')
    value = text.strip()
    named = _NAMED_ADDRESS.fullmatch(value)
    name, address = (named["name"].strip(), named["address"].strip()) if named else ("", value)
    if len(name) >= 2 and name[0] == name[-1] == '"':  # "Rossi, Forno" <ciao@forno.it>
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    try:
        parse_email(address)
    except ValueError:
        raise ValueError(f'must be an e-mail address such as ciao@negozio.it, got "{shown}"'
                         ) from None
    written = address
    local, _, domain = address.partition("@")
    if not local.isascii():
        raise ValueError(f'must have only plain letters, digits and signs such as . - _ before '
                         f'the "@" (most mail servers refuse accented letters there), got "{shown}"')
    if not domain.isascii():
        domain = ascii_domain(domain) or ""
        if not domain:
            raise ValueError(f'must have a domain name that mail can be sent to, got "{shown}"')
    address = f"{local}@{domain}"
    # as the mails' headers read an address written plainly: "ciao@forno.it(x)" or a>b@forno.it
    # are none (the grammar's dot-atoms, RFC 5322 3.4.1; the email package's parser took a
    # tenth of a build's start to import)
    if _PLAIN_ADDRESS.fullmatch(address) is None or "=?" in address:
        raise ValueError(f'must be an e-mail address such as ciao@negozio.it, got "{shown}"')
    return name, address, written


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def parse_sender(text: str) -> str:
    """``smtp.sender``: the From: of the notifications, an address alone or with a name
    (``Forno Rossi <ciao@forno.it>``), written as the From: header is (the name in quotes when
    it holds a comma); "" for none (a notification then comes from its recipient)."""
    if not text.strip():
        return ""
    name, address, _written = _read_mailbox(text)
    if not name:
        return address
    import email.policy  # only for a sender with a name
    from email.headerregistry import Address

    sender = str(Address(display_name=name, addr_spec=address))
    header = email.policy.SMTP.header_factory("From", sender)  # as the notifications read it
    read = [(a.display_name, a.addr_spec) for a in header.addresses]
    # no tab, and no "=?": the From: header decodes an encoded word, which may hide a line break
    if not name.isprintable() or "=?" in name or header.defects or read != [(name, address)]:
        raise ValueError(f'must be an e-mail address, or a name and the address such as '
                         f'Forno Rossi <ciao@negozio.it>, got "{_escaped(text)}"')
    return sender


def parse_mail_address(text: str) -> str:
    """An address alone, for the newsletter's sender, Reply-To and unsubscribe address, which
    storefront puts in headers and a mailto: link itself (the newsletter's From: names the
    shop); "" for none."""
    if not text.strip():
        return ""
    name, address, written = _read_mailbox(text)
    if name:
        raise ValueError(f'must be the address alone, {written}, without a name, got '
                         f'"{_escaped(text)}"')
    return address


@dataclass(frozen=True)
class SmtpSettings:
    host: str = field(default="localhost", metadata=field_doc("SMTP server"))
    port: int = field(default=587, metadata=field_doc("SMTP port"))
    security: Literal["starttls", "ssl", "none"] = field(
        default="starttls", metadata=field_doc("starttls, ssl or none")
    )
    sender: str = field(default="", metadata=field_doc(
        "From: address of notifications", parse=parse_sender,
        hint="write the address mails are sent from, such as sito@negozio.it, or a name and the "
             "address: Forno Rossi <sito@negozio.it>"))
    timeout: float = field(default=10.0, metadata=field_doc("seconds to wait for the server"))

    @property
    def sender_address(self) -> str:
        """The address of ``sender``, without its name ("" without a sender)."""
        from email.utils import parseaddr

        return parseaddr(self.sender)[1] if self.sender else ""


def is_postgres_url(setting: str) -> bool:
    """Whether ``form_endpoint.database`` names a PostgreSQL server rather than a SQLite file."""
    return setting.startswith(("postgresql://", "postgres://"))


def parse_database(text: str) -> str:
    """A SQLite file path, or a ``postgresql://`` URL that carries no password.

    ``storefront.yaml`` is committed: the password comes from the environment or libpq's
    password/service files. The URL is never repeated in a message (it may hold the password).
    """
    value = text.strip()
    if not value:
        raise ValueError("is empty")
    if not is_postgres_url(value):
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
            raise ValueError("must be a file path or a postgresql:// URL")
        return value
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        raise ValueError("is not a valid postgresql:// URL") from None
    if password or "password" in parse_qs(parts.query):
        raise ValueError("must not contain the database password: storefront.yaml is committed")
    return value


#: The site's folders whose files storefront publishes, serves or deletes, and what becomes of a
#: database inside them.
PUBLISHED_FOLDERS = {
    "output": "the output folder output/, which is uploaded with the site: every submission "
              "would be public",
    "content": "content/, whose files are published with the site: every submission would be "
               "public",
    "themes": "themes/, whose static files are published with the site: every submission would "
              "be public",
    ".storefront-preview": "the preview folder .storefront-preview/, which the preview serves "
                           "and storefront clean deletes",
}
DATABASE_PLACE_HINT = ("keep the submissions outside the site's published folders, for example "
                       "database: data/forms.sqlite3 (the default); move the file there (with its "
                       "-wal and -shm files) while the endpoint is stopped")


def database_place_problem(setting: str, root: Path, output: Path | None = None) -> str | None:
    """Why the SQLite file ``setting`` (relative to the site folder ``root``) cannot hold the
    submissions, or None: it lies in a folder storefront publishes (:data:`PUBLISHED_FOLDERS`,
    or ``output``, a build's own output folder), where every lead would go public or be
    deleted. Links are followed, as the database and the builder follow them."""
    if is_postgres_url(setting):
        return None
    path = Path(setting)
    target = (path if path.is_absolute() else root / path).resolve()
    folders = [(root / name, why) for name, why in PUBLISHED_FOLDERS.items()]
    if output is not None:
        folders.append((output, f"the output folder {output}, which is uploaded with the site: "
                        "every submission would be public"))
    for folder, why in folders:
        real = folder.resolve()
        if target == real or real in target.parents:
            return f'form_endpoint.database "{setting}" is inside {why}'
    return None


def parse_endpoint_url(text: str) -> str:
    """A path of the site (``/api/forms/``), or the endpoint's own address, whose host and
    port are checked as ``base_url``'s are (``https://[::1/`` or a port above 65535 is none).

    The path goes as it is into every form's ``action``. One that starts with ``//`` (or
    ``/\\``: browsers read a backslash as "/") names another host; one with a space, a
    backslash, ``?`` or ``#`` is a typo (the form's name would go after a ``?`` or ``#``)."""
    if text.startswith(("http://", "https://")):
        return parse_base_url(text)
    path = parse_site_path(text)
    if re.match(r"[/\\]{2}", path):
        rest = re.sub(r"\\", "/", path).lstrip("/")
        if "." in rest.split("/")[0]:  # //forms.example.com/x: another host, its scheme left out
            raise ValueError(f'must start with https:// for an endpoint on another host, like '
                             f'https://{rest} (a browser reads "//" as the start of a host\'s '
                             f'address), got "{text}"')
        raise ValueError(f'must be a path that starts with one "/", like /{rest} (a browser '
                         f'reads "//" as the start of another host\'s address), got "{text}"')
    if re.search(r"[\s\\?#]", path):
        raise ValueError(f'must be a path without spaces, "\\", "?" or "#", such as /api/forms/, '
                         f'got "{text}"')
    return path


#: an address written without its scheme: a host, maybe a port and a path (www.forno.it:8443/)
_BARE_ADDRESS = re.compile(r"[\w-]+(\.[\w-]+)*(:\d+)?(/\S*)?")


def parse_origin(text: str) -> str:
    """Another address whose pages post forms: an http(s) URL checked as ``base_url`` is
    (``www.forno.it`` without https:// matched no browser's Origin: forms from there failed)."""
    value = text.strip()
    if "://" in value:
        return parse_base_url(value)
    address = value.lstrip("/")
    if not _BARE_ADDRESS.fullmatch(address):
        raise ValueError(f'must be an address that starts with https://, such as '
                         f'https://www.example.com, got "{text}"')
    local = address.split("/")[0].split(":")[0] in ("localhost", "127.0.0.1")  # the preview
    scheme = "http" if local else "https"
    raise ValueError(f'must start with {scheme}://, like {scheme}://{address}, got "{text}"')


DATABASE_HINT = ("a file such as data/forms.sqlite3, or postgresql://USER@HOST/DBNAME with the "
                 "password in PGPASSWORD, STOREFRONT_DATABASE_PASSWORD or ~/.pgpass")


@dataclass(frozen=True)
class FormEndpoint:
    url: str = field(
        default="/api/forms/",
        metadata=field_doc("public base URL of form actions", parse=parse_endpoint_url,
                           hint="a path of the site such as /api/forms/, or the endpoint's "
                                "address such as https://forms.example.com/api/forms/"),
    )
    database: str = field(
        default="data/forms.sqlite3",
        metadata=field_doc("SQLite file, or a postgresql:// URL without the password",
                           parse=parse_database, hint=DATABASE_HINT),
    )
    max_body_bytes: int = field(default=32768, metadata=field_doc("largest accepted request body"))
    min_fill_seconds: float = field(default=3.0, metadata=field_doc("faster submissions are spam"))
    rate_limit: int = field(default=10, metadata=field_doc("submissions per IP per window"))
    rate_window_seconds: int = field(default=600, metadata=field_doc("rate-limit window"))
    allowed_origins: tuple[str, ...] = field(
        default=(), metadata=field_doc(
            "extra origins allowed besides base_url", parse=parse_origin,
            hint="write each address as the browser's address bar shows it, such as "
                 "https://www.example.com")
    )
    smtp: SmtpSettings = field(default_factory=SmtpSettings, metadata=field_doc("outgoing mail"))


@dataclass(frozen=True)
class NewsletterSettings:
    """The owner's mailing list: which form signs people up, and how issues are sent."""

    form: str = field(default="", metadata=field_doc("the sign-up form (\"\" = no newsletter)"))
    name: str = field(default="", metadata=field_doc("name of the list shown in mails"))
    sender: str = field(default="", metadata=field_doc(
        "From: address of the newsletter", parse=parse_mail_address,
        hint="write one address, such as lettera@negozio.it; the newsletter's mails show the "
             "shop's name (business.name) as the sender's name"))
    reply_to: str = field(default="", metadata=field_doc(
        "where replies to an issue go", parse=parse_mail_address,
        hint="write one address, such as info@negozio.it, or remove the line: replies then go "
             "to the sender"))
    unsubscribe_mailto: str = field(default="", metadata=field_doc(
        "address for unsubscribe requests by mail", parse=parse_mail_address,
        hint="write one address, such as info@negozio.it, or remove the line: requests then go "
             "to reply_to, else to the sender"))
    confirm_days: int = field(
        default=7, metadata=field_doc("days a confirmation link stays valid", minimum=1))
    rate_limit: int = field(
        default=0, metadata=field_doc("messages per hour at most (0 = no limit)", minimum=0))
    pending_page: str = field(
        default="", metadata=field_doc("page shown after signing up (check your mail)",
                                       parse=parse_site_path))

    @property
    def enabled(self) -> bool:
        return bool(self.form)

"""Compose the owner's notification e-mail and talk to the SMTP server.

The message is built with :class:`email.message.EmailMessage` under the SMTP policy, which refuses
CR or LF in any header; on top of that every visitor-supplied text that goes into a header (the
subject, the Reply-To display name) is flattened to one line of printable characters first, so no
field can add a header, and the display name loses ``< > @ " ,`` so it cannot pose as an
address. The visitor's address goes into ``Reply-To`` only after it passed the e-mail syntax
check, and only as an ``Address`` object. Credentials come from the environment
(``STOREFRONT_SMTP_USER`` / ``STOREFRONT_SMTP_PASSWORD``), never from the committed config, and
are never sent over an unencrypted connection to another machine.
"""

from __future__ import annotations

import email.policy
import os
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from storefront.config import SiteConfig
from storefront.formconfig import FormDefinition, SmtpSettings
from storefront.forms.messages import Messages
from storefront.forms.storage import StoredSubmission
from storefront.forms.validation import is_email

USER_ENV = "STOREFRONT_SMTP_USER"
PASSWORD_ENV = "STOREFRONT_SMTP_PASSWORD"  # noqa: S105 - the name of a variable, not a password

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class MailError(Exception):
    """The mail could not be handed to the SMTP server."""


@dataclass(frozen=True)
class SmtpCredentials:
    user: str
    password: str

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"SmtpCredentials(user={self.user!r}, password=***)"


def credentials_from_env(environ: Mapping[str, str] | None = None) -> SmtpCredentials | None:
    env = os.environ if environ is None else environ
    user = env.get(USER_ENV, "")
    return SmtpCredentials(user, env.get(PASSWORD_ENV, "")) if user else None


def header_text(value: object, limit: int = 120) -> str:
    """One line of printable text for a header: control and line-separator characters removed.

    ``=?`` is broken up too: the email package decodes RFC 2047 encoded words found in a header
    value it is given, so ``=?utf-8?q?x=0D=0ABcc:...?=`` would otherwise become a real line break
    when the message is serialised.
    """
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    text = " ".join(text.split()).replace("=?", "= ?")
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ADDRESS_SYNTAX = str.maketrans({ch: " " for ch in '<>@",'})


def display_name(value: object) -> str:
    """A visitor's name for the Reply-To display: one printable line without the characters that
    make a name look like an address or a list of them (``<``, ``>``, ``@``, ``"``, ``,``)."""
    return " ".join(header_text(value, 200).translate(_ADDRESS_SYNTAX).split())[:78]


def compose_notification(
    submission: StoredSubmission, recipient: str, form: FormDefinition | None, *,
    site_title: str, sender: str, messages: Messages, timezone: str = "UTC",
) -> EmailMessage:
    """The notification for one submission (plain text, UTF-8)."""
    labels = {f.name: (f.label or f.name) for f in form.fields} if form else {}
    title = (form.title if form else "") or submission.form
    data = submission.data
    reply_to = next(
        (str(v) for k, v in data.items() if _is_email_field(form, k) and is_email(str(v))), ""
    )
    who = str(data.get("name") or reply_to or "?")

    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = header_text(messages("mail_subject", title=title, sender=header_text(who)))
    message["From"] = sender or recipient
    message["To"] = recipient
    if reply_to:
        local, _, domain = reply_to.partition("@")
        display = display_name(data.get("name") or "")
        message["Reply-To"] = Address(display_name=display, username=local, domain=domain)
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid("storefront-forms")
    message["Auto-Submitted"] = "auto-generated"

    lines = [messages("mail_intro", title=title, site=site_title), ""]
    for name, value in data.items():
        if isinstance(value, bool):
            shown = messages("yes") if value else messages("no")
        elif value is None or value == "":
            continue
        else:
            shown = str(value)
        label = labels.get(name, name)
        if "\n" in shown:
            lines.append(f"{label}:")
            lines.extend("    " + line for line in shown.split("\n"))
        else:
            lines.append(f"{label}: {shown}")
    lines.append("")
    lines.append(messages("mail_received", date=_local_time(submission.created_at, timezone),
                          id=submission.id))
    if submission.consent_version or submission.consent_text:
        lines.append(messages("mail_consent", version=submission.consent_version or "-"))
        if submission.consent_text:
            lines.append(messages("mail_consent_text", text=submission.consent_text))
    if reply_to:
        lines.extend(["", messages("mail_reply")])
    message.set_content("\n".join(lines) + "\n", charset="utf-8")
    check_headers(message)
    return message


EXPECTED_HEADERS = frozenset({
    "subject", "from", "to", "reply-to", "date", "message-id", "auto-submitted",
    "content-type", "content-transfer-encoding", "mime-version",
})


def check_headers(message: EmailMessage | bytes,
                  expected: frozenset[str] = EXPECTED_HEADERS) -> None:
    """Re-read the serialised headers: refuse the message if any header appeared that we did not
    set (the last line of defence against header injection)."""
    data = message if isinstance(message, bytes) else message.as_bytes()
    parsed = BytesHeaderParser(policy=email.policy.SMTP).parsebytes(data, headersonly=True)
    names = [name.lower() for name in parsed]
    if not set(names) <= expected or len(names) != len(set(names)):
        raise ValueError(f"refusing a mail with unexpected headers: {sorted(names)}")


@dataclass(frozen=True)
class SerializedMail:
    """A message already turned into bytes (and checked), with its envelope: sent as it is."""

    sender: str
    recipient: str
    data: bytes


def mailbox(name: str, address: str) -> Address | str:
    """``"Name" <address>`` for a From header, the name made safe (:func:`display_name`)."""
    local, at, domain = address.partition("@")
    shown = display_name(name)
    if not at or not shown:
        return address
    return Address(display_name=shown, username=local, domain=domain)


def _is_email_field(form: FormDefinition | None, name: str) -> bool:
    if form is None:
        return name == "email"
    return any(f.name == name and f.type == "email" for f in form.fields)


def _local_time(created_at: str, timezone: str) -> str:
    try:
        moment = datetime.fromisoformat(created_at).astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError):
        return created_at
    return moment.strftime("%Y-%m-%d %H:%M %Z")


class Mailer:
    """Open SMTP sessions as configured: implicit TLS, STARTTLS or (on loopback only) plain."""

    def __init__(
        self, settings: SmtpSettings, credentials: SmtpCredentials | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.ssl_context = ssl_context

    @contextmanager
    def session(self) -> Iterator[smtplib.SMTP]:
        """A logged-in SMTP connection; raise :class:`MailError` if one cannot be opened."""
        s = self.settings
        if self.credentials is not None and s.security == "none" and s.host not in _LOOPBACK:
            raise MailError(
                "refusing to send the SMTP password unencrypted; set smtp.security to starttls "
                "or ssl"
            )
        context = self.ssl_context or ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        try:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if self.credentials is not None:
                smtp.login(self.credentials.user, self.credentials.password)
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise MailError(f"SMTP session with {s.host}:{s.port} failed: {exc}") from exc
        except BaseException:
            smtp.close()
            raise
        try:
            yield smtp
        except BaseException:
            smtp.close()  # broken off mid-conversation (a timeout, Ctrl-C): no QUIT to wait for
            raise
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def make_composer(config: SiteConfig) -> Callable[[StoredSubmission, str], EmailMessage]:
    """Bind :func:`compose_notification` to a site's forms, title, sender and language."""
    messages = Messages(config.language)
    site_title = config.business_name

    def compose(submission: StoredSubmission, recipient: str) -> EmailMessage:
        return compose_notification(
            submission, recipient, config.forms.get(submission.form), site_title=site_title,
            sender=config.form_endpoint.smtp.sender, messages=messages,
            timezone=config.timezone,
        )

    return compose

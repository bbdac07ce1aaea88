"""The confirmation mail of a newsletter sign-up, and the composer of the endpoint's outbox.

The confirmation mail is plain text and carries nothing but the request to confirm: who asked
(the shop, the list), the signed link, until when it works, what happens if the reader ignores
it, and the shop's name and address. No offers, no pictures, no other links (the Italian data
protection authority does not allow the confirmation mail to advertise).

:func:`make_outbox_composer` turns an outbox entry of the endpoint's kinds (``notification``,
``confirmation``) into its message, reading what it needs from the database at sending time: a
sign-up that is no longer pending (confirmed meanwhile, unsubscribed, forgotten) gets no mail.
"""

from __future__ import annotations

import email.policy
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as format_datetime_local

from storefront.config import SiteConfig
from storefront.forms.database import Connection
from storefront.forms.links import LinkSigner, link_url
from storefront.forms.mailer import check_headers, header_text, mailbox, make_composer
from storefront.forms.messages import Messages
from storefront.forms.outbox import Compose, OutboxEntry
from storefront.forms.storage import fetch_submission
from storefront.forms.subscribers import Subscriber, fetch_subscriber


def list_name(config: SiteConfig) -> str:
    """How the list is called in mails: ``newsletter.name``, else the form's title, else the
    shop's name."""
    settings = config.newsletter
    form = config.forms.get(settings.form)
    return settings.name or (form.title if form else "") or config.business_name


def shop_lines(config: SiteConfig) -> list[str]:
    """The shop's name and postal address, as a sender must give them."""
    business = config.business
    address = business.address
    place = " ".join(part for part in (address.postal_code, address.city) if part)
    if address.region:
        place += f" ({address.region})"
    lines = [business.legal_name or business.name or config.title, address.street, place.strip()]
    return [line for line in lines if line]


def newsletter_sender(config: SiteConfig) -> str:
    """The newsletter's address: ``newsletter.sender``, else the address of ``smtp.sender``
    (without the name it may carry: the newsletter's mails name the shop)."""
    return config.newsletter.sender or config.form_endpoint.smtp.sender_address


def unsubscribe_mailto(config: SiteConfig) -> str:
    """Where unsubscribe requests by mail go: ``newsletter.unsubscribe_mailto``, else the
    reply-to, the sender, or the shop's public address."""
    settings = config.newsletter
    return (settings.unsubscribe_mailto or settings.reply_to or newsletter_sender(config)
            or config.business.email)


def compose_confirmation(subscriber: Subscriber, config: SiteConfig,
                         signer: LinkSigner) -> EmailMessage:
    """The confirmation mail for a pending sign-up (plain text, UTF-8)."""
    messages = Messages(config.language)
    name = list_name(config)
    site = config.business_name
    issued = int(datetime.fromisoformat(subscriber.signed_up_at).timestamp())
    token = signer.confirm_token(subscriber.id, subscriber.email, subscriber.confirm_nonce, issued)
    url = link_url(config, config.newsletter.form, "confirm", token)
    expires = datetime.fromtimestamp(issued, ZoneInfo(config.timezone)) + timedelta(
        days=config.newsletter.confirm_days)
    until = format_datetime_local(expires, "long", tzinfo=expires.tzinfo,
                                  locale=config.effective_locale)

    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = header_text(messages("nl_subject", list=name))
    message["From"] = mailbox(site, newsletter_sender(config))
    message["To"] = subscriber.email
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid("storefront-confirm", _domain(newsletter_sender(config)))
    message["Auto-Submitted"] = "auto-generated"
    lines = [
        messages("nl_hello"), "", messages("nl_asked", list=name, site=site), "",
        messages("nl_open"), url, "", messages("nl_until", date=until), "",
        messages("nl_ignore"), "", "-- ", *shop_lines(config),
    ]
    message.set_content("\n".join(lines) + "\n", charset="utf-8")
    check_headers(message)
    return message


def make_outbox_composer(config: SiteConfig, signer: LinkSigner) -> Compose:
    """Compose the endpoint's outbox entries: notifications and sign-up confirmations."""
    notification = make_composer(config)

    def compose(conn: Connection, entry: OutboxEntry) -> EmailMessage | None:
        if entry.kind == "confirmation" and entry.subscriber_id is not None:
            subscriber = fetch_subscriber(conn, entry.subscriber_id)
            if subscriber is None or subscriber.status != "pending":
                return None
            return compose_confirmation(subscriber, config, signer)
        if entry.kind == "notification" and entry.submission_id is not None:
            submission = fetch_submission(conn, entry.submission_id)
            return None if submission is None else notification(submission, entry.recipient)
        return None

    return compose


def _domain(address: str) -> str | None:
    return address.rpartition("@")[2] or None

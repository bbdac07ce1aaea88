"""The endpoint's newsletter links: confirm a sign-up, unsubscribe (RFC 8058 one-click too).

``GET <url><form>/confirm?t=TOKEN`` shows a page with a "Confirm" button; only the ``POST`` that
button sends confirms (mail scanners follow links, they do not press buttons), then the visitor
goes to the form's thank-you page. Without a token the same URL says "check your mailbox": it is
where a sign-up lands when ``newsletter.pending_page`` is not set.

``GET <url><form>/unsubscribe?t=TOKEN`` shows a page with an "Unsubscribe" button;
``POST`` to the same URL unsubscribes, whether from that button or from a mail client's
one-click request (body ``List-Unsubscribe=One-Click``, no cookie, no Origin: the signed token
in the URL is the authority). The answer is a page, never a redirect (RFC 8058 §3.2), and every
request is idempotent: a second press answers the same.

These routes skip the Origin check on purpose (a mail client's POST has no Origin); what they
change is bound to the signed token, which only the subscriber's mailbox has seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from storefront.config import SiteConfig
from storefront.formconfig import FormDefinition
from storefront.forms.confirmation import list_name, unsubscribe_mailto
from storefront.forms.database import Connection, Database
from storefront.forms.links import LinkSigner, LinkToken, parse_token
from storefront.forms.messages import Messages
from storefront.forms.origin import OriginCheck, success_url
from storefront.forms.pages import button_page, message_page, notice_page
from storefront.forms.request import BadRequest, BodyTooLarge, parse_form, read_body
from storefront.forms.responses import Response, html_response, json_response, wants_json
from storefront.forms.spam import hash_ip
from storefront.forms.subscribers import (
    Subscriber,
    confirm_subscriber,
    fetch_subscriber,
    unsubscribe,
)

ONE_CLICK = "One-Click"


class SubscriptionRoutes:
    """Answer ``confirm`` and ``unsubscribe`` requests of the newsletter form."""

    def __init__(self, config: SiteConfig, database: Database, signer: LinkSigner, ip_salt: bytes,
                 clock: Callable[[], float], form_action_sources: str) -> None:
        self.config = config
        self.database = database
        self.signer = signer
        self.ip_salt = ip_salt
        self.clock = clock
        self.messages = Messages(config.language)
        self.list = list_name(config)
        self.sources = form_action_sources
        self.home = config.base_url or "/"

    def handle(self, environ: Mapping[str, Any], form: FormDefinition, action: str) -> Response:
        method = str(environ.get("REQUEST_METHOD") or "")
        if method not in ("GET", "HEAD", "POST"):
            response = self._page(405, self.messages("error_title"), self.messages("method"))
            response.headers.append(("Allow", "GET, POST"))
            return response
        fields: dict[str, list[str]] = {}
        if method == "POST":
            try:
                body = read_body(environ, self.config.form_endpoint.max_body_bytes)
                fields = parse_form(str(environ.get("CONTENT_TYPE") or ""), body)
            except (BadRequest, BodyTooLarge):
                fields = {}  # the token is in the URL; a body we cannot read changes nothing
        try:
            query = parse_qs(str(environ.get("QUERY_STRING") or ""), max_num_fields=20)
        except ValueError:  # more fields than any link of ours has
            return self._page(400, self.messages("error_title"), self.messages("link_invalid"))
        raw = (query.get("t") or fields.get("t") or [""])[0]
        with self.database.session() as conn:
            if action == "confirm":
                return self._confirm(environ, conn, form, raw, method == "POST")
            one_click = ONE_CLICK in fields.get("List-Unsubscribe", [])
            return self._unsubscribe(conn, raw, method == "POST", one_click)

    # -- confirm -------------------------------------------------------------------------------

    def _confirm(self, environ: Mapping[str, Any], conn: Connection,
                 form: FormDefinition, raw: str, post: bool) -> Response:
        m = self.messages
        if not raw and not post:
            return self._page(200, m("check_mail_title"), m("check_mail_text"))
        token = parse_token(raw)
        if token is None:
            return self._page(400, m("error_title"), m("link_invalid"))
        subscriber = fetch_subscriber(conn, token.subscriber_id)
        if subscriber is None or not self._confirmable(token, subscriber):
            return self._page(410, m("error_title"), m("link_expired"))
        if not post:
            return self._buttons(m("confirm_sub_title"), m("confirm_sub_text", list=self.list),
                                 m("confirm_sub_button"), raw)
        ip_hash = hash_ip(self.ip_salt, str(environ.get("REMOTE_ADDR") or ""))
        outcome = confirm_subscriber(conn, subscriber.id, subscriber.confirm_nonce,
                                     datetime.fromtimestamp(self.clock(), UTC), ip_hash)
        if outcome == "gone":
            return self._page(410, m("error_title"), m("link_expired"))
        target = success_url(form.success_page, self.config.base_url, OriginCheck(True, None),
                             False)
        if wants_json(environ):
            return json_response(200, {"ok": True, "redirect": target})
        return Response(303, b"", [("Location", target)])

    def _confirmable(self, token: LinkToken, subscriber: Subscriber) -> bool:
        """Signed for this sign-up (its nonce) and not expired."""
        if subscriber.status == "unsubscribed" or not subscriber.confirm_nonce:
            return False
        if not self.signer.valid("confirm", token, subscriber.email, subscriber.confirm_nonce):
            return False
        days = self.config.newsletter.confirm_days
        return 0 <= self.clock() - token.issued <= days * 86400

    # -- unsubscribe ---------------------------------------------------------------------------

    def _unsubscribe(self, conn: Connection, raw: str, post: bool,
                     one_click: bool) -> Response:
        m = self.messages
        token = parse_token(raw)
        if token is None:
            return self._page(400, m("error_title"), m("link_invalid"))
        subscriber = fetch_subscriber(conn, token.subscriber_id)
        done = self._page(200, m("unsub_done_title"), m("unsub_done", list=self.list))
        if subscriber is None:
            # erased (ids are never reused), and erasure keeps nothing that ties the id to the
            # address: the address may have signed up again since, under a new id, so saying
            # "unsubscribed" could be false; say what is true and how to unsubscribe
            return self._page(410, m("error_title"), m("unsub_gone", list=self.list,
                                                        mailto=unsubscribe_mailto(self.config)))
        if not self.signer.valid("unsubscribe", token, subscriber.email):
            return self._page(400, m("error_title"), m("link_invalid"))
        if not post:
            if subscriber.status == "unsubscribed":
                return done
            return self._buttons(m("unsub_title"), m("unsub_text", list=self.list),
                                 m("unsub_button"), raw)
        unsubscribe(conn, subscriber.id, datetime.fromtimestamp(self.clock(), UTC),
                    "one-click" if one_click else "page")
        return done

    # -- pages ---------------------------------------------------------------------------------

    def _page(self, status: int, title: str, text: str) -> Response:
        if status >= 400:
            return html_response(status, message_page(self.messages, text, self.home),
                                 self.sources)
        return html_response(status, notice_page(self.messages, title, text, self.home),
                             self.sources)

    def _buttons(self, title: str, text: str, button: str, token: str) -> Response:
        return html_response(200, button_page(self.messages, title, text, button, token),
                             self.sources)

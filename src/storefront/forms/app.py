"""The form endpoint as a WSGI application.

``POST {form_endpoint.url}<name>`` goes through: route → method (405) → Origin/Referer (403) →
size limit (413) → decode (400) → honeypot → validation (422) → signed fill-time token (confirm
page / 422) → per-IP rate limit (429) → group-committed store (503 if the disk says no) → 303 to
the thank-you page, or JSON when the request asks for ``application/json``. A token is used
once; the same values sent again with it shortly after (a double-click on a page without
JavaScript) get the same success answer and are not stored twice, while other values with a
used token get the confirm page (nothing lost).
``POST {url}<name>/token`` returns ``{"token": ...}`` for the theme's script; ``GET {url}_health``
answers a load balancer (:mod:`storefront.forms.health`). A success response is
only sent after the submission's transaction has committed. No response ever contains a visitor's
input except the confirm page's escaped hidden inputs. The app owns two threads (the writer and
the outbox sender), started on first use and stopped by :meth:`FormsApp.close`.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from storefront.config import SiteConfig
from storefront.formconfig import TOKEN_FIELD, FormDefinition
from storefront.forms.backends import open_database
from storefront.forms.confirmation import make_outbox_composer
from storefront.forms.health import HEALTH_ROUTE, health_response
from storefront.forms.links import LinkSigner, endpoint_base
from storefront.forms.mailer import Mailer, credentials_from_env
from storefront.forms.messages import Messages
from storefront.forms.origin import OriginCheck, OriginPolicy, cors_headers, success_url
from storefront.forms.outbox import (
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    DeliveryReport,
    MailTransport,
    deliver_outbox,
)
from storefront.forms.outbox_worker import OutboxWorker
from storefront.forms.pages import confirm_page, message_page, problems_page
from storefront.forms.request import BadRequest, BodyTooLarge, parse_form, read_body
from storefront.forms.responses import (
    Response,
    html_response,
    json_response,
    split_route,
    wants_json,
)
from storefront.forms.spam import (
    Reservation,
    TokenSigner,
    TokenState,
    derive_key,
    hash_ip,
    honeypot_filled,
    rate_limit_key,
    resolve_secret,
)
from storefront.forms.storage import (
    NewSubmission,
    StorageError,
    TokenAlreadyUsed,
    is_repeat,
    stored_secret,
)
from storefront.forms.subscribers import Signup
from storefront.forms.subscription import SubscriptionRoutes
from storefront.forms.validation import ValidationResult, first_value, validate_submission
from storefront.forms.writer import SubmissionWriter

log = logging.getLogger("storefront.forms")


StartResponse = Callable[..., Any]

#: A used token sent again with the same values within this many seconds is the same lead.
REPEAT_SECONDS = 600.0


class FormsApp:
    """The WSGI callable. Use as a context manager, or call :meth:`close` when done."""

    def __init__(
        self, config: SiteConfig, root: Path, *, clock: Callable[[], float] = time.time,
        secret: bytes | None = None, deliver_mail: bool = True,
        transport: MailTransport | None = None, retry_base: float = RETRY_BASE_SECONDS,
        retry_cap: float = RETRY_CAP_SECONDS, outbox_poll_seconds: float = 60.0,
        max_batch: int = 256, environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        endpoint = config.form_endpoint
        self.config = config
        self.clock = clock
        self.messages = Messages(config.language)
        self.database = open_database(config, root, env)
        # create and migrate now, so a bad path or an unreachable server fails at startup
        with self.database.connect() as conn:
            key = secret or resolve_secret(lambda: stored_secret(conn), env)
        self.signer = TokenSigner(derive_key(key, "token"), clock)
        self.ip_salt = derive_key(key, "ip")
        self.limiter = self.database.rate_limiter(endpoint.rate_limit,
                                                  endpoint.rate_window_seconds, clock)
        self.origins = OriginPolicy(config.base_url, endpoint.allowed_origins, endpoint.url)
        prefix = urlsplit(endpoint.url).path or "/"
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.transport: MailTransport = transport or Mailer(
            endpoint.smtp, credentials_from_env(env)
        )
        self.links = LinkSigner(key)
        self.compose = make_outbox_composer(config, self.links)
        self.outbox: OutboxWorker | None = None
        if deliver_mail:
            self.outbox = OutboxWorker(
                self.database,
                lambda conn, sender, keep_going: deliver_outbox(
                    conn, self.transport, self.compose, clock, sender, base=retry_base,
                    cap=retry_cap, keep_going=keep_going),
                clock, poll_seconds=outbox_poll_seconds,
            )
        self.writer = SubmissionWriter(
            self.database, max_batch=max_batch,
            on_commit=self.outbox.wake if self.outbox is not None else None,
        )
        self._form_action_sources = " ".join(self.origins.form_action_sources())
        self.subscriptions = SubscriptionRoutes(config, self.database, self.links, self.ip_salt,
                                                clock, self._form_action_sources)
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the outbox sender now (it otherwise starts with the first request)."""
        if self.outbox is not None:
            self.outbox.start()

    def close(self) -> None:
        """Commit queued submissions, stop the background threads, close the database."""
        self._closed = True
        self.writer.close()
        if self.writer.batches:
            log.info("stored %d submissions in %d transactions", self.writer.stored,
                     self.writer.batches)
        if self.outbox is not None:
            self.outbox.close()
        self.database.close()

    def __enter__(self) -> FormsApp:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def deliver_now(self) -> DeliveryReport:
        """Send every pending notification now (used by tests and ``forms send``)."""
        with self.database.connect() as conn, self.database.sender() as sender:
            return deliver_outbox(conn, self.transport, self.compose, self.clock, sender,
                                  force=True)

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self.start()
        try:
            response = self.handle(environ)
        except Exception:
            log.exception("unexpected error in the form endpoint")
            response = self._problem(environ, 500, self.messages("internal"))
        phrase = HTTPStatus(response.status).phrase
        headers = [
            *response.headers,
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        start_response(f"{response.status} {phrase}", headers)
        return [response.body]

    def handle(self, environ: dict[str, Any]) -> Response:
        """Answer one request (never raises for bad input)."""
        if self._is_health_check(environ):
            return health_response(self.database, not self._closed)
        route = self._route(environ)
        if route is None:
            return self._problem(environ, 404, self.messages("not_found"))
        form, action = route
        if action in ("confirm", "unsubscribe"):
            if form.name != self.config.newsletter.form:
                return self._problem(environ, 404, self.messages("not_found"))
            return self.subscriptions.handle(environ, form, action)
        if environ.get("REQUEST_METHOD") != "POST":
            response = self._problem(environ, 405, self.messages("method"))
            response.headers.append(("Allow", "POST"))
            return response
        origin = self.origins.check(environ)
        if not origin.ok:
            site = self.config.base_url or "localhost"
            return self._problem(environ, 403, self.messages("origin", site=site))
        cors = cors_headers(environ, origin)
        try:
            body = read_body(environ, self.config.form_endpoint.max_body_bytes)
            raw = parse_form(str(environ.get("CONTENT_TYPE") or ""), body)
        except BodyTooLarge:
            kib = math.ceil(self.config.form_endpoint.max_body_bytes / 1024)
            return self._problem(environ, 413, self.messages("too_large", kib=kib), cors)
        except BadRequest:
            return self._problem(environ, 400, self.messages("bad_request"), cors)
        if action == "token":
            return json_response(200, {"token": self.signer.issue(form.name)}, cors)
        return self._submit(environ, form, raw, origin, cors)

    # -- submission ----------------------------------------------------------------------------

    def _submit(self, environ: dict[str, Any], form: FormDefinition, raw: dict[str, list[str]],
                origin: OriginCheck, cors: list[tuple[str, str]]) -> Response:
        result = validate_submission(form, raw, self.messages)
        spam = honeypot_filled(raw)
        token = ""
        if not spam:
            token = first_value(raw, TOKEN_FIELD)
            state = self.signer.check(
                form.name, token, self.config.form_endpoint.min_fill_seconds
            )
            fresh = None if state in (TokenState.OK, TokenState.TOO_FAST) else form.name
            if not result.ok:
                return self._invalid(environ, result, fresh, cors)
            if state is not TokenState.OK:
                return self._unconfirmed(environ, form, result, state, cors)
        address = str(environ.get("REMOTE_ADDR") or "")
        ip_hash = hash_ip(self.ip_salt, address)
        client = hash_ip(self.ip_salt, rate_limit_key(address))
        # counted now, before waiting for the disk, so simultaneous requests cannot all pass
        # the check; given back unless the submission is stored
        try:
            reservation = self.limiter.reserve(client)
        except StorageError:  # the shared counter's database does not answer
            return self._problem(environ, 503, self.messages("unavailable"), cors)
        if reservation.retry_after is not None:
            retry = reservation.retry_after
            minutes = max(1, math.ceil(retry / 60))
            response = self._problem(
                environ, 429, self.messages("rate_limited", minutes=minutes), cors
            )
            response.headers.append(("Retry-After", str(math.ceil(retry))))
            return response
        stored = False
        record = self._record(form, result, ip_hash, spam, token)
        try:
            self.writer.store(record)
            stored = True
        except TokenAlreadyUsed:
            if not self._repeated(record):
                return self._unconfirmed(environ, form, result, TokenState.INVALID, cors)
        except StorageError:
            return self._problem(environ, 503, self.messages("unavailable"), cors)
        finally:
            if not stored:  # only stored submissions use up the quota
                self._give_back(reservation)
        from_site = origin.origin is not None and self.origins.is_site_origin(origin.origin, environ)
        target = success_url(self._success_page(form), self.config.base_url, origin, from_site)
        if wants_json(environ):
            return json_response(200, {"ok": True, "redirect": target}, cors)
        return Response(303, b"", [("Location", target), *cors])

    def _repeated(self, record: NewSubmission) -> bool:
        """Whether a submission with a used token is its first one sent again (the same values
        within :data:`REPEAT_SECONDS`): a double-click, or a retry after a lost answer. It
        gets the first one's answer and is not stored again. Anything that differs is another
        lead, asked to confirm (never dropped)."""
        since = datetime.fromtimestamp(self.clock() - REPEAT_SECONDS, UTC)
        try:
            with self.database.session() as conn:
                return is_repeat(conn, record, since.isoformat(timespec="microseconds"))
        except StorageError:
            return False  # cannot tell: the confirm page, as for any used token

    def _give_back(self, reservation: Reservation) -> None:
        try:
            self.limiter.release(reservation)
        except StorageError as exc:  # the count stays one too high until its window ends
            log.error("cannot give back a rate-limit count: %s", exc)

    def _success_page(self, form: FormDefinition) -> str:
        """The thank-you page; for a newsletter sign-up, the "check your mail" page (the form's
        own thank-you page comes after confirming)."""
        settings = self.config.newsletter
        if form.name != settings.form:
            return form.success_page
        return settings.pending_page or f"{endpoint_base(self.config)}{form.name}/confirm"

    def _record(self, form: FormDefinition, result: ValidationResult, ip_hash: str,
                spam: bool, token: str) -> NewSubmission:
        values = result.values
        emails = [f.name for f in form.fields if f.type == "email" and f.name not in result.errors]
        email = next((str(values[name]).lower() for name in emails if values.get(name)), "")
        consent = form.consent_field
        given = consent is not None and values.get(consent.name) is True
        signup = None
        if form.name == self.config.newsletter.form and email and not spam:
            signup = Signup(form.name, email, str(values.get("name") or ""), ip_hash,
                            form.consent_text if given else "",
                            form.consent_version if given else "",
                            self.config.newsletter.confirm_days)
        return NewSubmission(
            form=form.name,
            created_at=datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="microseconds"),
            status="spam" if spam else "received",
            data=dict(values),
            email=email,
            ip_hash=ip_hash,
            consent_version=form.consent_version if given else "",
            consent_text=form.consent_text if given else "",
            notify=form.notify,
            token=token,
            token_expires=TokenSigner.expires_at(token) if token else 0.0,
            signup=signup,
        )

    def _invalid(self, environ: dict[str, Any], result: ValidationResult, fresh_for: str | None,
                 cors: list[tuple[str, str]]) -> Response:
        if wants_json(environ):
            data: dict[str, object] = {
                "ok": False, "errors": result.errors, "form_errors": result.form_errors,
            }
            if fresh_for is not None:
                data["token"] = self.signer.issue(fresh_for)
            return json_response(422, data, cors)
        problems = [m for messages in result.errors.values() for m in messages]
        page = problems_page(self.messages, [*problems, *result.form_errors],
                             self.origins.back_url(environ))
        return html_response(422, page, self._form_action_sources, cors)

    def _unconfirmed(self, environ: dict[str, Any], form: FormDefinition,
                     result: ValidationResult, state: TokenState,
                     cors: list[tuple[str, str]]) -> Response:
        """Valid data without a usable token: ask the visitor to confirm (or, with JS, resend)."""
        too_fast = state is TokenState.TOO_FAST
        if wants_json(environ):
            data: dict[str, object] = {
                "ok": False, "errors": {},
                "form_errors": [self.messages("too_fast" if too_fast else "token")],
            }
            if not too_fast:
                data["token"] = self.signer.issue(form.name)
            return json_response(422, data, cors)
        page = confirm_page(self.messages, form, result.values, self.config.form_action(form.name),
                            self.signer.issue(form.name), again=too_fast)
        return html_response(200, page, self._form_action_sources, cors)

    # -- plumbing ------------------------------------------------------------------------------

    def _is_health_check(self, environ: Mapping[str, Any]) -> bool:
        path = str(environ.get("SCRIPT_NAME") or "") + str(environ.get("PATH_INFO") or "")
        return (path.rstrip("/") == self.prefix + HEALTH_ROUTE
                and environ.get("REQUEST_METHOD") in ("GET", "HEAD"))

    def _route(self, environ: Mapping[str, Any]) -> tuple[FormDefinition, str] | None:
        route = split_route(environ, self.prefix)
        form = self.config.forms.get(route[0]) if route else None
        return (form, route[1]) if route and form is not None else None

    def _problem(self, environ: Mapping[str, Any], status: int, text: str,
                 cors: list[tuple[str, str]] | None = None) -> Response:
        if wants_json(environ):
            return json_response(status, {"ok": False, "errors": {}, "form_errors": [text]}, cors)
        back = self.origins.back_url(environ)
        return html_response(status, message_page(self.messages, text, back),
                             self._form_action_sources, cors)

def create_app(config: SiteConfig, root: Path, **options: Any) -> FormsApp:
    """Build the endpoint for the site at ``root``; see :class:`FormsApp` for the options."""
    return FormsApp(config, root, **options)

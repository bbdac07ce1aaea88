"""Notifications through a real SMTP server on loopback (aiosmtpd): content, Reply-To, header
injection, STARTTLS/SSL with credentials from the environment, and the outbox when the server is
down."""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from forms_support import (
    SECRET,
    VALID,
    FakeClock,
    MailSink,
    OffsetClock,
    SmtpServer,
    WsgiClient,
    free_port,
    make_config,
    rows,
)

from storefront.formconfig import SmtpSettings
from storefront.forms import create_app
from storefront.forms.mailer import (
    Mailer,
    MailError,
    SmtpCredentials,
    compose_notification,
    credentials_from_env,
    header_text,
)
from storefront.forms.messages import Messages
from storefront.forms.outbox import retry_delay
from storefront.forms.storage import StoredSubmission

pytestmark = pytest.mark.both_backends


def test_submission_is_mailed_to_the_owner(site_root: Path, smtp_server: SmtpServer) -> None:
    config = make_config(smtp_port=smtp_server.port)
    clock = FakeClock(time.time())
    with create_app(config, site_root, clock=clock, secret=SECRET) as app:
        client = WsgiClient(app, clock)
        fields = {**VALID["contact"], "name": "Maria Rossi", "phone": "+39 055 1234567"}
        assert client.post("contact", fields).status == 303
        [message] = smtp_server.sink.wait_for(1)
    assert message["To"] == "owner@bottega.example"
    assert message["From"] == "sito@bottega.example"
    assert message["Reply-To"] == "Maria Rossi <maria@example.com>"
    assert message["Subject"] == "Scrivici: nuovo invio da Maria Rossi"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
    assert "Nome: Maria Rossi" in body
    assert "Telefono: +39 055 1234567" in body
    assert "Messaggio:\n    Buongiorno,\n    vorrei un vaso." in body
    assert "Privacy: sì" in body
    assert "Consenso privacy: sì, versione «2025-01»." in body
    assert smtp_server.sink.envelopes == [("sito@bottega.example", ["owner@bottega.example"])]
    assert rows(site_root, "SELECT attempts, sent_at IS NOT NULL FROM outbox") == [(1, 1)]


def _stored(**data: Any) -> StoredSubmission:
    return StoredSubmission(7, "contact", "2025-03-01T10:00:00+00:00", "received", data,
                            str(data.get("email", "")), "2025-01", "")


@pytest.mark.parametrize("evil", [
    "Maria\r\nBcc: victim@example.com", "Maria\nBcc: victim@example.com",
    "Maria\rBcc: victim@example.com", "Maria\u2028Bcc: victim@example.com",
    "Maria\x85Bcc: victim@example.com", "=?utf-8?q?Maria=0D=0ABcc:_victim@example.com?=",
])
def test_no_header_injection_through_any_field(evil: str, smtp_server: SmtpServer) -> None:
    """Even data that skipped validation cannot add a header or a recipient."""
    config = make_config(smtp_port=smtp_server.port)
    form = config.forms["contact"]
    submission = _stored(name=evil, email="maria@example.com", message=evil, phone=evil)
    encoded_email = _stored(name="x", email="=?utf-8?q?a=0D=0ABcc:_v@example.com?=@example.com")
    message = compose_notification(submission, "owner@bottega.example", form,
                                   site_title="Bottega", sender="sito@bottega.example",
                                   messages=Messages("it"))
    bad_email = compose_notification(
        _stored(name="x", email="a@example.com\r\nBcc: victim@example.com"),
        "owner@bottega.example", form, site_title="Bottega", sender="sito@bottega.example",
        messages=Messages("it"))
    with Mailer(SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none")
                ).session() as smtp:
        smtp.send_message(message)
        smtp.send_message(bad_email)
        smtp.send_message(compose_notification(
            encoded_email, "owner@bottega.example", form, site_title="Bottega",
            sender="sito@bottega.example", messages=Messages("it")))
    received = smtp_server.sink.wait_for(3)
    for mail in received:
        assert mail["Bcc"] is None
        assert set(mail.keys()) <= {"Subject", "From", "To", "Reply-To", "Date", "Message-ID",
                                    "Auto-Submitted", "Content-Type", "Content-Transfer-Encoding",
                                    "MIME-Version"}
    assert [rcpt for _, rcpt in smtp_server.sink.envelopes] == [["owner@bottega.example"]] * 3
    assert received[1]["Reply-To"] is None  # an invalid address never becomes Reply-To
    assert received[2]["Reply-To"] is None


def test_reply_to_display_name_cannot_pose_as_another_address() -> None:
    form = make_config().forms["contact"]
    message = compose_notification(
        _stored(name='Banca <sicurezza@banca.example>, "Ufficio"', email="maria@example.com"),
        "owner@bottega.example", form, site_title="Bottega", sender="sito@bottega.example",
        messages=Messages("it"))
    reply_to = message["Reply-To"]
    assert [a.addr_spec for a in reply_to.addresses] == ["maria@example.com"]
    display = reply_to.addresses[0].display_name
    assert not set(display) & set('<>@",'), display
    assert "banca.example" in display  # the text stays readable, minus what builds an address


def test_zero_width_joiners_are_still_allowed(client: WsgiClient) -> None:
    family = "Saluti da 👨\u200d👩\u200d👧 e \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert client.post("contact", {**VALID["contact"], "message": family}).status == 303


def test_header_text_flattens_to_one_printable_line() -> None:
    assert header_text("a\r\nb\tc\x00d\u2028e") == "a b c d e"
    assert len(header_text("x" * 500)) == 120


def test_credentials_come_from_the_environment_only() -> None:
    assert credentials_from_env({}) is None
    creds = credentials_from_env({"STOREFRONT_SMTP_USER": "u",
                                  "STOREFRONT_SMTP_PASSWORD": "hunter2-secret"})
    assert creds == SmtpCredentials("u", "hunter2-secret")
    assert "hunter2" not in repr(creds)


def test_password_is_never_sent_in_clear_to_another_host() -> None:
    mailer = Mailer(SmtpSettings(host="mail.example", port=25, security="none"),
                    SmtpCredentials("u", "secret"))
    with pytest.raises(MailError, match="unencrypted"), mailer.session():
        pass


def test_retry_delays_back_off_and_cap() -> None:
    assert [retry_delay(n, 60, 3600) for n in (1, 2, 3, 4, 7, 50)] == [
        60, 120, 240, 480, 3600, 3600]


def test_mail_is_kept_while_the_server_is_down_and_sent_when_it_returns(
    site_root: Path,
) -> None:
    sink = MailSink()
    server = SmtpServer(sink, free_port())
    config = make_config(smtp_port=server.port)
    clock = OffsetClock()
    with create_app(config, site_root, clock=clock, secret=SECRET, retry_base=0.2, retry_cap=0.4,
                    outbox_poll_seconds=0.2) as app:
        client = WsgiClient(app, clock)
        for n in range(3):
            fields = {**VALID["contact"], "name": f"Cliente {n}"}
            assert client.post("contact", fields).status == 303  # accepted, SMTP is down
        deadline = time.time() + 10
        while time.time() < deadline:
            attempts = rows(site_root, "SELECT MIN(attempts) FROM outbox")[0][0]
            if attempts >= 1:
                break
            time.sleep(0.05)
        pending = rows(site_root, "SELECT attempts, last_error, sent_at FROM outbox")
        assert len(pending) == 3
        assert all(a >= 1 and "cannot connect" in e and s is None for a, e, s in pending)
        server.start()  # the server comes back: the sender thread retries on its own
        try:
            received = sink.wait_for(3)
        finally:
            server.stop()
    assert sorted(m["Subject"] for m in received) == [
        f"Scrivici: nuovo invio da Cliente {n}" for n in range(3)]
    assert rows(site_root, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]


def test_forms_send_flushes_the_outbox(site_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from storefront.forms.commands import run_forms_send

    sink = MailSink()
    server = SmtpServer(sink, free_port())
    (site_root / "storefront.yaml").write_text(
        (site_root / "storefront.yaml").read_text().replace("port: 2525", f"port: {server.port}"))
    config = make_config(smtp_port=server.port)
    clock = FakeClock()
    with create_app(config, site_root, clock=clock, secret=SECRET, deliver_mail=False) as app:
        client = WsgiClient(app, clock)
        assert client.post("contact", VALID["contact"]).status == 303
        assert client.post("order", VALID["order"]).status == 303
    args = argparse.Namespace(root=site_root, due_only=False)
    assert run_forms_send(args) == 1  # the server is down: nothing lost, exit status 1
    out = capsys.readouterr()
    assert "sent 0, not sent 2" in out.out
    assert "cannot connect" in out.err
    server.start()
    try:
        assert run_forms_send(args) == 0
        assert "sent 2, not sent 0" in capsys.readouterr().out
        received = sink.wait_for(2)
    finally:
        server.stop()
    assert sorted(m["To"] for m in received) == ["orders@bottega.example", "owner@bottega.example"]
    order = next(m for m in received if m["To"] == "orders@bottega.example")
    assert order["Reply-To"] is None  # the order came with a phone number only
    assert "Telefono: +39 055 123 4567" in order.get_payload(decode=True).decode()
    assert run_forms_send(args) == 0
    assert "sent 0, not sent 0" in capsys.readouterr().out


# -- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


class Authenticator:
    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.seen.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"bottega", b"s3cret pass")
        return AuthResult(success=ok)


@pytest.fixture
def tls_server(certificate: tuple[Path, Path], request: pytest.FixtureRequest
               ) -> Iterator[tuple[SmtpServer, Authenticator]]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    auth = Authenticator()
    options: dict[str, Any] = {"authenticator": auth, "auth_require_tls": True}
    if request.param == "starttls":
        options.update(tls_context=context, require_starttls=True)
    else:  # implicit TLS: aiosmtpd does not see the wrapped socket as TLS, so allow AUTH
        options.update(ssl_context=context, auth_require_tls=False)
    server = SmtpServer(MailSink(), free_port(), options=options)
    server.start()
    yield server, auth
    server.stop()


@pytest.mark.parametrize("tls_server", ["starttls", "ssl"], indirect=True)
def test_tls_and_login_with_credentials_from_environment(
    site_root: Path, certificate: tuple[Path, Path], tls_server: tuple[SmtpServer, Authenticator],
) -> None:
    server, auth = tls_server
    security = "starttls" if server.options.get("tls_context") else "ssl"
    config = make_config(smtp_port=server.port, security=security)
    client_context = ssl.create_default_context(cafile=str(certificate[0]))
    env = {"STOREFRONT_SMTP_USER": "bottega", "STOREFRONT_SMTP_PASSWORD": "s3cret pass"}
    transport = Mailer(config.form_endpoint.smtp, credentials_from_env(env), client_context)
    clock = FakeClock()
    with create_app(config, site_root, clock=clock, secret=SECRET, deliver_mail=False,
                    transport=transport) as app:
        assert WsgiClient(app, clock).post("contact", VALID["contact"]).status == 303
        report = app.deliver_now()
    assert (report.sent, report.failed) == (1, 0), report.errors
    assert server.sink.wait_for(1)[0]["To"] == "owner@bottega.example"
    assert auth.seen == [(b"bottega", b"s3cret pass")]


@pytest.mark.parametrize("tls_server", ["starttls"], indirect=True)
def test_untrusted_certificate_is_a_failed_attempt(
    site_root: Path, tls_server: tuple[SmtpServer, Authenticator],
) -> None:
    server, auth = tls_server
    config = make_config(smtp_port=server.port, security="starttls")
    clock = FakeClock()
    with create_app(config, site_root, clock=clock, secret=SECRET, deliver_mail=False,
                    environ={"STOREFRONT_SMTP_USER": "bottega",
                             "STOREFRONT_SMTP_PASSWORD": "s3cret pass"}) as app:
        assert WsgiClient(app, clock).post("contact", VALID["contact"]).status == 303
        report = app.deliver_now()
    assert (report.sent, report.failed) == (0, 1)
    assert "CERTIFICATE_VERIFY_FAILED" in report.errors[0]
    assert auth.seen == []  # the password never left
    assert rows(site_root, "SELECT attempts, sent_at FROM outbox") == [(1, None)]

"""WSGI-level tests of a submission: validation, token/confirm flow, honeypot, rate limit,
storage and the shape of every answer (303, JSON, HTML problem pages)."""

from __future__ import annotations

import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from forms_support import (
    SECRET,
    SITE,
    VALID,
    FakeClock,
    WsgiClient,
    make_config,
    run_sql,
    stored_bytes,
)

from storefront.forms import StorageError, create_app

pytestmark = pytest.mark.both_backends


class FormReader(HTMLParser):
    """Collect the hidden inputs and the action of the confirm page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.inputs: dict[str, str] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values["action"]
        elif tag == "input":
            self.inputs[values["name"]] = values.get("value", "")
        elif tag == "a":
            self.links.append(values["href"])


def read_page(text: str) -> FormReader:
    reader = FormReader()
    reader.feed(text)
    reader.close()
    return reader


# -- success ---------------------------------------------------------------------------------------


def test_success_redirects_303_to_the_thank_you_page(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    result = client.post("contact", VALID["contact"])
    assert result.status == 303
    assert result.headers["location"] == f"{SITE}/grazie/"
    assert result.body == b""
    [(form, status, data, email)] = db_rows()
    assert (form, status, email) == ("contact", "received", "maria@example.com")
    assert json.loads(data) == {"name": "Maria Rossi", "email": "maria@example.com", "phone": "",
                                "message": "Buongiorno,\nvorrei un vaso.", "privacy": True}


def test_success_as_json(client: WsgiClient) -> None:
    result = client.post("newsletter", VALID["newsletter"], json=True)
    assert result.status == 200
    assert result.json() == {"ok": True, "redirect": f"{SITE}/iscritto/"}


def test_redirect_keeps_the_base_path_of_a_site_published_below_the_root(site_root: Path,
                                                                          clock: FakeClock) -> None:
    config = make_config(base_url=SITE + "/shop/")
    with create_app(config, site_root, clock=clock, secret=SECRET, deliver_mail=False) as app:
        client = WsgiClient(app, clock)
        client.origin = SITE
        result = client.post("contact", VALID["contact"])
    assert result.headers["location"] == f"{SITE}/shop/grazie/"


def test_redirect_follows_the_site_origin_the_visitor_came_from(client: WsgiClient) -> None:
    client.origin = "https://www.bottega.example"
    result = client.post("contact", VALID["contact"])
    assert result.headers["location"] == "https://www.bottega.example/grazie/"


def test_redirect_stays_on_the_local_preview(site_root: Path, clock: FakeClock) -> None:
    config = make_config(base_url="")
    with create_app(config, site_root, clock=clock, secret=SECRET, deliver_mail=False) as app:
        client = WsgiClient(app, clock, origin="http://127.0.0.1:8000")
        result = client.post("contact", VALID["contact"])
    assert result.headers["location"] == "http://127.0.0.1:8000/grazie/"


def test_consent_version_and_text_are_stored(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    assert client.post("contact", VALID["contact"]).status == 303
    assert client.post("newsletter", VALID["newsletter"]).status == 303
    stored = db_rows("SELECT form, consent_version, consent_text FROM submissions ORDER BY id")
    assert stored == [("contact", "2025-01", "Acconsento al trattamento dei dati."),
                      ("newsletter", "2025-02", "")]


def test_ip_is_stored_only_as_a_salted_hash(client: WsgiClient, site_root: Path, db_rows) -> None:  # type: ignore[no-untyped-def]
    client.ip = "198.51.100.23"
    client.post("contact", VALID["contact"])
    [(ip_hash,)] = db_rows("SELECT ip_hash FROM submissions")
    assert re.fullmatch(r"[0-9a-f]{32}", ip_hash)
    import hashlib

    assert ip_hash not in hashlib.sha256(b"198.51.100.23").hexdigest()
    assert b"198.51.100.23" not in stored_bytes(site_root)


def test_undeclared_fields_are_not_stored(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    client.post("newsletter", {**VALID["newsletter"], "admin": "1", "sql": "'; DROP TABLE x"})
    [(_, _, data, _)] = db_rows()
    assert json.loads(data) == {"email": "luca@example.com", "privacy": True}


def test_a_notification_is_queued_with_the_submission(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    client.post("contact", VALID["contact"])
    client.post("newsletter", VALID["newsletter"])  # no notify address: nothing queued
    assert db_rows("SELECT submission_id, recipient, sent_at FROM outbox") == [
        (1, "owner@bottega.example", None)]


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("form", "change", "field", "message"), [
    ("contact", {"name": ""}, "name", "Nome: questo campo è obbligatorio."),
    ("contact", {"name": "   "}, "name", "Nome: questo campo è obbligatorio."),
    ("contact", {"email": "maria@"}, "email",
     "Email: scrivi un indirizzo e-mail come nome@esempio.it."),
    ("contact", {"email": "a b@example.com"}, "email",
     "Email: scrivi un indirizzo e-mail come nome@esempio.it."),
    ("contact", {"email": "maria@example"}, "email",
     "Email: scrivi un indirizzo e-mail come nome@esempio.it."),
    ("contact", {"name": "x" * 101}, "name", "Nome: al massimo 100 caratteri (ne hai scritti 101)."),
    ("contact", {"phone": "chiamami"}, "phone",
     "Telefono: scrivi un numero di telefono, per esempio +39 055 123 4567."),
    ("contact", {"privacy": ""}, "privacy", "Privacy: per inviare il modulo serve il tuo consenso."),
    ("contact", {"name": "Maria\r\nBcc: x@evil.example"}, "name",
     "Nome: contiene caratteri non ammessi."),
    ("contact", {"message": "ciao\x00"}, "message", "Messaggio: contiene caratteri non ammessi."),
    ("contact", {"name": "Maria \u202eixaM"}, "name", "Nome: contiene caratteri non ammessi."),
    ("contact", {"message": "ciao\u2066x"}, "message", "Messaggio: contiene caratteri non ammessi."),
    ("order", {"quantity": "0"}, "quantity", "Quantità: il numero più piccolo accettato è 1."),
    ("order", {"quantity": "7"}, "quantity", "Quantità: il numero più grande accettato è 6."),
    ("order", {"quantity": "2.5"}, "quantity",
     "Quantità: scrivi un numero intero, per esempio 2."),
    ("order", {"delivery": "Teletrasporto"}, "delivery",
     "Consegna: scegli uno dei valori proposti."),
    ("order", {"phone": "", "email": ""}, "email",
     "Compila almeno uno di questi campi: Email, Telefono."),
])
def test_validation_errors_as_json(client: WsgiClient, form: str, change: dict[str, str],
                                   field: str, message: str, db_rows) -> None:  # type: ignore[no-untyped-def]
    result = client.post(form, {**VALID[form], **change}, json=True)
    assert result.status == 422
    data = result.json()
    assert data["ok"] is False
    assert message in data["errors"][field]
    assert "token" not in data  # the token was fine: keep it
    assert db_rows() == []


def test_missing_fields_are_all_reported_at_once(client: WsgiClient) -> None:
    result = client.post("order", {}, json=True)
    assert set(result.json()["errors"]) == {"quantity", "delivery", "name", "email", "phone",
                                            "privacy"}


def test_repeated_names_use_the_first_value(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    token = client.token("newsletter")
    client.clock.advance(5)
    body = "email=first@example.com&email=second@example.com&privacy=on&_ts=" + token
    assert client.request("POST", "/api/forms/newsletter", body.encode()).status == 303
    assert db_rows()[0][3] == "first@example.com"


def test_errors_without_js_are_a_page_with_a_link_back(client: WsgiClient) -> None:
    marker = "<script>alert('x')</script>"
    result = client.post("contact", {**VALID["contact"], "email": marker, "name": ""},
                         headers={"Referer": f"{SITE}/contatti/"})
    assert result.status == 422
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    text = result.text
    assert text.startswith("<!DOCTYPE html>\n<html lang=\"it\">")
    assert "Il modulo non è stato inviato" in text
    assert "<li>Nome: questo campo è obbligatorio.</li>" in text
    assert "Email: scrivi un indirizzo e-mail" in text
    assert "alert" not in text  # input is never echoed on an error page
    assert read_page(text).links == [f"{SITE}/contatti/"]
    assert "frame-ancestors 'none'" in result.headers["content-security-policy"]


def test_back_link_ignores_a_foreign_referer(client: WsgiClient) -> None:
    result = client.post("contact", {**VALID["contact"], "name": ""},
                         headers={"Referer": "https://evil.example/\"><script>"})
    assert read_page(result.text).links == [f"{SITE}/"]


def test_one_of_message_is_listed_once_on_the_page(client: WsgiClient) -> None:
    result = client.post("order", {**VALID["order"], "phone": "", "email": ""})
    assert result.text.count("Compila almeno uno di questi campi") == 1


def test_english_site_gets_english_messages(site_root: Path, clock: FakeClock) -> None:
    with create_app(make_config(language="en"), site_root, clock=clock, secret=SECRET,
                    deliver_mail=False) as app:
        client = WsgiClient(app, clock)
        result = client.post("contact", {**VALID["contact"], "email": "nope"}, json=True)
        assert result.json()["errors"]["email"] == [
            "Email: enter an e-mail address such as name@example.com."]
        page = client.post("contact", {**VALID["contact"], "email": "nope"})
        assert '<html lang="en">' in page.text
        assert "The form was not sent" in page.text


# -- the signed fill-time token --------------------------------------------------------------------


def test_too_fast_with_js_is_422_and_keeps_the_token(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    token = client.token("contact")
    client.clock.advance(1)
    result = client.post("contact", VALID["contact"], token=token, json=True)
    assert result.status == 422
    assert result.json() == {"ok": False, "errors": {}, "form_errors": [
        "Hai inviato il modulo molto in fretta. Attendi qualche secondo e premi di nuovo "
        "«Invia»."]}
    client.clock.advance(3)
    assert client.post("contact", VALID["contact"], token=token, json=True).status == 200
    assert len(db_rows()) == 1


def test_a_token_works_once(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    """A used token stores nothing more: another submission with it (the Back button, an edited
    message) is asked to confirm, so it is not lost either. (The same submission again is the
    first one's double-click: see the test below.)"""
    token = client.token("contact")
    client.clock.advance(5)
    assert client.post("contact", VALID["contact"], token=token, json=True).status == 200
    other = {**VALID["contact"], "message": "Dimenticavo: anche un piatto."}
    replay = client.post("contact", other, token=token, json=True)
    assert replay.status == 422
    data = replay.json()
    assert data["form_errors"] == ["Il modulo è scaduto o incompleto. Premi di nuovo «Invia»."]
    page = client.post("contact", other, token=token)
    assert page.status == 200 and "Conferma l&#x27;invio" in page.text  # without JS: confirm
    assert len(db_rows()) == 1
    client.clock.advance(5)
    assert client.post("contact", other, token=data["token"], json=True).status == 200
    assert len(db_rows()) == 2


def test_a_double_click_without_js_stores_one_lead_and_answers_success_twice(
        client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    """Without JavaScript nothing stops a second click on the confirm page's button: the
    browser sends the same values with the same token twice and shows the second answer. That
    answer was another confirm page, and confirming it stored the lead (and mailed the owner)
    twice. The same submission with the same token, shortly after, is the same lead."""
    page = read_page(client.post("contact", VALID["contact"], token="").text)
    client.clock.advance(5)
    body = urlencode(page.inputs).encode()
    answers = [client.request("POST", page.action, body) for _ in range(2)]
    assert [a.status for a in answers] == [303, 303]
    assert {a.headers["location"] for a in answers} == {SITE + "/grazie/"}
    assert len(db_rows()) == 1
    assert db_rows("SELECT COUNT(*) FROM outbox") == [(1,)]  # one mail to the owner
    # with the script too (its answer was lost, the visitor pressed again)
    again = client.request("POST", page.action, body, json=True)
    assert again.status == 200 and again.json()["ok"] is True
    # a lead that differs is never taken for the first: it is asked to confirm, as before
    changed = {**page.inputs, "phone": "+39 055 765 4321"}
    confirm = client.request("POST", page.action, urlencode(changed).encode())
    assert confirm.status == 200 and "Conferma l&#x27;invio" in confirm.text
    # nor is the same one much later (a page kept open, sent again on purpose)
    client.clock.advance(3600)
    late = client.request("POST", page.action, body)
    assert late.status == 200 and "Conferma l&#x27;invio" in late.text
    assert len(db_rows()) == 1


def test_clicks_arriving_together_store_one_lead_and_all_succeed(
        client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    """The clicks reach the endpoint at once (one batch of the writer, or its next one)."""
    page = read_page(client.post("contact", VALID["contact"], token="").text)
    client.clock.advance(5)
    body = urlencode(page.inputs).encode()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def click() -> None:
        barrier.wait()
        statuses.append(client.request("POST", page.action, body).status)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [303] * 4
    assert len(db_rows()) == 1


def test_a_used_token_is_refused_by_another_process_too(
    site_root: Path, clock: FakeClock, db_rows,  # type: ignore[no-untyped-def]
) -> None:
    config = make_config()
    with create_app(config, site_root, clock=clock, secret=SECRET, deliver_mail=False) as first, \
            create_app(config, site_root, clock=clock, secret=SECRET, deliver_mail=False) as other:
        token = WsgiClient(first, clock).token("contact")
        clock.advance(5)
        assert WsgiClient(first, clock).post("contact", VALID["contact"], token=token,
                                             json=True).status == 200
        changed = {**VALID["contact"], "message": "Un altro messaggio."}
        assert WsgiClient(other, clock).post("contact", changed, token=token,
                                             json=True).status == 422
        # the same values again are the first submission's repeat, there too: one lead
        assert WsgiClient(other, clock).post("contact", VALID["contact"], token=token,
                                             json=True).status == 200
    assert len(db_rows()) == 1


def test_used_tokens_are_forgotten_once_expired(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    assert client.post("contact", VALID["contact"]).status == 303
    assert db_rows("SELECT COUNT(*) FROM used_tokens") == [(1,)]
    client.clock.advance(2 * 24 * 3600)
    assert client.post("contact", VALID["contact"]).status == 303
    assert db_rows("SELECT COUNT(*) FROM used_tokens") == [(1,)]  # the old one was pruned


@pytest.mark.parametrize("token", ["", "garbage", "1750000000.abc.def", "1.2.3.4",
                                   "１７５０.a.b"])
def test_unusable_token_with_js_gets_a_fresh_one(client: WsgiClient, token: str, db_rows) -> None:  # type: ignore[no-untyped-def]
    result = client.post("contact", VALID["contact"], token=token, json=True)
    assert result.status == 422
    data = result.json()
    assert data["form_errors"] == ["Il modulo è scaduto o incompleto. Premi di nuovo «Invia»."]
    client.clock.advance(5)
    assert client.post("contact", VALID["contact"], token=data["token"], json=True).status == 200
    assert len(db_rows()) == 1


def test_token_of_another_form_is_refused(client: WsgiClient) -> None:
    token = client.token("newsletter")
    client.clock.advance(5)
    assert client.post("contact", VALID["contact"], token=token, json=True).status == 422


def test_expired_token_is_refused(client: WsgiClient) -> None:
    token = client.token("contact")
    client.clock.advance(24 * 3600 + 1)
    assert client.post("contact", VALID["contact"], token=token, json=True).status == 422


def test_without_js_the_confirm_page_resends_the_values(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    fields = {**VALID["contact"], "name": 'Ma"ria <b>&amp;', "message": "Riga 1\r\n<i>2</i>"}
    first = client.post("contact", fields, token="")
    assert first.status == 200
    text = first.text
    assert "Conferma l&#x27;invio" in text
    assert "<b>" not in text and "<i>" not in text
    assert "Ma&quot;ria &lt;b&gt;&amp;amp;" in text
    page = read_page(text)
    assert page.action == "/api/forms/contact"
    assert page.inputs["name"] == 'Ma"ria <b>&amp;'
    assert page.inputs["message"] == "Riga 1\n<i>2</i>"
    assert page.inputs["privacy"] == "on"
    assert "phone" not in page.inputs and "website" not in page.inputs
    # pressing "Send" at once is too fast: the same page again, with a notice
    again = client.request("POST", page.action, urlencode(page.inputs).encode())
    assert again.status == 200
    assert "molto in fretta" in again.text
    client.clock.advance(4)
    page = read_page(again.text)
    sent = client.request("POST", page.action, urlencode(page.inputs).encode())
    assert sent.status == 303
    [(_, _, data, _)] = db_rows()
    assert json.loads(data)["name"] == 'Ma"ria <b>&amp;'


def test_without_js_invalid_data_gets_the_problems_first(client: WsgiClient) -> None:
    result = client.post("contact", {**VALID["contact"], "email": "x"}, token="")
    assert result.status == 422
    assert "Il modulo non è stato inviato" in result.text


# -- honeypot --------------------------------------------------------------------------------------


def test_honeypot_looks_like_success_but_is_stored_as_spam(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    body = urlencode({**VALID["contact"], "website": "http://spam.example", "_ts": ""}).encode()
    result = client.request("POST", "/api/forms/contact", body)
    assert result.status == 303
    assert result.headers["location"] == f"{SITE}/grazie/"
    assert db_rows("SELECT status FROM submissions") == [("spam",)]
    assert db_rows("SELECT * FROM outbox") == []


# -- rate limit ------------------------------------------------------------------------------------


def test_rate_limit_per_ip(client: WsgiClient, db_rows) -> None:  # type: ignore[no-untyped-def]
    for _ in range(10):
        assert client.post("newsletter", VALID["newsletter"]).status == 303
    limited = client.post("newsletter", VALID["newsletter"], json=True)
    assert limited.status == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Troppi invii" in limited.json()["form_errors"][0]
    client.ip = "203.0.113.99"
    assert client.post("newsletter", VALID["newsletter"]).status == 303
    client.ip = "203.0.113.7"
    client.clock.advance(1200)
    assert client.post("newsletter", VALID["newsletter"]).status == 303
    assert len(db_rows()) == 12


def test_ipv6_clients_are_limited_per_64(client: WsgiClient) -> None:
    for n in range(10):
        client.ip = f"2001:db8:aa:bb::{n + 1:x}"
        assert client.post("newsletter", VALID["newsletter"]).status == 303
    client.ip = "2001:db8:aa:bb:ffff::1"
    assert client.post("newsletter", VALID["newsletter"]).status == 429
    client.ip = "2001:db8:aa:cc::1"
    assert client.post("newsletter", VALID["newsletter"]).status == 303


def test_validation_failures_do_not_use_up_the_rate_limit(client: WsgiClient) -> None:
    for _ in range(30):
        assert client.post("newsletter", {"email": "bad"}).status == 422
    assert client.post("newsletter", VALID["newsletter"]).status == 303


def test_a_submission_that_was_not_stored_does_not_use_up_the_rate_limit(
        client: WsgiClient, site_root: Path) -> None:
    run_sql(site_root, "ALTER TABLE outbox RENAME TO outbox_away")  # every store fails: 503
    for _ in range(12):  # more than the limit of 10
        assert client.post("contact", VALID["contact"]).status == 503
    run_sql(site_root, "ALTER TABLE outbox_away RENAME TO outbox")
    assert client.post("contact", VALID["contact"]).status == 303


# -- storage ---------------------------------------------------------------------------------------


def test_storage_failure_is_503_and_stores_nothing(client: WsgiClient, site_root: Path,
                                                   db_rows) -> None:  # type: ignore[no-untyped-def]
    run_sql(site_root, "DROP TABLE outbox")  # the submission's transaction fails half-way
    result = client.post("contact", VALID["contact"], json=True)
    assert result.status == 503
    assert result.json()["form_errors"] == [
        "Non è stato possibile salvare il messaggio. Riprova fra qualche minuto."]
    assert db_rows() == []
    assert client.post("newsletter", VALID["newsletter"]).status == 303  # no mail row needed


@pytest.mark.sqlite_only
def test_database_settings(app, site_root: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from storefront.forms.sqlite_store import SCHEMA_VERSION, connect_file

    conn = connect_file(site_root / "data" / "forms.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
    assert isinstance(sqlite3.sqlite_version, str)


def test_endpoint_on_its_own_host_redirects_to_the_site(tmp_path: Path) -> None:
    import dataclasses

    config = make_config()
    endpoint = dataclasses.replace(config.form_endpoint,
                                   url="https://forms.bottega.example/api/forms/")
    config = dataclasses.replace(config, form_endpoint=endpoint)
    clock = FakeClock()
    with create_app(config, tmp_path, clock=clock, secret=SECRET, deliver_mail=False) as app:
        client = WsgiClient(app, clock)
        first = client.post("contact", VALID["contact"], token="")
        page = read_page(first.text)
        assert page.action == "https://forms.bottega.example/api/forms/contact"
        clock.advance(5)
        client.origin = "https://forms.bottega.example"  # the confirm page posts to itself
        sent = client.request("POST", "/api/forms/contact", urlencode(page.inputs).encode())
        assert sent.status == 303
        assert sent.headers["location"] == f"{SITE}/grazie/"


# -- the health check ----------------------------------------------------------------------------


def test_health_check_answers_while_the_database_does(site_root: Path, clock: FakeClock,
                                                      database: str) -> None:
    engine = "postgresql" if database.startswith("postgresql://") else "sqlite"
    app = create_app(make_config(), site_root, clock=clock, secret=SECRET, deliver_mail=False)
    client = WsgiClient(app, clock, origin=None)
    with app:
        for method in ("GET", "HEAD"):
            result = client.request(method, "/api/forms/_health")
            assert (result.status, result.json()) == (200, {"ok": True, "database": engine})
            assert result.headers["cache-control"] == "no-store"
        assert client.request("POST", "/api/forms/_health").status == 404  # not a form
    result = client.request("GET", "/api/forms/_health")  # closed: shutting down
    assert (result.status, result.json()) == (503, {"ok": False, "database": engine})


def test_health_check_says_503_when_the_database_does_not_answer(
        site_root: Path, clock: FakeClock) -> None:
    app = create_app(make_config(), site_root, clock=clock, secret=SECRET, deliver_mail=False)
    with app:
        client = WsgiClient(app, clock, origin=None)
        broken = app.database.session

        def unreachable() -> None:
            raise StorageError("the server does not answer")

        app.database.session = unreachable  # type: ignore[method-assign,assignment]
        try:
            result = client.request("GET", "/api/forms/_health")
        finally:
            app.database.session = broken  # type: ignore[method-assign]
    assert result.status == 503 and result.json()["ok"] is False

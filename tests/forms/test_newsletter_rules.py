"""The newsletter's rules one by one: the same answer for a confirmed address, expiry of
unconfirmed sign-ups and links, single-purpose links, imports with and without evidence,
unsubscribed addresses staying unsubscribed, forget, the rate limit and the draft."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from forms_support import VALID, FakeClock, SmtpServer, WsgiClient, stored_bytes
from newsletter_support import SECRET_TEXT, URL, path_of, query, shop_app, status_of, text_part, write_shop

from storefront.config import load_config
from storefront.errors import BuildFailed
from storefront.forms import FormsApp
from storefront.forms.commands import forget, send_outbox
from storefront.forms.links import LinkSigner, parse_token
from storefront.forms.sqlite_store import _MIGRATIONS, SCHEMA_VERSION, connect_file
from storefront.forms.subscribers import confirm_subscriber
from storefront.newsletter import operations
from storefront.newsletter.delivery import Pacer

pytestmark = pytest.mark.both_backends

DAY = 86400


@pytest.fixture(autouse=True)
def endpoint_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)


@pytest.fixture
def shop(tmp_path: Path, smtp_server: SmtpServer) -> Path:
    write_shop(tmp_path, smtp_port=smtp_server.port)
    return tmp_path


def confirmations(root: Path) -> int:
    return int(query(root, "SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation'")[0][0])


def sign_up(client: WsgiClient, email: str):  # type: ignore[no-untyped-def]
    return client.post("newsletter", {**VALID["newsletter"], "email": email})


def link_for(app: FormsApp, root: Path, email: str, smtp_server: SmtpServer) -> str:
    app.deliver_now()
    mails = [m for m in smtp_server.sink.messages if m["To"] == email]
    return next(u for u in URL.findall(text_part(mails[-1])) if "/confirm?" in u)


def confirmed(app: FormsApp, clock: FakeClock, root: Path,
              smtp_server: SmtpServer) -> WsgiClient:
    """anna@example.com signed up and confirmed; the client that opened her link."""
    client, link = signed_up(app, clock, root, smtp_server)
    client.origin = None
    client.request("POST", path_of(link))
    return client


def signed_up(app: FormsApp, clock: FakeClock, root: Path,
              smtp_server: SmtpServer) -> tuple[WsgiClient, str]:
    """anna@example.com signed up; her confirmation link, from the mail she got."""
    client = WsgiClient(app, clock)
    sign_up(client, "anna@example.com")
    return client, link_for(app, root, "anna@example.com", smtp_server)


def test_a_confirmed_address_gets_the_same_answer_and_nothing_new(shop: Path) -> None:
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client = WsgiClient(app, clock)
        first = sign_up(client, "anna@example.com")
        [(subscriber_id, nonce)] = query(shop, "SELECT id, confirm_nonce FROM subscribers")
        with app.database.connect() as conn:
            moment = datetime.fromtimestamp(clock(), UTC)
            assert confirm_subscriber(conn, subscriber_id, nonce, moment, "") == "confirmed"
        clock.advance(3600)  # past the resend pause: only the state decides
        again = sign_up(client, "anna@example.com")
        new = sign_up(client, "bruno@example.com")
    for answer in (again, new):
        assert (answer.status, answer.headers["location"], answer.body) == (
            first.status, first.headers["location"], first.body)
    assert confirmations(shop) == 2  # anna once, bruno once
    assert status_of(shop, "anna@example.com") == "confirmed"


def test_a_pending_address_is_not_mailed_again_within_ten_minutes(shop: Path) -> None:
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client = WsgiClient(app, clock)
        for _ in range(5):
            sign_up(client, "anna@example.com")
        assert confirmations(shop) == 1
        clock.advance(11 * 60)
        sign_up(client, "anna@example.com")
        assert confirmations(shop) == 2


def test_unconfirmed_sign_ups_expire_with_their_submission(shop: Path,
                                                          smtp_server: SmtpServer) -> None:
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client, link = signed_up(app, clock, shop, smtp_server)
        clock.advance(7 * DAY + 60)
        # the link is dead after 7 days, and neither GET nor POST confirms
        assert client.request("GET", path_of(link)).status == 410
        assert client.request("POST", path_of(link)).status == 410
        assert status_of(shop, "anna@example.com") == "pending"
        sign_up(client, "bruno@example.com")  # any later sign-up sweeps expired ones
    assert status_of(shop, "anna@example.com") is None
    assert query(shop, "SELECT email FROM submissions") == [("bruno@example.com",)]
    assert query(shop, "SELECT recipient FROM outbox WHERE kind = 'confirmation'") == [
        ("bruno@example.com",)]


def test_signing_up_again_after_the_link_expired_is_stored(shop: Path) -> None:
    """The visitor's own new sign-up sweeps her expired one: it must not sweep the submission
    it is being stored with (the sweep deleted it, and the new subscriber's reference to it
    failed: 503 on every try until someone else signed up)."""
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client = WsgiClient(app, clock)
        assert sign_up(client, "anna@example.com").status == 303
        clock.advance(8 * DAY)  # nobody else signed up meanwhile
        again = sign_up(client, "anna@example.com")
    assert again.status == 303
    [(submission_id,)] = query(shop, "SELECT id FROM submissions")
    [(subscriber_id, status, signed_up_for)] = query(
        shop, "SELECT id, status, submission_id FROM subscribers")
    assert (status, signed_up_for) == ("pending", submission_id)
    # the expired sign-up's mail went with it; the new one has its own
    assert query(shop, "SELECT subscriber_id FROM outbox WHERE kind = 'confirmation'") == [
        (subscriber_id,)]


def test_links_are_single_purpose_and_bound_to_one_sign_up(shop: Path,
                                                           smtp_server: SmtpServer) -> None:
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client = WsgiClient(app, clock)
        client.origin = None
        sign_up_client = WsgiClient(app, clock)
        sign_up(sign_up_client, "anna@example.com")
        link = link_for(app, shop, "anna@example.com", smtp_server)
        token = parse_token(link.split("t=")[1])
        assert token is not None
        # the confirmation token does not unsubscribe, a forged one does nothing
        unsub = link.replace("/confirm?", "/unsubscribe?")
        assert client.request("POST", path_of(unsub)).status == 400
        forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
        assert client.request("POST", path_of(forged)).status == 410
        assert client.request("GET", path_of(link.split("?")[0] + "?t=1.2")).status == 400
        # an unsubscribe token (even valid) does not confirm
        signer = LinkSigner(SECRET_TEXT.encode())
        unsub_token = signer.unsubscribe_token(token.subscriber_id, "anna@example.com")
        assert client.request("POST", path_of(link.split("?")[0] + "?t=" + unsub_token)).status == 410
        assert status_of(shop, "anna@example.com") == "pending"
        # unsubscribing kills the confirmation link for good
        client.request("POST", path_of(unsub.split("?")[0] + "?t=" + unsub_token))
        assert status_of(shop, "anna@example.com") == "unsubscribed"
        assert client.request("POST", path_of(link)).status == 410
        assert status_of(shop, "anna@example.com") == "unsubscribed"
        # a new sign-up makes a new link; the old one stays dead
        clock.advance(3600)
        sign_up(sign_up_client, "anna@example.com")
        assert client.request("POST", path_of(link)).status == 410
        fresh = link_for(app, shop, "anna@example.com", smtp_server)
        assert fresh != link
        assert client.request("POST", path_of(fresh)).status == 303
        assert status_of(shop, "anna@example.com") == "confirmed"


@pytest.mark.parametrize("action", ["confirm", "unsubscribe"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_link_with_a_long_query_is_refused_not_an_internal_error(
        shop: Path, action: str, method: str) -> None:
    """A link whose query has more fields than the endpoint reads (a forged one, or one a link
    tracker filled with parameters) is a 400 page, not a 500 with a traceback in the log."""
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client = WsgiClient(app, clock)
        client.origin = None
        query_string = "t=1.0.abc&" + "&".join(f"utm_{i}=x" for i in range(25))
        result = client.request(method, f"/api/forms/newsletter/{action}?{query_string}")
    assert result.status == 400
    assert result.headers["content-type"].startswith("text/html")


def test_a_resubscription_that_expires_falls_back_to_unsubscribed(shop: Path) -> None:
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client = WsgiClient(app, clock)
        operations.import_file(shop, "email,consent_at,evidence\nanna@example.com,2025-01-01,"
                               "shop register\n", "in.csv", "csv")
        assert operations.remove(shop, "anna@example.com") is True
        sign_up(client, "anna@example.com")
        assert status_of(shop, "anna@example.com") == "pending"
        clock.advance(8 * DAY)
        sign_up(client, "bruno@example.com")
    assert status_of(shop, "anna@example.com") == "unsubscribed"


IMPORT = """\
email,name,consent_at,consent_text,evidence
anna@example.com,Anna,2024-11-02 10:00,Voglio ricevere la lettera,Mailchimp double opt-in
Bruno@Example.com,Bruno,,,
carla@example.com,Carla,2024-11-03,,
"""


def test_import_with_and_without_evidence(shop: Path, smtp_server: SmtpServer) -> None:
    outcome = operations.import_file(shop, IMPORT, "in.csv", "csv")
    assert outcome == {"confirmed": 1, "pending": 2}
    assert status_of(shop, "anna@example.com") == "confirmed"
    [(evidence, consent, confirmed)] = query(
        shop, "SELECT evidence, consent_text, confirmed_at FROM subscribers WHERE email = ?",
        ("anna@example.com",))
    assert evidence == "Mailchimp double opt-in" and consent == "Voglio ricevere la lettera"
    assert confirmed == "2024-11-02T09:00:00+00:00"
    # without evidence: a confirmation mail, and never the newsletter
    assert status_of(shop, "bruno@example.com") == "pending"
    assert status_of(shop, "carla@example.com") == "pending"  # a date alone is no evidence
    result = operations.send_issue(shop, "marzo")
    assert result.outcome.progress.total == 1
    report = send_outbox(load_config(shop), shop)
    assert report.sent == 2
    got = sorted((m["To"], m.get_content_type()) for m in smtp_server.sink.wait_for(3))
    assert got == [("anna@example.com", "multipart/alternative"),
                   ("bruno@example.com", "text/plain"), ("carla@example.com", "text/plain")]


def test_a_bad_import_names_the_lines_and_imports_nothing(shop: Path) -> None:
    text = "email,consent_at,evidence\nok@example.com,,\nnot-an-address,,\nx@example.com,ieri,y\n"
    with pytest.raises(BuildFailed) as failed:
        operations.import_file(shop, text, "in.csv", "csv")
    assert [e.format() for e in failed.value.errors] == [
        'in.csv:3: "not-an-address" is not an e-mail address',
        'in.csv:4: consent_at must be a date such as 2024-05-01, 2024-05-01 10:30 or '
        '2024-05-01T10:30:00+02:00, got "ieri"',
    ]
    assert operations.subscribers(shop) == ({"pending": 0, "confirmed": 0, "unsubscribed": 0}, [])
    with pytest.raises(BuildFailed, match="array of objects"):
        operations.import_file(shop, '{"email": "a@example.com"}', "in.json", "json")


def test_an_unsubscribed_address_is_never_mailed_again_even_if_reimported(
        shop: Path, smtp_server: SmtpServer) -> None:
    operations.import_file(shop, IMPORT, "in.csv", "csv")
    assert operations.remove(shop, "anna@example.com") is True
    assert operations.remove(shop, "anna@example.com") is False
    again = operations.import_file(shop, IMPORT.replace("Bruno", "Dario"), "in.csv", "csv")
    assert again["suppressed"] == 1
    assert status_of(shop, "anna@example.com") == "unsubscribed"
    result = operations.send_issue(shop, "marzo")
    assert result.outcome.progress.total == 0
    assert not [m for m in smtp_server.sink.messages if m["To"] == "anna@example.com"]


def test_forget_removes_the_subscriber_and_every_trace(shop: Path,
                                                       smtp_server: SmtpServer) -> None:
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        confirmed(app, clock, shop, smtp_server)
    operations.send_issue(shop, "marzo")
    assert len(smtp_server.sink.wait_for(2)) == 2
    report = forget(load_config(shop), shop, "Anna@Example.com")
    assert report.subscribers == 1 and report.deleted == 1 and report.scrubbed
    assert b"anna@example.com" not in stored_bytes(shop).lower()
    for table in ("submissions", "subscribers", "outbox"):
        assert query(shop, f"SELECT COUNT(*) FROM {table}") == [(0,)]


def test_an_old_unsubscribe_link_after_forget_and_a_new_sign_up_never_claims_success(
        shop: Path, smtp_server: SmtpServer) -> None:
    """Its token names the erased subscriber, and erasure keeps nothing that ties it to the
    address: the link says it is no longer valid and how to unsubscribe, and changes nothing
    (it used to answer "you are unsubscribed" while the new subscription went on)."""
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        client = confirmed(app, clock, shop, smtp_server)
        operations.send_issue(shop, "marzo")
        [issue] = [m for m in smtp_server.sink.wait_for(2) if m["List-Unsubscribe"]]
        old = issue["List-Unsubscribe"].split(",")[0].strip(" <>")
        forget(load_config(shop), shop, "anna@example.com")
        clock.advance(3600)
        confirmed(app, clock, shop, smtp_server)  # signed up again, and confirmed
        assert status_of(shop, "anna@example.com") == "confirmed"
        for method, body in (("GET", b""), ("POST", b"List-Unsubscribe=One-Click"),
                             ("POST", b"")):
            answer = client.request(method, path_of(old), body)
            assert answer.status == 410, (method, answer.text)
            assert "Non riceverai più" not in answer.text
            assert "non è più valido" in answer.text and "lettera@bottega.example" in answer.text
        assert status_of(shop, "anna@example.com") == "confirmed"


def test_the_rate_limit_spaces_messages_evenly_across_restarts() -> None:
    clock = FakeClock(1000.0)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    pacer = Pacer(300, clock, sleep, last=995.0)  # the last mail went out 5 s ago
    for _ in range(4):
        pacer.wait()
    assert waits == [7.0, 12.0, 12.0, 12.0]
    assert Pacer(0, clock, sleep).interval == 0


def test_a_clock_set_back_does_not_hold_up_the_next_send(shop: Path,
                                                        smtp_server: SmtpServer) -> None:
    """The pause before the first mail counts from the last mail sent; when that was stamped by
    a clock that was ahead (since set right: NTP, a restored machine, another host's send),
    the pause is at most one interval, not the clock's error on top."""
    operations.import_file(shop, "email,consent_at,evidence\nanna@example.com,2025-01-01,"
                           "shop register\n", "in.csv", "csv")
    ahead = time.time() + DAY
    operations.send_issue(shop, "marzo", rate=3600, clock=lambda: ahead)
    (shop / "content" / "newsletter" / "2025-04-01-aprile.md").write_text(
        "---\ntitle: La lettera di aprile\ndate: 2025-04-01\n---\n\nAprile.\n",
        encoding="utf-8")
    waits: list[float] = []
    result = operations.send_issue(shop, "aprile", rate=3600, sleep=waits.append)
    assert result.outcome.progress.sent == 1
    assert max(waits, default=0.0) <= 1.0  # one interval at 3,600 an hour; it was a day
    assert len(smtp_server.sink.wait_for(2)) == 2


def test_the_draft_lists_what_is_new_since_the_last_issue(shop: Path) -> None:
    (shop / "content" / "newsletter" / "2025-03-05-marzo.md").unlink()
    draft = operations.draft_issue(shop, "La prima lettera")
    text = draft.path.read_text(encoding="utf-8")
    assert draft.path.name.endswith("-la-prima-lettera.md") and draft.since is None
    assert "### [Il nuovo forno](/blog/2025/03/il-nuovo-forno/)" in text
    assert "[![La bocca del forno](/assets/forno.jpg)](/blog/2025/03/il-nuovo-forno/)" in text
    assert "Come cuociamo adesso i nostri pezzi." in text
    assert "**39,00\xa0€** invece di 48,00\xa0€, in offerta fino al 31 marzo 2099" in text
    operations.send_issue(shop, "la-prima-lettera")
    # nothing new since: the next draft lists nothing; a changed price brings the product back
    second = operations.draft_issue(shop, "La seconda")
    assert "Il nuovo forno" not in second.path.read_text() and second.products == 0
    product = shop / "content" / "products" / "vaso-blu.md"
    product.write_text(product.read_text().replace("sale_price: 39.00", "sale_price: 35.00"))
    third = operations.draft_issue(shop, "La terza")
    assert third.products == 1 and "**35,00\xa0€**" in third.path.read_text()


@pytest.mark.sqlite_only
def test_a_version_3_database_migrates_keeping_its_mail(tmp_path: Path) -> None:
    path = tmp_path / "forms.sqlite3"
    old = sqlite3.connect(path, isolation_level=None)
    for version in range(3):
        for statement in _MIGRATIONS[version]:
            old.execute(statement)
    old.execute("PRAGMA user_version = 3")
    old.execute("INSERT INTO submissions (form, created_at, status, data, ip_hash) VALUES"
                " ('contact', '2025-01-01T00:00:00+00:00', 'received', '{}', 'x')")
    old.execute("INSERT INTO outbox (submission_id, recipient, created_at, next_attempt_at,"
                " sent_at) VALUES (1, 'owner@example.com', 'now', 0, NULL),"
                " (1, 'owner@example.com', 'now', 0, '2025-01-01T00:00:01+00:00')")
    old.close()
    with closing(connect_file(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        rows = conn.execute("SELECT id, kind, submission_id, sent_at IS NULL, outcome FROM outbox"
                            " ORDER BY id").fetchall()
        assert rows == [(1, "notification", 1, 1, ""), (2, "notification", 1, 0, "sent")]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

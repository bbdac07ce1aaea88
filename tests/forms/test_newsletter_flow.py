"""The newsletter end to end, every mail through a real SMTP server on loopback (aiosmtpd):
sign-up, confirmation mail, confirmation by POST only, the issue, one-click unsubscribe as
RFC 8058 describes it, and no mail after that."""

from __future__ import annotations

import re
import stat
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from forms_support import VALID, FakeClock, SmtpServer, WsgiClient
from newsletter_support import (
    SECRET_TEXT,
    URL,
    header,
    html_part,
    path_of,
    query,
    shop_app,
    status_of,
    text_part,
    write_shop,
)

from storefront.newsletter import operations

pytestmark = pytest.mark.both_backends

SLUG = "marzo"
UTM = {"utm_source": ["newsletter"], "utm_medium": ["email"], "utm_campaign": [SLUG]}


@pytest.fixture(autouse=True)
def endpoint_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # the owner's commands and the endpoint sign with the same secret, as in production
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)


def sign_up(client: WsgiClient, email: str) -> None:
    result = client.post("newsletter", {**VALID["newsletter"], "email": email})
    assert result.status == 303, result.text
    assert result.headers["location"] == "https://bottega.example/api/forms/newsletter/confirm"


def mails_to(messages: list[Message], address: str) -> list[Message]:
    return [m for m in messages if m["To"] == address]


def test_sign_up_confirm_issue_unsubscribe(tmp_path: Path, smtp_server: SmtpServer) -> None:
    write_shop(tmp_path, smtp_port=smtp_server.port)
    clock = FakeClock()
    sink = smtp_server.sink
    with shop_app(tmp_path, clock) as app:
        client = WsgiClient(app, clock)
        sign_up(client, "luca@example.com")
        sign_up(client, "anna@example.com")
        assert app.deliver_now().sent == 2
        confirmations = sink.wait_for(2)
        client.origin = None  # the links in a mail are opened without any Origin

        # the confirmation mail: plain text, one link (the signed confirmation), no marketing
        [mail] = mails_to(confirmations, "luca@example.com")
        assert not mail.is_multipart() and mail.get_content_type() == "text/plain"
        assert header(mail, "Subject") == "Conferma l'iscrizione a «La lettera della bottega»"
        body = text_part(mail)
        [link] = URL.findall(body)
        assert link.startswith("https://bottega.example/api/forms/newsletter/confirm?t=")
        for advert in ("Vaso blu", "forno", "offerta", "utm_", "/prodotti/", "/blog/", "€"):
            assert advert not in body
        assert "Bottega Aurora" in body and "Via dei Vasai 14" in body

        # opening the link (as a mail scanner does) shows a button and confirms nothing
        for method in ("GET", "HEAD", "GET"):
            page = client.request(method, path_of(link))
            assert page.status == 200
            assert status_of(tmp_path, "luca@example.com") == "pending"
        assert '<form method="post">' in page.text and "Confermo" in page.text
        # pressing the button POSTs; the subscriber lands on the form's thank-you page
        token = parse_qs(urlsplit(link).query)["t"][0]
        done = client.request("POST", path_of(link), f"t={token}".encode())
        assert done.status == 303 and done.headers["location"] == "https://bottega.example/iscritto/"
        assert status_of(tmp_path, "luca@example.com") == "confirmed"
        [evidence] = query(tmp_path, "SELECT form, consent_version, signup_ip_hash, confirmed_at,"
                           " confirm_ip_hash, signed_up_at FROM subscribers WHERE email = ?",
                           ("luca@example.com",))
        assert evidence[0] == "newsletter" and evidence[1] == "2025-02"
        assert len(evidence[2]) == 32 and evidence[3] and len(evidence[4]) == 32 and evidence[5]
        # a second press changes nothing and answers the same
        again = client.request("POST", path_of(link), f"t={token}".encode())
        assert again.status == 303
        # anna confirms too
        [anna_mail] = mails_to(confirmations, "anna@example.com")
        client.request("POST", path_of(URL.findall(text_part(anna_mail))[0]))
        assert status_of(tmp_path, "anna@example.com") == "confirmed"

        # the issue, to every confirmed subscriber
        result = operations.send_issue(tmp_path, SLUG)
        assert result.queued_now and result.outcome.progress.sent == 2
        issues = sink.wait_for(4)[2:]
        assert sorted(m["To"] for m in issues) == ["anna@example.com", "luca@example.com"]
        [issue] = mails_to(issues, "luca@example.com")
        assert issue.get_content_type() == "multipart/alternative"
        html, text = html_part(issue), text_part(issue)
        assert header(issue, "Subject") == "La lettera di marzo"
        assert header(issue, "List-Id") == '"La lettera della bottega" <newsletter.bottega.example>'
        assert issue["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        anna_issue = mails_to(issues, "anna@example.com")[0]
        assert issue["Message-ID"] and issue["Message-ID"] != anna_issue["Message-ID"]
        https, mailto = (part.strip(" <>") for part in issue["List-Unsubscribe"].split(","))
        assert https.startswith("https://bottega.example/api/forms/newsletter/unsubscribe?t=")
        assert mailto.startswith("mailto:lettera@bottega.example?subject=unsubscribe%20")
        # personalised: the reader's own link in the header and in both parts, not anna's
        assert (https in text and https.replace("&", "&amp;") in html) or https in html
        anna_link = mails_to(issues, "anna@example.com")[0]["List-Unsubscribe"].split(",")[0]
        assert anna_link.strip(" <>") != https
        # links into the shop carry the campaign; the friend's site does not
        shop_links = [u for u in URL.findall(html.replace("&amp;", "&"))
                      if u.startswith("https://bottega.example/") and "/api/forms/" not in u]
        assert any("/blog/2025/03/il-nuovo-forno/" in u for u in shop_links)
        assert any("/prodotti/vaso-blu/" in u for u in shop_links)
        for url in shop_links:
            params = parse_qs(urlsplit(url).query)
            if "/assets/" not in url:
                assert {k: params[k] for k in UTM} == UTM, url
        assert "https://altro.example/x\"" in html
        # the site's plain copy (no metadata), absolute, never wider than the photo (40 px)
        assert re.search(r'<img width="40" alt="Il vaso blu" src="https://bottega.example/'
                         r'assets/vaso-40w\.[0-9a-f]{10}\.jpg" style="display: block;', html), html
        assert "Via dei Vasai 14" in html and "hai confermato" in html
        assert "Il forno nuovo è arrivato" not in text  # the post's body is not the issue's
        assert "forno nuovo\r\n<https://bottega.example/blog/2025/03/il-nuovo-forno/?utm_source=" \
            "newsletter&utm_medium=email&utm_campaign=marzo>" in text

        # one-click unsubscribe exactly as RFC 8058: POST to the header's URI, the fixed body,
        # no cookie, no Origin; the answer is not a redirect
        body = b"List-Unsubscribe=One-Click"
        answer = client.request("POST", path_of(https), body,
                                content_type="application/x-www-form-urlencoded")
        assert answer.status == 200 and "Non riceverai più" in answer.text
        assert status_of(tmp_path, "luca@example.com") == "unsubscribed"
        [method] = query(tmp_path, "SELECT unsubscribe_method FROM subscribers WHERE email = ?",
                         ("luca@example.com",))
        assert method == ("one-click",)
        # idempotent, also as multipart as some providers send it
        boundary = "b0undary"
        multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\""
                     f"\r\n\r\nOne-Click\r\n--{boundary}--\r\n").encode()
        repeat = client.request("POST", path_of(https), multipart,
                                content_type=f"multipart/form-data; boundary={boundary}")
        assert repeat.status == 200 and repeat.body == answer.body

    # no further mail to luca: the next issue goes to anna only
    issue = tmp_path / "content" / "newsletter" / "2025-04-01-aprile.md"
    issue.write_text("---\ntitle: Aprile\n---\n\nNovità di aprile.\n", encoding="utf-8")
    issue.chmod(0o664)  # the owner's choice: recording the sending keeps it
    result = operations.send_issue(tmp_path, "aprile")
    assert result.outcome.progress.sent == 1
    assert [m["To"] for m in sink.wait_for(5)[4:]] == ["anna@example.com"]
    # and the file now says when it went out, so the site publishes it
    assert "\nsent: " in issue.read_text()
    assert stat.S_IMODE(issue.stat().st_mode) == 0o664


def test_a_sender_with_a_name_and_a_unicode_domain_goes_out_as_every_mail_needs_it(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    """smtp.sender: "Forno Rossi <sito@caffè.it>" (the newsletter without a sender of its own):
    the notification shows it whole; the confirmation and the issue go from its address under
    the shop's name, which is also the issue's unsubscribe mailto:. The domain goes out in its
    ASCII form, which a server without SMTPUTF8 (this one) takes. Before, the name ended up inside
    the newsletter's address ("Bottega Aurora" <"Forno Rossi <sito"@caffè.it>>) and mailto:, and
    the confirmation of a Unicode domain failed to serialise."""
    write_shop(tmp_path, smtp_port=smtp_server.port)
    settings = tmp_path / "storefront.yaml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("sender: sito@bottega.example,", 'sender: "Forno Rossi <sito@caffè.it>",')
    settings.write_text(text.replace("  sender: lettera@bottega.example\n", ""), encoding="utf-8")
    clock = FakeClock()
    sink = smtp_server.sink
    with shop_app(tmp_path, clock) as app:
        client = WsgiClient(app, clock)
        assert client.post("contact", VALID["contact"]).status == 303
        sign_up(client, "luca@example.com")
        assert app.deliver_now().sent == 2
        [notification] = mails_to(sink.wait_for(2), "owner@bottega.example")
        [confirmation] = mails_to(sink.messages, "luca@example.com")
        assert notification["From"] == "Forno Rossi <sito@xn--caff-8oa.it>"
        assert confirmation["From"] == "Bottega Aurora <sito@xn--caff-8oa.it>"
        assert confirmation["Message-ID"].endswith("@xn--caff-8oa.it>")
        assert [sender for sender, _ in sink.envelopes] == ["sito@xn--caff-8oa.it"] * 2
        client.origin = None
        client.request("POST", path_of(URL.findall(text_part(confirmation))[0]))
        assert status_of(tmp_path, "luca@example.com") == "confirmed"

    assert operations.send_issue(tmp_path, SLUG).outcome.progress.sent == 1
    [issue] = sink.wait_for(3)[2:]
    assert issue["From"] == "Bottega Aurora <sito@xn--caff-8oa.it>"
    assert issue["Reply-To"] is None
    mailto = issue["List-Unsubscribe"].split(",")[1].strip(" <>")
    assert mailto.startswith("mailto:sito@xn--caff-8oa.it?subject=unsubscribe%20")
    assert sink.envelopes[2] == ("sito@xn--caff-8oa.it", ["luca@example.com"])

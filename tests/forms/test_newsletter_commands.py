"""``storefront newsletter ...`` from the command line: what the owner reads and the files written."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from forms_support import VALID, FakeClock, SmtpServer, WsgiClient
from newsletter_support import SECRET_TEXT, header, query, shop_app, write_shop

from storefront.cli import main

pytestmark = pytest.mark.both_backends

READERS = """\
Email Address,First Name,CONFIRM_TIME,evidence
anna@example.com,Anna,2024-11-02 10:00:00,Mailchimp double opt-in
bruno@example.com,Bruno,,
"""


@pytest.fixture
def shop(tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)
    write_shop(tmp_path, smtp_port=smtp_server.port)
    (tmp_path / "readers.csv").write_text(READERS, encoding="utf-8")
    return tmp_path


def run(root: Path, *args: str) -> int:
    return main(["--root", str(root), "newsletter", *args])


def test_import_list_export_remove(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(shop, "import", str(shop / "readers.csv")) == 0
    assert "1 confirmed (with evidence of consent), 1 sent a confirmation mail" in \
        capsys.readouterr().out
    assert run(shop, "subscribers") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 pending, 1 confirmed, 0 unsubscribed"
    assert out[1].startswith("anna@example.com") and "confirmed" in out[1]
    assert run(shop, "export", "--format", "json", "--status", "confirmed") == 0
    [anna] = json.loads(capsys.readouterr().out)
    assert anna["evidence"] == "Mailchimp double opt-in" and anna["confirmed_at"]
    assert "confirm_nonce" not in anna
    target = shop / "readers-out.csv"
    assert run(shop, "export", "--output", str(target)) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["email"] for r in rows] == ["anna@example.com", "bruno@example.com"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: its owner's only
    assert run(shop, "remove", "anna@example.com") == 0
    assert "it will not be mailed again" in capsys.readouterr().out
    assert run(shop, "subscribers", "--status", "unsubscribed") == 0
    assert "anna@example.com" in capsys.readouterr().out


def test_a_bad_import_is_a_content_error(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (shop / "bad.csv").write_text("email\nnobody\n", encoding="utf-8")
    assert run(shop, "import", str(shop / "bad.csv")) == 1
    assert f'{shop / "bad.csv"}:2: "nobody" is not an e-mail address' in capsys.readouterr().err


def test_preview_and_test_copy(shop: Path, smtp_server: SmtpServer,
                               capsys: pytest.CaptureFixture[str]) -> None:
    target = shop / "preview.html"
    assert run(shop, "preview", "marzo", "--output", str(target)) == 0
    html = target.read_text(encoding="utf-8")
    assert "La lettera di marzo" in html and 'href="#unsubscribe"' in html
    assert run(shop, "send", "marzo", "--test", "me@example.com") == 0
    [copy] = smtp_server.sink.wait_for(1)
    assert copy["To"] == "me@example.com" and header(copy, "Subject") == "[test] La lettera di marzo"
    # a test copy queues nothing and marks nothing as sent
    assert "sent:" not in (shop / "content/newsletter/2025-03-05-marzo.md").read_text()


def test_without_a_newsletter_the_commands_say_how_to_set_it_up(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from forms_support import site_yaml

    (tmp_path / "storefront.yaml").write_text(site_yaml(), encoding="utf-8")
    assert main(["--root", str(tmp_path), "newsletter", "new"]) == 1
    assert "the newsletter is not set up" in capsys.readouterr().err


def test_new_drafts_an_issue(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(shop, "new", "Aprile in bottega") == 0
    out = capsys.readouterr().out
    assert "1 post(s) and 1 new or changed product(s) (first issue: everything)" in out
    [draft] = (shop / "content" / "newsletter").glob("*-aprile-in-bottega.md")
    assert draft.read_text(encoding="utf-8").startswith("---\ntitle: Aprile in bottega\n")
    assert run(shop, "new", "Aprile in bottega") == 1  # never over an existing file
    assert "already exists" in capsys.readouterr().err


def test_a_resumed_send_says_the_file_changed_only_when_the_owner_changed_it(
        shop: Path, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    """The first send writes sent: into the issue's file; that is not a change of the issue."""
    from storefront.newsletter import operations

    readers = "email,consent_at,evidence\n" + "".join(
        f"r{n}@example.com,2025-01-10 10:00,old list\n" for n in range(3))
    (shop / "readers.csv").write_text(readers, encoding="utf-8")
    assert run(shop, "import", str(shop / "readers.csv")) == 0

    def stop_after_one(done: int, total: int) -> None:
        raise KeyboardInterrupt  # the owner's Ctrl-C after the first mail

    with pytest.raises(KeyboardInterrupt):
        operations.send_issue(shop, "marzo", rate=0, progress=stop_after_one)
    source = shop / "content" / "newsletter" / "2025-03-05-marzo.md"
    assert "\nsent: " in source.read_text(encoding="utf-8")
    capsys.readouterr()
    assert run(shop, "send", "marzo", "--rate", "0") == 0
    out = capsys.readouterr().out
    assert "3 sent" in out and "changed" not in out
    source.write_text(source.read_text(encoding="utf-8") + "\nUna riga in più.\n",
                      encoding="utf-8")
    assert run(shop, "send", "marzo", "--rate", "0") == 0
    assert "the issue's file changed since it was first sent" in capsys.readouterr().out



@pytest.mark.sqlite_only
@pytest.mark.parametrize("command", [["export"], ["export", "--format", "json"],
                                     ["preview", "marzo"], ["preview", "marzo", "--text"]])
@pytest.mark.parametrize("name", ["forms.sqlite3", "forms.sqlite3-wal"])
def test_an_output_file_never_overwrites_the_database(
        shop: Path, command: list[str], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """As for ``forms export``: a mistyped --output beside the running endpoint must not
    replace (export) or overwrite in place (preview) the form database or its WAL."""
    clock = FakeClock()
    with shop_app(shop, clock) as app:
        assert WsgiClient(app, clock).post("newsletter", VALID["newsletter"]).status == 303
        target = shop / "data" / name
        before = target.read_bytes()
        assert run(shop, *command, "--output", str(shop / "data" / ".." / "data" / name)) == 2
        assert "is the form database itself" in capsys.readouterr().err
        assert target.read_bytes() == before
        assert WsgiClient(app, clock).post("contact", VALID["contact"]).status == 303
    assert query(shop, "SELECT form FROM submissions ORDER BY id") == [("newsletter",),
                                                                       ("contact",)]

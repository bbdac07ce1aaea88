"""The owner's commands: list, export (CSV/JSON), forget."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from forms_support import VALID, WsgiClient

from storefront.forms.commands import (
    add_forms_parser,
    run_forms_export,
    run_forms_forget,
    run_forms_list,
)

pytestmark = pytest.mark.both_backends


@pytest.fixture
def filled(client: WsgiClient, site_root: Path) -> Path:
    assert client.post("contact", VALID["contact"]).status == 303
    evil = {**VALID["contact"], "name": "=HYPERLINK(\"http://evil\")", "email": "b@example.com",
            "message": "riga 1\nriga 2, \"citata\""}
    assert client.post("contact", evil).status == 303
    assert client.post("newsletter", VALID["newsletter"]).status == 303
    spam = {**VALID["newsletter"], "website": "x"}
    client.request("POST", "/api/forms/newsletter", "&".join(f"{k}={v}" for k, v in spam.items())
                   .encode())
    return site_root


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path)
    add_forms_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


def test_parser_registers_the_five_commands(site_root: Path) -> None:
    args = parse("--root", str(site_root), "forms", "export", "--form", "contact", "--format",
                 "json")
    assert args.func is run_forms_export
    assert (args.form, args.format) == ("contact", "json")
    assert parse("forms", "serve").port == 8081
    assert parse("forms", "serve").host == "127.0.0.1"
    assert parse("forms", "forget", "a@example.com").email == "a@example.com"
    assert parse("forms", "send").due_only is False
    assert parse("forms", "list").form is None
    with pytest.raises(SystemExit):
        parse("forms", "export", "--form", "contact", "--format", "xml")


def test_list_counts_per_form(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_forms_list(parse("--root", str(filled), "forms", "list")) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["form", "received", "spam", "latest"]
    assert lines[1].split()[:3] == ["contact", "2", "0"]
    assert lines[2].split()[:3] == ["newsletter", "1", "1"]
    assert lines[3].split()[:4] == ["order", "0", "0", "-"]
    assert "mail: 0 sent, 2 pending" in out


def test_list_one_form(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_forms_list(parse("--root", str(filled), "forms", "list", "--form", "contact")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("#2 ")  # newest first
    assert "name=Maria Rossi" in lines[1]


def test_export_csv_neutralises_formulas(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_forms_export(parse("--root", str(filled), "forms", "export", "--form",
                                  "contact")) == 0
    captured = capsys.readouterr()
    table = list(csv.reader(io.StringIO(captured.out)))
    assert table[0] == ["id", "created_at", "status", "consent_version", "name", "email",
                        "phone", "message", "privacy"]
    assert table[1][4:] == ["Maria Rossi", "maria@example.com", "", "Buongiorno,\nvorrei un vaso.",
                            "yes"]
    assert table[2][4] == "'=HYPERLINK(\"http://evil\")"
    assert table[2][7] == 'riga 1\nriga 2, "citata"'
    assert "exported 2 submissions of 'contact'" in captured.err


def test_export_json_to_a_file(filled: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    args = parse("--root", str(filled), "forms", "export", "--form", "newsletter", "--format",
                 "json", "--output", str(target), "--spam")
    assert run_forms_export(args) == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [d["status"] for d in data] == ["received", "spam"]
    assert data[0]["fields"] == {"email": "luca@example.com", "privacy": True}
    assert data[0]["consent_version"] == "2025-02"
    assert not target.with_name("out.json.part").exists()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("name", ["forms.sqlite3", "forms.sqlite3-wal"])
def test_export_never_overwrites_the_database(filled: Path, name: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    target = filled / "data" / name
    before = target.read_bytes()
    args = parse("--root", str(filled), "forms", "export", "--form", "contact", "--output",
                 str(filled / "data" / ".." / "data" / name))
    assert run_forms_export(args) == 2
    assert "is the form database itself" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_forget_deletes_one_person(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_forms_forget(parse("--root", str(filled), "forms", "forget",
                                  "Maria@Example.com")) == 0
    assert "deleted 1 submission of Maria@Example.com" in capsys.readouterr().out
    assert run_forms_forget(parse("--root", str(filled), "forms", "forget",
                                  "maria@example.com")) == 0
    assert "no submissions of maria@example.com" in capsys.readouterr().out
    run_forms_list(parse("--root", str(filled), "forms", "list"))
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:3] == ["contact", "1", "0"]
    assert "mail: 0 sent, 1 pending" in out


@pytest.mark.sqlite_only
def test_forget_fails_while_a_reader_keeps_the_data_in_the_wal(
    filled: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    reader = sqlite3.connect(filled / "data" / "forms.sqlite3", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM submissions").fetchone()
    try:
        assert run_forms_forget(parse("--root", str(filled), "forms", "forget",
                                      "maria@example.com")) == 1
    finally:
        reader.execute("COMMIT")
        reader.close()
    captured = capsys.readouterr()
    assert "deleted 1 submission of maria@example.com" in captured.out
    assert "may still be in the database's write-ahead log" in captured.err
    assert run_forms_forget(parse("--root", str(filled), "forms", "forget",
                                  "maria@example.com")) == 0  # run again: now it is gone


def test_commands_through_the_storefront_cli(filled: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    from storefront.cli import main

    assert main(["--root", str(filled), "forms", "list"]) == 0
    assert "contact" in capsys.readouterr().out
    assert main(["--root", str(filled), "forms", "export", "--form", "newsletter", "--format",
                 "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["fields"]["email"] == "luca@example.com"
    (filled / "storefront.yaml").write_text("title: [broken\n")
    assert main(["--root", str(filled), "forms", "list"]) == 1
    assert "storefront.yaml:" in capsys.readouterr().err


def test_an_export_file_is_readable_by_its_owner_only(filled: Path, tmp_path: Path) -> None:
    # leads are personal data: as private as the 0600 database, whatever the umask
    target = tmp_path / "exports" / "leads.csv"
    target.parent.mkdir()
    old = os.umask(0o022)
    try:
        args = parse("--root", str(filled), "forms", "export", "--form", "contact",
                     "--output", str(target))
        assert run_forms_export(args) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "b@example.com" in target.read_text(encoding="utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["leads.csv"]  # no temporary file


def test_a_private_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    from storefront.files import write_private_text

    target = tmp_path / "leads.csv"
    target.write_text("the last export\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    (tmp_path / "leads.csv.part").symlink_to(tmp_path / "notes.txt")  # a planted link: not used

    def failing(out) -> None:
        out.write("anna@example.com\n")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_private_text(target, failing)
    assert target.read_text(encoding="utf-8") == "the last export\n"
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.csv", "leads.csv.part",
                                                          "notes.txt"]  # no half export left
    assert write_private_text(target, lambda out: out.write("bruno@example.com\n")) == 18
    assert target.read_text(encoding="utf-8") == "bruno@example.com\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

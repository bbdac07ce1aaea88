"""Helpers of the form-endpoint tests: the test site config, a fake clock, an in-process WSGI
client, a mail sink for a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiosmtpd.controller import Controller

from storefront.config import SiteConfig, load_config, parse_config
from storefront.forms import FormsApp, open_database

SITE = "https://bottega.example"
SECRET = b"test-secret-0123456789abcdef"

SITE_YAML = """\
title: Bottega Aurora
{base_url_line}language: {language}
forms:
  contact:
    title: Scrivici
    success_page: /grazie/
    notify: owner@bottega.example
    consent_text: Acconsento al trattamento dei dati.
    consent_version: "2025-01"
    fields:
      - {{name: name, type: text, label: Nome, required: true, max_length: 100}}
      - {{name: email, type: email, label: Email, required: true, max_length: 200}}
      - {{name: phone, type: tel, label: Telefono, max_length: 40}}
      - {{name: message, type: textarea, label: Messaggio, required: true, max_length: 2000}}
      - {{name: privacy, type: checkbox, label: Privacy, consent: true}}
  newsletter:
    success_page: /iscritto/
    consent_version: "2025-02"
    fields:
      - {{name: email, type: email, label: Email, required: true}}
      - {{name: privacy, type: checkbox, label: Privacy, required: true, consent: true}}
  order:
    title: Richiesta d'ordine
    success_page: /ordine-ricevuto/
    notify: orders@bottega.example
    consent_version: "2025-01"
    require_one_of: [email, phone]
    fields:
      - {{name: sku, type: hidden, max_length: 40}}
      - {{name: product, type: hidden, max_length: 200}}
      - {{name: quantity, type: number, label: Quantità, required: true, min: 1, max: 6}}
      - {{name: delivery, type: select, label: Consegna, required: true,
         choices: [Ritiro, Spedizione]}}
      - {{name: name, type: text, label: Nome, required: true, max_length: 100}}
      - {{name: email, type: email, label: Email, max_length: 200}}
      - {{name: phone, type: tel, label: Telefono, max_length: 40}}
      - {{name: note, type: textarea, label: Note, max_length: 2000}}
      - {{name: privacy, type: checkbox, label: Privacy, consent: true}}
form_endpoint:
  database: {database}
  max_body_bytes: {max_body}
  min_fill_seconds: {min_fill}
  rate_limit: {rate_limit}
  rate_window_seconds: 600
  allowed_origins: [https://www.bottega.example]
  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: {security}, sender: sito@bottega.example,
         timeout: 5}}
"""

VALID = {
    "contact": {"name": "Maria Rossi", "email": "maria@example.com", "phone": "",
                "message": "Buongiorno,\r\nvorrei un vaso.", "privacy": "on"},
    "newsletter": {"email": "luca@example.com", "privacy": "on"},
    "order": {"sku": "VB-01", "product": "Vaso blu", "quantity": "2", "delivery": "Ritiro",
              "name": "Anna", "email": "", "phone": "+39 055 123 4567", "note": "",
              "privacy": "on"},
}


SQLITE_DATABASE = "data/forms.sqlite3"


class Backend:
    """The database of the running test: ``form_endpoint.database`` of every test site it
    writes (the conftest's ``database`` fixture sets it: a path, or a new PostgreSQL database)."""

    setting = SQLITE_DATABASE


def site_yaml(*, base_url: str = SITE + "/", language: str = "it", max_body: int = 32768,
              rate_limit: int = 10, smtp_port: int = 2525, security: str = "none",
              min_fill: float = 3, database: str | None = None) -> str:
    """The test site's storefront.yaml; ``database`` is a path or a postgresql:// URL
    (default: the running test's, :class:`Backend`)."""
    database = database or Backend.setting
    base_url_line = f"base_url: {base_url}\n" if base_url else ""
    return SITE_YAML.format(base_url_line=base_url_line, language=language, max_body=max_body,
                            rate_limit=rate_limit, smtp_port=smtp_port, security=security,
                            min_fill=min_fill, database=database)


def make_config(**options: Any) -> SiteConfig:
    return parse_config(site_yaml(**options))


class FakeClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class OffsetClock(FakeClock):
    """Real time plus whatever :meth:`advance` added (for tests with background threads)."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def __call__(self) -> float:
        return time.time() + super().__call__()


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        assert self.headers["content-type"].startswith("application/json")
        return json.loads(self.body)


@dataclass
class WsgiClient:
    """Call the app in process, as a WSGI server would."""

    app: FormsApp
    clock: FakeClock
    origin: str | None = SITE
    ip: str = "203.0.113.7"
    calls: list[Result] = field(default_factory=list)

    def request(self, method: str, path: str, body: bytes = b"", *,
                content_type: str = "application/x-www-form-urlencoded", json: bool = False,
                headers: dict[str, str] | None = None) -> Result:
        path, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
            "SERVER_NAME": "forms.internal", "SERVER_PORT": "8081", "HTTP_HOST": "forms.internal",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": self.ip, "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": content_type,
        }
        if self.origin is not None:
            environ["HTTP_ORIGIN"] = self.origin
        if json:
            environ["HTTP_ACCEPT"] = "application/json"
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
                environ[key] = value
            elif value is None:
                environ.pop("HTTP_" + key, None)
            else:
                environ["HTTP_" + key] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = {k.lower(): v for k, v in response_headers}

        chunks = self.app(environ, start_response)
        result = Result(captured["status"], captured["headers"], b"".join(chunks))
        assert result.headers["content-length"] == str(len(result.body))
        self.calls.append(result)
        return result

    def token(self, form: str) -> str:
        result = self.request("POST", f"/api/forms/{form}/token", json=True)
        assert result.status == 200, result.body
        return str(result.json()["token"])

    def post(self, form: str, fields: dict[str, str], *, token: str | None = None,
             json: bool = False, wait: bool = True, **kwargs: Any) -> Result:
        """Post ``fields`` like the theme's script: fetch a token, let time pass, submit."""
        if token is None:
            token = self.token(form)
            if wait:
                self.clock.advance(5)
        body = urlencode({**fields, "_ts": token, "website": ""}).encode()
        return self.request("POST", f"/api/forms/{form}", body, json=json, **kwargs)


def rows(root: Path, sql: str = "SELECT form, status, data, email FROM submissions ORDER BY id",
         params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Query the database of the site at ``root``, whichever engine its config names."""
    with open_database(load_config(root), root) as database, database.connect() as conn:
        return [tuple(row) for row in conn.execute(sql, params)]


def run_sql(root: Path, sql: str) -> None:
    """Run one statement on the database of the site at ``root`` (a test's sabotage)."""
    with open_database(load_config(root), root) as database, database.connect() as conn:
        conn.execute(sql)


def stored_bytes(root: Path) -> bytes:
    """What the engine of the site at ``root`` keeps on disk: SQLite's files, or the files of
    PostgreSQL's tables (read from the test server's data folder; WAL aside)."""
    with open_database(load_config(root), root) as database, database.connect() as conn:
        if database.kind == "sqlite":
            folder = (root / SQLITE_DATABASE).parent
            return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())
        conn.execute("CHECKPOINT")  # every table page written to its file
        files = [conn.execute("SELECT current_setting('data_directory') || '/' ||"
                              " pg_relation_filepath(?)", (table,)).fetchone()[0]
                 for table in ("meta", "submissions", "outbox", "subscribers", "used_tokens",
                               "newsletter_issues")]
        return b"".join(Path(name).read_bytes() for name in files)


# -- a real SMTP server on loopback ---------------------------------------------------------------


class MailSink:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.received = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.received:
            self.messages.append(message_from_bytes(envelope.original_content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.received.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        with self.received:
            self.received.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    sink: MailSink
    port: int
    controller: Controller | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port,
                                     **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None



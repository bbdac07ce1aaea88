"""Helpers of the tests that run the endpoint and the owner's commands as separate processes:
``storefront forms serve`` on a free port, clients posting over HTTP, owner commands, and a
look at what the kernel says about the endpoint's files and locks."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from email.message import Message
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from forms_support import SITE, rows, site_yaml

ENDPOINT_SECRET = "process-test-secret-0123456789abcdef"
JSON_HEADERS = {"Origin": SITE, "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json"}


def write_site(root: Path, **options: Any) -> Path:
    """The test site in ``root`` (no minimum fill time); return its database path."""
    (root / "storefront.yaml").write_text(site_yaml(**{"min_fill": 0, **options}))
    return root / "data" / "forms.sqlite3"


class Endpoint:
    """``storefront forms serve`` in a process of its own."""

    def __init__(self, root: Path, *, threads: int = 8) -> None:
        env = {**os.environ, "STOREFRONT_FORMS_SECRET": ENDPOINT_SECRET}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storefront", "--root", str(root), "forms", "serve",
             "--port", "0", "--threads", str(threads)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert "serving on http://127.0.0.1:" in line, line
        self.port = int(line.split("http://127.0.0.1:")[1].split()[0])
        self.pid = self.process.pid

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def open_files(self) -> list[str]:
        """What the endpoint's descriptors point to (a deleted file ends in " (deleted)")."""
        folder = Path(f"/proc/{self.pid}/fd")
        targets = []
        for fd in folder.iterdir():
            try:
                targets.append(os.readlink(fd))
            except FileNotFoundError:  # closed meanwhile
                continue
        return targets

    def stop(self, signum: int = signal.SIGTERM) -> int:
        os.kill(self.pid, signum)
        return self.process.wait(30)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def contact_fields(marker: str, email: str | None = None) -> dict[str, str]:
    """A valid contact submission named ``marker`` (its notification's subject ends with it)."""
    return {"name": marker, "email": email or f"{marker}@example.com",
            "message": f"submission {marker}", "privacy": "on", "website": ""}


def fetch_token(conn: http.client.HTTPConnection, form: str) -> str:
    conn.request("POST", f"/api/forms/{form}/token", headers=JSON_HEADERS)
    response = conn.getresponse()
    payload = response.read()
    assert response.status == 200, payload
    return str(json.loads(payload)["token"])


def post_form(conn: http.client.HTTPConnection, form: str, fields: dict[str, str],
              token: str | None = None) -> tuple[int, dict[str, Any]]:
    """Post ``fields`` with a fresh token (or ``token``); the status and the JSON answer."""
    if token is None:
        token = fetch_token(conn, form)
    conn.request("POST", f"/api/forms/{form}", body=urlencode({**fields, "_ts": token}),
                 headers=JSON_HEADERS)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


class SubmissionStream:
    """Client threads posting numbered contact submissions on keep-alive connections until
    stopped or the endpoint dies; ``acked`` holds the markers answered with success. Given
    several endpoints' ports, each client posts to them in turn, and leaves out from then on one
    that stops answering (it was stopped or killed)."""

    def __init__(self, port: int | list[int], clients: int = 4) -> None:
        self.ports = [port] if isinstance(port, int) else list(port)
        self.acked: list[str] = []  # list.append is atomic
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._post, args=(c,), daemon=True)
                         for c in range(clients)]

    def _post(self, client: int) -> None:
        conns = {port: http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                 for port in self.ports}
        n = 0
        while not self._stop.is_set() and conns:
            port = sorted(conns)[n % len(conns)]
            marker = f"c{client}-{n}"
            n += 1
            try:
                status, answer = post_form(conns[port], "contact", contact_fields(marker))
            except (OSError, http.client.HTTPException):
                conns.pop(port).close()  # that endpoint was stopped or killed
                continue
            if status == 200 and answer["ok"] is True:
                self.acked.append(marker)
        for conn in conns.values():
            conn.close()

    def wait_for(self, count: int, timeout: float = 60.0) -> list[str]:
        """Wait until ``count`` submissions were acknowledged; return those acknowledged."""
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} of {count} acknowledged"
            assert any(t.is_alive() for t in self._threads), "every client stopped"
            time.sleep(0.01)
        return list(self.acked)

    def __enter__(self) -> SubmissionStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


def stop_with_sigterm(process: subprocess.Popen[str]) -> tuple[str, str, float]:
    """SIGTERM ``process`` (as systemd stops a service); its output and how long it took to end
    (it is killed if it has not ended within 60 s)."""
    try:
        started = time.monotonic()
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        return out, err, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def owner_command(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``storefront --root ROOT forms ARGS...`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "storefront", "--root", str(root), "forms", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def posix_locks(pid: int, path: Path) -> list[str]:
    """The POSIX (fcntl) locks process ``pid`` holds on ``path``, as /proc/locks lists them."""
    inode = path.stat().st_ino
    held = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        # "1: POSIX  ADVISORY  READ 1234 fe:00:5678 1073741826 1073742335"
        if fields[1] == "POSIX" and fields[4] == str(pid) and fields[5].endswith(f":{inode}"):
            held.append(line)
    return held


def stored_names(root: Path, form: str = "contact") -> list[str]:
    """The ``name`` field of every stored submission of ``form``."""
    return [json.loads(data)["name"]
            for (data,) in rows(root, "SELECT data FROM submissions WHERE form = ?", (form,))]


def claimed_unsent(root: Path) -> int:
    """Notifications claimed by a sender and not marked sent: the ones it may have been
    handing to the server (a claim always sets ``locked_until``, marking resets it)."""
    return int(rows(root, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
                          " AND locked_until > 0")[0][0])


def mails_per_name(messages: list[Message]) -> Counter[str]:
    """How many notifications arrived per submission (the subject ends with its name)."""
    return Counter(str(m["Subject"]).rsplit(" ", 1)[-1] for m in messages)

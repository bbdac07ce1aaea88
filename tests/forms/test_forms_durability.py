"""Durability: SIGKILL the serving process in the middle of a stream of submissions; every
submission that got a success response must be in the database afterwards."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from forms_support import SITE, site_yaml

CLIENTS = 8


def start_server(root: Path) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "STOREFRONT_FORMS_SECRET": "durability-test-secret-0123456789"}
    process = subprocess.Popen(
        [sys.executable, "-m", "storefront.forms", "--root", str(root), "serve", "--port", "0",
         "--threads", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "serving on http://127.0.0.1:" in line, line
    return process, int(line.split("http://127.0.0.1:")[1].split()[0])


def client_loop(port: int, client: int, acked: list[str], stop: threading.Event) -> None:
    """Post submissions on one keep-alive connection until the server dies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Origin": SITE, "Content-Type": "application/x-www-form-urlencoded",
               "Accept": "application/json"}
    try:
        n = 0
        while not stop.is_set():
            conn.request("POST", "/api/forms/contact/token", headers=headers)  # each works once
            token = json.loads(conn.getresponse().read())["token"]
            marker = f"c{client}-{n}"
            body = urlencode({"name": marker, "email": f"{marker}@example.com",
                              "message": f"submission {marker}", "privacy": "on", "_ts": token,
                              "website": ""})
            conn.request("POST", "/api/forms/contact", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.status == 200 and json.loads(payload)["ok"] is True:
                acked.append(marker)  # list.append is atomic
            n += 1
    except (OSError, http.client.HTTPException):
        return  # the server was killed
    finally:
        conn.close()


@pytest.mark.slow
def test_every_acknowledged_submission_survives_sigkill(tmp_path: Path) -> None:
    (tmp_path / "storefront.yaml").write_text(site_yaml(min_fill=0, rate_limit=10**9))
    process, port = start_server(tmp_path)
    acked: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(port, c, acked, stop))
               for c in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 800 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # mid-stream: every client has a request in flight
        process.wait(10)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
            process.wait()
        for t in threads:
            t.join(15)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert len(acked) >= 800
    conn = sqlite3.connect(tmp_path / "data" / "forms.sqlite3")
    try:
        stored = {json.loads(data)["name"] for (data,) in conn.execute("SELECT data FROM submissions")}
        outbox = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        total = conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    finally:
        conn.close()
    missing = set(acked) - stored
    assert missing == set(), f"{len(missing)} acknowledged submissions lost"
    assert outbox == total  # each stored submission has its mail queued, atomically
    # a submission may be stored without having been acknowledged (killed before the answer)
    assert len(stored) >= len(acked)

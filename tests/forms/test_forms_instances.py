"""Several endpoint instances on one PostgreSQL database, as real processes: submissions sent to
both while one is killed with SIGKILL, the rate limit and single-use tokens across instances,
mail and a newsletter sent by two instances at once, the health check, and ``forms migrate``
from SQLite. aiosmtpd on loopback counts what arrives."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from forms_support import SECRET, Backend, FakeClock, SmtpServer, WsgiClient, free_port, rows
from newsletter_support import SECRET_TEXT, write_shop
from process_support import (
    Endpoint,
    SubmissionStream,
    contact_fields,
    fetch_token,
    mails_per_name,
    owner_command,
    post_form,
    stored_names,
    write_site,
)

from storefront.config import load_config
from storefront.forms import create_app
from storefront.forms.backends import open_postgres
from storefront.newsletter import operations

pytestmark = pytest.mark.postgres_only


def claimed_by_running_or_dead(root: Path) -> Counter[str]:
    """Unsent notifications per claimant name ('' = not claimed)."""
    return Counter(name for (name,) in rows(root, "SELECT claimed_by FROM outbox"
                                                  " WHERE sent_at IS NULL"))


def test_two_instances_one_killed_mid_stream(tmp_path: Path, smtp_server: SmtpServer) -> None:
    write_site(tmp_path, smtp_port=smtp_server.port, rate_limit=100_000)
    with Endpoint(tmp_path) as first, Endpoint(tmp_path) as second:
        with SubmissionStream([first.port, second.port]) as stream:
            stream.wait_for(80)
            os.kill(second.pid, signal.SIGSTOP)  # so that it cannot take over before we look
            try:
                first.stop(signal.SIGKILL)  # mid-stream, its mail sender busy as well
                in_flight = claimed_by_running_or_dead(tmp_path)
            finally:
                os.kill(second.pid, signal.SIGCONT)
            killed_claims = sum(count for name, count in in_flight.items()
                                if name.startswith(f"{first.pid}-"))
            stream.wait_for(len(stream.acked) + 80)  # the survivor goes on taking submissions
        assert second.stop() == 0
    acked = list(stream.acked)
    result = owner_command(tmp_path, "send")  # whatever is left (nothing is stuck)
    assert result.returncode == 0, result.stderr

    stored = Counter(stored_names(tmp_path))
    assert set(acked) <= set(stored)  # every acknowledged submission is stored ...
    assert max(stored.values()) == 1  # ... once
    assert rows(tmp_path, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]
    mailed = mails_per_name(smtp_server.sink.wait_for(len(stored), timeout=30))
    assert set(mailed) == set(stored)  # every stored submission's notification arrived ...
    duplicates = sum(mailed.values()) - len(mailed)
    # ... once, except mails the killed instance had claimed and may have handed to the server
    # without recording it (SMTP cannot be undone: delivery across a crash is at least once)
    assert duplicates <= killed_claims


def test_the_rate_limit_is_shared_by_the_instances(tmp_path: Path) -> None:
    write_site(tmp_path, rate_limit=10)
    clients = 40
    with Endpoint(tmp_path, threads=clients) as first, Endpoint(tmp_path, threads=clients) as second:
        endpoints = [first, second]
        conns = [endpoints[n % 2].connection() for n in range(clients)]
        tokens = [fetch_token(conn, "contact") for conn in conns]
        barrier = threading.Barrier(clients)
        answers: dict[str, int] = {}

        def post(n: int) -> None:
            barrier.wait()
            answers[f"r{n}"] = post_form(conns[n], "contact", contact_fields(f"r{n}"), tokens[n])[0]

        threads = [threading.Thread(target=post, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for conn in conns:
            conn.close()
    assert Counter(answers.values()) == {200: 10, 429: 30}  # ten in all, not ten per instance
    assert set(stored_names(tmp_path)) == {name for name, status in answers.items()
                                           if status == 200}


def test_a_token_used_on_one_instance_is_refused_by_the_other(tmp_path: Path) -> None:
    write_site(tmp_path)
    with Endpoint(tmp_path) as first, Endpoint(tmp_path) as second:
        a, b = first.connection(), second.connection()
        token = fetch_token(a, "contact")
        assert post_form(a, "contact", contact_fields("once"), token)[0] == 200
        status, answer = post_form(b, "contact", contact_fields("twice"), token)
        assert status == 422 and answer["token"]  # unusable: a fresh one instead
        assert post_form(b, "contact", contact_fields("again"), answer["token"])[0] == 200
        a.close()
        b.close()
    assert stored_names(tmp_path) == ["once", "again"]


def test_health_check_of_each_instance(tmp_path: Path) -> None:
    write_site(tmp_path)
    with Endpoint(tmp_path) as endpoint:
        conn = endpoint.connection()
        conn.request("GET", "/api/forms/_health")
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (
            200, {"ok": True, "database": "postgresql"})
        conn.close()


def test_mail_senders_on_two_instances_send_each_mail_once(tmp_path: Path,
                                                           smtp_server: SmtpServer) -> None:
    """Notifications queued while no sender ran; then two endpoints and a ``forms send`` start
    together and compete for them: every mail goes out once, whoever sends it."""
    write_site(tmp_path, smtp_port=smtp_server.port, rate_limit=1000)
    clock = FakeClock()
    with create_app(load_config(tmp_path), tmp_path, clock=clock, secret=SECRET,
                    deliver_mail=False) as app:
        client = WsgiClient(app, clock)
        for n in range(150):
            assert client.post("contact", contact_fields(f"m{n}")).status == 303
    with Endpoint(tmp_path) as first, Endpoint(tmp_path) as second:
        result = owner_command(tmp_path, "send")
        assert result.returncode == 0, result.stderr
        deadline = time.monotonic() + 60
        while rows(tmp_path, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") != [(0,)]:
            assert time.monotonic() < deadline, "the mails were not all sent"
            time.sleep(0.1)
        assert first.stop() == 0 and second.stop() == 0
    assert sorted(mails_per_name(smtp_server.sink.wait_for(150)).values()) == [1] * 150


def newsletter_send(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "storefront", "--root", str(root), "newsletter", "send", "marzo",
         "--rate", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "STOREFRONT_FORMS_SECRET": SECRET_TEXT})


def test_a_newsletter_sent_by_two_instances_reaches_each_reader_once(
    tmp_path: Path, smtp_server: SmtpServer,
) -> None:
    """Two machines (two site folders, one database) send the same issue at the same time."""
    machines = [tmp_path / "one", tmp_path / "two"]
    for root in machines:
        root.mkdir()
        write_shop(root, smtp_port=smtp_server.port)
    readers = "email,consent_at,evidence\n" + "".join(
        f"r{n}@example.com,2025-01-01 10:00:00,double opt-in\n" for n in range(300))
    (tmp_path / "readers.csv").write_text(readers, encoding="utf-8")
    imported = subprocess.run(
        [sys.executable, "-m", "storefront", "--root", str(machines[0]), "newsletter", "import",
         str(tmp_path / "readers.csv")], capture_output=True, text=True, check=False,
        env={**os.environ, "STOREFRONT_FORMS_SECRET": SECRET_TEXT})
    assert imported.returncode == 0, imported.stderr
    senders = [newsletter_send(root) for root in machines]
    try:
        outputs = [sender.communicate(timeout=240) for sender in senders]
    finally:  # a sender that hangs fails this test, not the next one (as a leaked process)
        for sender in senders:
            if sender.poll() is None:
                sender.kill()
                sender.communicate()
    # each sends its share; one that ends while the other still sends says so (exit status 1)
    assert {sender.returncode for sender in senders} <= {0, 1}, outputs
    assert all("sent" in out for out, _ in outputs), outputs
    last = newsletter_send(machines[1])
    assert "300 sent, 0 skipped (unsubscribed meanwhile), 0 refused by the server, 0 still to " \
        "send (of 300)" in last.communicate(timeout=60)[0]
    assert last.returncode == 0
    received = smtp_server.sink.wait_for(300, timeout=30)
    per_reader = Counter(str(message["To"]) for message in received)
    assert len(per_reader) == 300 and set(per_reader.values()) == {1}
    progress = rows(machines[0], "SELECT claimed_by, COUNT(*) FROM outbox WHERE kind = 'issue'"
                                 " GROUP BY claimed_by")
    assert progress == [("", 300)]


def test_a_sender_whose_last_mails_another_is_claiming_right_now_ends_at_once(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race two senders started together run into: the other one is claiming the rest at
    the very moment this one looks (on PostgreSQL those rows are skipped as locked and still
    read as free). This one must neither spin nor sleep out the other's 300 s lease: it pauses
    briefly, sees the rows claimed by a running sender, and ends saying they are left to it."""
    monkeypatch.setenv("STOREFRONT_FORMS_SECRET", SECRET_TEXT)
    write_shop(tmp_path, smtp_port=smtp_server.port)
    readers = "email,consent_at,evidence\n" + "".join(
        f"r{n}@example.com,2025-01-01 10:00:00,double opt-in\n" for n in range(300))
    assert sum(operations.import_file(tmp_path, readers, "readers.csv", "csv").values()) == 300
    other = psycopg.connect(Backend.setting)  # not autocommit: its claim stays open
    ending = threading.Lock()
    committed: list[str] = []
    slept: list[float] = []

    def commit(by: str) -> None:
        with ending:
            if not committed:
                other.commit()
                committed.append(by)

    def claim_the_rest(done: int, total: int) -> None:
        if done == 1:  # the first batch (200 mails) is claimed and being sent: take the rest
            other.execute("UPDATE outbox SET claimed_by = %s, locked_until = %s WHERE id IN"
                          " (SELECT id FROM outbox WHERE kind = 'issue' AND claimed_by = ''"
                          " AND sent_at IS NULL FOR UPDATE SKIP LOCKED)",
                          (other_sender.name, time.time() + 300))

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        commit("the sender's pause")
        time.sleep(min(seconds, 0.05))

    with open_postgres(Backend.setting) as store, store.sender() as other_sender:
        watchdog = threading.Timer(30, commit, ("the watchdog",))  # a sender that spins
        watchdog.start()
        try:
            result = operations.send_issue(tmp_path, "marzo", rate=0, progress=claim_the_rest,
                                           sleep=sleep)
        finally:
            watchdog.cancel()
            commit("the test")
            other.close()
        assert committed == ["the sender's pause"] and max(slept) < 1, slept
        assert (result.outcome.report.sent, result.outcome.progress.pending,
                result.outcome.busy) == (200, 100, 100)
    # the other sender ended without sending: its claims are taken over by the next send
    again = operations.send_issue(tmp_path, "marzo", rate=0)
    assert (again.outcome.report.sent, again.outcome.report.taken_over) == (100, 100)
    per_reader = Counter(str(m["To"]) for m in smtp_server.sink.wait_for(300, timeout=30))
    assert len(per_reader) == 300 and set(per_reader.values()) == {1}


def test_forms_migrate_copies_a_sqlite_database(tmp_path: Path, smtp_server: SmtpServer) -> None:
    """A shop on SQLite moves to PostgreSQL: everything is copied with its ids, the counts are
    checked, the owner's commands and the endpoint carry on from the copy."""
    url = Backend.setting
    shop = tmp_path / "shop"
    shop.mkdir()
    write_shop(shop, smtp_port=smtp_server.port, database="data/forms.sqlite3", min_fill=0)
    env = {**os.environ, "STOREFRONT_FORMS_SECRET": SECRET_TEXT}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "storefront", "--root", str(shop), *args],
                              capture_output=True, text=True, check=False, env=env)

    readers = "email,consent_at,evidence\na@example.com,2025-01-01 10:00:00,opt-in\nb@example.com,,\n"
    (shop / "readers.csv").write_text(readers, encoding="utf-8")
    assert run("newsletter", "import", str(shop / "readers.csv")).returncode == 0
    with Endpoint(shop) as endpoint:
        conn = endpoint.connection()
        for n in range(5):
            assert post_form(conn, "contact", contact_fields(f"s{n}"))[0] == 200
        conn.close()
        assert endpoint.stop() == 0
    assert run("newsletter", "send", "marzo", "--rate", "0").returncode == 0
    before = {table: rows(shop, f"SELECT COUNT(*) FROM {table}")[0][0]
              for table in ("submissions", "outbox", "subscribers", "newsletter_issues",
                            "used_tokens", "meta")}
    assert before["used_tokens"] == 5 and before["newsletter_issues"] == 1

    migrated = run("forms", "migrate", "--to", url)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines()[0] == (
        f"copied {shop / 'data' / 'forms.sqlite3'} to {url}: {before['meta']} settings, 5 submissions, "
        f"5 used tokens, 2 subscribers, 1 newsletter issues, {before['outbox']} mails in the "
        "outbox; every count checked")
    again = run("forms", "migrate", "--to", url)
    assert again.returncode == 1 and "already holds data" in again.stderr

    sqlite_list = run("forms", "list").stdout
    sqlite_subscribers = run("newsletter", "subscribers").stdout
    config = (shop / "storefront.yaml").read_text()
    (shop / "storefront.yaml").write_text(config.replace("data/forms.sqlite3", url))
    shutil.move(shop / "data", tmp_path / "old-data")  # nothing can read the file any more
    assert run("forms", "list").stdout.replace(url, "?") == sqlite_list.replace(
        str(shop / "data" / "forms.sqlite3"), "?")
    assert run("newsletter", "subscribers").stdout == sqlite_subscribers
    assert {table: rows(shop, f"SELECT COUNT(*) FROM {table}")[0][0] for table in before} == before
    with Endpoint(shop) as endpoint:  # the same secret: old links work; new ids follow the old
        conn = endpoint.connection()
        assert post_form(conn, "contact", contact_fields("after"))[0] == 200
        conn.close()
        assert endpoint.stop() == 0
    assert rows(shop, "SELECT MAX(id) FROM submissions") == [(6,)]
    assert stored_names(shop) == [f"s{n}" for n in range(5)] + ["after"]
    assert run("forms", "send").returncode == 0


def test_forms_migrate_waits_for_the_sqlite_endpoint_to_stop(tmp_path: Path) -> None:
    write_site(tmp_path, database="data/forms.sqlite3")
    with Endpoint(tmp_path) as endpoint:  # its mail sender holds a lock file
        senders = tmp_path / "data" / "forms-senders"
        deadline = time.monotonic() + 30
        while not (senders.is_dir() and any(senders.iterdir())):
            assert time.monotonic() < deadline, "the endpoint's sender did not start"
            time.sleep(0.05)
        running = owner_command(tmp_path, "migrate", "--to", Backend.setting)
        assert endpoint.stop() == 0
    assert running.returncode == 1
    assert "still send mail from" in running.stderr and "stop them first" in running.stderr
    assert rows(tmp_path, "SELECT COUNT(*) FROM submissions") == [(0,)]
    done = owner_command(tmp_path, "migrate", "--to", Backend.setting)
    assert done.returncode == 0, done.stderr
    bad = owner_command(tmp_path, "migrate", "--to", "postgresql://u:secret@localhost/x")
    assert bad.returncode == 2 and "must not contain the database password" in bad.stderr


NGINX = Path(shutil.which("nginx") or "/usr/sbin/nginx")


def documented_nginx(root: Path, port: int, upstreams: list[int]) -> subprocess.Popen[bytes]:
    """nginx running the two-instance configuration of docs/forms.md as it is written, on
    ``port``, its upstream servers pointed at ``upstreams`` (the documented rate of 2 requests
    a second raised: the test posts faster than a visitor)."""
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing; run `bash scripts/test.sh` (it installs nginx-light)")
    doc = (Path(__file__).parents[2] / "docs" / "forms.md").read_text(encoding="utf-8")
    [config] = [block for block in re.findall(r"```nginx\n(.*?)```", doc, re.S)
                if "upstream storefront_forms" in block]
    config = config.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    config = config.replace("rate=2r/s", "rate=1000r/s").replace("/srv/bottega/output", str(root))
    for documented, real in zip((8081, 8082), upstreams, strict=True):
        config = config.replace(f"127.0.0.1:{documented} ", f"127.0.0.1:{real} ")
    temp = "".join(f"{kind}_temp_path {root}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = root / "nginx.conf"
    conf.write_text(f"daemon off;\nmaster_process off;\npid {root}/nginx.pid;\n"
                    f"error_log {root}/error.log;\nevents {{}}\nhttp {{\naccess_log off;\n{temp}"
                    f"{config}}}\n", encoding="utf-8")
    process = subprocess.Popen([str(NGINX), "-p", str(root), "-e", str(root / "error.log"),
                                "-c", str(conf)])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            assert process.poll() is None, (root / "error.log").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "nginx did not start within 10 s"
            time.sleep(0.05)


def test_two_instances_behind_the_documented_nginx(tmp_path: Path) -> None:
    """Visitors reach both instances through nginx, the health check answers through it, and
    when one instance is killed nginx sends every request to the other: nothing is refused,
    nothing is stored twice."""
    site = tmp_path / "site"
    site.mkdir()
    write_site(site, rate_limit=1000)
    proxy = tmp_path / "nginx"
    proxy.mkdir()
    port = free_port()
    with Endpoint(site) as first, Endpoint(site) as second:
        nginx = documented_nginx(proxy, port, [first.port, second.port])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/forms/_health")
            health = conn.getresponse()
            assert (health.status, json.loads(health.read())["ok"]) == (200, True)
            acked = []
            for n in range(40):
                if n == 20:
                    first.stop(signal.SIGKILL)
                status, answer = post_form(conn, "contact", contact_fields(f"n{n}"))
                assert (status, answer["ok"]) == (200, True), answer
                acked.append(f"n{n}")
            conn.close()
        finally:
            nginx.terminate()
            nginx.wait(10)
        assert second.stop() == 0
    assert stored_names(site) == acked

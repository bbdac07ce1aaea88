"""Benchmark: concurrent clients posting to the form endpoint under waitress on loopback.

Run on demand (not part of the test suite):

    .venv/bin/python bench/forms_load.py                 # 30 s, 32 clients, SMTP sink on
    .venv/bin/python bench/forms_load.py --duration 10 --clients 64 --no-smtp
    .venv/bin/python bench/forms_load.py --database postgresql://... --instances 2

(``bench/forms_postgres.py`` runs SQLite, PostgreSQL with one instance and with two side by side.)

It writes a throw-away site (one contact form, rate limit lifted, notification mail on) into a
temporary folder, starts ``python -m storefront.forms serve`` there as a separate process (or
``--instances`` of them on one PostgreSQL database, the clients spread over them) and, if asked,
a real SMTP server (aiosmtpd) that receives the notifications. Client processes (so that
they do not share the server's interpreter) run keep-alive HTTP/1.1 connections, one per client.
Like a browser, a client fetches a signed, single-use token for every submission and posts with a
token older than the minimum fill time (a queue of tokens fetched earlier), each submission with a
unique marker, as fast as the server answers, for the given time. A success is a 303 to the
thank-you page; token requests load the server too but are counted apart.

Printed: accepted submissions per second, p50/p99/max latency, errors, and the check that every
marker that got a 303 is stored (and nothing more). The exit status is 1 if anything was lost,
any request failed, or the rate is below --target.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ORIGIN = "https://bench.example"

SITE = """\
title: Bench
base_url: {origin}/
forms:
  contact:
    success_page: /grazie/
    notify: {notify}
    consent_version: "1"
    fields:
      - {{name: name, type: text, required: true, max_length: 100}}
      - {{name: email, type: email, required: true, max_length: 200}}
      - {{name: message, type: textarea, required: true, max_length: 4000}}
      - {{name: privacy, type: checkbox, consent: true}}
form_endpoint:
  database: {database}
  min_fill_seconds: 1
  rate_limit: 1000000000
  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, sender: site@bench.example}}
"""

FILL_SECONDS = 1.05  # min_fill_seconds above, plus a margin
MAX_QUEUED_TOKENS = 200

MESSAGE = ("Buongiorno, vorrei sapere se il vaso blu da 30 cm è ancora disponibile e quanto "
           "costerebbe la spedizione a Bologna. Grazie, a presto.")


def client_thread(port: int, name: str, deadline_at: float, start_at: float,
                  out: dict[str, list[object]]) -> None:
    """Post submissions as real visitors do: fetch a token, then send the form with it.

    Tokens are single-use and must be older than the minimum fill time, so each client keeps a
    queue: every round fetches one fresh token and posts with the oldest one. Only the posts are
    timed; the token requests are counted apart.
    """
    latencies: list[float] = []
    accepted: list[str] = []
    errors: list[str] = []
    tokens: collections.deque[tuple[float, str]] = collections.deque()
    headers = {"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    token_requests = 0

    def fetch_token() -> None:
        nonlocal token_requests
        conn.request("POST", "/api/forms/contact/token", headers=headers)
        tokens.append((time.time(), json.loads(conn.getresponse().read())["token"]))
        token_requests += 1

    try:
        while time.time() < start_at and len(tokens) < MAX_QUEUED_TOKENS:
            fetch_token()  # the warm-up: tokens that will be old enough at the start
        time.sleep(max(0.0, start_at - time.time()))
        n = 0
        while time.time() < deadline_at:
            marker = f"{name}-{n}"
            try:
                fetch_token()
                issued, token = tokens.popleft()
                time.sleep(max(0.0, issued + FILL_SECONDS - time.time()))
                body = urlencode({"name": marker, "email": f"{marker}@example.com",
                                  "message": MESSAGE, "privacy": "on", "_ts": token,
                                  "website": ""})
                started = time.perf_counter()
                conn.request("POST", "/api/forms/contact", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            finally:
                n += 1
            latencies.append(time.perf_counter() - started)
            if response.status == 303:
                accepted.append(marker)
            else:
                errors.append(f"HTTP {response.status}")
    finally:
        conn.close()
    out["latencies"].extend(latencies)
    out["accepted"].extend(accepted)
    out["errors"].extend(errors)
    out["token_requests"].append(token_requests)


def client_process(args: tuple[list[int], int, int, float, float]) -> dict[str, list[object]]:
    ports, index, threads, start_at, deadline_at = args
    out: dict[str, list[object]] = {"latencies": [], "accepted": [], "errors": [],
                                    "token_requests": []}
    # the clients spread over the instances (as a proxy's round robin spreads connections)
    workers = [threading.Thread(target=client_thread,
                                args=(ports[(index + t) % len(ports)], f"p{index}t{t}",
                                      deadline_at, start_at, out))
               for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return out


def start_smtp_sink() -> tuple[object, list[int]]:
    from aiosmtpd.controller import Controller

    received = [0]

    class Sink:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            received[0] += 1
            return "250 OK"

    import socket

    with socket.socket() as probe:  # aiosmtpd needs a real port number
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, received


def start_servers(work: Path, count: int, threads: int) -> list[tuple[subprocess.Popen[str], int]]:
    """``count`` endpoint processes on the site in ``work``; each with its port."""
    env = {**os.environ, "STOREFRONT_FORMS_SECRET": "bench-secret-" + "x" * 32}
    servers = []
    for index in range(count):
        # the server's log goes to a file: a pipe nobody reads would fill up and stall it
        log_file = (work / f"server-{index}.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "storefront.forms", "--root", str(work), "serve", "--port",
             "0", "--threads", str(threads)],
            stdout=subprocess.PIPE, stderr=log_file, text=True, env=env,
        )
        log_file.close()
        assert server.stdout is not None
        line = server.stdout.readline()
        if "serving on http://127.0.0.1:" not in line:
            server.wait()
            raise RuntimeError(f"the server did not start: {line}"
                               f"{(work / f'server-{index}.log').read_text()}")
        servers.append((server, int(line.split("http://127.0.0.1:")[1].split()[0])))
    return servers


def stored_rows(work: Path) -> tuple[set[str], int, int]:
    """The names stored, the mails queued and the mails sent, read through storefront itself."""
    from storefront.config import load_config
    from storefront.forms import open_database

    with open_database(load_config(work), work) as database, database.connect() as conn:
        stored = {json.loads(d)["name"] for (d,) in conn.execute("SELECT data FROM submissions")}
        queued = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        sent = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]
    return stored, int(queued), int(sent)


def measure(args: argparse.Namespace, database: str, instances: int) -> dict[str, float]:
    """One run: the site on ``database`` with ``instances`` servers; prints the figures and
    returns them (``ok`` is 1.0 when nothing was lost and no request failed)."""
    work = Path(tempfile.mkdtemp(prefix="storefront-forms-bench-"))
    controller, received = (None, [0]) if args.no_smtp else start_smtp_sink()
    smtp_port = controller.port if controller else 2525  # type: ignore[attr-defined]
    notify = "''" if args.no_smtp else "owner@bench.example"
    (work / "storefront.yaml").write_text(SITE.format(origin=ORIGIN, notify=notify,
                                                      smtp_port=smtp_port, database=database))
    servers = start_servers(work, instances, args.threads)
    ports = [port for _, port in servers]
    engine = "PostgreSQL" if database.startswith("postgresql") else "SQLite"
    print(f"{engine}, {instances} instance(s): waitress, {args.threads} threads each, ports "
          f"{ports}; {args.clients} clients in {args.procs} processes; {args.duration:.0f} s; "
          f"mail {'off' if args.no_smtp else 'on (aiosmtpd sink)'}")

    start_at = time.time() + 2.0  # every client has tokens older than the fill time
    deadline_at = start_at + args.duration
    shares = [args.clients // args.procs + (1 if i < args.clients % args.procs else 0)
              for i in range(args.procs)]
    with multiprocessing.Pool(args.procs) as pool:
        results = pool.map(client_process, [(ports, i, shares[i], start_at, deadline_at)
                                            for i in range(args.procs)])
    elapsed = time.time() - start_at

    for server, _ in servers:
        server.send_signal(signal.SIGTERM)
    for server, _ in servers:
        server.communicate(timeout=60)
    server_log = "".join(p.read_text() for p in sorted(work.glob("server-*.log")))
    mail_wait = time.time() + 30
    latencies = sorted(float(x) for r in results for x in r["latencies"])  # type: ignore[arg-type]
    accepted = {str(x) for r in results for x in r["accepted"]}
    errors = [str(x) for r in results for x in r["errors"]]
    stored, queued, sent = stored_rows(work)
    lost = accepted - stored
    extra = stored - accepted

    rate = len(accepted) / elapsed
    token_requests = sum(int(x) for r in results for x in r["token_requests"])  # type: ignore[call-overload]
    print(f"requests:   {len(latencies)} submissions in {elapsed:.1f} s, plus {token_requests} "
          "token requests (one per submission plus the warm-up)")
    print(f"accepted:   {len(accepted)} ({rate:.0f}/s)")
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"latency:    p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    print(f"errors:     {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"stored:     {len(stored)} rows; acknowledged but missing: {len(lost)}; "
          f"stored without acknowledgement: {len(extra)}")
    for log_line in server_log.splitlines():
        if "stored" in log_line and "transactions" in log_line:
            print("server:     " + log_line.split(" INFO ", 1)[-1])
    if controller is not None:
        while received[0] < sent and time.time() < mail_wait:
            time.sleep(0.1)
        print(f"mail:       {queued} queued, {sent} sent during the run, {received[0]} received "
              "by the SMTP sink (the rest stay queued for the next start or `forms send`)")
        controller.stop()  # type: ignore[attr-defined]
    if args.keep:
        print(f"site kept in {work}")
    else:
        import shutil

        shutil.rmtree(work)
    ok = not lost and not extra and not errors
    return {"rate": rate, "p50": p50, "p99": p99, "errors": float(len(errors)),
            "lost": float(len(lost)), "accepted": float(len(accepted)), "ok": float(ok)}


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--procs", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--threads", type=int, default=16, help="server threads (default 16)")
    parser.add_argument("--no-smtp", action="store_true", help="no notification mail")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(parser)
    parser.add_argument("--database", default="data/forms.sqlite3",
                        help="form_endpoint.database (default: a SQLite file in the site)")
    parser.add_argument("--instances", type=int, default=1,
                        help="endpoint processes on the database (PostgreSQL; default 1)")
    parser.add_argument("--target", type=float, default=500.0,
                        help="accepted submissions/s to reach (default 500)")
    args = parser.parse_args()
    figures = measure(args, args.database, args.instances)
    ok = bool(figures["ok"]) and figures["rate"] >= args.target
    print("result:     " + ("OK" if ok else "FAILED") + f" (target {args.target:.0f}/s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

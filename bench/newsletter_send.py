"""Benchmark: ``storefront newsletter send`` of one issue to 10,000 subscribers.

Run on demand (not part of the test suite):

    .venv/bin/python bench/newsletter_send.py                  # 10,000 subscribers
    .venv/bin/python bench/newsletter_send.py --subscribers 2000

It writes a throw-away shop (a post, a product, one issue with an image and a few links) into a
temporary folder, imports the subscribers with evidence of consent (so they are confirmed),
starts a real SMTP server (aiosmtpd) in a process of its own that counts what it receives, and
runs ``storefront newsletter send`` as a separate process, without a rate limit, as an owner
would. Every mail is personalised (its own unsubscribe link and headers) and its outcome is
committed to the database before the next one is sent (what makes a resumed send duplicate at
most the one mail in flight).

Printed: messages per second (wall clock of the send command, start-up included), the peak
resident memory of the send process (from the kernel, ``ru_maxrss`` of the child), the mails the
sink received and the check that each subscriber got exactly one. Exit status 1 if not.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SITE = """\
title: Bench
base_url: https://bench.example/
business: {{name: Bench Shop, address: {{street: Via Roma 1, postal_code: "00100", city: Roma}}}}
forms:
  newsletter:
    success_page: /grazie/
    consent_version: "1"
    fields:
      - {{name: email, type: email, required: true}}
      - {{name: privacy, type: checkbox, consent: true}}
newsletter: {{form: newsletter, sender: news@bench.example}}
form_endpoint:
  database: data/forms.sqlite3
  smtp: {{host: 127.0.0.1, port: {port}, security: none, sender: site@bench.example}}
"""

ISSUE = """\
---
title: The March letter
date: 2025-03-05
summary: New kiln, a blue vase on sale.
---

Dear readers, the [new kiln](/blog/2025/03/kiln/) has arrived. Have a look at the
[blue vase](/prodotti/blue-vase/), on sale until the end of the month.

![The blue vase](/assets/vase.jpg)

""" + "\n\n".join(f"A paragraph of news number {n}, long enough to look like a real letter "
                  "from a small workshop to its readers." for n in range(12)) + "\n"


def sink(port: int, ready: Any, counts: Any) -> None:
    """A real SMTP server that keeps only the recipients (parsing would measure the sink)."""
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            for rcpt in envelope.rcpt_tos:
                counts.put(rcpt)
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_shop(root: Path, port: int) -> None:
    (root / "storefront.yaml").write_text(SITE.format(port=port), encoding="utf-8")
    files = {
        "posts/2025-03-01-kiln.md": "---\ntitle: The new kiln\n---\n\nIt is here.\n",
        "products/blue-vase.md": "---\ntitle: Blue vase\nprice: 48\n---\n\nA vase.\n",
        "pages/grazie.md": "---\ntitle: Thanks\n---\n\nThanks.\n",
        "pages/privacy.md": "---\ntitle: Privacy\n---\n\nPrivacy.\n",
        "newsletter/2025-03-05-march.md": ISSUE,
    }
    for name, text in files.items():
        path = root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "content" / "assets").mkdir()
    (root / "content" / "assets" / "vase.jpg").write_bytes(b"\xff\xd8\xff")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    port = free_port()
    ready, counts = multiprocessing.Event(), multiprocessing.Queue()
    server = multiprocessing.Process(target=sink, args=(port, ready, counts), daemon=True)
    server.start()
    ready.wait(30)
    env = {**os.environ, "STOREFRONT_FORMS_SECRET": "bench-secret-0123456789abcdef"}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_shop(root, port)
        rows = "email,consent_at,evidence\n" + "".join(
            f"reader{n:05d}@example.com,2025-01-10,bench list\n" for n in range(args.subscribers))
        (root / "readers.csv").write_text(rows, encoding="utf-8")
        base = [sys.executable, "-m", "storefront", "--root", str(root), "newsletter"]
        started = time.perf_counter()
        subprocess.run([*base, "import", str(root / "readers.csv")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        imported = time.perf_counter() - started
        started = time.perf_counter()
        done = subprocess.run([*base, "send", "march"], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        received: dict[str, int] = {}
        deadline = time.monotonic() + 30
        while sum(received.values()) < args.subscribers and time.monotonic() < deadline:
            try:
                rcpt = counts.get(timeout=1)
            except Exception:
                continue
            received[rcpt] = received.get(rcpt, 0) + 1
    server.terminate()
    total = sum(received.values())
    once = len(received) == args.subscribers and all(c == 1 for c in received.values())
    print(f"subscribers:          {args.subscribers:,} (import took {imported:.1f} s)")
    print(f"send command:         exit {done.returncode}, {seconds:.1f} s wall clock")
    print(f"messages per second:  {args.subscribers / seconds:,.0f}")
    print(f"peak memory (RSS):    {peak_kib / 1024:.0f} MiB (largest child process: the send)")
    print(f"received by the sink: {total:,}; each subscriber exactly once: {'yes' if once else 'NO'}")
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
    return 0 if once and done.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the form endpoint on SQLite, on PostgreSQL, and two instances on one PostgreSQL.

Run on demand (not part of the test suite), as root or as a user that may run PostgreSQL:

    .venv/bin/python bench/forms_postgres.py [--duration 30] [--clients 32] [--no-smtp]

It starts a private PostgreSQL server with the default, durable settings (``fsync`` on; Debian's
``postgresql`` package, the tests' helper ``tests/forms/pg_support.py``), then runs the load of
``bench/forms_load.py`` three times, one after the other on the same machine: the SQLite file,
one endpoint on PostgreSQL, and two endpoints on the same PostgreSQL database with the clients
spread over them. Printed: each run's figures, then a table of accepted submissions per second
side by side, with errors and lost submissions (both must be zero). On a shared machine absolute
figures move from minute to minute; the ratios measured side by side hold better.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests" / "forms")]

from forms_load import add_options, measure  # noqa: E402
from pg_support import PostgresServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(parser)
    args = parser.parse_args()
    server = PostgresServer(durable=True)
    try:
        runs = [("SQLite, 1 instance", "data/forms.sqlite3", 1),
                ("PostgreSQL, 1 instance", server.create_database(), 1),
                ("PostgreSQL, 2 instances", server.create_database(), 2)]
        figures = []
        for label, database, instances in runs:
            print(f"\n== {label}")
            figures.append((label, measure(args, database, instances)))
    finally:
        server.stop()
    print("\n| run | accepted/s | p50 ms | p99 ms | errors | lost |")
    print("|---|---|---|---|---|---|")
    for label, f in figures:
        print(f"| {label} | {f['rate']:.0f} | {f['p50']:.1f} | {f['p99']:.1f} | "
              f"{f['errors']:.0f} | {f['lost']:.0f} |")
    return 0 if all(f["ok"] for _, f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())

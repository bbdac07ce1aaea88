"""A private PostgreSQL server for the tests: one throw-away cluster per test session.

Debian's ``postgresql`` package provides the binaries (``scripts/test.sh`` installs it). The
cluster lives in a temporary folder, listens on a free loopback port (and a socket in its own
folder), and trusts local connections; PostgreSQL refuses to run as root, so when the tests run
as root it runs as the ``postgres`` system user. Each test gets a database of its own.

``fsync`` is off for the tests: they kill processes, not the machine, and a killed client leaves
PostgreSQL's own guarantees untouched; the benchmark (``bench/forms_postgres.py``) starts one
with the default settings (``durable=True``).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from forms_support import free_port


def server_binaries() -> Path:
    """The newest installed PostgreSQL's bin folder."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL's server binaries are not installed (Debian package "
                           "postgresql); scripts/test.sh installs them")
    return found[-1].parent


class PostgresServer:
    """``initdb`` + ``pg_ctl start`` in a temporary folder; :meth:`stop` removes it all."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: PostgreSQL's default settings (fsync on), for the benchmark."""
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="storefront-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._names = itertools.count(1)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {self.data} -h 127.0.0.1 -c max_connections=300"
                   + ("" if durable else " -c fsync=off -c shared_buffers=32MB"))
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-t", "60",
                  "-l", str(self.root / "log"), "start")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

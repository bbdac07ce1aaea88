"""Fixtures of the form-endpoint tests (helpers live in forms_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from forms_support import (
    SECRET,
    SQLITE_DATABASE,
    Backend,
    FakeClock,
    MailSink,
    SmtpServer,
    WsgiClient,
    free_port,
    make_config,
    rows,
    site_yaml,
)
from pg_support import PostgresServer

from storefront.forms import FormsApp, create_app

BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test runs on SQLite; those marked ``both_backends`` (and not ``sqlite_only``) on
    PostgreSQL too."""
    if "backend" not in metafunc.fixturenames:
        return
    node = metafunc.definition
    if node.get_closest_marker("postgres_only"):
        metafunc.parametrize("backend", BACKENDS[1:])
        return
    both = node.get_closest_marker("both_backends") and not node.get_closest_marker("sqlite_only")
    metafunc.parametrize("backend", BACKENDS if both else BACKENDS[:1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL cluster for the whole test session (see pg_support)."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def database(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """``form_endpoint.database`` of this test's sites: the SQLite file, or a new PostgreSQL
    database of its own."""
    if backend == "sqlite":
        Backend.setting = SQLITE_DATABASE
    else:
        Backend.setting = request.getfixturevalue("postgres_server").create_database()
    try:
        yield Backend.setting
    finally:
        Backend.setting = SQLITE_DATABASE


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    (tmp_path / "storefront.yaml").write_text(site_yaml(), encoding="utf-8")
    return tmp_path


@pytest.fixture
def app(site_root: Path, clock: FakeClock) -> Iterator[FormsApp]:
    with create_app(make_config(), site_root, clock=clock, secret=SECRET,
                    deliver_mail=False) as forms_app:
        yield forms_app


@pytest.fixture
def client(app: FormsApp, clock: FakeClock) -> WsgiClient:
    return WsgiClient(app, clock)


@pytest.fixture
def db_rows(site_root: Path) -> Any:
    def query(sql: str = "SELECT form, status, data, email FROM submissions ORDER BY id",
              params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return rows(site_root, sql, params)
    return query


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(MailSink(), free_port())
    server.start()
    yield server
    server.stop()

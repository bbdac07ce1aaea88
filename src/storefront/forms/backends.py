"""Which form database the config names: a SQLite file (a path) or a PostgreSQL server (a URL).

``form_endpoint.database`` is a path (relative to the site folder) for SQLite, the default, or a
``postgresql://`` URL. The PostgreSQL driver is an optional extra (``storefront[postgres]``); a
URL without it installed is a :class:`StorageError` that names the extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from storefront.config import SiteConfig
from storefront.formconfig import is_postgres_url
from storefront.forms.database import Database, StorageError
from storefront.forms.sqlite_store import SqliteDatabase

MISSING_DRIVER = ("form_endpoint.database is a PostgreSQL URL, but the PostgreSQL driver is not "
                  "installed; install it with: pip install 'storefront[postgres]'")


def database_path(config: SiteConfig, root: Path) -> Path:
    """The SQLite file of the endpoint (``form_endpoint.database``, relative to the site root)."""
    path = Path(config.form_endpoint.database)
    return path if path.is_absolute() else root / path


def open_database(config: SiteConfig, root: Path,
                  environ: Mapping[str, str] | None = None) -> Database:
    """The database ``form_endpoint.database`` names (nothing is opened yet)."""
    setting = config.form_endpoint.database
    if is_postgres_url(setting):
        return open_postgres(setting, environ)
    return SqliteDatabase(database_path(config, root))


def open_postgres(url: str, environ: Mapping[str, str] | None = None) -> Database:
    """The PostgreSQL database at ``url``; the password comes from ``environ`` or libpq's files."""
    try:
        from storefront.forms.postgres_store import PostgresDatabase
    except ImportError as exc:
        if exc.name not in ("psycopg", "psycopg_pool") and "psycopg" not in str(exc):
            raise
        raise StorageError(MISSING_DRIVER) from exc
    return PostgresDatabase(url, environ)

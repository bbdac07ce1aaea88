"""Copy a SQLite form database into PostgreSQL: ``storefront forms migrate --to URL``.

Everything is copied with its ids: the settings (the endpoint's secret, so signed links and
tokens in mails already sent keep working), submissions, the outbox (mail sent and still to
send), used tokens, subscribers with their consent evidence, and newsletter issues. Claims of
senders are dropped (every sender of the SQLite file has stopped: the copy refuses to start
while one runs). The identity sequences are moved past the copied ids (past every id SQLite
ever gave, for its AUTOINCREMENT tables). The SQLite side is read in one snapshot; the
PostgreSQL side is written in one transaction that also checks, before committing, that every
table holds exactly as many rows as the snapshot: the copy is complete or nothing is copied.
The target must hold no data yet. The SQLite file is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from storefront.forms.database import Connection, Database, StorageError
from storefront.forms.postgres_schema import COPIED_TABLES, IDENTITY_TABLES
from storefront.forms.sender import sender_alive, senders_folder
from storefront.forms.sqlite_store import SqliteDatabase

BATCH_ROWS = 1000


class MigrationRefused(StorageError):
    """The copy cannot start (a sender still runs on the file, the target holds data)."""


@dataclass(frozen=True)
class MigrationReport:
    source: str
    target: str
    counts: dict[str, int]  # rows per table, the same on both sides


def migrate_to_postgres(source: SqliteDatabase, target: Database) -> MigrationReport:
    """Copy every row of ``source`` into the empty PostgreSQL database ``target``."""
    running = _running_senders(source)
    if running:
        raise MigrationRefused(
            f"{running} process(es) still send mail from {source.label} (the endpoint, or a "
            "'forms send' / 'newsletter send'): stop them first, so that nothing is written to "
            "the SQLite file after it is copied")
    with source.connect() as reader, target.connect() as writer:
        reader.execute("BEGIN")  # one snapshot of the whole file
        try:
            with writer.transaction():
                # writers on the target (an endpoint started too early) wait until the end
                writer.execute("LOCK TABLE " + ", ".join(COPIED_TABLES) + " IN EXCLUSIVE MODE")
                _check_empty(writer, target.label)
                counts = {table: _copy_table(reader, writer, table) for table in COPIED_TABLES}
                _move_sequences(reader, writer)
                _verify(writer, counts)
        finally:
            reader.rollback()
    return MigrationReport(source.label, target.label, counts)


def _running_senders(source: SqliteDatabase) -> int:
    folder = senders_folder(source.path)
    if not folder.is_dir():
        return 0
    return sum(sender_alive(folder, path.name.removesuffix(".lock"))
               for path in folder.glob("*.lock"))


def _check_empty(writer: Connection, label: str) -> None:
    for table in COPIED_TABLES:
        if table == "meta":
            continue  # an endpoint started on the empty database may have stored a secret
        if writer.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]:  # noqa: S608 - constant table names
            raise MigrationRefused(f"the database {label} already holds data (table {table}); "
                                   "migrate into an empty database")


def _columns(reader: Connection, table: str) -> list[str]:
    return [str(row[1]) for row in reader.execute(f"PRAGMA table_info({table})")]


def _copy_table(reader: Connection, writer: Connection, table: str) -> int:
    columns = _columns(reader, table)
    names = ", ".join(columns)
    insert = (f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608 - names from the schema
              + (" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value" if table == "meta"
                 else ""))
    order = "key" if table == "meta" else "token" if table == "used_tokens" else "id"
    copied = 0
    for batch in _batches(reader.execute(f"SELECT {names} FROM {table} ORDER BY {order}")):  # noqa: S608
        rows = [_released(table, columns, row) for row in batch]
        writer.executemany(insert, rows)
        copied += len(rows)
    return copied


def _released(table: str, columns: Sequence[str], row: Sequence[Any]) -> Sequence[Any]:
    """An outbox row without its claim: every sender of the SQLite file has stopped."""
    if table != "outbox":
        return row
    values = dict(zip(columns, row, strict=True))
    if values["sent_at"] is None:
        values["claimed_by"], values["locked_until"] = "", 0.0
    return [values[name] for name in columns]


def _batches(cursor: Any) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in cursor:
        batch.append(tuple(row))
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _move_sequences(reader: Connection, writer: Connection) -> None:
    given = dict(reader.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    for table in IDENTITY_TABLES:
        highest = reader.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]  # noqa: S608
        last = max(int(highest), int(given.get(table, 0)))
        if last:
            writer.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), ?)", (last,))


def _verify(writer: Connection, counts: dict[str, int]) -> None:
    for table, expected in counts.items():
        found = int(writer.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
        if found != expected and not (table == "meta" and found > expected):  # target's own keys
            raise StorageError(f"the copy of {table} holds {found} rows instead of {expected}; "
                               "nothing was copied")

"""The owner's ``storefront forms`` commands: serve, list, export, forget, send, migrate.

:func:`add_forms_parser` registers them on the main CLI's subparsers; each handler takes the parsed
arguments, prints its own report and returns an exit code (config and storage errors are raised
and reported by the CLI's ``main``). The functions above the handlers do the work and return data.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from storefront.config import SiteConfig, load_config
from storefront.files import write_private_text
from storefront.formconfig import is_postgres_url, parse_database
from storefront.forms.backends import database_path, open_database, open_postgres
from storefront.forms.confirmation import make_outbox_composer
from storefront.forms.database import Connection
from storefront.forms.erasure import ForgetReport, forget_email
from storefront.forms.export import write_csv, write_json
from storefront.forms.links import LinkSigner
from storefront.forms.mailer import Mailer, credentials_from_env
from storefront.forms.migration import migrate_to_postgres
from storefront.forms.outbox import (
    NOTIFICATION_KINDS,
    DeliveryReport,
    MailTransport,
    OutboxCounts,
    claimed_elsewhere,
    deliver_outbox,
    outbox_counts,
)
from storefront.forms.server import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_THREADS, serve
from storefront.forms.spam import resolve_secret
from storefront.forms.sqlite_store import SqliteDatabase
from storefront.forms.storage import (
    FormCounts,
    StoredSubmission,
    count_by_form,
    fetch_submissions,
    stored_secret,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_STOPPED = 128 + signal.SIGTERM  # as a shell reports a command that SIGTERM ended


# -- the work ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormsSummary:
    forms: list[FormCounts]
    outbox: OutboxCounts
    database: str


@contextmanager
def open_connection(config: SiteConfig, root: Path) -> Iterator[Connection]:
    """A connection to the site's form database (SQLite or PostgreSQL), closed afterwards."""
    with open_database(config, root) as database, database.connect() as conn:
        yield conn


def endpoint_secret(conn: Connection) -> bytes:
    """The key the endpoint signs with: ``STOREFRONT_FORMS_SECRET``, else the stored one."""
    return resolve_secret(lambda: stored_secret(conn), os.environ)


def summarize(config: SiteConfig, root: Path) -> FormsSummary:
    """Counts per form (every declared form, plus any stored under an old name) and the outbox."""
    with open_connection(config, root) as conn:
        stored = {c.form: c for c in count_by_form(conn)}
        names = [*config.forms, *(name for name in stored if name not in config.forms)]
        counts = [stored.get(name, FormCounts(name, 0, 0, "")) for name in names]
        return FormsSummary(counts, outbox_counts(conn), conn.database.label)


def recent_submissions(config: SiteConfig, root: Path, form: str, limit: int,
                       include_spam: bool = False) -> list[StoredSubmission]:
    with open_connection(config, root) as conn:
        return fetch_submissions(conn, form, include_spam=include_spam, limit=limit,
                                 newest_first=True)


def export_submissions(config: SiteConfig, root: Path, form: str, fmt: str, out: TextIO, *,
                       include_spam: bool = False, raw: bool = False) -> int:
    """Write every submission of ``form`` to ``out``; return how many."""
    with open_connection(config, root) as conn:
        rows = fetch_submissions(conn, form, include_spam=include_spam)
    if fmt == "json":
        write_json(out, rows)
    else:
        write_csv(out, config.forms.get(form), rows, raw=raw)
    return len(rows)


def forget(config: SiteConfig, root: Path, email: str) -> ForgetReport:
    """Erase every submission (and pending mail) of ``email``; say how many were deleted."""
    with open_connection(config, root) as conn:
        return forget_email(conn, email)


def send_outbox(config: SiteConfig, root: Path, *, transport: MailTransport | None = None,
                clock: Callable[[], float] = time.time, due_only: bool = False,
                keep_going: Callable[[], bool] = lambda: True) -> DeliveryReport:
    """Try to send every notification pending now (only the due ones with ``due_only``),
    those claimed by a sender that is no longer running included; stop between two mails
    when ``keep_going`` says so."""
    transport = transport or Mailer(config.form_endpoint.smtp, credentials_from_env())
    with open_connection(config, root) as conn, conn.database.sender() as sender:
        compose = make_outbox_composer(config, LinkSigner(endpoint_secret(conn)))
        report = deliver_outbox(conn, transport, compose, clock, sender,
                                force=not due_only, backlog_only=True, keep_going=keep_going)
        if not (report.sent or report.failed or report.busy or due_only):
            report.busy = _claimed_by_others(conn, sender)
        return report


#: pauses (seconds) before asking again which notifications other senders hold
CLAIM_PAUSES = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)
_FREE_NOTIFICATIONS = ("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND claimed_by = ''"
                       " AND kind IN (?, ?)")  # NOTIFICATION_KINDS


def _claimed_by_others(conn: Connection, sender: Any) -> int:
    """Notifications other running senders hold, for a send that found none to take: its
    claim's own count misses a claim being made at that very moment (on PostgreSQL such rows
    are skipped as locked and still read as free), so while unclaimed ones remain it asks
    again, once the other claim has committed (as the newsletter's sender does)."""
    busy = 0
    for pause in CLAIM_PAUSES:
        time.sleep(pause)
        busy, _stopped = claimed_elsewhere(conn, sender)
        free = conn.execute(_FREE_NOTIFICATIONS, NOTIFICATION_KINDS).fetchone()[0]
        if busy or not free:
            break
    return busy


@contextmanager
def stop_on_sigterm() -> Iterator[threading.Event]:
    """An event that SIGTERM sets while the block runs, instead of ending the process at once.

    A sender asked to stop this way finishes the mail in flight, records what the server took
    and gives the rest back (seconds), where dying at once lost the record of a whole batch of
    notifications, and going on with the batch outlasted systemd's stop timeout (then SIGKILL).
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the command line -------------------------------------------------------------------------


def add_forms_parser(subparsers: Any) -> None:
    """Register ``forms serve|list|export|forget|send|migrate`` on the main CLI's subparsers."""
    forms = subparsers.add_parser(
        "forms", help="run and manage the contact-form endpoint",
        description="Run the self-hosted form endpoint and manage what it received.",
    )
    add_forms_commands(forms.add_subparsers(dest="forms_command", metavar="COMMAND",
                                            required=True))


def add_forms_commands(commands: Any) -> None:
    """Register the subcommands on ``commands`` (``python -m storefront.forms`` uses it)."""
    serve_cmd = commands.add_parser(
        "serve", help="run the form endpoint (waitress)",
        description="Serve the form endpoint with waitress until stopped (SIGTERM/Ctrl-C).",
    )
    serve_cmd.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    serve_cmd.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve_cmd.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                           help=f"worker threads (default {DEFAULT_THREADS})")
    serve_cmd.add_argument("--trusted-proxy", default="127.0.0.1", metavar="ADDRESS",
                           help="reverse proxy whose X-Forwarded-For is believed (default "
                           "127.0.0.1; '' to trust none)")
    serve_cmd.set_defaults(func=run_forms_serve)

    list_cmd = commands.add_parser(
        "list", help="count submissions per form, or show the latest of one form",
        description="Without --form: submissions per form and the state of the mail outbox. "
        "With --form: the latest submissions of that form.",
    )
    list_cmd.add_argument("--form", metavar="NAME", help="show the latest submissions of NAME")
    list_cmd.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    list_cmd.add_argument("--spam", action="store_true", help="include submissions marked spam")
    list_cmd.set_defaults(func=run_forms_list)

    export_cmd = commands.add_parser(
        "export", help="export the submissions of one form as CSV or JSON",
        description="Write every submission of one form as CSV (for a spreadsheet) or JSON.",
    )
    export_cmd.add_argument("--form", metavar="NAME", required=True)
    export_cmd.add_argument("--format", choices=("csv", "json"), default="csv")
    export_cmd.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    export_cmd.add_argument("--spam", action="store_true", help="include submissions marked spam")
    export_cmd.add_argument("--raw", action="store_true",
                            help="CSV: do not neutralise cells that look like formulas")
    export_cmd.set_defaults(func=run_forms_export)

    forget_cmd = commands.add_parser(
        "forget", help="erase everything one person sent (GDPR)",
        description="Delete every submission with this e-mail address, and its pending mail.",
    )
    forget_cmd.add_argument("email", metavar="EMAIL")
    forget_cmd.set_defaults(func=run_forms_forget)

    send_cmd = commands.add_parser(
        "send", help="send the pending notification e-mails now",
        description="Try every notification still in the outbox now, also those waiting for "
        "their next retry. Exit status 1 if some could not be sent (they stay queued).",
    )
    send_cmd.add_argument("--due-only", action="store_true",
                          help="only those whose retry time has come")
    send_cmd.set_defaults(func=run_forms_send)

    migrate_cmd = commands.add_parser(
        "migrate", help="copy the SQLite form database into PostgreSQL",
        description="Copy everything in the SQLite form database (submissions, mail, tokens, "
        "subscribers, issues, the secret) into an empty PostgreSQL database and check the "
        "counts. Stop the endpoint first; then point form_endpoint.database at the URL.",
    )
    migrate_cmd.add_argument("--to", required=True, metavar="URL", dest="target",
                             help="postgresql://USER@HOST/DBNAME (the password comes from "
                             "PGPASSWORD, STOREFRONT_DATABASE_PASSWORD or ~/.pgpass)")
    migrate_cmd.add_argument("--from", type=Path, metavar="FILE", dest="source",
                             help="the SQLite file (default: form_endpoint.database)")
    migrate_cmd.set_defaults(func=run_forms_migrate)


def _root(args: argparse.Namespace) -> Path:
    root = getattr(args, "root", None)
    return Path(root) if root is not None else Path.cwd()


def run_forms_serve(args: argparse.Namespace) -> int:
    root = _root(args)
    config = load_config(root)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # under load every queued request would log "Task queue depth is N": queueing is normal here
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    def ready(host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        prefix = config.form_endpoint.url
        names = ", ".join(config.forms) or "none declared"
        print(f"storefront forms: serving on http://{shown}:{port} (forms: {names}; public URL "
              f"{prefix}<form>); database {open_database(config, root).label}", flush=True)

    serve(config, root, args.host, args.port, threads=args.threads,
          trusted_proxy=args.trusted_proxy or None, ready=ready)
    print("storefront forms: stopped", flush=True)
    return EXIT_OK


def run_forms_list(args: argparse.Namespace) -> int:
    root = _root(args)
    config = load_config(root)
    if args.form:
        if args.form not in config.forms:
            print(f"warning: no form {args.form!r} in storefront.yaml", file=sys.stderr)
        rows = recent_submissions(config, root, args.form, args.limit, args.spam)
        for row in rows:
            print(_one_line(row))
        if not rows:
            print(f"no submissions of {args.form!r}")
        return EXIT_OK
    summary = summarize(config, root)
    print(f"{'form':<16} {'received':>8} {'spam':>6}  latest")
    for counts in summary.forms:
        print(f"{counts.form:<16} {counts.received:>8} {counts.spam:>6}  {counts.latest or '-'}")
    box = summary.outbox
    line = f"mail: {box.sent} sent, {box.pending} pending"
    if box.retrying:
        line += f" ({box.retrying} failed at least once; last error: {box.last_error})"
    print(line)
    print(f"database: {summary.database}")
    return EXIT_OK


def _one_line(row: StoredSubmission, width: int = 100) -> str:
    fields = ", ".join(f"{k}={' '.join(str(v).split())}" for k, v in row.data.items()
                       if v not in ("", None))
    head = f"#{row.id} {row.created_at[:19]} {row.status}"
    text = f"{head}  {fields}"
    return text if len(text) <= width else text[: width - 1] + "…"


def run_forms_export(args: argparse.Namespace) -> int:
    root = _root(args)
    config = load_config(root)
    if args.form not in config.forms:
        print(f"warning: no form {args.form!r} in storefront.yaml", file=sys.stderr)
    if args.output is not None and open_database(config, root).owns_file(args.output):
        print(f"error: --output {args.output} is the form database itself (or its -wal/-shm); "
              "write the export to another file", file=sys.stderr)
        return EXIT_USAGE
    if args.output is None:
        count = export_submissions(config, root, args.form, args.format, sys.stdout,
                                   include_spam=args.spam, raw=args.raw)
    else:
        count = write_private_text(args.output, lambda out: export_submissions(
            config, root, args.form, args.format, out, include_spam=args.spam, raw=args.raw))
    print(f"exported {count} submission{'s' if count != 1 else ''} of {args.form!r}",
          file=sys.stderr)
    return EXIT_OK


def run_forms_forget(args: argparse.Namespace) -> int:
    root = _root(args)
    config = load_config(root)
    report = forget(config, root, args.email)
    deleted = report.deleted
    if deleted:
        print(f"deleted {deleted} submission{'s' if deleted != 1 else ''} of {args.email}")
    else:
        print(f"no submissions of {args.email}")
    if report.subscribers:
        print(f"deleted {args.email} from the newsletter, with its consent record and its mails")
    if report.leftover:
        print(f"error: {report.leftover}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _mails(count: int) -> str:
    return f"{count} notification{'s' if count != 1 else ''}"


def run_forms_send(args: argparse.Namespace) -> int:
    root = _root(args)
    config = load_config(root)
    with stop_on_sigterm() as stop:
        report = send_outbox(config, root, due_only=args.due_only,
                             keep_going=lambda: not stop.is_set())
    print(f"sent {report.sent}, not sent {report.failed}")
    if stop.is_set():
        print("stopped (SIGTERM) between two mails; the rest stays queued for the endpoint, "
              "or run: storefront forms send")
    if report.taken_over:
        processes = ", ".join(map(str, report.dead_senders))
        which = f" (process {processes})" if processes else ""
        print(f"{_mails(report.taken_over)} had been claimed by a sender that is no longer "
              f"running{which}: taken over; a mail it had already handed to the server may "
              "arrive twice")
    if report.busy:
        print(f"{_mails(report.busy)} being sent right now by another running process (the "
              "endpoint or another 'forms send'): left to it")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if stop.is_set():
        return EXIT_STOPPED
    return EXIT_OK if report.failed == 0 else EXIT_FAILED


_TABLE_NAMES = {"submissions": "submissions", "outbox": "mails in the outbox",
                "used_tokens": "used tokens", "subscribers": "subscribers",
                "newsletter_issues": "newsletter issues", "meta": "settings"}


def run_forms_migrate(args: argparse.Namespace) -> int:
    root = _root(args)
    config = load_config(root)
    try:
        target = parse_database(args.target)
    except ValueError as exc:
        print(f"error: --to {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not is_postgres_url(target):
        print("error: --to must be a postgresql:// URL", file=sys.stderr)
        return EXIT_USAGE
    if args.source is not None:
        source = args.source
    elif is_postgres_url(config.form_endpoint.database):
        print("error: form_endpoint.database is already a PostgreSQL URL; give the SQLite file "
              "with --from FILE", file=sys.stderr)
        return EXIT_USAGE
    else:
        source = database_path(config, root)
    if not source.is_file():
        print(f"error: there is no SQLite database at {source}", file=sys.stderr)
        return EXIT_FAILED
    with open_postgres(target) as database:
        report = migrate_to_postgres(SqliteDatabase(source), database)
    copied = ", ".join(f"{count} {_TABLE_NAMES[table]}" for table, count in report.counts.items())
    print(f"copied {report.source} to {report.target}: {copied}; every count checked")
    print(f"next: set form_endpoint.database: {report.target} in storefront.yaml and start the "
          "endpoint; keep the SQLite file as a backup")
    return EXIT_OK

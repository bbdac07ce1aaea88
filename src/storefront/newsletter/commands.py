"""The owner's ``storefront newsletter`` commands: new, preview, send, status, subscribers,
export, import, remove.

:func:`add_newsletter_parser` registers them on the main CLI; each handler prints its own report
and returns an exit code (content, config and storage errors are raised and reported by the CLI's
``main``). The work is in :mod:`storefront.newsletter.operations`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import webbrowser
from datetime import datetime
from pathlib import Path
from typing import Any

from storefront.config import load_config
from storefront.files import write_private_text
from storefront.forms.backends import open_database
from storefront.forms.commands import EXIT_STOPPED, stop_on_sigterm
from storefront.forms.issues import IssueProgress
from storefront.forms.subscribers import STATUSES
from storefront.newsletter import operations
from storefront.newsletter.subscriberfile import write_subscribers

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_newsletter_parser(subparsers: Any) -> None:
    """Register ``newsletter new|preview|send|status|subscribers|export|import|remove``."""
    parser = subparsers.add_parser(
        "newsletter", help="write and send the newsletter, manage its subscribers",
        description="The newsletter on your own list: draft an issue, preview it, send it "
        "through the form endpoint's outbox, and manage the subscribers.")
    commands = parser.add_subparsers(dest="newsletter_command", metavar="COMMAND", required=True)

    new = commands.add_parser("new", help="draft an issue with what was published since the last",
                              description="Write content/newsletter/<date>-<title>.md listing the "
                              "posts and the new or changed products since the last issue sent.")
    new.add_argument("title", nargs="?", help="default: the list's name and the month")
    new.set_defaults(func=run_new)

    preview = commands.add_parser("preview", help="open the rendered issue in the browser",
                                  description="Render the issue as a reader gets it and open it "
                                  "in the browser, or write it to a file.")
    preview.add_argument("issue", metavar="ISSUE", help="slug or file name of the issue")
    preview.add_argument("--output", type=Path, metavar="FILE", help="write the HTML here instead")
    preview.add_argument("--text", action="store_true", help="the plain-text part instead")
    preview.set_defaults(func=run_preview)

    send = commands.add_parser(
        "send", help="send an issue to every confirmed subscriber (or one test copy)",
        description="Queue the issue for every confirmed subscriber (once) and send it, at most "
        "newsletter.rate_limit messages an hour. Run it again to resume after an interruption.")
    send.add_argument("issue", metavar="ISSUE", help="slug or file name of the issue")
    send.add_argument("--test", metavar="ADDRESS", help="send one copy to ADDRESS only")
    send.add_argument("--rate", type=int, metavar="N",
                      help="messages per hour (overrides newsletter.rate_limit; 0 = no limit)")
    send.add_argument("--no-wait", action="store_true",
                      help="do not wait for retries of failed mails; send again later")
    send.add_argument("--update", action="store_true",
                      help="send the issue as its file is now to the subscribers not sent yet "
                      "(after the mail server refused it); by default a resumed send sends "
                      "the version sent first")
    send.set_defaults(func=run_send)

    status = commands.add_parser(
        "status", help="how far an issue's sending got, and whom the server refused it for",
        description="Counts of the issue's mails (sent, skipped, refused, still to send) and "
        "every address the mail server refused it for, with the server's answer.")
    status.add_argument("issue", metavar="ISSUE", help="slug or file name of the issue")
    status.set_defaults(func=run_status)

    listing = commands.add_parser("subscribers", help="count and list the subscribers",
                                  description="Counts of pending, confirmed and unsubscribed "
                                  "addresses, then the addresses (of one state with --status).")
    listing.add_argument("--status", choices=STATUSES)
    listing.set_defaults(func=run_subscribers)

    export = commands.add_parser("export", help="export the subscribers with their consent records",
                                 description="Write every subscriber with its consent evidence.")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--status", choices=STATUSES)
    export.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    export.add_argument("--raw", action="store_true",
                        help="CSV: do not neutralise cells that look like formulas")
    export.set_defaults(func=run_export)

    imports = commands.add_parser(
        "import", help="import addresses (with consent evidence: confirmed; without: they get "
        "a confirmation mail)",
        description="Import a CSV (with a header line) or JSON list. Rows with consent_at and "
        "consent_text or evidence are confirmed; the others get a confirmation mail only. "
        "Unsubscribed addresses stay unsubscribed.")
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.add_argument("--format", choices=("csv", "json"),
                         help="default: from the file name")
    imports.set_defaults(func=run_import)

    remove = commands.add_parser(
        "remove", help="unsubscribe an address (it is never mailed again)",
        description="Unsubscribe EMAIL; it stays on record as unsubscribed. To erase every "
        "trace of it, use: storefront forms forget EMAIL")
    remove.add_argument("email", metavar="EMAIL")
    remove.set_defaults(func=run_remove)


def _root(args: argparse.Namespace) -> Path:
    root = getattr(args, "root", None)
    return Path(root) if root is not None else Path.cwd()


def _is_the_database(root: Path, output: Path | None) -> bool:
    """Say so (and return True) when ``--output`` would overwrite the form database or its
    -wal/-shm (as ``forms export`` does): the endpoint's later commits would be lost."""
    if output is None or not open_database(load_config(root), root).owns_file(output):
        return False
    print(f"error: --output {output} is the form database itself (or its -wal/-shm); write "
          "to another file", file=sys.stderr)
    return True


def run_new(args: argparse.Namespace) -> int:
    draft = operations.draft_issue(_root(args), args.title)
    since = f"since {draft.since:%Y-%m-%d %H:%M}" if draft.since else "(first issue: everything)"
    print(f"created {draft.path}: {draft.posts} post(s) and {draft.products} new or changed "
          f"product(s) {since}; write the opening, then: storefront newsletter preview "
          f"{draft.path.stem}")
    return EXIT_OK


def run_preview(args: argparse.Namespace) -> int:
    root = _root(args)
    if _is_the_database(root, args.output):
        return EXIT_USAGE
    if args.text:
        content = operations.render(root, args.issue).text
    else:
        content = operations.preview_html(root, args.issue)
    if args.output is not None:
        args.output.write_text(content, encoding="utf-8")
        print(f"wrote {args.output}")
        return EXIT_OK
    suffix = ".txt" if args.text else ".html"
    with tempfile.NamedTemporaryFile("w", suffix=suffix, prefix="storefront-newsletter-",
                                     delete=False, encoding="utf-8") as handle:
        handle.write(content)
    opened = webbrowser.open(Path(handle.name).as_uri())
    print(f"{'opened' if opened else 'wrote'} {handle.name}")
    return EXIT_OK


class _Progress:
    """One line that updates itself on a terminal; a line every 5 s (and at the end) elsewhere."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.shown = 0.0
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self.shown < 5 and done < total:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        line = f"sent {done}/{total} ({done * 100 // max(total, 1)}%, {rate:.1f}/s)"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", flush=True)

    def close(self) -> None:
        if self.tty and self.shown:
            print()


def run_send(args: argparse.Namespace) -> int:
    root = _root(args)
    if args.test:
        operations.send_test(root, args.issue, args.test)
        print(f"sent a test copy to {args.test}")
        return EXIT_OK
    progress = _Progress()
    with stop_on_sigterm() as stop:
        def pause(seconds: float) -> None:  # the rate limit's and the retries' waits
            stop.wait(seconds)

        try:
            result = operations.send_issue(root, args.issue, progress=progress, rate=args.rate,
                                           wait_for_retries=not args.no_wait,
                                           update=args.update, sleep=pause,
                                           keep_going=lambda: not stop.is_set())
        finally:
            progress.close()
    state, report = result.outcome.progress, result.outcome.report
    slug = result.issue.snapshot.slug
    if result.queued_now:
        print(f"queued {slug} for {state.total} confirmed subscriber(s)")
    elif result.updated:
        print("the issue's file changed since it was first sent: its version as it is now goes "
              "out to the rest")
    elif result.file_changed:
        print("note: the issue's file changed since it was first sent; the version sent first is "
              "the one that goes out to the rest (to send the file as it is now: --update)")
    if report.taken_over:
        print(f"resumed {report.taken_over} mail(s) left by a send that stopped; the one it was "
              "sending when it stopped may arrive twice")
    _print_progress(state)
    if state.refused:
        print(f"the addresses refused by the server, with its answers: storefront newsletter "
              f"status {slug}")
    if result.outcome.busy:
        print(f"{result.outcome.busy} being sent right now by another running process: left to it")
    for error in report.errors[:5]:
        print(f"error: {error}", file=sys.stderr)
    refusal = result.outcome.refusal
    if refusal is not None:
        print(f"error: the mail server refused this issue for {len(refusal.recipients)} "
              f"subscribers in a row with the same answer: {refusal.answer}\n"
              "  hint: it refuses the message itself (its content or size, the sender address, "
              "or your account's sending limit), not these readers: none of them is marked, the "
              "send stopped. Correct the issue's file (or ask your mail provider what the answer "
              f"means), then: storefront newsletter send {slug} --update", file=sys.stderr)
    outcome = result.outcome
    if outcome.stuck:
        print(f"error: nothing went out since {_local(outcome.stalled_since)}: the server answers "
              f"\"try later\" for the {outcome.stuck} mail(s) left, or cannot be reached; its "
              f"answer: {outcome.stuck_answer}\n"
              "  hint: they stay queued, none is marked refused. If the answer speaks of a limit "
              "(too many messages, rate, quota), send fewer an hour (--rate N, or rate_limit: "
              "under newsletter: in storefront.yaml); if it is a reader's full mailbox or your "
              "server is down, send again later (the next try is due from "
              f"{_local(outcome.retry_at)}): storefront newsletter send {slug}", file=sys.stderr)
    if stop.is_set() and state.pending:
        print(f"stopped (SIGTERM) between two mails; to send the rest: storefront newsletter "
              f"send {slug}")
        return EXIT_STOPPED
    return EXIT_OK if state.pending == 0 else EXIT_FAILED


def _local(moment: float | None) -> str:
    """A time.time() value as this machine's local date and time, to the minute."""
    if moment is None:
        return "now"
    return datetime.fromtimestamp(moment).astimezone().strftime("%Y-%m-%d %H:%M")


def _print_progress(state: IssueProgress) -> None:
    print(f"{state.sent} sent, {state.skipped} skipped (unsubscribed meanwhile), {state.refused} "
          f"refused by the server, {state.pending} still to send (of {state.total})")


def run_status(args: argparse.Namespace) -> int:
    status = operations.issue_status(_root(args), args.issue)
    if status.issue is None or status.progress is None:
        print(f"{args.issue} has not been sent (storefront newsletter send {args.issue})")
        return EXIT_OK
    _print_progress(status.progress)
    if status.progress.pending and status.progress.last_error:
        print(f"last error: {status.progress.last_error}")
    for address, answer in status.refused:
        print(f"refused  {address:<40} {answer}")
    return EXIT_OK


def run_subscribers(args: argparse.Namespace) -> int:
    counts, rows = operations.subscribers(_root(args), args.status)
    print(", ".join(f"{counts[status]} {status}" for status in STATUSES))
    for row in rows:
        when = {"pending": row.signed_up_at, "confirmed": row.confirmed_at,
                "unsubscribed": row.unsubscribed_at}[row.status] or ""
        print(f"{row.email:<40} {row.status:<12} {when[:16]:<16} {row.source}")
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    if _is_the_database(_root(args), args.output):
        return EXIT_USAGE
    _counts, rows = operations.subscribers(_root(args), args.status)
    if args.output is None:
        write_subscribers(sys.stdout, rows, args.format, raw=args.raw)
    else:
        write_private_text(args.output, lambda out: write_subscribers(out, rows, args.format,
                                                                     raw=args.raw))
    print(f"exported {len(rows)} subscriber(s)", file=sys.stderr)
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    root = _root(args)
    fmt = args.format or ("json" if args.file.suffix.lower() == ".json" else "csv")
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        print(f"error: {args.file} is not UTF-8 text; save it as UTF-8", file=sys.stderr)
        return EXIT_FAILED
    load_config(root)
    outcomes = operations.import_file(root, text, str(args.file), fmt)
    print(f"{outcomes['confirmed']} confirmed (with evidence of consent), {outcomes['pending']} "
          f"sent a confirmation mail (no evidence), {outcomes['unchanged']} already on the list, "
          f"{outcomes['suppressed']} left out (unsubscribed before)")
    return EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    changed = operations.remove(_root(args), args.email)
    if changed is None:
        print(f"{args.email} is not on the list")
    elif changed:
        print(f"unsubscribed {args.email}: it will not be mailed again (to erase it completely: "
              f"storefront forms forget {args.email})")
    else:
        print(f"{args.email} was already unsubscribed")
    return EXIT_OK

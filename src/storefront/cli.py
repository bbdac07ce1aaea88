"""The ``storefront`` command line: the only place that prints or exits.

Exit codes: 0 ok, 1 content or config error, 2 usage error, 70 internal bug (the traceback is shown
only with ``--debug``).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import shlex
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from storefront import __version__, interrupts
from storefront.errors import REPEATS_SHOWN, BuildFailed, StorefrontError, limit_repeats
from storefront.files import remove_open_temporaries

if TYPE_CHECKING:
    from storefront.build import BuildReport

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 70
EXIT_INTERRUPTED = 128 + signal.SIGINT  # Ctrl-C: stopped before the end (see stopped_status)


def stopped_status(signum: int | None) -> int:
    """The exit status of a command stopped by ``signum``: 128 + its number, as a shell reports
    a command the signal ended (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), so a CI job's timeout or
    ``docker stop`` is told from a Ctrl-C. Every stop used to exit 130, as for Ctrl-C."""
    return 128 + (signal.SIGINT if signum is None else signum)


# Subcommands whose modules are imported only when they are used (the form endpoint and the
# newsletter load the mail and WSGI stacks; `storefront build` should not pay for them).
_LAZY = {
    "forms": ("storefront.forms.commands", "add_forms_parser",
              "run and manage the contact-form endpoint"),
    "newsletter": ("storefront.newsletter.commands", "add_newsletter_parser",
                   "write and send the newsletter, manage its subscribers"),
}


def make_parser(wanted: Sequence[str] = tuple(_LAZY)) -> argparse.ArgumentParser:
    """The parser; the subcommands of ``_LAZY`` not in ``wanted`` get a placeholder (for --help)."""
    from storefront.scaffold import NEW_KINDS  # see run_build

    parser = argparse.ArgumentParser(
        prog="storefront",
        description="Build a small business's own website from Markdown: blog, products, FAQ, "
        "pages, feeds and a self-hosted contact form.",
    )
    parser.add_argument("--version", action="version", version=f"storefront {__version__}")
    parser.add_argument("--root", type=Path, default=Path("."),
                        help="the site folder (with storefront.yaml); default: the current folder")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = commands.add_parser("build", help="build the site into output/",
                                description="Build the site into output/ (or --output).")
    build.add_argument("--drafts", action="store_true", help="include drafts")
    build.add_argument("--future", action="store_true", help="include posts dated in the future")
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build.add_argument("--all-warnings", action="store_true",
                       help="list every warning (by default a warning that many files have is "
                       f"shown for the first {REPEATS_SHOWN} and counted)")
    build.add_argument("--output", type=Path, help="output folder (default: output/ in the site)")
    build.add_argument("--base-url", help="public URL to build for, overriding storefront.yaml")
    build.add_argument("--jobs", type=_positive, metavar="N",
                       help="worker processes (default: one per core; 1: no workers)")
    build.add_argument("--no-cache", action="store_true",
                       help="start from nothing and keep nothing (a clean build)")
    build.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="where the build cache lives (default: .storefront-cache/ in the "
                       "site; CI can keep it between runs)")
    build.set_defaults(func=run_build)

    clean = commands.add_parser("clean", help="delete the build cache and the preview folder",
                                description="Delete the build cache and the preview folder; "
                                "with --output also the files storefront wrote into the output "
                                "folder (files it did not write are kept).")
    clean.add_argument("--output", nargs="?", const=True, default=None, metavar="DIR",
                       help="also remove what the build wrote into output/ (or DIR)")
    clean.add_argument("--cache-dir", type=Path, metavar="DIR", help="the cache to delete")
    clean.set_defaults(func=run_clean)

    init = commands.add_parser("init", help="create a new site from the example shop",
                               description="Create a new site in DIR from the example shop.")
    init.add_argument("directory", type=Path, metavar="DIR")
    init.set_defaults(func=run_init)

    new = commands.add_parser("new", help="create a new post, product, FAQ or page",
                              description="Create a Markdown file with its front matter.")
    new.add_argument("kind", choices=NEW_KINDS)
    new.add_argument("title")
    new.set_defaults(func=run_new)

    serve = commands.add_parser("serve", help="preview the site locally, rebuilding on change",
                                description="Build with drafts into a preview folder and serve "
                                "it on 127.0.0.1, rebuilding when a file changes.")
    serve.add_argument("--port", type=_port, default=8000,
                       help="the port to listen on, 0 to 65535 (default 8000; 0: any free one)")
    serve.add_argument("--no-drafts", action="store_true", help="hide drafts in the preview")
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 lets a phone on "
                       "the same Wi-Fi see the preview, drafts included)")
    serve.add_argument("--open", action="store_true", help="open the preview in the browser")
    serve.set_defaults(func=run_serve)

    for name, (module, function, summary) in _LAZY.items():
        if name in wanted:
            getattr(importlib.import_module(module), function)(commands)
        else:
            commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (the tests call this in their own process)."""
    args = _parse(argv)
    return args if isinstance(args, int) else _dispatch(args)


def run() -> NoReturn:
    """The ``storefront`` program (``[project.scripts]``, ``python -m storefront``).

    A build ends the process without the interpreter's teardown: the site's objects are kept by
    the session's memos until then, and freeing them one by one, after a last full collection,
    took 0.7-0.8 s after a one-edit build of 10,000 posts (one s in six). Everything a build
    opens is closed by then (the cache's connections, the workers, the files it wrote); what
    is registered to run at exit still runs (multiprocessing's and tempfile's clean-ups), and
    stdout and stderr are flushed. With another thread still running, or for any other
    command, the process ends the usual way.
    """
    _restart_in_utf8_mode()
    try:
        args = _parse(None)
    except KeyboardInterrupt:  # Ctrl+C as the program starts
        sys.exit(EXIT_INTERRUPTED)
    if isinstance(args, int):
        sys.exit(args)
    code = _dispatch(args)
    if args.func is not run_build or threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


def _restart_in_utf8_mode() -> None:
    """Run again in Python's UTF-8 mode when the locale's encoding is another (``LANG=tr_TR``
    is ISO-8859-9, a POSIX locale without coercion is ASCII): file names, in the content and in
    the output folder, are UTF-8 whatever the locale, as the site's links and addresses are. In
    the locale's encoding, ``content/assets/caffè.png`` was not the file a page links to, the
    build failed, and an alias ``/caffè/`` was another folder name than in a UTF-8 locale.
    The terminal keeps its own encoding for what is printed."""
    if sys.flags.utf8_mode or sys.getfilesystemencoding().replace("-", "").lower() == "utf8":
        return
    os.environ["PYTHONUTF8"] = "1"
    os.environ.setdefault("PYTHONIOENCODING", f"{sys.stderr.encoding or 'utf-8'}:backslashreplace")
    with contextlib.suppress(OSError):  # no interpreter to run: go on as we are
        os.execv(sys.executable, [sys.executable, "-m", "storefront", *sys.argv[1:]])  # noqa: S606 - this program again


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The command's arguments, or the exit code of a usage error or ``--help``."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = make_parser([name for name in _LAZY if name in words])
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except BuildFailed as exc:
        print_errors(exc, debug=args.debug)
        return EXIT_CONTENT
    except StorefrontError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONTENT
    except OSError as exc:  # the machine, not the content: a full disk, a busy port, permissions
        print(f"error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
              file=sys.stderr)
        return EXIT_CONTENT
    except KeyboardInterrupt as exc:
        # what this process was writing when stopped (the exception can land between a
        # temporary file made and the code that deletes it on the way out); an error met on
        # the way out of a stop comes here too (see _stopping_on_signals)
        remove_open_temporaries()
        return stopped_status(getattr(exc, "signum", None))
    except Exception:
        if args.debug:
            traceback.print_exc()
        else:
            print("storefront hit an internal error (a bug, not your content). Run again with "
                  "--debug to see the details, and please report them.", file=sys.stderr)
        return EXIT_BUG


def print_errors(exc: BuildFailed, debug: bool = False) -> None:
    for error in exc.errors:
        print(error.format(), file=sys.stderr)
        if debug and error.detail:
            print(error.detail, file=sys.stderr, end="")
    count = len(exc.errors)
    print(f"build failed: {count} problem{'s' if count != 1 else ''}; nothing was written",
          file=sys.stderr)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, got {text!r}")
    return value


def _port(text: str) -> int:
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 5 else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return value


def run_build(args: argparse.Namespace) -> int:
    # imported here, not with this module: Ctrl+C while the program starts (the build's modules
    # take half a second to import) is then answered like any other, not with a traceback
    from storefront import build
    from storefront.heap import settling
    from storefront.site import BuildOptions
    from storefront.terminal import ProgressBar

    options = BuildOptions(drafts=args.drafts, future=args.future, strict=args.strict)
    request = build.BuildRequest(root=args.root, output=args.output, options=options,
                           base_url=args.base_url, jobs=args.jobs, use_cache=not args.no_cache,
                           cache_dir=args.cache_dir)
    bar = ProgressBar()
    try:
        with settling() as settle, _stopping_on_signals():  # this process ends with the build
            report = build.build_site(request, bar, settle)
    except KeyboardInterrupt as exc:
        remove_open_temporaries()  # see _dispatch
        bar.close()
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(f"build stopped ({'Ctrl+C' if name == 'SIGINT' else name}): the output folder is "
              "as the last complete build left it", file=sys.stderr)
        return stopped_status(signum)
    finally:
        bar.close()
    print_report(report, all_warnings=args.all_warnings)
    return EXIT_OK


@contextlib.contextmanager
def _stopping_on_signals(stopping: threading.Event | None = None) -> Iterator[None]:
    """SIGTERM (systemd, docker stop, CI timeouts, ``kill``), Ctrl+C and SIGHUP (the terminal
    window closed) stop the command as Ctrl+C does, but never in the middle of a step that
    must end whole (see :mod:`storefront.interrupts`); ``stopping`` is set too.

    SIGTERM used to end a build at once: its workers' half-written pages stayed in the build
    cache, and, in the write stage, output/ kept half of the new pages beside half of the old.
    The handlers are put back afterwards (the tests call the command line in their process)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        # the flag also ends the preview's wait when the exception lands where Python ignores
        # exceptions (a callback run during an import): the preview then ran on
        if stopping is not None:
            stopping.set()
        interrupts.stop(signum)

    before = {signum: signal.signal(signum, interrupt) for signum in interrupts.STOP_SIGNALS}
    try:
        yield
    except Exception as exc:
        # met on the way out of a stop (a worker ended by the same SIGTERM, the pool's
        # shutdown): the command was stopped, no bug to report. Said here, as the stop is
        # forgotten below: _dispatch, asking later, took it for an internal error (exit 70)
        signum = interrupts.requested()
        if signum is None:
            raise
        raise interrupts.Interrupted(signum) from exc
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        interrupts.reset()


def run_clean(args: argparse.Namespace) -> int:
    from storefront.cleaning import clean_site

    output = None
    if args.output is not None:
        output = args.root / "output" if args.output is True else Path(args.output)
    for line in clean_site(args.root, args.cache_dir, output):
        print(line)
    return EXIT_OK


def print_report(report: BuildReport, all_warnings: bool = False) -> None:
    shown, repeated = ((report.warnings, []) if all_warnings
                       else limit_repeats(report.warnings))
    for warning in shown:
        print(f"warning: {warning.format()}", file=sys.stderr)
    for group in repeated:
        files = "file has" if group.more == 1 else "files have"
        print(f"warning: {group.more} more {files} the warning \"{group.first.message}\" "
              "(storefront build --all-warnings lists every one)", file=sys.stderr)
    print(f"built {report.pages} pages ({report.files} files) into {report.output}: "
          f"{report.written} written, {report.unchanged} unchanged, {report.deleted} deleted "
          f"in {report.seconds:.2f} s ({report.rendered} pages rendered, {report.parsed} files "
          f"parsed, {report.images} images processed, the rest unchanged)")
    if report.cache_discarded:
        print(f"note: {report.cache_discarded} damaged or outdated cache entries were ignored "
              "and rebuilt", file=sys.stderr)
    if report.left_out:
        print("left out: " + ", ".join(report.left_out))
    if report.next_change is not None:
        print(f"next change: {report.next_change.isoformat()} (rebuild then for scheduled posts, "
              "expiries, sale ends, holiday closures or the new year)")


def run_init(args: argparse.Namespace) -> int:
    from storefront.scaffold import init_site

    created = init_site(args.directory)
    folder = shlex.quote(str(created))  # a name with spaces is pasted as one word
    print(f"created a new site in {created}; next: cd {folder} && storefront build")
    return EXIT_OK


def run_new(args: argparse.Namespace) -> int:
    from storefront.scaffold import create_document

    path = create_document(args.root, args.kind, args.title)
    print(f"created {path}")
    return EXIT_OK


def run_serve(args: argparse.Namespace) -> int:
    from storefront.preview import serve

    stopping = threading.Event()
    # SIGTERM, Ctrl+C, SIGHUP (a closed terminal, a dropped SSH session: Python's default
    # ended the preview at once, leaving its workers' state folder and leaked semaphores)
    with _stopping_on_signals(stopping):
        serve(args.root, log=print, port=args.port, drafts=not args.no_drafts, host=args.bind,
              open_browser=args.open, stopping=stopping)
    return EXIT_OK

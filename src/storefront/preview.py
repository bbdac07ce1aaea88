"""``storefront serve``: a local preview that rebuilds when a file changes.

Builds with drafts and future posts into a preview folder (never ``output/``), serves it on
127.0.0.1 with the standard library's WSGI server, and rebuilds on a background thread when
watchdog sees a change. Requests wait while a build runs, so a half-built site is never served; a
failed build keeps the last good site and shows the errors on every page.
"""

from __future__ import annotations

import html
import mimetypes
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from storefront.build import BuildRequest, build_site
from storefront.errors import BuildFailed
from storefront.site import BuildOptions
from storefront.sources import is_ignored

PREVIEW_DIR = ".storefront-preview"
DEBOUNCE_SECONDS = 0.2

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class PreviewBuilder:
    """Runs builds one at a time and remembers the last error."""

    def __init__(self, root: Path, output: Path, base_url: str, drafts: bool,
                 log: Callable[[str], None]) -> None:
        self.root, self.output, self.base_url, self.drafts, self.log = (
            root, output, base_url, drafts, log)
        self.lock = threading.Lock()
        self.errors: list[str] = []

    def rebuild(self) -> None:
        with self.lock:
            request = BuildRequest(root=self.root, output=self.output, base_url=self.base_url,
                                   options=BuildOptions(drafts=self.drafts, future=self.drafts))
            try:
                report = build_site(request)
            except BuildFailed as exc:
                self.errors = [error.format() for error in exc.errors]
                for line in self.errors:
                    self.log(line)
                return
            self.errors = []
            self.log(f"rebuilt: {report.written} written, {report.deleted} deleted "
                     f"in {report.seconds:.2f} s")


def make_app(builder: PreviewBuilder) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app serving the preview folder; never serves anything outside it."""
    root = builder.output.resolve()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with builder.lock:  # wait for a running build to finish
            errors = list(builder.errors)
        path = environ.get("PATH_INFO", "/") or "/"
        target = (root / path.lstrip("/")).resolve()
        if target != root and root not in target.parents:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found"]
        if target.is_dir():
            target = target / "index.html"
        status = "200 OK"
        if not target.is_file():
            status, target = "404 Not Found", root / "404.html"
        data = target.read_bytes() if target.is_file() else b"not found"
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype == "text/html" and errors:
            data = _with_overlay(data, errors)
        if ctype.startswith("text/") or ctype in ("application/xml", "application/javascript"):
            ctype += "; charset=utf-8"
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data))),
                                ("Cache-Control", "no-store")])
        return [data]

    return app


def _with_overlay(page: bytes, errors: list[str]) -> bytes:
    items = "".join(f"<li><pre>{html.escape(line)}</pre></li>" for line in errors)
    overlay = ('<div role="alert" style="position:fixed;inset:auto 0 0 0;max-height:60vh;'
               'overflow:auto;background:#3b0d0d;color:#fff;padding:1rem;z-index:99999;'
               'font:14px/1.4 monospace"><strong>The last change has a problem; this is the '
               f'last good version of the page.</strong><ul>{items}</ul></div>')
    marker = b"</body>"
    if marker in page:
        return page.replace(marker, overlay.encode("utf-8") + marker, 1)
    return page + overlay.encode("utf-8")


class _ChangeHandler(FileSystemEventHandler):
    def __init__(self, trigger: Callable[[], None], ignored: Path) -> None:
        self.trigger, self.ignored = trigger, ignored.resolve()

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = Path(str(event.src_path))
        if is_ignored(path.name) or self.ignored in path.resolve().parents:
            return
        self.trigger()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(root: Path, port: int = 8000, drafts: bool = True,
          log: Callable[[str], None] = print) -> None:
    """Build, serve on http://127.0.0.1:PORT/ and rebuild on change until interrupted."""
    output = root / PREVIEW_DIR
    builder = PreviewBuilder(root, output, f"http://127.0.0.1:{port}/", drafts, log)
    builder.rebuild()
    pending = threading.Event()

    def worker() -> None:
        while True:
            pending.wait()
            time.sleep(DEBOUNCE_SECONDS)
            pending.clear()
            builder.rebuild()

    threading.Thread(target=worker, daemon=True).start()
    observer = Observer()
    handler = _ChangeHandler(pending.set, output)
    for folder in ("content", "themes"):
        if (root / folder).is_dir():
            observer.schedule(handler, str(root / folder), recursive=True)
    observer.schedule(handler, str(root), recursive=False)
    observer.start()
    with make_server("127.0.0.1", port, make_app(builder), handler_class=_QuietHandler) as server:
        log(f"serving the preview on http://127.0.0.1:{port}/ (Ctrl+C to stop)")
        try:
            server.serve_forever()
        finally:
            observer.stop()
            observer.join()

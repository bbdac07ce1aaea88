"""``storefront serve``: a local preview that rebuilds and reloads the browser when a file changes.

Builds with drafts and future posts into a preview folder (never ``output/``), serves it on
127.0.0.1 with the standard library's WSGI server (one thread per request), and rebuilds on a
background thread when watchdog sees a change. Requests wait while a build runs, so a half-built
site is never served. Every HTML response gets a small script, injected at response time, that
long-polls ``/__storefront/wait`` until the build epoch moves on and then reloads the page; the
builder knows nothing about it. A failed build keeps the last good site and shows the errors on
every page.
"""

from __future__ import annotations

import html
import mimetypes
import socketserver
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from storefront.build import BuildRequest, build_site
from storefront.errors import BuildFailed
from storefront.site import BuildOptions
from storefront.sources import is_ignored

PREVIEW_DIR = ".storefront-preview"
DEBOUNCE_SECONDS = 0.2
WAIT_PATH = "/__storefront/wait"
WAIT_SECONDS = 25.0

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_RELOAD_SCRIPT = """<script>
(function () {
  var epoch = %d;
  function wait() {
    fetch("%s?since=" + epoch, {cache: "no-store"})
      .then(function (r) { return r.text(); })
      .then(function (t) { if (Number(t) > epoch) { location.reload(); } else { wait(); } })
      .catch(function () { setTimeout(wait, 1000); });
  }
  wait();
})();
</script>"""


class PreviewBuilder:
    """Runs builds one at a time, counts them (the epoch) and remembers the last errors."""

    def __init__(self, root: Path, output: Path, base_url: str, drafts: bool,
                 log: Callable[[str], None]) -> None:
        self.root, self.output, self.base_url, self.drafts, self.log = (
            root, output, base_url, drafts, log)
        self.lock = threading.Lock()
        self.changed = threading.Condition()
        self.epoch = 0
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
            else:
                self.errors = []
                self.log(f"rebuilt: {report.written} written, {report.deleted} deleted "
                         f"in {report.seconds:.2f} s")
        with self.changed:
            self.epoch += 1
            self.changed.notify_all()

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the epoch passes ``since`` (or ``timeout``); return the epoch."""
        with self.changed:
            self.changed.wait_for(lambda: self.epoch > since, timeout)
            return self.epoch


def make_app(builder: PreviewBuilder, wait_seconds: float = WAIT_SECONDS) -> WsgiApp:
    """A WSGI app serving the preview folder; never serves anything outside it."""
    root = builder.output.resolve()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = unquote(environ.get("PATH_INFO", "/") or "/")
        if path == WAIT_PATH:
            since = _int(parse_qs(environ.get("QUERY_STRING", "")).get("since", ["0"])[0])
            epoch = builder.wait_for_change(since, wait_seconds)
            return _respond(start_response, "200 OK", "text/plain", str(epoch).encode())
        with builder.lock:  # wait for a running build to finish
            errors, epoch = list(builder.errors), builder.epoch
        target = (root / path.lstrip("/")).resolve()
        if target != root and root not in target.parents:
            return _respond(start_response, "404 Not Found", "text/plain", b"not found")
        if target.is_dir():
            target = target / "index.html"
        status = "200 OK"
        if not target.is_file():
            status, target = "404 Not Found", root / "404.html"
        data = target.read_bytes() if target.is_file() else b"not found"
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype == "text/html":
            data = _inject(data, errors, epoch)
        return _respond(start_response, status, ctype, data)

    return app


def _respond(start_response: StartResponse, status: str, ctype: str,
             data: bytes) -> list[bytes]:
    if ctype.startswith("text/") or ctype in ("application/xml", "application/javascript"):
        ctype += "; charset=utf-8"
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store")])
    return [data]


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _inject(page: bytes, errors: list[str], epoch: int) -> bytes:
    """Add the reload script and, after a failed build, the error overlay."""
    extra = _RELOAD_SCRIPT % (epoch, WAIT_PATH)
    if errors:
        items = "".join(f"<li><pre>{html.escape(line)}</pre></li>" for line in errors)
        extra = (
            '<div role="alert" id="storefront-errors" style="position:fixed;inset:auto 0 0 0;'
            "max-height:60vh;overflow:auto;background:#3b0d0d;color:#fff;padding:1rem;"
            'z-index:99999;font:14px/1.4 monospace"><strong>The last change has a problem; '
            f"this is the last good version of the page.</strong><ul>{items}</ul></div>{extra}"
        )
    marker = b"</body>"
    if marker in page:
        return page.replace(marker, extra.encode("utf-8") + marker, 1)
    return page + extra.encode("utf-8")


class _ChangeHandler(FileSystemEventHandler):
    def __init__(self, trigger: Callable[[], None], ignored: Path) -> None:
        self.trigger, self.ignored = trigger, ignored.resolve()

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Only real changes: watchdog also reports files being opened and closed, which the
        # build itself does, and reacting to those would rebuild (and reload) forever.
        if event.event_type not in ("created", "modified", "deleted", "moved"):
            return
        path = Path(str(event.src_path))
        if is_ignored(path.name) or path.resolve() == self.ignored or (
                self.ignored in path.resolve().parents):
            return
        self.trigger()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class PreviewServer:
    """The builder, the file watcher and the HTTP server on 127.0.0.1, started together."""

    def __init__(self, root: Path, log: Callable[[str], None], port: int = 8000,
                 drafts: bool = True) -> None:
        self.app: WsgiApp | None = None
        self.server = make_server("127.0.0.1", port, self._dispatch,
                                  server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.port = int(self.server.server_address[1])
        self.builder = PreviewBuilder(root, root / PREVIEW_DIR,
                                      f"http://127.0.0.1:{self.port}/", drafts, log)
        self.app = make_app(self.builder)
        self.pending = threading.Event()
        self.stopping = threading.Event()
        self.observer = Observer()
        handler = _ChangeHandler(self.pending.set, self.builder.output)
        for folder in ("content", "themes"):
            if (root / folder).is_dir():
                self.observer.schedule(handler, str(root / folder), recursive=True)
        self.observer.schedule(handler, str(root), recursive=False)
        self.threads: list[threading.Thread] = []

    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # the port (chosen by the OS when 0) is known only after the socket is bound
        assert self.app is not None
        return self.app(environ, start_response)

    def _rebuild_on_change(self) -> None:
        while not self.stopping.is_set():
            if not self.pending.wait(0.2):
                continue
            time.sleep(DEBOUNCE_SECONDS)  # one rebuild for a burst of saves
            self.pending.clear()
            self.builder.rebuild()

    def start(self) -> None:
        """Build once, then watch and serve in background threads."""
        self.builder.rebuild()
        self.observer.start()
        for target in (self._rebuild_on_change, self.server.serve_forever):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.observer.stop()
        self.observer.join()
        for thread in self.threads:
            thread.join()


def serve(root: Path, log: Callable[[str], None], port: int = 8000, drafts: bool = True) -> None:
    """Build, serve on http://127.0.0.1:PORT/ and rebuild on change until interrupted."""
    server = PreviewServer(root, log, port, drafts)
    server.start()
    log(f"serving the preview on http://127.0.0.1:{server.port}/ (Ctrl+C to stop)")
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()

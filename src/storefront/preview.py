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
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from storefront.build import BuildRequest, build_site
from storefront.errors import BuildFailed
from storefront.site import BuildOptions
from storefront.sources import is_ignored

PREVIEW_DIR = ".storefront-preview"
BIND_ADDRESS = "127.0.0.1"
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
                self._log_details(exc)
            except Exception as exc:  # the preview never stops: show it, rebuild on the next save
                self.errors = [rebuild_failure(exc)]
                self.log(self.errors[0])
                self.log("".join(traceback.format_exception(exc)).rstrip())
            else:
                self.errors = []
                self.log(f"rebuilt: {report.written} written, {report.deleted} deleted "
                         f"in {report.seconds:.2f} s")
        with self.changed:
            self.epoch += 1
            self.changed.notify_all()

    def _log_details(self, exc: BuildFailed) -> None:
        for error in exc.errors:
            if error.detail:
                self.log(error.detail.rstrip())

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the epoch passes ``since`` (or ``timeout``); return the epoch."""
        with self.changed:
            self.changed.wait_for(lambda: self.epoch > since, timeout)
            return self.epoch


def make_app(builder: PreviewBuilder, wait_seconds: float = WAIT_SECONDS,
             hosts: frozenset[str] | None = None) -> WsgiApp:
    """A WSGI app serving the preview folder; never serves anything outside it.

    Only requests addressed to the preview itself are answered (``hosts``; by default the
    host and port of the builder's base URL, and ``localhost`` on that port): a web page that
    points a name it controls at 127.0.0.1 (DNS rebinding) gets 403, not the owner's drafts.
    A path that cannot name a file gets 400 or 404, never 500.
    """
    root = builder.output.resolve()
    allowed = hosts if hosts is not None else hosts_of(builder.base_url)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = str(environ.get("HTTP_HOST", "")).lower()
        if host not in allowed:
            return _respond(start_response, "403 Forbidden", "text/plain",
                            f"this preview answers only at {builder.base_url}".encode())
        path = unquote(environ.get("PATH_INFO", "/") or "/")
        if "\x00" in path:
            return _respond(start_response, "400 Bad Request", "text/plain", b"bad path")
        if path == WAIT_PATH:
            since = parse_since(str(environ.get("QUERY_STRING", "")))
            if since is None:
                return _respond(start_response, "400 Bad Request", "text/plain",
                                b"since must be a build number")
            epoch = builder.wait_for_change(since, wait_seconds)
            return _respond(start_response, "200 OK", "text/plain", str(epoch).encode())
        with builder.lock:  # wait for a running build to finish
            errors, epoch = list(builder.errors), builder.epoch
        try:
            status, target, data = _find(root, path)
        except (OSError, ValueError):  # a name too long for the system, say: no such page
            status, target, data = "404 Not Found", root / "404.html", b"not found"
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype == "text/html":
            data = _inject(data, errors, epoch)
        return _respond(start_response, status, ctype, data)

    return app


def _find(root: Path, path: str) -> tuple[str, Path, bytes]:
    """The status, file and bytes that answer ``path`` (the 404 page when there is none)."""
    target = (root / path.lstrip("/")).resolve()
    if target != root and root not in target.parents:
        return "404 Not Found", Path("not-found.txt"), b"not found"
    if target.is_dir():
        target = target / "index.html"
    status = "200 OK"
    if not target.is_file():
        status, target = "404 Not Found", root / "404.html"
    data = target.read_bytes() if target.is_file() else b"not found"
    return status, target, data


def hosts_of(base_url: str) -> frozenset[str]:
    """The ``Host`` headers that address a preview served at ``base_url``."""
    parts = urlsplit(base_url)
    host, port = (parts.hostname or "").lower(), parts.port or 80
    names = {host, "localhost"} if host in ("127.0.0.1", "localhost") else {host}
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(hosts)


def parse_since(query: str) -> int | None:
    """The build number in ``since=N`` (0 when absent); None when it is not a plain number."""
    text = parse_qs(query).get("since", ["0"])[0]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def rebuild_failure(exc: Exception) -> str:
    """What the overlay says when a rebuild fails with an exception no check foresaw."""
    return (f"the preview could not rebuild: unexpected error: {type(exc).__name__}: {exc}\n"
            "  hint: this may be a bug in storefront (the details are in the terminal where "
            "storefront serve runs); the next save rebuilds")


def _respond(start_response: StartResponse, status: str, ctype: str,
             data: bytes) -> list[bytes]:
    if ctype.startswith("text/") or ctype in ("application/xml", "application/javascript"):
        ctype += "; charset=utf-8"
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store")])
    return [data]


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
        self.server = make_server(BIND_ADDRESS, port, self._dispatch,
                                  server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.port = int(self.server.server_address[1])
        self.builder = PreviewBuilder(root, root / PREVIEW_DIR,
                                      f"http://{BIND_ADDRESS}:{self.port}/", drafts, log)
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
            try:
                self.builder.rebuild()
            except Exception as exc:  # rebuild shows its own failures; this thread must live on
                self.builder.log(rebuild_failure(exc))

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

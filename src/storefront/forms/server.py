"""Run the endpoint under waitress, a production-grade pure-Python WSGI server.

waitress is told to trust ``X-Forwarded-For`` / ``X-Forwarded-Proto`` only from the reverse proxy
(127.0.0.1 by default), so behind nginx the client address used for the rate limit and the IP hash
is the visitor's, and a visitor cannot fake it. SIGTERM and SIGINT stop the server cleanly: it
stops accepting, finishes the requests in flight, commits what the writer has queued and stops the
outbox sender. This is the one module that runs a server; it does not print (``ready`` is called
with the bound address and the caller reports it).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import waitress  # type: ignore[import-untyped]
from waitress import wasyncore

from storefront.config import SiteConfig
from storefront.forms.app import FormsApp, create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
DEFAULT_THREADS = 16


def make_server(
    app: Callable[..., Any], host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
    threads: int = DEFAULT_THREADS, trusted_proxy: str | None = "127.0.0.1",
    max_body_bytes: int = 32768,
) -> Any:
    """A waitress server for the WSGI ``app`` on ``host:port`` (port 0 picks a free one)."""
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "threads": threads,
        "ident": "storefront-forms",
        "channel_timeout": 30,
        "connection_limit": 1000,
        # our app answers 413 itself below this; waitress refuses absurd chunked bodies
        "max_request_body_size": max(max_body_bytes * 4, 1 << 20),
        "clear_untrusted_proxy_headers": True,
    }
    if trusted_proxy:
        options["trusted_proxy"] = trusted_proxy
        options["trusted_proxy_headers"] = {"x-forwarded-for", "x-forwarded-proto"}
    return waitress.create_server(app, **options)


def server_address(server: Any) -> tuple[str, int]:
    return str(server.effective_host), int(server.effective_port)


def serve(
    config: SiteConfig, root: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
    threads: int = DEFAULT_THREADS, trusted_proxy: str | None = "127.0.0.1",
    ready: Callable[[str, int], None] | None = None, **app_options: Any,
) -> None:
    """Serve the endpoint until SIGTERM/SIGINT; every accepted submission is committed on exit."""
    app = create_app(config, root, **app_options)
    try:
        server = make_server(app, host, port, threads=threads, trusted_proxy=trusted_proxy,
                             max_body_bytes=config.form_endpoint.max_body_bytes)
        try:
            app.start()
            if ready is not None:
                ready(*server_address(server))
            with _stop_on_signals():
                server.run()  # returns after SIGTERM/SIGINT, threads shut down
        finally:
            server.task_dispatcher.shutdown(timeout=10)
            wasyncore.close_all(server._map)
    finally:
        app.close()


class BackgroundServer:
    """waitress serving a WSGI app on a background thread (tests, benchmarks, embedding)."""

    def __init__(self, app: Callable[..., Any], host: str = DEFAULT_HOST, port: int = 0,
                 **options: Any) -> None:
        self.app = app
        if isinstance(app, FormsApp):
            options.setdefault("max_body_bytes", app.config.form_endpoint.max_body_bytes)
        self.server = make_server(app, host, port, **options)
        self.host, self.port = server_address(self.server)
        self._thread = threading.Thread(target=self.server.run, name="storefront-forms-server",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every socket from inside the server loop, which then ends."""
        server_map = self.server._map
        if self._thread.is_alive():
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(server_map))
            self._thread.join(10)
        self.server.task_dispatcher.shutdown(timeout=10)
        wasyncore.close_all(server_map)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM into SystemExit (which waitress's loop handles) while serving."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)

"""``storefront serve``: a local preview that rebuilds as the owner saves and reloads the browser.

One :class:`~storefront.build.BuildSession` lives as long as the server: parsed documents, output
records and worker processes stay in memory, so a save re-parses one file and re-renders only the
pages that read it. The site is built with drafts and future posts into a preview folder (never
``output/``) and served with the standard library's WSGI server (one thread per request) on
127.0.0.1, or on ``--bind`` for a phone on the shop's Wi-Fi (then the pages' absolute URLs name
the address the phone opens, see :func:`preview_base_url`). Requests wait while a build runs, so
a half-built site is never served: a build writes every file but the feeds first, then lets
requests and browsers in (the page the owner is editing shows at once), then makes the feeds,
and a request for a file that is not final yet (a feed, a file about to be deleted) waits for
the end of the build.

Every HTML response gets a small script, injected at response time (the builder knows nothing of
it), that long-polls ``/__storefront/wait`` until the build epoch moves on: then it reloads the
page, or, when only stylesheets changed, swaps them in place (the preview writes theme static
files under their plain names, ``static/css/site.css``, so a stylesheet edit changes no page). A
failed build, of any kind, keeps the last good site and shows the problems on every page; the
next save builds again. Requests whose ``Host`` is not this server (DNS rebinding from a web
page) are refused.
"""

from __future__ import annotations

import contextlib
import errno
import html
import ipaddress
import json
import mimetypes
import os
import secrets
import socket
import socketserver
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from storefront.build import BuildSession
from storefront.errors import BuildFailed, StorefrontError
from storefront.files import temp_writer
from storefront.heap import IDLE_SECONDS, TIDY_EVERY, settle, thaw, tidy
from storefront.interrupts import held
from storefront.output import WRITING
from storefront.previewlock import LOCK_NAME, PreviewLock
from storefront.request import PREVIEW_DIR, BuildRequest
from storefront.site import BuildOptions
from storefront.sources import is_ignored

DEBOUNCE_SECONDS = 0.01
MOST_NAMED = 64  # files named by the events of one build's changes (more: not named)
# at most this long after the pages are in place, the feeds wait for the browsers told to reload
# (see PreviewBuilder.let_browsers_load)
LOAD_PAUSE_SECONDS = 0.5
WAIT_PATH = "/__storefront/wait"
WAIT_SECONDS = 25.0
LOOPBACK = "127.0.0.1"
EVERYWHERE = ("0.0.0.0", "::", "")  # noqa: S104 - the names of "every network", compared

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_RELOAD_SCRIPT = """<script>
(function () {
  var epoch = %d, server = "%s";
  // The tabs of a browser share one wait: a browser opens at most six connections to a server,
  // and six tabs each waiting on its own left none to load a seventh. One tab waits (it holds a
  // lock; when it reloads or closes, the next tab takes it) and passes the news on to the others.
  var channel = window.BroadcastChannel ? new BroadcastChannel("storefront-preview") : null;
  var shared = channel !== null && !!navigator.locks;  // no locks over plain http on a phone
  function swapStyles(version) {
    document.querySelectorAll('link[rel="stylesheet"]').forEach(function (link) {
      link.href = link.href.split("?")[0] + "?v=" + version;
    });
  }
  // what the owner typed in a form (trying the contact form) is put back after a reload
  var typed = "storefront-typed:" + location.pathname;
  function fields(each) {
    Array.prototype.forEach.call(document.forms, function (form, f) {
      Array.prototype.forEach.call(form.elements, function (field, e) {
        if (!/^(hidden|password|file|submit|button|reset|image)$/.test(field.type)) {
          each(field, f + "." + e + "." + field.name);
        }
      });
    });
  }
  function value(field) {  // as typed, or null when it is as the page came
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked ? field.checked : null;
    }
    if (field.options) {
      var options = Array.prototype.slice.call(field.options);
      var changed = options.some(function (o) { return o.selected !== o.defaultSelected; });
      return changed ? options.filter(function (o) { return o.selected; })
        .map(function (o) { return o.value; }) : null;
    }
    return field.value !== field.defaultValue ? field.value : null;
  }
  function reload() {
    var kept = {};
    fields(function (field, key) { var v = value(field); if (v !== null) { kept[key] = v; } });
    try { sessionStorage.setItem(typed, JSON.stringify(kept)); } catch (e) { /* no storage */ }
    location.reload();
  }
  try {  // once: a later visit to the page starts with an empty form
    var back = JSON.parse(sessionStorage.getItem(typed) || "{}");
    sessionStorage.removeItem(typed);
    fields(function (field, key) {
      if (!(key in back)) { return; }
      if (typeof back[key] === "boolean") { field.checked = back[key]; }
      else if (field.options) { Array.prototype.forEach.call(field.options, function (o) {
        o.selected = back[key].indexOf(o.value) >= 0; }); }
      else { field.value = back[key]; }
    });
  } catch (e) { /* no storage, or a value of another page */ }
  function hear(news) {  // whether this page stays (else it reloads)
    // another preview answers (stopped and started again: its epochs count anew), or a build
    // since this page's epoch changed pages, not only stylesheets
    if (news.server !== server || news.pages > epoch) { reload(); return false; }
    if (news.epoch > epoch) { epoch = news.epoch; swapStyles(epoch); }
    return true;
  }
  function wait(done) {
    fetch("%s?since=" + epoch + "&server=" + server, {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (news) {
        if (shared) { channel.postMessage(news); }
        if (hear(news)) { wait(done); } else { done(); }
      })
      .catch(function () { setTimeout(function () { wait(done); }, 1000); });
  }
  if (shared) { channel.onmessage = function (event) { hear(event.data); }; }
  var started = false;
  function start() {
    if (started) { return; }
    started = true;
    if (shared) {
      navigator.locks.request("storefront-preview", function () { return new Promise(wait); });
    } else {
      wait(function () {});
    }
  }
  // once the page is painted: the preview makes the feeds when its browsers wait again (see
  // PreviewBuilder.let_browsers_load), and a save meanwhile is heard all the same (its epoch).
  // A hidden tab paints nothing (no animation frame): it waits at once, or soon at the latest.
  if (document.visibilityState === "hidden") { start(); } else {
    requestAnimationFrame(function () { setTimeout(start, 0); });
    setTimeout(start, 250);
  }
})();
</script>"""


_NO_PAGE = (b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Not found'
            b"</title></head><body><p>This page is not in the preview (yet).</p></body></html>")


class PreviewBuilder:
    """Runs builds one at a time in a long-lived session, counts them (the epoch) and keeps the
    last problems to show."""

    def __init__(self, root: Path, output: Path, base_url: str, drafts: bool,
                 log: Callable[[str], None], jobs: int | None = None) -> None:
        self.root, self.output, self.log = root, output, log
        # theme static files keep their plain names here: a stylesheet edit then changes the
        # stylesheet alone, no page, and the browser swaps it in place
        options = BuildOptions(drafts=drafts, future=drafts, hashed_assets=False)
        self.session = BuildSession(BuildRequest(root=root, output=output, base_url=base_url,
                                                 options=options, require_base_url=False,
                                                 jobs=jobs))
        self.building = threading.Lock()  # one build at a time in the session (taken first)
        self.lock = threading.Lock()  # builds the pages wait for (requests take it briefly)
        news = threading.Lock()
        self.changed = threading.Condition(news)  # the epoch moved on (browsers wait for it)
        self.came_back = threading.Condition(news)  # a browser waits again (see let_browsers_load)
        self.epoch = 0
        self.waiting = 0  # browsers waiting for news (one per browser: its tabs share one wait)
        self.told = 0  # of them, how many were waiting when the epoch last moved on
        self.back = 0  # waits since then that know the new epoch (a reloaded page's, say)
        self.load_pause = LOAD_PAUSE_SECONDS  # see let_browsers_load
        # which preview this is: a tab left open across a restart asks a server whose epochs
        # count from 0 again, and must reload (it waited for an epoch past the old one's)
        self.instance = secrets.token_hex(8)
        self.closed = False  # stopped: waiting browsers are answered at once
        self.reload_epoch = 0  # the last epoch that changed more than stylesheets
        self.finished = threading.Condition()  # a build's feeds are written (see final())
        self.finishing: frozenset[str] | None = None  # while they are made: the final paths
        self.css_only = False
        self.partly_written = False  # the last build failed after writing its pages
        self.errors: list[str] = []
        self.notices: list[str] = []  # advice from the last good build (an alias to add)

    def rebuild(self, saved: frozenset[str] | None = None) -> None:
        """Build now; whatever goes wrong is shown in the browser, never raised. ``saved``: the
        files changed since the last build began, by the watcher's word (see
        :meth:`BuildSession.build`).

        Browsers reload as soon as every page is in place (the build then makes the feeds);
        meanwhile a request for a file that is not final yet (a feed, a file about to be
        deleted) waits for the end of the build, like every request while a build runs.
        """
        with self.building:
            locked = False  # self.lock is this build's (taken in the try, which releases it)
            told = False
            # what browsers show is this build's output, unless the last build failed
            showing_output = not self.errors and not self.partly_written
            deferred = False  # no page changed: browsers are told at the end, if anything did

            def shown(final: frozenset[str], changed: tuple[str, ...]) -> None:
                nonlocal told, deferred
                self.css_only = bool(changed) and all(p.endswith(".css") for p in changed)
                with self.finished:
                    self.finishing = final
                if told:  # again: a quick save showed its pages, then the build changed more
                    self._announce()
                    deferred = False  # told now: not again at the end for the same build
                    return
                self.errors = []
                told = True
                self.lock.release()
                if changed or not showing_output:
                    self._announce()
                    self.let_browsers_load()
                else:  # a save that changed nothing (an editor's auto-save): no reload for it
                    deferred = True

            css_only = False
            failed = True
            anything = True  # whether this build changed what browsers show
            try:
                # held: Ctrl-C between the lock taken and noted left it taken, and the preview
                # then waited for it for ever on its way out (in close())
                with held():
                    self.lock.acquire()
                    locked = True
                report = self.session.build(shown=shown, saved=saved)
            except BuildFailed as exc:
                self.errors = [error.format() for error in exc.errors]
                for line in self.errors:
                    self.log(line)
            except Exception as exc:  # a bug, a vanished folder: report it, keep serving
                if self.closed:  # stopped meanwhile: its workers were ended (see stop())
                    self.errors = ["the preview stopped during this build"]
                else:
                    self.errors = [self._internal_error("rebuilding", exc)]
            else:
                failed = False
                self.errors = []
                notices = list(report.notices)
                advice = notices != self.notices
                self.notices = notices  # before browsers are told: the pages they load show it
                # a feed changed, or the advice the pages show: browsers not told yet reload
                anything = bool(report.changed) or advice or not showing_output
                if deferred and anything:
                    self._announce()
                elif told and advice:  # they reloaded when the pages were in place, before
                    self.css_only = False  # the advice was known: they reload again
                    self._announce()
                for line in self.notices:
                    self.log(line)
                css_only = bool(report.changed) and all(p.endswith(".css") for p in report.changed)
                self.log(f"rebuilt in {report.seconds:.2f} s: {report.rendered} pages rendered, "
                         f"{report.written} files written, {report.deleted} deleted")
            finally:
                if locked and not told:
                    self.lock.release()
                with self.finished:
                    self.finishing = None
                    self.finished.notify_all()
            self.partly_written = told and failed
            # else the browsers were told when the pages were in place (or nothing changed)
            if failed or (not told and anything):
                self.css_only = css_only
                self._announce()
        if self.session.repair_needed and not self.closed:  # a file was deleted or changed by
            # hand: put it back
            self.rebuild()

    def _announce(self) -> None:
        """A new epoch: every browser reloads (or swaps its stylesheets)."""
        with self.changed:
            self.epoch += 1
            if not self.css_only:
                self.reload_epoch = self.epoch
            self.told, self.back = self.waiting, 0
            self.changed.notify_all()

    def let_browsers_load(self) -> None:
        """Wait until every browser told of the new epoch is back waiting for the next one (at
        most :attr:`load_pause` seconds): the page it reloaded has been served, with its
        stylesheets (the preview's script runs after them), and is being painted.

        The build makes the feeds after this. Made at once, they took one core for ~100 ms at
        1,000 posts while the browser loaded the page on two, and the page's own requests waited
        for this process: the owner saw the change ~60 ms later. A feed asked for meanwhile
        waits for the end of the build, as always."""
        with self.changed:
            self.came_back.wait_for(lambda: self.back >= self.told or self.closed,
                                    self.load_pause)

    def wait_until_final(self, *paths: str) -> None:
        """Return once the file a request names (any of these output paths) is as the running
        build leaves it: at once when it is among the final files, else when the build ends."""
        with self.finished:
            finishing = self.finishing
            if finishing is not None and not any(path in finishing for path in paths):
                self.finished.wait_for(lambda: self.finishing is None, WAIT_SECONDS)

    def warm_up(self) -> None:
        """Read the site into the session when the start was answered from the cache's memo
        (nothing changed since the last build): the first save then costs what later ones do.
        A content problem is left to the next save's build, which meets it again and shows it;
        a bug is logged."""
        with self.building:  # not self.lock: pages are served meanwhile (it writes nothing)
            if self.session.records or self.errors:
                return
            try:
                self.session.build(warm=True)
            except BuildFailed:
                pass
            except Exception as exc:  # a bug: said in the terminal, the next save builds anew
                if not self.closed:  # else its workers were ended (see stop_building)
                    self._internal_error("warming up", exc)

    def _internal_error(self, doing: str, exc: Exception) -> str:
        """Log a bug met while ``doing`` a build, with its traceback; return the message."""
        message = (f"storefront hit an internal error while {doing} ({type(exc).__name__}: "
                   f"{exc}); the next save builds again")
        self.log(message)
        self.log(traceback.format_exc())
        return message

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the epoch passes ``since`` (or ``timeout``); return the epoch."""
        return self.news(since, timeout)[0]

    def news(self, since: int, timeout: float) -> tuple[int, bool, int]:
        """Block until the epoch passes ``since`` (or ``timeout``); return the epoch, whether
        every build since ``since`` changed stylesheets only (swap them), not what the last build
        did: a browser that missed a build that changed pages must reload, and the last epoch
        that changed pages (for the other tabs the news is passed on to, whose epochs differ)."""
        with self.changed:
            if since >= self.epoch and timeout > 0:  # it knows the last news: back waiting
                self.back += 1
                self.came_back.notify_all()
            self.waiting += 1
            try:
                self.changed.wait_for(lambda: self.epoch > since or self.closed, timeout)
            finally:
                self.waiting -= 1
            return self.epoch, self.reload_epoch <= since < self.epoch, self.reload_epoch

    def stop_building(self) -> None:
        """Let browsers waiting for news go, and end a running build's worker processes (it
        then fails at once, quietly, instead of rendering on: half a minute of a big site's
        rebuild that nobody will see)."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()
            self.came_back.notify_all()
        self.session.pool.stop_workers()

    def close(self) -> None:
        with self.changed:  # browsers waiting for news are let go
            self.closed = True
            self.changed.notify_all()
            self.came_back.notify_all()
        with self.building, self.lock:
            self.session.close()


def bind_notice(host: str, port: int, bound: str = "", address: str | None = None) -> list[str]:
    """What to tell the owner about ``--bind``: nothing for this computer only; else the warning,
    and the address a phone on the same network opens (``address``, else
    :func:`public_address` of ``host`` and ``bound``, the address the server listens on)."""
    if _is_loopback(host) or (bound and _is_loopback(bound)):
        return []
    address = address or public_address(host, bound)
    lines = [f"warning: bound to {host}: other devices on this network can see the preview, "
             "drafts included; use it on a network you trust"]
    if address is not None:
        lines.append(f"on a phone on the same network, open {preview_base_url(host, port, address)}")
    return lines


def public_address(host: str, bound: str = "") -> str | None:
    """The address another device on the network opens the preview at, bound to ``host``
    (``bound``: the address the server listens on): ``host`` itself when it is an address; for
    every network (``0.0.0.0``) this computer's address on its network, None without one; for a
    name, the address it stands for (the preview answers addresses, not names, see
    :func:`allowed_host`). None for this computer only (a loopback address or name)."""
    if _is_loopback(host) or (bound and _is_loopback(bound)):
        return None
    if host in EVERYWHERE:
        return lan_address()
    return host if _is_address(host) else bound or None


def preview_base_url(host: str, port: int, public: str | None) -> str:
    """The base URL the preview builds with, which its absolute URLs name (``og:url``,
    ``og:image``, the canonical link, structured data, the feeds' links).

    Bound beyond this computer (``--bind 0.0.0.0`` for a phone on the shop's Wi-Fi) it is the
    address printed for the phone (``public``, from :func:`public_address`), which this
    computer opens too: the pages are built once for every browser, not rewritten per request,
    and ``127.0.0.1`` on a phone is the phone itself. Chosen at start: a computer that moves to
    another network keeps the old address until the preview is started again. Else
    ``127.0.0.1`` (or the loopback address or name it is bound to)."""
    address = public or (LOOPBACK if host in EVERYWHERE else host)
    return f"http://[{address}]:{port}/" if ":" in address else f"http://{address}:{port}/"


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` is written as (``[::1]`` too), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_address(host: str) -> bool:
    return _ip(host) is not None


def _is_loopback(host: str) -> bool:
    address = _ip(host)
    return host == "localhost" or (address is not None and address.is_loopback)


def lan_address() -> str | None:
    """This computer's address on its network (what a phone on the same Wi-Fi opens), as the
    system would send from it to the internet; nothing is sent (a UDP socket only connects).
    None without a network."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): routed, never reached
        address = str(probe.getsockname()[0])
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


def allowed_host(host: str, port: int) -> bool:
    """``localhost`` or an IP address, on this server's port: never a domain name, which a page
    on the internet could point at this machine (DNS rebinding) to read the owner's drafts."""
    name, _, given_port = host.rpartition(":")
    if not name or given_port != str(port):
        return False
    return name == "localhost" or _is_address(name)


def make_app(builder: PreviewBuilder, wait_seconds: float = WAIT_SECONDS,
             port: int | None = None) -> WsgiApp:
    """A WSGI app serving the preview folder; never serves anything outside it."""
    root = builder.output.resolve()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if port is not None and not allowed_host(str(environ.get("HTTP_HOST", "")), port):
            return _respond(start_response, "403 Forbidden", "text/plain",
                            b"this preview answers only on its own address")
        try:
            # PEP 3333: the server has decoded the %-escapes already, and the string holds the
            # path's bytes as Latin-1 (unquoting it again turned /assets/caff%C3%A8.pdf into
            # "caffÃ¨.pdf", and a file named "50%25.txt" into "50%.txt": not found)
            path = (environ.get("PATH_INFO", "/") or "/").encode("latin-1").decode("utf-8")
        except UnicodeError:
            return _respond(start_response, "400 Bad Request", "text/plain", b"bad path")
        if "\x00" in path:
            return _respond(start_response, "400 Bad Request", "text/plain", b"bad path")
        if path == WAIT_PATH:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            since = _int(query.get("since", ["0"])[0])
            # a page of another preview (this one restarted) is answered at once: it reloads
            same = query.get("server", [builder.instance])[0] == builder.instance
            epoch, css, pages = builder.news(since, wait_seconds if same else 0)
            news = json.dumps({"epoch": epoch, "css": css, "pages": pages,
                               "server": builder.instance}).encode()
            return _respond(start_response, "200 OK", "application/json", news)
        relative = path.lstrip("/")
        if not relative or relative.endswith("/"):
            relative += "index.html"
        with builder.lock:  # wait for a running build to put its pages in place
            pass
        builder.wait_until_final(relative, relative + "/index.html")  # a feed being made
        with builder.lock:  # what the page shows is what the build that wrote it found
            errors, epoch, notices = list(builder.errors), builder.epoch, list(builder.notices)
            partly = builder.partly_written
        status, data, ctype, tag = _read(root, path)
        if ctype == "text/html":  # made for this response: never kept by the browser
            data = _inject(data, errors, epoch, notices, partly, builder.instance)
            tag = ""
        elif tag and environ.get("HTTP_IF_NONE_MATCH") == tag:
            start_response("304 Not Modified", _caching(tag))
            return []
        return _respond(start_response, status, ctype, data, tag)

    return app


def _read(root: Path, path: str) -> tuple[str, bytes, str, str]:
    """The file for a URL path (``index.html`` for a folder, the 404 page when there is none):
    status, bytes, type and the file's entity tag (see :func:`_entity_tag`; "" for none)."""
    try:
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            # resolved too: a folder's index.html may be a link (planted) to a file elsewhere
            target = (target / "index.html").resolve()
        if target != root and root not in target.parents:
            return "404 Not Found", b"not found", "text/plain", ""
        if target.is_file() and not _bookkeeping(target.name):
            with target.open("rb") as handle:  # the tag of the very file read
                tag = _entity_tag(os.fstat(handle.fileno()))
                data = handle.read()
            return ("200 OK", data,
                    mimetypes.guess_type(target.name)[0] or "application/octet-stream", tag)
    except (OSError, ValueError):  # a name too long for the file system, and the like
        pass
    with contextlib.suppress(OSError):
        not_found = (root / "404.html").resolve()  # a link to elsewhere is no 404 page
        if root in not_found.parents and not_found.is_file():
            return "404 Not Found", not_found.read_bytes(), "text/html", ""
    # no site built yet (storefront.yaml broken from the start, a folder that is no site yet):
    # a page, so the browser shows the problems and reloads once they are fixed
    return "404 Not Found", _NO_PAGE, "text/html", ""


def _bookkeeping(name: str) -> bool:
    """A file of storefront's own in the preview folder, no page of the site: the preview's lock
    (its address and process id), a writer's mark, a temporary file being written (half a page)."""
    return name in (LOCK_NAME, WRITING) or temp_writer(name) is not None


def _entity_tag(info: os.stat_result) -> str:
    """An ``ETag`` that changes with the file: a build replaces a file by renaming a new one
    into place (another inode), an edit by hand changes its time or size. A browser asks again
    with it (``Cache-Control: no-cache``) and gets ``304 Not Modified`` while it holds: on a
    reload, the stylesheets, scripts and photos come from its cache, not again over the wire."""
    return f'"{info.st_ino:x}-{info.st_size:x}-{info.st_mtime_ns:x}"'


def _respond(start_response: StartResponse, status: str, ctype: str,
             data: bytes, tag: str = "") -> list[bytes]:
    if ctype.startswith("text/") or ctype in ("application/xml", "application/javascript",
                                               "application/json"):
        ctype += "; charset=utf-8"
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data))),
                            *_caching(tag)])
    return [data]


def _caching(tag: str) -> list[tuple[str, str]]:
    """A file with an entity tag is asked for again on every use (and answered 304 while it
    holds); anything else is never kept."""
    return [("ETag", tag), ("Cache-Control", "no-cache")] if tag else [("Cache-Control",
                                                                        "no-store")]


def _int(text: str) -> int:
    """A small decimal number, or 0 for anything else (²,a 5,000-digit number, ...)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


def _inject(page: bytes, errors: list[str], epoch: int, notices: list[str] | None = None,
            partly: bool = False, server: str = "") -> bytes:
    """Add the reload script and, after a failed build, the error overlay (else the notices).
    ``partly``: the build failed after it had written the pages (making the feeds); ``server``:
    the preview's :attr:`PreviewBuilder.instance`."""
    extra = _RELOAD_SCRIPT % (epoch, server, WAIT_PATH)
    if errors:
        shown = ("its pages were written before the problem was found (the feeds were not)"
                 if partly else "this is the last good version of the page")
        extra = _panel("alert", "storefront-errors", "60vh", "#3b0d0d",
                       f"The last change has a problem; {shown}.", errors) + extra
    elif notices:
        extra = _panel("status", "storefront-notices", "40vh", "#0d2a3b", "Before you publish:",
                       notices) + extra
    marker = b"</body>"
    if marker in page:
        return page.replace(marker, extra.encode("utf-8") + marker, 1)
    return page + extra.encode("utf-8")


def _panel(role: str, ident: str, height: str, background: str, heading: str,
           lines: list[str]) -> str:
    """A panel fixed at the bottom of the page, above everything, listing ``lines``."""
    # lines wrap: on a phone (serve --bind) a long path or hint must not run off the screen
    items = "".join(f'<li><pre style="white-space:pre-wrap;overflow-wrap:anywhere">'
                    f"{html.escape(line)}</pre></li>" for line in lines)
    return (f'<div role="{role}" id="{ident}" style="position:fixed;inset:auto 0 0 0;'
            f"max-height:{height};overflow:auto;background:{background};color:#fff;"
            'padding:1rem;z-index:99999;font:14px/1.4 monospace">'
            f"<strong>{heading}</strong><ul>{items}</ul></div>")


class _ChangeHandler(FileSystemEventHandler):
    """Sets off a build on each change, and keeps the files it names for that build (see
    :meth:`take`)."""

    def __init__(self, trigger: Callable[[], None], ignored: Path, root: Path | None = None,
                 rewatch: threading.Event | None = None) -> None:
        self.trigger, self.ignored = trigger, ignored.resolve()
        self.rewatch = rewatch
        self.folders = ({str(root / "content"), str(root / "themes")}
                        if root is not None else set())
        self._named = threading.Lock()
        self._saved: set[str] | None = set()  # None: a change no file names (a folder's)

    def take(self) -> frozenset[str] | None:
        """The files changed since the last call, by the events' word (None when a change
        named none: a folder made, moved or deleted, too many files): a build's quick save
        shows them before it lists the site's files (see BuildSession.build)."""
        with self._named:
            saved, self._saved = self._saved, set()
        return None if saved is None else frozenset(saved)

    def _note(self, names: set[str] | None) -> None:
        with self._named:
            if self._saved is not None and names is not None and len(self._saved) < MOST_NAMED:
                self._saved |= names
            else:
                self._saved = None

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Only real changes: watchdog also reports files being opened and closed, which the
        # build itself does, and reacting to those would rebuild (and reload) forever.
        if event.event_type not in ("created", "deleted", "moved", "modified"):
            return
        if self.rewatch is not None and event.event_type != "modified" and (
                {str(event.src_path), str(getattr(event, "dest_path", ""))} & self.folders):
            self.rewatch.set()  # content/ or themes/ itself went or came
        if event.event_type in ("deleted", "moved") and self._is_output(Path(str(event.src_path))):
            # the preview folder itself went (deleted by hand): build it again now,
            # not at the owner's next save (every page was "not found" until then)
            self._note(None)
            self.trigger()
            return
        paths = [Path(str(name)) for name in (event.src_path, getattr(event, "dest_path", ""))
                 if name]
        named = {str(path) for path in paths
                 if not is_ignored(path.name) and not self._inside_output(path)}
        if named:
            # a folder's own "modified" names no change of its own: its files' events do
            self._note(None if event.is_directory and event.event_type != "modified"
                       else set() if event.is_directory else named)
            self.trigger()

    def _is_output(self, path: Path) -> bool:
        try:
            return path.resolve() == self.ignored
        except OSError:
            return False

    def _inside_output(self, path: Path) -> bool:
        try:
            resolved = path.resolve()
        except OSError:
            return False
        return resolved == self.ignored or self.ignored in resolved.parents


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    """What to tell the owner when the preview cannot listen on ``host``:``port``."""
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (by another program, or a preview "
                f"still running in another terminal: stop it with Ctrl+C); or use another "
                f"port: storefront serve --port {port + 1 if port < 65535 else 8001}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"port {port} on {host} is reserved for the system; use a port from 1024 up: "
                f"storefront serve --port 8000")
    return (f"cannot listen on {host} ({exc.strerror or exc}); --bind takes an IPv4 address of "
            f"this computer: 127.0.0.1 (the default: this computer only) or --bind 0.0.0.0 "
            f"(every network it is on)")


class PreviewServer:
    """The builder, the file watcher and the HTTP server, started together."""

    def __init__(self, root: Path, log: Callable[[str], None], port: int = 8000,
                 drafts: bool = True, host: str = LOOPBACK, jobs: int | None = None) -> None:
        self.app: WsgiApp | None = None
        # before the port: a second preview of the site is told where the first one is
        self.lock = PreviewLock.take(root / PREVIEW_DIR)
        try:
            self.server = make_server(host, port, self._dispatch,
                                      server_class=_ThreadingServer, handler_class=_QuietHandler)
        except OSError as exc:  # a busy port, an address of no interface here, IPv6
            if self.lock is not None:
                self.lock.release()
            raise StorefrontError(_bind_problem(host, port, exc)) from None
        self.port = int(self.server.server_address[1])
        self.url = preview_base_url(host, self.port, None)  # where this computer opens it
        if self.lock is not None:
            self.lock.announce(self.url)
        self.bound = str(self.server.server_address[0])
        self.public = public_address(host, self.bound)  # where a phone opens it, if anywhere
        self.base_url = preview_base_url(host, self.port, self.public)
        self.builder = PreviewBuilder(root, root / PREVIEW_DIR, self.base_url, drafts, log, jobs)
        self.app = make_app(self.builder, port=self.port)
        self.pending = threading.Event()
        self.rewatch = threading.Event()  # content/ or themes/ went or came: watch them anew
        self.stopping = threading.Event()
        self.observer = Observer()
        self.root = root
        self.handler = _ChangeHandler(self.pending.set, self.builder.output, root, self.rewatch)
        self.watches: dict[str, ObservedWatch] = {}
        self._watch_folders()
        self.observer.schedule(self.handler, str(root), recursive=False)
        self.threads: list[threading.Thread] = []

    def _watch_folders(self) -> None:
        """Watch content/ and themes/ as they are now: a watch dies with its folder, and one
        deleted and made again (or made after the start) would be seen by nobody."""
        for folder in ("content", "themes"):
            old = self.watches.pop(folder, None)
            if old is not None:
                with contextlib.suppress(KeyError, OSError):
                    self.observer.unschedule(old)
            if (self.root / folder).is_dir():
                with contextlib.suppress(OSError):  # gone again: the next event retries
                    self.watches[folder] = self.observer.schedule(
                        self.handler, str(self.root / folder), recursive=True)

    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # the port (chosen by the OS when 0) is known only after the socket is bound
        assert self.app is not None
        return self.app(environ, start_response)

    def _rebuild_on_change(self) -> None:
        self.builder.warm_up()
        settle()
        built_at: float | None = time.monotonic()  # None: tidied since the last build
        untidied = 0  # builds since the last collection (an editor's auto-save never pauses)
        while not self.stopping.is_set():
            if not self.pending.wait(0.2):
                if built_at is not None and time.monotonic() - built_at > IDLE_SECONDS:
                    tidy()  # the owner paused: collect now, not during the next save
                    built_at, untidied = None, 0
                continue
            # one build for a burst of events (an editor's temp file, write and rename): it
            # starts once no event came for DEBOUNCE_SECONDS (each event starts the wait again,
            # at once: sleeping it out first made a save by rename wait twice as long)
            self.pending.clear()
            while self.pending.wait(DEBOUNCE_SECONDS):
                self.pending.clear()
            if self.rewatch.is_set():  # before the build: what it misses, a watch sees
                self.rewatch.clear()
                self._watch_folders()
            self.builder.rebuild(self.handler.take())  # never raises: problems go to the overlay
            untidied += 1
            if untidied >= TIDY_EVERY:
                tidy()
                untidied = 0
            else:
                settle()
            built_at = time.monotonic()

    def start(self) -> None:
        """Build once, then watch and serve in background threads.

        The watcher starts after the first build (its thread would keep the build's workers
        from being forked), so a save while that build ran (half a minute at 10,000 posts) was
        seen by the build or by nobody: the page kept the old text until the next save. One
        build follows the start; the files' stats make it cheap when nothing changed, and a
        build that changes nothing reloads no browser."""
        self.builder.rebuild()
        tidy()
        self.observer.start()
        self.pending.set()
        for target in (self._rebuild_on_change, self.server.serve_forever):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        """Stop what was started (also when interrupted during :meth:`start`). Held: a second
        Ctrl-C does not leave the workers, the watcher or the lock behind."""
        with held():
            self.stopping.set()
            self.builder.stop_building()  # a rebuild running now ends at once, not in seconds
            if self.threads:  # shutdown() waits for serve_forever, which must be running
                self.server.shutdown()
            self.server.server_close()
            if self.observer.is_alive():
                self.observer.stop()
                self.observer.join()
            for thread in self.threads:
                thread.join()
            self.builder.close()
            thaw()  # what the session froze (settle, tidy) is the collector's again
            if self.lock is not None:
                self.lock.release()


def serve(root: Path, log: Callable[[str], None], port: int = 8000, drafts: bool = True,
          host: str = LOOPBACK, open_browser: bool = False,
          stopping: threading.Event | None = None) -> None:
    """Build, serve and rebuild on change until interrupted (KeyboardInterrupt), or until
    ``stopping`` is set (checked every second)."""
    if not root.is_dir():  # nothing to watch: the watcher failed with a bare "No such file"
        raise StorefrontError(f"there is no folder {root}: give the folder of your site with "
                              "--root, or create a site with storefront init")
    server = PreviewServer(root, log, port, drafts, host)
    try:  # Ctrl+C or SIGTERM during the first build stops the workers too
        server.start()
        log(f"serving the preview on {server.url} (Ctrl+C to stop)")
        for line in bind_notice(host, server.port, server.bound, server.public):
            log(line)
        if open_browser:
            webbrowser.open(server.url)
        stopping = stopping if stopping is not None else threading.Event()
        while not stopping.wait(1.0):
            pass
    finally:
        server.stop()

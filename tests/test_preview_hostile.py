"""The preview under hostile conditions: other web pages, odd paths, failing rebuilds and an
editor that saves by renaming while a build reads the folder. It never stops and never answers
500; only requests addressed to the preview itself are answered."""

from __future__ import annotations

import http.client
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storefront.preview import PreviewBuilder, PreviewServer, make_app
from support import free_port, port_answers, wait_until


def get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def call(app, path: str, query: str = "", host: str = "127.0.0.1:8000") -> tuple[str, bytes]:
    seen: dict[str, str] = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(app({"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET",
                         "HTTP_HOST": host, "wsgi.input": io.BytesIO()}, start_response))
    return seen["status"], body


@pytest.fixture
def server(copy_site):
    site = copy_site("basic")
    preview = PreviewServer(site, log=lambda line: None, port=0)
    preview.start()
    yield preview
    preview.stop()


def test_a_page_of_another_site_cannot_read_the_drafts_through_dns_rebinding(server) -> None:
    port = server.port
    assert get(port, "/blog/2024/07/bozza/")[0] == 200  # a draft, shown to the owner
    assert get(port, "/blog/2024/07/bozza/", host=f"localhost:{port}")[0] == 200
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1:{port + 1}",
                 f"127.0.0.1.attacker.example:{port}", ""):
        status, body = get(port, "/blog/2024/07/bozza/", host=host)
        assert status == 403, host
        assert b"Una bozza" not in body


@pytest.mark.parametrize("path, query", [
    ("/\x00", ""), ("/%00", ""), ("/%ff%fe", ""), ("/" + "a" * 300, ""), ("/" + "a/" * 3000, ""),
    ("/" + "é" * 200 + ".html", ""), ("/../../etc/passwd", ""), ("/%2e%2e/%2e%2e/etc/passwd", ""),
    ("/__storefront/wait", "since=²"), ("/__storefront/wait", "since=" + "9" * 5000),
    ("/__storefront/wait", "since=-1&since=x"), ("/__storefront/wait", "%zz=%"),
])
def test_odd_paths_are_answered_400_or_404_never_500(copy_site, tmp_path, path, query) -> None:
    site = copy_site("basic")
    builder = PreviewBuilder(site, tmp_path / "preview", "http://127.0.0.1:8000/", True,
                             log=lambda line: None)
    builder.rebuild()
    try:
        status, body = call(make_app(builder, wait_seconds=0.5, port=8000), path, query)
    finally:
        builder.close()
    assert status[:3] in ("200", "400", "404"), status
    assert b"root:" not in body


def test_the_preview_survives_an_internal_error_and_the_next_save_rebuilds(server) -> None:
    """Something in the way of a page the build writes (here a folder) is not a content error:
    before, the rebuild thread died of it and the preview silently stopped updating."""
    site, port = server.builder.root, server.port
    page = site / "content" / "pages" / "chi-siamo.md"
    in_the_way = server.builder.output / "chi-siamo" / "index.html"
    in_the_way.unlink()
    in_the_way.mkdir()
    (in_the_way / "qualcosa").write_text("x", encoding="utf-8")
    epoch = server.builder.epoch
    page.write_text(page.read_text(encoding="utf-8") + "\nPrima.\n", encoding="utf-8")
    assert server.builder.wait_for_change(epoch, timeout=60) > epoch
    assert wait_until(lambda: server.builder.errors != [])
    status, body = get(port, "/")
    assert status == 200 and b'role="alert"' in body and b"IsADirectoryError" in body

    shutil.rmtree(in_the_way)
    page.write_text(page.read_text(encoding="utf-8") + "\nDopo.\n", encoding="utf-8")
    assert wait_until(lambda: b"Dopo." in get(port, "/chi-siamo/")[1])
    assert server.builder.errors == []
    assert all(thread.is_alive() for thread in server.threads)


def save_like_jetbrains(path: Path, text: str) -> None:
    """"Safe write": a temp file, the original renamed away, the temp renamed in, the old one
    deleted. For a moment the file does not exist, and a build reading the folder may miss it."""
    temp = path.with_name(path.name + "___jb_tmp___")
    old = path.with_name(path.name + "___jb_old___")
    temp.write_text(text, encoding="utf-8")
    os.replace(path, old)
    time.sleep(0.002)  # the gap a busy disk leaves between the two renames
    os.replace(temp, path)
    old.unlink()


def test_an_editor_saving_by_rename_during_builds_never_stops_the_preview(server) -> None:
    site, port = server.builder.root, server.port
    page = site / "content" / "pages" / "chi-siamo.md"
    post = site / "content" / "posts" / "2024-06-10-focaccia.md"
    texts = {path: path.read_text(encoding="utf-8") for path in (page, post)}
    stop = time.monotonic() + 4
    saves = 0

    def storm() -> None:
        nonlocal saves
        while time.monotonic() < stop:
            for path, text in texts.items():
                save_like_jetbrains(path, text + f"\nVersione {saves}.\n")
                saves += 1

    writer = threading.Thread(target=storm)
    writer.start()
    while writer.is_alive():  # read pages while the builds race the saves
        assert get(port, "/chi-siamo/")[0] in (200, 404)
    writer.join()
    save_like_jetbrains(page, texts[page] + "\nVersione finale.\n")
    assert saves > 50
    assert wait_until(lambda: b"Versione finale." in get(port, "/chi-siamo/")[1])
    assert wait_until(lambda: server.builder.errors == [])
    assert all(thread.is_alive() for thread in server.threads)


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_preview_as_ctrl_c_does(copy_site, tmp_path,
                                                             signal_name: str) -> None:
    """systemd, ``docker stop`` and ``timeout`` send SIGTERM; closing the terminal window the
    preview runs in (or an SSH session dropping) sends SIGHUP. The preview closes its worker
    processes and watcher as on Ctrl+C, leaving nothing behind: no leaked semaphores, and nothing
    in the temporary folder. On SIGHUP it died at once and left there the folder of the states
    it had sent its workers (megabytes for a big site), at every closed terminal."""
    site = copy_site("basic")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "storefront", "--root", str(site), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(temporary)})
    try:
        deadline = time.monotonic() + 60
        while not port_answers(port):
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()
            time.sleep(0.1)
        post = site / "content/posts/2024-06-10-focaccia.md"
        text = post.read_text(encoding="utf-8")
        for attempt in range(60):  # saved again until a build shows it (the watcher starts
            post.write_text(f"{text}\nCalda {attempt}.\n", encoding="utf-8")  # after the
            if wait_until(lambda: b"Calda " in get(port, "/blog/2024/06/focaccia/")[1], 1.0):
                break  # first build: a save during it is seen by that build or by none)
        else:
            raise AssertionError("no save was shown")
    finally:
        server.send_signal(getattr(signal, signal_name))
        out, err = server.communicate(timeout=30)
    assert server.returncode == 128 + getattr(signal, signal_name), (out, err)  # 143, 129
    assert "leaked" not in err and "Traceback" not in err, err
    assert list(temporary.iterdir()) == []


def test_files_whose_names_need_escaping_are_served_through_a_real_server(copy_site) -> None:
    """The WSGI server has decoded the path (PEP 3333: its bytes as Latin-1); decoding it again
    made a photo named perché.jpg (its copies too, so the page showed broken images) and a
    file named 50%25.txt "not found" in the preview, though the build wrote them."""
    from urllib.parse import quote

    site = copy_site("basic")
    files = {"listino-caffè.pdf": b"%PDF-1.4 listino", "50%25 sconto.txt": b"sconto",
             "perché.png": (site / "content/assets/pagnotta.png").read_bytes()}
    for name, data in files.items():
        (site / "content/assets" / name).write_bytes(data)
    server = PreviewServer(site, log=lambda line: None, port=0)
    server.start()
    try:
        assert server.builder.errors == []
        for name, data in files.items():
            assert get(server.port, "/assets/" + quote(name)) == (200, data), name
        assert get(server.port, "/assets/caff%C3%A8-non-c-e.pdf")[0] == 404
        assert get(server.port, "/assets/%FF.pdf")[0] == 400  # not UTF-8
    finally:
        server.stop()


def test_a_save_while_the_first_build_runs_is_shown(copy_site,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The watcher starts once the first build is done (half a minute at 10,000 posts); a save
    made meanwhile, after that build had read the file, was shown by nobody until the next
    save."""
    site = copy_site("basic")
    post = site / "content/posts/2024-06-10-focaccia.md"
    server = PreviewServer(site, log=lambda line: None, port=0)
    real_build = server.builder.session.build
    builds: list[int] = []

    def build(*args, **kwargs):
        report = real_build(*args, **kwargs)
        if not builds:  # the owner saves as the first build ends, after it read the post
            post.write_text(post.read_text(encoding="utf-8") + "\nCalda.\n", encoding="utf-8")
        builds.append(1)
        return report

    monkeypatch.setattr(server.builder.session, "build", build)
    server.start()
    try:
        assert wait_until(lambda: b"Calda." in get(server.port, "/blog/2024/06/focaccia/")[1],
                          15.0)
    finally:
        server.stop()

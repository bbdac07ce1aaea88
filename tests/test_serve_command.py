"""``storefront serve`` as an owner meets it: its options, a busy port, a site that is not
ready, folders deleted and made again. Real processes and real HTTP."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import free_port, port_answers


def get(port: int, path: str = "/") -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


def start(root: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "storefront", "--root", str(root), "serve", "--port", str(port),
         *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not port_answers(port):
        assert server.poll() is None and time.monotonic() < deadline, server.communicate()
        time.sleep(0.1)
    return server, port


def stop(server: subprocess.Popen[str]) -> tuple[str, str]:
    server.terminate()
    return server.communicate(timeout=30)


@pytest.mark.parametrize("port", ["70000", "-1", "ottomila"])
def test_a_port_out_of_range_is_a_usage_error(port: str, run_cli, copy_site) -> None:
    """``serve --port 70000`` (or -1) was an internal error, exit 70: the socket refused it."""
    result = run_cli("--root", copy_site("basic"), "serve", "--port", port)
    assert result.code == 2
    assert "--port" in result.err and "0 to 65535" in result.err


def test_a_busy_port_is_named_with_the_way_out(run_cli, copy_site) -> None:
    """Another program (an earlier preview left open) on port 8000 gave only "error: Address
    already in use": no port, no hint."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--root", copy_site("basic"), "serve", "--port", str(port))
    assert result.code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.err
    assert f"--port {port + 1}" in result.err


@pytest.mark.parametrize("address", ["casa-mia", "::"])
def test_an_address_that_cannot_be_bound_is_named(address: str, run_cli, copy_site) -> None:
    result = run_cli("--root", copy_site("basic"), "serve", "--bind", address, "--port", "0")
    assert result.code == 1
    assert f"cannot listen on {address}" in result.err
    assert "--bind 0.0.0.0" in result.err


def test_a_site_whose_config_is_broken_at_start_shows_the_problem_in_the_browser(
        copy_site) -> None:
    """With storefront.yaml broken before the first build there were no pages yet: every
    address answered a plain-text "not found", the problem only in the terminal, and nothing
    reloaded once it was fixed. The browser now gets a page with the problem panel and the
    reload script, and shows the site after the fix."""
    site = copy_site("basic")
    config = site / "storefront.yaml"
    good = config.read_text(encoding="utf-8")
    config.write_text(good + "menu: [\n", encoding="utf-8")
    server, port = start(site)
    try:
        status, ctype, body = get(port, "/")
        assert status == 404 and ctype.startswith("text/html"), (status, ctype, body)
        assert b'id="storefront-errors"' in body and b"storefront.yaml:" in body
        assert b"/__storefront/wait" in body
        config.write_text(good, encoding="utf-8")
        deadline = time.monotonic() + 60
        while get(port, "/")[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert b'id="storefront-errors"' not in get(port, "/")[2]
    finally:
        stop(server)


def test_a_folder_that_is_not_a_site_yet_says_so_in_the_browser(tmp_path) -> None:
    server, port = start(tmp_path)
    try:
        status, ctype, body = get(port, "/")
        assert status == 404 and ctype.startswith("text/html")
        assert b"no storefront.yaml in" in body and b"storefront init" in body
    finally:
        stop(server)


def test_content_deleted_and_made_again_is_watched_again(copy_site, tmp_path) -> None:
    """The owner deletes content/ (or moves it away) and puts a copy back, or starts the
    preview before content/ exists: the watch on the old folder died with it, and saves in the
    new one rebuilt nothing, the preview stuck on the last build until restarted."""
    import shutil

    site = copy_site("basic")
    kept = tmp_path / "kept-content"
    shutil.copytree(site / "content", kept)
    server, port = start(site)
    try:
        assert get(port, "/chi-siamo/")[0] == 200
        shutil.rmtree(site / "content")
        time.sleep(1)
        shutil.copytree(kept, site / "content")
        time.sleep(1)
        page = site / "content/pages/chi-siamo.md"
        page.write_text(page.read_text(encoding="utf-8") + "\nRiscritta dopo.\n", "utf-8")
        deadline = time.monotonic() + 30
        while b"Riscritta dopo." not in get(port, "/chi-siamo/")[2]:
            assert time.monotonic() < deadline, "the save in the new content/ was not seen"
            time.sleep(0.2)
        assert b'id="storefront-errors"' not in get(port, "/chi-siamo/")[2]
    finally:
        stop(server)


def test_a_second_preview_of_a_site_names_the_first_instead_of_writing_over_it(copy_site) -> None:
    """A preview left open in another terminal, and a second one started on another port (as
    the busy-port message suggests): both built into .storefront-preview/, each with its own
    address in the pages, and the first served the second's pages (og:url, canonical naming
    the other port). The second now refuses and names the first's address; once the first is
    stopped, or killed outright (no stale lock), a new preview starts."""
    site = copy_site("basic")
    first, port = start(site)
    try:
        other = free_port()
        second = subprocess.Popen(
            [sys.executable, "-m", "storefront", "--root", str(site), "serve", "--port",
             str(other)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while second.poll() is None and not port_answers(other) and time.monotonic() < deadline:
            time.sleep(0.1)
        if second.poll() is None:
            stop(second)
            pytest.fail("a second preview of the site started beside the first")
        assert second.returncode == 1
        assert (f"a preview of this site is already running on http://127.0.0.1:{port}/ "
                f"(process {first.pid})") in second.communicate()[1]
        page = get(port, "/chi-siamo/")[2].decode()
        assert f'<link rel="canonical" href="http://127.0.0.1:{port}/chi-siamo/">' in page
    finally:
        stop(first)
    again, _ = start(site)
    again.kill()  # SIGKILL: nothing of the preview runs to release the lock
    again.communicate(timeout=30)
    last, port = start(site)
    try:
        assert get(port, "/chi-siamo/")[0] == 200
    finally:
        stop(last)


def test_a_preview_for_a_phone_names_its_network_address_in_absolute_urls(copy_site) -> None:
    """``serve --bind 0.0.0.0`` for a phone on the shop's Wi-Fi built the pages for 127.0.0.1,
    which on the phone is the phone: its og:url, og:image, canonical link, structured data and
    feed links led nowhere. They name the address printed for the phone, which this computer
    opens too (without a network, 127.0.0.1 as before)."""
    from storefront.preview import lan_address

    address = lan_address() or "127.0.0.1"
    server, port = start(copy_site("basic"), "--bind", "0.0.0.0")
    try:
        base = f"http://{address}:{port}/"
        connection = http.client.HTTPConnection(address, port, timeout=30)
        try:
            for path in ("/prodotti/pagnotta/", "/feed.xml", "/feed.json"):
                connection.request("GET", path)  # as the phone asks: Host is the address
                response = connection.getresponse()
                body = response.read().decode()
                assert response.status == 200, (path, response.status)
                if address != "127.0.0.1":
                    assert "127.0.0.1" not in body, path
                if path.endswith("/"):
                    assert f'<link rel="canonical" href="{base}prodotti/pagnotta/">' in body
                    assert f'<meta property="og:image" content="{base}assets/' in body
                    assert f'"url":"{base}prodotti/pagnotta/"' in body  # structured data
                else:
                    assert base + "blog/" in body
        finally:
            connection.close()
    finally:
        output = stop(server)[0]
    assert f"on a phone on the same network, open {base}" in output


def test_a_link_planted_as_the_preview_lock_is_not_written_through(tmp_path) -> None:
    """``.storefront-preview/.storefront-serve.lock`` made a link (a cloned repository can hold
    one) to a file outside: the preview truncated that file and wrote its address into it."""
    from storefront.previewlock import LOCK_NAME, PreviewLock

    victim = tmp_path / "victim.txt"
    victim.write_text("the owner's file\n", encoding="utf-8")
    folder = tmp_path / ".storefront-preview"
    folder.mkdir()
    for target in (victim, tmp_path / "made.txt"):
        (folder / LOCK_NAME).symlink_to(target)
        lock = PreviewLock.take(folder)
        assert lock is not None
        lock.announce("http://127.0.0.1:8000/")
        lock.release()
        assert not (folder / LOCK_NAME).is_symlink()
        assert victim.read_text(encoding="utf-8") == "the owner's file\n"
        assert not (tmp_path / "made.txt").exists()
        (folder / LOCK_NAME).unlink()

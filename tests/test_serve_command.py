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

"""The nginx configuration of docs/redirects.md, run with a real nginx on 127.0.0.1.

The ``nginx`` block is taken from the documentation as it is written, pointed at a freshly built
site and at a free loopback port, and asked for the old addresses: each must answer with a
``301`` to its new address, and the rest of the site must still be served.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from storefront.build import BuildRequest, build_site
from support import REPO, free_port, port_answers, require

NGINX = Path(shutil.which("nginx") or "/usr/sbin/nginx")
DOC = REPO / "docs" / "redirects.md"


def documented_config() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/redirects.md should show one nginx configuration"
    return blocks[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    require(NGINX, "apt-get install -y nginx-light")
    root = tmp_path_factory.mktemp("nginx")
    site = root / "site"
    (site / "content").mkdir(parents=True)
    (site / "storefront.yaml").write_text(
        "title: Forno\nbase_url: https://forno.example/\n", encoding="utf-8")
    pages = site / "content" / "pages"
    pages.mkdir()
    (pages / "chi-siamo.md").write_text(
        "---\ntitle: Chi siamo\naliases: [/la-bottega/, /chi-siamo.html, /caffè/, /vecchio.php]\n---\n"
        "La bottega.\n", encoding="utf-8")
    faq = site / "content" / "faq"
    faq.mkdir()
    (faq / "spedite.md").write_text("---\nquestion: Spedite?\naliases: [/spedizioni-faq/]\n---\nSì.\n",
                                    encoding="utf-8")
    output = root / "output"
    build_site(BuildRequest(root=site, output=output))
    port = free_port()
    config = documented_config()
    config = config.replace("/var/www/bottega/output", str(output))
    config = config.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    config = config.replace("http {", "http {\n    access_log off;\n" + "".join(
        f"    {kind}_temp_path {root}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")), 1)
    conf = root / "nginx.conf"
    conf.write_text(f"daemon off;\nmaster_process off;\npid {root}/nginx.pid;\n"
                    f"error_log {root}/error.log;\nevents {{}}\n{config}", encoding="utf-8")
    checked = subprocess.run([str(NGINX), "-t", "-p", str(root), "-e", str(root / "error.log"),
                              "-c", str(conf)], capture_output=True, text=True, check=False, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([str(NGINX), "-p", str(root), "-e", str(root / "error.log"),
                                "-c", str(conf)])
    try:
        deadline = time.monotonic() + 10
        while not port_answers(port):
            assert process.poll() is None, (root / "error.log").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "nginx did not start within 10 s"
            time.sleep(0.05)
        yield port, output
    finally:
        process.terminate()
        process.wait(timeout=10)


def get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "www.bottega-aurora.example"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize(("path", "target"), [
    ("/la-bottega/", "/chi-siamo/"),
    ("/la-bottega", "/chi-siamo/"),  # without the folder's final slash
    ("/chi-siamo.html", "/chi-siamo/"),  # the redirect page exists there: nginx answers first
    (quote("/caffè/"), "/chi-siamo/"),  # the browser sends it percent-encoded
    ("/vecchio.php?id=3", "/chi-siamo/"),  # no page could be written there; the query is ignored
    ("/spedizioni-faq/", "/faq/#spedite"),
])
def test_old_addresses_get_a_permanent_redirect(server, path: str, target: str) -> None:
    port, _ = server
    response = get(port, path)
    assert response.status == 301
    assert response.getheader("Location", "").endswith(target)


def test_the_rest_of_the_site_is_served_as_usual(server) -> None:
    port, output = server
    assert (output / "chi-siamo" / "index.html").is_file()
    assert get(port, "/chi-siamo/").status == 200
    assert get(port, "/non-esiste/").status == 404

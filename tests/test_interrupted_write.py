"""A build killed while it writes into the output folder (SIGKILL: a CI timeout, the OOM killer).

Every output file is written beside its place as ``.tmp-PID-N.ext`` and renamed there; a writer
killed between the two leaves that file in the output folder, where a web server would publish
it. These tests kill a real writer (a process holding the output folder's lock, mid-write) and
check what the next build, ``storefront clean`` and the preview do about it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storefront.build import BuildRequest, build_site
from storefront.output import WRITING, remove_written
from storefront.preview import PreviewBuilder, make_app
from support import extra_posts, replace_in, tree_bytes

# Takes the output folder's lock as a build's write stage does, writes half of a page into a
# temporary file beside its place, says where, and waits to be killed.
KILLED_BUILD = """
import os, sys, time
from pathlib import Path
from storefront.files import open_temp
from storefront.output import write_site

output = Path(sys.argv[1])

def rest():
    fd, temp = open_temp(output / sys.argv[2])
    os.write(fd, b"<!doctype html><html><head><title>Half a p")
    print(temp, flush=True)
    time.sleep(120)
    return []

write_site(output, rest, first=[])
"""


def start_killable_build(output: Path, page: str) -> tuple[subprocess.Popen[str], Path]:
    writer = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(output), page],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    return writer, Path(writer.stdout.readline().strip())


def kill(writer: subprocess.Popen[str]) -> None:
    writer.send_signal(signal.SIGKILL)
    assert writer.wait() == -signal.SIGKILL
    assert writer.stdout is not None
    writer.stdout.close()


def temporary_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(".tmp-*"))


def test_the_next_build_sweeps_what_a_build_killed_mid_write_left(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    output = site / "output"
    build_site(BuildRequest(root=site, output=output))
    before = tree_bytes(output)
    # an owner's file that only looks like a temporary file (another process id): left alone
    (output / "note").mkdir()
    (output / "note" / ".tmp-1-1.txt").write_text("mine", encoding="utf-8")
    writer, temp = start_killable_build(output, "blog/2024/06/focaccia/index.html")
    kill(writer)
    assert temp.is_file() and temp.parent == output / "blog/2024/06/focaccia"
    assert (output / WRITING).read_text(encoding="utf-8") == f"{writer.pid}\n"
    # nothing else changed: the manifest and every file it lists are as the last build left them,
    # so only the mark tells this build that the folder needs its write stage
    report = build_site(BuildRequest(root=site, output=output))
    assert report.rendered == 0
    assert temporary_files(output) == ["note/.tmp-1-1.txt"]
    assert not (output / WRITING).exists()
    (output / "note" / ".tmp-1-1.txt").unlink()
    (output / "note").rmdir()
    assert tree_bytes(output) == before
    clean = tmp_path / "clean"
    build_site(BuildRequest(root=site, output=clean, use_cache=False))
    assert tree_bytes(output) == tree_bytes(clean)


def test_two_killed_builds_in_a_row_leave_nothing_behind(copy_site) -> None:
    """The second writer sweeps the first one's files before it marks the folder itself."""
    site = copy_site("basic")
    output = site / "output"
    build_site(BuildRequest(root=site, output=output))
    first, first_temp = start_killable_build(output, "index.html")
    kill(first)
    second, second_temp = start_killable_build(output, "chi-siamo/index.html")
    assert not first_temp.exists() and second_temp.is_file()
    kill(second)
    build_site(BuildRequest(root=site, output=output))
    assert temporary_files(output) == []
    assert not (output / WRITING).exists()


def test_clean_waits_for_a_writing_build_and_removes_a_killed_ones_files(copy_site) -> None:
    site = copy_site("basic")
    output = site / "output"
    build_site(BuildRequest(root=site, output=output))
    writer, temp = start_killable_build(output, "index.html")
    removed: list[int] = []
    cleaner = threading.Thread(target=lambda: removed.append(remove_written(output)))
    cleaner.start()
    cleaner.join(0.5)
    # the build writing holds the folder: clean would delete files under its feet
    assert cleaner.is_alive() and (output / "index.html").is_file()
    kill(writer)
    cleaner.join(30)
    assert not cleaner.is_alive() and removed and removed[0] > 0
    assert not temp.exists()
    assert [p for p in output.rglob("*") if p.is_file()] == []


def test_the_preview_never_serves_its_bookkeeping_files(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    builder = PreviewBuilder(site, tmp_path / "preview", "http://127.0.0.1:8000/", True,
                             log=lambda line: None)
    try:
        builder.rebuild()
        root = tmp_path / "preview"
        (root / ".storefront-serve.lock").write_text("http://127.0.0.1:8000/ 4242\n",
                                                     encoding="utf-8")
        (root / WRITING).write_text(f"{os.getpid()}\n", encoding="utf-8")
        (root / "blog" / f".tmp-{os.getpid()}-7.html").write_text("<p>half a", encoding="utf-8")
        app = make_app(builder)
        for path in ("/.storefront-serve.lock", f"/{WRITING}", f"/blog/.tmp-{os.getpid()}-7.html"):
            chunks: list[bytes] = []
            statuses: list[str] = []
            chunks.extend(app({"PATH_INFO": path, "QUERY_STRING": ""},
                              lambda status, headers: statuses.append(status)))
            body = b"".join(chunks)
            assert statuses[0].startswith("404"), path
            assert b"4242" not in body and b"half a" not in body
    finally:
        builder.close()


# ``storefront build`` whose write stage is sent a signal (by itself, as a terminal or systemd
# would) once it has replaced some files: argv = site, signal name
_SIGNALLED_WRITE = """
import os, signal, sys
from storefront import cli, output
write, written, signum = output._write_atomic, [], getattr(signal, sys.argv[2])
def write_then_signal(target, item):
    write(target, item)
    written.append(item.path)
    if len(written) == 5:
        os.kill(os.getpid(), signum)
output._write_atomic = write_then_signal
signal.signal(signal.SIGINT, signal.default_int_handler)  # also when the tests run in the background
sys.argv = ["storefront", "--root", sys.argv[1], "build", "--jobs", "1"]
cli.run()
"""


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_build_stopped_while_it_writes_leaves_one_whole_build(copy_site,
                                                               signal_name: str) -> None:
    """SIGTERM (systemd, CI timeouts, ``kill``) ended a build at once, and Ctrl-C stopped it
    between two files: output/ then held some pages of the new build beside the old ones (and,
    after SIGTERM, the writer's mark and half-written files). The write stage now ends whole
    before the build stops: the output is the new build, complete, and the exit code says the
    build was stopped."""
    site = copy_site("basic")
    extra_posts(site, 20)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000"}
    first = subprocess.run([sys.executable, "-m", "storefront", "--root", str(site), "build"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    replace_in(site / "storefront.yaml", "title: ", "title: Nuovo ")  # every page changes
    stopped = subprocess.run([sys.executable, "-c", _SIGNALLED_WRITE, str(site), signal_name],
                             capture_output=True, text=True, env=env, timeout=300)
    written = tree_bytes(site / "output")
    shutil.rmtree(site / "output")
    again = subprocess.run([sys.executable, "-m", "storefront", "--root", str(site), "build"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert written == tree_bytes(site / "output")  # the new build, whole
    assert temporary_files(site) == []
    assert stopped.returncode == 128 + getattr(signal, signal_name), (stopped.returncode,
                                                                     stopped.stderr)
    assert "build stopped" in stopped.stderr and "Traceback" not in stopped.stderr


def _stopped_as_made(monkeypatch, call: str, signum: int, where: str = "") -> list[str]:
    """Make ``os.<call>`` (``open`` or ``link``) send this process ``signum`` once the call has
    made a temporary file (under a folder named ``where``): the signal's handler runs as the
    call returns, before the caller has the descriptor or knows the link was made. Returns the
    names of the files it made."""
    real = getattr(os, call)
    made: list[str] = []

    def made_then_stopped(*args, **kwargs):
        result = real(*args, **kwargs)
        target = str(args[0 if call == "open" else 1])
        if not made and os.path.basename(target).startswith(".tmp-") and where in target:
            made.append(target)
            signal.raise_signal(signum)
        return result

    monkeypatch.setattr(os, call, made_then_stopped)
    return made


@pytest.mark.parametrize("call", ["open", "link"])
def test_a_stop_as_a_temporary_file_is_made_leaves_no_file(monkeypatch, tmp_path,
                                                           call: str) -> None:
    """Ctrl-C or SIGTERM in the build's process raises as the system call that made the
    temporary file returns; the file was then forgotten without being deleted."""
    from storefront.files import _open, link_atomic, write_atomic

    (tmp_path / "source").write_bytes(b"<p>pagina</p>")
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        made = _stopped_as_made(monkeypatch, call, signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            if call == "open":
                write_atomic(tmp_path / "out" / "index.html", b"<p>pagina</p>")
            else:
                link_atomic(tmp_path / "source", tmp_path / "out" / "index.html")
    finally:
        signal.signal(signal.SIGINT, before)
    assert len(made) == 1
    assert temporary_files(tmp_path) == []
    assert not _open


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_build_stopped_as_it_makes_a_cache_page_leaves_no_temporary_file(
        run_cli, monkeypatch, copy_site, signal_name: str) -> None:
    """A build stopped while its own process stores a rendered page in the build cache (it
    renders too, beside the workers) left ``.storefront-cache/pages/xx/.tmp-PID-N`` behind
    (1 or 2 tries in 8 of ``bench/signal_stress.py build``), for the sweep a quarter of an hour
    later: the stop is raised as the call that made the file returns."""
    site = copy_site("basic")
    signum = getattr(signal, signal_name)
    made = _stopped_as_made(monkeypatch, "open", signum, where=f"{os.sep}pages{os.sep}")
    result = run_cli("--root", site, "build", "--jobs", "1")
    assert made, "the build stored no page"
    assert result.code == 128 + signum, result.err
    assert temporary_files(site) == []
    assert not (site / "output").exists()

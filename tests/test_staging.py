"""A first build (no output folder) is made in a staging folder beside it and moved into place."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storefront import staging as staging_module
from storefront.build import BuildRequest, build_site
from storefront.errors import BuildFailed
from storefront.staging import Staging
from support import tree_bytes

POST = "content/posts/2024-06-10-focaccia.md"
MANIFEST = ".storefront-manifest.json"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


def many_posts(site: Path, count: int = 60) -> None:
    """Enough pages for the render workers to start."""
    for n in range(count):
        (site / f"content/posts/2024-04-{n % 28 + 1:02d}-extra-{n}.md").write_text(
            f"---\ntitle: Extra {n}\ntags: [pane, t{n % 5}]\n---\n\nTesto {n}.\n", encoding="utf-8")


def built_in_place(site: Path, output: Path, jobs: int) -> dict[str, bytes]:
    """The site built the usual way: into an output folder that exists already."""
    output.mkdir()
    build_site(BuildRequest(root=site, output=output, jobs=jobs, use_cache=False))
    return tree_bytes(output)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".staging-" in p.name)


def manifest_of(output: Path) -> dict[str, list[object]]:
    files: dict[str, list[object]] = json.loads((output / MANIFEST).read_text())["files"]
    return files


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_first_build_is_the_same_site_as_a_build_into_a_folder(copy_site, tmp_path, jobs) -> None:
    site = copy_site("basic")
    many_posts(site)
    expected = built_in_place(site, tmp_path / "existing", jobs)
    report = build_site(BuildRequest(root=site, output=tmp_path / "first", jobs=jobs,
                                     use_cache=False))
    assert tree_bytes(tmp_path / "first") == expected
    assert report.written == report.files == len(expected) and report.unchanged == 0
    assert leftovers(tmp_path) == []
    # the manifest describes the files as they are, so the next build writes nothing
    manifest = manifest_of(tmp_path / "first")
    assert sorted(manifest) == sorted(expected)
    for path, (_, size, mtime) in manifest.items():
        info = os.lstat(tmp_path / "first" / path)
        assert (info.st_size, info.st_mtime_ns) == (size, mtime)
    again = build_site(BuildRequest(root=site, output=tmp_path / "first", jobs=jobs))
    assert again.written == 0 and tree_bytes(tmp_path / "first") == expected


def test_a_failed_first_build_leaves_no_output_folder_and_no_staging_folder(copy_site) -> None:
    site = copy_site("basic")
    many_posts(site)  # the pages render in the workers, into the staging folder
    theme = site / "themes/rotto"
    (theme / "templates").mkdir(parents=True)
    (theme / "theme.yaml").write_text("name: rotto\nextends: default\n", encoding="utf-8")
    (theme / "templates/post.html").write_text(
        '{% extends "default/post.html" %}{% block content %}{{ post.nothing.at_all }}'
        "{% endblock %}", encoding="utf-8")
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: rotto\n", encoding="utf-8")
    with pytest.raises(BuildFailed, match="nothing"):
        build_site(BuildRequest(root=site, output=site / "output", jobs=2))
    assert not (site / "output").exists()
    assert leftovers(site) == []


def test_the_staging_folder_of_a_killed_build_is_removed_and_a_running_builds_kept(
        copy_site) -> None:
    site = copy_site("basic")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = site / f".output.staging-{int(dead.stdout)}"
    (stale / "blog").mkdir(parents=True)
    (stale / "blog/index.html").write_text("half a site")
    running = site / f".output.staging-{os.getppid()}"  # a process that runs: not ours to touch
    running.mkdir()
    build_site(BuildRequest(root=site, output=site / "output", jobs=1))
    assert not stale.exists() and running.is_dir()
    assert (site / "output/index.html").is_file()


def test_an_output_folder_made_meanwhile_is_written_the_usual_way(
        copy_site, tmp_path, monkeypatch) -> None:
    site = copy_site("basic")
    expected = built_in_place(site, tmp_path / "existing", 1)
    output = site / "output"
    publish = Staging.publish

    def another_build_made_it(self: Staging) -> bool:
        output.mkdir()
        (output / "note.txt").write_text("made by another program")
        return publish(self)

    monkeypatch.setattr(staging_module.Staging, "publish", another_build_made_it)
    build_site(BuildRequest(root=site, output=output, jobs=1))
    built = tree_bytes(output)
    assert built.pop("note.txt") == b"made by another program"
    assert built == expected
    assert leftovers(site) == []


def test_a_broken_link_at_the_output_path_is_not_replaced(copy_site) -> None:
    site = copy_site("basic")
    (site / "output").symlink_to(site / "elsewhere")
    assert Staging.begin(site / "output") is None


# ``python -m storefront`` with Ctrl-C at its default, also when the test run itself was started
# in the background (children of a background job inherit SIGINT ignored)
_INTERRUPTIBLE = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "sys.argv[0] = 'storefront'; runpy.run_module('storefront', run_name='__main__')")


def start_build(site: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000"}
    return subprocess.Popen([sys.executable, "-c", _INTERRUPTIBLE, "--root", str(site), "build",
                             "--jobs", "2", *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)


def wait_for_staged_pages(site: Path, build: subprocess.Popen[bytes], count: int) -> None:
    """Until the staging folder holds ``count`` pages (the workers are rendering)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert build.poll() is None, "the build ended before it could be interrupted"
        staged = [p for p in site.glob(".output.staging-*")]
        if staged and sum(1 for _ in staged[0].rglob("index.html")) >= count:
            return
        time.sleep(0.005)
    raise AssertionError("no pages were staged")


@pytest.mark.parametrize("whole_group", [False, True], ids=["the build", "a terminal's Ctrl-C"])
def test_ctrl_c_during_a_first_build_leaves_no_output_folder_and_no_staging_folder(
        copy_site, whole_group) -> None:
    """Ctrl-C while the workers put pages in the staging folder: the parent waits for them
    before deleting it (sent to the build alone, the workers go on rendering meanwhile; from a
    terminal, every process gets it)."""
    site = copy_site("basic")
    many_posts(site, 600)
    build = start_build(site)
    wait_for_staged_pages(site, build, 20)
    if whole_group:
        os.killpg(build.pid, signal.SIGINT)
    else:
        os.kill(build.pid, signal.SIGINT)
    _, err = build.communicate(timeout=120)
    assert build.returncode != 0, err
    assert b"Traceback" not in err, err.decode()
    assert not (site / "output").exists()
    assert leftovers(site) == []


def test_two_first_builds_at_once_make_one_whole_site(copy_site, tmp_path) -> None:
    """Two builds start with no output folder (a CI job run twice, an owner's double click):
    one moves its staging folder into place, the other finds the folder there and writes into
    it as usual. The site is whole and the same as a build into a folder."""
    site = copy_site("basic")
    many_posts(site, 200)
    expected = built_in_place(site, tmp_path / "existing", 2)
    builds = [start_build(site, "--no-cache"), start_build(site, "--no-cache")]
    for build in builds:
        _, err = build.communicate(timeout=180)
        assert build.returncode == 0, err.decode()
    assert tree_bytes(site / "output") == expected
    assert leftovers(site) == []
    again = build_site(BuildRequest(root=site, output=site / "output", jobs=1, use_cache=False))
    assert again.written == 0  # the manifest describes the folder as it is

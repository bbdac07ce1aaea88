"""A first build (no output folder) is made in a staging folder beside it and moved into place."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storefront import cache as cache_module
from storefront import rendering as rendering_module
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
    host = staging_module._host()
    stale = site / f".output.staging-{host}-{int(dead.stdout)}"
    (stale / "blog").mkdir(parents=True)
    (stale / "blog/index.html").write_text("half a site")
    running = site / f".output.staging-{host}-{os.getppid()}"  # a process that runs: not ours
    running.mkdir()
    # another container's build (another host name, its own process ids): never ours to judge
    elsewhere = site / f".output.staging-{host}x-{int(dead.stdout)}"
    elsewhere.mkdir()
    build_site(BuildRequest(root=site, output=site / "output", jobs=1))
    assert not stale.exists() and running.is_dir() and elsewhere.is_dir()
    assert (site / "output/index.html").is_file()


@pytest.mark.parametrize("use_cache", [True, False])
def test_an_output_folder_made_meanwhile_is_written_the_usual_way(
        copy_site, tmp_path, monkeypatch, use_cache) -> None:
    """From the build cache, or (--no-cache) from the staging folder, each page checked."""
    site = copy_site("basic")
    expected = built_in_place(site, tmp_path / "existing", 1)
    output = site / "output"
    publish = Staging.publish

    def another_build_made_it(self: Staging) -> bool:
        output.mkdir()
        (output / "note.txt").write_text("made by another program")
        return publish(self)

    monkeypatch.setattr(staging_module.Staging, "publish", another_build_made_it)
    build_site(BuildRequest(root=site, output=output, jobs=1, use_cache=use_cache))
    built = tree_bytes(output)
    assert built.pop("note.txt") == b"made by another program"
    assert built == expected
    assert leftovers(site) == []


def test_a_broken_link_at_the_output_path_is_refused_and_nothing_is_written(
        copy_site, tmp_path) -> None:
    site = copy_site("basic")
    (site / "output").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BuildFailed, match="does not exist"):
        build_site(BuildRequest(root=site, output=site / "output", jobs=1))
    assert (site / "output").is_symlink() and not (tmp_path / "elsewhere").exists()
    assert leftovers(site) == [] and leftovers(tmp_path) == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_pages_staged_from_a_cache_on_another_file_system_are_readable_by_all(
        copy_site, tmp_path, jobs) -> None:
    """No hard link across file systems (a cache in /dev/shm, a tmpfs): the page is copied, with
    the mode every output file has (a web server runs as another user), whatever the umask."""
    site = copy_site("basic")
    many_posts(site)
    cache = Path("/dev/shm") / f"storefront-test-{os.getpid()}-{jobs}"
    if not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.fail("this test needs /dev/shm on another file system than the temporary folder")
    old = os.umask(0o077)
    try:
        build_site(BuildRequest(root=site, output=site / "output", jobs=jobs, cache_dir=cache))
    finally:
        os.umask(old)
        shutil.rmtree(cache, ignore_errors=True)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (site / "output").rglob("*.html")}
    assert modes == {0o644}


@pytest.mark.parametrize("jobs", [1, 2])
def test_output_folders_can_be_entered_by_all_whatever_the_umask(copy_site, jobs) -> None:
    """Files are 0644 for a web server running as another user; under umask 077 their folders
    were 0700, so that server could read none of them (403 on every page)."""
    site = copy_site("basic")
    many_posts(site, 12)
    old = os.umask(0o077)
    try:
        build_site(BuildRequest(root=site, output=site / "output", jobs=jobs))  # staged
        (site / "content/posts/2024-05-20-nuovo.md").write_text(
            "---\ntitle: Nuovo\ntags: [nuovo]\n---\n\nTesto.\n", encoding="utf-8")
        build_site(BuildRequest(root=site, output=site / "output", jobs=jobs))  # in place
    finally:
        os.umask(old)
    folders = [site / "output", *(p for p in (site / "output").rglob("*") if p.is_dir())]
    assert (site / "output/tag/nuovo").is_dir()
    assert {stat.S_IMODE(p.stat().st_mode) for p in folders} == {0o755}


@pytest.mark.parametrize("jobs", [1, 2])
def test_pages_taken_from_the_staging_folder_meanwhile_are_written_again(
        copy_site, tmp_path, monkeypatch, jobs) -> None:
    """Something deletes staged pages before the folder is moved into place (a build in another
    container judging the folder abandoned): they are written from the cache, none is missing."""
    site = copy_site("basic")
    many_posts(site)
    expected = built_in_place(site, tmp_path / "existing", jobs)
    render = rendering_module.render_pages

    def then_delete_some(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        result = render(*args, **kwargs)  # type: ignore[arg-type]
        [folder] = site.glob(".output.staging-*")
        shutil.rmtree(folder / "blog")
        return result

    monkeypatch.setattr(rendering_module, "render_pages", then_delete_some)
    build_site(BuildRequest(root=site, output=site / "output", jobs=jobs, use_cache=False))
    assert tree_bytes(site / "output") == expected


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_clean_first_build_writes_each_page_once(copy_site, monkeypatch, jobs) -> None:
    """With --no-cache the staging folder holds the only copy of a page: none goes into the
    throwaway cache, which is deleted at the end (a second file per page, made and deleted again,
    was a tenth of a clean build on a slow disk). Its feeds are kept there until written."""
    site = copy_site("basic")
    many_posts(site)
    in_cache: list[str] = []
    close = cache_module.BuildCache.close

    def counting_close(self: cache_module.BuildCache) -> None:
        in_cache.extend(p.name for p in self.pages.rglob("*") if p.is_file())
        close(self)

    monkeypatch.setattr(cache_module.BuildCache, "close", counting_close)
    build_site(BuildRequest(root=site, output=site / "output", jobs=jobs, use_cache=False))
    manifest = manifest_of(site / "output")
    pages = {str(entry[0]) for path, entry in manifest.items() if path.endswith(".html")}
    others = {str(entry[0]) for path, entry in manifest.items() if not path.endswith(".html")}
    assert len(pages) > 60
    assert in_cache and set(in_cache) <= others - pages  # the feeds (a sitemap, a JSON feed)


def test_workers_are_forked_before_the_feeds_thread_starts(copy_site, tmp_path) -> None:
    """The pool's first use can be the render (documents and photos from the cache, a new base
    URL): its workers must still be forked while the build's process has one thread. (In a
    process of its own: this one may have threads left by other tests.)"""
    site = copy_site("basic")
    many_posts(site)
    script = (
        "import json, os, sys, threading\n"
        "from pathlib import Path\n"
        "from storefront.build import BuildRequest, build_site\n"
        "site, out = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "build_site(BuildRequest(root=site, output=out / 'a', jobs=2))\n"
        "seen = []\n"
        "os.register_at_fork(before=lambda: seen.append([t.name for t in threading.enumerate()]))\n"
        "build_site(BuildRequest(root=site, output=out / 'b', jobs=2,\n"
        "                        base_url='https://altro.example/'))\n"
        "print(json.dumps(seen))\n")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000"}
    done = subprocess.run([sys.executable, "-c", script, str(site), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    threads_at_fork = json.loads(done.stdout.strip().splitlines()[-1])
    # the one worker, forked in the second build (the build's own process is the other job)
    assert len(threads_at_fork) == 1
    assert all(names == ["MainThread"] for names in threads_at_fork)


# ``python -m storefront`` with Ctrl-C at its default, also when the test run itself was started
# in the background (children of a background job inherit SIGINT ignored)
_INTERRUPTIBLE = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "sys.argv[0] = 'storefront'; runpy.run_module('storefront', run_name='__main__')")


def start_build(site: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000"}
    return subprocess.Popen([sys.executable, "-c", _INTERRUPTIBLE, "--root", str(site), "build",
                             "--jobs", "2", *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)


def wait_for_staged_pages(site: Path, build: subprocess.Popen[bytes]) -> None:
    """Until the staging folder holds the first listing pages (the workers are rendering; the
    1,400 post pages follow them)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert build.poll() is None, "the build ended before it could be interrupted"
        staged = list(site.glob(".output.staging-*"))
        if staged and (staged[0] / "blog/page/2/index.html").exists():
            return
        time.sleep(0.002)
    raise AssertionError("no pages were staged")


@pytest.mark.parametrize("whole_group", [False, True], ids=["the build", "a terminal's Ctrl-C"])
def test_ctrl_c_during_a_first_build_leaves_no_output_folder_and_no_staging_folder(
        copy_site, whole_group) -> None:
    """Ctrl-C while the workers put pages in the staging folder: the parent waits for them
    before deleting it (sent to the build alone, the workers go on rendering meanwhile; from a
    terminal, every process gets it, and a worker waiting for work printed a traceback)."""
    site = copy_site("basic")
    many_posts(site, 1400)
    build = start_build(site)
    wait_for_staged_pages(site, build)
    if whole_group:
        os.killpg(build.pid, signal.SIGINT)
    else:
        os.kill(build.pid, signal.SIGINT)
    _, err = build.communicate(timeout=120)
    assert build.returncode == 130, (build.returncode, err.decode())
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


def test_an_empty_folder_made_meanwhile_is_not_replaced(tmp_path) -> None:
    """Another build may have made the output folder and be about to write into it."""
    staging = Staging.begin(tmp_path / "output")
    assert staging is not None
    (tmp_path / "output").mkdir()
    assert not staging.publish()
    staging.discard()
    assert list((tmp_path / "output").iterdir()) == [] and leftovers(tmp_path) == []

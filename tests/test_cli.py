"""The command line: help, version, exit codes, init and new."""

from __future__ import annotations

import os
import re
import signal

import pytest

import storefront
import storefront.build
import storefront.cli


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"storefront {storefront.__version__}"


@pytest.mark.parametrize("command", [[], ["build"], ["init"], ["new"], ["serve"], ["forms"]])
def test_help_everywhere(command, run_cli) -> None:
    result = run_cli(*command, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: storefront")


def test_usage_error_exits_2(run_cli) -> None:
    result = run_cli("build", "--no-such-option")
    assert result.code == 2
    assert "unrecognized arguments: --no-such-option" in result.err


def test_missing_config_is_a_content_error(run_cli, tmp_path) -> None:
    result = run_cli("--root", tmp_path, "build")
    assert result.code == 1
    assert result.err.startswith(f"storefront.yaml: no storefront.yaml in {tmp_path}\n")


def test_internal_error_exits_70_without_traceback_unless_debug(run_cli, monkeypatch,
                                                                copy_site) -> None:
    def broken(request, progress=None, settle=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(storefront.build, "build_site", broken)
    site = copy_site("basic")
    quiet = run_cli("--root", site, "build")
    assert quiet.code == 70
    assert "internal error" in quiet.err and "Traceback" not in quiet.err
    loud = run_cli("--debug", "--root", site, "build")
    assert loud.code == 70
    assert "Traceback" in loud.err and "RuntimeError: boom" in loud.err


@pytest.mark.parametrize(("signal_name", "code", "said"),
                         [("SIGINT", 130, "Ctrl+C"), ("SIGTERM", 143, "SIGTERM"),
                          ("SIGHUP", 129, "SIGHUP")])
def test_a_stopped_build_exits_128_plus_the_signal(run_cli, monkeypatch, copy_site,
                                                   signal_name: str, code: int,
                                                   said: str) -> None:
    """A build stopped by a signal exits as a shell reports a command that signal ended: 143
    for SIGTERM (a CI job's timeout, ``docker stop``), 129 for SIGHUP, 130 for Ctrl-C. Every
    stop used to exit 130, so a timeout looked like a Ctrl-C."""
    signum = getattr(signal, signal_name)
    build_site = storefront.build.build_site

    def signalled(request, progress=None, settle=None):
        os.kill(os.getpid(), signum)  # the build's own handler turns it into a stop
        return build_site(request, progress, settle)

    monkeypatch.setattr(storefront.build, "build_site", signalled)
    site = copy_site("basic")
    result = run_cli("--root", site, "build")
    assert result.code == code, result.err
    assert result.err == (f"build stopped ({said}): the output folder is as the last "
                          "complete build left it\n")
    assert not (site / "output").exists()


@pytest.mark.parametrize("command", ["build", "serve"])
def test_an_error_met_on_the_way_out_of_a_stop_is_no_internal_error(run_cli, monkeypatch,
                                                                     copy_site,
                                                                     command: str) -> None:
    """A command stopped by SIGTERM that meets an error on its way out (a worker ended by the
    same SIGTERM: the pool's shutdown, a chunk's result) was stopped, and exits 143; it exited
    70 with the internal-error message, as the stop was forgotten before the error reached the
    code that asks for it."""
    import storefront.preview

    def stopped_then_broken(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # the command's handler turns it into a stop
            raise AssertionError("not stopped")
        finally:
            raise RuntimeError("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(storefront.build, "build_site", stopped_then_broken)
    monkeypatch.setattr(storefront.preview, "serve", stopped_then_broken)
    site = copy_site("basic")
    for debug in ([], ["--debug"]):
        result = run_cli(*debug, "--root", site, command)
        assert result.code == 143, result.err
        assert "internal error" not in result.err and "Traceback" not in result.err
    # the stop is forgotten afterwards: a later error in this process is a bug again
    monkeypatch.setattr(storefront.build, "build_site", lambda *args: 1 / 0)
    assert run_cli("--root", site, "build").code == 70


def test_build_prints_a_summary(run_cli, copy_site) -> None:
    result = run_cli("--root", copy_site("basic"), "build")
    assert result.code == 0, result.err
    assert re.search(r"built \d+ pages \(\d+ files\) into .*output: \d+ written, 0 unchanged, "
                     r"0 deleted in \d+\.\d\d s", result.out)


def test_a_warning_many_files_have_is_shown_five_times_and_counted(run_cli, copy_site) -> None:
    """110 products without a photo printed 220 lines on every build, burying the one new
    warning; a warning repeated in many files is shown for the first five, then counted."""
    site = copy_site("basic")
    for number in range(7):
        (site / "content" / "products" / f"campione-{number}.md").write_text(
            f"---\ntitle: Campione {number}\nprice: 5\nsku: C-{number}\n---\nUn campione.\n",
            encoding="utf-8")
    photo = "left out of the merchant feed: Google needs a photo of the product"
    every = run_cli("--root", site, "build", "--all-warnings")
    assert every.code == 0, every.err
    listed = [line for line in every.err.splitlines() if photo in line]
    files = [line.split(":")[1].strip() for line in listed]
    assert {f"content/products/campione-{number}.md" for number in range(7)} <= set(files)
    assert len(files) == len(set(files)) >= 7
    result = run_cli("--root", site, "build")
    assert result.code == 0, result.err
    named = [line for line in result.err.splitlines() if photo in line]
    assert named[:5] == listed[:5]
    assert named[5] == (f'warning: {len(files) - 5} more files have the warning "{photo} '
                        '(JPEG, PNG, GIF, WebP, BMP or TIFF)" (storefront build --all-warnings '
                        'lists every one)')
    assert len(named) == 6


@pytest.mark.parametrize(
    ("kind", "title", "path", "first_key"),
    [
        ("post", "Perché il tornio?", "content/posts/2026-11-23-perche-il-tornio.md", "title"),
        ("product", "Vaso Blu", "content/products/vaso-blu.md", "title"),
        ("faq", "Spedite all'estero?", "content/faq/spedite-all-estero.md", "question"),
        ("page", "Chi siamo", "content/pages/chi-siamo.md", "title"),
    ],
)
def test_new_creates_a_document_that_builds(kind, title, path, first_key, run_cli, copy_site,
                                            monkeypatch) -> None:
    import datetime as real_datetime

    import storefront.scaffold as scaffold

    class FixedDatetime(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 23, 10, 0, tzinfo=tz)

    monkeypatch.setattr(scaffold, "datetime", FixedDatetime)
    site = copy_site("basic")
    if kind == "page":
        (site / "content/pages/chi-siamo.md").unlink()
    result = run_cli("--root", site, "new", kind, title)
    assert result.code == 0, result.err
    created = site / path
    text = created.read_text(encoding="utf-8")
    assert text.startswith(f"---\n{first_key}: ")
    assert title in text
    again = run_cli("--root", site, "new", kind, title)
    assert again.code == 1 and "already exists" in again.err
    built = run_cli("--root", site, "build", "--drafts")
    assert built.code == 0, built.err


def test_init_creates_the_example_shop_which_builds(run_cli, tmp_path) -> None:
    target = tmp_path / "negozio"
    result = run_cli("init", target)
    assert result.code == 0, result.err
    assert (target / "storefront.yaml").is_file()
    assert (target / "content" / "posts").is_dir()
    built = run_cli("--root", target, "build")
    assert built.code == 0, built.err
    assert (target / "output" / "index.html").is_file()
    refused = run_cli("init", target)
    assert refused.code == 1 and "is not empty" in refused.err


def test_a_fresh_init_site_passes_every_documented_build_mode_strictly(
        run_cli, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's draft preorder had no availability_date: ``build --drafts --strict`` of a
    new site failed ("left out of the merchant feed"). The day is pinned: the example's
    preorders ship on fixed days, which a real clock passes some day."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")  # 2026-11-18
    target = tmp_path / "negozio"
    assert run_cli("init", target).code == 0
    for mode in ([], ["--drafts"], ["--future"], ["--drafts", "--future"]):
        built = run_cli("--root", target, "build", *mode, "--strict")
        assert (mode, built.code, built.err) == (mode, 0, "")


def test_python_dash_m_works() -> None:
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "storefront", "--version"],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0
    assert completed.stdout.strip() == f"storefront {storefront.__version__}"


@pytest.mark.parametrize("extra", [[], ["--no-cache", "--jobs", "2"]])
def test_the_program_ends_a_build_at_once_having_said_everything_and_left_nothing(
        copy_site, tmp_path, monkeypatch: pytest.MonkeyPatch, extra: list[str]) -> None:
    """``storefront build`` skips the interpreter's teardown (cli.run): its report must still be
    read whole through a pipe, its exit code kept, its temporary folders removed (the cache of a
    --no-cache build, the workers'), and the output must be the one main() makes in-process."""
    import os
    import subprocess
    import sys

    from support import tree_bytes

    site = copy_site("basic")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "SOURCE_DATE_EPOCH": "1719000000"}
    env.pop("PYTHONUNBUFFERED", None)  # stdout to a pipe is buffered: it must be flushed
    command = [sys.executable, "-m", "storefront", "--root", str(site), "build", *extra]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^built \d+ pages .* into .*output", done.stdout, re.MULTILINE)
    assert list(temp.iterdir()) == []
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")
    assert storefront.cli.main(["--root", str(site), "build", "--output",
                                str(tmp_path / "in-process"), "--no-cache", "--jobs", "1"]) == 0
    assert tree_bytes(site / "output") == tree_bytes(tmp_path / "in-process")
    (site / "content/posts/2024-06-10-focaccia.md").write_text("---\ntitle: [\n---\n", "utf-8")
    failed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert failed.returncode == 1
    assert failed.stderr.rstrip().endswith("nothing was written")
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_locale_of_another_encoding_builds_the_same_site(copy_site, tmp_path, jobs: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A locale whose encoding is not UTF-8 (``LANG=tr_TR`` is ISO-8859-9; here a POSIX locale
    without coercion, ASCII) named the UTF-8 file ``caffè.png`` another way than the page that
    links it: the build failed ("this file's name is not UTF-8 text"), where a UTF-8 locale
    builds. The program runs in UTF-8 mode, and makes the site a UTF-8 locale makes."""
    import os
    import shutil
    import subprocess
    import sys

    from support import tree_bytes

    site = copy_site("basic")
    shutil.copy(site / "content/assets/pagnotta.png", site / "content/assets/caffè.png")
    (site / "content/assets/listino-più.txt").write_text("prezzi\n", encoding="utf-8")
    with (site / "content/pages/chi-siamo.md").open("a", encoding="utf-8") as page:
        page.write("\n![Un caffè](/assets/caffè.png) e il [listino](/assets/listino-più.txt)\n")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000", "LC_ALL": "C", "LANG": "C",
           "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    env.pop("PYTHONIOENCODING", None)
    command = [sys.executable, "-m", "storefront", "--root", str(site), "build", "--no-cache",
               "--jobs", jobs]
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode("ascii", "backslashreplace")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")
    assert storefront.cli.main(["--root", str(site), "build", "--output",
                                str(tmp_path / "in-process"), "--no-cache", "--jobs", "1"]) == 0
    assert tree_bytes(site / "output") == tree_bytes(tmp_path / "in-process")
    assert (site / "output/assets/caffè.png").is_file()


def test_clean_is_refused_while_a_build_or_preview_holds_the_cache(copy_site, run_cli,
                                                                    monkeypatch) -> None:
    """`storefront clean` beside a running build deleted the database and stored pages under
    it: the build died with an internal error. A session (a running build, the preview) holds
    the cache; clean says so and deletes nothing, and works once the session has ended."""
    from storefront.build import BuildRequest, BuildSession
    from storefront.cache import DATABASE
    from storefront.request import CACHE_DIR

    site = copy_site("basic")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")
    session = BuildSession(BuildRequest(root=site, output=site / "output"))
    try:
        assert session.build().written > 0
        refused = run_cli("--root", site, "clean")
        assert refused.code == 1
        assert "is in use by a build or a preview that is running" in refused.err
        assert (site / CACHE_DIR / DATABASE).is_file()
        (site / "content/posts/2024-06-10-focaccia.md").write_text(
            (site / "content/posts/2024-06-10-focaccia.md").read_text("utf-8") + "\nAncora.\n",
            "utf-8")
        assert session.build().rendered >= 1  # its cache is whole: it goes on
    finally:
        session.close()
    assert any((site / CACHE_DIR / "compiled").iterdir())  # the signed compiled templates
    cleaned = run_cli("--root", site, "clean")
    assert cleaned.code == 0 and "removed the build cache" in cleaned.out
    assert not (site / CACHE_DIR).exists()


def test_clean_outside_a_site_says_so(tmp_path, run_cli) -> None:
    # a mistyped --root said "nothing to clean" (exit 0), as if the site's cache were gone
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    for root in (tmp_path / "missing", tmp_path / "file.txt", tmp_path):
        result = run_cli("--root", root, "clean")
        assert result.code == 1, root
        assert f"no storefront.yaml in {root}" in result.err
    cache = tmp_path / "somewhere-cache"
    assert run_cli("--root", tmp_path, "clean", "--cache-dir", cache).code == 0  # named: fine


def test_a_cache_folder_never_deletes_the_owners_files(copy_site, run_cli, tmp_path,
                                                       monkeypatch) -> None:
    """A new cache emptied the pages/ and templates/ of its folder, and clean removed pages/,
    images/ and templates/ of any folder named: --cache-dir content deleted content/pages,
    every page of the site, and --cache-dir of a folder with a templates/ of its own deleted
    it. A cache folder in the site's own files is refused; elsewhere, only a cache's own
    database makes those folders the cache's."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")
    site = copy_site("basic")
    pages = sorted(p.name for p in (site / "content/pages").iterdir())
    for command in ("build", "clean"):
        result = run_cli("--root", site, command, "--cache-dir", site / "content")
        assert result.code == 1, command
        assert "would mix with the site's own files" in result.err
        assert sorted(p.name for p in (site / "content/pages").iterdir()) == pages
    for folder in (site, site.parent, site / "themes" / "mine"):
        result = run_cli("--root", site, "build", "--cache-dir", folder)
        assert result.code == 1 and "--cache-dir: the build cache" in result.err, folder
    shared = tmp_path / "ci-cache"
    for sub in ("pages", "images", "templates", "compiled"):
        (shared / sub).mkdir(parents=True)
        (shared / sub / "keep.txt").write_text("not storefront's", encoding="utf-8")
    assert run_cli("--root", site, "clean", "--cache-dir", shared).out == "nothing to clean\n"
    assert run_cli("--root", site, "build", "--cache-dir", shared).code == 0
    for sub in ("pages", "images", "templates", "compiled"):
        assert (shared / sub / "keep.txt").read_text(encoding="utf-8") == "not storefront's"


def test_serve_with_a_root_that_is_no_folder_says_so(tmp_path, run_cli) -> None:
    # the file watcher failed with a bare "error: No such file or directory"
    result = run_cli("--root", tmp_path / "nowhere", "serve", "--port", "0")
    assert result.code == 1
    assert f"there is no folder {tmp_path / 'nowhere'}" in result.err

"""The build engine: what is rebuilt, parallel builds, and a cache that is never trusted blindly."""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import storefront.build as build_module
from storefront import images as images_module
from storefront.build import BuildRequest, build_site
from storefront.cache import COMPILED_SWEEP_MEMO, DATABASE, PAGES_SWEEP_MEMO
from storefront.errors import BuildFailed
from storefront.request import CACHE_DIR
from support import REPO, SITES, check_leftovers_swept, extra_posts, tree_bytes

POST = "content/posts/2024-06-10-focaccia.md"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


def build(site: Path, output: str = "output", **options: object):
    return build_site(BuildRequest(root=site, output=site / output, **options))  # type: ignore[arg-type]


def clean_tree(site: Path, tmp_path: Path) -> dict[str, bytes]:
    build_site(BuildRequest(root=site, output=tmp_path / "clean", use_cache=False, jobs=1))
    return tree_bytes(tmp_path / "clean")


def test_a_build_with_nothing_changed_renders_and_writes_nothing(copy_site) -> None:
    site = copy_site("basic")
    first = build(site)
    assert first.rendered == first.pages and first.parsed > 0
    again = build(site)
    assert (again.rendered, again.parsed, again.written) == (0, 0, 0)


def test_one_edited_post_rebuilds_its_page_and_what_shows_it_and_nothing_else(copy_site) -> None:
    site = copy_site("basic")
    build(site)
    post = site / POST
    post.write_text(post.read_text(encoding="utf-8") + "\nUna riga in più.\n", encoding="utf-8")
    report = build(site)
    assert report.parsed == 1
    changed = set(report.changed)
    assert "blog/2024/06/focaccia/index.html" in changed
    assert {"feed.xml", "atom.xml"} <= changed  # the feeds carry the full text
    # the body changed, not the card: listings, tag pages and neighbours stay as they are
    assert not changed & {"index.html", "blog/index.html", "tag/pane/index.html",
                          "blog/2024/05/pane-di-grano-antico/index.html"}
    assert report.rendered == 1


def test_a_new_title_reaches_every_page_that_shows_the_post(copy_site) -> None:
    site = copy_site("basic")
    build(site)
    post = site / POST
    post.write_text(post.read_text(encoding="utf-8").replace(
        "title: La focaccia del mattino", "title: La focaccia della sera"), encoding="utf-8")
    report = build(site)
    for page in ("blog/2024/06/focaccia/index.html", "index.html", "blog/index.html",
                 "tag/pane/index.html"):
        assert page in report.changed
        assert "La focaccia della sera" in (site / "output" / page).read_text(encoding="utf-8")


def test_one_worker_and_two_workers_build_the_same_bytes(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    for n in range(60):  # enough work for the pool to start
        (site / f"content/posts/2024-04-{n % 28 + 1:02d}-extra-{n}.md").write_text(
            f"---\ntitle: Extra {n}\ntags: [pane, t{n % 5}]\n---\n\nTesto {n} con 'virgolette'.\n",
            encoding="utf-8")
    one = build_site(BuildRequest(root=site, output=tmp_path / "one", jobs=1, use_cache=False))
    two = build_site(BuildRequest(root=site, output=tmp_path / "two", jobs=2, use_cache=False))
    assert one.pages == two.pages > 100
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")


def _with_extra_posts(site: Path) -> Path:
    for n in range(60):  # enough work for the pool to start
        (site / f"content/posts/2024-04-{n % 28 + 1:02d}-extra-{n}.md").write_text(
            f"---\ntitle: Extra {n}\n---\n\nTesto {n} con [un link](/blog/) e 'virgolette'.\n",
            encoding="utf-8")
    return site


def test_posts_bodies_wait_in_a_file_not_in_the_builds_memory(copy_site, tmp_path) -> None:
    """At 10,000 posts the bodies were 60 MiB of the build's memory, and as much again in its
    render worker (storefront.bodystore); they are read when a page, a feed or a check needs them."""
    from storefront.bodystore import StoredBody
    from storefront.build import BuildSession
    from storefront.documents import Post

    site = _with_extra_posts(copy_site("basic"))
    for jobs in (1, 2):
        output = tmp_path / f"jobs{jobs}"
        session = BuildSession(BuildRequest(root=site, output=output, jobs=jobs,
                                            base_url="https://example.com/negozio/"))
        try:
            session.build()
            posts = [document for _, document, _ in session.memory.values()
                     if isinstance(document, Post)]
            assert len(posts) > 60
            assert all(isinstance(post.content_html, StoredBody) for post in posts)
        finally:
            session.close()
        page = (output / "blog/2024/04/extra-7/index.html").read_text(encoding="utf-8")
        assert "Testo 7 con" in page and 'href="/negozio/blog/"' in page
    assert tree_bytes(tmp_path / "jobs1") == tree_bytes(tmp_path / "jobs2")


def test_a_session_that_reads_its_posts_again_does_not_store_their_bodies_again(
        copy_site, tmp_path) -> None:
    # storefront.yaml's author (timezone, forms, permalinks...) is read with every document: at
    # each such save the preview reads every post again, from the files or the cache. A body
    # that did not change must not be appended to the bodies file again: nothing else shrinks
    # it while the preview runs (60 MiB more at each such save of a 10,000-post site).
    from storefront.build import BuildSession

    site = _with_extra_posts(copy_site("basic"))
    session = BuildSession(BuildRequest(root=site, output=tmp_path / "out", jobs=1))
    try:
        session.build()
        stored = session.bodies.size
        for author in ("Anna Bianchi", "Anna Rossi", "Anna Verdi"):  # every post read again
            config = (site / "storefront.yaml").read_text(encoding="utf-8")
            (site / "storefront.yaml").write_text(
                re.sub(r"(?m)^author: .*$", f"author: {author}", config), encoding="utf-8")
            assert session.build().parsed > 60
        assert session.bodies.size == stored
    finally:
        session.close()
    assert tree_bytes(tmp_path / "out") == clean_tree(site, tmp_path)
    page = (tmp_path / "out/blog/2024/04/extra-7/index.html").read_text(encoding="utf-8")
    assert "Testo 7 con" in page and "Anna Verdi" in page


def test_a_worker_sent_its_state_is_sent_the_bodies_when_no_cache_holds_them(
        copy_site, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # with a thread running (the preview's server) workers are not forked holding the state but
    # sent it; with --no-cache no database holds the bodies, so the bodies themselves go
    import threading

    from storefront import workers

    site = _with_extra_posts(copy_site("basic"))
    monkeypatch.setattr(workers, "SERIAL_BELOW", 2)
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    try:
        build_site(BuildRequest(root=site, output=tmp_path / "sent", jobs=2, use_cache=False,
                                base_url="https://example.com/negozio/"))
    finally:
        release.set()
        thread.join()
    build_site(BuildRequest(root=site, output=tmp_path / "one", jobs=1, use_cache=False,
                            base_url="https://example.com/negozio/"))
    page = (tmp_path / "sent/blog/2024/04/extra-7/index.html").read_text(encoding="utf-8")
    assert "Testo 7 con" in page and 'href="/negozio/blog/"' in page
    assert tree_bytes(tmp_path / "sent") == tree_bytes(tmp_path / "one")


def database(site: Path) -> Path:
    return site / CACHE_DIR / DATABASE


def test_a_cache_from_another_version_is_ignored(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    build(site)
    with sqlite3.connect(database(site)) as db:
        db.execute("UPDATE meta SET value = 'another storefront' WHERE key = 'code'")
    report = build(site, "second")
    assert report.cache_discarded >= 1 and report.rendered == report.pages
    assert tree_bytes(site / "second") == clean_tree(site, tmp_path)


def test_a_truncated_cache_is_discarded(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    build(site)
    data = database(site).read_bytes()
    for suffix in ("-wal", "-shm"):
        Path(str(database(site)) + suffix).unlink(missing_ok=True)
    database(site).write_bytes(data[: len(data) // 3])
    report = build(site, "second")
    assert report.rendered == report.pages
    assert tree_bytes(site / "second") == clean_tree(site, tmp_path)


def test_a_cache_edited_by_hand_is_detected_and_ignored(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    build(site)
    with sqlite3.connect(database(site)) as db:
        db.execute("UPDATE documents SET html = replace(html, 'focaccia', 'FALSO')")
        db.execute("UPDATE outputs SET payload = replace(payload, 'a', 'b') WHERE path = 'index.html'")
    pages = site / CACHE_DIR / "pages"
    stored = next(p for p in pages.rglob("*") if p.is_file())
    stored.write_bytes(stored.read_bytes().replace(b"<html", b"<HTML"))
    report = build(site, "second")
    assert report.cache_discarded >= 2
    assert tree_bytes(site / "second") == clean_tree(site, tmp_path)
    assert b"FALSO" not in b"".join(tree_bytes(site / "second").values())


def test_a_killed_writers_temporary_file_is_swept_from_the_stored_pages(copy_site) -> None:
    """A build killed while a worker stores a rendered page leaves ``pages/ab/.tmp-PID-N``. A
    later build that renders deletes it once its writer no longer runs and nobody touched it for
    a while, by the image cache's rules: a live writer's file (this process's, however old), a
    dead writer's fresh one (the same id may be a live process on another machine sharing the
    cache) and other names stay; the folder is looked at about once an hour."""
    site = copy_site("basic")
    check_leftovers_swept(site / CACHE_DIR / "pages", lambda output: build(site, output),
                          PAGES_SWEEP_MEMO)
    assert tree_bytes(site / "third") == tree_bytes(site / "output")


def test_a_killed_writers_temporary_file_is_swept_from_the_compiled_templates(copy_site) -> None:
    """The same for a build killed while it stores a compiled template (``compiled/.tmp-PID-N``,
    see storefront.bytecode)."""
    site = copy_site("basic")
    check_leftovers_swept(site / CACHE_DIR / "compiled", lambda output: build(site, output),
                          COMPILED_SWEEP_MEMO, flat=True)


def test_a_failed_build_leaves_the_output_and_does_not_poison_the_cache(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    build(site)
    before = tree_bytes(site / "output")
    post = site / POST
    good = post.read_text(encoding="utf-8")
    post.write_text(good.replace("(/chi-siamo/)", "(/non-esiste/)") + "\nNuovo.\n", encoding="utf-8")
    with pytest.raises(BuildFailed, match="leads to no page"):
        build(site)
    assert tree_bytes(site / "output") == before
    post.write_text(good, encoding="utf-8")
    report = build(site)
    assert report.written == 0
    assert tree_bytes(site / "output") == before == clean_tree(site, tmp_path)


def test_no_cache_builds_keep_nothing(copy_site) -> None:
    site = copy_site("basic")
    build(site, use_cache=False)
    assert not (site / CACHE_DIR).exists()


def test_the_cache_can_live_elsewhere(copy_site, tmp_path) -> None:
    site = copy_site("basic")
    build(site, cache_dir=tmp_path / "ci-cache")
    assert (tmp_path / "ci-cache" / DATABASE).is_file() and not (site / CACHE_DIR).exists()
    fresh = tmp_path / "fresh-clone"  # a fresh clone in CI, with the kept cache: nothing to render
    shutil.copytree(SITES / "basic", fresh)
    report = build_site(BuildRequest(root=fresh, output=fresh / "output",
                                     cache_dir=tmp_path / "ci-cache"))
    assert report.rendered == 0 and report.written == report.files


def another_build_ends_first(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next build's write stage first lets another build into ``site/output`` run to its
    end, with the post's title edited meanwhile (and put back before the write goes on)."""
    post = site / POST
    before = post.read_text(encoding="utf-8")
    write = build_module.write_site

    def write_later(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(build_module, "write_site", write)
        post.write_text(before.replace("title: La focaccia del mattino",
                                       "title: La focaccia della sera"), encoding="utf-8")
        assert "index.html" in build(site, jobs=1).changed
        post.write_text(before, encoding="utf-8")
        return write(*args, **kwargs)

    monkeypatch.setattr(build_module, "write_site", write_later)


def test_a_build_beside_another_keeps_the_stored_pages_that_one_will_write(
        copy_site, tmp_path, monkeypatch) -> None:
    """Two builds of a site share its cache (same base URL and options: the same records). The
    first, into a new folder, takes every page as unchanged; the second, with a post renamed
    meanwhile, ends before the first writes. The pages the second replaced are still the ones
    the first links into its folder: deleting them made it fail halfway (FileNotFoundError).
    A later build with the cache to itself deletes them."""
    site = copy_site("basic")
    build(site)
    another_build_ends_first(site, monkeypatch)
    build(site, "public", jobs=1)
    assert tree_bytes(site / "public") == clean_tree(site, tmp_path)
    build(site, jobs=1)  # alone: what no record names any more goes
    with sqlite3.connect(database(site)) as db:
        named = {row[0] for row in db.execute("SELECT sha256 FROM outputs")}
        assert db.execute("SELECT count(*) FROM garbage").fetchone() == (0,)
    stored = {path.name for path in (site / CACHE_DIR / "pages").rglob("*") if path.is_file()}
    assert stored == named


def test_a_build_into_a_folder_another_build_wrote_meanwhile_leaves_its_own_site(
        copy_site, tmp_path, monkeypatch) -> None:
    """Two builds into one folder: the first (an FAQ answer edited) found the blog's pages in
    place when it began; the second (a post's title edited meanwhile, and put back) wrote its
    own before the first took the folder's lock. The first kept them as it had found them: the
    folder showed the title that was put back, and every later build said nothing changed."""
    site = copy_site("basic")
    build(site)
    faq = site / "content/faq/orari.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "\nAnche la domenica.\n", encoding="utf-8")
    another_build_ends_first(site, monkeypatch)
    assert "index.html" in build(site, jobs=1).changed
    expected = clean_tree(site, tmp_path)
    assert tree_bytes(site / "output") == expected
    assert build(site, jobs=1).written == 0
    assert tree_bytes(site / "output") == expected


# -- the layering of DESIGN.md: no stage imports a later one -----------------------------------

# Each module's stage (lower runs earlier); a module may import only modules of its own or an
# earlier stage. The CLI and the preview sit on top; forms/ stands apart and imports the config.
STAGES = {
    "errors": 0, "codec": 0, "limits": 0, "files": 0, "staging": 0, "interrupts": 0,
    "installed": 0,
    "values": 1, "schema": 1, "urls": 1, "htmltags": 1, "dateformats": 1,
    "formconfig": 2, "config": 2, "policyconfig": 2, "imageconfig": 2,
    "sources": 3, "frontmatter": 3, "typography": 3, "inline": 3, "blocks": 3, "markdown": 3,
    "headings": 3, "passes": 3, "metadata": 3, "svg": 3, "renditions": 3, "imaging": 3,
    "documents": 4, "meta": 4, "body": 4, "reader": 4,
    "localize": 5, "bodystore": 5, "related": 5, "site": 5, "moves": 5, "hours": 5,
    "formatting": 6, "offers": 6, "seo": 6, "feeds": 6, "xmlfeeds": 6, "merchant": 6,
    "redirects": 6, "theme": 6, "deps": 6, "environment": 6, "archive": 6, "picture": 6,
    "presentation": 6, "bytecode": 6, "templateundefined": 6,
    "templatenames": 6,
    "plan": 7, "outputs": 7, "bundle": 7, "channels": 7, "checks": 7, "fingerprints": 7, "memo": 7,
    "records": 7, "cache": 7, "workers": 7, "parsing": 7,
    "templateimages": 7, "imageuses": 7, "imagecache": 7, "imagework": 7, "imagelibs": 7, "images": 7,
    "geotags": 7, "stringkeys": 7,
    "render": 8, "rendering": 8, "quicksave": 8, "templateerrors": 8, "templateloops": 8,
    "templatefilters": 8, "templateblocks": 8, "templatesets": 8, "templateoperations": 8,
    "output": 9, "request": 9, "trust": 9,
    "build": 10,
    "cleaning": 11, "scaffold": 11,
    "preview": 12, "previewlock": 12, "terminal": 12, "heap": 12,
    "cli": 13,
}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("storefront."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("storefront."))
    return found


def test_no_stage_imports_a_later_one() -> None:
    package = REPO / "src" / "storefront"
    problems = []
    for path in sorted(package.glob("*.py")):
        name = path.stem
        if name in ("__init__", "__main__"):
            continue
        assert name in STAGES, f"{name}.py: give it a stage in STAGES"
        for imported in imports_of(path) - {name}:
            if imported in ("forms", "newsletter"):  # packages beside the builder: CLI only
                if name != "cli":
                    problems.append(f"{name} imports {imported}")
                continue
            if STAGES.get(imported, 99) > STAGES[name]:
                problems.append(f"{name} (stage {STAGES[name]}) imports {imported} "
                                f"(stage {STAGES.get(imported)})")
    assert problems == []


def test_the_form_endpoint_does_not_import_the_builder() -> None:
    builder = {name for name, stage in STAGES.items() if stage >= 3} - {"limits"}
    for path in sorted((REPO / "src" / "storefront" / "forms").glob("*.py")):
        if path.name == "__main__.py":
            continue  # `python -m storefront.forms` hands over to the storefront command
        assert not imports_of(path) & builder, f"forms/{path.name} imports the builder"


def test_pages_written_in_place_by_another_tool_are_noticed_and_rebuilt(copy_site, tmp_path) -> None:
    """Output pages are hard links to the cache's copies; a tool that writes into an output file
    (not by rename) also changes the cache's copy, which the next build notices and replaces."""
    site = copy_site("basic")
    build(site)
    page = site / "output" / "index.html"
    assert page.stat().st_nlink == 2  # linked, not copied
    with page.open("r+b") as handle:  # an in-place edit, as some post-processors do
        handle.write(b"<!-- x -->")
    report = build(site)
    assert "index.html" in report.changed and report.cache_discarded >= 1
    assert tree_bytes(site / "output") == clean_tree(site, tmp_path)


def test_a_save_after_a_parallel_first_build_fingerprints_only_what_it_touched(
    copy_site, tmp_path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The preview's first save after a first build made by workers: the session's page memo
    must hold the pages as planned (not the copies sent to workers without their bodies), or
    every page is fingerprinted again (that made the first save ~3x slower than the next)."""
    import storefront.rendering as rendering
    import storefront.workers as workers
    from storefront.build import BuildSession

    monkeypatch.setattr(workers, "SERIAL_BELOW", 2)  # this small site's pages go to workers too
    site = copy_site("basic")
    session = BuildSession(BuildRequest(root=site, output=tmp_path / "out", jobs=2))
    try:
        first = session.build()
        assert first.rendered > 20
        counted: list[str] = []
        real = rendering.signature

        def counting(*args: object) -> str:
            counted.append(str(args[0]))
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(rendering, "signature", counting)
        post = site / "content/posts/2024-06-10-focaccia.md"
        post.write_text(post.read_text(encoding="utf-8") + "\nCalda.\n", encoding="utf-8")
        second = session.build()
        assert second.rendered >= 1
        assert len(counted) < first.rendered // 2, counted
    finally:
        session.close()


def test_a_session_that_builds_on_another_thread_keeps_its_cache(copy_site, tmp_path) -> None:
    """The preview builds first on its main thread, then on its watcher's: the cache must carry
    over (it was taken as damaged and deleted, and every photo processed again)."""
    import threading

    from storefront.build import BuildSession

    site = copy_site("basic")
    session = BuildSession(BuildRequest(root=site, output=tmp_path / "out", jobs=1))
    try:
        assert session.build().images > 0
        database = site / CACHE_DIR / DATABASE
        inode = database.stat().st_ino
        post = site / "content/posts/2024-06-10-focaccia.md"
        post.write_text(post.read_text(encoding="utf-8") + "\nCalda.\n", encoding="utf-8")
        reports = []
        builder = threading.Thread(target=lambda: reports.append(session.build()))
        builder.start()
        builder.join(120)
        assert reports and reports[0].rendered >= 1
        assert reports[0].images == 0 and session.cache.discarded == 0
        assert database.stat().st_ino == inode
    finally:
        session.close()


@pytest.mark.parametrize("meanwhile", ["storefront clean", "another build", "folder deleted",
                                       "a page deleted by hand"])
def test_a_session_repairs_its_folder_when_something_else_wrote_there(
        copy_site, tmp_path, meanwhile) -> None:
    """Between two builds of a session (two saves in the preview) something else changes the
    output folder: the next build writes every file that is missing or different, like a build
    of its own (a session that trusted its folder as it had left it served a 404 for a page
    deleted by hand)."""
    from storefront.build import BuildSession
    from storefront.cli import main
    from storefront.output import remove_written

    site = copy_site("basic")
    out = tmp_path / "out"
    session = BuildSession(BuildRequest(root=site, output=out, jobs=1))
    post = site / POST
    try:
        session.build()
        post.write_text(post.read_text(encoding="utf-8") + "\nCalda.\n", encoding="utf-8")
        session.build()
        if meanwhile == "storefront clean":
            assert remove_written(out) > 10
        elif meanwhile == "another build":  # of another version of the post
            kept = post.read_text(encoding="utf-8")
            post.write_text(kept + "\nTiepida.\n", encoding="utf-8")
            assert main(["--root", str(site), "build", "--output", str(out)]) == 0
            post.write_text(kept, encoding="utf-8")
        elif meanwhile == "folder deleted":
            shutil.rmtree(out)
        else:
            (out / "chi-siamo/index.html").unlink()
        post.write_text(post.read_text(encoding="utf-8") + "\nCaldissima.\n", encoding="utf-8")
        session.build()
        assert tree_bytes(out) == clean_tree(site, tmp_path)
    finally:
        session.close()


_WATCH_THE_POOL = (
    "import gc, json, sys, threading\n"
    "from pathlib import Path\n"
    "from storefront import cli, parsing, rendering, workers\n"
    "from storefront.build import BuildRequest, build_site\n"
    "seen = {'pickled': [], 'shared': [], 'same_workers': [], 'frozen': []}\n"
    "state_file, share = workers.WorkerPool._state_file, workers.WorkerPool.share\n"
    "parse, render = parsing.parse_sources, rendering.render_pages\n"
    "def record_pickle(pool, state):\n"
    "    if not pool.holds(state):\n"
    "        seen['pickled'].append(type(state).__name__)\n"
    "    return state_file(pool, state)\n"
    "def record_share(pool, state, **options):\n"
    "    before = pool._executor\n"
    "    seen['shared'].append(share(pool, state, **options))\n"
    "    seen['same_workers'].append(pool._executor is before)\n"
    "    return seen['shared'][-1]\n"
    "def parse_then_start_a_thread(*args):\n"
    "    parsed = parse(*args)\n"
    "    threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
    "    return parsed\n"
    "def record_frozen(*args):\n"
    "    seen['frozen'].append(gc.get_freeze_count())\n"
    "    return render(*args)\n"
    "workers.WorkerPool._state_file = record_pickle\n"
    "workers.WorkerPool.share = record_share\n"
    "rendering.render_pages = record_frozen\n"
    "site, out, how = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]\n"
    "if how == 'thread':  # as in the preview server: workers come from a fork server\n"
    "    threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
    "if how == 'later':  # a thread starts while the parse stage's workers run\n"
    "    parsing.parse_sources = parse_then_start_a_thread\n"
    "if how == 'cli':\n"
    "    assert cli.main(['--root', str(site), 'build', '--output', str(out), '--jobs', '2',\n"
    "                     '--no-cache']) == 0\n"
    "    seen['frozen'].append(gc.get_freeze_count())  # after the command: nothing is left frozen\n"
    "else:\n"
    "    build_site(BuildRequest(root=site, output=out, jobs=2, use_cache=False))\n"
    "print(json.dumps(seen))\n")


@pytest.mark.parametrize("how", ["alone", "thread", "later", "cli"])
def test_render_workers_are_forked_holding_the_pages_or_sent_them(
        copy_site, tmp_path, how: str) -> None:
    """A build in a process of its own (the command line) forks its render workers holding the
    render state: nothing is pickled for them. With another thread running (the preview) they
    are sent the state, by the workers already running when there are some (they are not
    stopped for nothing). The command line's frozen heap (storefront.heap) stays frozen while
    the pages render, and nothing is left frozen after it. The pages are the same bytes."""
    site = copy_site("basic")
    for n in range(60):
        (site / f"content/posts/2024-04-{n % 28 + 1:02d}-extra-{n}.md").write_text(
            f"---\ntitle: Extra {n}\ntags: [pane, t{n % 5}]\n---\n\nTesto {n}.\n", encoding="utf-8")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000"}
    done = subprocess.run([sys.executable, "-c", _WATCH_THE_POOL, str(site), str(tmp_path / "two"),
                           how], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    if how in ("alone", "cli"):
        assert seen["shared"] == [True]
        assert "RenderState" not in seen["pickled"]
    else:
        assert seen["shared"] == [False]
        assert "RenderState" in seen["pickled"]
        assert seen["same_workers"] == [True]
    assert "ReaderSettings" in seen["pickled"]  # the parse stage's workers were there before
    if how == "cli":
        frozen_while_rendering, frozen_after = seen["frozen"]
        assert frozen_while_rendering > 1000
        assert frozen_after == 0
    one = tmp_path / "one"
    build_site(BuildRequest(root=site, output=one, jobs=1, use_cache=False))
    assert tree_bytes(one) == tree_bytes(tmp_path / "two")


_THREE_BUILDS_OF_ONE_SESSION = (
    "import os, sys\n"
    "from pathlib import Path\n"
    "from storefront import deps, rendering\n"
    "from storefront.build import BuildRequest, BuildSession\n"
    "made, put = rendering.body_loader, rendering.set_body_loader\n"
    "def body_loader(*args):\n"
    "    loader = made(*args)\n"
    "    loader.pid = os.getpid()\n"
    "    return loader\n"
    "def set_body_loader(new):\n"
    "    old = deps._body_loader\n"
    "    if old is not None and old.pid != os.getpid():\n"
    "        print(f'{os.getpid()} closes the connection of {old.pid}', file=sys.stderr)\n"
    "    put(new)\n"
    "rendering.body_loader, rendering.set_body_loader = body_loader, set_body_loader\n"
    "site = Path(sys.argv[1])\n"
    "session = BuildSession(BuildRequest(root=site, output=Path(sys.argv[2]), jobs=2))\n"
    "try:\n"
    "    session.build()\n"
    "    post = site / 'content/posts/2024-04-01-extra-0.md'\n"
    "    post.write_text(post.read_text() + '\\nAncora.\\n')\n"
    "    assert 0 < session.build().rendered < 10  # in this process, with its connection\n"
    "    config = site / 'storefront.yaml'\n"
    "    config.write_text(config.read_text().replace('title:', 'title: Nuovo', 1))\n"
    "    assert session.build().rendered > 60  # by workers forked again\n"
    "finally:\n"
    "    session.close()\n")


def test_workers_forked_later_in_a_session_leave_its_cache_connection_alone(
        copy_site, tmp_path) -> None:
    """A session that rendered in its own process holds a connection to the build cache; workers
    forked afterwards must not inherit it (a forked worker replacing it closed it, which SQLite
    warns against)."""
    site = copy_site("basic")
    for n in range(60):
        (site / f"content/posts/2024-04-{n % 28 + 1:02d}-extra-{n}.md").write_text(
            f"---\ntitle: Extra {n}\ntags: [pane]\n---\n\nTesto {n}.\n", encoding="utf-8")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000"}
    done = subprocess.run([sys.executable, "-c", _THREE_BUILDS_OF_ONE_SESSION, str(site),
                           str(tmp_path / "out")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "closes the connection" not in done.stderr


@pytest.fixture
def _no_fakelib() -> Iterator[None]:
    """No test's ``fakelib`` stays imported after it (monkeypatch.delitem at the end of a test
    was undone at its teardown, leaving the module, and its folder, to the tests after it)."""
    sys.modules.pop("fakelib", None)
    yield
    sys.modules.pop("fakelib", None)


@pytest.mark.usefixtures("_no_fakelib")
@pytest.mark.parametrize("metadata", ["fakelib-1.0.dist-info", "FakeLib-1.0.egg-info", ""])
def test_a_cache_made_with_another_version_of_a_library_is_not_trusted(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, metadata: str) -> None:
    """Babel's locale data, feedgen's and the minifiers' output end up in cached pages and feeds:
    after an upgrade, a cache made with the old version must be discarded like another
    storefront's. The version is read from the distribution's metadata folder beside the
    package, without importing it; without one (an editable install) the package is imported
    and asked (the fingerprint is computed afresh here, past its per-process cache)."""
    from storefront import installed
    from storefront.fingerprints import code_fingerprint

    libs = tmp_path / "libs"
    (libs / "fakelib").mkdir(parents=True)
    (libs / "fakelib/__init__.py").write_text('__version__ = "1.0"\n')
    if metadata:
        (libs / metadata).mkdir()
    monkeypatch.syspath_prepend(str(libs))
    libraries = (("fakelib", "FakeLib", ("fakelib", "__version__")),)
    before = code_fingerprint.__wrapped__(libraries)
    assert code_fingerprint.__wrapped__(libraries) == before
    assert ("fakelib" in sys.modules) == (not metadata)  # imported only when it must be
    if metadata:
        (libs / metadata).rename(libs / metadata.replace("1.0", "1.1"))
        installed._metadata_folders.cache_clear()
    else:
        monkeypatch.setattr(sys.modules["fakelib"], "__version__", "1.1")
    assert code_fingerprint.__wrapped__(libraries) != before


def test_every_library_whose_output_is_kept_has_a_version() -> None:
    """A library not found would give the same key before and after its upgrade."""
    from storefront.fingerprints import KEPT_LIBRARIES
    from storefront.installed import installed_version

    for module, project, asked in KEPT_LIBRARIES:
        version = installed_version(module, project, asked)
        assert version not in ("missing", ""), project
        # a system's package adds its build time (" @..."): see the tests below
        expected = (str(getattr(__import__(asked[0], fromlist=["_"]), asked[1])) if asked[1]
                    else importlib.metadata.version(project))
        assert version.partition(" @")[0] == expected, project
    assert installed_version("no_such_library_here", "x", ("x", "y")) == "missing"


@pytest.mark.parametrize("project", ["Jinja2", "MarkupSafe", "Markdown", "Babel"])
def test_an_upgrade_of_a_library_the_pages_are_made_with_discards_the_cache(
        monkeypatch: pytest.MonkeyPatch, project: str) -> None:
    """MarkupSafe escapes every value a template writes and strips the tags of |striptags
    (2.1.5 collapsed the spaces 2.1.4 left: "<p>Pane  </p>  <p>  duro</p>" was "Pane   duro",
    now "Pane duro"); it is upgraded on its own, not with Jinja."""
    from storefront import fingerprints

    before = fingerprints.code_fingerprint.__wrapped__()
    real = fingerprints.installed_version
    monkeypatch.setattr(fingerprints, "installed_version",
                        lambda module, name, asked: "99.0" if name == project
                        else real(module, name, asked))
    assert fingerprints.code_fingerprint.__wrapped__() != before


def _fake_library(tmp_path: Path, metadata: str, files: dict[str, str]) -> Path:
    """A folder of packages holding ``fakelib`` 3.1.2 and its metadata (a folder ``metadata``
    with ``files``, or, with no files, distutils' single-file egg-info of that name)."""
    libs = tmp_path / "libs"
    (libs / "fakelib").mkdir(parents=True)
    (libs / "fakelib/__init__.py").write_text('__version__ = "3.1.2"\n')
    if files:
        (libs / metadata).mkdir()
        for name, text in files.items():
            (libs / metadata / name).write_text(text)
    else:
        (libs / metadata).write_text("Metadata-Version: 1.0\nName: FakeLib\nVersion: 3.1.2\n")
    return libs


def _stamp_all(folder: Path, seconds: int) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (seconds, seconds))


@pytest.mark.usefixtures("_no_fakelib")
@pytest.mark.parametrize(("metadata", "files"), [
    ("Jinja2-3.1.2.egg-info", {"PKG-INFO": "Name: FakeLib\n", "top_level.txt": "fakelib\n"}),
    ("PyYAML-6.0.dist-info", {"METADATA": "Name: FakeLib\n", "RECORD": ""}),
    ("FakeLib-3.1.2.egg-info", {})])
def test_a_system_package_updated_under_the_same_version_discards_the_cache(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, metadata: str, files: dict[str, str]
        ) -> None:
    """Debian's python3-jinja2 3.1.2-1 -> 3.1.2-1+deb12u3 (security fixes, one changed the
    xmlattr filter's output) keeps Jinja2-3.1.2.egg-info; its files carry the new package's
    build time (dpkg sets it), which is part of the key: the cache of the old package's pages
    is not reused. Installing the same package again keeps the key."""
    from storefront import installed
    from storefront.fingerprints import code_fingerprint

    metadata = metadata.replace("Jinja2", "FakeLib").replace("PyYAML-6.0", "fakelib-3.1.2")
    libs = _fake_library(tmp_path, metadata, files)
    _stamp_all(libs, 1_664_300_000)  # 3.1.2-1, built in September 2022
    monkeypatch.syspath_prepend(str(libs))
    libraries = (("fakelib", "FakeLib", ("fakelib", "__version__")),)
    installed._metadata_folders.cache_clear()
    before = code_fingerprint.__wrapped__(libraries)
    assert "fakelib" not in sys.modules
    (libs / "fakelib/__init__.py").write_text('__version__ = "3.1.2"\nFIXED = True\n')
    _stamp_all(libs, 1_664_300_000)  # the same package installed again
    installed._metadata_folders.cache_clear()
    assert code_fingerprint.__wrapped__(libraries) == before
    _stamp_all(libs, 1_747_520_000)  # the security update, built in May 2025
    installed._metadata_folders.cache_clear()
    assert code_fingerprint.__wrapped__(libraries) != before


@pytest.mark.usefixtures("_no_fakelib")
def test_a_fresh_pip_install_of_the_same_version_keeps_the_cache(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """pip and uv (an INSTALLER file) give every file the time of the install: CI that installs
    the same versions afresh on each run and keeps the cache keeps using it."""
    from storefront import installed
    from storefront.fingerprints import code_fingerprint

    libs = _fake_library(tmp_path, "fakelib-3.1.2.dist-info",
                         {"METADATA": "Name: FakeLib\n", "RECORD": "", "INSTALLER": "pip\n"})
    _stamp_all(libs, 1_764_000_000)
    monkeypatch.syspath_prepend(str(libs))
    libraries = (("fakelib", "FakeLib", ("fakelib", "__version__")),)
    installed._metadata_folders.cache_clear()
    before = code_fingerprint.__wrapped__(libraries)
    _stamp_all(libs, 1_764_100_000)  # the next run's install
    installed._metadata_folders.cache_clear()
    assert code_fingerprint.__wrapped__(libraries) == before
    assert "fakelib" not in sys.modules


@pytest.mark.parametrize("alias", ["/feed.xml/", "/_redirects", "/.storefront-manifest.json/"])
def test_an_alias_inside_a_file_of_the_site_fails_before_the_output_is_touched(
        copy_site, tmp_path, alias) -> None:
    site = copy_site("basic")
    build(site)
    before = tree_bytes(site / "output")
    manifest = (site / "output/.storefront-manifest.json").read_bytes()
    page = site / "content/pages/privacy.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("---\n", f'---\naliases: ["{alias}"]\n', 1), encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(site)
    assert [(e.location.path, e.location.line) for e in failed.value.errors] == [
        ("content/pages/privacy.md", 2)]
    assert tree_bytes(site / "output") == before
    assert (site / "output/.storefront-manifest.json").read_bytes() == manifest
    page.write_text(text, encoding="utf-8")
    build(site)
    assert tree_bytes(site / "output") == before == clean_tree(site, tmp_path)



_POOL_THEN_DIE = """
import threading
if THREADED:  # the preview has threads: its workers come from a fork server
    threading.Thread(target=threading.Event().wait, daemon=True).start()
from storefront.workers import WorkerPool
import time
pool = WorkerPool(3)  # two workers: the build's own process is the third job
pool.start()
for job in [pool._executor.submit(time.sleep, 0.5) for _ in range(2)]:  # both workers started
    job.result()
print(" ".join(str(pid) for pid in pool._executor._processes), flush=True)
threading.Event().wait()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except (FileNotFoundError, ProcessLookupError):  # gone, or going while its file was read
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("threaded", [False, True])
def test_workers_end_when_the_build_process_is_killed(signal_name: str, threaded: bool) -> None:
    """``kill PID`` of a command-line build (or SIGKILL, the OOM killer) stops its process only:
    its forked workers, waiting for work on a pipe they hold open themselves, stayed forever. So
    did the preview's, started by a fork server (they watched the server, which waits for them)."""
    import signal
    import time

    program = f"THREADED = {threaded}\n{_POOL_THEN_DIE}"
    with subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE,
                          text=True) as build:
        try:
            assert build.stdout is not None
            workers = [int(pid) for pid in build.stdout.readline().split()]
            assert len(workers) == 2 and all(_alive(pid) for pid in workers)
            build.send_signal(getattr(signal, signal_name))
            build.wait(timeout=30)
        finally:
            build.kill()  # if a check failed: the program waits for ever
    # they end at once (a pidfd tells them); the deadline is for a machine busy with other work
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):  # ending just now
            os.kill(pid, signal.SIGKILL)
    assert left == []


_WATCH_THE_COMPILER = (
    "import os, sys\n"
    "from pathlib import Path\n"
    "import jinja2\n"
    "from storefront import cli\n"
    "compile_source, parent = jinja2.Environment.compile, os.getpid()\n"
    "def record(env, source, name=None, *args, **kwargs):\n"
    "    with open(sys.argv[3], 'a', encoding='utf-8') as log:\n"
    "        log.write(f\"{'parent' if os.getpid() == parent else 'worker'} {name}\\n\")\n"
    "    return compile_source(env, source, name, *args, **kwargs)\n"
    "jinja2.Environment.compile = record\n"
    "sys.exit(cli.main(['--root', sys.argv[1], 'build', '--output', sys.argv[2], '--jobs', '2']))\n")


def test_templates_are_compiled_once_and_kept_only_signed_by_the_users_key(copy_site,
                                                                          tmp_path) -> None:
    """The build's process compiles each template once, before it forks its workers, which
    inherit them. The cache keeps them only signed with a key of the user's that is not in it
    (storefront.bytecode): the next build in a fresh process compiles nothing; a build by a user
    with another key (a CI runner given this cache) compiles them all again, and a compiled
    template put in the cache by someone without the key (a cache restored from elsewhere)
    never runs."""
    import jinja2

    site = copy_site("basic")
    extra_posts(site, 60, tagged=True)
    log = tmp_path / "compiled.txt"

    def build_watching(state: Path, output: str) -> list[str]:
        log.unlink(missing_ok=True)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000", "XDG_STATE_HOME": str(state)}
        done = subprocess.run([sys.executable, "-c", _WATCH_THE_COMPILER, str(site),
                               str(tmp_path / output), str(log)],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

    owner, stranger = tmp_path / "owner-state", tmp_path / "ci-state"
    compiled = build_watching(owner, "out")
    assert "parent post.html" in compiled and "parent base.html" in compiled
    assert [line for line in compiled if not line.startswith("parent ")] == []
    assert len(compiled) == len(set(compiled))  # each once
    cache = site / CACHE_DIR
    key = (owner / "storefront" / "template-key").read_bytes()
    assert len(key) == 32 and key not in (cache / DATABASE).read_bytes()
    assert (owner / "storefront" / "template-key").stat().st_mode & 0o777 == 0o600
    kept = sorted((cache / "compiled").iterdir())
    assert len(kept) >= len(compiled) - 1  # every page template (the mails' are not compiled)
    assert [p for p in cache.rglob("*") if p.suffix in (".py", ".pyc")] == []
    assert b"def root(" not in (cache / DATABASE).read_bytes()

    post = site / "content/posts/2024-04-01-extra-0.md"

    def edited(text: str) -> str:
        post.write_text(f"---\ntitle: Extra 0\ntags: [pane]\n---\n\n{text}\n", encoding="utf-8")
        return text

    text = edited("Testo nuovo.")
    assert build_watching(owner, "out") == []  # loaded, signed by the owner's key
    assert text in (tmp_path / "out/blog/2024/04/extra-0/index.html").read_text(encoding="utf-8")

    # someone without the key puts code of their own in place of each compiled template, signed
    # with their key: the owner's build compiles the templates from source and never runs it
    planted = jinja2.Environment().compile("PLANTED", "post.html")
    for stored in kept:
        stored.write_bytes(_forged(stored.read_bytes(), planted, b"x" * 32))
    text = edited("Testo dopo.")
    recompiled = build_watching(owner, "out")
    assert "parent post.html" in recompiled and "parent base.html" in recompiled
    page = (tmp_path / "out/blog/2024/04/extra-0/index.html").read_text(encoding="utf-8")
    assert text in page and "PLANTED" not in page
    # the control: the same file signed with the owner's key is code the build runs
    for stored in sorted((cache / "compiled").iterdir()):
        stored.write_bytes(_forged(stored.read_bytes(), planted, key))
    edited("Testo ancora.")
    assert build_watching(owner, "out") == []
    assert (tmp_path / "out/blog/2024/04/extra-0/index.html").read_text(encoding="utf-8") == "PLANTED"

    # a CI runner given this cache has another key: it compiles everything, uses none of it
    text = edited("Testo in CI.")
    assert "parent post.html" in build_watching(stranger, "out")
    assert (stranger / "storefront" / "template-key").read_bytes() != key
    page = (tmp_path / "out/blog/2024/04/extra-0/index.html").read_text(encoding="utf-8")
    assert text in page and "PLANTED" not in page


def _forged(data: bytes, code: object, key: bytes) -> bytes:
    """A compiled template's file (see storefront.bytecode) holding ``code``, signed with ``key``."""
    import hashlib
    import hmac
    import marshal

    payload = data[32:]
    # the header ends with the template's key and its source's checksum, each 40 hex digits
    checksum = re.search(rb"\n[0-9a-f]{40}\n[0-9a-f]{40}\n", payload)
    assert checksum is not None
    forged = payload[:checksum.end()] + marshal.dumps(code)
    return hmac.new(key, forged, hashlib.sha256).digest() + forged


def test_a_build_after_the_photo_libraries_changed_is_no_nothing_changed_build(
        copy_site, monkeypatch) -> None:
    """The whole-build shortcut ("nothing changed") covers the installed Pillow and its codecs
    (their files' stamp, found without importing them): after an upgrade, a clean build would
    encode the photos into other bytes, so the image stage must look again."""
    from storefront import build as build_module

    site = copy_site("basic")
    stamp, runs = ["pillow 1"], []
    monkeypatch.setattr(build_module, "installed_stamp", lambda: stamp[0])
    run = images_module.ImageStage.run
    monkeypatch.setattr(images_module.ImageStage, "run",
                        lambda self, *a, **k: runs.append(1) or run(self, *a, **k))
    build(site)
    assert len(runs) == 1
    build(site)
    assert len(runs) == 1  # nothing changed: the shortcut
    stamp[0] = "pillow 2"
    build(site)
    assert len(runs) == 2


_NOTHING_TO_DO = (
    "import json, sys\n"
    "from storefront import cli\n"
    "code = cli.main(['--root', sys.argv[1], 'build'])\n"
    "print(json.dumps([code, sorted(sys.modules)]))\n")


def test_a_build_with_nothing_to_do_imports_no_stage_past_the_shortcut(copy_site) -> None:
    """A second `storefront build` (CI keeping the cache, an owner building again) answers from
    the build memo: it reads no document and renders nothing, so it imports neither Jinja nor
    Markdown nor the stages that use them (their import was a sixth of such a build), nor
    importlib.metadata to learn the libraries' versions (a tenth)."""
    site = copy_site("basic")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1719000000"}
    first = subprocess.run([sys.executable, "-c", _NOTHING_TO_DO, str(site)], env=env,
                           capture_output=True, text=True, timeout=300)
    again = subprocess.run([sys.executable, "-c", _NOTHING_TO_DO, str(site)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    [code, first_modules], [code_again, modules] = (
        json.loads(done.stdout.strip().splitlines()[-1]) for done in (first, again))
    assert code == code_again == 0
    assert "0 written" in again.stdout or "0 written" in again.stderr
    stages = {"jinja2", "markdown", "feedgen", "lxml", "PIL", "storefront.parsing",
              "storefront.rendering", "storefront.plan", "storefront.images",
              "storefront.channels", "storefront.checks"}
    assert stages <= set(first_modules)  # the first build needed them all
    assert sorted((stages | {"importlib.metadata"}) & set(modules)) == []

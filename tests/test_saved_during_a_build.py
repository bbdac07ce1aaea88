"""A file saved while a build reads it, then saved back (an undo) before the next build.

A build hashes every file first and reads some of them later: the templates when it renders,
the stylesheets when it bundles them, the photos when it processes them. What it made from a
file saved in between was kept under the key of the bytes hashed before: in a session (the
preview) its Jinja environment and bundled stylesheets, in the cache the processed photos. Once
the owner saved the old bytes back, the next build found those keys again and showed the bytes
of the save in between, in the session and, for photos, in every later build sharing the cache.
Now that build fails, naming the file (the preview builds again by itself), and keeps nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from storefront.build import BuildRequest, BuildSession, build_site
from storefront.errors import BuildFailed
from storefront.site import BuildOptions
from support import extra_posts, tree_bytes

POST = "content/posts/2024-06-10-focaccia.md"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


def request(site: Path, output: Path, preview: bool, jobs: int = 1,
            **extra: object) -> BuildRequest:
    options = (BuildOptions(drafts=True, future=True, hashed_assets=False) if preview
               else BuildOptions())
    return BuildRequest(root=site, output=output, options=options, jobs=jobs,  # type: ignore[arg-type]
                        require_base_url=not preview, **extra)


def save_during_a_build(site: Path, tmp_path: Path, preview: bool, save: Callable[[str], None],
                        error: str, jobs: int = 1) -> None:
    """Build; save B; build while C is saved (after the build hashed the files, before it reads
    them): it fails with ``error``; save B back; build: the same bytes as a clean build."""
    armed: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if armed and stage == "reading" and done > 0:
            save(armed.pop())

    shown = {"shown": lambda final, changed: None} if preview else {}
    session = BuildSession(request(site, tmp_path / "live", preview, jobs), progress=progress)
    try:
        session.build(**shown)
        save("B")
        post = site / POST  # a post edited too, so that the build reads files (and says so)
        post.write_text(post.read_text(encoding="utf-8") + "\nUna riga.\n", encoding="utf-8")
        armed.append("C")
        with pytest.raises(BuildFailed) as failed:
            session.build(**shown)
        assert [e.format().splitlines()[0] for e in failed.value.errors] == [error]
        save("B")
        session.build(**shown)
    finally:
        session.close()
    clean = tmp_path / "clean"
    build_site(request(site, clean, preview, use_cache=False))
    assert tree_bytes(tmp_path / "live") == tree_bytes(clean)


@pytest.mark.parametrize("preview", [False, True], ids=["build", "preview"])
@pytest.mark.parametrize("kind", ["template", "stylesheet", "broken template"])
def test_a_theme_file_saved_during_a_build_then_back(copy_site, tmp_path, kind, preview) -> None:
    """"broken template": the bytes saved meanwhile are what fails the build (an undefined
    name), before the pages are all rendered; the undo must not keep failing."""
    site = copy_site("basic")
    theme = site / "themes/custom"
    (theme / "templates").mkdir(parents=True)
    (theme / "static/css").mkdir(parents=True)
    (theme / "theme.yaml").write_text(
        "name: custom\nextends: default\nstylesheets: [css/custom.css]\n", encoding="utf-8")
    template, stylesheet = theme / "templates/404.html", theme / "static/css/custom.css"
    template.write_text("<p>404 A</p>\n", encoding="utf-8")
    stylesheet.write_text(".x { color: #aaa }\n", encoding="utf-8")
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: custom\n", encoding="utf-8")
    target = stylesheet if kind == "stylesheet" else template

    def save(version: str) -> None:
        if kind == "broken template" and version == "C":
            target.write_text("<p>404 {{ nope }}</p>\n", encoding="utf-8")
            return
        target.write_text("<p>404 " + version + "</p>\n" if kind != "stylesheet"
                          else ".x { color: #" + version * 3 + " }\n", encoding="utf-8")

    save_during_a_build(site, tmp_path, preview, save,
                        f"themes/custom/{target.relative_to(theme).as_posix()}: "
                        "the file changed while the build was reading it")


@pytest.mark.parametrize("preview", [False, True], ids=["build", "preview"])
def test_a_photo_saved_during_a_build_then_back(copy_site, tmp_path, preview) -> None:
    site = copy_site("basic")
    photo = site / "content/assets/panettone.png"
    colours = {"B": (40, 160, 60), "C": (30, 60, 200)}

    def save(version: str) -> None:
        Image.new("RGB", (64, 40), colours[version]).save(photo, "PNG")

    save_during_a_build(site, tmp_path, preview, save,
                        "content/products/panettone.md:10: the image /assets/panettone.png "
                        "changed while the build was reading it")
    # a new session with the same cache (CI keeping it) finds no copy made from the other bytes
    kept = tmp_path / "kept"
    build_site(request(site, kept, preview))
    assert tree_bytes(kept) == tree_bytes(tmp_path / "clean")


def test_workers_of_a_session_do_not_keep_a_template_saved_during_a_build(copy_site, tmp_path,
                                                                          ) -> None:
    """The preview's workers live for the whole session (a fork server: it has threads), each
    with Jinja environments of its own: they are started again, not only the session's own
    environments dropped."""
    site = copy_site("basic")
    extra_posts(site, 60)
    theme = site / "themes/custom"
    (theme / "templates").mkdir(parents=True)
    (theme / "theme.yaml").write_text("name: custom\nextends: default\n", encoding="utf-8")
    template = theme / "templates/post.html"
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: custom\n", encoding="utf-8")

    def save(version: str) -> None:
        template.write_text('{% extends "default/post.html" %}{% block content %}<p class="mark">'
                            + version + "</p>{{ super() }}{% endblock %}\n", encoding="utf-8")

    save("A")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)  # as the preview's: workers from a fork server
    thread.start()
    try:
        save_during_a_build(site, tmp_path, True, save,
                            "themes/custom/templates/post.html: "
                            "the file changed while the build was reading it", jobs=2)
    finally:
        stop.set()
        thread.join()


def test_an_asset_saved_while_the_build_copies_it_then_back(copy_site, tmp_path) -> None:
    """A file published as it is (here an SVG, checked for scripts when it was read) was copied
    as it was when written, and recorded as the bytes the build had hashed: after an undo the
    output kept the other bytes for good, unchecked."""
    site = copy_site("basic")
    svg = site / "content/assets/pane.svg"
    original = svg.read_text(encoding="utf-8")

    def save(version: str) -> None:
        svg.write_text(original.replace("</svg>", f"<title>{version}</title></svg>"),
                       encoding="utf-8")

    save_during_a_build(site, tmp_path, False, save,
                        f"{svg}: the file changed while the build was reading it")

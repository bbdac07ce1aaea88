"""A preview save that changed only a post's text shows its pages before the site is planned
again (storefront.quicksave); every other save goes the usual way. Either way the build ends with
the output a clean build makes."""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path

import pytest

import storefront.build as build_module
from storefront import plan as plan_module
from storefront import quicksave as quicksave_module
from storefront.build import BuildRequest, BuildSession, build_site
from storefront.cache import store_page
from storefront.preview import PreviewBuilder
from storefront.site import BuildOptions
from support import tree_bytes

FOCACCIA = "content/posts/2024-06-10-focaccia.md"
FOCACCIA_PAGE = "blog/2024/06/focaccia/index.html"
FUTURO = "content/posts/2099-01-01-futuro.md"  # dated after the pinned clock: scheduled
PREVIEWED = BuildOptions(drafts=True, future=True, hashed_assets=False)  # as the preview builds


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719000000")


class Watch:
    """A preview-like session that notes, for its last build, when the pages were shown and
    whether the site had been planned by then."""

    def __init__(self, site: Path, output: Path, monkeypatch: pytest.MonkeyPatch,
                 options: BuildOptions | None = None) -> None:
        self.session = BuildSession(BuildRequest(root=site, output=output, jobs=1,
                                                 options=options or BuildOptions()))
        self.output = output
        self.events: list[str] = []  # planned, shown
        self.steps: list[str] = []  # the same, and when the site's files were listed
        self.shown_files: dict[str, bytes] = {}
        self.changed: list[tuple[str, ...]] = []
        real_plan = plan_module.Planner.plan

        def plan(planner: plan_module.Planner) -> list[object]:
            self.events.append("planned")
            self.steps.append("planned")
            return real_plan(planner)

        monkeypatch.setattr(plan_module.Planner, "plan", plan)
        real_discover = build_module.discover_sources

        def discover(*args: object) -> object:
            self.steps.append("listed")
            return real_discover(*args)

        monkeypatch.setattr(build_module, "discover_sources", discover)

    def build(self, saved: set[str] | None = None) -> None:
        """A preview build; ``saved``: the files the watcher named (site-relative here)."""
        self.events, self.changed, self.steps = [], [], []

        def shown(final: frozenset[str], changed: tuple[str, ...]) -> None:
            self.events.append("shown")
            self.steps.append("shown")
            self.changed.append(changed)
            self.shown_files = tree_bytes(self.output)

        root = self.session.request.root
        self.session.build(shown=shown, saved=None if saved is None else
                           frozenset(str(root / name) for name in saved))

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def watch(copy_site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    made = Watch(copy_site("basic"), tmp_path / "preview", monkeypatch)
    made.build()  # the first build of the session: the usual way
    assert made.events == ["planned", "shown"]
    yield made
    made.close()


def clean_build(site: Path, folder: Path, options: BuildOptions | None = None
                ) -> dict[str, bytes]:
    build_site(BuildRequest(root=site, output=folder, use_cache=False, jobs=1,
                            options=options or BuildOptions()))
    return tree_bytes(folder)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def child_theme(site: Path, templates: dict[str, str]) -> Path:
    """The theme ``custom`` (extending the default one) with these templates, in use; its
    templates folder."""
    folder = site / "themes/custom/templates"
    folder.mkdir(parents=True)
    (site / "themes/custom/theme.yaml").write_text("name: custom\nextends: default\n",
                                                   encoding="utf-8")
    for name, text in templates.items():
        (folder / name).write_text(text, encoding="utf-8")
    append(site / "storefront.yaml", "theme: custom\n")
    return folder


def test_a_post_s_new_text_is_shown_before_the_site_is_planned_again(watch: Watch,
                                                                     tmp_path: Path) -> None:
    site = watch.session.request.root
    append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
    watch.build()
    assert watch.events == ["shown", "planned"]  # told once, before the plan
    assert watch.changed == [(FOCACCIA_PAGE,)]
    assert b"Sfornata anche a mezzogiorno." in watch.shown_files[FOCACCIA_PAGE]
    clean = clean_build(site, tmp_path / "clean")
    assert watch.shown_files[FOCACCIA_PAGE] == clean[FOCACCIA_PAGE]  # as a clean build makes it
    assert tree_bytes(watch.output) == clean  # the rest (the feeds) made by the build after it

    append(site / FOCACCIA, "\nE la domenica.\n")  # and again: the next save is quick too
    watch.build()
    assert watch.events == ["shown", "planned"]
    assert tree_bytes(watch.output) == clean_build(site, tmp_path / "clean-2")


@pytest.mark.parametrize(("source", "page"), [
    ("content/products/colomba.md", "prodotti/colomba/index.html"),  # no summary
    ("content/products/pagnotta.md", "prodotti/pagnotta/index.html"),
    ("content/pages/contatti.md", "contatti/index.html"),  # no description
])
def test_a_product_s_or_a_page_s_new_text_is_shown_first_with_its_head_data_planned_again(
        watch: Watch, tmp_path: Path, source: str, page: str) -> None:
    """Their head data (the description, the product's structured data) reads their text when
    no summary or description is given: their own page is planned again, not just re-rendered."""
    site = watch.session.request.root
    # a paragraph after the first (the summary): a description taken from the text shows it
    append(site / source, "\nCotto a legna ogni mattina.\n")
    watch.build()
    assert watch.events == ["shown", "planned"]
    assert page in watch.changed[0]
    clean = clean_build(site, tmp_path / "clean")
    assert watch.shown_files[page] == clean[page]
    assert tree_bytes(watch.output) == clean
    if source != "content/products/pagnotta.md":  # its summary is its description
        head = clean[page].split(b"</head>")[0]
        assert b"Cotto a legna ogni mattina." in head  # the head data planned again


@pytest.mark.parametrize("edit", [
    "title", "link target", "alias", "a new post", "an FAQ answer", "the config", "the summary",
])
def test_other_saves_show_their_pages_once_everything_is_planned(watch: Watch, tmp_path: Path,
                                                                 edit: str) -> None:
    site = watch.session.request.root
    post = site / FOCACCIA
    text = post.read_text(encoding="utf-8")
    if edit == "title":  # the card: listings show it
        post.write_text(text.replace("title: La focaccia del mattino", "title: La focaccia"),
                        encoding="utf-8")
    elif edit == "link target":
        post.write_text(text.replace("](/chi-siamo/)", "](/blog/)"), encoding="utf-8")
    elif edit == "alias":  # redirects
        post.write_text(text.replace("/focaccia]", "/focaccia, /focaccia-calda]"),
                        encoding="utf-8")
    elif edit == "a new post":
        (site / "content/posts/2024-06-20-ciambella.md").write_text(
            "---\ntitle: La ciambella\ndate: 2024-06-20\n---\n\nMorbida.\n", encoding="utf-8")
    elif edit == "an FAQ answer":  # the FAQ page's structured data reads it
        answer = sorted((site / "content/faq").glob("*.md"))[0]
        append(answer, "\nAnche la domenica.\n")
    elif edit == "the config":
        config = site / "storefront.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace(
            "description: Pane e dolci", "description: Il pane e i dolci"), encoding="utf-8")
    else:  # its first paragraph, which listings show
        post.write_text(text.replace("esce dal forno", "esce calda dal forno"), encoding="utf-8")
    watch.build()
    assert watch.events[:2] == ["planned", "shown"] and watch.events.count("shown") == 1
    assert tree_bytes(watch.output) == clean_build(site, tmp_path / "clean")


def test_a_listing_that_shows_whole_posts_is_shown_with_the_new_text(copy_site, tmp_path: Path,
                                                                       monkeypatch) -> None:
    """A theme whose blog listing shows each post's whole text: the listing reads the post's
    body, so the quick save renders it too, with the new post in the tuple of its posts."""
    site = copy_site("basic")
    child_theme(site, {"blog.html": '{% extends "base.html" %}{% block content %}'
                                    "{% for post in posts %}<article>{{ post.content_html }}"
                                    "</article>{% endfor %}{% endblock %}"})
    watch = Watch(site, tmp_path / "preview", monkeypatch)
    try:
        watch.build()
        append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
        watch.build()
        assert watch.events == ["shown", "planned"]
        assert set(watch.changed[0]) == {FOCACCIA_PAGE, "blog/index.html"}
        assert b"Sfornata anche a mezzogiorno." in watch.shown_files["blog/index.html"]
        assert tree_bytes(watch.output) == clean_build(site, tmp_path / "clean")
    finally:
        watch.close()


def test_a_quick_save_that_fails_to_render_goes_the_usual_way_and_reports_the_line(
        watch: Watch) -> None:
    """A post whose new text the theme cannot show: nothing is shown early, and the build reports
    the problem as it always does, leaving the last good page."""
    site = watch.session.request.root
    before = (watch.output / FOCACCIA_PAGE).read_bytes()
    templates = child_theme(site, {})
    watch.build()  # another theme: the usual way
    assert watch.events == ["planned", "shown"]
    (templates / "post.html").write_text("{{ post.content_html|no_such_filter }}",
                                         encoding="utf-8")
    with pytest.raises(build_module.BuildFailed):
        watch.build()
    assert (watch.output / FOCACCIA_PAGE).read_bytes() == before
    (templates / "post.html").unlink()
    append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
    watch.build()  # the last good build is the one before the theme's mistake: the usual way
    assert watch.events == ["planned", "shown"]


def test_the_preview_tells_browsers_again_when_the_build_changes_more_than_the_quick_save(
        copy_site, tmp_path: Path, monkeypatch) -> None:
    """Should the build after a quick save change other files before its feeds, the browsers
    are told again (here the build is made to report one more changed file)."""
    real_after_quick = build_module._after_quick

    def telling_more(shown):
        def again(final, changed):
            shown(final, (*changed, "static/css/site.css"))
        real_after_quick(shown)
        return again

    monkeypatch.setattr(build_module, "_after_quick", telling_more)
    site = copy_site("basic")
    builder = PreviewBuilder(site, tmp_path / "preview", "http://127.0.0.1:8000/", True,
                             log=lambda line: None)
    try:
        builder.rebuild()
        builder.rebuild()  # nothing changed
        epoch = builder.epoch
        append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
        done = threading.Thread(target=builder.rebuild)
        done.start()
        done.join(60)
        assert not done.is_alive() and builder.errors == []
        assert builder.epoch == epoch + 2  # the quick save's pages, then the stylesheet
        assert builder.css_only
    finally:
        builder.close()


def test_a_scheduled_post_s_new_text_is_what_the_quick_save_shows(copy_site, tmp_path: Path,
                                                                  monkeypatch) -> None:
    """The preview shows scheduled posts: the site model's copy of one (``scheduled``) is what
    its page's task holds, not the document as parsed, and the quick save puts the new version
    in its place too (it showed the old text, and the build rewrote the page unannounced)."""
    site = copy_site("basic")
    post = site / FUTURO
    append(post, "\nPiù avanti.\n")  # a second paragraph: its summary is the first
    watch = Watch(site, tmp_path / "preview", monkeypatch, PREVIEWED)
    try:
        watch.build()
        post.write_text(post.read_text(encoding="utf-8").replace("Più avanti.",
                                                                 "Sfornato nel 2099."),
                        encoding="utf-8")
        watch.build()
        assert watch.events == ["shown", "planned"]
        clean = clean_build(site, tmp_path / "clean", PREVIEWED)
        page = next(path for path, data in clean.items()
                    if path.endswith("index.html") and b"Sfornato nel 2099." in data
                    and b"Dal futuro</h1>" in data)
        assert watch.changed == [(page,)]
        assert watch.shown_files[page] == clean[page]
        assert tree_bytes(watch.output) == clean
    finally:
        watch.close()


def test_a_page_the_build_makes_otherwise_than_the_quick_save_is_shown_again(
        watch: Watch, monkeypatch) -> None:
    """Should the build after a quick save make one of its pages otherwise (here the quick save
    is made to write other bytes), that page changed after the browsers were told: they are told
    again, the page being at its final bytes then."""
    real_render_quick = quicksave_module.render_quick

    def otherwise(state, tasks):
        made = real_render_quick(state, tasks)
        data = b"<!DOCTYPE html><p>not as the build makes it</p>"
        return [(path, store_page(state.page_folder, data), len(data)) for path, _, _ in made]

    monkeypatch.setattr(quicksave_module, "render_quick", otherwise)
    append(watch.session.request.root / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
    watch.build()
    assert watch.events == ["shown", "planned", "shown"]
    assert watch.changed == [(FOCACCIA_PAGE,), (FOCACCIA_PAGE,)]
    assert watch.shown_files[FOCACCIA_PAGE] == (watch.output / FOCACCIA_PAGE).read_bytes()
    assert b"Sfornata anche a mezzogiorno." in watch.shown_files[FOCACCIA_PAGE]


def test_a_browser_on_a_scheduled_post_is_not_left_with_its_old_text(copy_site, tmp_path: Path,
                                                                     monkeypatch) -> None:
    """One save changes the text of a published post and of a scheduled one (the preview shows
    it): the last time the browsers are told, the scheduled post's page is as the build leaves
    it (it was shown with its old text, then rewritten without a word)."""
    site = copy_site("basic")
    post = site / FUTURO
    append(post, "\nPiù avanti.\n")
    builder = PreviewBuilder(site, tmp_path / "preview", "http://127.0.0.1:8000/", True,
                             log=lambda line: None)
    told: list[bytes] = []
    try:
        builder.rebuild()
        page = next(path for path in (builder.output / "blog").rglob("index.html")
                    if b"Dal futuro</h1>" in path.read_bytes())
        real_announce = builder._announce

        def announce() -> None:
            told.append(page.read_bytes())
            real_announce()

        monkeypatch.setattr(builder, "_announce", announce)
        builder.load_pause = 0
        post.write_text(post.read_text(encoding="utf-8").replace("Più avanti.",
                                                                 "Sfornato nel 2099."),
                        encoding="utf-8")
        append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
        builder.rebuild()
        assert builder.errors == [] and told
        assert b"Sfornato nel 2099." in page.read_bytes()
        assert told[-1] == page.read_bytes()
    finally:
        builder.close()


def test_a_link_to_a_photo_made_into_the_photo_goes_the_usual_way(watch: Watch,
                                                                  tmp_path: Path) -> None:
    """The link and the photo have one target, but only a shown photo has resized copies: a
    quick save showed it as a bare <img> from the last build's catalogue, then the build wrote
    the <picture> and the browser reloaded a second time."""
    site = watch.session.request.root
    photo = site / "content/assets/forno.png"
    photo.write_bytes((site / "content/assets/panettone.png").read_bytes())
    post = site / FOCACCIA
    append(post, "\nScarica [la foto del forno](/assets/forno.png).\n")
    watch.build()
    post.write_text(post.read_text(encoding="utf-8").replace(
        "Scarica [la foto del forno]", "![La foto del forno]"), encoding="utf-8")
    watch.build()
    assert watch.events[:2] == ["planned", "shown"] and watch.events.count("shown") == 1
    clean = clean_build(site, tmp_path / "clean")
    assert b"<picture>" in clean[FOCACCIA_PAGE].split(b"La foto del forno")[0][-600:]
    assert watch.shown_files[FOCACCIA_PAGE] == clean[FOCACCIA_PAGE]
    assert tree_bytes(watch.output) == clean


# -- the files the preview's watcher names (BuildSession.build(saved=...)) ----------------------


def test_a_save_the_watcher_names_is_shown_before_the_site_s_files_are_listed(
        watch: Watch, tmp_path: Path) -> None:
    """The watcher named the post (and an editor's temporary file, come and gone): its page is
    shown before the site's files are listed, the config and the theme read; then the build
    goes on as always and ends with a clean build's output."""
    site = watch.session.request.root
    append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
    watch.build(saved={FOCACCIA, "content/posts/.focaccia.md.swp", "content/posts/4913"})
    assert watch.steps == ["shown", "listed", "planned"]
    assert watch.changed == [(FOCACCIA_PAGE,)]
    assert b"Sfornata anche a mezzogiorno." in watch.shown_files[FOCACCIA_PAGE]
    clean = clean_build(site, tmp_path / "clean")
    assert watch.shown_files[FOCACCIA_PAGE] == clean[FOCACCIA_PAGE]
    assert tree_bytes(watch.output) == clean

    append(site / FOCACCIA, "\nE la domenica.\n")  # the next one too
    watch.build(saved={FOCACCIA})
    assert watch.steps == ["shown", "listed", "planned"]
    assert tree_bytes(watch.output) == clean_build(site, tmp_path / "clean-2")


@pytest.mark.parametrize("named", [
    "the config", "a theme file", "a new post", "a deleted post", "a folder", "nothing changed",
    "a deleted theme file", "another spelling of a post's name",
])
def test_a_save_the_watcher_names_otherwise_goes_the_usual_way(watch: Watch, tmp_path: Path,
                                                                named: str) -> None:
    """Anything named besides the text of a known post, product or page (or a name that no
    longer exists nor was a file of the site) lists the site's files first, as every save did."""
    site = watch.session.request.root
    append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
    saved = {FOCACCIA}
    if named == "the config":
        config = site / "storefront.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace(
            "description: Pane e dolci", "description: Il pane e i dolci"), encoding="utf-8")
        saved.add("storefront.yaml")
    elif named == "a theme file":
        folder = site / "themes/custom"
        folder.mkdir(parents=True)
        (folder / "theme.yaml").write_text("name: custom\nextends: default\n", encoding="utf-8")
        saved.add("themes/custom/theme.yaml")
    elif named == "a new post":
        (site / "content/posts/2024-06-20-ciambella.md").write_text(
            "---\ntitle: La ciambella\ndate: 2024-06-20\n---\n\nMorbida.\n", encoding="utf-8")
        saved.add("content/posts/2024-06-20-ciambella.md")
    elif named == "a deleted post":
        other = next(p for p in sorted((site / "content/posts").glob("*.md"))
                     if p.name != Path(FOCACCIA).name)
        other.unlink()
        saved.add(other.relative_to(site).as_posix())
    elif named == "a folder":
        saved.add("content/assets")
    elif named == "a deleted theme file":  # neither there nor known: not a temporary file
        folder = child_theme(site, {"post.html": '{% extends "default/post.html" %}'
                                                 "{% block body_class %}page-post sua{% endblock %}"})
        watch.build()  # the base: a theme whose post.html the owner then deletes
        append(site / FOCACCIA, "\nE la domenica.\n")
        (folder / "post.html").unlink()
        saved.add("themes/custom/templates/post.html")
    elif named == "another spelling of a post's name":  # a copy made on a Mac: NFD, not NFC
        nfc = unicodedata.normalize("NFC", "content/posts/2024-06-12-caffè.md")
        head = "---\ntitle: Il caffè\ndate: 2024-06-12\n---\n\nCaffè del forno.\n\n"
        (site / nfc).write_text(head + "Secondo.\n", encoding="utf-8")
        watch.build()
        nfd = unicodedata.normalize("NFD", nfc)
        (site / nfd).write_text(head + "Dal Mac.\n", encoding="utf-8")  # the same card
        with pytest.raises(build_module.BuildFailed, match="two files have this name"):
            watch.build(saved={nfd})  # nothing shown before the build refuses the two names
        assert watch.steps == ["listed"]
        return
    else:
        (site / FOCACCIA).write_text((site / FOCACCIA).read_text(encoding="utf-8")
                                     .replace("\nSfornata anche a mezzogiorno.\n", ""),
                                     encoding="utf-8")
    watch.build(saved=saved)
    assert watch.steps[0] == "listed"
    assert tree_bytes(watch.output) == clean_build(site, tmp_path / "clean")


def test_a_change_the_watcher_missed_is_shown_when_the_build_finds_it(watch: Watch,
                                                                      tmp_path: Path) -> None:
    """The watcher named the post but not the config saved with it (an event lost): the quick
    save shows the post's page as the last config made it; the build then lists every file,
    makes the pages anew and tells the browsers again, ending as a clean build."""
    site = watch.session.request.root
    append(site / FOCACCIA, "\nSfornata anche a mezzogiorno.\n")
    config = site / "storefront.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "title: ", "title: Il forno · ", 1), encoding="utf-8")
    watch.build(saved={FOCACCIA})
    assert watch.steps == ["shown", "listed", "planned", "shown"]
    clean = clean_build(site, tmp_path / "clean")
    assert watch.shown_files[FOCACCIA_PAGE] == clean[FOCACCIA_PAGE]  # shown again, as made
    assert tree_bytes(watch.output) == clean


def test_a_save_undone_while_its_build_runs_ends_as_a_clean_build(watch: Watch,
                                                                  tmp_path: Path) -> None:
    """The owner undoes a save just after its quick save showed the page: the build reads the
    old text, finds the page the quick save wrote (not as the manifest says), writes it back and
    tells the browsers again."""
    site = watch.session.request.root
    watch.build()  # a second build: the session trusts its folder's manifest
    post = site / FOCACCIA
    original = post.read_text(encoding="utf-8")
    append(post, "\nSfornata anche a mezzogiorno.\n")
    told: list[tuple[str, ...]] = []

    def shown(final: frozenset[str], changed: tuple[str, ...]) -> None:
        told.append(changed)
        if len(told) == 1:
            post.write_text(original, encoding="utf-8")  # undone

    watch.session.build(shown=shown, saved=frozenset({str(post)}))
    assert told == [(FOCACCIA_PAGE,), (FOCACCIA_PAGE,)]
    assert not watch.session.repair_needed
    assert tree_bytes(watch.output) == clean_build(site, tmp_path / "clean")


@pytest.mark.parametrize("breakage", ["the config", "a stray file"])
def test_a_build_that_fails_reading_the_site_leaves_no_quick_save_behind(
        copy_site, tmp_path: Path, monkeypatch, breakage: str) -> None:
    """A build that fails before it plans (a config that does not read, a file in the wrong
    place) keeps the last good pages; the next save, the site still failing, shows no page
    made from the last good build's config over the problems."""
    site = copy_site("basic")
    builder = PreviewBuilder(site, tmp_path / "preview", "http://127.0.0.1:8000/", True,
                             log=lambda line: None)
    builder.load_pause = 0
    try:
        builder.rebuild()
        broken = (site / "storefront.yaml" if breakage == "the config"
                  else site / "content/posts/appunti.txt")
        broken.write_text(broken.read_text(encoding="utf-8") + "title: [rotto\n"
                          if breakage == "the config" else "da fare", encoding="utf-8")
        builder.rebuild(frozenset({str(broken)}))
        assert builder.errors
        page = builder.output / FOCACCIA_PAGE
        before = page.read_bytes()
        told_with: list[list[str]] = []
        real_announce = builder._announce

        def announce() -> None:
            told_with.append(list(builder.errors))
            real_announce()

        monkeypatch.setattr(builder, "_announce", announce)
        append(site / FOCACCIA, "\nSfornata a mezzogiorno.\n")
        builder.rebuild(frozenset({str(site / FOCACCIA)}))
        assert told_with and all(told_with)  # every time with the problems
        assert page.read_bytes() == before
    finally:
        builder.close()


def test_a_template_the_quick_save_loaded_is_forgotten_with_its_file(copy_site, tmp_path: Path,
                                                                     monkeypatch) -> None:
    """A template made while the watcher did not say so (its event comes later): the quick save
    renders with the environment kept for the theme as it was, which loads the new file; once
    the file is deleted again, the theme is as it was, and its environment must not still hold
    the deleted file."""
    from storefront.environment import forget_environments

    forget_environments()
    site = copy_site("basic")
    templates = child_theme(site, {"post.html": '{% extends "default/post.html" %}'
                                                "{% block body_class %}page-post {% include "
                                                '"extra.html" ignore missing %}{% endblock %}'})
    watch = Watch(site, tmp_path / "preview", monkeypatch, PREVIEWED)
    try:
        watch.build()
        append(site / FOCACCIA, "\nSfornata a mezzogiorno.\n")
        extra = templates / "extra.html"
        extra.write_text("EXTRA-MARK", encoding="utf-8")  # not named in this save
        watch.build(saved={FOCACCIA})
        watch.build(saved={"themes/custom/templates/extra.html"})
        extra.unlink()
        watch.build(saved={"themes/custom/templates/extra.html"})
        clean = clean_build(site, tmp_path / "clean", PREVIEWED)
        assert b"EXTRA-MARK" not in clean[FOCACCIA_PAGE]
        assert tree_bytes(watch.output) == clean
    finally:
        watch.close()

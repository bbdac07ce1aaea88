"""Build a site: the pipeline, one stage after another, with the cache between them.

``BuildSession.build`` runs: config → discover → (nothing changed? done) → parse (cached,
parallel) → site model → images (processed once, cached, parallel) → plan (every output) → check
→ render (only what changed, parallel) → write (only what changed). A command-line build uses a
session once; the preview keeps one alive, so parsed documents, output records and the worker
processes stay in memory between saves. Each stage is a function of its own module; this one only
wires them, one method per stage.
"""

from __future__ import annotations

import dataclasses
import os
import time
import zoneinfo
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storefront.cache import (
    COMPILED,
    COMPILED_SWEEP_MEMO,
    DATABASE,
    PAGES_SWEEP_MEMO,
    BuildCache,
    OutputRecord,
)
from storefront.codec import encode
from storefront.config import CONFIG_NAME, SiteConfig
from storefront.errors import BuildFailed, ContentError, error_at, line_of_key
from storefront.fingerprints import Fingerprinter, code_fingerprint, digest, site_fingerprint
from storefront.imagelibs import installed_stamp
from storefront.interrupts import held
from storefront.memo import BuildMemo, inputs_digest, manifest_digest, next_change, strongest_clock
from storefront.moves import Address, addresses, alias_suggestions, moved
from storefront.output import (
    MANIFEST,
    WRITING,
    Entry,
    WriteItem,
    WriteReport,
    interrupted_write,
    manifest_identity,
    manifest_intact,
    read_manifest,
    unchanged_in,
    write_site,
    write_some,
)
from storefront.request import (
    BuildReport,
    BuildRequest,
    Progress,
    build_time,
    check_output_folder,
    effective_config,
)
from storefront.sources import SourceFile, StatCache, discover_sources
from storefront.staging import Staging
from storefront.theme import Theme, load_strings, resolve_theme_chain, theme_files
from storefront.trust import FolderTrust
from storefront.urls import UrlBuilder, safe_relative_path
from storefront.workers import Background, WorkerPool

# The stages past the whole-build shortcut are imported by the methods that run them: a build
# with nothing to do (CI keeping the cache, a second `storefront build`) reads no document and
# renders nothing, and their modules' import (some 70 data classes made) was a sixth of its time.
if TYPE_CHECKING:
    from storefront.bodystore import BodyStore
    from storefront.bundle import AssetsMemo
    from storefront.channels import ChannelPlan
    from storefront.documents import Document
    from storefront.images import ImageMemo, ImageResult
    from storefront.outputs import OutputPlan
    from storefront.parsing import Hashes, ParsedSite
    from storefront.presentation import Presentation
    from storefront.quicksave import QuickBase
    from storefront.rendering import PageMemo, RenderState
    from storefront.site import SiteModel
    from storefront.templateimages import TemplateImage


@dataclass(frozen=True)
class _Inputs:
    """What one build starts from: the config, the clock, the theme and the files."""

    config: SiteConfig
    urls: UrlBuilder
    now: datetime
    chain: tuple[Theme, ...]
    sources: tuple[SourceFile, ...]
    output: Path  # resolved
    variant: str  # what the output records depend on besides the files: base URL, options
    digest: str  # of everything the build reads, for the whole-build shortcut
    theme_key: str  # storefront's code and every theme file
    theme_files: tuple[tuple[str, str], ...]  # (label path, SHA-256) of every theme file


@dataclass(frozen=True)
class _Planned:
    parsed: ParsedSite
    local: list[Document]
    model: SiteModel
    strings: dict[str, str]
    plan: OutputPlan
    channels: ChannelPlan  # feeds and redirects, with their own problems
    paths: tuple[str, ...]  # output path of each planned output
    identity: Callable[[str], str]  # what each template name resolves to
    presentation: Presentation  # the answers of asset_url(), image() and closures()
    warnings: list[ContentError]
    advice: list[ContentError]  # among the warnings, those --strict leaves warnings (see checks)
    left_out: tuple[str, ...]
    images: ImageResult
    config_text: str
    template_images: tuple[TemplateImage, ...]  # the photos the templates name


Shown = Callable[[frozenset[str], tuple[str, ...]], None]
"""``shown(final, changed)``: the files at ``final`` (output paths) are as this build leaves
them, ``changed`` of them were written or deleted; the rest (the feeds) is being made."""


class BuildSession:
    """Builds one site, once or again and again, remembering what it can between builds."""

    def __init__(self, request: BuildRequest, progress: Progress | None = None,
                 settle: Callable[[], None] | None = None) -> None:
        self.request = request
        self.progress = progress
        # called after the stages that make long-lived data (see storefront.heap.settle)
        self._settle = settle or (lambda: None)
        self.pool = WorkerPool(request.jobs)
        self._cache: BuildCache | None = None
        self.memory: dict[str, tuple[str, Document, Hashes]] = {}  # path -> key, document, hashes
        self.serial = int(time.time())
        self._discarded_reported = 0
        self._start_afresh()
        self._addresses: dict[str, dict[str, Address]] = {}  # variant -> where documents were
        self._moves: dict[str, dict[str, str]] = {}  # variant -> source -> old address, no alias
        self._checked: dict[tuple[str, str], bool] = {}  # (path, sha256) -> output holds it
        self._staged: dict[str, Entry] = {}  # this build's pages put in a staging folder
        self._manifest_read: dict[str, Entry] | None = None  # this build's, read once
        self._manifest_seen: tuple[Any, ...] | None = None  # which file that was (its identity)
        self._plan_memo: tuple[str, dict[Any, Any]] = ("", {})  # site fingerprint, head data
        self._assets: AssetsMemo | None = None  # the theme's static files (made again when a
        # theme file changes)
        self._document_hashes: dict[str, tuple[Any, ...]] = {}  # see Fingerprinter(known=)
        self._config_memo: list[Any] = []  # the last config text read, and its config
        self._bodies: BodyStore | None = None  # the posts' bodies (see storefront.bodystore)
        self._quick: dict[str, QuickBase] = {}  # variant -> its last preview build (quicksave)
        self._last_state: RenderState | None = None  # what the last build rendered with

    @property
    def cache(self) -> BuildCache:
        """Opened once the build has passed its first checks, so a refused build leaves no cache."""
        if self._cache is None:
            self._cache = BuildCache(self.request.cache_folder, code_fingerprint())
        return self._cache

    @property
    def bodies(self) -> BodyStore:
        """Opened with the session's first parse, before any worker that renders is forked (they
        read it too); it outlives the cache folder it is made in (the file has no name)."""
        from storefront.bodystore import BodyStore

        if self._bodies is None:
            self._bodies = BodyStore(self.cache.folder)
        return self._bodies

    def _compiled(self) -> str:
        """The cache's folder of compiled templates (:mod:`storefront.bytecode`); none with
        ``--no-cache``, whose cache is thrown away."""
        return str(self.cache.folder / COMPILED) if self.cache.persistent else ""

    def _start_afresh(self) -> None:
        """Forget what this session knows of its build cache (see :meth:`_check_cache`); the
        parsed documents stay (they are keyed by the files' digests)."""
        self._cache = None
        self.records: dict[str, dict[str, OutputRecord]] = {}  # variant -> path -> record
        self.stats = StatCache()  # a session reads only the files whose stat changed
        self._stats_loaded = False  # from the cache of an earlier build (once per session)
        self.page_memos: dict[str, PageMemo] = {}  # variant -> what its last build's pages were
        self._pending_memo: PageMemo | None = None
        self._previous: dict[str, OutputRecord] = {}
        # the last image stage, answered again when nothing changed
        self._image_memo: ImageMemo | None = None
        self.trust = FolderTrust()  # what a preview save takes on trust (see storefront.trust)

    def _check_cache(self) -> None:
        """Start afresh when the cache this session opened was deleted meanwhile (by hand while
        the preview runs: ``storefront clean`` is refused then): its records name rendered pages
        and processed images that are gone, and workers could no longer open its database, so
        every later build failed."""
        if self._cache is not None and self._cache.vanished():
            self._cache.close()
            self._start_afresh()
            self._quick.clear()  # its pages' bytes went with the cache

    def close(self) -> None:
        self.pool.close()
        if self._cache is not None:
            self._cache.close()
        if self._bodies is not None:
            self._bodies.close()

    def build(self, warm: bool = False, shown: Shown | None = None,
              saved: AbstractSet[str] | None = None) -> BuildReport:
        """One build; raises :class:`BuildFailed` with every problem, leaving the output as it was
        (but see ``shown``).

        ``warm`` skips the whole-build memo: the site is read into this session's memory even
        when nothing changed (the preview does it once after a start the memo answered, so that
        the owner's first save costs what later ones do).

        ``shown`` (the preview's) is told as soon as every page is in place, before the feeds
        are made and written (see :data:`Shown`); a build that fails before it is told writes
        nothing, as always; one that fails after (a feed that cannot be written) leaves the new
        pages and the old feeds, and the next build starts from what is there.

        ``saved`` (the preview's, with ``shown``): the files its watcher saw change since the
        last build began (absolute paths), so a quick save can show its pages before the site's
        files are listed again (see :meth:`_early_quick_save`).
        """
        started = time.perf_counter()
        self._check_cache()
        self._manifest_read = None
        early: tuple[frozenset[str], str] | None = None  # its pages, its base's theme key
        try:
            if shown is not None and saved is not None:
                early = self._early_quick_save(saved, shown)
            inputs = self._inputs()
        except BaseException:
            # no quick save from a base older than a build that failed (a config that does not
            # read, a stray file): it would show pages of the last good site over the problems;
            # and the pages an early one wrote are looked at, not taken on the manifest's word
            self._quick.clear()
            self.trust.known = None
            raise
        if early is not None and inputs.theme_key != early[1]:
            # the early render loaded templates of the theme as it is (a file the watcher did
            # not name) into the environment kept under the base's theme key
            from storefront.environment import forget_environments
            from storefront.stringkeys import forget_answers

            forget_environments()
            forget_answers()
        self._settle()
        self.trust.begin(inputs.output, preview=shown is not None)
        if early is not None:  # its pages are not as the manifest says (partly written)
            self.trust.distrust(early[0])
        memo_key = digest(inputs.variant, str(inputs.output))
        memo = BuildMemo.from_json(self.cache.memo(memo_key) or "")
        # the folder must hold what that build wrote: another build into it (--drafts, another
        # --base-url: another variant, with a memo of its own) leaves another manifest
        if (not warm and early is None and memo is not None
                and memo.still_valid(inputs.digest, inputs.now,
                                     _manifest_digest(self._manifest(inputs.output)))
                and manifest_intact(inputs.output, self._manifest(inputs.output))
                and not interrupted_write(inputs.output)):  # its write stage sweeps
            self.trust.known_now(inputs.output)  # every file it lists was just found in place
            self._save_stats()
            return self._report(started, memo, parsed=0, rendered=0, written=(0, memo.files, 0),
                                notices=self._notices(inputs.variant))
        preview = shown is not None
        base = self._quick.pop(inputs.variant, None)  # made again if this build succeeds
        quick = early[0] if early is not None else (
            self._quick_save(inputs, base, shown)
            if shown is not None and base is not None else None)
        if shown is not None and quick is not None:
            shown = _after_quick(shown)
        base = None
        staging: Staging | None = None
        try:
            try:  # the stages that read the theme's files
                planned = self._plan(inputs)
                self._check(inputs, planned)
                # a first build (no output folder at all) is made beside it and moved into place
                # whole (the path as given: a link there, even a broken one, is not replaced)
                given = self.request.output_dir.absolute()
                staging = (Staging.begin(given) if shown is None and not os.path.lexists(given)
                           and self._stageable(planned) else None)
                records, rendered, make_rest = self._render(inputs, planned, staging,
                                                            shown is None)
            except Exception:
                self._check_theme_unchanged(inputs)  # a save meanwhile may be what failed it
                raise
            self._check_theme_unchanged(inputs)
            report = self._write(inputs, planned, records, make_rest, shown, staging)
        except BaseException:
            if staging is not None:  # Ctrl-C, a bug: no worker may still be staging a page
                self.pool.close()
            raise
        finally:
            if staging is not None:
                staging.discard()
        self.trust.known_now(inputs.output)
        self.serial += 1
        if self.cache.persistent:  # a throwaway cache (--no-cache) is not read again: the
            # session keeps the records in memory (3,349 rows were 0.1 s at the end of a build)
            self.cache.save_outputs(inputs.variant, records, self.serial, self._previous)
            # the half-written pages of a build that was killed (see storefront.cache)
            swept_at = int(time.time())
            self.cache.sweep_temporary_files(self.cache.pages, PAGES_SWEEP_MEMO, swept_at)
            self.cache.sweep_temporary_files(self.cache.folder / COMPILED, COMPILED_SWEEP_MEMO,
                                             swept_at, flat=True)
        self.records[inputs.variant] = records
        assert self._pending_memo is not None  # made by the render stage
        self.page_memos[inputs.variant] = self._pending_memo
        if preview and self._last_state is not None:
            self._quick[inputs.variant] = self._quick_base(inputs, planned, records,
                                                           self._last_state)
        self._last_state = None
        self.cache.forget_documents(s.path for s in inputs.sources)
        clock = strongest_clock([r.deps.clock for r in records.values()])
        memo = BuildMemo(
            inputs.digest, next_change(planned.model.next_change, clock, inputs.now),
            planned.channels.recheck, clock, inputs.now.date(),
            len(planned.plan.tasks), len(planned.plan.outputs), tuple(planned.warnings),
            planned.left_out, _manifest_digest(read_manifest(inputs.output)), inputs.now)
        self.cache.save_memo(memo_key, memo.to_json())
        self._save_stats()
        now = addresses(planned.model.published(), inputs.urls.base_path)
        before = self._addresses.get(inputs.variant)
        self._addresses[inputs.variant] = now
        self._moves[inputs.variant] = moved(before or now, now, self._moves.get(inputs.variant, {}))
        return self._report(started, memo, planned.parsed.parsed, rendered,
                            (report.written, report.unchanged, report.deleted), report.changed,
                            self._notices(inputs.variant), planned.images.processed)

    # -- the stages ------------------------------------------------------------------------------

    def _inputs(self) -> _Inputs:
        """Config, output folder, clock, theme chain and content files (read and hashed)."""
        request = self.request
        # the folders first: a database "inside the output folder" means little when the output
        # folder is the site itself
        check_output_folder(request.root, request.output_dir, request.cache_folder)
        config = effective_config(request, self._config_memo)
        zone = zoneinfo.ZoneInfo(config.timezone)
        now = (request.now or build_time(zone)).astimezone(zone)  # its day is the site's day
        chain = resolve_theme_chain(request.root, config.theme)
        self._stage("reading", 0, 1)
        self._load_stats()
        sources = discover_sources(request.root, self.stats)
        output = request.output_dir.resolve()
        options = repr(request.options)
        themes = theme_files(chain, self.stats)
        # the photo libraries too: after an upgrade, a clean build would encode other bytes
        code = digest(code_fingerprint(), installed_stamp() or "")
        everything = inputs_digest(
            code, repr(encode(config)), options, output, themes,
            [(source.path, source.digest) for source in sources])
        theme_key = digest(code_fingerprint(), *(f"{path} {sha}" for path, sha in themes))
        return _Inputs(config, UrlBuilder.from_base_url(config.base_url), now, chain, sources,
                       output, digest(config.base_url, options), everything, theme_key,
                       tuple(themes))

    def _check_theme_unchanged(self, inputs: _Inputs) -> None:
        """Fail the build (before it writes anything) when a theme file changed since the build
        hashed it: the templates compiled and the stylesheets bundled meanwhile may hold the new
        bytes under the old hashes' key, and a session that kept them (its Jinja environments,
        its workers' too, its bundled assets, its string-key warnings) would show them again once
        the owner saves the old bytes back (an undo). Called once the pages are rendered, and
        when the build fails before (the new bytes may be what failed it). What the session
        kept is dropped, its workers too; the preview builds again by itself (it saw the save)."""
        from storefront.environment import forget_environments
        from storefront.stringkeys import forget_answers

        now = theme_files(inputs.chain, self.stats)
        if now == list(inputs.theme_files):
            return
        forget_environments()
        forget_answers()
        self._assets = None
        self.pool.close()  # its workers keep environments of their own: new ones are started
        before = dict(inputs.theme_files)
        changed = sorted({path for path, sha in now if before.pop(path, None) != sha} | set(before))
        raise BuildFailed([error_at(path, 0, "the file changed while the build was reading it",
                                    "build again (the preview does so by itself)")
                           for path in changed])

    @staticmethod
    def _shape(inputs: _Inputs) -> tuple[Any, ...]:
        """What a preview build depends on besides the content files (see QuickBase.shape); the
        theme key covers storefront's code and every theme file."""
        return (inputs.config, inputs.theme_key, inputs.variant, str(inputs.output),
                inputs.urls.base_path)

    def _quick_save(self, inputs: _Inputs, base: QuickBase, shown: Shown) -> frozenset[str] | None:
        """A save that changed only the text of a post, a product or a page shows its pages now,
        before the site is planned again (see :mod:`storefront.quicksave`): the output paths
        written and shown, or None when the save goes the usual way."""
        from storefront.quicksave import changed_documents

        if inputs.urls.base_path != "/":  # the documents as parsed are not those planned
            return None
        changed = changed_documents(base, self._shape(inputs), inputs.now, inputs.sources)
        if changed is None:
            return None
        return self._show_quick(base, inputs.config,
                                [source for source in inputs.sources if source.path in changed],
                                inputs.now, shown)

    def _early_quick_save(self, saved: AbstractSet[str], shown: Shown
                          ) -> tuple[frozenset[str], str] | None:
        """:meth:`_quick_save` before the site's files are listed, config and theme read: the
        saved documents are those the watcher named (:func:`storefront.quicksave.saved_sources`).
        At 1,000 posts that listing was 20 ms of the 50 before the browsers were told. The
        build then goes on as always; a page it makes otherwise (the watcher missed an event)
        is written and shown again. The pages written and the theme key of the base they were
        rendered with, or None."""
        from storefront.quicksave import saved_sources

        if len(self._quick) != 1:  # one variant: the preview's (its base URL, its options)
            return None
        base = next(iter(self._quick.values()))
        config = base.shape[0]
        if not isinstance(config, SiteConfig) or base.shape[-1] != "/":
            return None  # the pages show the moment, or the site has a base path
        zone = zoneinfo.ZoneInfo(config.timezone)
        now = (self.request.now or build_time(zone)).astimezone(zone)  # as _inputs makes it
        sources = saved_sources(base, str(self.request.root), saved, now, self.stats)
        made = None if sources is None else self._show_quick(base, config, sources, now, shown)
        return None if made is None else (made, base.shape[1])

    def _show_quick(self, base: QuickBase, config: SiteConfig, sources: list[SourceFile],
                    now: datetime, shown: Shown) -> frozenset[str] | None:
        """Parse the changed documents' ``sources``, render and write the pages that read their
        bodies, tell ``shown``: the output paths written and shown, or None (the usual way)."""
        from storefront.parsing import parse_sources
        from storefront.quicksave import quick_tasks, render_quick
        from storefront.reader import ReaderSettings

        changed = [source.path for source in sources]
        parsed = parse_sources(sources, ReaderSettings.of(config), self.cache, self.memory,
                               self.pool, None, self.bodies, partial=True)
        if parsed.errors:
            return None
        tasks = quick_tasks(base, {d.source: d for d in parsed.documents}, parsed.hashes, changed,
                            now)
        made = render_quick(base.state, tasks) if tasks is not None else None
        if not made:
            return None
        report = write_some(self.request.output_dir, [
            WriteItem(path, sha, size, file=self.cache.page_path(sha), link=True)
            for path, sha, size in made])
        shown(base.final, report.changed)
        return frozenset(path for path, _, _ in made)

    def _quick_base(self, inputs: _Inputs, planned: _Planned, records: dict[str, OutputRecord],
                    state: RenderState) -> QuickBase:
        """What the next save may show its pages from (see :mod:`storefront.quicksave`)."""
        from storefront.plan import Planner
        from storefront.quicksave import QuickBase

        outputs = planned.plan.outputs
        moment = any(record.deps.clock == "moment" for record in records.values())
        return QuickBase(
            self._shape(inputs) if not moment else ("the pages show the moment",), inputs.now,
            planned.model.next_change,
            tuple((source.path, source.kind, source.digest) for source in inputs.sources),
            {source.path: os.path.abspath(str(source.file)) for source in inputs.sources},
            # as the site model holds them (a scheduled post, a product on sale: copies): the
            # tasks' own
            {**{document.source: document for document in planned.local},
             **{post.source: post for post in planned.model.posts},
             **{product.source: product for product in planned.model.products}},
            planned.parsed.hashes,
            {path: output.task for output, path in zip(outputs, planned.paths, strict=True)
             if output.kind == "page" and output.task >= 0},
            frozenset(path for output, path in zip(outputs, planned.paths, strict=True)
                      if output.kind != "feed"),
            state, records, self.request.options,
            Planner(planned.model, inputs.config, inputs.urls, planned.strings,
                    self._plan_memo[1], planned.images.catalog).own_page)

    def _load_stats(self) -> None:
        """Start from what the last build saved of the files' stats, if a cache is there (a
        first build, or one with ``--no-cache``, reads and hashes every file)."""
        self.stats.begin()
        folder = self.request.cache_folder
        if not self._stats_loaded and folder is not None and (folder / DATABASE).is_file():
            self.stats.load(self.cache.file_stats())
        self._stats_loaded = True

    def _save_stats(self) -> None:
        if self.cache.persistent:
            self.cache.save_file_stats(*self.stats.unsaved())

    def _plan(self, inputs: _Inputs) -> _Planned:
        """Parse (what changed), build the site model, process the images and plan every output."""
        from storefront.bundle import AssetsMemo
        from storefront.channels import plan_channels
        from storefront.checks import (
            image_warnings,
            left_out_summary,
            robots_warnings,
            unnamed_link_warnings,
            unpublished_reasons,
        )
        from storefront.environment import make_environment
        from storefront.imagecache import ImageStore
        from storefront.images import ImageMemo, ImageStage
        from storefront.localize import localize
        from storefront.outputs import output_path, plan_outputs
        from storefront.parsing import parse_sources
        from storefront.plan import Planner
        from storefront.presentation import Presentation
        from storefront.reader import ReaderSettings
        from storefront.rendering import precompile_templates, template_identity
        from storefront.site import build_model
        from storefront.stringkeys import mistyped_string_keys
        from storefront.templateimages import template_images

        config, urls = inputs.config, inputs.urls
        self._checked = {}
        early: dict[str, tuple[TemplateImage, ...]] = {}

        def meanwhile() -> None:  # while the workers parse: what needs no document
            early["named"] = template_images(inputs.chain, self.cache)
            precompile_templates(inputs.chain, inputs.theme_key, config, self._compiled())

        parsed = parse_sources(inputs.sources, ReaderSettings.of(config), self.cache, self.memory,
                               self.pool, lambda done, total: self._stage("reading", done, total),
                               self.bodies, meanwhile)
        if parsed.errors:
            raise BuildFailed(parsed.errors)
        local = [localize(document, urls) for document in parsed.documents]
        model = build_model(local, config, urls, self.request.options, inputs.now)
        self._settle()
        config_text = (self.request.root / CONFIG_NAME).read_text("utf-8")
        assets = [s for s in inputs.sources if s.kind == "assets"]
        named = early["named"] if "named" in early else template_images(inputs.chain, self.cache)
        if self._image_memo is None:
            self._image_memo = ImageMemo()
        images = ImageStage(config, urls, ImageStore(self.cache), self.pool, self._held(inputs.output),
                            lambda done, total: self._stage("images", done, total),
                            ).run(assets, model.published(), config_text, self._image_memo, named)
        catalog = images.catalog
        strings = load_strings(inputs.chain, config.language)
        # head data shows share cards: the plan's memo holds while the images stay the same too
        site = digest(site_fingerprint(config, strings, model.nav, self.request.options),
                      catalog.fingerprint)
        if self._plan_memo[0] != site or len(self._plan_memo[1]) > 4 * len(local) + 1000:
            self._plan_memo = (site, {})
        tasks = Planner(model, config, urls, strings, self._plan_memo[1], catalog).plan()
        channels = plan_channels(model, config, urls, strings, inputs.now, catalog.fallback_url)
        if self._assets is None:
            self._assets = AssetsMemo()
        static = self._assets.get(inputs.chain, inputs.theme_files, inputs.theme_key,
                                  self.request.options.hashed_assets)
        plan = plan_outputs(tasks, (*channels.outputs, *images.outputs), channels.pages, urls,
                            static.outputs, [s for s in assets if s.path in images.copied])
        reasons = unpublished_reasons(local, model, inputs.now)
        warnings = sorted([*image_warnings(model), *unnamed_link_warnings(model.published()),
                           *images.warnings,
                           *mistyped_string_keys(inputs.chain, config.language, inputs.theme_key)],
                          key=ContentError.sort_key)
        advice = robots_warnings(urls, 0 if self.request.base_url is not None
                                 else line_of_key(config_text, "base_url"))
        presentation = Presentation.of(static.names, urls, model.closures, config.effective_locale,
                                       catalog)
        self._settle()
        return _Planned(parsed, local, model, strings, plan, channels,
                        tuple(output_path(o, urls) or "" for o in plan.outputs),
                        template_identity(make_environment(inputs.chain)), presentation,
                        [*warnings, *channels.warnings, *advice], advice,
                        left_out_summary(reasons), images,
                        config_text, named)

    def _held(self, output: Path) -> Callable[[str, str], bool]:
        """``held(path, sha256)``: the output folder holds exactly these bytes at ``path`` (as its
        manifest says; each file looked at once per build, the answer kept for the write)."""
        manifest = self._manifest(output)

        def held(path: str, sha256: str) -> bool:
            known = self._checked.get((path, sha256))
            if known is None:
                known = self._checked[path, sha256] = self.trust.in_place(output, manifest, path,
                                                                          sha256)
            return known

        return held

    @property
    def repair_needed(self) -> bool:
        """A file the last build took on trust was not in place: build again, trusting none."""
        return self.trust.repair_needed

    def _manifest(self, output: Path) -> dict[str, Entry]:
        """The output folder's manifest as this build found it, parsed once (nothing writes it
        before the write stage, which reads it again under its lock); read-only for the caller."""
        if self._manifest_read is None:
            self._manifest_seen = manifest_identity(output)  # before: a newer one is another file
            self._manifest_read = read_manifest(output)
        return self._manifest_read

    def _check(self, inputs: _Inputs, planned: _Planned) -> None:
        """Every whole-site problem at once: collisions, links, menu, forms' pages, templates."""
        from storefront.channels import check_aliases
        from storefront.checks import (
            LinkTargets,
            check_config_image,
            check_config_links,
            check_links,
            check_repeats,
            check_template_images,
            missing_templates,
            served_elsewhere,
            unpublished_reasons,
        )
        from storefront.plan import check_collisions

        config, urls, model, plan = inputs.config, inputs.urls, planned.model, planned.plan
        # storefront's own files in the output folder are taken too (an alias or a permalink
        # /.storefront-manifest.json/ would make a folder of one)
        claims = [*plan.claims, (urls.url(MANIFEST), "storefront's manifest"),
                  (urls.url(WRITING), "storefront's mark of a build writing")]
        by_source = {document.source: document for document in planned.local}
        problems = check_collisions(claims, urls, line_of_key(planned.config_text, "permalinks"),
                                    by_source)
        problems += check_aliases(planned.channels, claims, urls)
        problems += planned.channels.errors
        reasons = unpublished_reasons(planned.local, model, inputs.now)
        # every asset is a target, also a photo that could not be processed (reported as such)
        known = plan.known | {urls.url(f"/assets/{s.asset_path}") for s in inputs.sources
                              if s.kind == "assets"}
        # only what is published is checked: a draft waiting for its photo must not block a build
        targets = LinkTargets(known, reasons, served_elsewhere(config, urls))
        assert self._image_memo is not None  # made by the plan stage
        problems += check_links(model.published(), targets, urls, self._image_memo.uses)
        problems += check_repeats(model.published())
        problems += check_template_images(planned.template_images, targets, urls)
        problems += check_config_image(config, planned.config_text, targets, urls)
        problems += planned.images.errors
        problems += check_config_links(config, planned.config_text, plan.pages, urls)
        problems += missing_templates(plan.tasks, lambda name: planned.identity(name) != "missing",
                                      by_source)
        if self.request.options.strict:
            problems += [w for w in planned.warnings if w not in planned.advice]
        if problems:
            raise BuildFailed(problems)

    @staticmethod
    def _stageable(planned: _Planned) -> bool:
        """Whether every planned path is safe to put in a staging folder as it is rendered (the
        write stage would refuse the build otherwise, and says why)."""
        try:
            for path in planned.paths:
                safe_relative_path(path)
        except ValueError:
            return False
        return True

    def _render(self, inputs: _Inputs, planned: _Planned, staging: Staging | None = None,
                early_feeds: bool = False,
                ) -> tuple[dict[str, OutputRecord], int, Callable[[], None]]:
        """Render the pages whose inputs changed: every page's record, how many pages were
        rendered, and the function that then makes the feeds whose inputs changed (adding their
        records), which the write stage calls once the pages are in place. With ``staging``,
        each rendered page is also put in the staging folder (see :mod:`storefront.staging`);
        ``early_feeds``: a first build may make the feeds while the pages render."""
        from storefront.deps import page_exists_in
        from storefront.rendering import (
            LazyMapping,
            RenderState,
            compile_templates,
            forget_renderer,
            make_feeds,
            render_pages,
            select_pages,
        )

        config, urls, model = inputs.config, inputs.urls, planned.model
        previous = self.records.get(inputs.variant)
        if previous is None:
            previous = self.cache.outputs(inputs.variant)
        self._previous = previous  # what save_outputs compares with
        self._settle()
        manifest = self._manifest(inputs.output)

        def available(path: str, record: OutputRecord) -> bool:
            held = self._checked[path, record.sha256] = self.trust.in_place(
                inputs.output, manifest, path, record.sha256)
            return held or self.cache.read_page(record.sha256) is not None

        site = site_fingerprint(config, planned.strings, model.nav, self.request.options)
        if len(self._document_hashes) > 2 * len(planned.local) + 100:
            self._document_hashes.clear()  # documents deleted or renamed meanwhile
        fingerprints = Fingerprinter(
            site, model.published(), planned.parsed.hashes, urls.base_path, planned.identity,
            {"page_exists": page_exists_in(planned.plan.pages, urls),
             **planned.presentation.answers()}, inputs.now, known=self._document_hashes)

        def deferrable() -> dict[str, str]:
            stored = self.cache.stored_keys()
            return {path: key for path, (key, _, _) in self.memory.items()
                    if stored.get(path) == key}

        state = RenderState(inputs.chain, config, planned.strings, model.nav, inputs.now,
                            planned.plan.pages, planned.plan.tasks, self.cache.pages,
                            inputs.theme_key,
                            str(self.cache.folder / DATABASE), LazyMapping(deferrable),
                            planned.presentation, compiled=self._compiled())
        outputs = planned.plan.outputs
        page_paths = [planned.paths[i] for i, o in enumerate(outputs) if o.kind == "page"]
        self._staged = {}
        if staging is not None:
            state = dataclasses.replace(state, staging=str(staging.folder), paths=tuple(page_paths),
                                        keep_pages=self.cache.persistent)
        self._last_state = state

        def feeds() -> dict[str, OutputRecord]:
            return make_feeds(outputs, planned.paths, previous, fingerprints, available,
                              self.cache.pages)

        selection = select_pages(state, previous, page_paths, fingerprints, available,
                                 self.page_memos.get(inputs.variant))
        parallel = self.pool.parallel(len(selection.todo))
        if parallel:
            compile_templates(state)  # this process renders too; forked workers inherit them
            # where it can, workers are forked holding it: nothing is sent
            self.pool.share(state, before_fork=forget_renderer)
        # A first build makes its feeds while the workers render (this process mostly waits for
        # them meanwhile), instead of after them with a core idle. Not in the preview: it shows
        # the pages before it makes the feeds.
        early = Background(feeds, self.pool) if early_feeds and not previous and parallel else None
        try:
            records, errors, memo = render_pages(
                state, selection, page_paths, fingerprints, self.pool,
                lambda done, total: self._stage("rendering", done, total), self._staged)
        finally:
            # held: the feeds' thread writes pages into the cache; stopped (Ctrl-C, SIGTERM)
            # while this waited for it, the process ended with a half-written page there
            with held():
                made = early.result() if early is not None else None
        self.pool.forget_states()
        if errors:
            raise BuildFailed(errors)
        self._pending_memo = memo  # kept only if the build succeeds

        def make_rest() -> None:
            records.update(made if made is not None else feeds())

        return records, len(selection.todo), make_rest

    def _write(self, inputs: _Inputs, planned: _Planned, records: dict[str, OutputRecord],
               make_rest: Callable[[], None], shown: Shown | None,
               staging: Staging | None = None) -> WriteReport:
        """Write what changed into the output folder: with ``shown``, every file but the feeds
        first, then tell ``shown``, then make the feeds (``make_rest``) and write them. With
        ``staging``, the rest of the site is written there and the folder moved into place."""
        self._stage("writing", 0, 1)
        if shown is None:
            make_rest()
            if staging is not None:
                # only what is still there counts as staged (the rest is written now)
                self._staged = {path: entry for path, entry in self._staged.items()
                                if unchanged_in(staging.folder, self._staged, path, entry[0])}
            # the folder holding the only copy of the pages a throwaway cache does not keep (see
            # RenderState.keep_pages): copied from there if it cannot be moved into place
            only_copy = (staging.folder if staging is not None and not self.cache.persistent
                         else None)
            if only_copy is not None:
                self._render_unstaged(records)
            items = self._items(planned, records, staged=only_copy)
            if staging is not None:
                report = write_site(staging.folder, items, staged=self._staged)
                if staging.publish():
                    staged = [item.path for item in items if item.path in self._staged]
                    return WriteReport(report.written + len(staged),
                                       report.unchanged - len(staged), 0,
                                       (*staged, *report.changed))
            return write_site(self.request.output_dir, items, self._checked,
                              seen=self._manifest_seen)
        pages = self._items(planned, records, feeds=False)
        # what is final once the first part is written: every planned path but the feeds'
        final = frozenset(item.path for item in pages)
        first = [item for item in pages if not self._checked.get((item.path, item.sha256))]

        def rest() -> list[WriteItem]:
            make_rest()
            everything = [*pages, *self._items(planned, records, pages=False)]
            self.trust.verify(inputs.output, self._manifest(inputs.output),
                              ((item.path, item.sha256) for item in everything))
            return everything

        return write_site(self.request.output_dir, rest, self._checked, first,
                          lambda report: shown(final, report.changed), seen=self._manifest_seen)

    def _render_unstaged(self, records: dict[str, OutputRecord]) -> None:
        """Render again, into the build cache, the pages whose only copy was staged and is gone
        from the staging folder (a build in another container that shares the folder took it for
        abandoned): the write stage then writes them from there. Rendering is deterministic; a
        page that renders otherwise now fails the build rather than being written."""
        from storefront.rendering import render_chunk

        state = self._last_state
        assert state is not None
        missing = [index for index, path in enumerate(state.paths) if path not in self._staged]
        if not missing:
            return
        again = dataclasses.replace(state, staging="", paths=(), keep_pages=True)
        for outcome in render_chunk(again, missing):
            task = state.tasks[outcome.index]
            if outcome.errors or outcome.sha256 != records[state.paths[outcome.index]].sha256:
                raise BuildFailed([error_at(task.source, 0, f"{task.url} changed during the build",
                                            "build again")])

    def _items(self, planned: _Planned, records: dict[str, OutputRecord],
               feeds: bool = True, pages: bool = True, staged: Path | None = None
               ) -> list[WriteItem]:
        """What to write: the feeds and (``pages``) every other output; the pages' bytes are in
        the build cache, or in the folder ``staged`` (checked as they are copied)."""
        items: list[WriteItem] = []
        for output, path in zip(planned.plan.outputs, planned.paths, strict=True):
            if not (feeds if output.kind == "feed" else pages):
                continue
            if output.kind == "page" and staged is not None and path in self._staged:
                record = records[path]
                items.append(WriteItem(path, record.sha256, record.size, file=staged / path))
            elif output.kind in ("page", "feed"):
                record = records[path]
                items.append(WriteItem(path, record.sha256, record.size,
                                       file=self.cache.page_path(record.sha256), link=True))
            elif output.kind == "data":
                assert output.data is not None
                items.append(WriteItem(path, output.sha256, len(output.data), data=output.data))
            elif output.kind == "image":  # the build cache's own copy, checked: a link will do
                assert output.file is not None
                items.append(WriteItem(path, output.sha256, output.size, file=output.file,
                                       link=True))
            else:
                assert output.file is not None
                items.append(WriteItem(path, output.sha256, output.file.stat().st_size,
                                       file=output.file))
        return items

    # -- reporting -------------------------------------------------------------------------------

    def _report(self, started: float, memo: BuildMemo, parsed: int, rendered: int,
                written: tuple[int, int, int], changed: tuple[str, ...] = (),
                notices: tuple[str, ...] = (), images: int = 0) -> BuildReport:
        return BuildReport(
            pages=memo.pages, files=memo.files, written=written[0], unchanged=written[1],
            deleted=written[2], seconds=time.perf_counter() - started,
            next_change=memo.valid_until, warnings=memo.warnings, output=self.request.output_dir,
            left_out=memo.left_out, rendered=rendered, parsed=parsed,
            cache_discarded=self._newly_discarded(), changed=changed, notices=notices,
            images=images)

    def _notices(self, variant: str) -> tuple[str, ...]:
        """Advice for the owner: the aliases that moved documents still need."""
        return tuple(alias_suggestions(self._moves.get(variant, {}),
                                       self._addresses.get(variant, {})))

    def _newly_discarded(self) -> int:
        """Cache entries found damaged or foreign since the last report."""
        count = self.cache.discarded - self._discarded_reported
        self._discarded_reported = self.cache.discarded
        return count

    def _stage(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def _after_quick(shown: Shown) -> Shown:
    """``shown`` for the rest of a build whose quick save showed its pages: told again only when
    the build changed files before its feeds (it should not). A page the quick save wrote counts
    too: the build finds it unchanged when it makes the same bytes, so one it changed is a page
    the browsers were shown otherwise, and must load again."""

    def again(final: frozenset[str], changed: tuple[str, ...]) -> None:
        if changed:
            shown(final, changed)

    return again


def _manifest_digest(manifest: dict[str, Entry]) -> str:
    """The digest of an output folder's manifest: its (path, SHA-256) pairs (see memo)."""
    return manifest_digest((path, entry[0]) for path, entry in manifest.items())


def build_site(request: BuildRequest, progress: Progress | None = None,
               settle: Callable[[], None] | None = None) -> BuildReport:
    """Build ``request.root`` into its output folder (one build, then the session ends).

    Never prints and never exits: returns a :class:`BuildReport` or raises
    :class:`~storefront.errors.BuildFailed` with every problem found, leaving the output as it
    was. ``settle`` is called after each stage that makes long-lived data: a process that ends
    with the build passes :func:`storefront.heap.settle` (see there).
    """
    session = BuildSession(request, progress, settle)
    try:
        return session.build()
    finally:
        session.close()


__all__ = ["BuildReport", "BuildRequest", "BuildSession", "build_site"]

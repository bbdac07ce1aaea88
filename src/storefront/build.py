"""Build a site: the pipeline, one stage after another, with the cache between them.

``BuildSession.build`` runs: config → discover → parse (cached, parallel) → site model → plan
(every output) → checks → render (only what changed, parallel) → write (only what changed). A
command-line build uses a session once; the preview keeps one alive, so parsed documents, output
records and the worker processes stay in memory between saves. Each stage is a function of its own
module; this one only wires them and decides what each stage gets.
"""

from __future__ import annotations

import time
import zoneinfo

from storefront.cache import BuildCache, OutputRecord, store_page
from storefront.checks import (
    LinkTargets,
    check_config_links,
    check_links,
    image_warnings,
    left_out_summary,
    missing_templates,
    unpublished_reasons,
)
from storefront.config import CONFIG_NAME
from storefront.deps import page_exists_in
from storefront.documents import Document
from storefront.errors import BuildFailed
from storefront.fingerprints import Fingerprinter, code_fingerprint, digest, site_fingerprint
from storefront.localize import localize
from storefront.output import WriteItem, read_manifest, unchanged_in, write_site
from storefront.outputs import Output, collect_static, output_path, plan_outputs
from storefront.parsing import Hashes, parse_sources
from storefront.plan import Planner, check_collisions
from storefront.reader import ReaderSettings
from storefront.rendering import RenderState, render_pages, template_identity
from storefront.request import (
    BuildReport,
    BuildRequest,
    Progress,
    build_time,
    check_output_folder,
    effective_config,
)
from storefront.site import build_model
from storefront.sources import discover_sources
from storefront.theme import load_strings, make_environment, resolve_theme_chain
from storefront.urls import UrlBuilder
from storefront.workers import WorkerPool


class BuildSession:
    """Builds one site, once or again and again, remembering what it can between builds."""

    def __init__(self, request: BuildRequest, progress: Progress | None = None) -> None:
        self.request = request
        self.progress = progress
        self.pool = WorkerPool(request.jobs)
        self._cache: BuildCache | None = None
        self.memory: dict[str, tuple[str, Document, Hashes]] = {}  # path -> key, document, hashes
        self.records: dict[str, dict[str, OutputRecord]] = {}  # variant -> path -> record
        self.serial = int(time.time())
        self._discarded_reported = 0

    @property
    def cache(self) -> BuildCache:
        """Opened once the build has passed its first checks, so a refused build leaves no cache."""
        if self._cache is None:
            self._cache = BuildCache(self.request.cache_folder, code_fingerprint())
        return self._cache

    def close(self) -> None:
        self.pool.close()
        if self._cache is not None:
            self._cache.close()

    def build(self) -> BuildReport:
        """One build; raises :class:`BuildFailed` with every problem, leaving the output as it was."""
        started = time.perf_counter()
        request = self.request
        config = effective_config(request)
        output = request.output_dir
        check_output_folder(request.root, output)
        zone = zoneinfo.ZoneInfo(config.timezone)
        now = request.now or build_time(zone)
        urls = UrlBuilder.from_base_url(config.base_url)
        chain = resolve_theme_chain(request.root, config.theme)
        strings = load_strings(chain, config.language)
        self._stage("reading", 0, 1)
        sources = discover_sources(request.root)
        parsed = parse_sources(sources, ReaderSettings.of(config), self.cache, self.memory,
                               self.pool)
        if parsed.errors:
            raise BuildFailed(parsed.errors)
        local = [localize(document, urls) for document in parsed.documents]
        model = build_model(local, config, urls, request.options, now)
        tasks = Planner(model, config, urls, strings).plan()
        plan = plan_outputs(tasks, model, config, urls, collect_static(chain),
                            [s for s in sources if s.kind == "assets"])
        paths = tuple(output_path(o, urls) or "" for o in plan.outputs)

        env = make_environment(chain)
        identity = template_identity(env)
        problems = check_collisions(plan.claims, urls)
        reasons = unpublished_reasons(local, model, now)
        # only what is published is checked: a draft waiting for its photo must not block a build
        problems += check_links(model.published(), LinkTargets(plan.known, reasons), urls)
        problems += check_config_links(config, (request.root / CONFIG_NAME).read_text("utf-8"),
                                       plan.pages, urls)
        problems += missing_templates(tasks, lambda name: identity(name) != "missing",
                                      {d.source: d for d in local})
        warnings = image_warnings(model)
        if request.options.strict:
            problems += warnings
        if problems:
            raise BuildFailed(problems)

        site = site_fingerprint(config, strings, model.nav, request.options)
        variant = digest(config.base_url, repr(request.options))  # not the output: CI may move it
        records = self.records.get(variant)
        if records is None:
            records = self.cache.outputs(variant)
        manifest = read_manifest(output.resolve())
        root = output.resolve()

        def available(path: str, record: OutputRecord) -> bool:
            return (unchanged_in(root, manifest, path, record.sha256)
                    or self.cache.read_page(record.sha256) is not None)

        pages_urls = plan.pages
        fingerprints = Fingerprinter(site, model.published(), parsed.hashes, urls.base_path, identity,
                                     {"page_exists": page_exists_in(pages_urls, urls)}, now)
        state = RenderState(chain, config, strings, model.nav, now, pages_urls, tuple(tasks),
                            self.cache.pages)
        page_paths = [paths[i] for i, o in enumerate(plan.outputs) if o.kind == "page"]
        new_records, rendered, render_errors = render_pages(
            state, records, page_paths, fingerprints, available, self.pool,
            lambda done, total: self._stage("rendering", done, total))
        self.pool.forget_states()
        if render_errors:
            raise BuildFailed(render_errors)
        items = self._write_items(plan.outputs, paths, new_records, records, fingerprints,
                                  available)
        self._stage("writing", 0, 1)
        report = write_site(output, items)
        self.serial += 1
        self.cache.save_outputs(variant, new_records, self.serial, records)
        self.records[variant] = new_records
        self.cache.forget_documents(s.path for s in sources)
        return BuildReport(
            pages=len(tasks), files=len(items), written=report.written,
            unchanged=report.unchanged, deleted=report.deleted,
            seconds=time.perf_counter() - started, next_change=model.next_change,
            warnings=tuple(warnings), output=output, left_out=left_out_summary(reasons),
            rendered=len(rendered), parsed=parsed.parsed,
            cache_discarded=self._newly_discarded(), changed=report.changed,
        )

    def _write_items(self, outputs: tuple[Output, ...], paths: tuple[str, ...],
                     records: dict[str, OutputRecord], previous: dict[str, OutputRecord],
                     fingerprints: Fingerprinter, available: object) -> list[WriteItem]:
        """What the write stage gets: every output's path, hash and where its bytes are."""
        assert callable(available)
        items: list[WriteItem] = []
        for output, path in zip(outputs, paths, strict=True):
            if output.kind == "page":
                record = records[path]
                items.append(WriteItem(path, record.sha256, record.size,
                                       file=self.cache.page_path(record.sha256)))
            elif output.kind == "feed":
                assert output.make is not None
                fingerprint = fingerprints.inputs(f"feed {path}", output.inputs)
                known = previous.get(path)
                if known is None or known.fingerprint != fingerprint or not available(path, known):
                    data = output.make()
                    known = OutputRecord(fingerprint, store_page(self.cache.pages, data), len(data))
                record = records[path] = known
                items.append(WriteItem(path, record.sha256, record.size,
                                       file=self.cache.page_path(record.sha256)))
            elif output.kind == "data":
                assert output.data is not None
                items.append(WriteItem(path, output.sha256, len(output.data), data=output.data))
            else:
                assert output.file is not None
                items.append(WriteItem(path, output.sha256, output.file.stat().st_size,
                                       file=output.file))
        return items

    def _newly_discarded(self) -> int:
        """Cache entries found damaged or foreign since the last report."""
        count = self.cache.discarded - self._discarded_reported
        self._discarded_reported = self.cache.discarded
        return count

    def _stage(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def build_site(request: BuildRequest, progress: Progress | None = None) -> BuildReport:
    """Build ``request.root`` into its output folder (one build, then the session ends).

    Never prints and never exits: returns a :class:`BuildReport` or raises
    :class:`~storefront.errors.BuildFailed` with every problem found, leaving the output as it
    was.
    """
    session = BuildSession(request, progress)
    try:
        return session.build()
    finally:
        session.close()


__all__ = ["BuildReport", "BuildRequest", "BuildSession", "build_site"]

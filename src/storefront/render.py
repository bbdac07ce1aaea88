"""Render planned pages with Jinja and turn template problems into owner-readable errors.

Stage 5b. Reads templates through the theme's Jinja environment; writes nothing. A template
syntax error or a runtime error inside a template is reported as
``themes/x/templates/name.html:LINE: message`` instead of a traceback, in the owner's words
(:mod:`storefront.templateerrors`, :mod:`storefront.templatefilters`,
:mod:`storefront.templateloops`, :mod:`storefront.templateundefined`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import jinja2
from markupsafe import Markup, escape

from storefront.bytecode import signed_cache
from storefront.config import SiteConfig
from storefront.deps import (
    DependencyRecord,
    TrackedNow,
    as_views,
    current,
    page_exists_in,
    recording,
    tracked,
)
from storefront.environment import forget_modules, make_environment
from storefront.errors import BuildFailed, ContentError, error_at
from storefront.fingerprints import code_fingerprint
from storefront.formatting import Formatter, digits, isodate, phone_href, urlencode
from storefront.formconfig import HONEYPOT_FIELD, TOKEN_FIELD
from storefront.markdown import render_inline
from storefront.picture import ImageInfo, PageImages, picture_html, rewrite_images
from storefront.plan import RenderTask
from storefront.presentation import Presentation, map_url
from storefront.site import NavItem
from storefront.templateblocks import block_problems
from storefront.templateerrors import explain, template_place, unknown_filter_or_test
from storefront.templateloops import extends_loop
from storefront.theme import Theme, Translator, missing_template_hint, template_label
from storefront.urls import UrlBuilder


@dataclass(frozen=True)
class CurrentNavItem:
    """A menu entry as templates see it: with whether it is the current page."""

    title: str
    url: str
    current: bool


def template_environment(chain: tuple[Theme, ...], theme_key: str, config: SiteConfig,
                         urls: UrlBuilder, compiled: str = "") -> jinja2.Environment:
    """The theme's Jinja environment with storefront's filters (a template naming a filter
    compiles only where the filter is known). One per theme state: compiled templates survive
    between a session's builds, and templates compiled before a :class:`Renderer` exists are
    the ones it renders with. ``compiled``: the cache's folder of compiled templates, if any
    (see :func:`storefront.environment.make_environment`)."""
    kept = signed_cache(Path(compiled), code_fingerprint()) if compiled else None
    # kept by theme state and by the cache it keeps its templates in, never another site's
    key = f"{theme_key}\x00{compiled if kept is not None else ''}" if theme_key else ""
    env = make_environment(chain, key, reuse=bool(key), kept=kept)
    formatter = Formatter(config.effective_locale, config.timezone)
    env.filters.update(
        date=_never_folded(formatter.date), price=_never_folded(formatter.price),
        abs_url=_never_folded(urls.absolute), country=_never_folded(formatter.country),
        isodate=isodate, digits=digits, phone_href=phone_href,
        urlencode=urlencode,  # Jinja's, the same text, faster for a string
        markdown_inline=lambda text: Markup(render_inline(str(text))),  # noqa: S704 - owner text
    )
    return env


def _never_folded(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that answers from the site's config (its locale, time zone, base URL).

    Jinja calls a filter whose arguments are constants (``{{ "/logo.png"|abs_url }}``) while it
    compiles the template, and keeps the answer in the compiled code; the environment and the
    compiled templates outlive a config (a preview session's, the cache's signed store), so a
    template compiled for another base URL or locale showed that one's. Jinja never calls a
    filter that takes the context while compiling."""

    @jinja2.pass_context
    @functools.wraps(function, updated=())  # what a call that does not fit it is told it takes
    def filtered(_context: jinja2.runtime.Context, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return filtered


class Renderer:
    """Renders :class:`RenderTask` objects to HTML bytes."""

    def __init__(self, chain: tuple[Theme, ...], config: SiteConfig, urls: UrlBuilder,
                 strings: dict[str, str], nav: tuple[NavItem, ...], build_time: datetime,
                 pages: frozenset[str] = frozenset(), theme_key: str = "",
                 presentation: Presentation | None = None, compiled: str = "") -> None:
        self.chain = chain
        self.sizes = config.images.sizes
        self.page_images = PageImages()  # the images of the page being rendered, counted
        self.nav = nav
        self.home = urls.url("/")
        self.env = template_environment(chain, theme_key, config, urls, compiled)
        self.env.globals.update(
            site=config, t=Translator(strings, config.language, chain), url=urls.url,
            feeds={"rss": urls.url("/feed.xml"), "atom": urls.url("/atom.xml"),
                   "json": urls.url("/feed.json")},
            honeypot_field=HONEYPOT_FIELD, token_field=TOKEN_FIELD,
            build_time=TrackedNow.of(build_time), lang=config.language,
            page_exists=tracked("page_exists", page_exists_in(pages, urls)),
            shared=self.shared, map_url=map_url(config.business), picture=self.picture,
            **(presentation or Presentation()).template_globals(),
        )
        forget_modules(self.env)  # a reused environment's imported modules hold old globals
        # tracked: a page records the images it shows
        self.image = cast("Callable[[str], ImageInfo | None]", self.env.globals["image"])
        self._shared: dict[str, tuple[Markup, DependencyRecord, int]] = {}

    def load(self, users: dict[str, list[tuple[str, int]]]) -> list[ContentError]:
        """Compile the templates that will be used; return every problem found.

        ``users`` maps each template name to the (source, line) places that ask for it, so a
        missing template is blamed on the page that named it.
        """
        errors: list[ContentError] = []
        for name in sorted(users):
            try:
                self.env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                errors.append(self._syntax_error(exc))
            except jinja2.TemplateNotFound as exc:
                pages = [use for use in users[name] if use[0].startswith("content/")]
                for source, line in pages or [("<theme>", 0)]:
                    errors.append(error_at(
                        source, line, f'template "{exc.name}" not found in the theme',
                        "check the template: field of the page, or add the file to your theme"))
        return errors

    def shared(self, name: str, **values: Any) -> Markup:
        """A fragment that is the same on many pages (the footer), rendered once per build.

        It sees only the globals and ``values``, never the page, so it cannot differ between pages
        that pass the same values (but for its images, see below); its dependencies count for
        every page that shows it.
        """
        # The first image of a page is loaded at once (see picture()): a fragment's images are
        # the first or not as the page showed none or some before it, so the fragment is kept
        # once for each case, never as the first page that happened to render it left it.
        page = self.page_images
        shown_before = min(page.count, 1)
        key = name + repr(sorted(values.items())) + f" {shown_before}"
        found = self._shared.get(key)
        if found is None:
            self.page_images = PageImages(shown_before)
            try:
                with recording() as recorder:
                    html = Markup(self.env.get_template(name).render(values))  # noqa: S704 - autoescaped
                shown = self.page_images.count - shown_before
            finally:
                self.page_images = page
            found = self._shared[key] = (html, recorder.snapshot(), shown)
        page.count += found[2]  # the fragment's images count for the rest of the page
        outer = current()
        if outer is not None:
            outer.add(found[1])
        return found[0]

    def picture(self, path: str, alt: str = "", sizes: str = "100vw", max_width: int | None = None,
                class_: str = "", eager: bool | None = None) -> Markup:
        """``<picture>`` markup for a site image (a plain ``<img>`` for one without copies).

        ``sizes`` says how wide the image shows (the browser picks the copy from it),
        ``max_width`` leaves out larger copies (cards, thumbnails). The first image of a page is
        fetched at once and first, the others lazily (see :mod:`storefront.picture`); ``eager``
        overrides that rule for one image.
        """
        first = self.page_images.next_is_first()
        info = self.image(path) if path else None
        attributes = f' class="{escape(class_)}"' if class_ else ""
        return Markup(picture_html(  # noqa: S704 - built from escaped values
            info, str(path), str(escape(alt)), sizes, first if eager is None else eager, max_width,
            attributes))

    def _rewrite(self, html: Any) -> Markup:
        """The owner's HTML with its images as ``<picture>`` (see :mod:`storefront.picture`)."""
        return rewrite_images(str(html), self.image, self.sizes, self.page_images)

    def render(self, task: RenderTask) -> tuple[bytes, DependencyRecord]:
        """Render one page and record what it read. Raise :class:`BuildFailed` on failure."""
        nav = tuple(CurrentNavItem(item.title, item.url, _is_current(item.url, task.url, self.home))
                    for item in self.nav)
        self.page_images = PageImages()
        context: dict[str, Any] = {"page": task.meta, "nav": nav,
                                   **as_views(task.context, self._rewrite)}
        try:
            with recording() as recorder:
                template = self.env.get_template(task.template)
                misplaced = block_problems(self.chain, self.env, task.template)
                if misplaced:
                    raise BuildFailed([error_at(label, line, message, hint)
                                       for (label, line), message, hint in misplaced])
                data = template.render(context).encode("utf-8")
            return data, recorder.snapshot()
        except jinja2.TemplateSyntaxError as exc:
            raise BuildFailed([self._syntax_error(exc)]) from None
        except jinja2.TemplateNotFound as exc:
            raise BuildFailed([self._not_found(exc, task)]) from None
        except RecursionError:
            raise BuildFailed([self._endless(task)]) from None
        except BuildFailed:
            raise
        except Exception as exc:  # any error raised while a template runs is the template's
            raise BuildFailed([self._runtime_error(exc, task)]) from None

    def _syntax_error(self, exc: jinja2.TemplateSyntaxError) -> ContentError:
        label = template_label(self.chain, exc.filename)
        no_such = unknown_filter_or_test(exc.message or "", self.env)
        if no_such is not None:  # the template's words are right, the name is not
            return error_at(label, exc.lineno or 0, *no_such)
        return error_at(label, exc.lineno or 0, f"template syntax error: {exc.message}")

    def _not_found(self, exc: jinja2.TemplateNotFound, task: RenderTask) -> ContentError:
        """A template that ``{% extends %}``, ``{% include %}`` or ``{% import %}`` names a
        template the theme lacks: blamed on that line, once (not on every page that uses it)."""
        label, line = template_place(self.chain, sys.exc_info()[2])
        if label == "<template>":  # the page's own template (checked before rendering)
            return error_at(task.source, 0, f'template "{exc.name}" not found')
        return error_at(label, line, f'template "{exc.name}" not found in the theme',
                        missing_template_hint(self.chain, str(exc.name)))

    def _runtime_error(self, exc: Exception, task: RenderTask) -> ContentError:
        tb = sys.exc_info()[2]
        explained = explain(exc, tb, self.chain, self.env)
        if explained is not None:
            (label, line), message, hint = explained
        else:
            label, line = template_place(self.chain, tb)
            message = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
            hint = "; ".join(getattr(exc, "__notes__", ()))  # a hint storefront added
        return error_at(label, line, f"{message} (while rendering {task.url} from {task.source})",
                        hint)

    def _endless(self, task: RenderTask) -> ContentError:
        """Jinja ran out of Python's stack: templates that extend each other (blamed once, on the
        loop's first ``{% extends %}``), or a macro or an include that calls itself."""
        loop = extends_loop(self.chain, self.env, task.template)
        if loop is not None:
            (label, line), message, hint = loop
            return error_at(label, line, message, hint)
        label, line = template_place(self.chain, sys.exc_info()[2])
        return error_at(label, line, "a macro or a template here calls itself without end (while "
                        f"rendering {task.url} from {task.source})",
                        "a macro may call itself, or a template include itself, only under an "
                        "{% if %} that stops")


def _is_current(item_url: str, page_url: str, home: str) -> bool:
    """The menu entry is the page itself or a section that contains it (not the home page)."""
    if item_url == page_url:
        return True
    return item_url != home and item_url.endswith("/") and page_url.startswith(item_url)

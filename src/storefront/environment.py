"""The Jinja environment over a theme chain: strict, autoescaped, recording, and fast to reuse.

Lookup goes through the chain (most specific theme first), and every theme is also addressable by
its name as a prefix. Each template looked up is recorded for the page being rendered
(:mod:`storefront.deps`). A preview session reuses one environment while the theme's files stay
the same, and a build compiles its templates once, before it forks its workers (see
:func:`compile_all`). Compiled templates kept on disk between builds are signed with a key of the
user's that is never in the cache (:mod:`storefront.bytecode`): unsigned, they would be Python code
that a build runs, and a cache restored in CI from elsewhere could run anything. A few of Jinja's
paths that run tens of thousands of times a build (a template lookup, a call from a template,
a global read, an import without context) are replaced by ones that do the same with less work.
"""

from __future__ import annotations

import functools
from collections import ChainMap
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from storefront.theme import Theme

if TYPE_CHECKING:
    import jinja2


def make_environment(chain: tuple[Theme, ...], key: str = "", reuse: bool = False,
                     kept: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """A Jinja environment over the chain: autoescape on, undefined variables are errors.

    It records every template a page looks up, found or missing
    (:func:`storefront.deps.record_template`). Templates are read once per environment (no reload
    checks). With ``reuse``, the environment of an earlier call with the same chain and ``key``
    (which must then cover storefront's code and the theme files) is given again, compiled
    templates included: a preview session does not compile its templates on every save, and
    workers forked after :func:`compile_all` inherit them. With ``kept`` (see
    :func:`storefront.bytecode.signed_cache`), compiled templates are also kept between builds,
    signed with a key of the user's. Jinja is imported here, so a build with nothing to
    render never loads it.
    """
    memo_key = (tuple(str(theme.path) for theme in chain), key)
    if reuse and memo_key in _ENVIRONMENTS:
        return _ENVIRONMENTS[memo_key]
    import jinja2

    from storefront.templateundefined import owner_undefined

    by_order = jinja2.FileSystemLoader([str(theme.templates) for theme in chain])
    by_prefix = jinja2.PrefixLoader(
        {theme.name: jinja2.FileSystemLoader(str(theme.templates)) for theme in chain}
    )
    environment_class: Any = _tracking_environment()
    env: jinja2.Environment = environment_class(
        loader=jinja2.ChoiceLoader([by_order, by_prefix]),
        auto_reload=False,
        autoescape=True,
        undefined=owner_undefined(),  # Jinja's StrictUndefined, in the owner's words
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=kept,
    )
    if reuse:
        if len(_ENVIRONMENTS) >= 4:
            _ENVIRONMENTS.clear()
        _ENVIRONMENTS[memo_key] = env
    return env


_ENVIRONMENTS: dict[tuple[tuple[str, ...], str], jinja2.Environment] = {}


def forget_environments() -> None:
    """Drop the environments kept for reuse: their templates may not be the ones their key
    says (a theme file changed while a build read it)."""
    _ENVIRONMENTS.clear()


def forget_modules(env: jinja2.Environment) -> None:
    """Drop the modules Jinja keeps of the templates imported without context, before a reused
    environment renders with new globals.

    Jinja makes the module of ``{% import "x.html" as x %}`` once per template and keeps it: its
    macros see the globals as they were then (a copy), so in a preview session they would go on
    showing the first build's ``site``, ``t()``, ``url()``, images and build time after the
    config, the photos or the clock changed. Made again, they cost one render of the imported
    template's top level per build.
    """
    for template in [*(env.cache.values() if env.cache is not None else ()),
                     *getattr(env, "loaded", {}).values()]:
        template._module = None


class TemplateGlobals(ChainMap[str, Any]):
    """A template's globals over the environment's, as Jinja makes them, but read without raising.

    :class:`~collections.ChainMap` looks a name up in each map in turn and catches the KeyError of
    each map without it; a template's own map is nearly always empty, so every global read raised
    once. Jinja copies the whole map into each render's context and each ``import ... with
    context``, and compares its names for each import without context: thousands of times a build.
    """

    def __getitem__(self, key: str) -> Any:
        for mapping in self.maps:
            if key in mapping:
                return mapping[key]
        return self.__missing__(key)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self.maps)


@functools.cache
def _tracking_environment() -> type[jinja2.Environment]:
    import jinja2
    from jinja2.utils import _PassArg, internalcode

    from storefront.deps import current as current_recorder
    from storefront.deps import record_template, recording

    class ModuleTemplate(jinja2.Template):
        """A template whose module for ``{% import %}`` without context is found cheaply, and
        whose module's reads (made once per process) count for every page that imports it."""

        def _get_default_module(self, ctx: jinja2.runtime.Context | None = None
                                ) -> jinja2.environment.TemplateModule:
            # Jinja's own, with the names of the importing template's globals that this one
            # lacks found by one set difference (Jinja: a ChainMap lookup for each name)
            if self.environment.is_async:
                raise RuntimeError("Module is not available in async mode.")
            if ctx is not None:
                keys = ctx.globals_keys.difference(self.globals)
                if keys:
                    return self.make_module({k: ctx.parent[k] for k in keys})
            if self._module is None:
                # what its top level reads (image(), asset_url(), a document...) is recorded
                # once, and given to every page that imports it, not only to the first one
                with recording() as recorder:
                    self._module = self.make_module()
                self._module_reads = recorder.snapshot()
            page = current_recorder()
            if page is not None:
                page.add(self._module_reads)
            return self._module

    class CallingContext(jinja2.runtime.Context):
        """A context whose calls from templates (every function, macro and global called in
        one) read each attribute once: Jinja's asks an object three times whether it wants the
        context passed, through two helper calls, for each of some 150,000 calls a build."""

        @internalcode
        def call(__self: jinja2.runtime.Context, __obj: Callable[..., Any], *args: Any,
                 **kwargs: Any) -> Any:
            # Jinja's Context.call (3.1), with its hasattr/_PassArg.from_obj pairs as getattr
            method = getattr(__obj, "__call__", None)  # noqa: B004 - a callable class's method
            if method is not None and getattr(method, "jinja_pass_arg", None) is not None:
                __obj = method
            pass_arg = getattr(__obj, "jinja_pass_arg", None)
            if pass_arg is _PassArg.context:
                # the active context should have access to variables set in
                # loops and blocks without mutating the context itself
                if kwargs.get("_loop_vars"):
                    __self = __self.derived(kwargs["_loop_vars"])
                if kwargs.get("_block_vars"):
                    __self = __self.derived(kwargs["_block_vars"])
                args = (__self, *args)
            elif pass_arg is _PassArg.eval_context:
                args = (__self.eval_ctx, *args)
            elif pass_arg is _PassArg.environment:
                args = (__self.environment, *args)
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception")

    class TrackingEnvironment(jinja2.Environment):
        """Records each template name looked up (extends, include, import), found or not."""

        if jinja2.__version__.startswith("3.1."):  # they copy Jinja 3.1's own code, sped up;
            template_class = ModuleTemplate       # another Jinja keeps its own classes
            context_class = CallingContext

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # each template loaded, by name: Jinja's own cache (a locked LRU keyed by a weak
            # reference to the loader) cost more than the rest of a lookup; templates are never
            # reloaded (auto_reload is off), so the first one found stays the one used
            self.loaded: dict[str, jinja2.Template] = {}

        def _load_template(self, name: str, globals: Any) -> jinja2.Template:
            record_template(name)
            if globals:  # Jinja adds them to the template's own: its way, every time
                return super()._load_template(name, globals)
            template = self.loaded.get(name)
            if template is None:
                template = self.loaded[name] = super()._load_template(name, globals)
            return template

        def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
            return TemplateGlobals({} if d is None else d, self.globals)

    return TrackingEnvironment


def compile_all(env: jinja2.Environment) -> None:
    """Compile every page template of the environment's themes now (those of the newsletter's
    mails excepted), so that workers forked afterwards inherit them compiled instead of each
    compiling them again. A template that does not compile is left for the page that uses it to
    report, at its line."""
    import jinja2

    loader = env.loader
    assert isinstance(loader, jinja2.ChoiceLoader)  # [the chain in order, the themes by name]
    for name in loader.loaders[0].list_templates():
        if name.endswith(".html") and not name.startswith("email/"):
            try:
                env.get_template(name)
            except jinja2.TemplateError:
                continue

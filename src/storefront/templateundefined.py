"""Jinja's strict undefined value, in the owner's words for what a template reads.

A post read for a field it lacks (``{{ post.titel }}``) failed with "'storefront.deps.DocumentView
object' has no attribute 'titel'": storefront's class for a document as templates see it. The
error now names the kind of document, "the post has no field "titel"", with a hint when a field
is close ("did you mean "title"?"). The words are made only when a missing value is used.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


@functools.cache
def owner_undefined() -> type[jinja2.StrictUndefined]:
    """Jinja's strict undefined value, whose error names a document by its kind ("the post has no
    field "titel"", with a "did you mean" hint) instead of storefront's class for it."""
    import jinja2
    from jinja2.utils import internalcode, missing

    from storefront.deps import DocumentView
    from storefront.documents import Category, FaqEntry, NewsletterIssue, Page, Post, Product, Tag

    # how the owner knows each kind of object whose fields a template reads
    kinds = {Post: "post", Product: "product", FaqEntry: "FAQ entry", Page: "page",
             NewsletterIssue: "newsletter issue", Tag: "tag", Category: "category"}

    class OwnerUndefined(jinja2.StrictUndefined):
        __slots__ = ()

        @internalcode
        def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
            obj, name = self._undefined_obj, self._undefined_name
            document = obj._document if isinstance(obj, DocumentView) else obj
            kind = kinds.get(type(document))
            if self._undefined_hint or obj is missing or kind is None:
                return super()._fail_with_undefined_error(*args, **kwargs)
            if not isinstance(name, str):
                raise self._undefined_exception(f"the {kind} has no item {name!r}")
            error = self._undefined_exception(f'the {kind} has no field "{name}"')
            known = {f.name for f in fields(document)}
            known.update(n for n in dir(type(document)) if not n.startswith("_"))
            close = difflib.get_close_matches(name, sorted(known), 1)
            if close:
                error.add_note(f'did you mean "{close[0]}"?')
            raise error

    # StrictUndefined makes printing, comparing, iterating... fail through the base class's
    # function itself: each of them fails through this class's instead
    failing = jinja2.Undefined._fail_with_undefined_error
    for name in dir(jinja2.StrictUndefined):
        if getattr(jinja2.StrictUndefined, name, None) is failing:
            setattr(OwnerUndefined, name, OwnerUndefined._fail_with_undefined_error)
    return OwnerUndefined

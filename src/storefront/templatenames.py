"""How the owner knows each value a template sees, for the errors that name one.

Jinja and Python name a value by its class: "'storefront.config.SiteConfig object' has no
attribute 'titel'", "'None' has no attribute 'title'", "tuple object has no element 0". An owner
knows the same values as "the site settings", "the post", "a list", "a text": these helpers give
those words, and the fields a value has (for a "did you mean" hint). They run only once a page
failed; the table of storefront's classes is made on the first error, never on the way of a page
that works. (See :mod:`storefront.templateundefined` and :mod:`storefront.templatefilters`.)
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

Name = tuple[str, bool]  # the owner's words for a value, and whether they are plural


@functools.cache
def _named() -> dict[type, Name]:
    """Storefront's classes that templates read fields of, by the owner's name for them."""
    from jinja2.runtime import LoopContext

    from storefront.config import (
        Address,
        Business,
        Closure,
        FeedSettings,
        GeoPoint,
        MenuItem,
        OpeningHours,
        Permalinks,
        SiteConfig,
        SocialLink,
    )
    from storefront.documents import Category, FaqEntry, NewsletterIssue, Page, Post, Product, Tag
    from storefront.feeds import FeedLink
    from storefront.formconfig import FormDefinition, FormEndpoint, FormField, NewsletterSettings
    from storefront.hours import ClosureNotice
    from storefront.imageconfig import ImageQuality, ImageSettings
    from storefront.picture import ImageInfo, Variant
    from storefront.policyconfig import DayRange, Returns, Shipping, ShippingZone
    from storefront.seo import PageMeta
    from storefront.site import CategoryGroup, FaqGroup, NavItem, TagCount

    one = {Post: "the post", Product: "the product", FaqEntry: "the FAQ entry", Page: "the page",
           NewsletterIssue: "the newsletter issue", Tag: "the tag", Category: "the category",
           Address: "the address", Closure: "the closure", ClosureNotice: "the closure",
           OpeningHours: "the opening hours line", MenuItem: "the menu link",
           NavItem: "the menu link",
           SocialLink: "the social link", FeedLink: "the feed link",
           FormDefinition: "the form", FormField: "the form field", ShippingZone: "the shipping zone",
           DayRange: "the range of days", Shipping: "the shipping policy",
           Returns: "the returns policy", ImageInfo: "the image", Variant: "the image's copy",
           TagCount: "the tag's line",
           CategoryGroup: "the category's group", FaqGroup: "the FAQ group",
           LoopContext: 'the loop ("loop")'}
    many = {SiteConfig: "the site settings", Business: "the business settings",
            GeoPoint: "the map coordinates", Permalinks: "the permalinks settings",
            FeedSettings: "the feed settings", FormEndpoint: "the form endpoint settings",
            NewsletterSettings: "the newsletter settings", ImageSettings: "the image settings",
            ImageQuality: "the image quality settings", PageMeta: 'the page details ("page")'}
    return {**{kind: (words, False) for kind, words in one.items()},
            **{kind: (words, True) for kind, words in many.items()}}


def unwrapped(value: Any) -> Any:
    """A document itself, for a document as templates see it (:class:`storefront.deps.DocumentView`)."""
    from storefront.deps import DocumentView

    return value._document if isinstance(value, DocumentView) else value


# classes of later stages (the plan, the renderer), known by name: this module is the
# environment's (stage 6), which those stages import
_LATER = {"storefront.plan.Paginator": ('the page numbering ("paginator")', False),
          "storefront.render.CurrentNavItem": ("the menu link", False)}


def owner_name(value: Any) -> Name | None:
    """The owner's words for one of storefront's objects ("the site settings", plural), or None."""
    value = unwrapped(value)
    for kind in type(value).__mro__:
        found = _named().get(kind) or _LATER.get(f"{kind.__module__}.{kind.__qualname__}")
        if found is not None:
            return found
    return None


def describe(value: Any) -> str:
    """A value as the owner knows it, to say what a template gave: 'a text ("Ciao")'."""
    if value is None:
        return "an empty value (none)"
    if isinstance(value, bool):
        return f"the value {'true' if value else 'false'}"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:29] + "…"
        return f'a text ("{shown}")'
    if isinstance(value, int | float | Decimal):
        return f"a number ({value})"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, Mapping):
        return "a group of named values"
    if isinstance(value, list | tuple):
        return "a list"
    named = owner_name(value)
    return named[0] if named is not None else "a value of another kind"


def fields_of(value: Any) -> list[str]:
    """The names a template may read of a value: its fields, properties and methods (its keys,
    for a mapping)."""
    value = unwrapped(value)
    if isinstance(value, Mapping):
        return sorted(str(key) for key in value)
    known = {f.name for f in dataclasses.fields(value)} if dataclasses.is_dataclass(value) else set()
    known.update(name for name in dir(type(value)) if not name.startswith("_"))
    return sorted(known)


def did_you_mean(name: str, known: list[str]) -> str:
    """'did you mean "title"?' for a name close to a known one, else ""."""
    close = difflib.get_close_matches(name, known, 1)
    return f'did you mean "{close[0]}"?' if close else ""

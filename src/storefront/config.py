"""Load ``storefront.yaml`` into frozen dataclasses.

Stage 1 of the build. Every problem (unknown key, wrong type, bad value) is reported together with
``storefront.yaml:LINE``; nothing is silently replaced by a default. The forms endpoint reads the
same config; the form definitions are in :mod:`storefront.formconfig`. The only I/O is reading
the one file (and resolving the forms database's path against the site's folders).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from storefront.errors import BuildFailed, ContentError, blamed_on, error_at, line_of_key
from storefront.formconfig import (
    DATABASE_PLACE_HINT,
    FormDefinition,
    FormEndpoint,
    NewsletterSettings,
    database_place_problem,
)
from storefront.imageconfig import ImageSettings
from storefront.policyconfig import Returns, Shipping, check_policies, node_at, parse_country
from storefront.schema import FrozenDict, Mapper, YamlProblem, compose_yaml, field_doc
from storefront.values import (
    parse_base_url,
    parse_currency,
    parse_day,
    parse_email,
    parse_external_url,
    parse_form_name,
    parse_locale,
    parse_map,
    parse_opening_hours,
    parse_permalink,
    parse_phone,
    parse_site_path,
    parse_theme_name,
    parse_timezone,
)

CONFIG_NAME = "storefront.yaml"

def _permalink(*allowed: str) -> dict[str, Callable[[str], str]]:
    """Field metadata for a permalink that may use only ``allowed`` placeholders."""
    return {"parse": lambda text: parse_permalink(text, allowed, require_slug="slug" in allowed)}


_DATED = _permalink("year", "month", "day", "slug")
_PRODUCT = _permalink("slug", "category")
_SLUG_ONLY = _permalink("slug")
_FIXED = _permalink()


@dataclass(frozen=True)
class Address:
    street: str = field(default="", metadata=field_doc("street and number"))
    postal_code: str = field(default="", metadata=field_doc("postal code (CAP)"))
    city: str = field(default="", metadata=field_doc("city"))
    region: str = field(default="", metadata=field_doc("province or region, e.g. FI"))
    country: str = field(default="", metadata=field_doc(
        "ISO country code, e.g. IT", parse=parse_country,
        hint="write the two-letter code, e.g. IT"))


@dataclass(frozen=True)
class OpeningHours:
    days: str = field(metadata=field_doc("days as shown, e.g. 'Lunedì-Venerdì'"))
    hours: str = field(metadata=field_doc("hours as shown, e.g. '9:30-13:00, 15:30-19:30'"))
    schema: str = field(default="", metadata=field_doc(
        "schema.org openingHours, e.g. 'Mo-Fr 09:30-13:00,15:30-19:30'", parse=parse_opening_hours))


@dataclass(frozen=True)
class Closure:
    """A holiday closure: the shop is closed every day from ``start`` to ``until`` included."""

    start: date = field(metadata=field_doc("first day closed, e.g. 2026-08-10", key="from",
                                           parse=parse_day))
    until: date = field(metadata=field_doc("last day closed (included)", parse=parse_day))
    note: str = field(default="", metadata=field_doc("why, as shown: 'Chiuso per ferie'"))

    def __post_init__(self) -> None:
        if self.until < self.start:
            raise ValueError(f"the closure ends (until: {self.until}) before it starts "
                             f"(from: {self.start}); write the first day in from:, the last in until:")


def _degrees(limit: int) -> Callable[[str], float]:
    """A parser of decimal degrees between -``limit`` and ``limit`` (90 for a latitude, 180 for
    a longitude): 143 is no place on Earth, yet went into the JSON-LD and the map link."""
    def parse(text: str) -> float:
        try:
            number = float(text)
        except (ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number):  # "nan" and "inf" would end up in JSON-LD as NaN
            raise ValueError(f'must be a number, got "{text}"')
        if not -limit <= number <= limit:
            raise ValueError(f'must be between -{limit} and {limit}, got "{text.strip()}"')
        return number
    return parse


@dataclass(frozen=True)
class GeoPoint:
    latitude: float = field(metadata=field_doc(
        "latitude in decimal degrees", parse=_degrees(90),
        hint="the latitude goes from -90 (south) to 90 (north): copy it from a map, "
             "such as 43.8429"))
    longitude: float = field(metadata=field_doc(
        "longitude in decimal degrees", parse=_degrees(180),
        hint="the longitude goes from -180 (west) to 180 (east): copy it from a map, "
             "such as 10.5027"))


@dataclass(frozen=True)
class Business:
    name: str = field(default="", metadata=field_doc("the name customers know"))
    legal_name: str = field(default="", metadata=field_doc("registered company name"))
    vat_number: str = field(default="", metadata=field_doc("VAT number (Partita IVA)"))
    address: Address = field(default_factory=Address, metadata=field_doc("postal address"))
    phone: str = field(default="", metadata=field_doc("phone in international form, +39 ...",
                                                      parse=parse_phone))
    email: str = field(default="", metadata=field_doc("public e-mail address", parse=parse_email))
    whatsapp: str = field(default="", metadata=field_doc("WhatsApp number, international form",
                                                         parse=parse_phone))
    opening_hours: tuple[OpeningHours, ...] = field(default=(), metadata=field_doc("opening hours"))
    geo: GeoPoint | None = field(default=None, metadata=field_doc("map coordinates"))
    closures: tuple[Closure, ...] = field(
        default=(), metadata=field_doc("holiday closures: from, until (days, included), note"))
    map: str = field(default="openstreetmap", metadata=field_doc(
        "the map the address links to: openstreetmap, google, apple, none or an https:// link",
        parse=parse_map))


@dataclass(frozen=True)
class MenuItem:
    title: str = field(metadata=field_doc("label in the navigation"))
    url: str = field(metadata=field_doc("site path or absolute URL", parse=parse_site_path))


@dataclass(frozen=True)
class SocialLink:
    name: str = field(metadata=field_doc("network name, e.g. Instagram"))
    url: str = field(metadata=field_doc("profile URL", parse=parse_external_url))


@dataclass(frozen=True)
class Permalinks:
    post: str = field(default="/blog/{year}/{month}/{slug}/", metadata=field_doc("post URLs", **_DATED))
    product: str = field(default="/prodotti/{slug}/", metadata=field_doc("product URLs", **_PRODUCT))
    page: str = field(default="/{slug}/", metadata=field_doc("page URLs", **_SLUG_ONLY))
    tag: str = field(default="/tag/{slug}/", metadata=field_doc("tag page URLs", **_SLUG_ONLY))
    blog: str = field(default="/blog/", metadata=field_doc("blog listing", **_FIXED))
    products: str = field(default="/prodotti/", metadata=field_doc("catalogue", **_FIXED))
    faq: str = field(default="/faq/", metadata=field_doc("FAQ page", **_FIXED))
    tags: str = field(default="/tag/", metadata=field_doc("tags index", **_FIXED))
    newsletter: str = field(default="/newsletter/archivio/",
                            metadata=field_doc("archive of sent newsletter issues", **_FIXED))
    newsletter_issue: str = field(default="/newsletter/{slug}/",
                                  metadata=field_doc("newsletter issue URLs", **_SLUG_ONLY))


@dataclass(frozen=True)
class FeedSettings:
    items: int = field(default=20, metadata=field_doc("entries in each feed", minimum=1))
    content: Literal["full", "summary"] = field(
        default="full", metadata=field_doc("full text or only the summary in feed entries"))
    merchant: bool = field(
        default=False, metadata=field_doc("write the Google Merchant Center product feed"))


@dataclass(frozen=True)
class SiteConfig:
    title: str = field(metadata=field_doc("site title"))
    base_url: str = field(
        default="", metadata=field_doc("public URL, e.g. https://example.com/", parse=parse_base_url)
    )
    description: str = field(default="", metadata=field_doc("one-sentence description"))
    language: Literal["it", "en"] = field(default="it", metadata=field_doc("language of theme strings"))
    locale: str = field(
        default="", metadata=field_doc("locale for dates and prices, e.g. it_IT", parse=parse_locale)
    )
    currency: str = field(
        default="EUR", metadata=field_doc("default ISO 4217 currency", parse=parse_currency)
    )
    timezone: str = field(
        default="Europe/Rome", metadata=field_doc("time zone of dates", parse=parse_timezone)
    )
    author: str = field(default="", metadata=field_doc("default author of posts"))
    image: str = field(default="", metadata=field_doc("default share image (Open Graph)"))
    theme: str = field(default="default", metadata=field_doc("theme name", parse=parse_theme_name))
    privacy_page: str = field(
        default="/privacy/",
        metadata=field_doc("the privacy notice that forms and the footer link to", parse=parse_site_path),
    )
    contact_page: str = field(
        default="",
        metadata=field_doc("the contact page, which shows the business card (default /contatti/, "
                           "/contact/ in English)", parse=parse_site_path),
    )
    page_size: int = field(default=6, metadata=field_doc("items per listing page", minimum=1))
    featured_products: int = field(default=3, metadata=field_doc("products on the home page", minimum=0))
    home_posts: int = field(default=3, metadata=field_doc("posts on the home page", minimum=0))
    business: Business = field(default_factory=Business, metadata=field_doc("the business"))
    menu: tuple[MenuItem, ...] = field(default=(), metadata=field_doc("main menu links"))
    social: tuple[SocialLink, ...] = field(default=(), metadata=field_doc("social profiles"))
    permalinks: Permalinks = field(default_factory=Permalinks, metadata=field_doc("URL patterns"))
    forms: Mapping[str, FormDefinition] = field(
        default_factory=FrozenDict,
        metadata=field_doc("form definitions", key_parse=parse_form_name),
    )
    form_endpoint: FormEndpoint = field(
        default_factory=FormEndpoint, metadata=field_doc("form endpoint settings")
    )
    form_fallback: Literal["mailto", "hide"] = field(
        default="mailto",
        metadata=field_doc("what forms become while no form_endpoint is configured: an e-mail "
                           "button (mailto) or nothing (hide)"),
    )
    has_form_endpoint: bool = field(
        default=True, metadata=field_doc("whether storefront.yaml configures form_endpoint",
                                         internal=True))
    feeds: FeedSettings = field(default_factory=FeedSettings, metadata=field_doc("feed settings"))
    shipping: Shipping | None = field(default=None, metadata=field_doc("shop-wide shipping policy"))
    returns: Returns | None = field(default=None, metadata=field_doc("shop-wide returns policy"))
    newsletter: NewsletterSettings = field(
        default_factory=NewsletterSettings, metadata=field_doc("the newsletter (mailing list)")
    )
    images: ImageSettings = field(
        default_factory=ImageSettings, metadata=field_doc("how photos are resized and encoded")
    )

    @property
    def effective_locale(self) -> str:
        return self.locale or {"it": "it_IT", "en": "en_US"}[self.language]

    @property
    def form_mode(self) -> Literal["live", "mailto", "hidden"]:
        """How the theme shows forms: posting to the endpoint, as an e-mail button, or not at all.

        Without a ``form_endpoint`` a form would post into the void; the owner's ``form_fallback``
        decides between a ``mailto:`` button (it needs ``business.email``) and hiding it.
        """
        if self.has_form_endpoint:
            return "live"
        return "mailto" if self.form_fallback == "mailto" and self.business.email else "hidden"

    @property
    def business_name(self) -> str:
        """The name the shop goes by: its business name, else the site's title."""
        return self.business.name or self.title

    @property
    def effective_contact_page(self) -> str:
        return self.contact_page or {"it": "/contatti/", "en": "/contact/"}[self.language]

    def form_action(self, name: str) -> str:
        """The public URL a form posts to."""
        return self.form_endpoint.url.rstrip("/") + "/" + name


def parse_config(text: str, path: str = CONFIG_NAME) -> SiteConfig:
    """Parse config text; raise :class:`BuildFailed` with every problem found."""
    with blamed_on(path):
        return _parse_config(text, path)


def _parse_config(text: str, path: str) -> SiteConfig:
    try:
        node = compose_yaml(text)
    except YamlProblem as exc:
        raise BuildFailed([error_at(path, exc.line, exc.message, exc.hint)]) from None
    mapper = Mapper(path)
    config = mapper.build(SiteConfig, node)
    errors: list[ContentError] = list(mapper.errors)
    if config is None or errors:
        raise BuildFailed(errors)
    errors = check_policies(node, config.shipping, config.returns,
                            config.business.address.country.upper(), path)
    if errors:
        raise BuildFailed(errors)
    forms = {name: replace(form, name=name) for name, form in config.forms.items()}
    errors = [*check_forms(config, text, path), *check_newsletter(config, text, path)]
    if errors:
        raise BuildFailed(errors)
    keys = {str(key.value) for key, _ in node.value} if isinstance(node, yaml.MappingNode) else set()
    return replace(config, forms=FrozenDict(forms), has_form_endpoint="form_endpoint" in keys)


def check_newsletter(config: SiteConfig, text: str, path: str) -> list[ContentError]:
    """The newsletter's form must exist and ask for an e-mail; its links need ``base_url``."""
    settings = config.newsletter
    if not settings.enabled:
        return []
    line = line_of_key(text, "newsletter")
    form = config.forms.get(settings.form)
    if form is None:
        known = ", ".join(sorted(config.forms)) or "none are defined"
        return [error_at(path, line, f'newsletter.form "{settings.form}" is not a form under forms:',
                         f"known forms: {known}")]
    errors = []
    if not any(f.type == "email" and f.required for f in form.fields):
        errors.append(error_at(path, line, f'the newsletter form "{settings.form}" needs a required '
                               "field of type email", "add {name: email, type: email, required: true}"))
    if not config.base_url:
        errors.append(error_at(path, line, "the newsletter needs base_url: its mails link to the site",
                               "add a line like base_url: https://www.example.com/"))
    return errors


def check_forms(config: SiteConfig, text: str, path: str = CONFIG_NAME) -> list[ContentError]:
    """Each field of a form has a name of its own (two inputs of one name: one value is lost)
    and a longest value of at least one character."""
    errors = []
    lines = text.split("\n")
    for key, form in config.forms.items():
        line = next((n for n, written in enumerate(lines, 1)
                     if written.strip().startswith(f"{key}:")), line_of_key(text, "forms"))
        names = [f.name for f in form.fields]
        for name in sorted({n for n in names if names.count(n) > 1}):
            errors.append(error_at(path, line, f'the form "{key}" has two fields named '
                                   f'"{name}"', "give each field a name of its own"))
        for f in form.fields:
            if f.max_length < 1:
                errors.append(error_at(path, line, f'the field "{f.name}" of form "{key}" '
                                       f"has max_length {f.max_length}",
                                       "set max_length to the longest value to accept, such as 500"))
    return errors


def load_config(root: Path, memo: list[Any] | None = None,
                output: Path | None = None) -> SiteConfig:
    """Read ``storefront.yaml`` in ``root``.

    ``memo`` (a session's, the preview reads the config at every save) holds the last text and
    its config: the same text is not parsed again (a config is frozen, so one can be shared; a
    refused text is parsed, and refused, each time). A forms database inside a folder that is
    published (``output/``, ``content/``, or ``output``: a build's own output folder) is refused,
    for the build and the endpoint alike."""
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildFailed(
            [error_at(CONFIG_NAME, 0, f"no {CONFIG_NAME} in {root}",
                      "run storefront in the folder of your site, or create it with storefront init")]
        ) from None
    except UnicodeDecodeError as exc:
        line = text_line_of_offset(path.read_bytes(), exc.start)
        raise BuildFailed(
            [error_at(CONFIG_NAME, line, "the file is not UTF-8 text",
                      "save it as UTF-8 in your editor")]
        ) from None
    if memo and memo[0] == text:
        config: SiteConfig = memo[1]
    else:
        config = parse_config(text)
        if memo is not None:
            memo[:] = [text, config]
    check_database_place(config, text, root, output)
    return config


def check_database_place(config: SiteConfig, text: str, root: Path, output: Path | None) -> None:
    """Refuse, at its line, a forms database that the site would publish or delete."""
    problem = database_place_problem(config.form_endpoint.database, root, output)
    if problem is not None:
        where = node_at(compose_yaml(text), "form_endpoint", "database")
        line = int(where.start_mark.line) + 1 if where is not None else 0
        raise BuildFailed([error_at(CONFIG_NAME, line, problem, DATABASE_PLACE_HINT)])


def text_line_of_offset(data: bytes, offset: int) -> int:
    """The 1-based line number that contains byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1

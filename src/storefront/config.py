"""Load ``storefront.yaml`` into frozen dataclasses.

Stage 1 of the build. Every problem (unknown key, wrong type, bad value) is reported together with
``storefront.yaml:LINE``; nothing is silently replaced by a default. The forms endpoint reads the
same config, so the form definitions live here too. The only I/O is reading the one file.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from storefront.errors import BuildFailed, ContentError, error_at
from storefront.schema import Mapper, YamlProblem, compose_yaml, field_doc

CONFIG_NAME = "storefront.yaml"

FieldType = Literal["text", "email", "tel", "textarea", "number", "checkbox", "select", "hidden"]

#: Names the endpoint itself uses in every form; a declared field may not take them.
HONEYPOT_FIELD = "website"
TOKEN_FIELD = "_ts"  # noqa: S105 - a form field name, not a secret
RESERVED_FIELD_NAMES = frozenset({HONEYPOT_FIELD, TOKEN_FIELD})


def parse_currency(text: str) -> str:
    """Accept an ISO 4217 code such as EUR (case-insensitive)."""
    code = text.strip().upper()
    if code not in known_currencies():
        raise ValueError(f'must be an ISO 4217 currency code such as EUR or USD, got "{text}"')
    return code


_CURRENCIES: frozenset[str] = frozenset()


def known_currencies() -> frozenset[str]:
    global _CURRENCIES
    if not _CURRENCIES:
        _CURRENCIES = frozenset(list_currencies())
    return _CURRENCIES


def parse_timezone(text: str) -> str:
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: "Europe" names a folder of the tz database (IsADirectoryError)
        raise ValueError(f'must be a time zone name such as Europe/Rome, got "{text}"') from None
    return text


def parse_locale(text: str) -> str:
    try:
        Locale.parse(text)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f'must be a locale code such as it_IT or en_US, got "{text}"') from None
    return text


def parse_base_url(text: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", text):
        raise ValueError(f'must be an absolute http(s) URL such as https://example.com/, got "{text}"')
    return text.rstrip("/") + "/"


def parse_site_path(text: str) -> str:
    """A site-relative URL path such as /grazie/ or an absolute http(s) URL."""
    if text.startswith(("http://", "https://")) or text.startswith("/"):
        return text
    raise ValueError(f'must start with "/" (a page of this site) or http(s)://, got "{text}"')


_PLACEHOLDERS = ("year", "month", "day", "slug", "category")


def parse_permalink(text: str, allowed: tuple[str, ...] = _PLACEHOLDERS,
                    require_slug: bool = False) -> str:
    """A URL pattern such as /blog/{year}/{slug}/: must stay inside the site.

    ``allowed`` are the placeholders the kind can fill (a product has no date, a listing no slug):
    any other would fail only later, with a KeyError while building.
    """
    names = set(re.findall(r"{([^}]*)}", text))
    if names - set(_PLACEHOLDERS):
        raise ValueError(
            f'may use only {{year}}, {{month}}, {{day}}, {{slug}} and {{category}}, got "{text}"'
        )
    if names - set(allowed):
        listed = [f"{{{name}}}" for name in allowed]
        which = " and ".join(filter(None, [", ".join(listed[:-1]), *listed[-1:]]))
        raise ValueError(f'may use only {which or "no placeholders"}, got "{text}"')
    outside = re.sub(r"{[^{}]*}", "", text)
    if "{" in outside or "}" in outside:
        raise ValueError(f'has an unmatched "{{" or "}}", got "{text}"')
    parts = text.split("/")
    if not text.startswith("/") or ".." in parts or "\\" in text or "//" in text:
        raise ValueError(f'must be a path starting with "/" and without "..", got "{text}"')
    if "#" in text or "?" in text:
        raise ValueError(f'must be a plain path without "#" or "?", got "{text}"')
    if not (text.endswith("/") or text.endswith(".html")):
        raise ValueError(f'must end with "/" or ".html", got "{text}"')
    if require_slug and "slug" not in names:
        raise ValueError(f'must contain {{slug}}, or every document would share one URL, got "{text}"')
    return text


def _permalink(*allowed: str) -> dict[str, Callable[[str], str]]:
    """Field metadata for a permalink that may use only ``allowed`` placeholders."""
    return {"parse": lambda text: parse_permalink(text, allowed, require_slug="slug" in allowed)}


_DATED = _permalink("year", "month", "day", "slug")
_PRODUCT = _permalink("slug", "category")
_SLUG_ONLY = _permalink("slug")
_FIXED = _permalink()


def parse_theme_name(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", text):
        raise ValueError(f'must be the name of a folder in themes/ such as "bottega", got "{text}"')
    return text


def parse_external_url(text: str) -> str:
    if not re.fullmatch(r"https?://[^\s]+", text):
        raise ValueError(f'must be an http(s):// address, got "{text}"')
    return text


def parse_form_name(text: str) -> str:
    """A form name: the last segment of its action URL and part of HTML ids."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", text):
        raise ValueError('must be a name of lowercase letters, digits, "-" and "_" such as "contact"')
    return text


@dataclass(frozen=True)
class Address:
    street: str = field(default="", metadata=field_doc("street and number"))
    postal_code: str = field(default="", metadata=field_doc("postal code (CAP)"))
    city: str = field(default="", metadata=field_doc("city"))
    region: str = field(default="", metadata=field_doc("province or region, e.g. FI"))
    country: str = field(default="", metadata=field_doc("ISO country code, e.g. IT"))


@dataclass(frozen=True)
class OpeningHours:
    days: str = field(metadata=field_doc("days as shown, e.g. 'Lunedì-Venerdì'"))
    hours: str = field(metadata=field_doc("hours as shown, e.g. '9:30-13:00, 15:30-19:30'"))
    schema: str = field(default="", metadata=field_doc("schema.org openingHours, e.g. 'Mo-Fr 09:30-19:30'"))


@dataclass(frozen=True)
class GeoPoint:
    latitude: float = field(metadata=field_doc("latitude in decimal degrees"))
    longitude: float = field(metadata=field_doc("longitude in decimal degrees"))


@dataclass(frozen=True)
class Business:
    name: str = field(default="", metadata=field_doc("the name customers know"))
    legal_name: str = field(default="", metadata=field_doc("registered company name"))
    vat_number: str = field(default="", metadata=field_doc("VAT number (Partita IVA)"))
    address: Address = field(default_factory=Address, metadata=field_doc("postal address"))
    phone: str = field(default="", metadata=field_doc("phone in international form, +39 ..."))
    email: str = field(default="", metadata=field_doc("public e-mail address"))
    whatsapp: str = field(default="", metadata=field_doc("WhatsApp number, international form"))
    opening_hours: tuple[OpeningHours, ...] = field(default=(), metadata=field_doc("opening hours"))
    geo: GeoPoint | None = field(default=None, metadata=field_doc("map coordinates"))


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


@dataclass(frozen=True)
class FormField:
    name: str = field(metadata=field_doc("field name in the submission, e.g. email"))
    type: FieldType = field(default="text", metadata=field_doc("input type"))
    label: str = field(default="", metadata=field_doc("label shown next to the field"))
    required: bool = field(default=False, metadata=field_doc("must be filled in"))
    max_length: int = field(default=500, metadata=field_doc("longest accepted value, in characters"))
    choices: tuple[str, ...] = field(default=(), metadata=field_doc("allowed values (select)"))
    consent: bool = field(default=False, metadata=field_doc("this checkbox is the privacy consent"))
    help: str = field(default="", metadata=field_doc("short help text under the field"))
    min_value: int | None = field(
        default=None, metadata=field_doc("smallest accepted number (number fields)", key="min")
    )
    max_value: int | None = field(
        default=None, metadata=field_doc("largest accepted number (number fields)", key="max")
    )

    def __post_init__(self) -> None:
        if self.name in RESERVED_FIELD_NAMES or self.name.startswith("_"):
            raise ValueError(f'form field name "{self.name}" is reserved; choose another name')
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(
                f'form field name "{self.name}" must use lowercase letters, digits and _'
            )
        if self.type == "select" and not self.choices:
            raise ValueError(f'form field "{self.name}" is a select but has no "choices"')
        if self.type != "number" and (self.min_value is not None or self.max_value is not None):
            raise ValueError(f'form field "{self.name}": "min" and "max" apply to number fields')
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValueError(f'form field "{self.name}": "min" is larger than "max"')


@dataclass(frozen=True)
class FormDefinition:
    fields: tuple[FormField, ...] = field(metadata=field_doc("the fields, in order"))
    title: str = field(default="", metadata=field_doc("heading shown above the form"))
    submit_label: str = field(default="", metadata=field_doc("text of the send button"))
    success_page: str = field(
        default="/", metadata=field_doc("where to go after sending", parse=parse_site_path)
    )
    notify: str = field(default="", metadata=field_doc("e-mail address that gets each submission"))
    consent_text: str = field(default="", metadata=field_doc("the consent sentence shown"))
    consent_version: str = field(default="", metadata=field_doc("version of the privacy text"))
    name: str = field(default="", metadata=field_doc("set from the key under forms:", internal=True))
    require_one_of: tuple[str, ...] = field(
        default=(), metadata=field_doc("at least one of these fields must be filled in")
    )

    def __post_init__(self) -> None:
        names = {f.name for f in self.fields}
        unknown = [n for n in self.require_one_of if n not in names]
        if unknown:
            raise ValueError(f'"require_one_of" names fields the form does not have: {unknown}')

    @property
    def consent_field(self) -> FormField | None:
        return next((f for f in self.fields if f.consent), None)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = field(default="localhost", metadata=field_doc("SMTP server"))
    port: int = field(default=587, metadata=field_doc("SMTP port"))
    security: Literal["starttls", "ssl", "none"] = field(
        default="starttls", metadata=field_doc("starttls, ssl or none")
    )
    sender: str = field(default="", metadata=field_doc("From: address of notifications"))
    timeout: float = field(default=10.0, metadata=field_doc("seconds to wait for the server"))


@dataclass(frozen=True)
class FormEndpoint:
    url: str = field(
        default="/api/forms/",
        metadata=field_doc("public base URL of form actions", parse=parse_site_path),
    )
    database: str = field(default="data/forms.sqlite3", metadata=field_doc("SQLite file"))
    max_body_bytes: int = field(default=32768, metadata=field_doc("largest accepted request body"))
    min_fill_seconds: float = field(default=3.0, metadata=field_doc("faster submissions are spam"))
    rate_limit: int = field(default=10, metadata=field_doc("submissions per IP per window"))
    rate_window_seconds: int = field(default=600, metadata=field_doc("rate-limit window"))
    allowed_origins: tuple[str, ...] = field(
        default=(), metadata=field_doc("extra origins allowed besides base_url")
    )
    smtp: SmtpSettings = field(default_factory=SmtpSettings, metadata=field_doc("outgoing mail"))


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
    page_size: int = field(default=6, metadata=field_doc("items per listing page", minimum=1))
    featured_products: int = field(default=3, metadata=field_doc("products on the home page", minimum=0))
    home_posts: int = field(default=3, metadata=field_doc("posts on the home page", minimum=0))
    business: Business = field(default_factory=Business, metadata=field_doc("the business"))
    menu: tuple[MenuItem, ...] = field(default=(), metadata=field_doc("main menu links"))
    social: tuple[SocialLink, ...] = field(default=(), metadata=field_doc("social profiles"))
    permalinks: Permalinks = field(default_factory=Permalinks, metadata=field_doc("URL patterns"))
    forms: Mapping[str, FormDefinition] = field(
        default_factory=lambda: MappingProxyType({}),
        metadata=field_doc("form definitions", key_parse=parse_form_name),
    )
    form_endpoint: FormEndpoint = field(
        default_factory=FormEndpoint, metadata=field_doc("form endpoint settings")
    )

    @property
    def effective_locale(self) -> str:
        return self.locale or {"it": "it_IT", "en": "en_US"}[self.language]

    def form_action(self, name: str) -> str:
        """The public URL a form posts to."""
        return self.form_endpoint.url.rstrip("/") + "/" + name


def parse_config(text: str, path: str = CONFIG_NAME) -> SiteConfig:
    """Parse config text; raise :class:`BuildFailed` with every problem found."""
    try:
        node = compose_yaml(text)
    except YamlProblem as exc:
        raise BuildFailed([error_at(path, exc.line, exc.message, exc.hint)]) from None
    mapper = Mapper(path)
    config = mapper.build(SiteConfig, node)
    errors: list[ContentError] = list(mapper.errors)
    if config is None or errors:
        raise BuildFailed(errors)
    forms = {name: replace(form, name=name) for name, form in config.forms.items()}
    return replace(config, forms=MappingProxyType(forms))


def load_config(root: Path) -> SiteConfig:
    """Read ``storefront.yaml`` in ``root``."""
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
    return parse_config(text)


def text_line_of_offset(data: bytes, offset: int) -> int:
    """The 1-based line number that contains byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1

"""Parsers for the scalar values owners write: dates, prices, slugs, paths, URLs, codes.

Pure. Each parser takes the raw text and raises ``ValueError`` with the second half of a sentence
("must be ..., got ...") that the schema mapper prefixes with the field name.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from typing import TypeVar
from urllib.parse import quote, unquote, urlsplit

import idna
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import get_currency_name, get_territory_currencies, list_currencies

from storefront.limits import MAX_NUMBER_DIGITS, MAX_SLUG_LENGTH
from storefront.urls import NAME_BYTES, PATH_SAFE, longest_name

# what XML 1.0 (the feeds) cannot hold: C0 controls but tab and newlines, and two noncharacters
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def control_character(text: str) -> int:
    """The index of the first control character that no page or feed can hold, or -1.

    They come from pasting out of terminals and old documents, are invisible in an editor,
    and make a feed invalid XML.
    """
    match = _CONTROL.search(text)
    return match.start() if match else -1


def control_character_problem(text: str, at: int) -> tuple[str, str]:
    """The message and hint about the control character at ``at`` in ``text``."""
    return (f"this text holds an invisible control character (U+{ord(text[at]):04X})",
            "delete it: retype the words around it, or paste them as plain text")


# characters that show nothing and mean nothing in a name or an address: the zero-width space,
# the word joiner, the zero-width no-break space (a byte-order mark pasted inside a text) and the
# soft hyphen. They come with text pasted from web pages, word processors and chats.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
# ...and those that show nothing alone (the joiners shape emoji and some scripts: kept in a name)
_INVISIBLE_ALONE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def drop_invisible(text: str) -> str:
    """``text`` without zero-width spaces, word joiners, BOMs and soft hyphens."""
    return _INVISIBLE.sub("", text)


def clean_name(text: str) -> str:
    """A tag or category name as it shows: without invisible characters, any space (a no-break
    one too) as one plain space. "pane", "pa\u200bne" and "pa\u00adne" look alike and share a
    URL; kept as written, the tag's page and the tags index showed whichever came first, and
    sorted "\ufeffdolci" after every other tag."""
    return " ".join(drop_invisible(text).split())


def invisible_only(text: str) -> list[str]:
    """The code points of a non-empty ``text`` that holds nothing visible (only spaces and
    invisible characters), like ["U+200B"]; [] when it shows something (or is empty)."""
    if not text or _INVISIBLE_ALONE.sub("", text).strip():
        return []
    return sorted({f"U+{ord(char):04X}" for char in text if _INVISIBLE_ALONE.fullmatch(char)})


_Day = TypeVar("_Day", date, datetime)
_DATE_FORMS = "2024-05-01, 2024-05-01 10:30 or 2024-05-01T10:30:00+02:00"
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
#: the years a date may have: any shop's past and future, far from the ends of Python's calendar
#: (years 1 and 9999), where the day after a sale or a closure, a closure's notice 30 days
#: before it, or a date moved to the site's time zone would fall outside it (an internal error)
YEARS = range(1900, 3000)


def parse_day_or_moment(text: str) -> date | datetime:
    """A date alone as a :class:`date` (a whole day), else as :func:`parse_datetime` reads it:
    "through 2024-06-01" and "until 2024-06-01 00:00" end a day apart."""
    try:  # every spelling of a day alone Python reads (2024-06-01, 20240601, 2024-W22-6)
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_datetime(text)
    return _within_years(day, "date", text)


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (01:00 where the clocks skip midnight)."""
    return localize(datetime.combine(day, time()), zone)


def parse_datetime(text: str) -> datetime:
    """Parse a date or date-time; the result is naive unless the text carries an offset."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            parsed = datetime.combine(date.fromisoformat(value), time())
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", value):
            day, clock = re.split(r"[ T]", value)
            if len(clock.split(":")[0]) == 1:
                clock = "0" + clock
            parsed = datetime.fromisoformat(f"{day}T{clock}")
        else:
            parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise ValueError(f'must be a date such as {_DATE_FORMS}, got "{text}"') from None
    return _within_years(parsed, "date", text)


def _within_years(moment: _Day, what: str, text: str) -> _Day:
    if moment.year not in YEARS:
        raise ValueError(f'must be a {what} in the years {YEARS[0]} to {YEARS[-1]}, got "{text}"')
    return moment


def localize(moment: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a naive datetime; convert an aware one to ``zone``.

    A time the clocks skip when summer time starts (02:30 on the last Sunday of March in Rome)
    does not exist there: it becomes the time it is (03:30, summer time), the same instant. Kept
    as written, it was stored in the build cache as that instant and came back as 03:30, so a
    build from the cache and a clean one printed two times for one post."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return moment.astimezone(zone)


def date_from_filename(stem: str) -> tuple[datetime | None, str]:
    """Split ``2024-05-01-title`` into (date, "title"); (None, stem) without a date prefix."""
    match = _DATE_PREFIX.match(stem)
    if not match:
        return None, stem
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        return None, stem
    if day.year not in YEARS:  # 0024-05-01 (a typo) was published in year 24; 0001 failed
        return None, stem
    return datetime.combine(day, time()), match.group(2)


CENTS = Decimal("0.01")


def parse_price(text: str) -> Decimal:
    """A non-negative decimal amount such as 12.50 (no currency symbol, dot for decimals)."""
    value_text = text.strip()
    # ASCII digits only: Decimal() would also take "1e2", "-0", "+3", "1_000" or other scripts'
    # digits, and their odd forms ("1E+2", "-0") would reach the page and the JSON-LD offer.
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?|\.[0-9]+", value_text):
        raise ValueError(f'must be a number like 12.50, got "{text}"')
    digits = len(value_text) - value_text.count(".")
    if digits > MAX_NUMBER_DIGITS:
        raise ValueError(f"must be a number of at most {MAX_NUMBER_DIGITS} digits, got {digits:,}")
    value = Decimal(value_text)
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f'must have at most two decimals, got "{text}"')
    # always two decimals: 6.5 and 6.50 are one price, and equal Decimals must read the same
    # (a long-lived build session takes a document that compares equal as unchanged)
    return value.quantize(CENTS)


#: GTIN-13 prefixes Google refuses: store-internal numbers (2, 02, 04) and coupons (05, 981-984, 99).
_RESTRICTED_GTIN = ("2", "02", "04")
_COUPON_GTIN = ("05", "981", "982", "983", "984", "99")


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of the digits before it (weights 3 and 1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def parse_gtin(text: str) -> str:
    """A GTIN (EAN, UPC, ISBN-13): 8, 12, 13 or 14 digits with a correct check digit.

    Spaces and dashes as printed under a barcode are dropped. Numbers only valid inside one store
    (prefix 2) or on coupons are refused, as Google Merchant Center refuses them.
    """
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"[0-9]+", digits):
        raise ValueError(f'must be the digits under the barcode, got "{text}"')
    if len(digits) not in (8, 12, 13, 14):
        raise ValueError(f'must have 8, 12, 13 or 14 digits, got {len(digits)} in "{text}"')
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise ValueError(f'has a wrong check digit: "{text}" would end in {expected}; a typing '
                         "mistake is likely")
    # the number as GTIN-13 (12-digit UPCs get a leading 0); GTIN-8 has its own store range
    as_13 = digits.zfill(14)[1:] if len(digits) > 8 and digits.zfill(14)[0] == "0" else ""
    if as_13.startswith(_RESTRICTED_GTIN) or (len(digits) == 8 and digits[0] in "02"):
        raise ValueError(f'"{text}" is a number for use inside one store, not a global GTIN')
    if as_13.startswith(_COUPON_GTIN):
        raise ValueError(f'"{text}" is a coupon number, not a product GTIN')
    return digits


def parse_alias(text: str) -> str:
    """An old address of a page, written from the site root: ``/blog/vecchio-titolo/``.

    Kept as written (Unicode in NFC form). Characters that cannot appear in a ``_redirects``
    line or an nginx ``map`` entry, and anything that could leave the output folder, are refused.
    """
    value = unicodedata.normalize("NFC", drop_invisible(text).strip())
    if not value.startswith("/") or value.startswith("//"):
        raise ValueError(f'must be an old address of this site starting with "/", like '
                         f'/blog/vecchio-titolo/, got "{text}"')
    if "?" in value or "#" in value:
        raise ValueError(f'must be a plain path without "?" or "#", got "{text}"')
    if ".." in value.split("/") or re.search(r'[\s\\"\';{}<>\x00-\x1f\x7f]', value):
        raise ValueError(f'must be a path without spaces, quotes, "..", ";" or braces, got "{text}"')
    longest = longest_name(value)
    if len(longest.encode("utf-8", "surrogatepass")) > NAME_BYTES:
        # each part is a folder or file of output/: the write failed ("File name too long")
        shown = f"{longest[:30]}…" if len(longest) > 30 else longest
        raise ValueError(f'has a part of {len(longest.encode("utf-8", "surrogatepass")):,} '
                         f'bytes ("{shown}"); each part between two "/" is a folder name of the '
                         f"site, which can have at most {NAME_BYTES} (an accented letter takes 2)")
    if "*" in value or any(part.startswith(":") for part in value.split("/")):
        # Netlify and Cloudflare Pages read them in _redirects as a splat and a placeholder
        raise ValueError(f'must be one exact address, without "*" or a part starting with ":" '
                         f'(_redirects reads them as patterns matching other addresses), got '
                         f'"{text}"')
    return value


def parse_slug(text: str) -> str:
    """A URL slug: lowercase letters, digits and dashes only (so it can never leave output/).
    Invisible characters are dropped: "chi\u200bsiamo" is the "chisiamo" the owner sees."""
    text = drop_invisible(text)
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", text):
        raise ValueError(
            f'must use only lowercase letters, digits and dashes (like "vaso-blu"), got "{text}"'
        )
    if len(text) > MAX_SLUG_LENGTH:
        raise ValueError(f"must be at most {MAX_SLUG_LENGTH} characters long, got {len(text):,}")
    return text


#: the templates the build renders for other pages than the owner's: each expects what its
#: page shows (``post``, ``product``, ``posts``...), which a page of content/pages does not have
OTHER_TEMPLATES = {
    "index": "the home page", "blog": "the blog listing", "post": "a blog post",
    "catalog": "the product catalogue", "product": "a product", "faq": "the FAQ page",
    "tag": "a tag's page", "tags": "the tags index", "newsletter": "the newsletter archive",
    "newsletter_issue": "a newsletter issue", "redirect": "an old address's redirect",
    "404": 'the "page not found" page',
}


def parse_template_name(text: str) -> str:
    """A page template such as ``landing.html``; partials (``_x``), ``base`` and the templates
    of the other pages (:data:`OTHER_TEMPLATES`) are not pages."""
    if not re.fullmatch(r"[A-Za-z0-9-][A-Za-z0-9_-]*(\.html)?", text) or text.removesuffix(
            ".html") == "base":
        raise ValueError(f'must be a page template file name such as "landing.html", got "{text}"')
    other = OTHER_TEMPLATES.get(text.removesuffix(".html"))
    if other is not None:
        # rendered with a page's fields, it failed on the first one it missed, naming the
        # theme's file ("'post' is undefined") instead of this line
        raise ValueError(f'must be a template for pages, such as "page.html" or one of your '
                         f'theme\'s own; "{text}" is the template of {other}')
    return text if text.endswith(".html") else text + ".html"


def parse_link(text: str) -> str:
    """An image or link target: a site path (/assets/x.jpg), an assets path or an http(s) URL."""
    value = text.strip()
    if value.startswith(("http://", "https://")):
        return value
    if value.startswith("assets/"):
        value = "/" + value
    if not value.startswith("/") or ".." in value.split("/") or "\\" in value:
        raise ValueError(f'must be a path like /assets/photo.jpg or an https:// URL, got "{text}"')
    return value


def parse_currency(text: str) -> str:
    """Accept the ISO 4217 code of a currency in use (case-insensitive) such as EUR."""
    code = text.strip().upper()
    if code not in known_currencies():
        raise ValueError(f'must be an ISO 4217 currency code such as EUR or USD, got "{text}"')
    if code not in currencies_in_use():
        # ITL published prices in lire, XXX ("no currency") a price in "¤", XAU in ounces of
        # gold; the merchant feed and the structured data named them to Google as they were
        raise ValueError(f'must be the code of a currency in use today, such as EUR or USD, '
                         f'got "{text}" ({get_currency_name(code, locale="en")})')
    return code


_CURRENCIES: frozenset[str] = frozenset()
_IN_USE: frozenset[str] = frozenset()


def known_currencies() -> frozenset[str]:
    global _CURRENCIES
    if not _CURRENCIES:
        _CURRENCIES = frozenset(list_currencies())
    return _CURRENCIES


def currencies_in_use() -> frozenset[str]:
    """The codes that are legal tender somewhere with no end in Babel's data (CLDR): not the
    old ones (ITL, DEM, HRK), nor the codes of metals, funds and tests (XAU, CLF, XXX, XTS).
    A fixed date far ahead, not today: the same site reads the same on any day."""
    global _IN_USE
    if not _IN_USE:
        ahead = date(2999, 1, 1)
        _IN_USE = frozenset(code for territory in get_global("territory_currencies")
                            for code in get_territory_currencies(territory, ahead, ahead))
    return _IN_USE


def parse_timezone(text: str) -> str:
    if text.strip().lower() == "localtime":  # Debian's tz database links it to /etc/localtime
        raise ValueError('must be a time zone name such as Europe/Rome, not "localtime": that is '
                         "this computer's own setting, and a computer set otherwise (a CI "
                         "server) would build other dates")
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
    """The site's public address, written as every URL of the site starts: a host in Unicode
    (``https://caffè.it/``) in its ASCII form (IDNA, as a browser sends it: ``xn--caff-8oa.it``),
    anything but ASCII letters, digits and the few marks a path may hold percent-encoded
    (``/caffè/`` -> ``/caff%C3%A8/``). Sitemaps, feeds and ``og:url`` take only such URLs, and a
    browser's ``Origin`` header names the host so (the forms compare it with this)."""
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", text):
        raise ValueError(f'must be an absolute http(s) URL such as https://example.com/, got "{text}"')
    if "?" in text or "#" in text:  # every page's address is the base URL and a path after it
        raise ValueError(f'must be the address of the site\'s folder, without ? or #, such as '
                         f'https://example.com/shop/, got "{text}"')
    scheme, _, rest = text.partition("://")
    netloc, _, path = rest.partition("/")
    # an empty folder (https://example.com//shop/) made every link start "//shop/...", which a
    # browser reads as the host "shop"; "." and ".." folders (%2e too) name another folder
    folders = path.rstrip("/").split("/") if path.rstrip("/") else []
    if any(unquote(folder) in ("", ".", "..") for folder in folders):
        raise ValueError(f'must be the address of the site\'s folder, without "//", "/./" or '
                         f'"/../" in it, such as https://example.com/shop/, got "{text}"')
    path = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", path.rstrip("/"))  # a "%" that is no escape
    url = f"{scheme}://{_ascii_netloc(netloc, text)}/{quote(path, safe=PATH_SAFE + '%')}".rstrip(
        "/") + "/"
    try:  # what every later use of it reads: https://[::1/ is no address ("Invalid IPv6 URL")
        urlsplit(url).port  # noqa: B018 - read for its check
    except ValueError:
        raise ValueError(f'must be an absolute http(s) URL such as https://example.com/, got '
                         f'"{text}"') from None
    return url


def _ascii_netloc(netloc: str, text: str) -> str:
    """``user@host:port`` with the host in its IDNA form (as browsers make it: UTS #46)."""
    user, at, host_port = netloc.rpartition("@")
    host, colon, port = host_port.partition(":") if not host_port.startswith("[") else (
        host_port, "", "")
    if not host or (colon and not port.isdigit()):
        raise ValueError(f'must be an absolute http(s) URL such as https://example.com/, got "{text}"')
    if not host.isascii():
        host = ascii_domain(host) or ""
        if not host:
            raise ValueError(f'must have a domain name that a browser can visit, got "{text}"')
    return f"{quote(user, safe=PATH_SAFE + '%')}{at}{host}{colon}{port}"


def parse_email(text: str) -> str:
    """A public e-mail address (it becomes a ``mailto:`` link and structured data)."""
    value = text.strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f'must be an e-mail address such as ciao@negozio.it, got "{text}"')
    return value


def parse_phone(text: str) -> str:
    """A phone number as the owner writes it, with its digits (a ``tel:`` link is made of them)."""
    if sum(ch.isdigit() for ch in text) < 3:  # "chiamaci" made an empty tel: link
        raise ValueError(f'must be a phone number such as +39 0583 000 000, got "{text}"')
    return text.strip()


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


def parse_theme_name(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", text):
        raise ValueError(f'must be the name of a folder in themes/ such as "bottega", got "{text}"')
    return text


DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_HOURS_FORM = 'like "Mo-Fr 09:00-13:00,15:00-19:00" or "Sa,Su 10:00-12:30"'
_CLOCK = re.compile(r"([01]\d|2[0-4]):([0-5]\d)")


def split_opening_hours(text: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``Tu-Fr 09:30-13:00,15:30-19:00`` -> (("Tu", "We", "Th", "Fr"), (("09:30", "13:00"), ...)).

    Days are schema.org's two-letter codes, single or as ranges (``Fr-Mo`` wraps over the
    week-end); times are 24-hour ``HH:MM``. A closing time earlier than the opening one means
    after midnight. Raise ``ValueError`` ("must be ...") for anything else.
    """
    day_part, _, time_part = text.strip().partition(" ")
    days: list[str] = []
    for item in day_part.split(","):
        first, dash, last = item.partition("-")
        if first not in DAY_CODES or (dash and last not in DAY_CODES):
            raise ValueError(f'must be opening hours {_HOURS_FORM}, got "{text}"')
        start = DAY_CODES.index(first)
        span = (DAY_CODES.index(last) - start) % 7 if dash else 0
        days.extend(DAY_CODES[(start + n) % 7] for n in range(span + 1))
    ranges: list[tuple[str, str]] = []
    for item in time_part.replace(" ", "").split(","):
        opens, _, closes = item.partition("-")
        if not (_CLOCK.fullmatch(opens) and _CLOCK.fullmatch(closes)) or opens == closes:
            raise ValueError(f'must be opening hours {_HOURS_FORM}, got "{text}"')
        ranges.append((opens, closes))
    return tuple(dict.fromkeys(days)), tuple(ranges)


def parse_opening_hours(text: str) -> str:
    """schema.org ``openingHours`` text, checked by :func:`split_opening_hours`."""
    split_opening_hours(text)
    return text.strip()


def parse_day(text: str) -> date:
    """A calendar day written ``2026-08-10``."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            day = date.fromisoformat(text.strip())
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f'must be a day such as 2026-08-10, got "{text}"') from None
    return _within_years(day, "day", text)


MAP_PROVIDERS = ("openstreetmap", "google", "apple")


def parse_map(text: str) -> str:
    """Which map the "open the map" link opens: a provider, ``none``, or an https:// link."""
    value = text.strip()
    if value.lower() in ("none", "false", "no"):
        return "none"
    if value.lower() in MAP_PROVIDERS:
        return value.lower()
    if re.fullmatch(r"https://[^\s]+", value):
        return value
    raise ValueError('must be openstreetmap, google, apple, none or an https:// link to your '
                     f'place on a map, got "{text}"')


def parse_static_css(text: str) -> str:
    """A stylesheet of a theme, as a path below its ``static/`` folder, e.g. ``css/site.css``."""
    parts = text.split("/")
    if (not text.endswith(".css") or text.startswith("/") or "\\" in text
            or any(part in ("", ".", "..") for part in parts)):
        raise ValueError(f'must be a .css file below static/, such as "css/shop.css", got "{text}"')
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


_FOCUS_WORDS = {"left": ("0%", None), "right": ("100%", None), "top": (None, "0%"),
                "bottom": (None, "100%"), "center": (None, None), "centre": (None, None)}


def parse_focus(text: str) -> str:
    """A focal point for crops: ``30% 70%`` (across, down), or words like ``top``, ``left``,
    ``bottom right``, ``center``. Normalised to ``X% Y%``."""
    words = text.strip().lower().split()
    if all(word in _FOCUS_WORDS for word in words) and 1 <= len(words) <= 2:
        across, down = "50%", "50%"
        for word in words:
            x, y = _FOCUS_WORDS[word]
            across, down = x or across, y or down
        return f"{across} {down}"
    if len(words) == 2 and all(re.fullmatch(r"\d{1,3}(\.\d+)?%", word) for word in words):
        values = [float(word[:-1]) for word in words]
        if all(0 <= value <= 100 for value in values):
            return " ".join(f"{value:g}%" for value in values)
    raise ValueError(f'must be a point like "30% 70%" (across, down) or words like "top" or '
                     f'"bottom left", got "{text}"')


def focus_point(focus: str) -> tuple[float, float]:
    """``"30% 70%"`` (as :func:`parse_focus` writes it; "" is the centre) -> (0.3, 0.7)."""
    if not focus:
        return 0.5, 0.5
    across, down = focus.split()
    return float(across[:-1]) / 100, float(down[:-1]) / 100


def parse_width(text: str) -> int:
    """An image width in pixels, between 16 and 10000."""
    value = text.strip()
    if not re.fullmatch(r"\d{1,6}", value) or not 16 <= int(value) <= 10000:
        raise ValueError(f'must be a width in pixels between 16 and 10000, got "{text}"')
    return int(value)


def ascii_domain(name: str) -> str | None:
    """A domain name in its ASCII form (caffè.it: xn--caff-8oa.it), which every browser and
    mail server takes; None when it has none (a symbol, an invisible joiner, a label too
    long)."""
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        return None

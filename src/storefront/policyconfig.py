"""The shop-wide shipping and returns policies declared in ``storefront.yaml``.

Part of the config (stage 1): frozen dataclasses checked by :mod:`storefront.schema`, so a wrong
value is a ``storefront.yaml:LINE`` error like any other. One declaration serves three readers
that must never disagree: the product pages' JSON-LD (``shippingDetails``,
``hasMerchantReturnPolicy``), the merchant feed (``g:shipping``) and the readable section the
theme renders on the page that sets ``policies: true``. Amounts are in the site's currency.
Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import yaml
from babel import Locale

from storefront.errors import ContentError, error_at
from storefront.schema import field_doc
from storefront.values import parse_price

ReturnMethod = Literal["by_mail", "in_store"]
ReturnFees = Literal["free", "customer_pays", "fixed"]

#: Two-letter codes CLDR lists that are not countries a parcel can be sent to.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})
MAX_DAYS = 90


@functools.cache
def known_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from Babel's CLDR data)."""
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(code for code in codes
                     if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


@functools.cache
def _codes_by_name() -> dict[str, str]:
    """The code of each country by its name in Italian and in English, in small letters."""
    return {str(name).casefold(): str(code) for language in ("en", "it")
            for code, name in Locale(language).territories.items() if code in known_countries()}


def parse_country(text: str) -> str:
    """A two-letter ISO 3166 country code such as IT (case-insensitive).

    A country's name in Italian or English (``Italia``) is refused with its code in the message.
    """
    code = text.strip().upper()
    if code not in known_countries():
        named = _codes_by_name().get(text.strip().casefold())
        which = f"; the code of {text.strip()} is {named}" if named else ""
        raise ValueError(f'must be a two-letter ISO 3166 country code such as IT or DE, got '
                         f'"{text}"{which}')
    return code


@dataclass(frozen=True)
class DayRange:
    """A number of business days, or a range of them such as 2-4."""

    min: int
    max: int

    def __post_init__(self) -> None:
        if not 0 <= self.min <= self.max <= MAX_DAYS:
            raise ValueError(f"a range of days must go from a smaller to a larger number between "
                             f"0 and {MAX_DAYS}, got {self.min}-{self.max}")

    def __str__(self) -> str:
        return str(self.min) if self.min == self.max else f"{self.min}–{self.max}"


def parse_day_range(text: str) -> DayRange:
    """``3`` or ``2-4`` (also with an en dash) business days."""
    match = re.fullmatch(r"\s*(\d{1,3})\s*(?:[-–]\s*(\d{1,3})\s*)?", text)
    if match is None:
        raise ValueError(f'must be a number of days such as 3, or a range such as 2-4, got "{text}"')
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else low
    if not low <= high <= MAX_DAYS:
        raise ValueError(f"must go from the smaller to the larger number of days (at most "
                         f'{MAX_DAYS}), got "{text}"')
    return DayRange(low, high)


_PRICE = {"parse": parse_price, "hint": "write the amount without the currency symbol, like 9.00"}
_DAYS = {"parse": parse_day_range, "hint": "business days, like 3 or 2-4"}
_COUNTRY = {"parse": parse_country, "hint": "two-letter codes such as [IT, FR, DE]"}


@dataclass(frozen=True)
class ShippingZone:
    countries: tuple[str, ...] = field(metadata=field_doc("destination countries", **_COUNTRY))
    price: Decimal = field(metadata=field_doc("shipping cost of an order", **_PRICE))
    transit_days: DayRange = field(metadata=field_doc("business days on the way", **_DAYS))
    name: str = field(default="", metadata=field_doc("label shown to customers (default: the "
                                                     "countries' names)"))
    free_over: Decimal | None = field(
        default=None, metadata=field_doc("orders from this amount ship free", **_PRICE))

    def __post_init__(self) -> None:
        if not self.countries:
            raise ValueError("a shipping zone needs at least one country in countries:")


@dataclass(frozen=True)
class Shipping:
    handling_days: DayRange = field(
        metadata=field_doc("business days to prepare a parcel", **_DAYS))
    zones: tuple[ShippingZone, ...] = field(metadata=field_doc("destinations and their rates"))

    def __post_init__(self) -> None:
        if not self.zones:
            raise ValueError("shipping needs at least one zone in zones:")

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for zone in self.zones for c in zone.countries))


@dataclass(frozen=True)
class Returns:
    days: int = field(metadata=field_doc("days after delivery to return an item (0: no returns)",
                                         minimum=0))
    method: tuple[ReturnMethod, ...] = field(
        default=("by_mail",), metadata=field_doc("how items come back: by_mail, in_store"))
    fees: ReturnFees = field(
        default="customer_pays",
        metadata=field_doc("who pays the return: free, customer_pays or fixed (with fee:)"))
    fee: Decimal | None = field(
        default=None, metadata=field_doc("the fixed return fee, with fees: fixed", **_PRICE))
    countries: tuple[str, ...] = field(
        default=(), metadata=field_doc("countries the policy applies to (default: the "
                                       "shipping countries)", **_COUNTRY))

    def __post_init__(self) -> None:
        if self.fees == "fixed" and self.fee is None:
            raise ValueError('returns: fees: fixed needs the amount in fee:, like fee: 6.50')
        if self.fee is not None and self.fees != "fixed":
            raise ValueError(f'returns: fee: is only used with fees: fixed (fees is "{self.fees}")')


def returns_countries(returns: Returns, shipping: Shipping | None, home: str) -> tuple[str, ...]:
    """The countries a return policy applies to: its own list, the shipping ones, or home."""
    if returns.countries:
        return returns.countries
    if shipping is not None:
        return shipping.countries
    return (home,) if home else ()


def check_policies(node: yaml.Node | None, shipping: Shipping | None, returns: Returns | None,
                   home_country: str, path: str) -> list[ContentError]:
    """Problems that span several entries: a country in two zones, returns with no country."""
    errors: list[ContentError] = []
    if shipping is not None:
        seen: dict[str, int] = {}
        for zone_index, zone in enumerate(shipping.zones):
            for index, country in enumerate(zone.countries):
                if country in seen:
                    where = node_at(node, "shipping", "zones", zone_index, "countries", index)
                    errors.append(error_at(
                        path, _line(where), f"the country {country} is in two shipping zones "
                        f"({seen[country] + 1} and {zone_index + 1})",
                        "list each country in one zone only"))
                seen.setdefault(country, zone_index)
    if returns is not None and not returns_countries(returns, shipping, home_country):
        errors.append(error_at(
            path, _line(node_at(node, "returns")), "returns: no country to apply the policy to",
            "add countries: [IT], or a shipping: section, or business: address: country:"))
    return errors


def _line(node: yaml.Node | None) -> int:
    return int(node.start_mark.line) + 1 if node is not None else 0


def node_at(node: yaml.Node | None, *path: str | int) -> yaml.Node | None:
    """The node below ``node`` at ``path`` (mapping keys and list indices), or None.

    Lets a later check point at the exact line of one value, e.g.
    ``node_at(root, "shipping", "zones", 1, "countries", 0)``.
    """
    for step in path:
        if isinstance(step, str) and isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if str(key.value) == step), None)
        elif isinstance(step, int) and isinstance(node, yaml.SequenceNode) and step < len(node.value):
            node = node.value[step]
        else:
            return None
    return node

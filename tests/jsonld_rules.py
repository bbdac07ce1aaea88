"""Google's structured-data requirements per type, checked on JSON-LD blocks.

``jsonld_blocks`` pulls every ``<script type="application/ld+json">`` out of a page and
``json.loads`` it (a block that does not load is a failure); ``jsonld_problems`` returns what a
block misses, as readable strings. A type this module does not know is a problem too, so a new
kind of block cannot slip through unchecked. ``merchant=True`` asks for the merchant-listing
fields on every Product (brand, itemCondition, shipping details and return policy), as a shop with
shipping and returns in storefront.yaml must give them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from babel.numbers import list_currencies

from feed_rules import RFC3339, is_absolute

S = "https://schema.org/"
AVAILABILITY = {S + v for v in ("InStock", "OutOfStock", "PreOrder", "BackOrder", "Discontinued",
                                "LimitedAvailability", "SoldOut")}
CONDITION = {S + v for v in ("NewCondition", "RefurbishedCondition", "UsedCondition", "DamagedCondition")}
RETURN_CATEGORY = {S + v for v in ("MerchantReturnFiniteReturnWindow", "MerchantReturnNotPermitted",
                                   "MerchantReturnUnlimitedWindow", "MerchantReturnUnspecified")}
RETURN_METHOD = {S + v for v in ("ReturnByMail", "ReturnInStore", "ReturnAtKiosk")}
RETURN_FEES = {S + v for v in ("FreeReturn", "ReturnFeesCustomerResponsibility", "ReturnShippingFees")}
LOCAL_BUSINESS = {"LocalBusiness", "Store", "Bakery", "HomeGoodsStore"}
_BLOCK = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def jsonld_blocks(html: str) -> list[dict[str, Any]]:
    return [json.loads(text) for text in _BLOCK.findall(html)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) or bool(re.fullmatch(r"\d+(\.\d+)?", str(value)))


def _country(value: Any) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"[A-Z]{2}", value))


def _days(value: Any, where: str) -> list[str]:
    if not isinstance(value, dict) or value.get("@type") != "QuantitativeValue":
        return [f"{where}: must be a QuantitativeValue"]
    low, high = value.get("minValue"), value.get("maxValue")
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        return [f"{where}: minValue/maxValue must be whole days, min <= max"]
    return [] if value.get("unitCode") in ("DAY", "d") else [f"{where}: unitCode must be DAY"]


def _shipping(details: Any, currency: str) -> list[str]:
    problems: list[str] = []
    for index, detail in enumerate(_list(details), 1):
        where = f"shippingDetails[{index}]"
        if detail.get("@type") != "OfferShippingDetails":
            problems.append(f"{where}: @type must be OfferShippingDetails")
        rate = detail.get("shippingRate") or {}
        if not _number(rate.get("value")) or rate.get("currency") != currency:
            problems.append(f"{where}: shippingRate needs a value and the offer's currency {currency}")
        destinations = _list(detail.get("shippingDestination") or [])
        if not destinations or not all(_country(d.get("addressCountry")) for d in destinations):
            problems.append(f"{where}: shippingDestination needs addressCountry codes")
        time = detail.get("deliveryTime") or {}
        problems += _days(time.get("handlingTime"), f"{where}.deliveryTime.handlingTime")
        problems += _days(time.get("transitTime"), f"{where}.deliveryTime.transitTime")
    return problems


def _return_policy(policy: Any, where: str) -> list[str]:
    problems: list[str] = []
    if not isinstance(policy, dict) or policy.get("@type") != "MerchantReturnPolicy":
        return [f"{where}: must be a MerchantReturnPolicy"]
    if not all(_country(c) for c in _list(policy.get("applicableCountry"))):
        problems.append(f"{where}: applicableCountry must be ISO 3166 codes")
    category = policy.get("returnPolicyCategory")
    if category not in RETURN_CATEGORY:
        problems.append(f"{where}: returnPolicyCategory {category!r} is not a known one")
    if category == S + "MerchantReturnFiniteReturnWindow" and not (
            isinstance(policy.get("merchantReturnDays"), int) and policy["merchantReturnDays"] > 0):
        problems.append(f"{where}: a finite return window needs merchantReturnDays")
    if "returnMethod" in policy and not set(_list(policy["returnMethod"])) <= RETURN_METHOD:
        problems.append(f"{where}: unknown returnMethod {policy['returnMethod']!r}")
    if "returnFees" in policy and policy["returnFees"] not in RETURN_FEES:
        problems.append(f"{where}: unknown returnFees {policy['returnFees']!r}")
    if policy.get("returnFees") == S + "ReturnShippingFees" and "returnShippingFeesAmount" not in policy:
        problems.append(f"{where}: ReturnShippingFees needs returnShippingFeesAmount")
    if "merchantReturnLink" in policy and not is_absolute(policy["merchantReturnLink"]):
        problems.append(f"{where}: merchantReturnLink is not absolute")
    return problems


def _product(data: dict[str, Any], merchant: bool) -> list[str]:
    problems = [] if data.get("name") else ["Product: no name"]
    offer = data.get("offers")
    if not isinstance(offer, dict) or offer.get("@type") != "Offer":
        return [*problems, "Product: needs an Offer in offers"]
    if not _number(offer.get("price")):
        problems.append(f"Offer: price {offer.get('price')!r} is not a number")
    currency = offer.get("priceCurrency")
    if currency not in list_currencies():
        problems.append(f"Offer: priceCurrency {currency!r} is not ISO 4217")
    if offer.get("availability") not in AVAILABILITY:
        problems.append(f"Offer: availability {offer.get('availability')!r} is not a schema.org value")
    if "image" in data and not all(is_absolute(i) for i in _list(data["image"])):
        problems.append("Product: image URLs must be absolute")
    if "gtin" in data and not re.fullmatch(r"\d{8}|\d{12,14}", data["gtin"]):
        problems.append(f"Product: gtin {data['gtin']!r} is not 8, 12, 13 or 14 digits")
    if merchant:
        brand = data.get("brand")
        if not (isinstance(brand, dict) and brand.get("@type") == "Brand" and brand.get("name")):
            problems.append("Product: merchant listings want a Brand with a name")
        if offer.get("itemCondition") not in CONDITION:
            problems.append(f"Offer: itemCondition {offer.get('itemCondition')!r} is not a schema.org value")
        if "shippingDetails" not in offer:
            problems.append("Offer: merchant listings want shippingDetails")
        if "hasMerchantReturnPolicy" not in offer:
            problems.append("Offer: merchant listings want hasMerchantReturnPolicy")
    if "shippingDetails" in offer:
        problems += _shipping(offer["shippingDetails"], currency)
    if "hasMerchantReturnPolicy" in offer:
        problems += _return_policy(offer["hasMerchantReturnPolicy"], "Offer.hasMerchantReturnPolicy")
    return problems


def _organization(data: dict[str, Any]) -> list[str]:
    problems = [] if data.get("name") else [f"{data['@type']}: no name"]
    if "url" in data and not is_absolute(data["url"]):
        problems.append(f"{data['@type']}: url is not absolute")
    if data["@type"] in LOCAL_BUSINESS:
        address = data.get("address")
        if not (isinstance(address, dict) and address.get("@type") == "PostalAddress"
                and (address.get("streetAddress") or address.get("addressLocality"))):
            problems.append(f"{data['@type']}: needs a PostalAddress in address (Google requires it)")
    elif "address" in data or "openingHours" in data or "geo" in data:
        problems.append(f"{data['@type']}: place properties belong on a LocalBusiness")
    if "hasMerchantReturnPolicy" in data:
        problems += _return_policy(data["hasMerchantReturnPolicy"],
                                   f"{data['@type']}.hasMerchantReturnPolicy")
    return problems


def _breadcrumbs(data: dict[str, Any]) -> list[str]:
    items = data.get("itemListElement")
    if not isinstance(items, list) or len(items) < 2:
        return ["BreadcrumbList: needs at least two ListItems"]
    problems = []
    for index, item in enumerate(items, 1):
        if item.get("@type") != "ListItem" or item.get("position") != index or not item.get("name"):
            problems.append(f"BreadcrumbList: item {index} needs @type ListItem, position {index}, a name")
        if index < len(items) and not is_absolute(item.get("item")):
            problems.append(f"BreadcrumbList: item {index} needs an absolute item URL")
    return problems


def _faq(data: dict[str, Any]) -> list[str]:
    questions = data.get("mainEntity")
    if not isinstance(questions, list) or not questions:
        return ["FAQPage: mainEntity needs Questions"]
    return [f"FAQPage: question {i} needs a name and acceptedAnswer.text"
            for i, q in enumerate(questions, 1)
            if not (q.get("@type") == "Question" and q.get("name")
                    and (q.get("acceptedAnswer") or {}).get("text"))]


def _posting(data: dict[str, Any]) -> list[str]:
    problems = [] if data.get("headline") else ["BlogPosting: no headline"]
    for name in ("datePublished", "dateModified"):
        if name in data and not RFC3339.match(data[name]):
            problems.append(f"BlogPosting: {name} {data[name]!r} needs a date-time with a timezone")
    if "image" in data and not all(is_absolute(i) for i in _list(data["image"])):
        problems.append("BlogPosting: image must be absolute")
    return problems


def jsonld_problems(data: dict[str, Any], merchant: bool = False) -> list[str]:
    if data.get("@context") != "https://schema.org":
        return [f"@context is {data.get('@context')!r}"]
    kind = data.get("@type")
    if kind == "Product":
        return _product(data, merchant)
    if kind in ("Organization", "OnlineStore") or kind in LOCAL_BUSINESS:
        return _organization(data)
    if kind == "BreadcrumbList":
        return _breadcrumbs(data)
    if kind == "FAQPage":
        return _faq(data)
    if kind == "BlogPosting":
        return _posting(data)
    return [f"unchecked @type {kind!r}"]

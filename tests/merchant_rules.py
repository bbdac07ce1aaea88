"""Google Merchant Center's product data specification, checked on a feed's XML.

Returns the problems found as readable strings (an empty list: the feed meets the rules). From the
specification: the RSS 2.0 items need ``title``, ``link`` and ``description``; then ``g:id``
(unique, at most 50 characters), ``g:image_link``, ``g:availability`` (in_stock, out_of_stock,
preorder, backorder; the last two with ``g:availability_date``), ``g:price`` as ``12.50 EUR``,
``g:sale_price`` below the price and ``g:sale_price_effective_date`` as a start/end pair of
``YYYY-MM-DDThh:mm±hhmm``, ``g:brand``, ``g:condition`` (new, refurbished, used), a valid
``g:gtin`` or an ``g:mpn`` or ``g:identifier_exists`` no, and well-formed ``g:shipping``.
Values in English, links absolute, title at most 150 and description at most 5000 characters.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from babel.numbers import list_currencies
from lxml import etree

from feed_rules import is_absolute

G = "{http://base.google.com/ns/1.0}"
PRICE = re.compile(r"^(\d+\.\d{2}) ([A-Z]{3})$")
DATE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{4})"
AVAILABILITY = {"in_stock", "out_of_stock", "preorder", "backorder"}
CONDITION = {"new", "refurbished", "used"}
REQUIRED = ("id", "image_link", "availability", "price", "brand", "condition")


def _price(text: str | None, where: str, problems: list[str]) -> Decimal | None:
    match = PRICE.match(text or "")
    if match is None:
        problems.append(f"{where}: {text!r} is not a price like '12.50 EUR'")
        return None
    if match.group(2) not in list_currencies():
        problems.append(f"{where}: {match.group(2)} is not an ISO 4217 currency")
    return Decimal(match.group(1))


def _gtin_ok(digits: str) -> bool:
    if not re.fullmatch(r"\d{8}|\d{12,14}", digits):
        return False
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == int(digits[-1])


def _when(text: str) -> datetime:
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M%z" if text.count(":") == 1
                             else "%Y-%m-%dT%H:%M:%S%z")


def merchant_problems(data: bytes) -> list[str]:
    root = etree.fromstring(data)
    problems: list[str] = []
    if root.tag != "rss" or root.get("version") != "2.0" or "g" not in root.nsmap:
        return ["not an RSS 2.0 document with the g: namespace"]
    ids: set[str] = set()
    for index, item in enumerate(root.iterfind("channel/item"), 1):
        where = f"item {index}"

        def g(name: str, item: etree._Element = item) -> str | None:
            return item.findtext(f"{G}{name}")

        title, link, description = item.findtext("title"), item.findtext("link"), item.findtext(
            "description")
        if not title or len(title) > 150:
            problems.append(f"{where}: title must have 1 to 150 characters")
        if not description or len(description) > 5000:
            problems.append(f"{where}: description must have 1 to 5000 characters")
        if not is_absolute(link):
            problems.append(f"{where}: link {link!r} is not absolute")
        problems += [f"{where}: missing g:{name}" for name in REQUIRED if not g(name)]
        item_id = g("id") or ""
        if len(item_id) > 50:
            problems.append(f"{where}: id {item_id!r} is longer than 50 characters")
        if item_id in ids:
            problems.append(f"{where}: id {item_id!r} is used twice")
        ids.add(item_id)
        images = [g("image_link"), *(e.text for e in item.findall(f"{G}additional_image_link"))]
        problems += [f"{where}: image {image!r} is not absolute" for image in images
                     if image and not is_absolute(image)]
        if len(images) > 11:
            problems.append(f"{where}: more than 10 additional images")
        availability = g("availability")
        if availability not in AVAILABILITY:
            problems.append(f"{where}: availability {availability!r} is not one of {sorted(AVAILABILITY)}")
        if availability in ("preorder", "backorder") and not re.fullmatch(DATE, g("availability_date") or ""):
            problems.append(f"{where}: {availability} needs an availability_date like 2024-12-01T00:00+0100")
        if g("condition") not in CONDITION:
            problems.append(f"{where}: condition {g('condition')!r} is not one of {sorted(CONDITION)}")
        price = _price(g("price"), f"{where} price", problems)
        if g("sale_price") is not None:
            sale = _price(g("sale_price"), f"{where} sale_price", problems)
            if price is not None and sale is not None and sale >= price:
                problems.append(f"{where}: sale_price {sale} is not below price {price}")
        effective = g("sale_price_effective_date")
        if effective is not None:
            match = re.fullmatch(f"({DATE})/({DATE})", effective)
            if match is None:
                problems.append(f"{where}: sale_price_effective_date {effective!r} is not start/end")
            elif _when(match.group(1)) >= _when(match.group(2)):
                problems.append(f"{where}: sale_price_effective_date ends before it starts")
            if g("sale_price") is None:
                problems.append(f"{where}: sale_price_effective_date without sale_price")
        gtin, mpn, exists = g("gtin"), g("mpn"), g("identifier_exists")
        if gtin is not None and not _gtin_ok(gtin):
            problems.append(f"{where}: gtin {gtin!r} is not a valid GTIN")
        if not (gtin or mpn) and exists not in ("no", "false"):
            problems.append(f"{where}: no gtin or mpn, and no identifier_exists: no")
        if (gtin or mpn) and exists in ("no", "false"):
            problems.append(f"{where}: identifier_exists: no, but the item has identifiers")
        for shipping in item.findall(f"{G}shipping"):
            country = shipping.findtext(f"{G}country") or ""
            if not re.fullmatch(r"[A-Z]{2}", country):
                problems.append(f"{where}: shipping country {country!r} is not an ISO 3166 code")
            _price(shipping.findtext(f"{G}price"), f"{where} shipping price", problems)
            for kind in ("handling", "transit"):
                low = shipping.findtext(f"{G}min_{kind}_time")
                high = shipping.findtext(f"{G}max_{kind}_time")
                if low is not None and high is not None and int(low) > int(high):
                    problems.append(f"{where}: shipping min_{kind}_time is above the maximum")
        for threshold in item.findall(f"{G}free_shipping_threshold"):
            _price(threshold.findtext(f"{G}price_threshold"), f"{where} free_shipping_threshold",
                   problems)
    return problems

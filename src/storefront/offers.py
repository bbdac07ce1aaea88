"""The terms of the shop's offers as schema.org data: merchant-listing fields of a Product.

Pure: config and products in, JSON-ready dicts out. Google's merchant listings read, besides the
``Offer`` price, the product's ``brand``, identifiers (``gtin``, ``mpn``), ``itemCondition``,
and the offer's ``shippingDetails`` and ``hasMerchantReturnPolicy``. The shipping and returns
policies are declared once in storefront.yaml (:mod:`storefront.policyconfig`) and repeated on
every product, as Google asks; the return policy also goes on the shop's Organization.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from storefront.config import SiteConfig
from storefront.documents import Product
from storefront.policyconfig import DayRange, Returns, Shipping, returns_countries

SCHEMA = "https://schema.org/"
CONDITION = {"new": "NewCondition", "refurbished": "RefurbishedCondition", "used": "UsedCondition"}
RETURN_METHOD = {"by_mail": "ReturnByMail", "in_store": "ReturnInStore"}
RETURN_FEES = {"free": "FreeReturn", "customer_pays": "ReturnFeesCustomerResponsibility",
               "fixed": "ReturnShippingFees"}


def _days(days: DayRange) -> dict[str, Any]:
    return {"@type": "QuantitativeValue", "minValue": days.min, "maxValue": days.max,
            "unitCode": "DAY"}


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"@type": "MonetaryAmount", "value": f"{amount:.2f}", "currency": currency}


def shipping_details(shipping: Shipping, price: Decimal, currency: str) -> list[dict[str, Any]]:
    """One ``OfferShippingDetails`` per zone, for an item costing ``price``.

    An item that alone reaches a zone's free-shipping threshold ships free there.
    """
    details = []
    for zone in shipping.zones:
        free = zone.free_over is not None and price >= zone.free_over
        details.append({
            "@type": "OfferShippingDetails",
            "shippingRate": _money(Decimal(0) if free else zone.price, currency),
            "shippingDestination": [{"@type": "DefinedRegion", "addressCountry": country}
                                    for country in zone.countries],
            "deliveryTime": {"@type": "ShippingDeliveryTime",
                             "handlingTime": _days(shipping.handling_days),
                             "transitTime": _days(zone.transit_days)},
        })
    return details


def return_policy(returns: Returns, config: SiteConfig, link: str = "") -> dict[str, Any]:
    """A ``MerchantReturnPolicy`` with the categories and enumerations Google reads."""
    countries = returns_countries(returns, config.shipping, config.business.address.country.upper())
    policy: dict[str, Any] = {
        "@type": "MerchantReturnPolicy",
        "applicableCountry": list(countries) if len(countries) > 1 else countries[0],
    }
    if returns.days == 0:
        policy["returnPolicyCategory"] = SCHEMA + "MerchantReturnNotPermitted"
    else:
        policy["returnPolicyCategory"] = SCHEMA + "MerchantReturnFiniteReturnWindow"
        policy["merchantReturnDays"] = returns.days
        methods = [SCHEMA + RETURN_METHOD[method] for method in returns.method]
        policy["returnMethod"] = methods if len(methods) > 1 else methods[0]
        policy["returnFees"] = SCHEMA + RETURN_FEES[returns.fees]
        if returns.fees == "fixed" and returns.fee is not None:
            policy["returnShippingFeesAmount"] = _money(returns.fee, config.currency)
    if link:
        policy["merchantReturnLink"] = link
    return policy


def merchant_fields(product: Product, config: SiteConfig,
                    returns_link: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """What a Product (first) and its Offer (second) add for Google's merchant listings."""
    product_fields: dict[str, Any] = {
        "brand": {"@type": "Brand", "name": product.brand or config.business_name},
    }
    if product.gtin:
        product_fields["gtin"] = product.gtin
    if product.mpn:
        product_fields["mpn"] = product.mpn
    offer_fields: dict[str, Any] = {"itemCondition": SCHEMA + CONDITION[product.condition]}
    if product.availability == "preorder" and product.availability_date is not None:
        offer_fields["availabilityStarts"] = product.availability_date.isoformat()
    # rates are in the site currency: a product in another one would get a mismatched rate
    if config.shipping is not None and product.currency == config.currency:
        offer_fields["shippingDetails"] = shipping_details(config.shipping, product.current_price,
                                                           product.currency)
    if config.returns is not None:
        offer_fields["hasMerchantReturnPolicy"] = return_policy(config.returns, config,
                                                                returns_link)
    return product_fields, offer_fields

"""Hand-made ordersV0 JSON: an Order as getOrders returns it, OrderItems as getOrderItems does.

Prices are as Amazon shows them in each marketplace: VAT inside ``ItemPrice`` (and shipping,
gift wrap, discounts) in the UK and the EU, tax on top in the US.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.datagen.marketplaces import iso_z
from tests.settlements.support import DE, UK, US

CHANNELS = {UK: "Amazon.co.uk", DE: "Amazon.de", US: "Amazon.com"}
CURRENCIES = {UK: "GBP", DE: "EUR", US: "USD"}


def api_item(
    marketplace: str,
    sku: str,
    title: str,
    *,
    quantity: int = 1,
    shipped: int | None = None,
    price: str,
    tax: str,
    shipping: str = "0.00",
    shipping_tax: str = "0.00",
    promotion: str = "0.00",
    promotion_tax: str = "0.00",
    shipping_discount: str = "0.00",
    shipping_discount_tax: str = "0.00",
    gift_wrap: str = "",
    gift_wrap_tax: str = "0.00",
    facilitator: bool = False,
) -> dict[str, Any]:
    """An OrderItem as getOrderItems returns it (money as Money objects)."""
    currency = CURRENCIES[marketplace]

    def money(amount: str) -> dict[str, str]:
        return {"CurrencyCode": currency, "Amount": amount}

    item: dict[str, Any] = {
        "ASIN": "B0" + sku.replace("-", "")[:8],
        "SellerSKU": sku,
        "OrderItemId": f"{sum(map(ord, sku + title)):014d}",
        "Title": title,
        "QuantityOrdered": quantity,
        "QuantityShipped": quantity if shipped is None else shipped,
        "ProductInfo": {"NumberOfItems": "1"},
        "IsGift": "true" if gift_wrap else "false",
        "ConditionId": "New",
        "ItemPrice": money(price),
        "ItemTax": money(tax),
        "ShippingPrice": money(shipping),
        "ShippingTax": money(shipping_tax),
        "ShippingDiscount": money(shipping_discount),
        "ShippingDiscountTax": money(shipping_discount_tax),
        "PromotionDiscount": money(promotion),
        "PromotionDiscountTax": money(promotion_tax),
    }
    if gift_wrap:
        item["BuyerInfo"] = {
            "GiftWrapPrice": money(gift_wrap),
            "GiftWrapTax": money(gift_wrap_tax),
            "GiftWrapLevel": "Classic",
        }
    if facilitator:
        item["TaxCollection"] = {
            "Model": "MarketplaceFacilitator",
            "ResponsibleParty": "Amazon Services, Inc.",
        }
    return item


def api_order(
    marketplace: str,
    order_id: str,
    total: str | None,
    *,
    bought: datetime,
    status: str = "Shipped",
    buyer: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An Order as getOrders returns it (``buyer``: BuyerInfo, when Amazon shares it)."""
    data: dict[str, Any] = {
        "AmazonOrderId": order_id,
        "PurchaseDate": iso_z(bought),
        "LastUpdateDate": iso_z(bought + timedelta(days=1)),
        "OrderStatus": status,
        "FulfillmentChannel": "AFN",
        "SalesChannel": CHANNELS[marketplace],
        "MarketplaceId": marketplace,
        "OrderType": "StandardOrder",
    }
    if total is not None:
        data["OrderTotal"] = {"CurrencyCode": CURRENCIES[marketplace], "Amount": total}
    if buyer:
        data["BuyerInfo"] = buyer
    return data

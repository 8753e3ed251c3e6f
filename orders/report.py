"""The flat-file orders report, read into orders shaped like the Orders API's.

``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` is tab-separated, one row per order
item, with a header row naming the columns (reference note amazon-api.md §6; the sandbox's
``sandbox/amazon/reports.py`` writes the same 32 columns). Each order becomes an ordersV0
``Order`` and its ``OrderItem``s, so the rest of the hub reads report orders and API orders
alike:

- item money as ``{CurrencyCode, Amount}``: ``ItemPrice``, ``ItemTax``, ``ShippingPrice``,
  ``ShippingTax``, ``PromotionDiscount``, ``ShippingDiscount``; gift wrap under
  ``BuyerInfo.GiftWrapPrice``/``GiftWrapTax`` as getOrderItems puts it. The report writes the
  two promotion-discount columns as negative amounts (a reduction); the API states discounts
  as positive amounts, so they are read as their absolute value.
- ``QuantityShipped`` is the quantity when the item's status is Shipped, else 0.
- ``OrderTotal`` (absent for Pending and Canceled orders, as in the API) is what the buyer
  paid: prices, shipping and gift wrap less discounts, plus their taxes in the marketplaces
  whose prices are shown without tax (US, Canada); elsewhere prices already include the VAT.
- The report has no marketplace id column; each report is requested for one marketplace.

Pure: no database, no network. A line that cannot be read raises ``ReportError`` naming it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Marketplaces whose prices are shown before tax (sales tax added at checkout).
TAX_EXCLUSIVE_MARKETPLACES = frozenset({"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"})  # US, CA
ORDER_STATUSES = frozenset(
    {
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "InvoiceUnconfirmed",
        "Canceled",
        "Unfulfillable",
    }
)
# The report spells some statuses its own way.
REPORT_STATUSES = {"Cancelled": "Canceled"}
CHANNELS = {"Amazon": "AFN", "Merchant": "MFN", "AFN": "AFN", "MFN": "MFN"}
UNPRICED = ("Pending", "Canceled")  # the API gives these orders no OrderTotal
REQUIRED_COLUMNS = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
)
# Item money: (report column, OrderItem key, read as a discount).
MONEY_COLUMNS = (
    ("item-price", "ItemPrice", False),
    ("item-tax", "ItemTax", False),
    ("shipping-price", "ShippingPrice", False),
    ("shipping-tax", "ShippingTax", False),
    ("item-promotion-discount", "PromotionDiscount", True),
    ("ship-promotion-discount", "ShippingDiscount", True),
)
GIFT_COLUMNS = (("gift-wrap-price", "GiftWrapPrice"), ("gift-wrap-tax", "GiftWrapTax"))


class ReportError(ValueError):
    """The report cannot be read; ``message`` names the line and what is wrong with it."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class ReportOrder:
    amazon_order_id: str
    marketplace_id: str
    sales_channel: str
    status: str
    purchase_date: datetime
    last_update_date: datetime
    currency: str
    order_total: Decimal | None
    data: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)


def report_decode(raw: bytes, content_type: str) -> str:
    """The document's text, in the charset its Content-Type names (EU reports: ``Cp1252``).

    Without a charset: UTF-8, else Windows-1252 (what Amazon's EU flat files use).
    """
    charset = ""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
    if charset:
        try:
            codec = codecs.lookup(charset)
        except LookupError as exc:
            raise ReportError(
                f"Amazon sent the report in the charset {charset!r}, which the hub cannot read."
            ) from exc
        try:
            return raw.decode(codec.name)
        except UnicodeDecodeError as exc:
            raise ReportError(
                f"The report is not valid {charset} (byte {exc.start}): Amazon sent it damaged; "
                "run the backfill again."
            ) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="strict")


def _date(value: str, column: str, line: int) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ReportError(f"Line {line}: {column} {value!r} is not a date and time.") from exc
    if parsed.tzinfo is None:
        raise ReportError(f"Line {line}: {column} {value!r} has no time zone.")
    return parsed.astimezone(UTC)


def _amount(value: str, column: str, line: int) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ReportError(f"Line {line}: {column} {value!r} is not an amount.") from exc
    if not amount.is_finite():
        raise ReportError(f"Line {line}: {column} {value!r} is not an amount.")
    return amount


def _money(currency: str, amount: Decimal) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": f"{amount + 0:f}"}  # + 0 turns -0.00 into 0.00


def _iso_z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(cells: dict[str, str], line: int) -> tuple[dict[str, Any], str]:
    """One row's OrderItem, and its currency ('' when the row carries no prices)."""
    quantity_text = cells["quantity"]
    try:
        quantity = int(quantity_text)
    except ValueError as exc:
        raise ReportError(f"Line {line}: quantity {quantity_text!r} is not a number.") from exc
    if quantity < 0:
        raise ReportError(f"Line {line}: quantity {quantity_text!r} is negative.")
    item: dict[str, Any] = {
        "ASIN": cells["asin"],
        "SellerSKU": cells["sku"],
        "Title": cells["product-name"],
        "QuantityOrdered": quantity,
        "QuantityShipped": quantity if cells["item-status"] == "Shipped" else 0,
    }
    priced = any(cells[column] for column, _, _ in MONEY_COLUMNS) or any(
        cells[column] for column, _ in GIFT_COLUMNS
    )
    currency = cells["currency"]
    if not priced:
        return item, ""
    if not currency:
        raise ReportError(f"Line {line}: the row has amounts but no currency.")
    for column, key, discount in MONEY_COLUMNS:
        if cells[column]:
            amount = _amount(cells[column], column, line)
            item[key] = _money(currency, abs(amount) if discount else amount)
    gift = {
        key: _money(currency, _amount(cells[column], column, line))
        for column, key in GIFT_COLUMNS
        if cells[column]
    }
    if gift and any(Decimal(money["Amount"]) for money in gift.values()):
        item["BuyerInfo"] = gift
    promotions = [p.strip() for p in cells.get("promotion-ids", "").split(",") if p.strip()]
    if promotions:
        item["PromotionIds"] = promotions
    return item, currency


def _status(value: str, line: int) -> str:
    status = REPORT_STATUSES.get(value, value)
    if status not in ORDER_STATUSES:
        raise ReportError(
            f"Line {line}: order-status {value!r} is not an order status the hub knows "
            f"({', '.join(sorted(ORDER_STATUSES))})."
        )
    return status


def _order(cells: dict[str, str], marketplace_id: str, line: int) -> ReportOrder:
    order_id = cells["amazon-order-id"]
    channel = CHANNELS.get(cells["fulfillment-channel"])
    if channel is None:
        raise ReportError(
            f"Line {line}: fulfillment-channel {cells['fulfillment-channel']!r} is neither "
            "Amazon nor Merchant."
        )
    purchased = _date(cells["purchase-date"], "purchase-date", line)
    updated = _date(cells["last-updated-date"], "last-updated-date", line)
    status = _status(cells["order-status"], line)
    business = cells.get("is-business-order", "").lower() == "true"
    data: dict[str, Any] = {
        "AmazonOrderId": order_id,
        "PurchaseDate": _iso_z(purchased),
        "LastUpdateDate": _iso_z(updated),
        "OrderStatus": status,
        "FulfillmentChannel": channel,
        "SalesChannel": cells["sales-channel"],
        "ShipServiceLevel": cells["ship-service-level"],
        "MarketplaceId": marketplace_id,
        "IsBusinessOrder": business,
        "ShippingAddress": {
            "City": cells.get("ship-city", ""),
            "StateOrRegion": cells.get("ship-state", ""),
            "PostalCode": cells.get("ship-postal-code", ""),
            "CountryCode": cells.get("ship-country", ""),
        },
    }
    if cells["merchant-order-id"]:
        data["SellerOrderId"] = cells["merchant-order-id"]
    if cells.get("purchase-order-number"):
        data["BuyerInfo"] = {"PurchaseOrderNumber": cells["purchase-order-number"]}
    return ReportOrder(
        amazon_order_id=order_id,
        marketplace_id=marketplace_id,
        sales_channel=cells["sales-channel"],
        status=status,
        purchase_date=purchased,
        last_update_date=updated,
        currency="",
        order_total=None,
        data=data,
    )


def _item_amount(item: dict[str, Any], key: str) -> Decimal:
    money = item.get(key)
    return Decimal(money["Amount"]) if money else Decimal("0")


def order_total(items: Iterable[dict[str, Any]], *, tax_exclusive: bool) -> Decimal:
    """What the buyer paid for these OrderItems (see the module docstring)."""
    total = Decimal("0")
    for item in items:
        gift = item.get("BuyerInfo") or {}
        total += (
            _item_amount(item, "ItemPrice")
            + _item_amount(item, "ShippingPrice")
            + _item_amount(gift, "GiftWrapPrice")
            - _item_amount(item, "PromotionDiscount")
            - _item_amount(item, "ShippingDiscount")
        )
        if tax_exclusive:
            total += (
                _item_amount(item, "ItemTax")
                + _item_amount(item, "ShippingTax")
                + _item_amount(gift, "GiftWrapTax")
            )
    return total


def _finish(order: ReportOrder, currencies: set[str], line: int) -> None:
    if len(currencies) > 1:
        raise ReportError(
            f"Line {line}: order {order.amazon_order_id} has items in several currencies "
            f"({', '.join(sorted(currencies))})."
        )
    order.currency = next(iter(currencies), "")
    shipped = sum(int(i["QuantityShipped"]) for i in order.items)
    ordered = sum(int(i["QuantityOrdered"]) for i in order.items)
    order.data["NumberOfItemsShipped"] = shipped
    order.data["NumberOfItemsUnshipped"] = 0 if order.status == "Canceled" else ordered - shipped
    priced = all("ItemPrice" in i for i in order.items)
    if order.status not in UNPRICED and order.currency and priced:
        total = order_total(
            order.items, tax_exclusive=order.marketplace_id in TAX_EXCLUSIVE_MARKETPLACES
        )
        order.order_total = total
        order.data["OrderTotal"] = _money(order.currency, total)


def report_parse(text: str, *, marketplace_id: str) -> list[ReportOrder]:
    """The report's orders, in the order they first appear; ReportError names a bad line."""
    lines = text.split("\n")
    header = [name.strip() for name in lines[0].rstrip("\r").split("\t")] if lines else []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReportError(
            "Line 1: this is not an orders report: the header has no "
            + ", ".join(missing)
            + " column"
            + ("s." if len(missing) > 1 else ".")
        )
    orders: dict[str, ReportOrder] = {}
    currencies: dict[str, set[str]] = {}
    last_line: dict[str, int] = {}
    for number, raw in enumerate(lines[1:], start=2):
        row = raw.rstrip("\r")
        if not row.strip():
            continue
        values = row.split("\t")
        if len(values) != len(header):
            raise ReportError(
                f"Line {number}: {len(values)} columns where the header has {len(header)}."
            )
        cells = dict(zip(header, (v.strip() for v in values), strict=True))
        order_id = cells["amazon-order-id"]
        if not order_id:
            raise ReportError(f"Line {number}: amazon-order-id is empty.")
        described = _order(cells, marketplace_id, number)  # every line is checked
        order = orders.get(order_id)
        if order is None:
            order = orders[order_id] = described
            currencies[order_id] = set()
        item, currency = _item(cells, number)
        order.items.append(item)
        if currency:
            currencies[order_id].add(currency)
        last_line[order_id] = number
    for order_id, order in orders.items():
        _finish(order, currencies[order_id], last_line[order_id])
    return list(orders.values())

"""Order-pull helpers: a per-order link to a seeded sandbox seller, and running a pull."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from connectors.models import Link
from orders import pull
from orders.models import AccountingMode, AmazonOrder, OrderSettings
from sandbox.amazon.models import Order, Seller
from sandbox.amazon.orders import order_to_api
from sandbox.xero.models import Organisation
from sync.models import Run
from tests.engine_support import hub_link, seed_xero
from tests.sandbox.amazon_support import DE, EU_SELLER, NA_SELLER, UK, US, authorize, seed

# Every SP-API call a pull makes: (operation, path, query or body).
Calls = list[tuple[str, str, dict[str, Any]]]

MARKETPLACES = {
    UK: {"id": UK, "name": "Amazon.co.uk", "country": "GB", "currency": "GBP"},
    DE: {"id": DE, "name": "Amazon.de", "country": "DE", "currency": "EUR"},
    US: {"id": US, "name": "Amazon.com", "country": "US", "currency": "USD"},
}
SELLERS = {
    EU_SELLER: ("eu", (UK, DE), "Northwind Goods Ltd"),
    NA_SELLER: ("na", (US,), "Redwood Supply Co."),
}


def per_order_link(
    sandbox_url: str, *, seller: str = EU_SELLER, name: str = "Acme", orders: int = 120
) -> Link:
    """A link in per-order mode to a seeded sandbox seller, with a real LWA refresh token."""
    region, marketplaces, org = SELLERS[seller]
    site = sandbox_url.removesuffix("/sandbox")
    seed_xero(site)
    link = hub_link(org=Organisation.objects.get(name=org), customer_name=name, site_url=site)
    seed(orders=orders)
    tokens = authorize(sandbox_url, seller=seller)
    account = link.seller_account
    assert account is not None
    account.selling_partner_id = seller
    account.region = region
    account.token = {"refresh_token": tokens["refresh_token"]}
    account.available_marketplaces = [MARKETPLACES[m] for m in marketplaces]
    account.marketplace_ids = list(marketplaces)
    account.save()
    OrderSettings.objects.create(link=link, mode=AccountingMode.PER_ORDER)
    return link


def run_to_end(run: Run, *, deadline: float = 120.0) -> Run:
    """A whole run, one step at a time, waiting as told (a worker re-queues instead)."""
    step = int(run.checkpoint["step"])
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        outcome = pull.orders_step(run_id=run.pk, step=step)
        if not outcome.more:
            run.refresh_from_db()
            return run
        step = outcome.step
        time.sleep(min(outcome.wait, 2.0))
    raise AssertionError("the run did not finish")


def sandbox_orders(seller: str, **filters: Any) -> dict[str, Order]:
    orders = Order.objects.filter(seller=Seller.objects.get(selling_partner_id=seller), **filters)
    return {o.amazon_order_id: o for o in orders}


def assert_order_as_amazon_has_it(ours: AmazonOrder, theirs: Order) -> None:
    """Every column as the Orders API describes the order; items exactly getOrderItems'."""
    api = order_to_api(theirs)
    assert ours.data == api
    assert ours.marketplace_id == theirs.marketplace_id
    assert ours.status == theirs.status
    assert ours.purchase_date == theirs.purchase_date.replace(microsecond=0)
    assert ours.last_update_date == theirs.last_update_date.replace(microsecond=0)
    assert ours.sales_channel == api["SalesChannel"]
    if "OrderTotal" in api:
        assert ours.currency == api["OrderTotal"]["CurrencyCode"]
        assert ours.order_total == Decimal(api["OrderTotal"]["Amount"])
    else:
        assert ours.order_total is None
    if theirs.status in pull.ITEM_STATUSES:
        assert ours.items == theirs.items
        assert ours.items_read_at is not None and ours.items_read_at >= ours.last_update_date
    else:
        assert ours.items == [] and ours.items_read_at is None


def buyer_paid(items: list[dict[str, Any]], *, tax_inclusive: bool) -> Decimal:
    """What the buyer paid, from getOrderItems' amounts (VAT inside the price in the EU)."""
    total = Decimal("0")
    for item in items:
        gift = item.get("BuyerInfo") or {}

        def amount(source: dict[str, Any], key: str) -> Decimal:
            return Decimal(source[key]["Amount"]) if key in source else Decimal("0")

        total += (
            amount(item, "ItemPrice")
            + amount(item, "ShippingPrice")
            + amount(gift, "GiftWrapPrice")
            - amount(item, "PromotionDiscount")
            - amount(item, "ShippingDiscount")
        )
        if not tax_inclusive:
            total += amount(item, "ItemTax") + amount(item, "ShippingTax")
            total += amount(gift, "GiftWrapTax")
    return total


ITEM_KEYS = {"ASIN", "SellerSKU", "Title", "QuantityOrdered", "QuantityShipped"}
MONEY_KEYS = {
    "ItemPrice",
    "ItemTax",
    "ShippingPrice",
    "ShippingTax",
    "PromotionDiscount",
    "ShippingDiscount",
}


def assert_report_order_like_api(
    report: dict[str, Any],
    report_items: list[dict[str, Any]],
    api: dict[str, Any],
    api_items: list[dict[str, Any]] | None,
) -> None:
    """What the report says of an order equals, field by field, what the Orders API says.

    ``api_items`` None: the API's items were not read (orders that are not shipped).
    """
    assert set(report) - {"OrderTotal"} <= set(api), set(report) - set(api)
    for key, value in report.items():
        if key == "OrderTotal":
            assert value["CurrencyCode"] == api[key]["CurrencyCode"]
            assert Decimal(value["Amount"]) == Decimal(api[key]["Amount"]), api["AmazonOrderId"]
        else:
            assert value == api[key], (api["AmazonOrderId"], key, value, api[key])
    assert ("OrderTotal" in report) == ("OrderTotal" in api)
    if api_items is None:
        return
    assert len(report_items) == len(api_items)
    for ours, theirs in zip(report_items, api_items, strict=True):
        assert set(ours) >= ITEM_KEYS
        if "ItemPrice" in theirs:
            assert set(ours) >= MONEY_KEYS
        assert ("BuyerInfo" in ours) == ("GiftWrapPrice" in (theirs.get("BuyerInfo") or {}))
        for key, value in ours.items():
            if key == "BuyerInfo":  # the report has no GiftWrapLevel or gift message
                assert value == {k: theirs[key][k] for k in value}, api["AmazonOrderId"]
                continue
            assert value == theirs[key], (api["AmazonOrderId"], key, value, theirs[key])


def ops(calls: Calls, operation: str) -> Calls:
    return [c for c in calls if c[0] == operation]

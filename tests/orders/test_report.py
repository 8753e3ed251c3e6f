"""The flat-file orders report read into Orders API shapes: the same orders, items and amounts
as getOrders/getOrderItems give for the same generated seller; bad lines named."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

import pytest

from orders.report import ReportError, report_decode, report_parse
from sandbox.amazon.models import Order
from sandbox.amazon.orders import order_to_api
from sandbox.amazon.reports import ORDER_REPORT_COLUMNS, _order_lines
from sandbox.datagen.seller import SellerSpec, generate_seller
from tests.orders.support import assert_report_order_like_api
from tests.sandbox.amazon_support import DE, UK, US

HEADER = "\t".join(ORDER_REPORT_COLUMNS)


@lru_cache(maxsize=4)
def _orders(marketplace: str) -> list[Order]:
    """The generated seller's orders as the sandbox stores (and serves) them."""
    dataset = generate_seller(
        SellerSpec(seed=11, start=date(2026, 3, 2), days=40, orders=900, marketplaces=(UK, DE, US))
    )
    return [
        Order(
            amazon_order_id=o.amazon_order_id,
            seller_order_id=o.seller_order_id,
            marketplace_id=o.marketplace_id,
            purchase_date=o.purchase_date,
            last_update_date=o.last_update_date,
            status=o.status,
            fulfillment_channel=o.fulfillment_channel,
            data=o.to_api(),
            items=o.items_to_api(),
        )
        for o in dataset.orders
        if o.marketplace_id == marketplace
    ]


def _report(orders: list[Order]) -> str:
    lines = [HEADER]
    for order in orders:
        lines.extend(_order_lines(order))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("marketplace", [UK, DE, US])
def test_a_report_reads_as_the_orders_api_describes_the_same_orders(marketplace: str) -> None:
    orders = _orders(marketplace)
    parsed = {
        o.amazon_order_id: o for o in report_parse(_report(orders), marketplace_id=marketplace)
    }
    assert list(parsed) == [o.amazon_order_id for o in orders]
    seen = {"promotion": 0, "gift": 0, "multi": 0, "pending": 0, "canceled": 0}
    for order in orders:
        ours = parsed[order.amazon_order_id]
        assert_report_order_like_api(ours.data, ours.items, order_to_api(order), order.items)
        assert ours.marketplace_id == marketplace and ours.status == order.status
        assert ours.purchase_date == order.purchase_date.astimezone(UTC).replace(microsecond=0)
        assert ours.last_update_date == order.last_update_date.replace(microsecond=0)
        if "OrderTotal" in order.data:
            assert ours.order_total == Decimal(order.data["OrderTotal"]["Amount"])
            assert ours.currency == order.data["OrderTotal"]["CurrencyCode"]
        else:
            assert ours.order_total is None
        seen["promotion"] += any(
            Decimal(i.get("PromotionDiscount", {}).get("Amount", "0")) for i in ours.items
        )
        seen["gift"] += any("BuyerInfo" in i for i in ours.items)
        seen["multi"] += len(ours.items) > 1
        seen["pending"] += order.status == "Pending"
        seen["canceled"] += order.status == "Canceled"
    # The comparison covered discounts, gift wrap, several items, unpriced and cancelled orders.
    assert seen["promotion"] and seen["gift"] and seen["multi"] and seen["canceled"], seen


def test_discounts_are_positive_amounts_whatever_sign_the_report_gives() -> None:
    order = _orders(UK)[0]
    line = _order_lines(order)[0].split("\t")
    column = ORDER_REPORT_COLUMNS.index
    for written, read in (("-2.50", "2.50"), ("2.50", "2.50"), ("0.00", "0.00"), ("-0.00", "0.00")):
        line[column("item-promotion-discount")] = written
        line[column("ship-promotion-discount")] = written
        (parsed,) = report_parse(HEADER + "\n" + "\t".join(line), marketplace_id=UK)
        assert parsed.items[0]["PromotionDiscount"]["Amount"] == read
        assert parsed.items[0]["ShippingDiscount"]["Amount"] == read


def _line(**cells: str) -> str:
    line = _order_lines(_orders(UK)[1])[0].split("\t")
    for name, value in cells.items():
        line[ORDER_REPORT_COLUMNS.index(name.replace("_", "-"))] = value
    return "\t".join(line)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (_line()[:40], "Line 3: 3 columns where the header has 32."),
        (_line(item_price="12,99"), "Line 3: item-price '12,99' is not an amount."),
        (_line(item_tax="NaN"), "Line 3: item-tax 'NaN' is not an amount."),
        (_line(quantity="two"), "Line 3: quantity 'two' is not a number."),
        (
            _line(purchase_date="02/03/2026"),
            "Line 3: purchase-date '02/03/2026' is not a date and time.",
        ),
        (
            _line(last_updated_date="2026-03-02T10:00:00"),
            "Line 3: last-updated-date '2026-03-02T10:00:00' has no time zone.",
        ),
        (_line(order_status="Lost"), "Line 3: order-status 'Lost' is not an order status"),
        (_line(fulfillment_channel="Drone"), "Line 3: fulfillment-channel 'Drone' is neither"),
        (_line(amazon_order_id=""), "Line 3: amazon-order-id is empty."),
        (_line(currency=""), "Line 3: the row has amounts but no currency."),
    ],
)
def test_a_bad_line_is_named(bad: str, message: str) -> None:
    good = _line()
    with pytest.raises(ReportError) as failure:
        report_parse(f"{HEADER}\n{good}\n{bad}\n{good}\n", marketplace_id=UK)
    assert failure.value.message.startswith(message), failure.value.message


def test_a_file_that_is_not_an_orders_report_is_refused() -> None:
    with pytest.raises(ReportError) as failure:
        report_parse("settlement-id\ttotal-amount\n123\t4.00\n", marketplace_id=UK)
    assert failure.value.message.startswith(
        "Line 1: this is not an orders report: the header has no amazon-order-id, "
    )


def test_the_charset_of_the_content_type_decodes_the_document() -> None:
    text = "Kaffeebecher Müller, 2 Stück, 12,99 €"
    assert report_decode(text.encode("cp1252"), "text/plain; charset=Cp1252") == text
    assert report_decode(text.encode("utf-8"), "text/plain; charset=UTF-8") == text
    assert report_decode(text.encode("utf-8"), "text/plain") == text
    assert report_decode(text.encode("cp1252"), "") == text  # EU files without a charset
    with pytest.raises(ReportError, match="charset 'x-klingon'"):
        report_decode(b"abc", "text/plain; charset=x-klingon")
    with pytest.raises(ReportError, match="not valid UTF-8"):
        report_decode(text.encode("cp1252"), "text/plain; charset=UTF-8")
    assert gzip.decompress(gzip.compress(text.encode("cp1252"))).decode("cp1252") == text


def test_orders_report_dates_are_utc() -> None:
    line = _line(purchase_date="2026-03-02T01:30:00-08:00")
    (parsed,) = report_parse(f"{HEADER}\n{line}\n", marketplace_id=UK)
    assert parsed.purchase_date == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert parsed.data["PurchaseDate"] == "2026-03-02T09:30:00Z"

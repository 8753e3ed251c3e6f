"""The sandbox data generator: invariants, file layouts, API shapes, determinism and speed.

Plain pytest, no database, no Django.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from sandbox.datagen.business import (
    MAX_INVOICE_IDS,
    NEW_CARD_DAYS,
    BuyerDataset,
    BuyerSpec,
    batch_invoice_payment_details,
    generate_buyer,
    transactions_page,
)
from sandbox.datagen.reports import FLAT_COLUMNS, V2_COLUMNS
from sandbox.datagen.seller import (
    MARKETPLACES,
    UNKNOWN_FEE_DESCRIPTIONS,
    Order,
    SellerDataset,
    SellerSpec,
    Settlement,
    generate_seller,
    render_settlement_flat,
    render_settlement_v2,
)

SPECS = Path("/work/shared/specs")
UK, DE, US = "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "ATVPDKIKX0DER"
START = date(2026, 6, 1)


@cache
def seller() -> SellerDataset:
    """60 days, three marketplaces and currencies: every row kind shows up."""
    return generate_seller(SellerSpec(seed=11, start=START, days=60, orders=600))


@cache
def buyer() -> BuyerDataset:
    return generate_buyer(BuyerSpec(seed=5, start=START, days=30, purchases=60))


# --------------------------------------------------------------------------- schema helper


@cache
def _definitions(spec_file: str) -> dict[str, Any]:
    path = SPECS / spec_file
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return json.loads(path.read_text())["definitions"]  # type: ignore[no-any-return]


def _strict(schema: Any) -> Any:
    """Forbid properties the spec does not name, so a misspelt field fails validation."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if k != "allOf"}
        if "allOf" in schema:
            out["allOf"] = schema["allOf"]  # members see each other's keys: leave them open
        if "properties" in schema and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def validator(spec_file: str, name: str, *, strict: bool = True) -> OAS30Validator:
    """A validator for one Swagger 2.0 definition, `#/definitions/...` refs resolved."""
    definitions = _definitions(spec_file)
    if strict:
        definitions = _strict(copy.deepcopy(definitions))
    schema = dict(definitions[name], definitions=definitions)
    return OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER)


def _no_floats(value: Any) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _no_floats(v)
    elif isinstance(value, list):
        for v in value:
            _no_floats(v)
    else:
        assert not isinstance(value, float), value


# --------------------------------------------------------------------------- settlements


def test_every_settlement_sums_to_its_total_and_deposit() -> None:
    ds = seller()
    assert len(ds.settlements) >= 9  # 3 marketplaces x >= 3 closed 14-day periods
    groups = {g.financial_event_group_id: g for g in ds.financial_event_groups}
    for s in ds.settlements + ds.open_settlements:
        assert sum((r.amount for r in s.rows), Decimal("0")) == s.total_amount
        group = groups[s.financial_event_group_id]
        assert group.original_total == s.total_amount
        assert group.settlement_id == s.settlement_id
        assert group.currency == s.currency
    for s in ds.settlements:
        group = groups[s.financial_event_group_id]
        assert group.processing_status == "Closed"
        assert s.deposit_date is not None and group.fund_transfer_date == s.deposit_date
        api = group.to_api()
        assert api["OriginalTotal"] == {
            "CurrencyCode": s.currency,
            "CurrencyAmount": s.total_amount,
        }
    for s in ds.open_settlements:
        assert (
            s.deposit_date is None
            and groups[s.financial_event_group_id].processing_status == "Open"
        )
    assert len(groups) == len(ds.settlements) + len(ds.open_settlements)


def test_amounts_have_two_places_and_are_decimal() -> None:
    ds = seller()
    for s in ds.settlements:
        assert s.total_amount.as_tuple().exponent == -2
        for r in s.rows:
            assert isinstance(r.amount, Decimal) and r.amount.as_tuple().exponent == -2
            assert r.posted_date.tzinfo is not None
    for o in ds.orders:
        assert o.purchase_date.tzinfo is not None and o.last_update_date >= o.purchase_date


def test_settlements_are_14_day_cycles_one_currency_per_marketplace() -> None:
    ds = seller()
    by_mp: dict[str, list[Settlement]] = defaultdict(list)
    for s in ds.settlements + ds.open_settlements:
        assert s.currency == MARKETPLACES[s.marketplace_id].currency
        by_mp[s.marketplace_id].append(s)
    assert set(by_mp) == {UK, DE, US}
    for settlements in by_mp.values():
        settlements.sort(key=lambda s: s.start)
        for a, b in pairwise(settlements):
            assert b.start == a.end and a.end - a.start == timedelta(days=14)
        for s in settlements:
            assert all(s.start <= r.posted_date <= s.end for r in s.rows)
            assert all(r.posted_date <= ds.now for r in s.rows)
    ids = [s.settlement_id for s in ds.settlements + ds.open_settlements]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids)


def test_order_and_refund_rows_tie_to_orders() -> None:
    ds = seller()
    seen_orders: set[str] = set()
    for s in ds.settlements + ds.open_settlements:
        sums: dict[tuple[str, str, str, str, str], Decimal] = defaultdict(Decimal)
        for r in s.rows:
            if r.transaction_type in ("Order", "Refund"):
                key = (
                    r.transaction_type,
                    r.order_id,
                    r.adjustment_id,
                    r.order_item_code,
                    f"{r.amount_type}/{r.amount_description}",
                )
                sums[key] += r.amount
        for (kind, order_id, adjustment_id, code, what), amount in sums.items():
            order = ds.orders_by_id[order_id]
            assert order.marketplace_id == s.marketplace_id and order.currency == s.currency
            item = next(i for i in order.items if i.order_item_id == code)
            if kind == "Order":
                seen_orders.add(order_id)
                assert order.status == "Shipped"
                expected = {
                    "ItemPrice/Principal": item.item_price,
                    "ItemPrice/Tax": item.item_tax,
                    "ItemPrice/Shipping": item.shipping_price,
                    "ItemPrice/ShippingTax": item.shipping_tax,
                    "ItemPrice/GiftWrap": item.gift_wrap_price,
                    "ItemPrice/GiftWrapTax": item.gift_wrap_tax,
                    "Promotion/Principal": -item.promotion_discount,
                    "ItemWithheldTax/MarketplaceFacilitatorTax-Principal": -item.item_tax,
                    "ItemWithheldTax/MarketplaceFacilitatorTax-Shipping": -item.shipping_tax,
                    "ItemWithheldTax/MarketplaceFacilitatorTax-Other": -item.gift_wrap_tax,
                    **{f"ItemFees/{d}": a for d, a in item.fees},
                }
                assert amount == expected[what], (order_id, what)
            else:
                refund = next(x for x in order.refunds if x.adjustment_id == adjustment_id)
                part = next(p for p in refund.items if p.order_item_id == code)
                expected = {
                    "ItemPrice/Principal": -part.principal,
                    "ItemPrice/Tax": -part.tax,
                    "ItemPrice/Shipping": -part.shipping,
                    "ItemPrice/ShippingTax": -part.shipping_tax,
                    "ItemPrice/GiftWrap": -part.gift_wrap,
                    "ItemPrice/GiftWrapTax": -part.gift_wrap_tax,
                    "Promotion/Principal": part.promotion,
                    "ItemWithheldTax/MarketplaceFacilitatorTax-Principal": part.tax,
                    "ItemWithheldTax/MarketplaceFacilitatorTax-Shipping": part.shipping_tax,
                    "ItemWithheldTax/MarketplaceFacilitatorTax-Other": part.gift_wrap_tax,
                }
                if what in expected:
                    assert amount == expected[what], (order_id, what)
                else:
                    assert what in ("ItemFees/Commission", "ItemFees/RefundCommission")
    shipped = {o.amazon_order_id for o in ds.orders if o.status == "Shipped"}
    assert seen_orders == shipped  # every shipped order settles exactly where it shipped


def test_order_totals_match_items_and_buyer_pays_what_settles() -> None:
    for o in seller().orders:
        assert o.order_total == sum((i.total for i in o.items), Decimal("0"))
        for refund in o.refunds:
            assert Decimal("0") < refund.amount <= o.order_total


def test_each_row_kind_appears_across_60_days() -> None:
    ds = seller()
    kinds = {(r.amount_type, r.amount_description) for s in ds.settlements for r in s.rows}
    types = {r.transaction_type for s in ds.settlements for r in s.rows}
    assert {"Order", "Refund", "other-transaction", "ServiceFee"} <= types
    for kind in [
        ("ItemPrice", "Principal"),
        ("ItemPrice", "Shipping"),
        ("ItemPrice", "GiftWrap"),
        ("ItemPrice", "Tax"),
        ("ItemPrice", "ShippingTax"),
        ("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
        ("ItemFees", "Commission"),
        ("ItemFees", "FBAPerUnitFulfillmentFee"),
        ("ItemFees", "RefundCommission"),
        ("Promotion", "Principal"),
        ("other-transaction", "Current Reserve Amount"),
        ("other-transaction", "Previous Reserve Amount Balance"),
        ("other-transaction", "Subscription Fee"),
        ("other-transaction", "Storage Fee"),
        ("Cost of Advertising", "TransactionTotalAmount"),
        ("other-transaction", UNKNOWN_FEE_DESCRIPTIONS[0]),
    ]:
        assert kind in kinds, kind
    assert any(t == "FBA Inventory Reimbursement" for t, _ in kinds)
    refunds = [rf for o in ds.orders for rf in o.refunds]
    assert any(rf.full for rf in refunds) and any(not rf.full for rf in refunds)


def test_facilitator_tax_nets_to_zero_in_the_us_only() -> None:
    for s in seller().settlements:
        taxes: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        withheld = [r for r in s.rows if r.amount_type == "ItemWithheldTax"]
        if s.marketplace_id != US:
            assert not withheld
            continue
        assert withheld
        for r in s.rows:
            if r.amount_type == "ItemWithheldTax" or r.amount_description in (
                "Tax",
                "ShippingTax",
                "GiftWrapTax",
            ):
                taxes[r.order_id, r.adjustment_id] += r.amount
        assert all(v == 0 for v in taxes.values())


def test_reserves_carry_over_from_one_settlement_to_the_next() -> None:
    ds = seller()
    for mp in (UK, DE, US):
        chain = sorted((s for s in ds.settlements if s.marketplace_id == mp), key=lambda s: s.start)
        held = Decimal("0")
        for s in chain:
            released = sum(
                (
                    r.amount
                    for r in s.rows
                    if r.amount_description == "Previous Reserve Amount Balance"
                ),
                Decimal("0"),
            )
            assert released == -held
            held = sum(
                (r.amount for r in s.rows if r.amount_description == "Current Reserve Amount"),
                Decimal("0"),
            )
            assert held <= 0


def test_a_negative_settlement_is_charged_to_the_card() -> None:
    ds = seller()
    negative = [s for s in ds.settlements if s.total_amount < 0]
    assert negative
    s = negative[0]
    assert any(r.amount_description == "Subscription Fee" for r in s.rows)
    assert not any(r.transaction_type == "Order" for r in s.rows)  # a quiet fortnight
    group = next(g for g in ds.financial_event_groups if g.settlement_id == s.settlement_id)
    positive = next(g for g in ds.financial_event_groups if g.original_total > 0)
    assert group.original_total < 0 and group.account_tail != positive.account_tail


def test_unknown_fees_show_up() -> None:
    ds = seller()
    descriptions = {r.amount_description for s in ds.settlements for r in s.rows}
    assert UNKNOWN_FEE_DESCRIPTIONS[0] in descriptions
    big = generate_seller(SellerSpec(seed=3, start=START, days=30, orders=5_000))
    item_fees = {r.amount_description for s in big.settlements for r in s.rows}
    assert UNKNOWN_FEE_DESCRIPTIONS[1] in item_fees


def test_order_statuses_ids_and_buyers() -> None:
    ds = seller()
    statuses = Counter(o.status for o in ds.orders)
    assert statuses["Shipped"] > 0.8 * len(ds.orders)
    assert statuses["Canceled"] and statuses["Unshipped"] and statuses["Pending"]
    assert all(re.fullmatch(r"\d{3}-\d{7}-\d{7}", o.amazon_order_id) for o in ds.orders)
    assert len(ds.orders_by_id) == len(ds.orders)
    assert {o.marketplace_id for o in ds.orders} == {UK, DE, US}
    assert any(o.buyer_email for o in ds.orders) and any(not o.buyer_email for o in ds.orders)
    assert any(o.buyer_name for o in ds.orders)
    for o in ds.orders:
        if o.status in ("Pending", "Unshipped"):
            assert o.shipped_date is None and not o.refunds
            assert o.purchase_date > ds.now - timedelta(days=2)


# --------------------------------------------------------------------------- settlement files


def _cells(text: str) -> list[list[str]]:
    assert text.endswith("\n") and "\r" not in text
    return [line.split("\t") for line in text[:-1].split("\n")]


def _parse_amount(text: str, comma: bool) -> Decimal:
    return Decimal(text.replace(",", ".") if comma else text)


def test_v2_header_is_exactly_amazons() -> None:
    expected24 = (
        "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\t"
        "currency\ttransaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\t"
        "marketplace-name\tamount-type\tamount-description\tamount\tfulfillment-id\tposted-date\t"
        "posted-date-time\torder-item-code\tmerchant-order-item-id\tmerchant-adjustment-item-id\t"
        "sku\tquantity-purchased\tpromotion-id"
    )
    assert "\t".join(V2_COLUMNS) == expected24
    for s in seller().settlements:
        header = render_settlement_v2(s).split("\n", 1)[0]
        if s.marketplace_id == DE:  # the 2018 Amazon.de file has the 23 official columns
            assert header == expected24.rsplit("\t", 1)[0]
        else:
            assert header == expected24


def test_v2_summary_row_then_detail_rows_that_sum_to_it() -> None:
    for s in seller().settlements:
        mp = MARKETPLACES[s.marketplace_id]
        rows = _cells(render_settlement_v2(s))
        header, summary, details = rows[0], rows[1], rows[2:]
        assert all(len(r) == len(header) for r in rows)
        assert summary[0] == s.settlement_id and summary[5] == s.currency
        assert all(c == "" for c in summary[6:])
        total = _parse_amount(summary[4], mp.decimal_comma)
        assert total == s.total_amount
        col = header.index("amount")
        assert len(details) == len(s.rows)
        assert (
            sum((_parse_amount(r[col], mp.decimal_comma) for r in details), Decimal("0")) == total
        )
        assert all(r[0] == s.settlement_id and r[1:6] == [""] * 5 for r in details)


def test_de_files_use_german_dates_and_comma_decimals() -> None:
    s = next(s for s in seller().settlements if s.marketplace_id == DE and s.total_amount > 0)
    rows = _cells(render_settlement_v2(s))
    header, summary, details = rows[0], rows[1], rows[2:]
    stamp = r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2} UTC"
    assert all(re.fullmatch(stamp, c) for c in summary[1:4])
    assert re.fullmatch(r"-?\d+,\d{2}", summary[4])
    assert summary[1] == s.start.strftime("%d.%m.%Y %H:%M:%S UTC")
    amount, posted, posted_time = (
        header.index(c) for c in ("amount", "posted-date", "posted-date-time")
    )
    for r in details:
        assert re.fullmatch(r"-?\d+,\d{2}", r[amount]), r[amount]
        assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", r[posted])
        assert re.fullmatch(stamp, r[posted_time])
    flat = _cells(render_settlement_flat(s))
    assert re.fullmatch(stamp, flat[2][FLAT_COLUMNS.index("posted-date")])


def test_uk_and_us_date_styles() -> None:
    ds = seller()
    uk = next(s for s in ds.settlements if s.marketplace_id == UK)
    us = next(s for s in ds.settlements if s.marketplace_id == US)
    uk_rows, us_rows = _cells(render_settlement_v2(uk)), _cells(render_settlement_v2(us))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", uk_rows[1][1])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", uk_rows[2][16])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", us_rows[1][1])
    assert datetime.fromisoformat(us_rows[1][2]) == us.end
    assert re.fullmatch(r"-?\d+\.\d{2}", us_rows[1][4])


def test_real_file_quirks_blank_marketplace_and_trailing_spaces() -> None:
    text = "".join(render_settlement_v2(s) for s in seller().settlements)
    rows = [r for r in _cells(text) if len(r) > 13 and r[6]]
    assert any(r[11] == "" for r in rows) and any(r[11] == "Amazon.de" for r in rows)
    assert any(r[13] == "Current Reserve Amount " for r in rows)
    assert any(r[13] == "Principal" for r in rows)


def test_flat_file_layout_spreads_amounts_over_its_columns() -> None:
    amount_columns = [c for c in FLAT_COLUMNS if c.endswith("-amount") and c != "total-amount"]
    assert len(FLAT_COLUMNS) == 36 and len(amount_columns) == 9
    for s in seller().settlements:
        comma = MARKETPLACES[s.marketplace_id].decimal_comma
        rows = _cells(render_settlement_flat(s))
        assert tuple(rows[0]) == FLAT_COLUMNS
        assert all(len(r) == 36 for r in rows)
        indexes = [FLAT_COLUMNS.index(c) for c in amount_columns]
        total = Decimal("0")
        for r in rows[2:]:
            filled = [r[i] for i in indexes if r[i]]
            assert len(filled) == 1 and r[6]  # one amount and a transaction-type per row
            total += _parse_amount(filled[0], comma)
        assert total == s.total_amount == _parse_amount(rows[1][4], comma)


def test_same_spec_gives_byte_identical_output() -> None:
    spec = SellerSpec(seed=42, start=START, days=45, orders=800)

    def snapshot(ds: SellerDataset) -> bytes:
        parts = [render_settlement_v2(s) + render_settlement_flat(s) for s in ds.settlements]
        parts.append(json.dumps([o.to_api() for o in ds.orders], sort_keys=True))
        parts.append(json.dumps([o.items_to_api() for o in ds.orders], sort_keys=True))
        parts.append(json.dumps([g.to_api() for g in ds.financial_event_groups], default=str))
        return "".join(parts).encode()

    first = snapshot(generate_seller(spec))
    assert snapshot(generate_seller(spec)) == first
    assert snapshot(generate_seller(SellerSpec(seed=43, start=START, days=45, orders=800))) != first
    b_spec = BuyerSpec(seed=9, start=START, days=20, purchases=40)
    b1, b2 = generate_buyer(b_spec), generate_buyer(b_spec)
    assert json.dumps(b1.transactions) == json.dumps(b2.transactions)
    assert [i.to_api() for i in b1.invoice_payments] == [i.to_api() for i in b2.invoice_payments]


@pytest.mark.parametrize(
    "spec",
    [
        SellerSpec(seed=1, start=START, days=30, orders=0),
        SellerSpec(seed=2, start=START, days=30, orders=5),
        SellerSpec(seed=3, start=START, days=10, orders=50),
        SellerSpec(seed=4, start=START, days=45, orders=300, marketplaces=(DE,)),
        SellerSpec(seed=5, start=START, days=40, orders=300, marketplaces=(US, UK)),
    ],
    ids=["no-orders", "handful", "shorter-than-a-cycle", "de-only", "us-uk"],
)
def test_small_and_odd_specs_keep_the_invariants(spec: SellerSpec) -> None:
    ds = generate_seller(spec)
    assert len(ds.orders) == spec.orders
    for s in ds.settlements + ds.open_settlements:
        assert sum((r.amount for r in s.rows), Decimal("0")) == s.total_amount
        render_settlement_v2(s)
        render_settlement_flat(s)
    if spec.days >= 28:
        assert any(s.total_amount < 0 for s in ds.settlements)


def test_unknown_marketplace_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown marketplace"):
        generate_seller(SellerSpec(start=START, marketplaces=("NOPE",)))


def test_100k_orders_generate_in_seconds() -> None:
    started = time.perf_counter()
    ds = generate_seller(SellerSpec(seed=7, start=date(2026, 1, 1), days=90, orders=100_000))
    elapsed = time.perf_counter() - started
    assert len(ds.orders) == 100_000
    assert sum(len(s.rows) for s in ds.settlements) > 500_000
    for s in ds.settlements:
        assert sum((r.amount for r in s.rows), Decimal("0")) == s.total_amount
    assert elapsed < 20, f"took {elapsed:.1f}s"


# --------------------------------------------------------------------------- API shapes


def test_orders_validate_against_orders_v0() -> None:
    ds = seller()
    order_schema = validator("amazon/ordersV0.json", "Order")
    item_schema = validator("amazon/ordersV0.json", "OrderItem")
    list_schema = validator("amazon/ordersV0.json", "OrderItemsList")
    picked: list[Order] = []
    for status in ("Shipped", "Canceled", "Unshipped", "Pending"):
        picked += [o for o in ds.orders if o.status == status][:40]
    picked += [o for o in ds.orders if o.refunds or any(i.gift_wrap_price for i in o.items)][:40]
    for o in picked:
        api = o.to_api()
        order_schema.validate(api)
        _no_floats(api)
        items = o.items_to_api()
        for item in items:
            item_schema.validate(item)
        list_schema.validate({"AmazonOrderId": o.amazon_order_id, "OrderItems": items})
        if o.status == "Pending":
            assert "OrderTotal" not in api and all("ItemPrice" not in i for i in items)
        elif o.status != "Canceled":
            assert Decimal(api["OrderTotal"]["Amount"]) == o.order_total
            assert api["OrderTotal"]["CurrencyCode"] == o.currency
        assert datetime.fromisoformat(api["PurchaseDate"]) == o.purchase_date


def test_financial_event_groups_validate_against_finances_v0() -> None:
    schema = validator("amazon/financesV0.json", "FinancialEventGroup")
    for g in seller().financial_event_groups:
        schema.validate(g.to_api())


# --------------------------------------------------------------------------- Amazon Business


def _amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


def test_transactions_validate_against_the_reconciliation_api() -> None:
    ds = buyer()
    schema = validator("amazon-business/Reconciliation_API.json", "Transaction")
    response = validator("amazon-business/Reconciliation_API.json", "TransactionsResponse")
    for t in ds.transactions:
        schema.validate(t)
        _no_floats(t)
    response.validate(
        transactions_page(ds, feed_start=ds.now - timedelta(days=40), feed_end=ds.now, page_size=10)
    )
    batch = batch_invoice_payment_details(ds, [i.invoice_id for i in ds.invoice_payments[:3]])
    validator(
        "amazon-business/Reconciliation_API.json",
        "GetBatchInvoicePaymentDetailsResponse",
        strict=False,
    ).validate(batch)
    success = validator(
        "amazon-business/Reconciliation_API.json", "SuccessInvoicePaymentDetailResult", strict=False
    )
    for result in batch["invoicePaymentDetailsResults"]:
        success.validate(result)
        assert set(result) == {"invoiceId", "resultType", "paymentDetails"}


def test_transaction_amount_is_the_sum_of_its_lines_to_the_cent() -> None:
    for t in buyer().transactions:
        lines = t["transactionLineItems"]
        assert lines
        currency = t["amount"]["currencyCode"]
        assert _amount(t["amount"]) == sum((_amount(li["totalAmount"]) for li in lines), Decimal(0))
        for li in lines:
            parts = ("principalAmount", "shippingCharge", "giftWrappingCharge", "discount", "tax")
            assert _amount(li["totalAmount"]) == sum((_amount(li[p]) for p in parts), Decimal(0))
            assert all(li[p]["currencyCode"] == currency for p in parts)
            assert re.fullmatch(r"-?\d+\.\d{2}", li["totalAmount"]["amount"])
            assert "GL code" in li["businessOrderInfo"] and "Cost center" in li["businessOrderInfo"]


def test_charges_refunds_and_overrefunds_have_the_right_signs() -> None:
    ds = buyer()
    kinds = Counter(t["transactionType"] for t in ds.transactions)
    assert kinds["CHARGE"] and kinds["REFUND"] and kinds["OVERREFUND"]
    charged_lines = {
        li["orderLineItemId"]
        for t in ds.transactions
        if t["transactionType"] == "CHARGE"
        for li in t["transactionLineItems"]
    }
    for t in ds.transactions:
        amount = _amount(t["amount"])
        if t["transactionType"] == "CHARGE":
            assert amount > 0
        else:
            assert amount < 0
            for li in t["transactionLineItems"]:
                assert li["refundReason"] and li["orderLineItemId"] in charged_lines


def test_purchases_spread_over_cards_invoice_and_mixed_tax_rates() -> None:
    ds = buyer()
    cards = {t.get("paymentInstrumentLast4Digits") for t in ds.transactions} - {None}
    assert len(cards) >= 3
    instruments = {t["paymentInstrumentType"] for t in ds.transactions}
    assert "PayByInvoice" in instruments
    assert {p.last4 for p in ds.payment_instruments if p.last4} >= {"1111", "4242"}
    assert any(
        len({li["taxRate"] for li in t["transactionLineItems"]}) > 1 for t in ds.transactions
    )
    assert any(
        li["purchaseOrderNumber"] for t in ds.transactions for li in t["transactionLineItems"]
    )


def test_the_new_card_appears_only_in_the_last_days() -> None:
    ds = buyer()
    new = [p for p in ds.payment_instruments if p.new]
    assert len(new) == 1
    uses = [t for t in ds.transactions if t.get("paymentInstrumentLast4Digits") == new[0].last4]
    assert uses
    since = ds.now - timedelta(days=NEW_CARD_DAYS)
    assert all(datetime.fromisoformat(t["transactionDate"]) >= since for t in uses)
    older = [t for t in ds.transactions if datetime.fromisoformat(t["transactionDate"]) < since]
    assert older and all(t.get("paymentInstrumentLast4Digits") != new[0].last4 for t in older)


def test_split_payments_reference_each_other() -> None:
    ds = buyer()
    by_id = {t["transactionId"]: t for t in ds.transactions}
    assert len(by_id) == len(ds.transactions)
    split = [t for t in ds.transactions if t.get("associatedTransactionDetails")]
    assert split
    for t in split:
        for link in t["associatedTransactionDetails"]:
            other = by_id[link["associatedTransactionId"]]
            assert {"associatedTransactionId": t["transactionId"]} in other[
                "associatedTransactionDetails"
            ]
            assert other["paymentInstrumentType"] != t["paymentInstrumentType"]
            mine = {li["shipmentId"] for li in t["transactionLineItems"]}
            assert mine == {li["shipmentId"] for li in other["transactionLineItems"]}


def test_pay_by_invoice_payment_details() -> None:
    ds = buyer()
    pbi = [
        t
        for t in ds.transactions
        if t["paymentInstrumentType"] == "PayByInvoice" and t["transactionType"] == "CHARGE"
    ]
    assert pbi and {t["invoiceNumber"] for t in pbi} == set(ds.invoices_by_id)
    for t in pbi:
        invoice = ds.invoices_by_id[t["invoiceNumber"]]
        assert invoice.amount == _amount(t["amount"])
        assert "paymentInstrumentLast4Digits" not in t
    assert {i.status for i in ds.invoice_payments} <= {
        "Closed",
        "Past Due",
        "Issued",
        "Payment Processing",
    }
    for i in ds.invoice_payments:
        assert (i.status in ("Closed", "Payment Processing")) == (i.paid_date is not None)
    result = batch_invoice_payment_details(ds, [pbi[0]["invoiceNumber"], "NO-SUCH-INVOICE"])
    ok, missing = result["invoicePaymentDetailsResults"]
    assert ok["resultType"] == "SUCCESS" and ok["paymentDetails"]["dueDate"].endswith("Z")
    assert missing["resultType"] == "ERROR" and missing["error"]["code"]
    with pytest.raises(ValueError):
        batch_invoice_payment_details(ds, ["x"] * (MAX_INVOICE_IDS + 1))


def test_feed_dates_and_pagination() -> None:
    ds = buyer()
    for t in ds.transactions:
        feed = datetime.fromisoformat(t["feedDate"])
        assert datetime.fromisoformat(t["transactionDate"]) <= feed <= ds.now
    start, end = ds.now - timedelta(days=60), ds.now + timedelta(seconds=1)
    page = transactions_page(ds, feed_start=start, feed_end=end, page_size=7)
    collected = list(page["transactions"])
    while "nextPageToken" in page:
        page = transactions_page(ds, next_page_token=page["nextPageToken"], page_size=7)
        collected += page["transactions"]
    assert collected == ds.transactions
    middle = datetime.fromisoformat(ds.transactions[len(ds.transactions) // 2]["feedDate"])
    first = transactions_page(ds, feed_start=start, feed_end=middle, page_size=1000)
    second = transactions_page(ds, feed_start=middle, feed_end=end, page_size=1000)
    assert first["transactions"] + second["transactions"] == ds.transactions
    with pytest.raises(ValueError):
        transactions_page(ds, next_page_token="garbage!")
    with pytest.raises(ValueError):
        transactions_page(ds, feed_start=start)


@pytest.mark.parametrize("region", ["UK", "DE"])
def test_business_regions(region: str) -> None:
    ds = generate_buyer(BuyerSpec(seed=2, start=START, days=30, purchases=25, region=region))
    assert ds.transactions and all(
        t["amount"]["currencyCode"] == ds.currency for t in ds.transactions
    )
    schema = validator("amazon-business/Reconciliation_API.json", "Transaction")
    for t in ds.transactions:
        schema.validate(t)
        lines = t["transactionLineItems"]
        assert _amount(t["amount"]) == sum((_amount(li["totalAmount"]) for li in lines), Decimal(0))


def test_tiny_buyers() -> None:
    ds = generate_buyer(BuyerSpec(seed=1, start=START, days=4, purchases=1))
    assert ds.now == datetime(2026, 6, 5, tzinfo=UTC)
    assert ds.transactions
    assert all(t.get("paymentInstrumentLast4Digits") in (None, "4242") for t in ds.transactions)
    assert all(
        datetime.fromisoformat(t["transactionDate"]) >= datetime(2026, 6, 1, tzinfo=UTC)
        for t in generate_buyer(BuyerSpec(start=START, days=1, purchases=3)).transactions
    )
    assert generate_buyer(BuyerSpec(start=START, purchases=0)).transactions == []

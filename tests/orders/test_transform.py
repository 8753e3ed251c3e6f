"""The pure per-order transform: an invoice per order equal to Amazon's total, credit notes from
the settlement's refund rows.

Orders are hand-made ordersV0 JSON (``getOrders``' Order, ``getOrderItems``' OrderItems, prices
as Amazon shows them: VAT inside in the UK and the EU, tax on top in the US); charts are the
sandbox organisations' as ``GET /Accounts`` and ``GET /TaxRates`` list them. Totals are also
checked by doing Xero's arithmetic on the payload alone (xero-api.md §5).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from mappings.categories_seller import (
    PROMOTIONS,
    REFUNDS_SHIPPING,
    SALES,
    SALES_GIFTWRAP,
    SALES_SHIPPING,
    TAX_FACILITATOR,
)
from mappings.chart import Chart
from mappings.resolve import MappingSet, Target
from mappings.transforms import orders as transform
from tests.orders.api_json import CHANNELS, CURRENCIES, api_item, api_order
from tests.settlements.support import DE, UK, US, mapping, uk_chart, us_chart, us_mapping

CENT = Decimal("0.01")
BOUGHT = datetime(2026, 4, 3, 23, 30, tzinfo=UTC)
UK_CUSTOMERS = {"Name": "Amazon Customers Amazon.co.uk"}


def order(
    marketplace: str, order_id: str, total: str | None, items: list[dict[str, Any]], **kw: Any
) -> transform.OrderInput:
    data = api_order(marketplace, order_id, total, bought=BOUGHT, **kw)
    return transform.order_from_api(data, items, purchase_date=BOUGHT)


def invoice(
    parsed: transform.OrderInput,
    mapping_set: MappingSet | None = None,
    chart: Chart | None = None,
    *,
    contact: str = "",
    item_codes: frozenset[str] = frozenset(),
) -> transform.Document:
    us = parsed.marketplace_id == US
    return transform.order_invoice(
        parsed,
        mapping_set or (us_mapping() if us else mapping()),
        chart or (us_chart() if us else uk_chart()),
        contact=contact or transform.default_contact(parsed.marketplace_id, parsed.sales_channel),
        item_codes=item_codes,
    )


def line(
    description: str,
    quantity: str,
    unit: str,
    amount: str,
    account: str,
    tax_type: str,
    item_code: str = "",
) -> dict[str, str]:
    found = {
        "Description": description,
        "Quantity": quantity,
        "UnitAmount": unit,
        "LineAmount": amount,
        "AccountCode": account,
    }
    if item_code:
        found["ItemCode"] = item_code
    found["TaxType"] = tax_type
    return found


def xero_total(payload: dict[str, Any], chart: Chart) -> Decimal:
    """What Xero will say the document totals, from the payload alone."""
    total = Decimal("0.00")
    for ln in payload["LineItems"]:
        amount = Decimal(ln["LineAmount"])
        # Xero recomputes each line as Quantity x UnitAmount rounded to the cent.
        assert (Decimal(ln["Quantity"]) * Decimal(ln["UnitAmount"])).quantize(
            CENT, ROUND_HALF_UP
        ) == amount, ln
        percent = chart.rate(ln["TaxType"]).percent
        if payload["LineAmountTypes"] == "Exclusive":
            total += amount + (amount * percent / 100).quantize(CENT, ROUND_HALF_UP)
        else:
            total += amount
    return total


def assert_equals_amazon(document: transform.Document, chart: Chart) -> None:
    assert document.held_reasons == ()
    assert document.amazon_total is not None
    assert document.total == document.amazon_total
    assert xero_total(document.payload, chart) == document.amazon_total
    assert document.difference == Decimal("0.00") and document.check_note == ""


# --------------------------------------------------------------------------- order shapes


def test_several_items_are_a_line_each_with_the_xero_item_code_when_the_sku_is_one() -> None:
    parsed = order(
        UK,
        "203-1000001-0000001",
        "100.00",
        [
            api_item(
                UK, "NW-MUG-BLU", "Stoneware mug, blue", quantity=2, price="25.00", tax="4.17"
            ),
            api_item(UK, "NW-THROW-GRY", "Wool throw, grey", price="45.00", tax="7.50"),
            api_item(UK, "LAM-1004-RED", "Table lamp, red", price="30.00", tax="5.00"),
        ],
    )
    document = invoice(parsed, item_codes=frozenset({"NW-MUG-BLU", "NW-THROW-GRY"}))

    assert document.payload == {
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Contact": UK_CUSTOMERS,
        "Date": "2026-04-03",
        "DueDate": "2026-04-03",
        "InvoiceNumber": "UK-203-1000001-0000001",
        "Reference": "203-1000001-0000001",
        "CurrencyCode": "GBP",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            line(
                "Stoneware mug, blue (SKU NW-MUG-BLU)",
                "2.0000",
                "12.5000",
                "25.00",
                "200",
                "OUTPUT2",
                "NW-MUG-BLU",
            ),
            line(
                "Wool throw, grey (SKU NW-THROW-GRY)",
                "1.0000",
                "45.0000",
                "45.00",
                "200",
                "OUTPUT2",
                "NW-THROW-GRY",
            ),
            line(
                "Table lamp, red (SKU LAM-1004-RED)", "1.0000", "30.0000", "30.00", "200", "OUTPUT2"
            ),
        ],
    }
    assert document.kind == "invoice" and document.number == "UK-203-1000001-0000001"
    assert_equals_amazon(document, uk_chart())
    # The SKU with no Xero Item is offered for creation (option create_items).
    assert document.new_items == (("LAM-1004-RED", "Table lamp, red"),)
    assert [c.key for c in document.categories] == [SALES.key]


def test_shipping_and_promotions_are_lines_of_their_own_and_the_total_is_amazons() -> None:
    parsed = order(
        UK,
        "203-1000002-0000002",
        "25.99",
        [
            api_item(
                UK,
                "MUG-1001-BLU",
                "Mug",
                price="20.00",
                tax="3.33",
                shipping="3.99",
                shipping_tax="0.67",
                promotion="2.00",
                promotion_tax="0.33",
            ),
            api_item(
                UK,
                "CUP-1002-RED",
                "Cup",
                price="5.00",
                tax="0.83",
                shipping="1.99",
                shipping_tax="0.33",
                shipping_discount="1.99",
                shipping_discount_tax="0.33",
                promotion="-1.00",  # Amazon sometimes signs discounts negative
            ),
        ],
    )
    document = invoice(parsed)

    assert document.payload["LineItems"] == [
        line("Mug (SKU MUG-1001-BLU)", "1.0000", "20.0000", "20.00", "200", "OUTPUT2"),
        line("Cup (SKU CUP-1002-RED)", "1.0000", "5.0000", "5.00", "200", "OUTPUT2"),
        line("Shipping", "1.0000", "5.9800", "5.98", "200", "OUTPUT2"),
        line("Promotional discount", "1.0000", "-3.0000", "-3.00", "200", "OUTPUT2"),
        line("Shipping discount", "1.0000", "-1.9900", "-1.99", "200", "OUTPUT2"),
    ]
    # 20.00 + 5.00 + 3.99 + 1.99 - 2.00 - 1.00 - 1.99
    assert_equals_amazon(document, uk_chart())


def test_promotions_and_shipping_total_amazons_order_total() -> None:
    parsed = order(
        UK,
        "203-1000003-0000003",
        "20.99",
        [
            api_item(
                UK,
                "MUG-1001-BLU",
                "Mug",
                price="20.00",
                tax="3.33",
                shipping="3.99",
                shipping_tax="0.67",
                promotion="2.00",
                promotion_tax="0.33",
                shipping_discount="1.00",
                shipping_discount_tax="0.17",
            ),
        ],
    )
    document = invoice(parsed)

    lines = document.payload["LineItems"]
    assert [(ln["Description"], ln["LineAmount"], ln["AccountCode"]) for ln in lines] == [
        ("Mug (SKU MUG-1001-BLU)", "20.00", "200"),
        ("Shipping", "3.99", "200"),
        ("Promotional discount", "-2.00", "200"),
        ("Shipping discount", "-1.00", "200"),
    ]
    assert_equals_amazon(document, uk_chart())
    keys = {c.key for c in document.categories}
    assert {SALES.key, SALES_SHIPPING.key, PROMOTIONS.key} <= keys


def test_gift_wrap_is_its_own_line() -> None:
    parsed = order(
        UK,
        "203-1000004-0000004",
        "17.50",
        [
            api_item(
                UK,
                "NW-MUG-BLU",
                "Stoneware mug, blue",
                price="15.00",
                tax="2.50",
                gift_wrap="2.50",
                gift_wrap_tax="0.42",
            )
        ],
    )
    document = invoice(parsed)

    assert document.payload["LineItems"] == [
        line(
            "Stoneware mug, blue (SKU NW-MUG-BLU)", "1.0000", "15.0000", "15.00", "200", "OUTPUT2"
        ),
        line("Gift wrap", "1.0000", "2.5000", "2.50", "200", "OUTPUT2"),
    ]
    assert_equals_amazon(document, uk_chart())
    assert SALES_GIFTWRAP in document.categories


@pytest.mark.parametrize(
    ("marketplace", "prefix", "currency", "contact"),
    [
        (UK, "UK", "GBP", "Amazon Customers Amazon.co.uk"),
        (DE, "DE", "EUR", "Amazon Customers Amazon.de"),
    ],
)
def test_eu_orders_are_vat_inclusive_in_their_own_currency(
    marketplace: str, prefix: str, currency: str, contact: str
) -> None:
    parsed = order(
        marketplace,
        "302-1000005-0000005",
        "34.49",
        [
            api_item(
                marketplace,
                "THR-1003-GRY",
                "Wolldecke",
                price="29.99",
                tax="4.79",
                shipping="4.50",
                shipping_tax="0.72",
            )
        ],
    )
    document = invoice(parsed)  # one UK organisation: GBP, EUR and USD enabled

    payload = document.payload
    assert payload["InvoiceNumber"] == f"{prefix}-302-1000005-0000005"
    assert payload["Reference"] == "302-1000005-0000005"
    assert payload["CurrencyCode"] == currency
    assert payload["LineAmountTypes"] == "Inclusive"
    assert payload["Contact"] == {"Name": contact}
    assert payload["LineItems"] == [
        line("Wolldecke (SKU THR-1003-GRY)", "1.0000", "29.9900", "29.99", "200", "OUTPUT2"),
        line("Shipping", "1.0000", "4.5000", "4.50", "200", "OUTPUT2"),
    ]
    assert_equals_amazon(document, uk_chart())


def test_us_orders_are_exclusive_with_the_facilitator_tax_as_its_own_line() -> None:
    parsed = order(
        US,
        "111-1000006-0000006",
        "44.35",
        [
            api_item(
                US,
                "RW-LAMP-LED",
                "LED camp lamp",
                quantity=2,
                price="39.98",
                tax="3.30",
                shipping="5.99",
                shipping_tax="0.49",
                promotion="5.00",
                promotion_tax="0.41",
                facilitator=True,
            )
        ],
    )
    document = invoice(parsed, item_codes=frozenset({"RW-TENT-2P", "RW-LAMP-LED"}))

    assert document.payload == {
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Contact": {"Name": "Amazon Customers Amazon.com"},
        "Date": "2026-04-03",
        "DueDate": "2026-04-03",
        "InvoiceNumber": "US-111-1000006-0000006",
        "Reference": "111-1000006-0000006",
        "CurrencyCode": "USD",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            line(
                "LED camp lamp (SKU RW-LAMP-LED)",
                "2.0000",
                "19.9900",
                "39.98",
                "400",
                "NONE",
                "RW-LAMP-LED",
            ),
            line("Shipping", "1.0000", "5.9900", "5.99", "400", "NONE"),
            line("Promotional discount", "1.0000", "-5.0000", "-5.00", "400", "NONE"),
            # 3.30 + 0.49 - 0.41: to the facilitator account, where the settlement's withheld
            # tax takes it out again.
            line(
                "Sales tax collected and remitted by Amazon (marketplace facilitator)",
                "1.0000",
                "3.3800",
                "3.38",
                "240",
                "NONE",
            ),
        ],
    }
    assert_equals_amazon(document, us_chart())
    assert TAX_FACILITATOR in document.categories


def test_us_items_without_tax_collection_still_go_to_the_facilitator_account() -> None:
    """The orders report does not say who collects US tax; Amazon does in every state."""
    item = api_item(US, "RW-TENT-2P", "Two-person tent", price="189.00", tax="15.59")
    parsed = order(US, "111-1000007-0000007", "204.59", [item])
    document = invoice(parsed)

    tax_line = document.payload["LineItems"][-1]
    assert tax_line["AccountCode"] == "240" and tax_line["LineAmount"] == "15.59"
    assert_equals_amazon(document, us_chart())


def test_us_sales_lines_never_carry_a_rate_xero_would_add_on_top() -> None:
    """Sales mapped to an account whose default rate is 8.25%: the lines go untaxed, as the
    tax Amazon charged is already a line of its own."""
    targets = dict(us_mapping().targets)
    targets[SALES.key] = Target("400", "")  # account 400's own rate: TAX001, 8.25%
    targets[SALES_SHIPPING.key] = Target("400", "TAX001")
    chosen = dataclasses.replace(us_mapping(), targets=targets)
    item = api_item(
        US,
        "RW-TENT-2P",
        "Two-person tent",
        price="189.00",
        tax="16.09",
        shipping="6.00",
        shipping_tax="0.50",
        facilitator=True,
    )
    document = invoice(order(US, "111-1000008-0000008", "211.59", [item]), chosen)

    assert [ln["TaxType"] for ln in document.payload["LineItems"]] == ["NONE", "NONE", "NONE"]
    assert_equals_amazon(document, us_chart())


def test_a_unit_price_4_dp_cannot_carry_still_totals_exactly() -> None:
    parsed = order(
        UK,
        "203-1000009-0000009",
        "110.01",
        [
            api_item(UK, "PEN-1005-BLK", "Pen", quantity=3, price="10.00", tax="1.67"),
            api_item(UK, "CLIP-1006-SLV", "Paper clip", quantity=300, price="100.01", tax="16.67"),
        ],
    )
    document = invoice(parsed)

    assert document.payload["LineItems"] == [
        # 3 x 3.3333 = 9.9999, which Xero rounds to the line's 10.00.
        line("Pen (SKU PEN-1005-BLK)", "3.0000", "3.3333", "10.00", "200", "OUTPUT2"),
        # 300 x 0.3334 would be 100.02: one line for the lot carries the exact amount.
        line(
            "Paper clip (SKU CLIP-1006-SLV) (300 units)",
            "1.0000",
            "100.0100",
            "100.01",
            "200",
            "OUTPUT2",
        ),
    ]
    assert_equals_amazon(document, uk_chart())


def test_a_partly_cancelled_order_invoices_what_shipped() -> None:
    """Amazon keeps a cancelled item with nothing ordered and no price."""
    cancelled = api_item(UK, "LAM-1004-RED", "Table lamp", price="0.00", tax="0.00", quantity=0)
    parsed = order(
        UK,
        "203-1000010-0000010",
        "25.00",
        [api_item(UK, "MUG-1001-BLU", "Mug", quantity=2, price="25.00", tax="4.17"), cancelled],
    )
    document = invoice(parsed)

    assert document.payload["LineItems"] == [
        line("Mug (SKU MUG-1001-BLU)", "2.0000", "12.5000", "25.00", "200", "OUTPUT2"),
    ]
    assert_equals_amazon(document, uk_chart())


def test_buyer_contact_carries_the_buyers_email_the_marketplace_contact_does_not() -> None:
    buyer = {"BuyerEmail": "jane.smith@example.co.uk", "BuyerName": "Jane Smith"}
    items = [api_item(UK, "MUG-1001-BLU", "Mug", price="12.00", tax="2.00")]
    parsed = order(UK, "203-1000011-0000011", "12.00", items, buyer=buyer)
    assert (parsed.buyer_name, parsed.buyer_email) == ("Jane Smith", "jane.smith@example.co.uk")

    named = invoice(parsed, contact="Jane Smith")
    assert named.payload["Contact"] == {
        "Name": "Jane Smith",
        "EmailAddress": "jane.smith@example.co.uk",
    }
    assert invoice(parsed).payload["Contact"] == UK_CUSTOMERS


def test_tracking_of_the_marketplace_goes_on_every_line() -> None:
    tracked = mapping(marketplace_tracking={UK: ("Sales Channel", "Amazon UK")})
    item = api_item(UK, "MUG-1001-BLU", "Mug", price="12.00", tax="2.00", shipping="2.99")
    document = invoice(order(UK, "203-1000012-0000012", "14.99", [item]), tracked)

    for ln in document.payload["LineItems"]:
        assert ln["Tracking"] == [{"Name": "Sales Channel", "Option": "Amazon UK"}]
    assert_equals_amazon(document, uk_chart())


# --------------------------------------------------------------------------- the check


@pytest.mark.parametrize(
    ("total", "difference", "reason"),
    [
        ("26.00", "-2.00", "Amazon's total includes charges its items do not list."),
        ("23.00", "1.00", "Amazon's total leaves out part of what its items list (a discount?)."),
    ],
)
def test_an_order_total_that_differs_from_the_items_is_flagged_not_absorbed(
    total: str, difference: str, reason: str
) -> None:
    items = [api_item(UK, "MUG-1001-BLU", "Mug", quantity=2, price="24.00", tax="4.00")]
    document = invoice(order(UK, "203-1000013-0000013", total, items))

    assert document.held_reasons == ()
    assert document.total == Decimal("24.00")  # the items, as Amazon listed them
    assert xero_total(document.payload, uk_chart()) == Decimal("24.00")
    assert len(document.payload["LineItems"]) == 1  # no line makes up the difference
    assert document.amazon_total == Decimal(total)
    assert document.difference == Decimal(difference)
    assert document.check_note == (
        f"Amazon's order total is {total} GBP; the invoice, built from the items, is 24.00: "
        + reason
    )


def test_items_not_yet_shipped_explain_the_difference() -> None:
    items = [
        api_item(UK, "MUG-1001-BLU", "Mug", price="12.00", tax="2.00"),
        api_item(UK, "CUP-1002-RED", "Cup", price="8.00", tax="1.33", shipped=0),
    ]
    document = invoice(order(UK, "203-1000014-0000014", "12.00", items, status="PartiallyShipped"))

    assert document.difference == Decimal("8.00")
    assert document.check_note.endswith("1 item(s) were not shipped when it was read.")


# --------------------------------------------------------------------------- holds


def test_an_unmapped_category_holds_the_invoice_with_its_reason() -> None:
    items = [
        api_item(
            UK,
            "NW-MUG-BLU",
            "Stoneware mug, blue",
            price="15.00",
            tax="2.50",
            gift_wrap="2.50",
            gift_wrap_tax="0.42",
        )
    ]
    document = invoice(
        order(UK, "203-1000015-0000015", "17.50", items), mapping(omit=(SALES_GIFTWRAP.key,))
    )

    assert document.held_reasons == (
        "'Gift wrap charged to buyers' has no Xero account yet: map it, then it posts.",
    )
    assert document.held_reason == document.held_reasons[0]
    # The category is reported (so the mapping page lists it) and nothing is made up for it.
    assert SALES_GIFTWRAP in document.categories
    assert [ln["Description"] for ln in document.payload["LineItems"]] == [
        "Stoneware mug, blue (SKU NW-MUG-BLU)"
    ]
    # Amazon's total and the items agree: a hold is not a difference.
    assert document.difference == Decimal("0.00") and document.check_note == ""


def test_a_tax_rate_the_organisation_lacks_holds_the_invoice() -> None:
    targets = dict(mapping().targets)
    targets[SALES.key] = Target("200", "OUTPUT9")
    chosen = dataclasses.replace(mapping(), targets=targets)
    items = [api_item(UK, "MUG-1001-BLU", "Mug", price="12.00", tax="2.00")]
    document = invoice(order(UK, "203-1000016-0000016", "12.00", items), chosen)

    assert document.held_reasons == (
        "Tax rate OUTPUT9 is not in the Xero organisation: choose another tax rate in the mapping.",
    )


def test_a_currency_not_enabled_in_xero_holds_the_invoice() -> None:
    items = [api_item(DE, "THR-1003-GRY", "Wolldecke", price="29.99", tax="4.79")]
    document = invoice(order(DE, "302-1000017-0000017", "29.99", items), chart=uk_chart(("GBP",)))

    assert document.held_reasons == (
        "This order is in EUR, which is not enabled in the Xero organisation: add EUR in Xero "
        "under Settings → Currencies.",
    )
    assert document.payload["CurrencyCode"] == "EUR"
    assert document.total == Decimal("29.99")  # built in full, waiting for the currency


def test_promotions_above_the_price_hold_instead_of_a_negative_invoice() -> None:
    items = [api_item(UK, "MUG-1001-BLU", "Mug", price="5.00", tax="0.83", promotion="6.00")]
    document = invoice(order(UK, "203-1000018-0000018", "0.00", items))

    assert document.held_reasons == (
        "The order's promotions exceed its price (-1.00 GBP): it cannot be an invoice; check it "
        "in Seller Central.",
    )


def test_an_order_whose_items_are_not_read_yet_holds() -> None:
    document = invoice(order(UK, "203-1000019-0000019", "12.00", []))

    assert document.held_reasons == (
        "Amazon has not listed this order's items yet; they are read next sync.",
    )
    assert document.payload["LineItems"] == []
    assert document.difference == Decimal("0.00")


# --------------------------------------------------------------------------- refunds


def refund(
    marketplace: str, order_id: str, part: str, rows: list[tuple[str, str, str]]
) -> transform.RefundInput:
    """Refund rows as the settlement lists them: (amount-type, amount-description, amount)."""
    return transform.RefundInput(
        amazon_order_id=order_id,
        part=part,
        marketplace_id=marketplace,
        sales_channel=CHANNELS[marketplace],
        currency=CURRENCIES[marketplace],
        posted=date(2026, 4, 9),
        rows=tuple(
            transform.RefundRow(atype, desc, Decimal(amount), "MUG-1001-BLU")
            for atype, desc, amount in rows
        ),
    )


def credit_note(
    refunded: transform.RefundInput, mapping_set: MappingSet | None = None
) -> transform.Document:
    us = refunded.marketplace_id == US
    return transform.refund_credit_note(
        refunded,
        mapping_set or (us_mapping() if us else mapping()),
        us_chart() if us else uk_chart(),
        contact=transform.default_contact(refunded.marketplace_id, refunded.sales_channel),
    )


def test_a_full_uk_refund_is_an_inclusive_credit_note_equal_to_what_was_given_back() -> None:
    refunded = refund(
        UK,
        "203-1000020-0000020",
        "amzn1RFD0020",
        [
            ("ItemPrice", "Principal", "-16.67"),
            ("ItemPrice", "Tax", "-3.33"),
            ("ItemPrice", "Shipping", "-3.32"),
            ("ItemPrice", "ShippingTax", "-0.67"),
            ("Promotion", "Principal", "1.67"),
            ("Promotion", "Shipping", "0.50"),
        ],
    )
    note = credit_note(refunded)

    assert note.payload == {
        "Type": "ACCRECCREDIT",
        "Status": "AUTHORISED",
        "Contact": UK_CUSTOMERS,
        "Date": "2026-04-09",
        "CreditNoteNumber": "UK-203-1000020-0000020-amzn1RFD0020",
        "Reference": "Refund 203-1000020-0000020",
        "CurrencyCode": "GBP",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            line("Product refunds", "1.0000", "20.0000", "20.00", "200", "OUTPUT2"),
            line("Shipping refunded", "1.0000", "3.9900", "3.99", "200", "OUTPUT2"),
            line("Promotional discounts on items", "1.0000", "-1.6700", "-1.67", "200", "OUTPUT2"),
            line("Shipping discounts", "1.0000", "-0.5000", "-0.50", "200", "OUTPUT2"),
        ],
    }
    assert note.kind == "credit_note" and note.held_reasons == ()
    assert note.total == refunded.amount == Decimal("21.82") == note.amazon_total
    assert xero_total(note.payload, uk_chart()) == Decimal("21.82")


def test_a_partial_refund_credits_only_what_was_given_back() -> None:
    refunded = refund(
        UK,
        "203-1000021-0000021",
        "amzn1RFD0021",
        [("ItemPrice", "Principal", "-10.42"), ("ItemPrice", "Tax", "-2.08")],
    )
    note = credit_note(refunded)

    assert note.payload["LineItems"] == [
        line("Product refunds", "1.0000", "12.5000", "12.50", "200", "OUTPUT2"),
    ]
    assert note.total == Decimal("12.50") == xero_total(note.payload, uk_chart())


def test_a_de_refund_is_inclusive_in_euros() -> None:
    refunded = refund(
        DE,
        "302-1000022-0000022",
        "amzn1RFD0022",
        [
            ("ItemPrice", "Principal", "-25.20"),
            ("ItemPrice", "Tax", "-4.79"),
            ("ItemPrice", "Goodwill", "-5.00"),
        ],
    )
    note = credit_note(refunded)

    assert note.payload["CreditNoteNumber"] == "DE-302-1000022-0000022-amzn1RFD0022"
    assert note.payload["CurrencyCode"] == "EUR"
    assert note.payload["Contact"] == {"Name": "Amazon Customers Amazon.de"}
    assert note.payload["LineAmountTypes"] == "Inclusive"
    assert note.payload["LineItems"] == [
        line("Product refunds", "1.0000", "29.9900", "29.99", "200", "OUTPUT2"),
        line("Goodwill credits to buyers", "1.0000", "5.0000", "5.00", "200", "OUTPUT2"),
    ]
    assert note.total == Decimal("34.99") == xero_total(note.payload, uk_chart())


@pytest.mark.parametrize(
    ("rows", "lines", "total"),
    [
        (  # the whole order back
            [
                ("ItemPrice", "Principal", "-39.98"),
                ("ItemPrice", "Tax", "-3.30"),
                ("ItemPrice", "Shipping", "-5.99"),
                ("ItemPrice", "ShippingTax", "-0.49"),
            ],
            [
                line("Product refunds", "1.0000", "39.9800", "39.98", "400", "NONE"),
                line("Shipping refunded", "1.0000", "5.9900", "5.99", "400", "NONE"),
                line(
                    "Sales tax refunded (collected by Amazon)",
                    "1.0000",
                    "3.7900",
                    "3.79",
                    "240",
                    "NONE",
                ),
            ],
            "49.76",
        ),
        (  # one lamp of two
            [("ItemPrice", "Principal", "-19.99"), ("ItemPrice", "Tax", "-1.65")],
            [
                line("Product refunds", "1.0000", "19.9900", "19.99", "400", "NONE"),
                line(
                    "Sales tax refunded (collected by Amazon)",
                    "1.0000",
                    "1.6500",
                    "1.65",
                    "240",
                    "NONE",
                ),
            ],
            "21.64",
        ),
    ],
)
def test_a_us_refund_is_exclusive_with_its_tax_to_the_facilitator_account(
    rows: list[tuple[str, str, str]], lines: list[dict[str, str]], total: str
) -> None:
    refunded = refund(US, "111-1000023-0000023", "amzn1RFD0023", rows)
    note = credit_note(refunded)

    assert note.payload["LineAmountTypes"] == "Exclusive"
    assert note.payload["CreditNoteNumber"] == "US-111-1000023-0000023-amzn1RFD0023"
    assert note.payload["Contact"] == {"Name": "Amazon Customers Amazon.com"}
    assert note.payload["LineItems"] == lines
    assert note.total == refunded.amount == Decimal(total)
    assert xero_total(note.payload, us_chart()) == Decimal(total)


def test_an_unmapped_refund_category_holds_the_credit_note() -> None:
    refunded = refund(
        UK,
        "203-1000024-0000024",
        "amzn1RFD0024",
        [("ItemPrice", "Principal", "-10.00"), ("ItemPrice", "Shipping", "-2.99")],
    )
    note = credit_note(refunded, mapping(omit=(REFUNDS_SHIPPING.key,)))

    assert note.held_reasons == (
        "'Shipping refunded' has no Xero account yet: map it, then it posts.",
    )
    assert REFUNDS_SHIPPING in note.categories


def test_which_settlement_rows_belong_to_the_order() -> None:
    assert transform.is_buyer_charge("Order", "ItemPrice")
    assert transform.is_buyer_charge("Refund", "Promotion")
    assert transform.is_buyer_charge("Chargeback Refund", "ItemPrice")
    assert not transform.is_buyer_charge("Order", "ItemFees")
    assert not transform.is_buyer_charge("Order", "ItemWithheldTax")
    assert not transform.is_buyer_charge("other-transaction", "ItemPrice")
    assert transform.is_refund("Refund") and not transform.is_refund("Order")

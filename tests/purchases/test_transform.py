"""The pure transform: Amazon Business transactions → Xero documents, to the cent.

No database, no network: purchases come from the sandbox's own generator (every shape it makes:
several cards, Pay by Invoice, refunds and over-refunds, split payments, several lines with
mixed tax rates, GL codes) and from hand-built transactions for the rarer shapes.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mappings.categories_business import (
    DISCOUNT,
    GOODWILL,
    SHIPPING,
    TAX,
    business_charge_category,
    business_line_category,
    payment_method_key,
    payment_method_label,
)
from mappings.resolve import MappingSet, Target
from mappings.transforms.business import (
    Categorisers,
    InvoiceState,
    Purchase,
    line_total,
    money,
    purchase_documents,
    purchase_from_api,
)
from sandbox.datagen.business import BuyerSpec, generate_buyer

CONTACT = "8f2c1a4e-1111-4222-8333-944455556666"
CATS = Categorisers(line=business_line_category, charge=business_charge_category, goodwill=GOODWILL)
CARD_ACCOUNTS = {
    "card:1111": "092",
    "card:5454": "090",
    "card:0005": "091",
    "other:giftcard": "090",
}


def dataset() -> list[dict[str, Any]]:
    return generate_buyer(
        BuyerSpec(seed=7, start=date(2026, 1, 1), days=90, purchases=150, region="US")
    ).transactions


def full_mapping(transactions: list[dict[str, Any]], **extra: Any) -> MappingSet:
    keys = {
        business_line_category(item).key
        for t in transactions
        for item in t.get("transactionLineItems", [])
    }
    targets = {
        key: Target(account_code=f"6{n:02d}", tax_type="TAX002")
        for n, key in enumerate(sorted(keys))
    }
    targets.update(extra.pop("targets", {}))
    return MappingSet(
        targets=targets,
        payment_methods={
            **CARD_ACCOUNTS,
            "invoice": MappingSet.BILL,
            "invoice-payment": "090",
            **extra.pop("payment_methods", {}),
        },
        business_supplier_contact_id=CONTACT,
        suspense_account=extra.pop("suspense_account", "250"),
        **extra,
    )


def purchase(data: dict[str, Any]) -> Purchase:
    return purchase_from_api(
        data, method_key=payment_method_key(data), method_label=payment_method_label(data)
    )


def amazon_tax(data: dict[str, Any]) -> Decimal:
    return sum((money(i.get("tax")) for i in data["transactionLineItems"]), Decimal("0.00"))


def lines_sum(payload: dict[str, Any], field: str) -> Decimal:
    return sum((Decimal(line[field]) for line in payload["LineItems"]), Decimal("0.00"))


def test_every_generated_purchase_posts_the_right_document_with_amazons_totals() -> None:
    transactions = dataset()
    mapping = full_mapping(transactions)
    by_id = {t["transactionId"]: purchase(t) for t in transactions}
    kinds: Counter[tuple[str, str, str]] = Counter()
    held_methods = set()
    for data in transactions:
        docs = purchase_documents(purchase(data), mapping, categorisers=CATS, partners=by_id)
        amount = Decimal(data["amount"]["amount"])
        main = docs.main
        assert main is not None
        payload = main.payload
        # To the cent: Xero's Inclusive total is the sum of the line amounts; tax as Amazon's.
        assert main.total == abs(amount)
        assert lines_sum(payload, "LineAmount") == abs(amount)
        assert lines_sum(payload, "TaxAmount") == abs(amazon_tax(data))
        assert payload["LineAmountTypes"] == "Inclusive"
        assert payload["Contact"] == {"ContactID": CONTACT}
        assert payload["CurrencyCode"] == "USD"
        assert payload["Date"] == data["transactionDate"][:10]
        key = payment_method_key(data)
        kinds[(data["transactionType"], key, main.kind + ":" + payload.get("Type", ""))] += 1
        if main.held_reason:
            held_methods.add(key)
            assert main.held_reason == (
                "Map the card ending 4242 to a Xero bank or credit-card account"
            )
            continue
        if key == "invoice":
            if amount > 0:
                assert (main.kind, payload["Type"]) == ("bill", "ACCPAY")
                assert payload["InvoiceNumber"] == data["invoiceNumber"] == main.lookup_number
                assert "BankAccount" not in payload and "Reference" not in payload
            else:
                assert (main.kind, payload["Type"]) == ("credit_note", "ACCPAYCREDIT")
                assert payload["CreditNoteNumber"] == data["invoiceNumber"]
        else:
            assert main.kind == "bank_transaction"
            assert payload["Type"] == ("SPEND" if amount > 0 else "RECEIVE")
            assert payload["BankAccount"] == {"Code": CARD_ACCOUNTS[key]}
            assert main.lookup_reference == payload["Reference"]
            assert data["transactionId"] in payload["Reference"]
        for line in payload["LineItems"]:
            assert Decimal(line["LineAmount"]) == Decimal(line["LineAmount"]).quantize(
                Decimal("0.01")
            )
            assert len(line["UnitAmount"].split(".")[1]) == 4
    # The generator's shapes all occurred, and only the new card waits.
    assert held_methods == {"card:4242"}
    types = {t for t, _, _ in kinds}
    assert types == {"CHARGE", "REFUND", "OVERREFUND"}
    assert any(k[2] == "bill:ACCPAY" for k in kinds)
    assert any(k[2] == "bank_transaction:RECEIVE" for k in kinds)
    assert any(t.get("associatedTransactionDetails") for t in transactions)


def _line(**values: Any) -> dict[str, Any]:
    def m(amount: str) -> dict[str, str]:
        return {"currencyCode": "USD", "amount": amount}

    item = {
        "orderId": "111-0000001-0000001",
        "orderLineItemId": values.pop("olid", "1"),
        "shipmentId": "SHIP1",
        "asin": "B0TEST0001",
        "productTitle": values.pop("title", "Copy Paper, 5 Reams"),
        "unspsc": values.pop("unspsc", "14111507"),
        "itemQuantity": values.pop("qty", 1),
        "taxRate": values.pop("rate", "0.0825"),
        "businessOrderInfo": values.pop("info", {}),
    }
    parts = {k: values.pop(k, "0.00") for k in ("principal", "shipping", "gift", "discount", "tax")}
    item.update(
        principalAmount=m(parts["principal"]),
        shippingCharge=m(parts["shipping"]),
        giftWrappingCharge=m(parts["gift"]),
        discount=m(parts["discount"]),
        tax=m(parts["tax"]),
    )
    total = sum(Decimal(v) for v in parts.values())
    item["totalAmount"] = m(values.pop("total", f"{total:.2f}"))
    item.update(values)
    return item


def _tx(lines: list[dict[str, Any]], **values: Any) -> dict[str, Any]:
    total = sum(line_total(i) for i in lines)
    data = {
        "transactionId": values.pop("id", "TX1"),
        "transactionType": values.pop("kind", "CHARGE"),
        "transactionDate": "2026-03-04T10:00:00.000Z",
        "feedDate": "2026-03-04T12:00:00.000Z",
        "amount": {"currencyCode": "USD", "amount": values.pop("amount", f"{total:.2f}")},
        "paymentInstrumentType": values.pop("instrument", "Visa"),
        "paymentInstrumentLast4Digits": values.pop("last4", "1111"),
        "invoiceNumber": values.pop("invoice", "US1234567890"),
        "shipTaxRate": "0.0825",
        "giftWrapTaxRate": "0.0825",
        "transactionLineItems": lines,
    }
    if data["paymentInstrumentType"] == "PayByInvoice":
        del data["paymentInstrumentLast4Digits"]
    data.update(values)
    return data


def test_several_lines_with_mixed_tax_rates_keep_amazons_tax_per_line() -> None:
    data = _tx(
        [
            _line(olid="1", principal="38.99", tax="3.22", rate="0.0825", title="Copy Paper"),
            _line(
                olid="2",
                principal="54.99",
                tax="0.00",
                rate="0",
                title="Accounting Handbook",
                unspsc="55101509",
            ),
            _line(
                olid="3",
                principal="23.99",
                tax="1.50",
                rate="0.0625",
                title="Coffee Beans",
                unspsc="50201706",
            ),
        ]
    )
    docs = purchase_documents(purchase(data), full_mapping([data]), categorisers=CATS)
    assert docs.main is not None
    lines = docs.main.payload["LineItems"]
    assert [(x["LineAmount"], x["TaxAmount"]) for x in lines] == [
        ("42.21", "3.22"),
        ("54.99", "0.00"),
        ("25.49", "1.50"),
    ]
    assert docs.main.total == Decimal("122.69")
    assert {x["TaxType"] for x in lines} == {"TAX002"}


def test_gl_codes_pick_the_account_and_cost_centres_the_tracking() -> None:
    data = _tx(
        [
            _line(
                olid="1",
                principal="100.00",
                tax="8.25",
                info={"GL code": "6200-facilities", "Cost center": "CC-200"},
            ),
            _line(
                olid="2",
                principal="10.00",
                tax="0.83",
                info={"GL Code": "6100-marketing", "Cost center": ""},
            ),
        ]
    )
    mapping = MappingSet(
        targets={
            "business:gl:6200-facilities": Target("660", "TAX002", (("Region", "West"),)),
            "business:gl:6100-marketing": Target("600", "NONE"),
        },
        payment_methods={"card:1111": "092"},
        business_supplier_contact_id=CONTACT,
    )
    docs = purchase_documents(
        purchase(data),
        mapping,
        categorisers=CATS,
        cost_centres={"CC-200": (("Department", "Facilities"), ("Region", "East"))},
    )
    assert docs.main is not None and not docs.main.held_reason
    first, second = docs.main.payload["LineItems"]
    assert (first["AccountCode"], first["TaxType"]) == ("660", "TAX002")
    # The category's own tracking first; at most two categories, never one twice.
    assert first["Tracking"] == [
        {"Name": "Region", "Option": "West"},
        {"Name": "Department", "Option": "Facilities"},
    ]
    assert (second["AccountCode"], second["TaxType"]) == ("600", "NONE")
    assert "Tracking" not in second
    assert {c.key for c in docs.categories} >= {
        "business:gl:6200-facilities",
        "business:gl:6100-marketing",
    }


def test_quantities_keep_unit_prices_to_four_places_and_exact_line_totals() -> None:
    data = _tx([_line(principal="37.47", tax="3.09", qty=3)])
    docs = purchase_documents(purchase(data), full_mapping([data]), categorisers=CATS)
    assert docs.main is not None
    (line,) = docs.main.payload["LineItems"]
    assert (line["Quantity"], line["UnitAmount"], line["LineAmount"]) == ("3", "13.5200", "40.56")
    odd = _tx([_line(principal="10.00", tax="0.83", qty=7)])
    docs = purchase_documents(purchase(odd), full_mapping([odd]), categorisers=CATS)
    assert docs.main is not None
    (line,) = docs.main.payload["LineItems"]
    # 10.83 / 7 = 1.5471…: 7 x 1.5471 = 10.8297 rounds back to 10.83, so quantity 7 stays.
    assert (line["Quantity"], line["LineAmount"]) == ("7", "10.83")


def test_pay_by_invoice_is_a_bill_with_amazons_number_and_due_date_then_a_payment() -> None:
    data = _tx(
        [_line(principal="200.00", tax="16.50")], instrument="PayByInvoice", invoice="US7000000001"
    )
    mapping = full_mapping([data])
    unpaid = purchase_documents(
        purchase(data), mapping, categorisers=CATS, invoice=InvoiceState(due_date=date(2026, 4, 3))
    )
    assert unpaid.main is not None and unpaid.payment is None
    assert unpaid.main.payload["Type"] == "ACCPAY"
    assert unpaid.main.payload["InvoiceNumber"] == "US7000000001"
    assert unpaid.main.payload["DueDate"] == "2026-04-03"
    assert unpaid.main.payload["Status"] == "AUTHORISED"
    paid = purchase_documents(
        purchase(data),
        mapping,
        categorisers=CATS,
        invoice=InvoiceState(due_date=date(2026, 4, 3), closed_on=date(2026, 3, 20)),
    )
    assert paid.payment is not None
    assert paid.payment.kind == "payment"
    assert paid.payment.payload == {
        "Date": "2026-03-20",
        "Amount": "216.50",
        "Reference": "Amazon Business invoice US7000000001 paid",
        "Account": {"Code": "090"},
    }
    assert paid.payment.lookup_reference == "Amazon Business invoice US7000000001 paid"
    # Without a due date from Amazon: net 30 from the purchase.
    default = purchase_documents(purchase(data), mapping, categorisers=CATS)
    assert default.main is not None and default.main.payload["DueDate"] == "2026-04-03"
    # No account chosen for paying Amazon's invoices: the payment waits, the bill does not.
    no_account = MappingSet(
        targets=mapping.targets, payment_methods={}, business_supplier_contact_id=CONTACT
    )
    held = purchase_documents(
        purchase(data),
        no_account,
        categorisers=CATS,
        invoice=InvoiceState(closed_on=date(2026, 3, 20)),
    )
    assert held.main is not None and held.main.held_reason == ""  # Pay by Invoice: a bill
    assert held.payment is not None
    assert (
        held.payment.held_reason
        == "Choose the Xero bank account that pays Amazon Business invoices"
    )


def test_refunds_receive_money_or_credit_the_supplier() -> None:
    line = _line(principal="-38.99", tax="-3.22", refundReason="Damaged item")
    card = _tx([line], kind="REFUND", id="R1")
    docs = purchase_documents(purchase(card), full_mapping([card]), categorisers=CATS)
    assert docs.main is not None
    assert (docs.main.kind, docs.main.payload["Type"]) == ("bank_transaction", "RECEIVE")
    (xl,) = docs.main.payload["LineItems"]
    assert (xl["LineAmount"], xl["TaxAmount"]) == ("42.21", "3.22")
    assert "refund: Damaged item" in xl["Description"]
    pbi = _tx([line], kind="REFUND", id="R2", instrument="PayByInvoice", invoice="CM0000000001")
    docs = purchase_documents(purchase(pbi), full_mapping([pbi]), categorisers=CATS)
    assert docs.main is not None
    assert docs.main.payload["Type"] == "ACCPAYCREDIT"
    assert docs.main.payload["CreditNoteNumber"] == "CM0000000001"
    assert docs.main.total == Decimal("42.21")


def test_an_over_refund_posts_to_the_goodwill_account_when_it_is_mapped() -> None:
    data = _tx([_line(principal="-3.90", qty=0, refundReason="Goodwill credit")], kind="OVERREFUND")
    mapping = full_mapping([data])
    plain = purchase_documents(purchase(data), mapping, categorisers=CATS)
    assert plain.main is not None
    (line,) = plain.main.payload["LineItems"]
    assert (
        line["AccountCode"]
        == mapping.targets[business_line_category(data["transactionLineItems"][0]).key].account_code
    )
    assert line["Quantity"] == "1"
    goodwill = full_mapping([data], targets={GOODWILL.key: Target("460", "NONE")})
    docs = purchase_documents(purchase(data), goodwill, categorisers=CATS)
    assert docs.main is not None
    assert docs.main.payload["LineItems"][0]["AccountCode"] == "460"
    assert docs.main.payload["Type"] == "RECEIVE"


def test_line_item_types_split_out_when_mapped_with_amazons_tax_on_them() -> None:
    item = _line(principal="40.00", shipping="4.99", discount="-2.00", tax="3.46")
    data = _tx([item])
    folded = purchase_documents(purchase(data), full_mapping([data]), categorisers=CATS)
    assert folded.main is not None
    assert [x["LineAmount"] for x in folded.main.payload["LineItems"]] == ["46.45"]
    split = full_mapping(
        [data],
        targets={SHIPPING.key: Target("624", "TAX002"), DISCOUNT.key: Target("628", "TAX002")},
    )
    docs = purchase_documents(purchase(data), split, categorisers=CATS)
    assert docs.main is not None
    rows = [
        (x["AccountCode"], x["LineAmount"], x["TaxAmount"]) for x in docs.main.payload["LineItems"]
    ]
    # Shipping tax at the shipTaxRate (4.99 x 8.25% = 0.41), discount's at the item's rate
    # (-2.00 x 8.25% = -0.17); the item keeps the rest of Amazon's 3.46.
    assert rows[1:] == [("624", "5.40", "0.41"), ("628", "-2.17", "-0.17")]
    assert rows[0][1:] == ("43.22", "3.22")
    assert sum(Decimal(r[1]) for r in rows) == Decimal("46.45")
    assert sum(Decimal(r[2]) for r in rows) == Decimal("3.46")
    # US sales tax booked as an expense: the purchase-tax category mapped.
    as_expense = full_mapping([data], targets={TAX.key: Target("640", "NONE")})
    docs = purchase_documents(purchase(data), as_expense, categorisers=CATS)
    assert docs.main is not None
    rows = [
        (x["AccountCode"], x["LineAmount"], x["TaxAmount"]) for x in docs.main.payload["LineItems"]
    ]
    assert rows[1] == ("640", "3.46", "0.00")
    assert rows[0][1:] == ("42.99", "0.00")


def test_split_payments_post_each_part_once_and_shared_lines_are_joined() -> None:
    a = _line(olid="1", principal="60.00", tax="4.95")
    b = _line(olid="2", principal="40.00", tax="3.30")
    # Whole lines on each part (what the sandbox generates): each part posts its own lines.
    gift = _tx(
        [a],
        id="SPLIT-A",
        instrument="GiftCard",
        last4="",
        associatedTransactionDetails=[{"associatedTransactionId": "SPLIT-B"}],
    )
    del gift["paymentInstrumentLast4Digits"]
    card = _tx(
        [b], id="SPLIT-B", associatedTransactionDetails=[{"associatedTransactionId": "SPLIT-A"}]
    )
    mapping = full_mapping([gift, card])
    parts = {p.transaction_id: p for p in (purchase(gift), purchase(card))}
    totals = []
    for data in (gift, card):
        docs = purchase_documents(purchase(data), mapping, categorisers=CATS, partners=parts)
        assert docs.main is not None and not docs.main.held_reason
        totals.append(docs.main.total)
    assert totals == [Decimal("64.95"), Decimal("43.30")]
    # Lines listed on both parts: shared out by each part's amount, to the cent.
    shared_a = _tx(
        [a, b],
        id="S-A",
        amount="30.00",
        instrument="GiftCard",
        associatedTransactionDetails=[{"associatedTransactionId": "S-B"}],
    )
    shared_b = _tx(
        [a, b],
        id="S-B",
        amount="78.25",
        associatedTransactionDetails=[{"associatedTransactionId": "S-A"}],
    )
    parts = {p.transaction_id: p for p in (purchase(shared_a), purchase(shared_b))}
    gross = Counter()
    tax = Counter()
    for data in (shared_a, shared_b):
        docs = purchase_documents(purchase(data), mapping, categorisers=CATS, partners=parts)
        assert docs.main is not None and not docs.main.held_reason
        assert docs.main.total == Decimal(data["amount"]["amount"])
        assert lines_sum(docs.main.payload, "LineAmount") == Decimal(data["amount"]["amount"])
        for n, line in enumerate(docs.main.payload["LineItems"]):
            gross[n] += Decimal(line["LineAmount"])
            tax[n] += Decimal(line["TaxAmount"])
    assert [gross[0], gross[1]] == [Decimal("64.95"), Decimal("43.30")]
    assert [tax[0], tax[1]] == [Decimal("4.95"), Decimal("3.30")]
    # The other part has not arrived yet: this one waits for it.
    docs = purchase_documents(purchase(shared_a), mapping, categorisers=CATS, partners={})
    assert docs.main is not None
    assert docs.main.held_reason.startswith("Waiting for the other part of this split payment")


def test_lines_that_do_not_add_up_post_the_difference_to_suspense() -> None:
    data = _tx([_line(principal="10.00", tax="0.83")], amount="10.84")
    docs = purchase_documents(purchase(data), full_mapping([data]), categorisers=CATS)
    assert docs.main is not None and not docs.main.held_reason
    assert docs.main.payload["LineItems"][-1]["AccountCode"] == "250"
    assert docs.main.payload["LineItems"][-1]["LineAmount"] == "0.01"
    assert docs.main.total == Decimal("10.84")
    assert docs.notes
    no_suspense = full_mapping([data], suspense_account="")
    docs = purchase_documents(purchase(data), no_suspense, categorisers=CATS)
    assert docs.main is not None
    assert "choose a suspense account" in docs.main.held_reason


def test_unmapped_things_hold_with_what_to_map() -> None:
    data = _tx([_line(principal="10.00", tax="0.83", last4="9999")], last4="9999")
    mapping = full_mapping([data])
    docs = purchase_documents(purchase(data), mapping, categorisers=CATS)
    assert docs.main is not None
    assert docs.main.held_reason == "Map the card ending 9999 to a Xero bank or credit-card account"
    assert "BankAccount" not in docs.main.payload
    no_category = MappingSet(
        payment_methods={"card:1111": "092"}, business_supplier_contact_id=CONTACT
    )
    docs = purchase_documents(
        purchase(_tx([_line(principal="5.00")])), no_category, categorisers=CATS
    )
    assert docs.main is not None
    assert docs.main.held_reason == (
        "Map the expense category “Office supplies and stationery” to a Xero account"
    )


def test_a_zero_transaction_posts_nothing_and_the_contact_is_required() -> None:
    data = _tx([_line(principal="0.00")])
    docs = purchase_documents(purchase(data), full_mapping([data]), categorisers=CATS)
    assert docs.main is None
    with pytest.raises(ValueError, match="supplier contact"):
        purchase_documents(
            purchase(_tx([_line(principal="1.00")])), MappingSet(), categorisers=CATS
        )


def test_the_transform_does_not_change_its_input() -> None:
    transactions = dataset()[:20]
    before = copy.deepcopy(transactions)
    mapping = full_mapping(transactions)
    for data in transactions:
        purchase_documents(purchase(data), mapping, categorisers=CATS)
    assert transactions == before

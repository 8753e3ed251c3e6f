"""The pure settlement transform: documents that equal the settlement and its deposit.

Totals are checked by doing Xero's arithmetic on the payload itself (per-line tax rounded half
away from zero, then summed; xero-api.md §5), independently of the transform's own figures.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

import pytest

from mappings.categories_seller import SELLER_CATEGORIES, settlement_category
from mappings.chart import Chart
from mappings.transforms.settlement import (
    SettlementInput,
    SettlementOptions,
    SettlementPlan,
    settlement_documents,
)
from tests.settlements.support import (
    DE,
    UK,
    US,
    account_row,
    mapping,
    parsed_input,
    settlements_of,
    uk_chart,
    us_chart,
    us_mapping,
    when,
    with_rows,
)

CENT = Decimal("0.01")


def xero_total(payload: dict, chart: Chart) -> Decimal:
    """What Xero will say the document totals, from the payload alone."""
    kind = payload["LineAmountTypes"]
    total = Decimal("0.00")
    for line in payload["LineItems"]:
        amount = Decimal(line["LineAmount"])
        assert amount == (Decimal(line["Quantity"]) * Decimal(line["UnitAmount"])).quantize(CENT)
        tax_type = line.get("TaxType") or chart.account(line["AccountCode"]).tax_type
        percent = chart.rate(tax_type).percent
        if kind == "Exclusive":
            total += amount + (amount * percent / 100).quantize(CENT, ROUND_HALF_UP)
        else:
            total += amount
    return total


def signed(plan: SettlementPlan, chart: Chart) -> tuple[Decimal, Decimal]:
    """(documents, payments) as they move the seller's money: a bill counts negative."""
    documents = payments = Decimal("0.00")
    for d in plan.documents:
        sign = 1 if d.payload["Type"] == "ACCREC" else -1
        documents += sign * xero_total(d.payload, chart)
        if d.payment is not None:
            payments += sign * Decimal(d.payment["Amount"])
    return documents, payments


CASES = [
    (UK, uk_chart, mapping),
    (DE, uk_chart, mapping),
    (US, us_chart, us_mapping),
]


@pytest.mark.parametrize(("marketplace", "chart_of", "mapping_of"), CASES)
@pytest.mark.parametrize("layout", ["v2", "flat"])
@pytest.mark.parametrize("split", [False, True])
def test_every_settlement_posts_documents_equal_to_it_and_its_deposit(
    marketplace: str, chart_of, mapping_of, layout: str, split: bool
) -> None:
    chart = chart_of()
    for settlement in settlements_of(marketplace):
        plan = settlement_documents(
            parsed_input(settlement, layout),
            mapping_of(),
            chart,
            SettlementOptions(split_month_end=split),
        )
        assert plan.held_reasons == ()
        documents, payments = signed(plan, chart)
        assert documents == settlement.total_amount
        assert payments == settlement.total_amount
        for d in plan.documents:
            assert d.payload["Status"] == "AUTHORISED"
            assert d.payload["InvoiceNumber"].startswith(f"AMZ-{settlement.settlement_id}")
            assert d.payload["CurrencyCode"] == settlement.currency
            assert d.total > 0
            assert d.payment["Date"] == settlement.deposit_date.date().isoformat()
            assert xero_total(d.payload, chart) == Decimal(d.payment["Amount"])


def test_a_positive_settlement_is_one_paid_invoice_to_the_marketplace() -> None:
    settlement = settlements_of(UK)[0]
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart())
    (document,) = plan.documents
    payload = document.payload
    assert document.kind == "invoice" and payload["Type"] == "ACCREC"
    assert payload["Contact"] == {"Name": "Amazon.co.uk"}
    assert payload["InvoiceNumber"] == f"AMZ-{settlement.settlement_id}"
    assert payload["Reference"].startswith(f"Amazon settlement {settlement.settlement_id}")
    assert payload["Date"] == settlement.end.date().isoformat()
    assert payload["DueDate"] == settlement.deposit_date.date().isoformat()
    assert document.payment == {
        "Date": settlement.deposit_date.date().isoformat(),
        "Amount": f"{settlement.total_amount:.2f}",
        "Account": {"Code": "615"},
        "Reference": f"Amazon deposit {settlement.settlement_id}",
    }
    descriptions = [line["Description"] for line in payload["LineItems"]]
    assert descriptions[0] == "Product sales"  # income first
    assert len(descriptions) == len(set(descriptions))  # one line per category


def test_vat_is_xeros_per_line_tax_with_a_rounding_line_only_when_needed() -> None:
    settlement = settlements_of(UK)[0]
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart())
    lines = plan.documents[0].payload["LineItems"]
    assert not any(line["Description"].startswith("Tax on sales") for line in lines)
    rounding = [line for line in lines if line["AccountCode"] == "860"]
    amazon_tax = sum(
        (
            r.amount
            for r in settlement.rows
            if settlement_category(r.transaction_type, r.amount_type, r.amount_description).key
            == "seller:tax:collected"
        ),
        Decimal("0.00"),
    )
    xero_tax = sum(
        (
            (Decimal(line["LineAmount"]) * Decimal("0.2")).quantize(CENT, ROUND_HALF_UP)
            for line in lines
            if line.get("TaxType") == "OUTPUT2"
        ),
        Decimal("0.00"),
    )
    assert xero_tax != amazon_tax, "this settlement needs a rounding line"
    assert [Decimal(r["LineAmount"]) for r in rounding] == [amazon_tax - xero_tax]
    assert abs(amazon_tax - xero_tax) < Decimal("1.00")
    # The same settlement with inclusive lines needs no rounding: Xero takes the amounts.
    inclusive = dataclasses.replace(mapping(), line_amount_types="Inclusive")
    plan = settlement_documents(parsed_input(settlement), inclusive, uk_chart())
    lines = plan.documents[0].payload["LineItems"]
    assert not [line for line in lines if line["AccountCode"] == "860"]
    assert sum(Decimal(line["LineAmount"]) for line in lines) == settlement.total_amount


def test_no_rounding_line_when_the_tax_rows_match_xero() -> None:
    base = settlements_of(UK)[0]
    rows = [
        account_row(
            when(3), "100.00", "Principal", transaction_type="Order", amount_type="ItemPrice"
        ),
        account_row(when(3), "20.00", "Tax", transaction_type="Order", amount_type="ItemPrice"),
        account_row(
            when(3), "-15.00", "Commission", transaction_type="Order", amount_type="ItemFees"
        ),
    ]
    settlement = with_rows(base, rows)
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart())
    lines = plan.documents[0].payload["LineItems"]
    assert [(line["Description"], line["LineAmount"]) for line in lines] == [
        ("Product sales", "100.00"),
        ("Referral fees (commission)", "-15.00"),
    ]
    assert plan.documents[0].total == Decimal("105.00")


def test_a_negative_settlement_is_a_bill_paid_from_the_clearing_account() -> None:
    settlement = next(s for s in settlements_of(DE) if s.total_amount < 0)
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart())
    (document,) = plan.documents
    assert document.kind == "bill" and document.payload["Type"] == "ACCPAY"
    assert "Reference" not in document.payload  # Xero: Reference is ACCREC only
    assert document.total == -settlement.total_amount
    assert document.payment["Amount"] == f"{-settlement.total_amount:.2f}"
    fees = [line for line in document.payload["LineItems"] if line["AccountCode"] == "404"]
    assert fees and all(Decimal(line["LineAmount"]) > 0 for line in fees)  # costs on a bill


def test_refunds_only_is_a_bill() -> None:
    base = settlements_of(UK)[0]
    refunds = [r for r in base.rows if r.transaction_type == "Refund"]
    assert refunds
    settlement = with_rows(base, refunds)
    assert settlement.total_amount < 0
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart())
    (document,) = plan.documents
    assert document.kind == "bill"
    assert signed(plan, uk_chart()) == (settlement.total_amount, settlement.total_amount)
    assert "Product refunds" in [line["Description"] for line in document.payload["LineItems"]]


def test_reserves_held_and_released_go_to_the_reserve_account() -> None:
    settlement = next(
        s
        for s in settlements_of(UK)
        if {"Current Reserve Amount", "Previous Reserve Amount Balance"}
        <= {r.amount_description for r in s.rows}
    )
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart())
    reserve = {
        line["Description"]: Decimal(line["LineAmount"])
        for line in plan.documents[0].payload["LineItems"]
        if line["AccountCode"] == "620"
    }
    held = sum(
        r.amount for r in settlement.rows if r.amount_description == "Current Reserve Amount"
    )
    released = sum(
        r.amount
        for r in settlement.rows
        if r.amount_description == "Previous Reserve Amount Balance"
    )
    assert reserve == {
        "Reserve held by Amazon (Current Reserve Amount)": held,
        "Reserve released (Previous Reserve Amount Balance)": released,
    }
    lines = plan.documents[0].payload["LineItems"]
    assert all(line["TaxType"] == "NONE" for line in lines if line["AccountCode"] == "620")
    no_reserve = dataclasses.replace(mapping(), reserve_account="")
    held_plan = settlement_documents(parsed_input(settlement), no_reserve, uk_chart())
    assert any("reserve account" in reason for reason in held_plan.held_reasons)


def test_marketplace_facilitator_tax_nets_to_zero_in_its_tax_account() -> None:
    settlement = settlements_of(US)[1]
    plan = settlement_documents(parsed_input(settlement), us_mapping(), us_chart())
    lines = plan.documents[0].payload["LineItems"]
    tax = [line for line in lines if line["AccountCode"] == "240"]
    assert {line["Description"] for line in tax} >= {
        "Tax on sales and refunds (VAT / sales tax)",
        "Marketplace facilitator tax withheld by Amazon",
    }
    assert sum(Decimal(line["LineAmount"]) for line in tax) == 0
    assert all(Decimal(line["LineAmount"]) != 0 for line in tax)


def test_unknown_fee_codes_post_to_suspense_and_are_reported() -> None:
    settlement = next(
        s for s in settlements_of(UK) if "NewFeeType2026" in {r.amount_description for r in s.rows}
    )
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart())
    assert plan.held_reasons == ()
    labels = {c.label for c in plan.unknown}
    assert "Unknown: other-transaction / other-transaction / NewFeeType2026" in labels
    suspense = [
        line for line in plan.documents[0].payload["LineItems"] if line["AccountCode"] == "850"
    ]
    expected = sum(r.amount for r in settlement.rows if r.amount_description.startswith("New"))
    assert sum(Decimal(line["LineAmount"]) for line in suspense) == expected
    assert all("suspense" in line["Description"] for line in suspense)
    # Mapped by the user later: it posts where they chose, no longer in suspense.
    key = next(iter(plan.unknown)).key
    mapped = dataclasses.replace(
        mapping(), targets={**mapping().targets, key: mapping().targets["seller:fees:storage"]}
    )
    remapped = settlement_documents(parsed_input(settlement), mapped, uk_chart())
    assert key not in {c.key for c in remapped.unknown}
    without_suspense = dataclasses.replace(mapping(), suspense_account="")
    held = settlement_documents(parsed_input(settlement), without_suspense, uk_chart())
    assert any("suspense account" in reason for reason in held.held_reasons)


def test_a_category_without_an_account_holds_the_settlement_with_a_reason() -> None:
    settlement = settlements_of(UK)[0]
    plan = settlement_documents(
        parsed_input(settlement), mapping(omit=("seller:sales:principal",)), uk_chart()
    )
    assert plan.held_reasons == ("'Product sales' has no Xero account yet: map it, then it posts.",)
    no_clearing = dataclasses.replace(mapping(), clearing_account="")
    plan = settlement_documents(parsed_input(settlement), no_clearing, uk_chart())
    assert any("clearing account" in reason for reason in plan.held_reasons)


def test_a_currency_the_organisation_lacks_is_held_with_how_to_enable_it() -> None:
    settlement = settlements_of(DE)[0]
    plan = settlement_documents(parsed_input(settlement), mapping(), uk_chart(currencies=("GBP",)))
    (reason,) = plan.held_reasons
    assert reason.startswith("This settlement is in EUR, which is not enabled")
    assert "Settings → Currencies" in reason


def test_month_end_split_makes_two_documents_that_add_up() -> None:
    settlement = next(s for s in settlements_of(UK) if s.start.month != s.end.month)
    plan = settlement_documents(
        parsed_input(settlement), mapping(), uk_chart(), SettlementOptions(split_month_end=True)
    )
    first, second = plan.documents
    assert (first.part, second.part) == (
        f"{settlement.start:%Y-%m}",
        f"{settlement.end:%Y-%m}",
    )
    assert first.payload["InvoiceNumber"] == f"AMZ-{settlement.settlement_id}-{first.part}"
    assert first.payload["Date"].endswith(("-28", "-29", "-30", "-31"))
    assert second.payload["Date"] == settlement.end.date().isoformat()
    assert first.payment["Reference"] != second.payment["Reference"]
    assert signed(plan, uk_chart()) == (settlement.total_amount, settlement.total_amount)
    by_month = {}
    for r in settlement.rows:
        by_month[f"{r.posted_date:%Y-%m}"] = by_month.get(f"{r.posted_date:%Y-%m}", 0) + r.amount
    assert {d.part: d.signed_total for d in plan.documents} == by_month


def test_several_marketplaces_track_their_own_lines() -> None:
    base = settlements_of(UK)[0]
    rows = [
        dataclasses.replace(r, marketplace_name="Amazon.de") if i % 3 == 0 and r.order_id else r
        for i, r in enumerate(base.rows)
    ]
    settlement = with_rows(base, rows)
    tracked = dataclasses.replace(
        mapping(),
        marketplace_tracking={
            UK: ("Sales Channel", "Amazon UK"),
            DE: ("Sales Channel", "Amazon DE"),
        },
    )
    plan = settlement_documents(parsed_input(settlement), tracked, uk_chart())
    lines = plan.documents[0].payload["LineItems"]
    options = {line["Description"]: set() for line in lines}
    for line in lines:
        for t in line.get("Tracking", []):
            options[line["Description"]].add(t["Option"])
    assert options["Product sales"] == {"Amazon UK", "Amazon DE"}
    assert options["Seller subscription"] == {"Amazon UK"}  # blank marketplace: the main one
    assert plan.documents[0].payload["Contact"] == {"Name": "Amazon.co.uk"}
    assert signed(plan, uk_chart()) == (settlement.total_amount, settlement.total_amount)


def test_grouping_by_sku_gives_a_line_per_category_and_sku() -> None:
    settlement = settlements_of(UK)[0]
    plan = settlement_documents(
        parsed_input(settlement, by_sku=True),
        mapping(),
        uk_chart(),
        SettlementOptions(group_by_sku=True),
    )
    lines = plan.documents[0].payload["LineItems"]
    skus = {r.sku for r in settlement.rows if r.amount_description == "Principal" and r.sku}
    sales = [line for line in lines if line["Description"].startswith("Product sales — SKU ")]
    assert {line["Description"].split("SKU ")[1] for line in sales} == skus
    assert signed(plan, uk_chart()) == (settlement.total_amount, settlement.total_amount)


def test_a_zero_settlement_needs_no_payment() -> None:
    base = settlements_of(UK)[0]
    rows = [
        account_row(
            when(3), "25.00", "Principal", transaction_type="Order", amount_type="ItemPrice"
        ),
        account_row(when(4), "-25.00", "Subscription Fee"),
    ]
    plan = settlement_documents(parsed_input(with_rows(base, rows)), mapping(), uk_chart())
    (document,) = plan.documents
    assert document.total == 0 and document.payment is None


def test_the_same_settlement_always_gives_the_same_documents() -> None:
    settlement = settlements_of(US)[2]
    first = settlement_documents(parsed_input(settlement), us_mapping(), us_chart())
    again = settlement_documents(parsed_input(settlement, "flat"), us_mapping(), us_chart())
    assert [d.payload for d in first.documents] == [d.payload for d in again.documents]
    assert [d.payment for d in first.documents] == [d.payment for d in again.documents]


def test_the_category_registry_is_data_the_mapping_page_lists() -> None:
    keys = [c.key for c in SELLER_CATEGORIES]
    assert len(keys) == len(set(keys))
    assert all(
        k.startswith("seller:") and not c.unmapped
        for k, c in zip(keys, SELLER_CATEGORIES, strict=True)
    )
    # Case, spacing and punctuation do not matter; unknown is never dropped.
    assert (
        settlement_category("other-transaction", "other-transaction", "Storage Fee").key
        == (settlement_category("Other Transaction", "OTHER-TRANSACTION", " storage  fee ").key)
        == "seller:fees:storage"
    )
    assert settlement_category("Refund", "ItemPrice", "Principal").key == "seller:refunds:principal"
    assert settlement_category("Order", "ItemPrice", "Principal").key == "seller:sales:principal"
    unknown = settlement_category("Order", "ItemFees", "NewItemFee2026")
    assert unknown.unmapped and unknown.key == "seller:unmapped:order-itemfees-newitemfee2026"
    assert settlement_category("ServiceFee", "Cost of Advertising", "TaxAmount").key == (
        "seller:fees:advertising"
    )


def test_input_is_plain_data() -> None:
    assert dataclasses.is_dataclass(SettlementInput)

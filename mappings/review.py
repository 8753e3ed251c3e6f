"""The review step: what will be posted, shown as an example document.

In order of preference the example is:

1. built by a sync kind's registered example builder (``register_example``) from the link's own
   latest pulled record with the current mapping;
2. the link's latest document in the ledger (the customer's own data, as built when pulled);
3. a representative settlement or purchase run through the pure transform with the current
   mapping, labelled as such (only when that transform is installed).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.models import Link
from mappings.categories_business import (
    business_charge_category,
    business_line_category,
    payment_method_label_for_key,
)
from mappings.chart import Chart
from mappings.resolve import MappingSet
from mappings.services import link_source, marketplaces_for, payment_methods_for
from sync.models import EntryStatus, LedgerEntry

log = logging.getLogger(__name__)
MAIN_KINDS = ("invoice", "bill", "bank_transaction", "credit_note", "manual_journal")
TYPE_WORDS = {
    "ACCREC": "Sales invoice",
    "ACCPAY": "Bill",
    "ACCRECCREDIT": "Sales credit note",
    "ACCPAYCREDIT": "Supplier credit note",
    "SPEND": "Spend money",
    "RECEIVE": "Receive money",
}


@dataclass(frozen=True)
class ExampleLine:
    description: str
    account: str
    tax: str
    tracking: str
    amount: str


@dataclass(frozen=True)
class Example:
    title: str
    origin: str  # "pulled", "ledger", "representative"
    note: str
    heading: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    lines: list[ExampleLine] = field(default_factory=list)
    total: str = ""
    held: list[str] = field(default_factory=list)  # why it would wait


ExampleBuilder = Callable[[Link, MappingSet, Chart], Example | None]
_builders: dict[str, ExampleBuilder] = {}


def register_example(kind_name: str, fn: ExampleBuilder) -> ExampleBuilder:
    """``fn(link, mapping, chart)`` → an Example from the link's latest pulled record, or None."""
    _builders[kind_name] = fn
    return fn


def example_from_payload(
    payload: Mapping[str, Any], chart: Chart, *, title: str, origin: str, note: str
) -> Example:
    """A readable example of any Xero document payload (invoice, bill, bank transaction…)."""
    heading: list[tuple[str, str]] = []
    kind = str(payload.get("Type") or "")
    if kind:
        heading.append(("Type", TYPE_WORDS.get(kind, kind)))
    contact = payload.get("Contact") or {}
    if isinstance(contact, Mapping):
        name = contact.get("Name") or (
            "Amazon Business (supplier contact)" if contact.get("ContactID") else ""
        )
        if name:
            heading.append(("Contact", str(name)))
    bank = payload.get("BankAccount") or {}
    if isinstance(bank, Mapping) and bank.get("Code"):
        account = chart.account(str(bank["Code"]))
        heading.append(("Bank account", account.display if account else str(bank["Code"])))
    for key, label in (
        ("Date", "Date"),
        ("DueDate", "Due"),
        ("InvoiceNumber", "Number"),
        ("Reference", "Reference"),
        ("CurrencyCode", "Currency"),
        ("LineAmountTypes", "Amounts are"),
        ("Narration", "Narration"),
    ):
        if payload.get(key):
            heading.append((label, str(payload[key])))
    lines = []
    total = Decimal(0)
    for raw in payload.get("LineItems") or payload.get("JournalLines") or []:
        if not isinstance(raw, Mapping):
            continue
        amount = _amount(raw)
        total += amount
        code = str(raw.get("AccountCode") or "")
        account = chart.account(code) if code else None
        tax_type = str(raw.get("TaxType") or "")
        rate = chart.rate(tax_type) if tax_type else None
        lines.append(
            ExampleLine(
                description=str(raw.get("Description") or ""),
                account=account.display if account else code,
                tax=rate.display if rate else (tax_type or "account default"),
                tracking=", ".join(
                    f"{t.get('Name')}: {t.get('Option')}"
                    for t in raw.get("Tracking") or []
                    if isinstance(t, Mapping)
                ),
                amount=f"{amount:.2f}",
            )
        )
    return Example(
        title=title,
        origin=origin,
        note=note,
        heading=heading,
        lines=lines,
        total=f"{total:.2f}",
    )


def _amount(line: Mapping[str, Any]) -> Decimal:
    try:
        if line.get("LineAmount") not in (None, ""):
            return Decimal(str(line["LineAmount"]))
        quantity = Decimal(str(line.get("Quantity") or "1"))
        return (quantity * Decimal(str(line.get("UnitAmount") or "0"))).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal(0)


def mapping_example(link: Link, mapping: MappingSet, chart: Chart) -> Example | None:
    """The best example document for the review page (see the module docstring)."""
    for name, build in sorted(_builders.items()):
        try:
            example = build(link, mapping, chart)
        except Exception:
            log.exception("example builder failed kind=%s link=%s", name, link.pk)
            continue
        if example is not None:
            return example
    entry = (
        LedgerEntry.objects.filter(link=link, kind__in=MAIN_KINDS)
        .exclude(status=EntryStatus.VOIDED)
        .order_by("-created_at", "-id")
        .first()
    )
    if entry is not None:
        example = example_from_payload(
            entry.payload,
            chart,
            title=f"Your latest {entry.get_kind_display().lower()}: Amazon {entry.amazon_id}",
            origin="ledger",
            note=(
                f"Built from your own Amazon data on {entry.created_at:%d %b %Y} "
                f"({entry.get_status_display().lower()}). Documents not yet posted are rebuilt "
                f"with your current mapping when you save it."
            ),
        )
        if entry.held_reason:
            example = replace(example, held=[entry.held_reason])
        return example
    if link_source(link) == "seller":
        return _representative_settlement(link, mapping, chart)
    return _representative_purchase(link, mapping, chart)


def _transform(name: str) -> Any:
    if importlib.util.find_spec(f"mappings.transforms.{name}") is None:
        return None
    return importlib.import_module(f"mappings.transforms.{name}")


REPRESENTATIVE_NOTE = (
    "A representative example (no Amazon data has been pulled for this link yet), posted "
    "with your current mapping. Your own documents will follow the same pattern."
)


def _representative_settlement(link: Link, mapping: MappingSet, chart: Chart) -> Example | None:
    module = _transform("settlement")
    if module is None:
        return None
    from mappings.categories_seller import settlement_category

    markets = marketplaces_for(link)
    market_name, currency = next(
        ((name, cur) for name, cur, _country in markets.values()), ("", "")
    )
    currency = currency or chart.base_currency
    end = datetime.now(tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=14)
    rows = [
        ("Order", "ItemPrice", "Principal", "250.00"),
        ("Order", "ItemPrice", "Shipping", "12.50"),
        ("Order", "ItemFees", "Commission", "-39.38"),
        ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-18.40"),
        ("Order", "Promotion", "Principal", "-5.00"),
        ("Refund", "ItemPrice", "Principal", "-25.00"),
        ("Refund", "ItemFees", "Commission", "3.75"),
        ("other-transaction", "other-transaction", "Storage Fee", "-6.20"),
    ]
    # Only combinations the installed registry knows: a representative example shows no
    # suspense line.
    known = [r for r in rows if not settlement_category(r[0], r[1], r[2]).unmapped]
    # The tax Amazon lists, as Xero would compute it per line with this mapping's tax rates
    # (so the example carries no rounding difference).
    tax = Decimal(0)
    for t, a, d, v in known:
        target = mapping.target(settlement_category(t, a, d).key)
        rate = chart.rate(target.tax_type) if target and target.tax_type else None
        if rate is not None:
            tax += Decimal(v) * rate.percent / 100
    if tax and not settlement_category("Order", "ItemPrice", "Tax").unmapped:
        known.append(("Order", "ItemPrice", "Tax", f"{tax.quantize(Decimal('0.01'))}"))
    amounts = tuple(
        module.SettlementAmount(
            day=(start + timedelta(days=3)).date(),
            transaction_type=t,
            amount_type=a,
            amount_description=d,
            marketplace=market_name,
            sku="",
            amount=Decimal(v),
        )
        for t, a, d, v in known
    )
    total = sum((x.amount for x in amounts), Decimal("0.00"))
    settlement = module.SettlementInput(
        settlement_id="EXAMPLE",
        currency=currency,
        start=start,
        end=end,
        deposit_date=end + timedelta(days=1),
        total_amount=total,
        amounts=amounts,
        marketplace=market_name,
    )
    try:
        plan = module.settlement_documents(settlement, mapping, chart)
    except Exception as exc:  # the transform's own checks (e.g. totals): say so, show nothing
        log.warning("representative settlement failed link=%s: %s", link.pk, exc)
        return Example(
            title="Example settlement",
            origin="representative",
            note=f"An example could not be built with this mapping: {exc}",
        )
    if not plan.documents:
        return Example(
            title="Example settlement",
            origin="representative",
            note=REPRESENTATIVE_NOTE,
            held=list(plan.held_reasons),
        )
    example = example_from_payload(
        plan.documents[0].payload,
        chart,
        title=f"Example settlement ({currency} {total:.2f})",
        origin="representative",
        note=REPRESENTATIVE_NOTE,
    )
    return replace(example, held=list(plan.held_reasons))


def _representative_purchase(link: Link, mapping: MappingSet, chart: Chart) -> Example | None:
    module = _transform("business")
    if module is None:
        return None
    methods = payment_methods_for(link)
    key = next((k for k in methods if k.startswith("card:")), "card:1111")
    currency = chart.base_currency
    transaction = {
        "transactionId": "EXAMPLE",
        "transactionType": "CHARGE",
        "transactionDate": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "amount": {"currencyCode": currency, "amount": "95.47"},
        "paymentInstrumentType": "Visa",
        "paymentInstrumentLast4Digits": key.removeprefix("card:"),
        "invoiceNumber": "EXAMPLE",
        "transactionLineItems": [
            _line("Copy Paper, A4/Letter, 5 Reams", "14111507", "38.99", "0.00"),
            _line("Wireless Mouse", "43211708", "49.98", "6.50"),
        ],
    }
    supplier = mapping.business_supplier_contact_id or "00000000-0000-0000-0000-000000000000"
    try:
        purchase = module.purchase_from_api(
            transaction,
            method_key=key,
            method_label=methods.get(key) or payment_method_label_for_key(key),
        )
        documents = module.purchase_documents(
            purchase,
            replace(mapping, business_supplier_contact_id=supplier),
            categorisers=module.Categorisers(
                line=business_line_category, charge=business_charge_category
            ),
        )
    except Exception as exc:
        log.warning("representative purchase failed link=%s: %s", link.pk, exc)
        return Example(
            title="Example purchase",
            origin="representative",
            note=f"An example could not be built with this mapping: {exc}",
        )
    if documents.main is None:
        return None
    example = example_from_payload(
        documents.main.payload,
        chart,
        title=f"Example purchase ({currency} 95.47)",
        origin="representative",
        note=REPRESENTATIVE_NOTE,
    )
    held = [documents.main.held_reason] if documents.main.held_reason else []
    return replace(example, held=held)


def _line(title: str, unspsc: str, principal: str, tax: str) -> dict[str, Any]:
    total = f"{Decimal(principal) + Decimal(tax):.2f}"

    def money(value: str) -> dict[str, str]:
        return {"currencyCode": "", "amount": value}

    return {
        "productTitle": title,
        "unspsc": unspsc,
        "itemQuantity": 1,
        "principalAmount": money(principal),
        "tax": money(tax),
        "totalAmount": money(total),
        "shippingCharge": money("0.00"),
        "giftWrappingCharge": money("0.00"),
        "discount": money("0.00"),
        "unitPrice": money(principal),
        "orderId": "EXAMPLE",
    }

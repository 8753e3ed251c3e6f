"""Seller Central settlements → Xero summary documents: a pure function over plain data.

One settlement (one currency) becomes one Xero invoice (ACCREC, AUTHORISED) to the
marketplace's contact, or with the month-end split one per calendar month the settlement
touches. Lines are grouped by mapped category and tax treatment (and by tracking option, and by
SKU when asked). A document whose total is negative (Amazon charged the seller) is a bill
(ACCPAY) with every line's sign turned. The deposit is a payment of each document from the
clearing account on the deposit date, so each document reads paid and together they equal the
bank line.

To the cent (DESIGN invariant 2), mirroring Xero's arithmetic (xero-api.md §5 rounding):
- a line's amount is the sum of its rows (2 dp); Xero computes tax per line, rounded half away
  from zero, then adds the lines up;
- ``Inclusive`` and ``NoTax`` documents total the sum of their line amounts, which is Amazon's
  sum exactly;
- ``Exclusive`` documents add Xero's tax on top. When any line carries a tax rate, the tax rows
  Amazon lists on sales and refunds (``seller:tax:collected``) *are* that tax: they are not
  posted again; the difference between Amazon's per-item tax and Xero's per-line tax (usually a
  few cents) becomes one rounding line, only when it is not zero. When no line is taxed (e.g. a
  US seller booking sales tax to a clearing account), the tax rows post as lines of their own;
- marketplace facilitator tax (collected and withheld by Amazon) posts both ways to its tax
  account and nets to zero there;
- reserves (held and released) post to the reserve account; unknown categories to the suspense
  account, with an alert; a known category with no account holds the settlement with a reason.
The documents' totals are asserted equal to Amazon's total-amount, and the payments to the
deposit, before anything is handed over (``TotalsMismatch``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mappings.categories import Category
from mappings.categories_seller import (
    RESERVE_KEYS,
    SELLER_CATEGORIES,
    TAX_COLLECTED_KEYS,
    settlement_category,
)
from mappings.chart import Chart
from mappings.resolve import MappingSet, Target

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
# Xero takes up to 3.5 MB a request and the engine sends 50 documents per request.
MAX_LINES = 250
DESCRIPTION_MAX = 4000

# The order lines appear in on a document: income first, then what Amazon kept.
GROUP_ORDER = (
    "Sales",
    "Refunds",
    "Promotions",
    "Reimbursements",
    "Fees",
    "Taxes",
    "Reserves",
    "Transfers",
    "Unmapped",
)

REGISTRY_ORDER = {c.key: i for i, c in enumerate(SELLER_CATEGORIES)}

# Sales channel (the file's marketplace-name) → marketplace id (reference note §2).
MARKETPLACE_IDS = {
    "amazon.com": "ATVPDKIKX0DER",
    "amazon.ca": "A2EUQ1WTGCTBG2",
    "amazon.com.mx": "A1AM78C64UM0Y8",
    "amazon.com.br": "A2Q3Y263D00KWC",
    "amazon.co.uk": "A1F83G8C2ARO7P",
    "amazon.de": "A1PA6795UKMFR9",
    "amazon.fr": "A13V1IB3VIYZZH",
    "amazon.it": "APJ6JRA9NG5V4",
    "amazon.es": "A1RKKUPIHCS9HS",
    "amazon.nl": "A1805IZSGTT6HS",
    "amazon.se": "A2NODRKZP88ZB9",
    "amazon.pl": "A1C3SOZRARQ6R3",
    "amazon.com.be": "AMEN7PMS3EDWL",
    "amazon.ie": "A28R8C7NBKEWEA",
    "amazon.com.tr": "A33AVAJ2PDY3EV",
    "amazon.ae": "A2VIGQ35RCS4UG",
    "amazon.sa": "A17E79C6D8DWNP",
    "amazon.eg": "ARBP9OOSHTCHU",
    "amazon.co.za": "AE08WJ6YKNBMC",
    "amazon.in": "A21TJRUUN4KGV",
    "amazon.co.jp": "A1VC38T7YXB528",
    "amazon.com.au": "A39IBJ37TRP1C6",
    "amazon.sg": "A19VAU5U5O7RUS",
}


class TotalsMismatch(ValueError):
    """The documents would not equal Amazon's total to the cent (a bug: never posted)."""


def marketplace_id(name: str) -> str:
    """``Amazon.co.uk`` → ``A1F83G8C2ARO7P``; an unknown channel keeps its name."""
    return MARKETPLACE_IDS.get(name.strip().lower(), name.strip())


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _money(value: Decimal) -> str:
    return f"{_cents(value):.2f}"


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SettlementAmount:
    """Rows of a settlement summed by what a document needs (the parser's aggregate)."""

    day: date  # posted-date
    transaction_type: str
    amount_type: str
    amount_description: str
    marketplace: str  # blank on account-level rows
    sku: str
    amount: Decimal
    rows: int = 1


@dataclass(frozen=True)
class SettlementInput:
    settlement_id: str
    currency: str
    start: datetime
    end: datetime
    deposit_date: datetime | None
    total_amount: Decimal
    amounts: tuple[SettlementAmount, ...]
    marketplace: str = ""  # the settlement's main marketplace (most rows); "" → from amounts

    def main_marketplace(self) -> str:
        if self.marketplace:
            return self.marketplace
        counts: dict[str, int] = {}
        for a in self.amounts:
            if a.marketplace:
                counts[a.marketplace] = counts.get(a.marketplace, 0) + a.rows
        return max(sorted(counts), key=lambda k: counts[k]) if counts else ""


@dataclass(frozen=True)
class SettlementOptions:
    split_month_end: bool = False
    group_by_sku: bool = False


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class DocumentLine:
    category: Category
    description: str
    account_code: str
    tax_type: str  # "" → the account's default
    tracking: tuple[tuple[str, str], ...]
    sku: str
    amount: Decimal  # as on the document (a bill's lines carry the turned sign)
    tax: Decimal  # what Xero will compute

    def payload(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "Description": self.description[:DESCRIPTION_MAX],
            "Quantity": "1.0000",
            "UnitAmount": _money(self.amount),
            "LineAmount": _money(self.amount),
            "AccountCode": self.account_code,
        }
        if self.tax_type:
            line["TaxType"] = self.tax_type
        if self.tracking:
            line["Tracking"] = [{"Name": c, "Option": o} for c, o in self.tracking]
        return line


@dataclass(frozen=True)
class SettlementDocument:
    kind: str  # "invoice" or "bill"
    part: str  # "" or the month "2026-05" when split at month end
    number: str  # InvoiceNumber: deterministic, found again after an uncertain send
    payload: dict[str, Any]
    total: Decimal  # positive: what the document is for
    signed_total: Decimal  # what it adds to the settlement (a bill counts negative)
    lines: tuple[DocumentLine, ...]
    payment: dict[str, Any] | None  # None when the document is for zero
    payment_reference: str
    attachment_name: str


@dataclass(frozen=True)
class Assignment:
    """Where one (transaction type, amount type, description) posts: for the audit CSV."""

    category: Category
    account_code: str
    tax_type: str
    note: str = ""  # "suspense", "reserve", "tax included in the lines' VAT"


@dataclass(frozen=True)
class SettlementPlan:
    documents: tuple[SettlementDocument, ...]
    held_reasons: tuple[str, ...]
    categories: dict[str, Category]  # every category the settlement uses
    unknown: tuple[Category, ...]  # unknown categories posted to suspense (an alert)
    assignments: dict[tuple[str, str, str], Assignment] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def held_reason(self) -> str:
        return " ".join(self.held_reasons)


def document_number(settlement_id: str, part: str = "") -> str:
    return f"AMZ-{settlement_id}" + (f"-{part}" if part else "")


def payment_reference(settlement_id: str, part: str = "") -> str:
    return f"Amazon deposit {settlement_id}" + (f" ({part})" if part else "")


def attachment_name(settlement_id: str, part: str = "") -> str:
    return f"amazon-settlement-{settlement_id}" + (f"-{part}" if part else "") + ".csv"


# --------------------------------------------------------------------------- the transform


@dataclass
class _Bucket:
    category: Category
    target: Target
    note: str
    sku: str
    tracking: tuple[tuple[str, str], ...]
    amount: Decimal = ZERO


def _month_end(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:7])
    first_next = date(year + (mon == 12), 1 if mon == 12 else mon + 1, 1)
    return first_next - timedelta(days=1)


def _tracking(target: Target, market: tuple[str, str] | None) -> tuple[tuple[str, str], ...]:
    pairs = list(target.tracking)
    if market is not None and all(c.lower() != market[0].lower() for c, _ in pairs):
        pairs.append(market)
    return tuple(pairs[:2])


def _zero_tax_type(chart: Chart, account_code: str) -> str:
    """A tax type with no tax that Xero allows on the account (for reserve/rounding lines)."""
    account = chart.account(account_code)
    if account is None:
        return ""
    default = chart.rate(account.tax_type) if account.tax_type else None
    if default is not None and default.active and default.percent == 0:
        return default.tax_type
    for rate in chart.active_rates():
        if rate.percent == 0 and rate.applies_to(account) and rate.tax_type.upper() == "NONE":
            return rate.tax_type
    for rate in chart.active_rates():
        if rate.percent == 0 and rate.applies_to(account):
            return rate.tax_type
    return ""


def _percent(chart: Chart, tax_type: str, account_code: str) -> Decimal | None:
    """The percentage Xero applies on a line (None: the tax type is not in the chart)."""
    if not tax_type:
        account = chart.account(account_code)
        tax_type = account.tax_type if account is not None else ""
        if not tax_type:
            return Decimal(0)
    rate = chart.rate(tax_type)
    return rate.percent if rate is not None else None


def line_tax(amount: Decimal, percent: Decimal, line_amount_types: str) -> Decimal:
    """Xero's tax on one line, rounded to the cent half away from zero."""
    if line_amount_types == "NoTax" or not percent:
        return ZERO
    if line_amount_types == "Inclusive":
        return _cents(amount * percent / (HUNDRED + percent))
    return _cents(amount * percent / HUNDRED)


def settlement_documents(
    settlement: SettlementInput,
    mapping: MappingSet,
    chart: Chart,
    options: SettlementOptions | None = None,
    *,
    categorise: Callable[[str, str, str], Category] = settlement_category,
) -> SettlementPlan:
    """The Xero documents for one settlement, or why they must wait (``held_reasons``)."""
    options = options or SettlementOptions()
    held: list[str] = []
    notes: list[str] = []
    categories: dict[str, Category] = {}
    assignments: dict[tuple[str, str, str], Assignment] = {}
    unknown: dict[str, Category] = {}
    missing: dict[str, Category] = {}
    main = settlement.main_marketplace()
    currency = settlement.currency

    enabled = chart.enabled_currencies()
    if enabled and currency not in enabled:
        held.append(
            f"This settlement is in {currency}, which is not enabled in the Xero organisation"
            f"{' ' + chart.organisation_name if chart.organisation_name else ''}: add {currency} "
            "in Xero under Settings → Currencies, then press Check again."
        )

    def resolve(category: Category) -> tuple[Target | None, str]:
        target = mapping.target(category.key)
        if target is not None and target.account_code:
            return target, ""
        if category.key in RESERVE_KEYS:
            account, note = mapping.reserve_account, "reserve"
        elif category.unmapped:
            account, note = mapping.suspense_account, "suspense"
        else:
            return None, ""
        if not account:
            return None, note
        # A balance-sheet or suspense line carries no tax.
        return Target(account, _zero_tax_type(chart, account)), note

    # Group the amounts into parts (months) and buckets (lines).
    parts: dict[str, dict[tuple[Any, ...], _Bucket]] = {}
    months = sorted({a.day.isoformat()[:7] for a in settlement.amounts})
    split = options.split_month_end and len(months) > 1
    tax_rows: dict[str, Decimal] = {}
    for amount in settlement.amounts:
        category = categorise(
            amount.transaction_type, amount.amount_type, amount.amount_description
        )
        categories[category.key] = category
        target, note = resolve(category)
        raw = (
            amount.transaction_type.strip(),
            amount.amount_type.strip(),
            amount.amount_description.strip(),
        )
        if target is None:
            if amount.amount:
                missing[category.key] = category
            assignments[raw] = Assignment(category, "", "", note)
            continue
        if category.unmapped and note == "suspense":
            unknown[category.key] = category
        part = amount.day.isoformat()[:7] if split else ""
        if category.key in TAX_COLLECTED_KEYS:
            tax_rows[part] = tax_rows.get(part, ZERO) + amount.amount
        assignments[raw] = Assignment(category, target.account_code, target.tax_type, note)
        market_name = amount.marketplace or main
        market = mapping.marketplace_tracking.get(
            marketplace_id(market_name)
        ) or mapping.marketplace_tracking.get(market_name)
        tracking = _tracking(target, (str(market[0]), str(market[1])) if market else None)
        sku = amount.sku if options.group_by_sku else ""
        key = (category.key, target.account_code, target.tax_type, tracking, sku)
        bucket = parts.setdefault(part, {}).get(key)
        if bucket is None:
            bucket = parts[part][key] = _Bucket(category, target, note, sku, tracking)
        bucket.amount += amount.amount

    for category in missing.values():
        if category.key in RESERVE_KEYS:
            held.append(
                f"Amazon held or released a reserve in this settlement: choose the reserve "
                f"account ('{category.label}' posts there)."
            )
        elif category.unmapped:
            held.append(
                f"Amazon sent '{category.label.removeprefix('Unknown: ')}', which we do not "
                "recognise: choose a suspense account so it can post there until you map it."
            )
        else:
            held.append(f"'{category.label}' has no Xero account yet: map it, then it posts.")

    documents: list[SettlementDocument] = []
    line_types = mapping.line_amount_types or "Exclusive"
    for part in sorted(parts):
        buckets = list(parts[part].values())
        document = _document(
            settlement,
            part,
            buckets,
            mapping=mapping,
            chart=chart,
            line_types=line_types,
            amazon_tax=tax_rows.get(part, ZERO),
            contact=_contact(mapping, main),
            held=held,
            notes=notes,
            assignments=assignments,
            last=part == max(parts),
        )
        if document is not None:
            documents.append(document)

    if not mapping.clearing_account and any(d.payment for d in documents):
        held.append(
            "Choose the clearing account Amazon deposits are paid into, so each settlement "
            "reads paid and matches its bank line."
        )
    if not held:
        _assert_totals(settlement, documents, parts)
    if len(documents) > 1:
        notes.append(
            f"Split at month end into {len(documents)} documents that add up to the settlement."
        )
    return SettlementPlan(
        documents=tuple(documents),
        held_reasons=tuple(dict.fromkeys(held)),
        categories=categories,
        unknown=tuple(unknown.values()),
        assignments=assignments,
        notes=tuple(notes),
    )


def _contact(mapping: MappingSet, marketplace: str) -> str:
    return (
        mapping.marketplace_contacts.get(marketplace_id(marketplace))
        or mapping.marketplace_contacts.get(marketplace)
        or (marketplace if marketplace else "Amazon")
    )


def _document(
    settlement: SettlementInput,
    part: str,
    buckets: Sequence[_Bucket],
    *,
    mapping: MappingSet,
    chart: Chart,
    line_types: str,
    amazon_tax: Decimal,
    contact: str,
    held: list[str],
    notes: list[str],
    assignments: dict[tuple[str, str, str], Assignment],
    last: bool,
) -> SettlementDocument | None:
    sid = settlement.settlement_id
    part_total = sum((b.amount for b in buckets), ZERO)
    sign = Decimal(-1) if part_total < 0 else Decimal(1)
    kind = "bill" if part_total < 0 else "invoice"

    # Xero's tax on every line but the tax rows, to see whether the tax rows are that tax.
    def tax_of(bucket: _Bucket) -> Decimal | None:
        percent = _percent(chart, bucket.target.tax_type, bucket.target.account_code)
        if percent is None:
            return None
        return line_tax(bucket.amount * sign, percent, line_types)

    computed = ZERO
    for bucket in buckets:
        if bucket.category.key in TAX_COLLECTED_KEYS:
            continue
        tax = tax_of(bucket)
        if tax is None:
            held.append(
                f"Tax rate {bucket.target.tax_type} mapped for '{bucket.category.label}' is not "
                "in the Xero organisation: choose another tax rate."
            )
            tax = ZERO
        computed += tax
    absorb = line_types == "Exclusive" and computed != 0

    lines: list[DocumentLine] = []

    def order(bucket: _Bucket) -> tuple[int, int, str, str, tuple[tuple[str, str], ...]]:
        group = bucket.category.group
        rank = GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)
        within = REGISTRY_ORDER.get(bucket.category.key, len(REGISTRY_ORDER))
        return rank, within, bucket.category.label, bucket.sku, bucket.tracking

    for bucket in sorted(buckets, key=order):
        if bucket.amount == 0:
            continue
        if absorb and bucket.category.key in TAX_COLLECTED_KEYS:
            continue
        amount = bucket.amount * sign
        tax = tax_of(bucket) or ZERO
        tax_type = bucket.target.tax_type
        description = bucket.category.label
        if bucket.category.unmapped:
            description = f"{description} (suspense: map this Amazon category)"
        if bucket.sku:
            description = f"{description} — SKU {bucket.sku}"
        lines.append(
            DocumentLine(
                category=bucket.category,
                description=description,
                account_code=bucket.target.account_code,
                tax_type=tax_type,
                tracking=bucket.tracking,
                sku=bucket.sku,
                amount=amount,
                tax=tax,
            )
        )
    if absorb:
        for raw, assignment in list(assignments.items()):
            if assignment.category.key in TAX_COLLECTED_KEYS:
                assignments[raw] = Assignment(
                    assignment.category,
                    "",
                    "",
                    "included in the VAT Xero calculates on the sales lines",
                )
        difference = amazon_tax * sign - computed
        if difference:
            account = mapping.rounding_account or _tax_collected_account(buckets)
            if not account:
                held.append(
                    "Choose a rounding account: Amazon's tax differs from the tax Xero "
                    f"calculates per line by {_money(difference)} {settlement.currency}."
                )
            else:
                lines.append(
                    DocumentLine(
                        category=Category(
                            key="seller:rounding",
                            label="Rounding",
                            group="Rounding",
                            source="seller",
                            kind="rounding",
                        ),
                        description=(
                            "Rounding: Amazon's tax rows less the tax Xero calculates per line"
                        ),
                        account_code=account,
                        tax_type=_zero_tax_type(chart, account),
                        tracking=(),
                        sku="",
                        amount=difference,
                        tax=ZERO,
                    )
                )
                if abs(difference) > Decimal("1.00"):
                    notes.append(
                        f"Amazon's tax and the tax Xero calculates on the mapped tax rates "
                        f"differ by {_money(difference)} {settlement.currency}"
                        f"{' in ' + part if part else ''}: check the tax rates mapped to fees "
                        "and promotions."
                    )
    if not lines:
        return None
    if len(lines) > MAX_LINES:
        held.append(
            f"This settlement needs {len(lines)} lines on one document, more than the "
            f"{MAX_LINES} a document can carry here: turn off grouping by SKU."
        )

    subtotal = sum((ln.amount for ln in lines), ZERO)
    tax_total = sum((ln.tax for ln in lines), ZERO)
    total = subtotal + tax_total if line_types == "Exclusive" else subtotal
    if total < 0 and not held:
        raise TotalsMismatch(f"document {sid}/{part} would total {total}")

    end = settlement.end.astimezone(UTC).date()
    doc_date = min(_month_end(part), end) if part and not last else end
    deposit = (settlement.deposit_date or settlement.end).astimezone(UTC).date()
    number = document_number(sid, part)
    start = settlement.start.astimezone(UTC).date()
    period = f"{start:%d %b %Y} to {end:%d %b %Y}"
    payload: dict[str, Any] = {
        "Type": "ACCREC" if kind == "invoice" else "ACCPAY",
        "Status": "AUTHORISED",
        "Contact": {"Name": contact},
        "Date": doc_date.isoformat(),
        "DueDate": max(deposit, doc_date).isoformat(),
        "InvoiceNumber": number,
        "CurrencyCode": settlement.currency,
        "LineAmountTypes": line_types,
        "LineItems": [ln.payload() for ln in lines],
    }
    if kind == "invoice":
        payload["Reference"] = f"Amazon settlement {sid} ({period})" + (f", {part}" if part else "")
    reference = payment_reference(sid, part)
    payment: dict[str, Any] | None = None
    if total:
        payment = {
            "Date": deposit.isoformat(),
            "Amount": _money(total),
            "Account": {"Code": mapping.clearing_account},
            "Reference": reference,
        }
    return SettlementDocument(
        kind=kind,
        part=part,
        number=number,
        payload=payload,
        total=total,
        signed_total=total * sign,
        lines=tuple(lines),
        payment=payment,
        payment_reference=reference,
        attachment_name=attachment_name(sid, part),
    )


def _tax_collected_account(buckets: Sequence[_Bucket]) -> str:
    for bucket in buckets:
        if bucket.category.key in TAX_COLLECTED_KEYS:
            return bucket.target.account_code
    return ""


def _assert_totals(
    settlement: SettlementInput,
    documents: Sequence[SettlementDocument],
    parts: dict[str, dict[tuple[Any, ...], _Bucket]],
) -> None:
    amazon = sum((a.amount for a in settlement.amounts), ZERO)
    if amazon != settlement.total_amount:
        raise TotalsMismatch(
            f"settlement {settlement.settlement_id}: rows add up to {amazon}, "
            f"total-amount is {settlement.total_amount}"
        )
    posted = sum((d.signed_total for d in documents), ZERO)
    if posted != settlement.total_amount:
        raise TotalsMismatch(
            f"settlement {settlement.settlement_id}: documents total {posted}, "
            f"Amazon's total-amount is {settlement.total_amount}"
        )
    for document in documents:
        part_sum = sum((b.amount for b in parts[document.part].values()), ZERO)
        if document.signed_total != part_sum:
            raise TotalsMismatch(
                f"settlement {settlement.settlement_id} part {document.part or '-'}: document "
                f"totals {document.signed_total}, its rows {part_sum}"
            )
    paid = sum(
        (
            Decimal(d.payment["Amount"]) * (1 if d.kind == "invoice" else -1)
            for d in documents
            if d.payment is not None
        ),
        ZERO,
    )
    if paid != settlement.total_amount:
        raise TotalsMismatch(
            f"settlement {settlement.settlement_id}: payments total {paid}, the deposit is "
            f"{settlement.total_amount}"
        )

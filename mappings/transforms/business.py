"""Amazon Business purchases → Xero documents: a pure function over plain data.

One Reconciliation API transaction becomes one Xero document, chosen by how it was paid (the
link's ``MappingSet.payment_methods``):

- paid with a card or another paid instrument → a SPEND bank transaction in the Xero account
  mapped for that payment method; money coming back (REFUND, OVERREFUND) → a RECEIVE one;
- Pay by Invoice (mapped to ``MappingSet.BILL``, the default for "invoice") → an ACCPAY bill to
  the Amazon Business supplier with Amazon's invoice number and due date, and a payment from the
  account mapped as ``INVOICE_PAYMENT`` once Amazon reports the invoice Closed; money coming
  back → an ACCPAYCREDIT credit note.

Exactly once: the document's natural key is Amazon's ``transactionId``. A split payment (one
shipment paid with two instruments) is two transactions, each naming the other in
``associatedTransactionDetails``; each carries its own amount and posts to its own payment
method, so every transaction's money posts once. When Amazon's lines for a split transaction do
not add up to its own amount (the lines are shared between the parts), the parts are *joined*:
the group's lines are shared out in proportion to each part's amount, the last part taking the
remainders, so the parts together equal the group to the cent.

To the cent: lines are ``Inclusive`` of tax and each Xero line carries ``TaxAmount`` as Amazon
computed it. Xero's total for Inclusive lines is the sum of the line amounts whatever it does
with the tax (xero-api.md §5 rounding), so the document total equals Amazon's amount exactly,
and where the mapped tax rate has a percentage the tax is Amazon's, not Xero's recomputation.
Both are checked here before anything is handed over (``TotalsMismatch``).

Line-item types are optional splits: shipping, gift wrap, regulatory fees and discounts become
their own lines when their category is mapped (with the tax Amazon charged on them at the
transaction's ``shipTaxRate``/``giftWrapTaxRate`` or the item's ``taxRate``); unmapped, they stay
on the item's line. Likewise Amazon's tax becomes its own line only when the purchase-tax
category is mapped (e.g. US sales tax booked as an expense). An item's category must be mapped:
until it is, the document is held with a reason that says what to map, as is a document whose
payment method is not mapped ("Map the card ending 4242 …"): only its own purchases wait.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from mappings.categories import Category
from mappings.resolve import MappingSet, Target

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")
ZERO = Decimal("0.00")
INVOICE = "invoice"  # payment-method key of Pay by Invoice
INVOICE_PAYMENT = "invoice-payment"  # payment-method key: the account that pays AB invoices
DEFAULT_INVOICE_TERMS = timedelta(days=30)  # Pay by Invoice is net 30 unless Amazon says
MONEY_IN = ("REFUND", "OVERREFUND")
DESCRIPTION_MAX = 4000
HELD_REASON_MAX = 500
# Fields of a TransactionLineItem other than principal and tax, and the rate their tax is at.
CHARGE_FIELDS = (
    ("shippingCharge", "ship"),
    ("giftWrappingCharge", "gift"),
    ("regulatoryFee", "item"),
    ("discount", "item"),
)
CHARGE_LABELS = {
    "shippingCharge": "Shipping",
    "giftWrappingCharge": "Gift wrap",
    "regulatoryFee": "Regulatory fee",
    "discount": "Discount",
}


class TotalsMismatch(ValueError):
    """The document would not equal Amazon's amount or tax to the cent (a bug, never posted)."""


def money(value: Any) -> Decimal:
    """A Reconciliation API ``Money`` (amount as a string) as a 2-place Decimal; absent = 0."""
    if not isinstance(value, Mapping) or value.get("amount") in (None, ""):
        return ZERO
    try:
        return Decimal(str(value["amount"])).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value['amount']!r}") from exc


def rate(value: Any) -> Decimal | None:
    """A tax rate as Amazon writes it ("0.0825"); None when absent or unreadable."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _amount(value: Decimal) -> str:
    return f"{_cents(value):.2f}"


def api_date(value: str) -> date:
    """The UTC calendar date of an API date-time ("2026-05-01T10:22:31.123Z")."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date()


def line_total(item: Mapping[str, Any]) -> Decimal:
    """A line's total: ``totalAmount``, or the sum of its parts when Amazon left it out."""
    if isinstance(item.get("totalAmount"), Mapping):
        return money(item["totalAmount"])
    parts = ("principalAmount", *(name for name, _ in CHARGE_FIELDS), "tax")
    return sum((money(item.get(name)) for name in parts), ZERO)


@dataclass(frozen=True)
class Purchase:
    """One Reconciliation API transaction, normalised; ``lines`` are Amazon's own dicts."""

    transaction_id: str
    kind: str  # CHARGE, REFUND, OVERREFUND
    date: date
    currency: str
    amount: Decimal  # as Amazon reports it: refunds are negative
    method_key: str  # "card:4242", "invoice", "other:giftcard"
    method_label: str  # "Visa ending 4242"
    last4: str
    invoice_number: str
    associated_ids: tuple[str, ...]
    lines: tuple[Mapping[str, Any], ...]
    ship_tax_rate: Decimal | None = None
    gift_wrap_tax_rate: Decimal | None = None

    @property
    def sign(self) -> int:
        """+1 when money goes out (a purchase), -1 when it comes back (refunds)."""
        if self.amount < 0:
            return -1
        if self.amount > 0:
            return 1
        return -1 if self.kind in MONEY_IN else 1

    @property
    def order_ids(self) -> list[str]:
        seen: list[str] = []
        for item in self.lines:
            order = str(item.get("orderId") or "")
            if order and order not in seen:
                seen.append(order)
        return seen


def purchase_from_api(data: Mapping[str, Any], *, method_key: str, method_label: str) -> Purchase:
    """Parse one ``Transaction`` object of getTransactions."""
    amount = data.get("amount") or {}
    return Purchase(
        transaction_id=str(data["transactionId"]),
        kind=str(data.get("transactionType") or "CHARGE").upper(),
        date=api_date(str(data["transactionDate"])),
        currency=str(amount.get("currencyCode") or ""),
        amount=money(amount),
        method_key=method_key,
        method_label=method_label,
        last4=str(data.get("paymentInstrumentLast4Digits") or ""),
        invoice_number=str(data.get("invoiceNumber") or ""),
        associated_ids=tuple(
            str(a["associatedTransactionId"])
            for a in data.get("associatedTransactionDetails") or []
            if isinstance(a, Mapping) and a.get("associatedTransactionId")
        ),
        lines=tuple(i for i in data.get("transactionLineItems") or [] if isinstance(i, Mapping)),
        ship_tax_rate=rate(data.get("shipTaxRate")),
        gift_wrap_tax_rate=rate(data.get("giftWrapTaxRate")),
    )


@dataclass(frozen=True)
class InvoiceState:
    """What getBatchInvoicePaymentDetails said about a Pay by Invoice invoice."""

    due_date: date | None = None
    closed_on: date | None = None  # the day the hub first saw Amazon report it Closed


@dataclass(frozen=True)
class Categorisers:
    """How lines are categorised (``mappings/categories_business.py`` in production)."""

    line: Callable[[Mapping[str, Any]], Category]  # an item's principal
    charge: Callable[[str], Category]  # "shippingCharge", "discount", …, "tax"
    goodwill: Category | None = None  # an OVERREFUND's extra credit, when mapped


@dataclass(frozen=True)
class Document:
    kind: str  # bank_transaction, bill, credit_note, payment
    payload: dict[str, Any]
    total: Decimal
    currency: str
    lookup_number: str = ""
    lookup_reference: str = ""
    held_reason: str = ""


@dataclass(frozen=True)
class PurchaseDocuments:
    main: Document | None  # None: nothing to post (a zero amount)
    payment: Document | None = None  # a bill's payment, once Amazon reports it paid
    categories: tuple[Category, ...] = ()  # every category met, for "seen" bookkeeping
    notes: tuple[str, ...] = ()


@dataclass
class _Line:
    description: str
    gross: Decimal  # tax-inclusive, positive for the document's direction
    tax: Decimal
    category: Category
    target: Target | None
    quantity: Decimal | None = None
    tracking: tuple[tuple[str, str], ...] = ()
    account_code: str = ""  # a fixed account (the suspense difference line)
    is_tax: bool = False  # Amazon's tax as a line of its own (purchase-tax category mapped)

    def xero(self) -> dict[str, Any]:
        line: dict[str, Any] = {"Description": self.description[:DESCRIPTION_MAX] or "Purchase"}
        quantity, unit = Decimal(1), self.gross
        if self.quantity and self.quantity > 0:
            candidate = (self.gross / self.quantity).quantize(UNIT, ROUND_HALF_UP)
            if _cents(candidate * self.quantity) == self.gross:
                quantity, unit = self.quantity, candidate
        line["Quantity"] = f"{quantity:f}"
        line["UnitAmount"] = f"{unit.quantize(UNIT, ROUND_HALF_UP):f}"
        line["LineAmount"] = _amount(self.gross)
        if self.account_code:
            line["AccountCode"] = self.account_code
        elif self.target is not None:
            line["AccountCode"] = self.target.account_code
            if self.target.tax_type:
                line["TaxType"] = self.target.tax_type
        line["TaxAmount"] = _amount(self.tax)
        tracking = _merge_tracking(self.target.tracking if self.target else (), self.tracking)
        if tracking:
            line["Tracking"] = [{"Name": c, "Option": o} for c, o in tracking]
        return line


def _merge_tracking(
    first: Sequence[tuple[str, str]], second: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """At most two categories per line (Xero's limit); the category's own tracking first."""
    merged: list[tuple[str, str]] = []
    for name, option in [*first, *second]:
        if name and option and all(name.lower() != m[0].lower() for m in merged):
            merged.append((name, option))
    return merged[:2]


def cost_centre(item: Mapping[str, Any]) -> str:
    """The cost centre a requisitioner entered for a line (``businessOrderInfo``), or ''."""
    info = item.get("businessOrderInfo")
    if not isinstance(info, Mapping):
        return ""
    for name, value in info.items():
        squashed = "".join(ch for ch in str(name).lower() if ch.isalpha())
        if squashed in ("costcenter", "costcentre", "costcentercode", "costcentrecode"):
            return str(value or "").strip()
    return ""


def _describe(item: Mapping[str, Any], purchase: Purchase) -> str:
    title = str(item.get("productTitle") or "Amazon Business purchase").strip()
    parts = [title]
    if item.get("asin"):
        parts[0] += f" (ASIN {item['asin']})"
    if item.get("orderId"):
        parts.append(f"order {item['orderId']}")
    if item.get("purchaseOrderNumber"):
        parts.append(f"PO {item['purchaseOrderNumber']}")
    if purchase.kind in MONEY_IN:
        reason = str(item.get("refundReason") or "").strip()
        parts.append(f"{purchase.kind.lower()}{': ' + reason if reason else ''}")
    return " · ".join(parts)


def _charge_rate(purchase: Purchase, item: Mapping[str, Any], which: str) -> Decimal | None:
    if which == "ship":
        return purchase.ship_tax_rate
    if which == "gift":
        return purchase.gift_wrap_tax_rate
    return rate(item.get("taxRate"))


def _item_lines(
    purchase: Purchase,
    item: Mapping[str, Any],
    mapping: MappingSet,
    categorisers: Categorisers,
    cost_centres: Mapping[str, tuple[tuple[str, str], ...]],
    met: list[Category],
) -> list[_Line]:
    """The Xero lines of one Amazon line item (gross and tax sum to the item's exactly)."""
    sign = purchase.sign
    gross_total = sign * line_total(item)
    tax_total = sign * money(item.get("tax"))
    description = _describe(item, purchase)
    tracking = cost_centres.get(cost_centre(item), ())
    lines: list[_Line] = []

    tax_category = categorisers.charge("tax")
    met.append(tax_category)
    tax_target = mapping.target(tax_category.key)
    split_tax = tax_target is not None and tax_total != 0

    remaining_gross, remaining_tax = gross_total, tax_total
    for name, which in CHARGE_FIELDS:
        amount = sign * money(item.get(name))
        if amount == 0:
            continue
        category = categorisers.charge(name)
        met.append(category)
        target = mapping.target(category.key)
        if target is None:
            continue  # stays on the item's line
        charge_tax = ZERO
        charge_rate = _charge_rate(purchase, item, which)
        if not split_tax and charge_rate is not None:
            charge_tax = _cents(amount * charge_rate)
        lines.append(
            _Line(
                f"{CHARGE_LABELS[name]}: {description}",
                amount + charge_tax,
                charge_tax,
                category,
                target,
                tracking=tracking,
            )
        )
        remaining_gross -= amount + charge_tax
        remaining_tax -= charge_tax
    if split_tax:
        lines.append(
            _Line(
                f"Tax: {description}",
                tax_total,
                ZERO,
                tax_category,
                tax_target,
                tracking=tracking,
                is_tax=True,
            )
        )
        remaining_gross -= tax_total
        remaining_tax -= tax_total
    category = categorisers.line(item)
    goodwill = categorisers.goodwill
    if purchase.kind == "OVERREFUND" and goodwill and mapping.target(goodwill.key):
        category = goodwill
    met.append(category)
    quantity = item.get("itemQuantity")
    lines.insert(
        0,
        _Line(
            description,
            remaining_gross,
            remaining_tax,
            category,
            mapping.target(category.key),
            quantity=Decimal(int(quantity)) if isinstance(quantity, int) and quantity > 0 else None,
            tracking=tracking,
        ),
    )
    return lines


def _item_key(item: Mapping[str, Any]) -> tuple[str, ...]:
    if item.get("orderLineItemId"):
        return (
            str(item.get("orderId") or ""),
            str(item["orderLineItemId"]),
            str(item.get("shipmentId") or ""),
        )
    return (repr(sorted((str(k), repr(v)) for k, v in item.items())),)


def split_share(
    purchase: Purchase, partners: Mapping[str, Purchase]
) -> tuple[tuple[Mapping[str, Any], ...] | None, str]:
    """This part's share of a split payment's lines, when its own lines do not add up.

    Returns (lines, "") or (None, why not). The group's lines (each listed once) are shared out
    in proportion to each part's amount; the parts in transactionId order, the last taking the
    remainders, so every line and every part adds up to the cent.
    """
    missing = [i for i in purchase.associated_ids if i not in partners]
    if missing:
        return None, (
            "Waiting for the other part of this split payment (transaction "
            f"{', '.join(missing)}) to arrive from Amazon"
        )
    group = sorted(
        [purchase, *(partners[i] for i in purchase.associated_ids)],
        key=lambda p: p.transaction_id,
    )
    items: dict[tuple[str, ...], Mapping[str, Any]] = {}
    for member in group:
        for item in member.lines:
            items.setdefault(_item_key(item), item)
    unique = list(items.values())
    group_amount = sum((p.amount for p in group), ZERO)
    lines_amount = sum((line_total(i) for i in unique), ZERO)
    if group_amount == 0 or lines_amount != group_amount:
        return None, (
            f"Amazon's lines for this split payment add up to {lines_amount}, not the "
            f"{group_amount} charged"
        )
    given_gross = [ZERO] * len(unique)
    given_tax = [ZERO] * len(unique)
    for member in group:
        last_member = member is group[-1]
        shares: list[tuple[Decimal, Decimal]] = []
        for j, item in enumerate(unique):
            gross, tax = line_total(item), money(item.get("tax"))
            if last_member:
                share, share_tax = gross - given_gross[j], tax - given_tax[j]
            elif j == len(unique) - 1:
                share = member.amount - sum((s for s, _ in shares), ZERO)
                share_tax = _cents(tax * member.amount / group_amount)
            else:
                share = _cents(gross * member.amount / group_amount)
                share_tax = _cents(tax * member.amount / group_amount)
            shares.append((share, share_tax))
            given_gross[j] += share
            given_tax[j] += share_tax
        if member is purchase:
            return tuple(
                {
                    **{k: v for k, v in item.items() if k not in _MONEY_FIELDS},
                    "totalAmount": {"currencyCode": purchase.currency, "amount": f"{share:.2f}"},
                    "tax": {"currencyCode": purchase.currency, "amount": f"{share_tax:.2f}"},
                    "itemQuantity": None,
                    "productTitle": f"{item.get('productTitle') or 'Purchase'} "
                    f"(share of a split payment)",
                }
                for item, (share, share_tax) in zip(unique, shares, strict=True)
            ), ""
    raise AssertionError("unreachable: the purchase is in its own group")


_MONEY_FIELDS = {
    "totalAmount",
    "principalAmount",
    "shippingCharge",
    "giftWrappingCharge",
    "regulatoryFee",
    "discount",
    "tax",
}


def _method_reason(purchase: Purchase) -> str:
    if purchase.method_key.startswith("card:"):
        return (
            f"Map the card ending {purchase.method_key.removeprefix('card:')} to a Xero bank or "
            "credit-card account"
        )
    return f"Map the payment method {purchase.method_label} to a Xero bank account"


def _reference(purchase: Purchase) -> str:
    orders = purchase.order_ids
    if not orders:
        return f"Amazon Business {purchase.transaction_id}"
    more = f" +{len(orders) - 1}" if len(orders) > 1 else ""
    return f"Amazon Business order {orders[0]}{more} / {purchase.transaction_id}"


def purchase_documents(
    purchase: Purchase,
    mapping: MappingSet,
    *,
    categorisers: Categorisers,
    partners: Mapping[str, Purchase] | None = None,
    invoice: InvoiceState | None = None,
    cost_centres: Mapping[str, tuple[tuple[str, str], ...]] | None = None,
) -> PurchaseDocuments:
    """The Xero document(s) for one transaction; see the module docstring."""
    sign = purchase.sign
    total = sign * purchase.amount
    if total == 0:
        return PurchaseDocuments(main=None, notes=("Nothing to post: the amount is zero.",))
    if not mapping.business_supplier_contact_id:
        raise ValueError("the Amazon Business supplier contact must exist before transforming")
    met: list[Category] = []
    notes: list[str] = []
    held: list[str] = []

    items: Sequence[Mapping[str, Any]] = purchase.lines
    if sum((sign * line_total(i) for i in items), ZERO) != total and purchase.associated_ids:
        shared, why = split_share(purchase, partners or {})
        if shared is not None:
            items = shared
            notes.append("Split payment: lines shared with " + ", ".join(purchase.associated_ids))
        elif why.startswith("Waiting"):
            held.append(why)
    lines: list[_Line] = []
    for item in items:
        lines.extend(_item_lines(purchase, item, mapping, categorisers, cost_centres or {}, met))
    difference = total - sum((line.gross for line in lines), ZERO)
    if difference and not held:
        if mapping.suspense_account:
            lines.append(
                _Line(
                    "Difference between Amazon's charge and its line items",
                    difference,
                    ZERO,
                    Category(
                        "business:difference", "Difference", "Unmapped", "business", "suspense"
                    ),
                    None,
                    account_code=mapping.suspense_account,
                )
            )
            notes.append(
                f"Amazon's line items add up to {total - difference}, not {total}: the "
                f"{difference} difference went to the suspense account."
            )
        else:
            held.append(
                f"Amazon's line items add up to {total - difference}, not {total}; choose a "
                "suspense account for the difference"
            )

    target = mapping.payment_methods.get(purchase.method_key)
    if target is None and purchase.method_key == INVOICE:
        target = MappingSet.BILL
    if target is None:
        held.insert(0, _method_reason(purchase))
    for line in lines:
        if line.target is None and not line.account_code:
            reason = f"Map the expense category “{line.category.label}” to a Xero account"
            if reason not in held:
                held.append(reason)

    xero_lines = [line.xero() for line in lines]
    if sum((line.gross for line in lines), ZERO) == total:
        _check_totals(purchase, lines, total, lines_from_amazon=items is purchase.lines)
    elif not held:  # only a held document may be incomplete (it is rebuilt before it posts)
        raise TotalsMismatch(f"transaction {purchase.transaction_id}: lines do not add up")
    contact = {"ContactID": mapping.business_supplier_contact_id}
    common = {
        "Contact": contact,
        "Date": purchase.date.isoformat(),
        "CurrencyCode": purchase.currency,
        "LineAmountTypes": "Inclusive",
        "LineItems": xero_lines,
    }
    held_reason = "; ".join(held)
    if len(held_reason) > HELD_REASON_MAX:  # the ledger keeps 500 characters
        held_reason = held_reason[: HELD_REASON_MAX - 1] + "…"
    payment: Document | None = None
    if target == MappingSet.BILL and sign > 0:
        number = purchase.invoice_number or f"AB-{purchase.transaction_id}"
        due = (invoice.due_date if invoice else None) or purchase.date + DEFAULT_INVOICE_TERMS
        main = Document(
            kind="bill",
            payload={
                "Type": "ACCPAY",
                "Status": "AUTHORISED",
                "InvoiceNumber": number,
                "DueDate": due.isoformat(),
                **common,
            },
            total=total,
            currency=purchase.currency,
            lookup_number=number,
            held_reason=held_reason,
        )
        if invoice is not None and invoice.closed_on is not None:
            payment = _invoice_payment(purchase, mapping, number, total, invoice.closed_on)
    elif target == MappingSet.BILL:
        number = purchase.invoice_number or f"AB-{purchase.transaction_id}"
        main = Document(
            kind="credit_note",
            payload={
                "Type": "ACCPAYCREDIT",
                "Status": "AUTHORISED",
                "CreditNoteNumber": number,
                **common,
            },
            total=total,
            currency=purchase.currency,
            lookup_number=number,
            held_reason=held_reason,
        )
    else:
        reference = _reference(purchase)
        payload: dict[str, Any] = {
            "Type": "SPEND" if sign > 0 else "RECEIVE",
            "Status": "AUTHORISED",
            "Reference": reference,
            **common,
        }
        if target:
            payload["BankAccount"] = {"Code": target}
        main = Document(
            kind="bank_transaction",
            payload=payload,
            total=total,
            currency=purchase.currency,
            lookup_reference=reference,
            held_reason=held_reason,
        )
    return PurchaseDocuments(
        main=main, payment=payment, categories=tuple(_unique(met)), notes=tuple(notes)
    )


def _invoice_payment(
    purchase: Purchase, mapping: MappingSet, number: str, total: Decimal, paid_on: date
) -> Document:
    account = mapping.payment_methods.get(INVOICE_PAYMENT, "")
    reference = f"Amazon Business invoice {number} paid"
    payload: dict[str, Any] = {
        "Date": paid_on.isoformat(),
        "Amount": _amount(total),
        "Reference": reference,
    }
    if account and account != MappingSet.BILL:
        payload["Account"] = {"Code": account}
    return Document(
        kind="payment",
        payload=payload,
        total=total,
        currency=purchase.currency,
        lookup_reference=reference,
        held_reason=""
        if "Account" in payload
        else "Choose the Xero bank account that pays Amazon Business invoices",
    )


def _check_totals(
    purchase: Purchase, lines: list[_Line], total: Decimal, *, lines_from_amazon: bool
) -> None:
    """Xero's own arithmetic for Inclusive lines must give Amazon's total and tax.

    Inclusive: the document total is the sum of the line amounts (whatever tax Xero keeps), and
    the tax is the sum of the TaxAmounts sent, plus a tax line's amount when tax is its own line.
    """
    sent = [line.xero() for line in lines]
    xero_total = sum((Decimal(line["LineAmount"]) for line in sent), ZERO)
    if xero_total != total:
        raise TotalsMismatch(
            f"transaction {purchase.transaction_id}: lines total {xero_total}, Amazon {total}"
        )
    if lines_from_amazon:
        amazon_tax = purchase.sign * sum((money(i.get("tax")) for i in purchase.lines), ZERO)
        xero_tax = sum(
            (
                Decimal(x["LineAmount"]) if line.is_tax else Decimal(x["TaxAmount"])
                for line, x in zip(lines, sent, strict=True)
            ),
            ZERO,
        )
        if xero_tax != amazon_tax:
            raise TotalsMismatch(
                f"transaction {purchase.transaction_id}: tax {xero_tax}, Amazon {amazon_tax}"
            )


def _unique(categories: list[Category]) -> list[Category]:
    seen: dict[str, Category] = {}
    for category in categories:
        seen.setdefault(category.key, category)
    return list(seen.values())

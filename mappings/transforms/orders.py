"""Seller Central orders → Xero per-order documents: pure functions over plain data.

Per-order accounting (the link's mode) makes:
- one sales invoice (ACCREC, AUTHORISED) per shipped order, Reference = AmazonOrderId and
  InvoiceNumber ``<country>-<AmazonOrderId>`` (unique per marketplace), dated the purchase
  date, to "Amazon Customers <marketplace>" or to the buyer when Amazon shares who it is. A line
  per item (SKU → the Xero Item code when the organisation has one; quantity; unit price to
  4 dp), then shipping, gift wrap and promotions;
- a credit note (ACCRECCREDIT) per refund Amazon settles, from the settlement's refund rows;
- payments from the clearing account when the order (or refund) appears in a settlement.

Tax follows the marketplace: UK and EU prices include VAT, so those documents are
``Inclusive`` (the lines carry the mapped tax rate and the total is Amazon's to the cent,
whatever Xero's per-line VAT rounding). North American prices exclude tax: the documents are
``Exclusive`` with untaxed lines and the tax Amazon charged as a line of its own: to the
marketplace-facilitator account when Amazon collected and remits it (it nets to zero there
against the settlement's withheld-tax rows), else to the sales-tax account.

The invoice total is compared with Amazon's OrderTotal; a difference is reported with its reason
(``difference``, ``check_note``), never silently absorbed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mappings.categories import Category
from mappings.categories_seller import (
    PROMOTIONS,
    PROMOTIONS_SHIPPING,
    REFUND_TRANSACTIONS,
    REFUNDS,
    REFUNDS_GIFTWRAP,
    REFUNDS_GOODWILL,
    REFUNDS_SHIPPING,
    SALES,
    SALES_GIFTWRAP,
    SALES_OTHER,
    SALES_SHIPPING,
    TAX_COLLECTED,
    TAX_FACILITATOR,
    norm,
)
from mappings.chart import Chart
from mappings.resolve import MappingSet, Target
from mappings.transforms.settlement import MARKETPLACE_IDS, _zero_tax_type, line_tax

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")
ZERO = Decimal("0.00")
DESCRIPTION_MAX = 4000
ITEM_CODE_MAX = 30

# Prices exclude tax in these marketplaces (tax is added on top); elsewhere they include it.
TAX_EXCLUSIVE_MARKETPLACES = frozenset(
    {"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC"}
)
COUNTRY = {
    "ATVPDKIKX0DER": "US",
    "A2EUQ1WTGCTBG2": "CA",
    "A1AM78C64UM0Y8": "MX",
    "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "UK",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES",
    "A1805IZSGTT6HS": "NL",
    "A2NODRKZP88ZB9": "SE",
    "A1C3SOZRARQ6R3": "PL",
    "AMEN7PMS3EDWL": "BE",
    "A28R8C7NBKEWEA": "IE",
    "A33AVAJ2PDY3EV": "TR",
    "A2VIGQ35RCS4UG": "AE",
    "A17E79C6D8DWNP": "SA",
    "AE08WJ6YKNBMC": "ZA",
    "A21TJRUUN4KGV": "IN",
    "A1VC38T7YXB528": "JP",
    "A39IBJ37TRP1C6": "AU",
    "A19VAU5U5O7RUS": "SG",
}
CHANNELS = {mid: channel for channel, mid in MARKETPLACE_IDS.items()}


class TotalsMismatch(ValueError):
    """A document would not equal what Amazon charged to the cent (a bug: never posted)."""


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _money(value: Decimal) -> str:
    return f"{cents(value):.2f}"


def money(raw: Any) -> Decimal:
    """An SP-API Money object (or a plain amount) as Decimal to the cent; absent → 0.00."""
    if raw is None or raw == "":
        return ZERO
    if isinstance(raw, Mapping):
        raw = raw.get("Amount", "0")
    return cents(Decimal(str(raw)))


def tax_inclusive(marketplace_id: str) -> bool:
    return marketplace_id not in TAX_EXCLUSIVE_MARKETPLACES


def channel_name(marketplace_id: str, sales_channel: str = "") -> str:
    """``Amazon.co.uk``: what contacts and descriptions call a marketplace."""
    if sales_channel:
        return sales_channel
    found = CHANNELS.get(marketplace_id)
    return found[0].upper() + found[1:] if found else marketplace_id


def invoice_number(marketplace_id: str, amazon_order_id: str) -> str:
    return f"{COUNTRY.get(marketplace_id, marketplace_id[:4])}-{amazon_order_id}"


def credit_note_number(marketplace_id: str, amazon_order_id: str, part: str) -> str:
    return f"{invoice_number(marketplace_id, amazon_order_id)}-{part}"


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ItemInput:
    sku: str
    asin: str
    title: str
    quantity: int
    quantity_shipped: int
    principal: Decimal  # ItemPrice as Amazon shows it (VAT included where prices include it)
    tax: Decimal  # ItemTax (the VAT inside, or the tax on top)
    shipping: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    gift_wrap: Decimal = ZERO
    gift_wrap_tax: Decimal = ZERO
    promotion: Decimal = ZERO  # PromotionDiscount (positive: taken off)
    promotion_tax: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    shipping_discount_tax: Decimal = ZERO
    facilitator: bool = False  # Amazon collects and remits the tax (TaxCollection)

    def buyer_total(self, inclusive: bool) -> Decimal:
        total = self.principal + self.shipping + self.gift_wrap
        total -= self.promotion + self.shipping_discount
        if not inclusive:
            total += self.tax + self.shipping_tax + self.gift_wrap_tax
            total -= self.promotion_tax + self.shipping_discount_tax
        return total

    @property
    def tax_total(self) -> Decimal:
        return (
            self.tax
            + self.shipping_tax
            + self.gift_wrap_tax
            - self.promotion_tax
            - self.shipping_discount_tax
        )


@dataclass(frozen=True)
class OrderInput:
    amazon_order_id: str
    marketplace_id: str
    sales_channel: str
    currency: str
    purchase_date: datetime
    status: str
    order_total: Decimal | None
    items: tuple[ItemInput, ...]
    buyer_name: str = ""
    buyer_email: str = ""

    @property
    def inclusive(self) -> bool:
        return tax_inclusive(self.marketplace_id)


def item_from_api(raw: Mapping[str, Any], *, marketplace_id: str) -> ItemInput:
    gift = raw.get("BuyerInfo") or {}
    collection = raw.get("TaxCollection") or {}
    facilitator = collection.get("Model") == "MarketplaceFacilitator"
    if not collection and marketplace_id == "ATVPDKIKX0DER":
        # The orders report does not say who collects the tax; every US state now makes
        # Amazon the marketplace facilitator.
        facilitator = True
    return ItemInput(
        sku=str(raw.get("SellerSKU") or ""),
        asin=str(raw.get("ASIN") or ""),
        title=str(raw.get("Title") or raw.get("SellerSKU") or "Item"),
        quantity=int(raw.get("QuantityOrdered") or 0),
        quantity_shipped=int(raw.get("QuantityShipped") or 0),
        principal=money(raw.get("ItemPrice")),
        tax=money(raw.get("ItemTax")),
        shipping=money(raw.get("ShippingPrice")),
        shipping_tax=money(raw.get("ShippingTax")),
        gift_wrap=money(gift.get("GiftWrapPrice")),
        gift_wrap_tax=money(gift.get("GiftWrapTax")),
        promotion=abs(money(raw.get("PromotionDiscount"))),
        promotion_tax=abs(money(raw.get("PromotionDiscountTax"))),
        shipping_discount=abs(money(raw.get("ShippingDiscount"))),
        shipping_discount_tax=abs(money(raw.get("ShippingDiscountTax"))),
        facilitator=facilitator,
    )


def order_from_api(
    data: Mapping[str, Any], items: Iterable[Mapping[str, Any]], *, purchase_date: datetime
) -> OrderInput:
    marketplace_id = str(data.get("MarketplaceId") or "")
    total = data.get("OrderTotal")
    buyer = data.get("BuyerInfo") or {}
    parsed = tuple(item_from_api(i, marketplace_id=marketplace_id) for i in items)
    currency = str((total or {}).get("CurrencyCode") or "")
    if not currency:
        for raw in items:
            currency = str((raw.get("ItemPrice") or {}).get("CurrencyCode") or "")
            if currency:
                break
    return OrderInput(
        amazon_order_id=str(data["AmazonOrderId"]),
        marketplace_id=marketplace_id,
        sales_channel=str(data.get("SalesChannel") or ""),
        currency=currency,
        purchase_date=purchase_date,
        status=str(data.get("OrderStatus") or ""),
        order_total=money(total) if total else None,
        items=parsed,
        buyer_name=str(buyer.get("BuyerName") or ""),
        buyer_email=str(buyer.get("BuyerEmail") or ""),
    )


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Line:
    category: Category
    description: str
    account_code: str
    tax_type: str
    amount: Decimal  # LineAmount
    quantity: Decimal = Decimal(1)
    unit: Decimal | None = None  # UnitAmount (4 dp); None → the amount
    item_code: str = ""
    tracking: tuple[tuple[str, str], ...] = ()

    def payload(self) -> dict[str, Any]:
        unit = self.unit if self.unit is not None else self.amount
        line: dict[str, Any] = {
            "Description": self.description[:DESCRIPTION_MAX],
            "Quantity": f"{self.quantity:.4f}",
            "UnitAmount": f"{unit:.4f}",
            "LineAmount": _money(self.amount),
            "AccountCode": self.account_code,
        }
        if self.item_code:
            line["ItemCode"] = self.item_code
        if self.tax_type:
            line["TaxType"] = self.tax_type
        if self.tracking:
            line["Tracking"] = [{"Name": c, "Option": o} for c, o in self.tracking]
        return line


@dataclass(frozen=True)
class Document:
    kind: str  # "invoice" or "credit_note"
    number: str
    payload: dict[str, Any]
    total: Decimal
    lines: tuple[Line, ...]
    held_reasons: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    amazon_total: Decimal | None = None  # what Amazon says it comes to
    difference: Decimal = ZERO  # what the items come to - amazon_total
    check_note: str = ""
    new_items: tuple[tuple[str, str], ...] = ()  # (SKU, title) with no Xero Item yet

    @property
    def held_reason(self) -> str:
        return " ".join(self.held_reasons)


@dataclass
class _Builder:
    """Lines being gathered for one document, with what is missing from the mapping."""

    mapping: MappingSet
    chart: Chart
    inclusive: bool
    tracking: tuple[str, str] | None
    lines: list[Line] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    categories: dict[str, Category] = field(default_factory=dict)

    def target(self, category: Category) -> Target | None:
        self.categories[category.key] = category
        target = self.mapping.target(category.key)
        if target is None or not target.account_code:
            self.held.append(f"'{category.label}' has no Xero account yet: map it, then it posts.")
            return None
        return target

    def tax_type(self, target: Target, *, taxed: bool) -> str:
        """Inclusive documents keep the mapped rate; exclusive ones carry tax as its own line."""
        if taxed and self.inclusive:
            if target.tax_type and self.chart.rate(target.tax_type) is None:
                self.held.append(
                    f"Tax rate {target.tax_type} is not in the Xero organisation: choose another "
                    "tax rate in the mapping."
                )
            return target.tax_type
        percent = self._percent(target)
        if percent == 0 and target.tax_type:
            return target.tax_type
        return _zero_tax_type(self.chart, target.account_code)

    def _percent(self, target: Target) -> Decimal | None:
        tax_type = target.tax_type
        if not tax_type:
            account = self.chart.account(target.account_code)
            tax_type = account.tax_type if account is not None else ""
        if not tax_type:
            return Decimal(0)
        rate = self.chart.rate(tax_type)
        return rate.percent if rate is not None else None

    def add(
        self,
        category: Category,
        description: str,
        amount: Decimal,
        *,
        taxed: bool = True,
        quantity: int = 1,
        item_code: str = "",
    ) -> None:
        if not amount:
            return
        target = self.target(category)
        if target is None:
            return
        unit: Decimal | None = None
        qty = Decimal(max(quantity, 1))
        if qty > 1:
            unit = (amount / qty).quantize(UNIT, ROUND_HALF_UP)
            if cents(unit * qty) != amount:  # 4 dp cannot carry it: one line for the lot
                unit, qty = None, Decimal(1)
                description = f"{description} ({quantity} units)"
        tracking = list(target.tracking)
        if self.tracking is not None and all(
            c.lower() != self.tracking[0].lower() for c, _ in tracking
        ):
            tracking.append(self.tracking)
        self.lines.append(
            Line(
                category=category,
                description=description,
                account_code=target.account_code,
                tax_type=self.tax_type(target, taxed=taxed),
                amount=amount,
                quantity=qty,
                unit=unit,
                item_code=item_code,
                tracking=tuple(tracking[:2]),
            )
        )

    def total(self) -> Decimal:
        subtotal = sum((ln.amount for ln in self.lines), ZERO)
        if self.inclusive:
            return subtotal
        # Exclusive lines are untaxed (tax is a line of its own), so Xero adds nothing; a
        # mapped rate that taxes would be caught here.
        extra = ZERO
        for ln in self.lines:
            rate = self.chart.rate(ln.tax_type) if ln.tax_type else None
            if rate is not None and rate.percent:
                extra += line_tax(ln.amount, rate.percent, "Exclusive")
        return subtotal + extra


def _tracking(mapping: MappingSet, marketplace_id: str, channel: str) -> tuple[str, str] | None:
    found = mapping.marketplace_tracking.get(marketplace_id) or mapping.marketplace_tracking.get(
        channel
    )
    return (str(found[0]), str(found[1])) if found else None


def default_contact(marketplace_id: str, channel: str = "") -> str:
    """One contact per marketplace for buyers Amazon does not name: "Amazon Customers <channel>"."""
    return f"Amazon Customers {channel_name(marketplace_id, channel)}"


def normalised_name(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", name.casefold())).strip()


def _currency_problem(chart: Chart, currency: str) -> str:
    enabled = chart.enabled_currencies()
    if currency and enabled and currency not in enabled:
        return (
            f"This order is in {currency}, which is not enabled in the Xero organisation: add "
            f"{currency} in Xero under Settings → Currencies."
        )
    return ""


def _describe(item: ItemInput) -> str:
    return f"{item.title} (SKU {item.sku})" if item.sku else item.title


def order_invoice(
    order: OrderInput,
    mapping: MappingSet,
    chart: Chart,
    *,
    contact: str,
    item_codes: frozenset[str] = frozenset(),
) -> Document:
    """The sales invoice for one shipped order."""
    channel = channel_name(order.marketplace_id, order.sales_channel)
    build = _Builder(
        mapping, chart, order.inclusive, _tracking(mapping, order.marketplace_id, channel)
    )
    problem = _currency_problem(chart, order.currency)
    if problem:
        build.held.append(problem)
    if not order.items:
        build.held.append("Amazon has not listed this order's items yet; they are read next sync.")
    new_items: list[tuple[str, str]] = []
    shipping = gift = promotion = ship_discount = ZERO
    facilitator_tax = other_tax = ZERO
    # Xero matches Item codes without regard to case: use the organisation's spelling.
    codes = {c.casefold(): c for c in item_codes}
    for item in order.items:
        code = codes.get(item.sku.casefold(), "") if item.sku else ""
        if item.sku and not code and item.quantity:
            new_items.append((item.sku, item.title))
        build.add(SALES, _describe(item), item.principal, quantity=item.quantity, item_code=code)
        shipping += item.shipping
        gift += item.gift_wrap
        promotion += item.promotion
        ship_discount += item.shipping_discount
        if not order.inclusive:
            if item.facilitator:
                facilitator_tax += item.tax_total
            else:
                other_tax += item.tax_total
    build.add(SALES_SHIPPING, "Shipping", shipping)
    build.add(SALES_GIFTWRAP, "Gift wrap", gift)
    build.add(PROMOTIONS, "Promotional discount", -promotion)
    build.add(PROMOTIONS_SHIPPING, "Shipping discount", -ship_discount)
    build.add(
        TAX_FACILITATOR,
        "Sales tax collected and remitted by Amazon (marketplace facilitator)",
        facilitator_tax,
        taxed=False,
    )
    build.add(TAX_COLLECTED, "Sales tax", other_tax, taxed=False)

    total = build.total()
    amazon = sum((i.buyer_total(order.inclusive) for i in order.items), ZERO)
    if not build.held and total != amazon:
        raise TotalsMismatch(f"order {order.amazon_order_id}: lines {total}, items {amazon}")
    # Checked on the items' total, not the lines': a line held for its mapping is no difference.
    difference, note = ZERO, ""
    if order.order_total is not None and order.order_total != amazon and order.items:
        difference = amazon - order.order_total
        note = _difference_reason(order, amazon)
    if total < 0 and not build.held:
        build.held.append(
            f"The order's promotions exceed its price ({_money(total)} {order.currency}): "
            "it cannot be an invoice; check it in Seller Central."
        )
    number = invoice_number(order.marketplace_id, order.amazon_order_id)
    day = order.purchase_date.astimezone(UTC).date().isoformat()
    payload: dict[str, Any] = {
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Contact": _contact_payload(contact, order.buyer_email),
        "Date": day,
        "DueDate": day,
        "InvoiceNumber": number,
        "Reference": order.amazon_order_id,
        "CurrencyCode": order.currency,
        "LineAmountTypes": "Inclusive" if order.inclusive else "Exclusive",
        "LineItems": [ln.payload() for ln in build.lines],
    }
    return Document(
        kind="invoice",
        number=number,
        payload=payload,
        total=total,
        lines=tuple(build.lines),
        held_reasons=tuple(dict.fromkeys(build.held)),
        categories=tuple(build.categories.values()),
        amazon_total=order.order_total,
        difference=difference,
        check_note=note,
        new_items=tuple(new_items),
    )


def _contact_payload(name: str, email: str) -> dict[str, Any]:
    contact: dict[str, Any] = {"Name": name}
    if email and not name.startswith("Amazon Customers"):
        contact["EmailAddress"] = email
    return contact


def _difference_reason(order: OrderInput, total: Decimal) -> str:
    amazon = order.order_total or ZERO
    head = (
        f"Amazon's order total is {_money(amazon)} {order.currency}; the invoice, built from the "
        f"items, is {_money(total)}"
    )
    unshipped = [i for i in order.items if i.quantity_shipped < i.quantity]
    if unshipped and order.status != "Shipped":
        return f"{head}: {len(unshipped)} item(s) were not shipped when it was read."
    if total > amazon:
        return f"{head}: Amazon's total leaves out part of what its items list (a discount?)."
    return f"{head}: Amazon's total includes charges its items do not list."


# --------------------------------------------------------------------------- refunds


@dataclass(frozen=True)
class RefundRow:
    """One refund row of a settlement (signed as in the file: money back is negative)."""

    amount_type: str
    amount_description: str
    amount: Decimal
    sku: str = ""


@dataclass(frozen=True)
class RefundInput:
    amazon_order_id: str
    part: str  # the refund's key within the order (adjustment id)
    marketplace_id: str
    sales_channel: str
    currency: str
    posted: date
    rows: tuple[RefundRow, ...]

    @property
    def amount(self) -> Decimal:
        """What the buyer got back (positive)."""
        return -sum((r.amount for r in self.rows), ZERO)


# description → (category, is the VAT of that category)
_REFUND_ROWS: dict[str, tuple[Category, bool]] = {
    "principal": (REFUNDS, False),
    "tax": (REFUNDS, True),
    "shipping": (REFUNDS_SHIPPING, False),
    "shippingtax": (REFUNDS_SHIPPING, True),
    "giftwrap": (REFUNDS_GIFTWRAP, False),
    "giftwraptax": (REFUNDS_GIFTWRAP, True),
    "goodwill": (REFUNDS_GOODWILL, False),
    "restockingfee": (SALES_OTHER, False),
    "restockingfeetax": (SALES_OTHER, True),
}


def is_buyer_charge(transaction_type: str, amount_type: str) -> bool:
    """A row of what the buyer paid (or got back) for an order: it belongs to the order."""
    ttype, atype = norm(transaction_type), norm(amount_type)
    return (ttype == "order" or ttype in REFUND_TRANSACTIONS) and atype in (
        "itemprice",
        "promotion",
    )


def is_refund(transaction_type: str) -> bool:
    return norm(transaction_type) in REFUND_TRANSACTIONS


def refund_credit_note(
    refund: RefundInput,
    mapping: MappingSet,
    chart: Chart,
    *,
    contact: str,
    email: str = "",
) -> Document:
    """The credit note for one refund: lines in the refund categories, signs turned."""
    inclusive = tax_inclusive(refund.marketplace_id)
    channel = channel_name(refund.marketplace_id, refund.sales_channel)
    build = _Builder(mapping, chart, inclusive, _tracking(mapping, refund.marketplace_id, channel))
    problem = _currency_problem(chart, refund.currency)
    if problem:
        build.held.append(problem)
    sums: dict[str, Decimal] = {}
    categories: dict[str, Category] = {}
    tax = ZERO
    for row in refund.rows:
        atype, desc = norm(row.amount_type), norm(row.amount_description)
        if atype == "promotion":
            category = PROMOTIONS_SHIPPING if desc == "shipping" else PROMOTIONS
            is_tax = False
        else:
            category, is_tax = _REFUND_ROWS.get(desc, (REFUNDS, False))
        if is_tax and not inclusive:
            tax += -row.amount
            continue
        categories[category.key] = category
        sums[category.key] = sums.get(category.key, ZERO) + (-row.amount)
    for key, amount in sums.items():
        build.add(categories[key], categories[key].label, amount)
    if tax:
        facilitator = refund.marketplace_id == "ATVPDKIKX0DER"
        build.add(
            TAX_FACILITATOR if facilitator else TAX_COLLECTED,
            "Sales tax refunded" + (" (collected by Amazon)" if facilitator else ""),
            tax,
            taxed=False,
        )
    total = build.total()
    if not build.held and total != refund.amount:
        raise TotalsMismatch(f"refund {refund.part}: lines {total}, Amazon {refund.amount}")
    number = credit_note_number(refund.marketplace_id, refund.amazon_order_id, refund.part)
    payload: dict[str, Any] = {
        "Type": "ACCRECCREDIT",
        "Status": "AUTHORISED",
        "Contact": _contact_payload(contact, email),
        "Date": refund.posted.isoformat(),
        "CreditNoteNumber": number,
        "Reference": f"Refund {refund.amazon_order_id}",
        "CurrencyCode": refund.currency,
        "LineAmountTypes": "Inclusive" if inclusive else "Exclusive",
        "LineItems": [ln.payload() for ln in build.lines],
    }
    return Document(
        kind="credit_note",
        number=number,
        payload=payload,
        total=total,
        lines=tuple(build.lines),
        held_reasons=tuple(dict.fromkeys(build.held)),
        categories=tuple(build.categories.values()),
        amazon_total=refund.amount,
    )


def payment(*, amount: Decimal, day: date, clearing_account: str, reference: str) -> dict[str, Any]:
    """A payment of the parent document (invoice or credit note) from the clearing account."""
    return {
        "Date": day.isoformat(),
        "Amount": _money(amount),
        "Account": {"Code": clearing_account},
        "Reference": reference,
    }


def allocation(*, amount: Decimal, day: date) -> dict[str, Any]:
    """Part of a credit note applied to its order's invoice (the push adds the InvoiceID)."""
    return {"Amount": _money(amount), "Date": day.isoformat()}


def lines_total(lines: Sequence[Line]) -> Decimal:
    return sum((ln.amount for ln in lines), ZERO)

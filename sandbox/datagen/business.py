"""A seeded Amazon Business buyer: purchases as the Reconciliation API reports them.

Pure Python, no I/O, no clock: the same `BuyerSpec` gives the same transactions.

What the data shows (Reconciliation_API.json, version 2021-01-08):
- `transactions` are `Transaction` dicts, spec field names and string amounts: one CHARGE per
  shipment, REFUND (negative) for returned lines, OVERREFUND (negative) for an extra refund on
  top of a refund. Every transaction's `amount` equals the sum of its lines' `totalAmount`,
  and every line's `totalAmount` = principal + shipping + gift wrap + discount + tax.
- Several payment instruments: cards (last 4 digits), Pay by Invoice, and a gift-card balance
  used in split payments. One card (``4242``) is used only in the last few days: the hub must
  notice a payment method it has no mapping for.
- Split payments: a shipment paid with two instruments gives two CHARGE transactions, each
  naming the other in `associatedTransactionDetails`. The spec does not say how lines are
  shared between them; here each transaction carries whole lines, so the line-sum invariant
  holds for each.
- Pay by Invoice charges carry an `invoiceNumber`; `invoice_payments` holds what
  getBatchInvoicePaymentDetails returns for each (status and due date).
- `feedDate` (when a transaction becomes queryable) is after `transactionDate`; nothing has a
  feedDate after the end of the window. getTransactions filters on feedDate.

`paymentInstrumentType` strings for cards and gift cards are not documented by Amazon (the
sandbox example says "PayStation"); the values used here are plausible placeholders.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sandbox.datagen.ids import ALNUM, UPPER_DIGITS, seeded, token
from sandbox.datagen.money import dec, pct

__all__ = [
    "REGIONS",
    "BuyerDataset",
    "BuyerSpec",
    "InvoicePayment",
    "PaymentInstrument",
    "batch_invoice_payment_details",
    "generate_buyer",
    "transactions_page",
]

NEW_CARD_DAYS = 3  # the new card is used only in the last days of the window
MAX_INVOICE_IDS = 25  # getBatchInvoicePaymentDetails accepts 1 to 25 invoice ids


@dataclass(frozen=True)
class Region:
    marketplace_id: str
    currency: str
    country: str
    # (standard, reduced, zero) rates in parts per million; US: a state's rate, exempt, …
    tax_rates_ppm: tuple[int, ...]
    order_id_prefixes: tuple[int, ...]
    amazon_legal_name: str
    third_party_sellers: tuple[str, ...]
    legal_entity: str
    email_domain: str


REGIONS: dict[str, Region] = {
    "US": Region(
        marketplace_id="ATVPDKIKX0DER",
        currency="USD",
        country="US",
        tax_rates_ppm=(82_500, 0, 62_500, 88_750),
        order_id_prefixes=(111, 112, 113, 114),
        amazon_legal_name="Amazon.com Services LLC",
        third_party_sellers=("Office Depot Inc", "Acme Janitorial Supply LLC"),
        legal_entity="Contoso Trading LLC",
        email_domain="contoso.example",
    ),
    "UK": Region(
        marketplace_id="A1F83G8C2ARO7P",
        currency="GBP",
        country="GB",
        tax_rates_ppm=(200_000, 50_000, 0),
        order_id_prefixes=(202, 203, 204, 205, 206),
        amazon_legal_name="Amazon EU S.à r.l., UK Branch",
        third_party_sellers=("Viking Direct Ltd", "Bristol Paper Co Ltd"),
        legal_entity="Contoso Trading Ltd",
        email_domain="contoso.example",
    ),
    "DE": Region(
        marketplace_id="A1PA6795UKMFR9",
        currency="EUR",
        country="DE",
        tax_rates_ppm=(190_000, 70_000),
        order_id_prefixes=(302, 303, 304, 305, 306),
        amazon_legal_name="Amazon EU S.à r.l.",
        third_party_sellers=("Büroshop24 GmbH", "Papier Müller KG"),
        legal_entity="Contoso Handel GmbH",
        email_domain="contoso.example",
    ),
}


@dataclass(frozen=True, kw_only=True)
class BuyerSpec:
    seed: int = 1
    start: date
    days: int = 30
    purchases: int = 60
    region: str = "US"


@dataclass(frozen=True)
class PaymentInstrument:
    key: str  # stable handle for tests and mappings, e.g. "card-1111", "pay-by-invoice"
    payment_instrument_type: str  # the Transaction's paymentInstrumentType
    last4: str | None  # the Transaction's paymentInstrumentLast4Digits (cards only)
    label: str
    new: bool = False  # first used in the last NEW_CARD_DAYS days of the window


PAYMENT_INSTRUMENTS: tuple[PaymentInstrument, ...] = (
    PaymentInstrument("card-1111", "Visa", "1111", "Visa ending 1111 (corporate card)"),
    PaymentInstrument("card-5454", "MasterCard", "5454", "MasterCard ending 5454 (operations)"),
    PaymentInstrument("card-0005", "AmericanExpress", "0005", "Amex ending 0005 (travel)"),
    PaymentInstrument("card-4242", "Visa", "4242", "Visa ending 4242 (new card)", new=True),
    PaymentInstrument("pay-by-invoice", "PayByInvoice", None, "Pay by Invoice (net 30)"),
    PaymentInstrument("gift-card", "GiftCard", None, "Amazon Business gift card balance"),
)
_BY_KEY = {p.key: p for p in PAYMENT_INSTRUMENTS}
# Everyday choice among the old instruments (the gift card only appears in split payments).
_USUAL = (("card-1111", 50), ("card-5454", 20), ("card-0005", 10), ("pay-by-invoice", 20))


@dataclass(slots=True)
class InvoicePayment:
    """A Pay by Invoice invoice and its payment state as of the end of the window."""

    invoice_id: str
    currency: str
    amount: Decimal
    issued: datetime
    due_date: datetime
    status: str  # Closed, Past Due, Issued or Payment Processing
    paid_date: datetime | None = None  # not in the API; for assertions and the demo

    def to_api(self) -> dict[str, Any]:
        """A `SuccessInvoicePaymentDetailResult` of getBatchInvoicePaymentDetails."""
        return {
            "invoiceId": self.invoice_id,
            "resultType": "SUCCESS",
            "paymentDetails": {"status": self.status, "dueDate": _iso(self.due_date)},
        }


@dataclass(slots=True)
class BuyerDataset:
    spec: BuyerSpec
    now: datetime  # end of the window: no feedDate is after it
    region: str
    marketplace_id: str
    currency: str
    payment_instruments: list[PaymentInstrument]
    transactions: list[dict[str, Any]]  # Reconciliation API `Transaction`s, by feedDate
    invoice_payments: list[InvoicePayment]
    invoices_by_id: dict[str, InvoicePayment] = field(default_factory=dict)


def generate_buyer(spec: BuyerSpec) -> BuyerDataset:
    """Build the buyer's transactions for `spec` (deterministic, no clock, no I/O)."""
    if spec.region not in REGIONS:
        raise ValueError(f"unknown region {spec.region!r}; known: {sorted(REGIONS)}")
    if spec.days < 1 or spec.purchases < 0:
        raise ValueError("days must be >= 1 and purchases >= 0")
    region = REGIONS[spec.region]
    window_start = datetime.combine(spec.start, time(), tzinfo=UTC)
    now = window_start + timedelta(days=spec.days)
    gen = _Generator(seeded("buyer", spec.seed, spec.region), region, window_start, now)
    for n, ordered in enumerate(gen.purchase_times(spec.purchases)):
        gen.purchase(n, ordered, last=n == spec.purchases - 1)
    transactions = sorted(
        (t for t in gen.transactions if t["_feed"] <= now), key=lambda t: (t["_feed"], t["_seq"])
    )
    for t in transactions:
        del t["_feed"], t["_seq"]
    kept = {t["invoiceNumber"] for t in transactions}
    invoices = [i for i in gen.invoices if i.invoice_id in kept]
    return BuyerDataset(
        spec=spec,
        now=now,
        region=spec.region,
        marketplace_id=region.marketplace_id,
        currency=region.currency,
        payment_instruments=list(PAYMENT_INSTRUMENTS),
        transactions=transactions,
        invoice_payments=invoices,
        invoices_by_id={i.invoice_id: i for i in invoices},
    )


def transactions_page(
    dataset: BuyerDataset,
    *,
    feed_start: datetime | None = None,
    feed_end: datetime | None = None,
    next_page_token: str | None = None,
    page_size: int = 100,
) -> dict[str, Any]:
    """One getTransactions page (`TransactionsResponse`): feedStartDate <= feedDate < feedEndDate.

    With `next_page_token` the dates are taken from the token (the API wants the token alone).
    Raises ValueError for a missing range or a token this function did not issue.
    """
    if next_page_token is not None:
        feed_start, feed_end, offset = _decode_token(next_page_token)
    elif feed_start is None or feed_end is None:
        raise ValueError("feedStartDate and feedEndDate are required")
    else:
        offset = 0
    if feed_start.tzinfo is None or feed_end.tzinfo is None:
        raise ValueError("feed dates must be timezone-aware")
    matching = [
        t
        for t in dataset.transactions
        if feed_start <= datetime.fromisoformat(t["feedDate"]) < feed_end
    ]
    page = matching[offset : offset + page_size]
    response: dict[str, Any] = {"transactions": page}
    if offset + page_size < len(matching):
        response["nextPageToken"] = _encode_token(feed_start, feed_end, offset + page_size)
    return response


def batch_invoice_payment_details(dataset: BuyerDataset, invoice_ids: list[str]) -> dict[str, Any]:
    """getBatchInvoicePaymentDetails: SUCCESS for known invoices, ERROR for the others."""
    if not 1 <= len(invoice_ids) <= MAX_INVOICE_IDS:
        raise ValueError(f"invoiceIds must hold 1 to {MAX_INVOICE_IDS} ids")
    results = []
    for invoice_id in invoice_ids:
        invoice = dataset.invoices_by_id.get(invoice_id)
        if invoice is not None:
            results.append(invoice.to_api())
        else:
            results.append(
                {
                    "invoiceId": invoice_id,
                    "resultType": "ERROR",
                    "error": {"code": "NOT_FOUND", "message": "Invoice not found."},
                }
            )
    return {"invoicePaymentDetailsResults": results}


# --------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class _Product:
    asin: str
    title: str
    unspsc: str
    unit_cents: int
    tax_class: int  # index into the region's tax rates
    seller: int  # -1: Amazon itself, else an index into third_party_sellers


_PRODUCTS = (
    ("Copy Paper, A4/Letter, 5 Reams", "14111507", 3899, 0),
    ("Ballpoint Pens, Blue, 50-Pack", "44121701", 1249, 0),
    ("Ticonderoga Pencils #2, 24-Count", "44121706", 899, 0),
    ("USB-C Docking Station", "43211602", 18999, 0),
    ("Wireless Mouse", "43211708", 2499, 0),
    ("Toner Cartridge, Black, High Yield", "44103103", 11499, 0),
    ("Hand Sanitizer, 1 Gallon", "53131626", 2799, 0),
    ("Coffee Beans, 2 lb", "50201706", 2399, 1),
    ("Bottled Water, 24-Pack", "50202301", 699, 1),
    ("Accounting Handbook (Paperback)", "55101509", 5499, 2),
    ("First Aid Kit, 200 Pieces", "42172001", 3499, 1),
    ("Desk Chair, Mesh", "56101504", 24999, 0),
    ("Sticky Notes, 12 Pads", "14111514", 1099, 0),
    ("LED Desk Lamp", "39111503", 4599, 0),
    ("Shipping Boxes, 25-Pack", "24112404", 3299, 0),
)
# (name, e-mail local part, purchasing group, GL code, cost centre: blank for some, as in
# Amazon's own sandbox example)
_PEOPLE = (
    ("Dana Whitfield", "dana.whitfield", "Operations", "6200-facilities", "CC-200"),
    ("Priya Raman", "priya.raman", "Marketing", "6100-marketing", "CC-100"),
    ("Tomás Ortega", "tomas.ortega", "IT", "6300-it-equipment", "CC-300"),
    ("Jo Bauer", "jo.bauer", "Finance", "6400-office-supplies", ""),
)
_REFUND_REASONS = ("Damaged item", "No longer needed", "Wrong item was sent", "Defective")


class _Generator:
    """Holds the streams and counters while one buyer is generated."""

    def __init__(
        self, rng: random.Random, region: Region, window_start: datetime, now: datetime
    ) -> None:
        self.rng = rng
        self.region = region
        self.window_start = window_start
        self.now = now
        self.new_card_from = now - timedelta(days=NEW_CARD_DAYS)
        self.transactions: list[dict[str, Any]] = []
        self.invoices: list[InvoicePayment] = []
        self.products = [
            _Product(
                asin="B0" + token(rng, UPPER_DIGITS, 8),
                title=title,
                unspsc=unspsc,
                unit_cents=price,
                tax_class=min(cls, len(region.tax_rates_ppm) - 1),
                seller=rng.randrange(-1, len(region.third_party_sellers)),
            )
            for title, unspsc, price, cls in _PRODUCTS
        ]
        self.people = [
            {
                "id": "amzn1.account." + token(rng, UPPER_DIGITS, 28),
                "name": name,
                "email": f"{local}@{region.email_domain}",
                "group": group,
                "gl": gl,
                "cc": cc,
            }
            for name, local, group, gl, cc in _PEOPLE
        ]
        self.admin = {
            "id": "amzn1.account." + token(rng, UPPER_DIGITS, 28),
            "name": "Accounts Payable",
            "email": f"ap@{region.email_domain}",
        }
        self.seq = 0
        self.used_ids: set[str] = set()

    # ------------------------------------------------------------------ helpers

    def purchase_times(self, count: int) -> list[datetime]:
        span_ms = int((self.now - self.window_start).total_seconds()) * 1000
        times = sorted(
            self.window_start + timedelta(milliseconds=self.rng.randrange(span_ms))
            for _ in range(count)
        )
        if times:
            # The last purchase lands early in the new-card days, so that its charge (on the
            # new card) reaches the feed before the window ends.
            first = max(self.new_card_from, self.window_start)
            times[-1] = min(max(times[-1], first + timedelta(hours=1)), first + timedelta(hours=6))
            times.sort()
        return times

    def unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def money(self, cents: int) -> dict[str, str]:
        return {"currencyCode": self.region.currency, "amount": f"{dec(cents):.2f}"}

    def instrument_for(self, ordered: datetime, *, last: bool) -> PaymentInstrument:
        rng = self.rng
        if last or (ordered >= self.new_card_from and rng.random() < 0.6):
            return _BY_KEY["card-4242"]
        pick = rng.randrange(sum(w for _, w in _USUAL))
        for key, weight in _USUAL:
            if pick < weight:
                return _BY_KEY[key]
            pick -= weight
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ purchases

    def purchase(self, n: int, ordered: datetime, *, last: bool) -> None:
        rng, region = self.rng, self.region
        person = self.people[rng.randrange(len(self.people))]
        instrument = self.instrument_for(ordered, last=last)
        if n == 2 and not last:  # at least one Pay by Invoice purchase in every dataset
            instrument = _BY_KEY["pay-by-invoice"]
        order_id = self.unique(
            lambda: (
                f"{rng.choice(region.order_id_prefixes)}-{rng.randrange(10**7):07d}"
                f"-{rng.randrange(10**7):07d}"
            )
        )
        po = f"PO-{ordered.year}-{n + 1:04d}" if rng.random() < 0.6 else ""
        ship_rate = region.tax_rates_ppm[0]
        count = 2 + rng.randrange(3) if n == 0 else 1 + rng.randrange(5)
        lines = [self.line(order_id, po, k, person, ship_rate) for k in range(count)]
        shipments = [lines]
        if n != 0 and len(lines) >= 2 and rng.random() < 0.3:
            cut = 1 + rng.randrange(len(lines) - 1)
            shipments = [lines[:cut], lines[cut:]]
        for shipment_lines in shipments:
            self.charge(
                n,
                ordered,
                person,
                instrument,
                shipment_lines,
                ship_rate,
                split=(n == 0 or rng.random() < 0.12) and len(shipment_lines) >= 2,
            )

    def line(
        self, order_id: str, po: str, k: int, person: dict[str, str], ship_rate: int
    ) -> dict[str, Any]:
        rng, region = self.rng, self.region
        product = self.products[rng.randrange(len(self.products))]
        qty = 1 + rng.randrange(5) if rng.random() < 0.4 else 1
        rate = region.tax_rates_ppm[product.tax_class]
        principal = product.unit_cents * qty
        discount = -pct(principal, 50_000) if rng.random() < 0.1 else 0
        shipping = 499 if rng.random() < 0.15 else 0
        gift = 399 if rng.random() < 0.01 else 0
        info = {"GL code": person["gl"], "Cost center": person["cc"]}
        if rng.random() < 0.2:
            info["Project"] = rng.choice(("Q3 launch", "Office move", "Trade show"))
        return {
            "product": product,
            "qty": qty,
            "rate": rate,
            "principal": principal,
            "discount": discount,
            "shipping": shipping,
            "gift": gift,
            "tax": pct(principal + discount, rate) + pct(shipping + gift, ship_rate),
            "order_id": order_id,
            "order_line_item_id": self.unique(lambda: str(rng.randrange(10**13, 10**14))),
            "po": po,
            "po_line": str(k + 1) if po else "",
            "info": info,
        }

    def charge(
        self,
        n: int,
        ordered: datetime,
        person: dict[str, str],
        instrument: PaymentInstrument,
        lines: list[dict[str, Any]],
        ship_rate: int,
        *,
        split: bool,
    ) -> None:
        rng = self.rng
        shipped = ordered + timedelta(seconds=rng.randrange(3600, 30 * 3600))
        shipment_id = self.unique(lambda: token(rng, ALNUM, 9))
        if split:  # part of the shipment on the gift-card balance, the rest on the instrument
            cut = 1 + rng.randrange(len(lines) - 1)
            parts = [(_BY_KEY["gift-card"], lines[:cut]), (instrument, lines[cut:])]
        else:
            parts = [(instrument, lines)]
        made = [
            self.transaction(
                "CHARGE", shipped, person, paid_with, part, ship_rate, shipment_id, shipped
            )
            for paid_with, part in parts
        ]
        if len(made) > 1:
            for t in made:
                t["associatedTransactionDetails"] = [
                    {"associatedTransactionId": o["transactionId"]} for o in made if o is not t
                ]
        # Returns: some lines come back later, refunded to the instrument that paid them.
        for (paid_with, part), charge in zip(parts, made, strict=True):
            for k, line in enumerate(part):
                if (n == 0 and k == 0) or rng.random() < 0.07:
                    self.refund(
                        charge,
                        person,
                        paid_with,
                        line,
                        ship_rate,
                        shipment_id,
                        shipped,
                        overrefund=n == 0 or rng.random() < 0.25,
                    )

    def refund(
        self,
        charge: dict[str, Any],
        person: dict[str, str],
        instrument: PaymentInstrument,
        line: dict[str, Any],
        ship_rate: int,
        shipment_id: str,
        shipped: datetime,
        *,
        overrefund: bool,
    ) -> None:
        rng = self.rng
        when = charge["_feed"] + timedelta(seconds=rng.randrange(2 * 86_400, 12 * 86_400))
        qty = line["qty"] if line["qty"] == 1 or rng.random() < 0.5 else 1
        principal = line["product"].unit_cents * qty
        discount = line["discount"] * qty // line["qty"]
        shipping = line["shipping"] if qty == line["qty"] else 0
        back = dict(
            line,
            qty=qty,
            principal=-principal,
            discount=-discount,
            shipping=-shipping,
            gift=0,
            tax=-(pct(principal + discount, line["rate"]) + pct(shipping, ship_rate)),
            reason=rng.choice(_REFUND_REASONS),
        )
        refund = self.transaction(
            "REFUND", when, person, instrument, [back], ship_rate, shipment_id, shipped
        )
        if overrefund:
            # An extra refund on top, e.g. a goodwill credit for the trouble: price only.
            extra = max(100, pct(principal, 100_000))
            goodwill = dict(
                line,
                qty=0,
                principal=-extra,
                discount=0,
                shipping=0,
                gift=0,
                tax=0,
                reason="Goodwill credit",
            )
            later = refund["_feed"] + timedelta(seconds=rng.randrange(3600, 3 * 86_400))
            self.transaction(
                "OVERREFUND", later, person, instrument, [goodwill], ship_rate, shipment_id, shipped
            )

    def transaction(
        self,
        kind: str,
        when: datetime,
        person: dict[str, str],
        instrument: PaymentInstrument,
        lines: list[dict[str, Any]],
        ship_rate: int,
        shipment_id: str,
        shipped: datetime,
    ) -> dict[str, Any]:
        rng, region = self.rng, self.region
        items = [self.line_item(line, shipment_id, shipped) for line in lines]
        amount = sum(_line_total(line) for line in lines)
        feed = when + timedelta(seconds=rng.randrange(600, 20 * 3600))
        prefix = "CM" if kind != "CHARGE" else region.country
        invoice = self.unique(lambda: prefix + token(rng, UPPER_DIGITS, 10))
        pbi = instrument.key == "pay-by-invoice"
        data: dict[str, Any] = {
            "marketplaceId": region.marketplace_id,
            "transactionDate": _iso_ms(when),
            "feedDate": _iso_ms(feed),
            "transactionType": kind,
            "transactionId": self.unique(lambda: token(rng, ALNUM, 20)),
            "chargeIdentifier": self.unique(lambda: token(rng, UPPER_DIGITS, 9)),
            "shipTaxRate": _rate(ship_rate),
            "giftWrapTaxRate": _rate(ship_rate),
            "legalEntityName": region.legal_entity,
            "purchasingCustomerGroupName": person["group"],
            "invoiceNumber": invoice,
            "amount": self.money(amount),
            "paymentInstrumentType": instrument.payment_instrument_type,
            **(
                {"paymentInstrumentLast4Digits": instrument.last4}
                if instrument.last4 is not None
                else {}
            ),
            "buyer": {k: person[k] for k in ("id", "name", "email")},
            "payer": self.admin if pbi else {k: person[k] for k in ("id", "name", "email")},
            "transactionLineItems": items,
        }
        data["_feed"], data["_seq"] = feed, self.seq
        self.seq += 1
        self.transactions.append(data)
        if pbi and kind == "CHARGE":
            self.invoices.append(self.invoice(invoice, amount, when))
        return data

    def line_item(
        self, line: dict[str, Any], shipment_id: str, shipped: datetime
    ) -> dict[str, Any]:
        product: _Product = line["product"]
        region = self.region
        item: dict[str, Any] = {
            "totalAmount": self.money(_line_total(line)),
            "principalAmount": self.money(line["principal"]),
            "shippingCharge": self.money(line["shipping"]),
            "giftWrappingCharge": self.money(line["gift"]),
            "discount": self.money(line["discount"]),
            "tax": self.money(line["tax"]),
            "unitPrice": self.money(product.unit_cents),
            "taxRate": _rate(line["rate"]),
            "orderId": line["order_id"],
            "unspsc": product.unspsc,
            "orderLineItemId": line["order_line_item_id"],
            "purchaseOrderNumber": line["po"],
            "asin": product.asin,
            "productTitle": product.title,
            "itemQuantity": line["qty"],
            "shipmentId": shipment_id,
            "shipmentDate": _iso(shipped),
            "merchantLegalName": (
                region.amazon_legal_name
                if product.seller < 0
                else region.third_party_sellers[product.seller]
            ),
            "businessOrderInfo": dict(line["info"]),
        }
        if line["po_line"]:
            item["purchaseOrderLineItemId"] = line["po_line"]
        if "reason" in line:
            item["refundReason"] = line["reason"]
        return item

    def invoice(self, invoice_id: str, amount: int, issued: datetime) -> InvoicePayment:
        rng = self.rng
        due = datetime.combine(issued.date() + timedelta(days=30), time(23, 59, 59), tzinfo=UTC)
        paid: datetime | None = None
        if rng.random() < 0.75:
            paid = issued + timedelta(seconds=rng.randrange(5 * 86_400, 40 * 86_400))
            if paid > self.now:
                paid = None
        if paid is not None:
            status = "Payment Processing" if paid > self.now - timedelta(days=2) else "Closed"
        else:
            status = "Past Due" if due < self.now else "Issued"
        return InvoicePayment(
            invoice_id=invoice_id,
            currency=self.region.currency,
            amount=dec(amount),
            issued=issued,
            due_date=due,
            status=status,
            paid_date=paid,
        )


def _line_total(line: dict[str, Any]) -> int:
    return int(line["principal"] + line["shipping"] + line["gift"] + line["discount"] + line["tax"])


def _rate(ppm: int) -> str:
    """A tax rate as a decimal fraction string: 82_500 → "0.0825", 200_000 → "0.20"."""
    value = Decimal(ppm).scaleb(-6)
    places = max(2, -int(value.normalize().as_tuple().exponent))
    return f"{value:.{places}f}"


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ms(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as the Reconciliation API writes its dates."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _encode_token(start: datetime, end: datetime, offset: int) -> str:
    raw = json.dumps([start.isoformat(), end.isoformat(), offset]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(value: str) -> tuple[datetime, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        start, end, offset = json.loads(raw)
        return datetime.fromisoformat(start), datetime.fromisoformat(end), int(offset)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError("invalid nextPageToken") from exc

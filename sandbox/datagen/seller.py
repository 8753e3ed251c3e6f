"""A seeded Seller Central account: orders, refunds and the settlements they land in.

Pure Python, no I/O, no clock: the same `SellerSpec` gives the same dataset and byte-identical
settlement files. Everything is drawn from `random.Random` instances seeded from the spec.

Model (kept simple on purpose, and the same in every marketplace):
- Amounts are kept tax-exclusive (`item_price`), tax in its own field (`item_tax`) and its own
  settlement row. Tax is computed on the price after promotion, so `promotion_discount_tax` is
  always 0.00. The Orders API and the orders report show prices as Amazon shows them in each
  marketplace: tax-exclusive in the US (``ItemTax`` on top), VAT-inclusive in the UK and the EU
  (``ItemPrice`` includes the VAT that ``ItemTax`` states), so the buyer's total is
  ItemPrice + ShippingPrice + GiftWrapPrice - PromotionDiscount there.
- Each marketplace settles on its own 14-day cycle in its own currency (UK→GBP, DE→EUR,
  US→USD). A settlement is *closed* (it has a report and a deposit) once its end is at or before
  the end of the activity window; the period still running is an *open* settlement with no
  deposit, as SP-API shows it (ProcessingStatus "Open").
- US orders carry sales tax that Amazon collects as marketplace facilitator: each tax row is
  followed by an `ItemWithheldTax` row of the opposite sign, so tax nets to zero for the seller.
- Reserves: every closed settlement holds back 5% of its item sales ("Current Reserve Amount",
  negative) and releases the previous hold ("Previous Reserve Amount Balance", positive).
- One settlement per dataset (the quietest marketplace's second period) gets no sales and a
  subscription fee, so it is negative; its deposit is then a charge to the seller's card.
- Settlement-level fees the hub has never seen: see `UNKNOWN_FEE_DESCRIPTIONS`.

Invariants (asserted in tests/sandbox/test_datagen.py): for every settlement the rows sum to
`total_amount` exactly and the financial event group shows the same total; every Order/Refund
row ties to an order of the dataset with matching amounts.
"""

from __future__ import annotations

import bisect
import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sandbox.datagen.catalog import Product, make_catalog
from sandbox.datagen.ids import ALNUM, seeded, token
from sandbox.datagen.marketplaces import MARKETPLACES, Marketplace, iso_z
from sandbox.datagen.money import cents, dec, pct
from sandbox.datagen.reports import render_settlement_flat, render_settlement_v2
from sandbox.datagen.settlements import (
    UNKNOWN_FEE_DESCRIPTIONS,
    FinancialEventGroup,
    Period,
    Settlement,
    SettlementRow,
    close_periods,
    make_periods,
    post_order,
)

__all__ = [
    "MARKETPLACES",
    "UNKNOWN_FEE_DESCRIPTIONS",
    "FinancialEventGroup",
    "Marketplace",
    "Order",
    "OrderItem",
    "Refund",
    "RefundItem",
    "SellerDataset",
    "SellerSpec",
    "Settlement",
    "SettlementRow",
    "generate_seller",
    "render_settlement_flat",
    "render_settlement_v2",
]


@dataclass(frozen=True, kw_only=True)
class SellerSpec:
    seed: int = 1
    start: date
    days: int = 30
    orders: int = 200
    marketplaces: tuple[str, ...] = ("A1F83G8C2ARO7P", "A1PA6795UKMFR9", "ATVPDKIKX0DER")


# --------------------------------------------------------------------------- orders


@dataclass(slots=True)
class OrderItem:
    order_item_id: str
    seller_sku: str
    asin: str
    title: str
    quantity: int
    quantity_shipped: int
    currency: str
    item_price: Decimal
    item_tax: Decimal
    shipping_price: Decimal
    shipping_tax: Decimal
    gift_wrap_price: Decimal
    gift_wrap_tax: Decimal
    promotion_discount: Decimal
    promotion_discount_tax: Decimal
    promotion_ids: tuple[str, ...] = ()
    withheld_tax: bool = False  # marketplace facilitator: Amazon collects and remits the tax
    tax_inclusive: bool = False  # the API shows prices with their VAT (UK and EU marketplaces)
    # Amazon's fees on this item when it shipped: (amount-description, signed amount).
    fees: tuple[tuple[str, Decimal], ...] = ()

    @property
    def total(self) -> Decimal:
        """What the buyer paid for this item."""
        return (
            self.item_price
            + self.item_tax
            + self.shipping_price
            + self.shipping_tax
            + self.gift_wrap_price
            + self.gift_wrap_tax
            - self.promotion_discount
            - self.promotion_discount_tax
        )

    def to_api(self, *, include_prices: bool = True) -> dict[str, Any]:
        """An ordersV0 `OrderItem`. Pending orders return no prices, taxes or promotions."""
        data: dict[str, Any] = {
            "ASIN": self.asin,
            "SellerSKU": self.seller_sku,
            "OrderItemId": self.order_item_id,
            "Title": self.title,
            "QuantityOrdered": self.quantity,
            "QuantityShipped": self.quantity_shipped,
            "ProductInfo": {"NumberOfItems": "1"},
            "IsGift": "true" if self.gift_wrap_price else "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
        }
        if not include_prices:
            return data
        cur = self.currency
        inclusive = self.tax_inclusive
        data.update(
            {
                "ItemPrice": _money(cur, self.item_price + (self.item_tax if inclusive else 0)),
                "ItemTax": _money(cur, self.item_tax),
                "ShippingPrice": _money(
                    cur, self.shipping_price + (self.shipping_tax if inclusive else 0)
                ),
                "ShippingTax": _money(cur, self.shipping_tax),
                "ShippingDiscount": _money(cur, dec(0)),
                "ShippingDiscountTax": _money(cur, dec(0)),
                "PromotionDiscount": _money(
                    cur,
                    self.promotion_discount + (self.promotion_discount_tax if inclusive else 0),
                ),
                "PromotionDiscountTax": _money(cur, self.promotion_discount_tax),
            }
        )
        if self.promotion_ids:
            data["PromotionIds"] = list(self.promotion_ids)
        if self.gift_wrap_price:
            data["BuyerInfo"] = {
                "GiftWrapPrice": _money(
                    cur, self.gift_wrap_price + (self.gift_wrap_tax if inclusive else 0)
                ),
                "GiftWrapTax": _money(cur, self.gift_wrap_tax),
                "GiftWrapLevel": "Classic",
            }
        if self.withheld_tax and self.item_tax:
            data["TaxCollection"] = {
                "Model": "MarketplaceFacilitator",
                "ResponsibleParty": "Amazon Services, Inc.",
            }
        return data


@dataclass(slots=True)
class RefundItem:
    """Amounts given back to the buyer (positive); `promotion` is the discount taken back."""

    order_item_id: str
    seller_sku: str
    quantity: int
    principal: Decimal
    tax: Decimal
    shipping: Decimal
    shipping_tax: Decimal
    gift_wrap: Decimal
    gift_wrap_tax: Decimal
    promotion: Decimal

    @property
    def amount(self) -> Decimal:
        return (
            self.principal
            + self.tax
            + self.shipping
            + self.shipping_tax
            + self.gift_wrap
            + self.gift_wrap_tax
            - self.promotion
        )


@dataclass(slots=True)
class Refund:
    adjustment_id: str
    posted_date: datetime
    full: bool
    items: list[RefundItem]

    @property
    def amount(self) -> Decimal:
        return sum((item.amount for item in self.items), dec(0))


@dataclass(slots=True)
class Order:
    amazon_order_id: str
    seller_order_id: str
    marketplace_id: str
    sales_channel: str
    currency: str
    purchase_date: datetime
    last_update_date: datetime
    status: str  # Shipped, Canceled, Unshipped or Pending
    fulfillment_channel: str  # AFN or MFN
    order_total: Decimal
    items: list[OrderItem]
    shipment_id: str = ""
    shipped_date: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)
    is_business_order: bool = False
    is_prime: bool = False
    buyer_email: str = ""
    buyer_name: str = ""
    purchase_order_number: str = ""
    ship_city: str = ""
    ship_state: str = ""
    ship_postal_code: str = ""
    ship_country: str = ""

    def to_api(self) -> dict[str, Any]:
        """An ordersV0 `Order`, as getOrders / getOrder return it."""
        shipped = sum(i.quantity_shipped for i in self.items)
        ordered = sum(i.quantity for i in self.items)
        latest_ship = self.purchase_date + timedelta(days=2)
        data: dict[str, Any] = {
            "AmazonOrderId": self.amazon_order_id,
            "PurchaseDate": iso_z(self.purchase_date),
            "LastUpdateDate": iso_z(self.last_update_date),
            "OrderStatus": self.status,
            "FulfillmentChannel": self.fulfillment_channel,
            "SalesChannel": self.sales_channel,
            "ShipServiceLevel": "Expedited" if self.is_prime else "Standard",
            "NumberOfItemsShipped": shipped,
            "NumberOfItemsUnshipped": 0 if self.status == "Canceled" else ordered - shipped,
            "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"],
            "MarketplaceId": self.marketplace_id,
            "ShipmentServiceLevelCategory": "Expedited" if self.is_prime else "Standard",
            "OrderType": "StandardOrder",
            "EarliestShipDate": iso_z(self.purchase_date),
            "LatestShipDate": iso_z(latest_ship),
            "IsBusinessOrder": self.is_business_order,
            "IsPrime": self.is_prime,
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
            "ShippingAddress": {
                "City": self.ship_city,
                "StateOrRegion": self.ship_state,
                "PostalCode": self.ship_postal_code,
                "CountryCode": self.ship_country,
            },
        }
        if self.seller_order_id:
            data["SellerOrderId"] = self.seller_order_id
        if self.status not in ("Pending", "Canceled"):
            data["OrderTotal"] = _money(self.currency, self.order_total)
        buyer: dict[str, str] = {}
        if self.buyer_email:
            buyer["BuyerEmail"] = self.buyer_email
        if self.buyer_name:
            buyer["BuyerName"] = self.buyer_name
        if self.purchase_order_number:
            buyer["PurchaseOrderNumber"] = self.purchase_order_number
        if buyer:
            data["BuyerInfo"] = buyer
        return data

    def items_to_api(self) -> list[dict[str, Any]]:
        """The order's ordersV0 `OrderItem`s (getOrderItems' `OrderItems`)."""
        priced = self.status != "Pending"
        return [item.to_api(include_prices=priced) for item in self.items]


@dataclass(slots=True)
class SellerDataset:
    spec: SellerSpec
    now: datetime  # end of the activity window; nothing is dated after it
    orders: list[Order]
    settlements: list[Settlement]  # closed: each has a report and a deposit
    open_settlements: list[Settlement]  # the period still running, per marketplace
    financial_event_groups: list[FinancialEventGroup]
    orders_by_id: dict[str, Order] = field(default_factory=dict)


def generate_seller(spec: SellerSpec) -> SellerDataset:
    """Build the whole seller dataset for `spec` (deterministic, no clock, no I/O)."""
    unknown = [m for m in spec.marketplaces if m not in MARKETPLACES]
    if unknown:
        raise ValueError(f"unknown marketplace ids: {unknown}")
    if spec.days < 1 or spec.orders < 0:
        raise ValueError("days must be >= 1 and orders >= 0")
    with _gc_paused():
        return _generate(spec)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Millions of small objects would trigger many full collections (2-3x slower); none of
    them form cycles, so pause the cycle collector while building and restore it after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _generate(spec: SellerSpec) -> SellerDataset:
    window_start = datetime.combine(spec.start, time(), tzinfo=UTC)
    now = window_start + timedelta(days=spec.days)
    mps = [MARKETPLACES[m] for m in dict.fromkeys(spec.marketplaces)]
    catalog = make_catalog(seeded("catalog", spec.seed))
    periods = make_periods(seeded("periods", spec.seed), mps, window_start, now)
    orders = _orders(seeded("orders", spec.seed), spec, mps, catalog, periods, window_start, now)
    for order in orders:
        post_order(order, periods[order.marketplace_id])
    settlements, open_settlements, groups = close_periods(
        spec.seed, periods, catalog, now, first_marketplace=mps[0].marketplace_id if mps else ""
    )
    return SellerDataset(
        spec=spec,
        now=now,
        orders=orders,
        settlements=settlements,
        open_settlements=open_settlements,
        financial_event_groups=groups,
        orders_by_id={o.amazon_order_id: o for o in orders},
    )


def _orders(
    rng: random.Random,
    spec: SellerSpec,
    mps: list[Marketplace],
    catalog: list[Product],
    periods: dict[str, list[Period]],
    window_start: datetime,
    now: datetime,
) -> list[Order]:
    if not mps:
        return []
    span = int((now - window_start).total_seconds())
    weights = [m.order_weight for m in mps]
    cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
    total_weight = cumulative[-1]
    quiet = [p for ps in periods.values() for p in ps if p.quiet]
    lead = timedelta(days=3)  # orders shortly before the quiet period would ship into it
    rnd = rng.random
    seconds = sorted([int(rnd() * span) for _ in range(spec.orders)])
    used_ids: set[str] = set()
    orders = []
    for n, offset in enumerate(seconds):
        purchased = window_start + timedelta(seconds=offset)
        mp_index = bisect.bisect_right(cumulative, rnd() * total_weight)
        mp = mps[mp_index]
        for q in quiet:
            if q.marketplace is mp and q.start - lead <= purchased < q.end:
                if len(mps) > 1:
                    mp = mps[(mp_index + 1) % len(mps)]
                else:  # a single marketplace: move the sale out of the quiet period
                    later = q.end + timedelta(seconds=offset % 86_400)
                    purchased = later if later < now else q.start - lead - timedelta(hours=1)
                    purchased = max(purchased, window_start)
        orders.append(_order(rng, n, mp, catalog, purchased, now, used_ids))
    orders.sort(key=lambda o: o.purchase_date)
    return orders


_FIRST_NAMES = ("Alex", "Sam", "Jamie", "Chris", "Robin", "Kim", "Lena", "Jonas", "Maria", "Tom")
_LAST_NAMES = ("Smith", "Müller", "Jones", "Schmidt", "Brown", "Garcia", "Taylor", "Fischer")


def _order(
    rng: random.Random,
    n: int,
    mp: Marketplace,
    catalog: list[Product],
    purchased: datetime,
    now: datetime,
    used_ids: set[str],
) -> Order:
    # int(rnd() * n) rather than randrange/choice: the same determinism, a fraction of the cost.
    rnd = rng.random
    prefixes = mp.order_id_prefixes
    while True:
        order_id = (
            f"{prefixes[int(rnd() * len(prefixes))]}-{int(rnd() * 10**7):07d}"
            f"-{int(rnd() * 10**7):07d}"
        )
        if order_id not in used_ids:
            used_ids.add(order_id)
            break
    afn = rnd() < 0.75
    factor = mp.price_factor_pct
    rates = mp.tax_rates_ppm
    rate = rates[int(rnd() * len(rates))] if mp.facilitator_tax else rates[0]
    ship_to = mp.ship_to[int(rnd() * len(mp.ship_to))]

    # Status first: it decides whether items are shipped.
    shipped_at = purchased + timedelta(seconds=7200 + int(rnd() * 46 * 3600))
    if rnd() < 0.03:
        status = "Canceled"
        last_update = min(purchased + timedelta(seconds=600 + int(rnd() * 85_800)), now)
        shipped_date = None
    elif shipped_at > now:
        status = "Pending" if now - purchased < timedelta(hours=8) and rnd() < 0.6 else "Unshipped"
        last_update = purchased + timedelta(seconds=60 + int(rnd() * 540))
        last_update = min(last_update, now)
        shipped_date = None
    else:
        status = "Shipped"
        last_update = shipped_at
        shipped_date = shipped_at

    r = rnd()
    count = 1 if r < 0.8 else 2 if r < 0.95 else 3
    items = []
    total = 0
    for _ in range(count):
        product = catalog[int(rnd() * len(catalog))]
        qty = 1 if rnd() < 0.85 else 2 + int(rnd() * 2)
        unit = (product.usd_cents * factor + 50) // 100 // 100 * 100 + 99
        price = unit * qty
        promo = pct(price, 100_000) if rnd() < 0.08 else 0
        tax = pct(price - promo, rate)
        ship = 0
        if (not afn and rnd() < 0.6) or (afn and rnd() < 0.08):
            ship = (399 * factor + 50) // 100
        ship_tax = pct(ship, rate)
        gift = (299 * factor + 50) // 100 if rnd() < 0.03 else 0
        gift_tax = pct(gift, rate)
        fees = _item_fees(rng, mp, product, afn, qty, price, tax, ship, ship_tax, gift, promo)
        total += price + tax + ship + ship_tax + gift + gift_tax - promo
        items.append(
            OrderItem(
                order_item_id=f"{10**13 + int(rnd() * 9 * 10**13)}",
                seller_sku=product.sku,
                asin=product.asin,
                title=product.title,
                quantity=qty,
                quantity_shipped=qty if status == "Shipped" else 0,
                currency=mp.currency,
                item_price=dec(price),
                item_tax=dec(tax),
                shipping_price=dec(ship),
                shipping_tax=dec(ship_tax),
                gift_wrap_price=dec(gift),
                gift_wrap_tax=dec(gift_tax),
                promotion_discount=dec(promo),
                promotion_discount_tax=dec(0),
                promotion_ids=(f"PLM-{mp.country}-{int(rnd() * 10**6):06d}",) if promo else (),
                withheld_tax=mp.facilitator_tax,
                tax_inclusive=mp.region != "NA",
                fees=fees,
            )
        )

    business = rnd() < 0.05
    buyer_email = ""
    if rnd() < 0.5:
        buyer_email = f"{rng.getrandbits(60):015x}@marketplace.{mp.sales_channel.lower()}"
    buyer_name = ""
    if rnd() < 0.3:
        buyer_name = (
            f"{_FIRST_NAMES[int(rnd() * len(_FIRST_NAMES))]} "
            f"{_LAST_NAMES[int(rnd() * len(_LAST_NAMES))]}"
        )
    order = Order(
        amazon_order_id=order_id,
        seller_order_id=order_id if afn else f"SO-{n + 1:06d}",
        marketplace_id=mp.marketplace_id,
        sales_channel=mp.sales_channel,
        currency=mp.currency,
        purchase_date=purchased,
        last_update_date=last_update,
        status=status,
        fulfillment_channel="AFN" if afn else "MFN",
        order_total=dec(total),
        items=items,
        shipment_id="D" + token(rng, ALNUM, 8) if shipped_date else "",
        shipped_date=shipped_date,
        is_business_order=business,
        is_prime=afn and rnd() < 0.6,
        buyer_email=buyer_email,
        buyer_name=buyer_name,
        purchase_order_number=f"PO-{int(rnd() * 10**5):05d}" if business else "",
        ship_city=ship_to[0],
        ship_state=ship_to[1],
        ship_postal_code=ship_to[2],
        ship_country=mp.country,
    )
    if shipped_date is not None and rnd() < 0.06:
        refunded_at = shipped_date + timedelta(seconds=2 * 86_400 + int(rnd() * 23 * 86_400))
        if refunded_at <= now:
            order.refunds.append(_refund(rng, order, refunded_at))
            order.last_update_date = refunded_at
    return order


def _item_fees(
    rng: random.Random,
    mp: Marketplace,
    product: Product,
    afn: bool,
    qty: int,
    price: int,
    tax: int,
    ship: int,
    ship_tax: int,
    gift: int,
    promo: int,
) -> tuple[tuple[str, Decimal], ...]:
    base = price + ship + gift - promo
    if not mp.facilitator_tax:  # EU referral fees are charged on the VAT-inclusive price
        base += tax + ship_tax
    fees = [("Commission", -pct(base, product.referral_ppm))]
    if afn:
        fees.append(
            (
                "FBAPerUnitFulfillmentFee",
                -((product.fba_cents * mp.price_factor_pct + 50) // 100) * qty,
            )
        )
        if ship:
            fees.append(("ShippingChargeback", -ship))
        if gift:
            fees.append(("GiftwrapChargeback", -gift))
    if product.media:
        fees.append(("FixedClosingFee", -((180 * mp.price_factor_pct + 50) // 100) * qty))
    if mp.country == "GB":  # UK digital services tax passed on by Amazon: 2% of the fees
        fees.append(("DigitalServicesFee", pct(sum(c for _, c in fees), 20_000)))
    if rng.random() < 0.002:
        fees.append((UNKNOWN_FEE_DESCRIPTIONS[1], -5 - int(rng.random() * 55)))
    return tuple((name, dec(cents)) for name, cents in fees if cents)


def _refund(rng: random.Random, order: Order, when: datetime) -> Refund:
    full = rng.random() < 0.6
    items = []
    for item in order.items if full else order.items[:1]:
        if full:
            share_ppm = 1_000_000
            items.append(
                RefundItem(
                    order_item_id=item.order_item_id,
                    seller_sku=item.seller_sku,
                    quantity=item.quantity,
                    principal=item.item_price,
                    tax=item.item_tax,
                    shipping=item.shipping_price,
                    shipping_tax=item.shipping_tax,
                    gift_wrap=item.gift_wrap_price,
                    gift_wrap_tax=item.gift_wrap_tax,
                    promotion=item.promotion_discount,
                )
            )
        else:  # a partial refund of the first item's price (damaged, late, …)
            share_ppm = rng.choice((200_000, 250_000, 500_000))
            items.append(
                RefundItem(
                    order_item_id=item.order_item_id,
                    seller_sku=item.seller_sku,
                    quantity=0,
                    principal=dec(pct(cents(item.item_price), share_ppm)),
                    tax=dec(pct(cents(item.item_tax), share_ppm)),
                    shipping=dec(0),
                    shipping_tax=dec(0),
                    gift_wrap=dec(0),
                    gift_wrap_tax=dec(0),
                    promotion=dec(0),
                )
            )
    return Refund(
        adjustment_id=f"{rng.randrange(10**13, 10**14)}",
        posted_date=when,
        full=full,
        items=items,
    )


def _money(currency: str, amount: Decimal) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": f"{amount:.2f}"}

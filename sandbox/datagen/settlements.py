"""Settlements: 14-day periods per marketplace, the rows that land in them, and their totals.

Each marketplace settles on its own cycle in its own currency. Order and refund rows are posted
into the period containing their timestamp; account-level rows (subscription, storage,
advertising, reimbursements, reserves, fees the hub has never seen) are added per period.
The total of a settlement is the sum of its rows, and its financial event group shows it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.datagen.catalog import Product
from sandbox.datagen.ids import B64URL, UPPER_DIGITS, seeded, token
from sandbox.datagen.marketplaces import Marketplace, iso_z
from sandbox.datagen.money import cents, dec, pct

if TYPE_CHECKING:
    from sandbox.datagen.seller import Order, Refund

SETTLEMENT_DAYS = 14
# Fee descriptions no mapping table knows yet; they must end in suspense, never be dropped.
UNKNOWN_FEE_DESCRIPTIONS = ("NewFeeType2026", "NewItemFee2026")


@dataclass(slots=True)
class SettlementRow:
    transaction_type: str
    order_id: str
    merchant_order_id: str
    adjustment_id: str
    shipment_id: str
    marketplace_name: str  # blank on account-level rows, as in real files
    amount_type: str
    amount_description: str
    amount: Decimal
    fulfillment_id: str
    posted_date: datetime
    order_item_code: str
    sku: str
    quantity_purchased: int | None
    promotion_id: str
    merchant_order_item_id: str = ""
    merchant_adjustment_item_id: str = ""


@dataclass(slots=True)
class Settlement:
    settlement_id: str
    marketplace_id: str
    currency: str
    start: datetime
    end: datetime
    deposit_date: datetime | None  # None while the settlement is open
    total_amount: Decimal
    rows: list[SettlementRow]
    processing_status: str = "Closed"
    financial_event_group_id: str = ""


@dataclass(slots=True)
class FinancialEventGroup:
    financial_event_group_id: str
    settlement_id: str
    processing_status: str  # Open or Closed
    fund_transfer_status: str
    currency: str
    original_total: Decimal
    beginning_balance: Decimal
    start: datetime
    end: datetime | None
    fund_transfer_date: datetime | None
    trace_id: str
    account_tail: str

    def to_api(self) -> dict[str, Any]:
        """A financesV0 `FinancialEventGroup`. `CurrencyAmount` is a JSON number in the API:
        it is left as a `Decimal` here; serialise it as a number, never through float."""
        total = {"CurrencyCode": self.currency, "CurrencyAmount": self.original_total}
        data: dict[str, Any] = {
            "FinancialEventGroupId": self.financial_event_group_id,
            "ProcessingStatus": self.processing_status,
            "FundTransferStatus": self.fund_transfer_status,
            "OriginalTotal": total,
            "ConvertedTotal": dict(total),
            "BeginningBalance": {
                "CurrencyCode": self.currency,
                "CurrencyAmount": self.beginning_balance,
            },
            "FinancialEventGroupStart": iso_z(self.start),
        }
        if self.end is not None:
            data["FinancialEventGroupEnd"] = iso_z(self.end)
        if self.fund_transfer_date is not None:
            data["FundTransferDate"] = iso_z(self.fund_transfer_date)
            data["TraceId"] = self.trace_id
            data["AccountTail"] = self.account_tail
        return data


@dataclass(slots=True)
class Period:
    marketplace: Marketplace
    index: int
    start: datetime
    end: datetime
    closed: bool
    quiet: bool = False
    chunks: list[tuple[datetime, int, list[SettlementRow]]] = field(default_factory=list)
    sales_cents: int = 0


def make_periods(
    rng: random.Random, mps: list[Marketplace], window_start: datetime, now: datetime
) -> dict[str, list[Period]]:
    """14-day settlement periods per marketplace, the first starting just before the window."""
    cycle = timedelta(days=SETTLEMENT_DAYS)
    result: dict[str, list[Period]] = {}
    for idx, mp in enumerate(mps):
        start = window_start - timedelta(days=idx + 1) + timedelta(seconds=rng.randrange(86_400))
        periods: list[Period] = []
        while start < now:
            end = start + cycle
            periods.append(Period(mp, len(periods), start, end, closed=end <= now))
            start = end
        result[mp.marketplace_id] = periods
    # The quietest marketplace's second closed period (or first) gets no sales: negative.
    quiet_mp = min(reversed(mps), key=lambda m: m.order_weight, default=None)
    if quiet_mp is not None:
        closed = [p for p in result[quiet_mp.marketplace_id] if p.closed]
        if closed:
            closed[min(1, len(closed) - 1)].quiet = True
    return result


def period_at(periods: list[Period], when: datetime) -> Period:
    """The period of one marketplace that contains `when` (periods are contiguous)."""
    index = int((when - periods[0].start) / timedelta(days=SETTLEMENT_DAYS))
    return periods[min(max(index, 0), len(periods) - 1)]


def post_order(order: Order, periods: list[Period]) -> None:
    """Put the order's shipment and refund rows into the settlement periods they fall in."""
    if order.shipped_date is not None:
        period = period_at(periods, order.shipped_date)
        rows = _order_rows(order, period.marketplace)
        period.chunks.append((order.shipped_date, len(period.chunks), rows))
        period.sales_cents += sum(cents(i.item_price) for i in order.items)
    for refund in order.refunds:
        period = period_at(periods, refund.posted_date)
        rows = _refund_rows(order, refund, period.marketplace)
        period.chunks.append((refund.posted_date, len(period.chunks), rows))


def _order_rows(order: Order, mp: Marketplace) -> list[SettlementRow]:
    posted = order.shipped_date
    assert posted is not None
    rows: list[SettlementRow] = []
    code = sku = ""

    def add(
        amount_type: str, desc: str, amount: Decimal, qty: int | None = None, promo: str = ""
    ) -> None:
        # fmt: off
        rows.append(SettlementRow(
            "Order", order.amazon_order_id, order.seller_order_id, "", order.shipment_id,
            mp.sales_channel, amount_type, desc, amount, order.fulfillment_channel, posted,
            code, sku, qty, promo,
        ))
        # fmt: on

    for item in order.items:
        code, sku = item.order_item_id, item.seller_sku
        add("ItemPrice", "Principal", item.item_price, item.quantity)
        for desc, amount in (
            ("Tax", item.item_tax),
            ("Shipping", item.shipping_price),
            ("ShippingTax", item.shipping_tax),
            ("GiftWrap", item.gift_wrap_price),
            ("GiftWrapTax", item.gift_wrap_tax),
        ):
            if amount:
                add("ItemPrice", desc, amount)
        if mp.facilitator_tax:  # Amazon withholds the tax it collected: nets to zero
            for desc, amount in (
                ("MarketplaceFacilitatorTax-Principal", item.item_tax),
                ("MarketplaceFacilitatorTax-Shipping", item.shipping_tax),
                ("MarketplaceFacilitatorTax-Other", item.gift_wrap_tax),
            ):
                if amount:
                    add("ItemWithheldTax", desc, -amount)
        if item.promotion_discount:
            add("Promotion", "Principal", -item.promotion_discount, None, item.promotion_ids[0])
        for desc, amount in item.fees:
            add("ItemFees", desc, amount)
    return rows


def _refund_rows(order: Order, refund: Refund, mp: Marketplace) -> list[SettlementRow]:
    rows: list[SettlementRow] = []
    code = sku = ""

    def add(amount_type: str, desc: str, amount: Decimal, promo: str = "") -> None:
        # fmt: off
        rows.append(SettlementRow(
            "Refund", order.amazon_order_id, order.seller_order_id, refund.adjustment_id, "",
            mp.sales_channel, amount_type, desc, amount, order.fulfillment_channel,
            refund.posted_date, code, sku, None, promo,
        ))
        # fmt: on

    items = {i.order_item_id: i for i in order.items}
    for part in refund.items:
        item = items[part.order_item_id]
        code, sku = part.order_item_id, part.seller_sku
        for desc, amount in (
            ("Principal", part.principal),
            ("Tax", part.tax),
            ("Shipping", part.shipping),
            ("ShippingTax", part.shipping_tax),
            ("GiftWrap", part.gift_wrap),
            ("GiftWrapTax", part.gift_wrap_tax),
        ):
            if amount:
                add("ItemPrice", desc, -amount)
        if mp.facilitator_tax:
            for desc, amount in (
                ("MarketplaceFacilitatorTax-Principal", part.tax),
                ("MarketplaceFacilitatorTax-Shipping", part.shipping_tax),
                ("MarketplaceFacilitatorTax-Other", part.gift_wrap_tax),
            ):
                if amount:
                    add("ItemWithheldTax", desc, amount)
        if part.promotion:
            add("Promotion", "Principal", part.promotion, item.promotion_ids[0])
        # Amazon gives the referral fee back in proportion and keeps a refund
        # administration fee: 20% of what it gives back, at most 5.00.
        commission = -sum(cents(a) for d, a in item.fees if d == "Commission")
        if refund.full:
            back = commission
        else:
            back = commission * cents(part.principal) // max(cents(item.item_price), 1)
        if back:
            add("ItemFees", "Commission", dec(back))
            add("ItemFees", "RefundCommission", dec(-min(pct(back, 200_000), 500)))
    return rows


def _account_row(
    posted: datetime,
    amount_cents: int,
    description: str,
    *,
    transaction_type: str = "other-transaction",
    amount_type: str = "other-transaction",
    sku: str = "",
    quantity: int | None = None,
) -> SettlementRow:
    return SettlementRow(
        transaction_type,
        "",
        "",
        "",
        "",
        "",
        amount_type,
        description,
        dec(amount_cents),
        "",
        posted,
        "",
        sku,
        quantity,
        "",
    )


def _other_rows(
    rng: random.Random,
    period: Period,
    catalog: list[Product],
    previous_hold: int,
    *,
    force_unknown: bool,
) -> tuple[list[tuple[datetime, int, list[SettlementRow]]], int]:
    """Account-level rows of one period; returns (timed chunks, amount held in reserve)."""
    mp, start, end = period.marketplace, period.start, period.end
    factor = mp.price_factor_pct
    chunks: list[tuple[datetime, int, list[SettlementRow]]] = []

    def at(row: SettlementRow) -> None:
        # Sequence numbers after the order chunks': a tie on the timestamp stays stable.
        chunks.append((row.posted_date, 10**9 + len(chunks), [row]))

    def when(low_h: int, high_h: int) -> datetime:
        return start + timedelta(seconds=rng.randrange(low_h * 3600, high_h * 3600))

    if previous_hold:
        at(
            _account_row(
                start + timedelta(seconds=1), previous_hold, "Previous Reserve Amount Balance"
            )
        )
    if period.index % 2 == 0 or period.quiet:
        at(_account_row(when(24, 48), -mp.subscription_fee_cents, "Subscription Fee"))
    if period.index % 2 == 1:
        base = max(300, period.sales_cents // 150)
        at(
            _account_row(
                when(72, 120), -rng.randrange(base, 2 * base) * factor // 100, "Storage Fee"
            )
        )
        if rng.random() < 0.2:
            at(_account_row(when(72, 120), -rng.randrange(200, 3000), "FBA Long-Term Storage Fee"))
    if rng.random() < 0.4:
        product = catalog[rng.randrange(len(catalog))]
        reason = rng.choice(("WAREHOUSE_DAMAGE", "WAREHOUSE_LOST", "FREE_REPLACEMENT_REFUND_ITEMS"))
        qty = rng.randrange(1, 4)
        unit = (product.usd_cents * factor // 100) * 6 // 10
        at(
            _account_row(
                when(24, 300),
                unit * qty,
                reason,
                amount_type="FBA Inventory Reimbursement",
                sku=product.sku,
                quantity=qty,
            )
        )
    if force_unknown or rng.random() < 0.25:
        at(_account_row(when(24, 300), -rng.randrange(50, 900), UNKNOWN_FEE_DESCRIPTIONS[0]))
    hold = 0 if period.quiet else pct(period.sales_cents, 50_000)
    if not period.quiet and rng.random() < 0.7:
        spend = rng.randrange(1000, 5000) + period.sales_cents * 3 // 100
        at(
            _account_row(
                when(200, 320),
                -spend,
                "TransactionTotalAmount",
                transaction_type="ServiceFee",
                amount_type="Cost of Advertising",
            )
        )
    if period.closed and hold:
        at(_account_row(end - timedelta(seconds=1), -hold, "Current Reserve Amount"))
    return chunks, hold if period.closed else previous_hold


def close_periods(
    seed: int,
    periods: dict[str, list[Period]],
    catalog: list[Product],
    now: datetime,
    *,
    first_marketplace: str,
) -> tuple[list[Settlement], list[Settlement], list[FinancialEventGroup]]:
    """Turn the filled periods into settlements (closed and open) and financial event groups."""
    ids = seeded("ids", seed)
    everything = sorted(
        (p for ps in periods.values() for p in ps),
        key=lambda p: (p.end, p.marketplace.marketplace_id),
    )
    # Settlement ids grow with time across marketplaces, as Amazon's do.
    settlement_ids: dict[tuple[str, int], str] = {}
    next_id = ids.randrange(10**10, 2 * 10**10)
    for p in everything:
        settlement_ids[p.marketplace.marketplace_id, p.index] = str(next_id)
        next_id += ids.randrange(1_000, 90_000)
    bank_tail = f"{ids.randrange(1000):03d}"
    card_tail = f"{ids.randrange(10_000):04d}"

    closed: list[Settlement] = []
    open_: list[Settlement] = []
    groups: list[FinancialEventGroup] = []
    for mp_id, mp_periods in periods.items():
        closed_periods = [p for p in mp_periods if p.closed]
        forced = closed_periods[-1] if mp_id == first_marketplace and closed_periods else None
        hold = 0
        for period in mp_periods:
            rng = seeded("settle", seed, mp_id, period.index)
            previous_hold = hold
            others, hold = _other_rows(
                rng, period, catalog, previous_hold, force_unknown=period is forced
            )
            chunks = [c for c in period.chunks + others if c[0] <= now]
            chunks.sort(key=lambda c: (c[0], c[1]))
            rows = [row for _, _, chunk in chunks for row in chunk]
            total = sum((r.amount for r in rows), dec(0))
            if period.quiet and total >= 0:
                # Advertising bought in a quiet fortnight: fees exceed sales.
                extra = cents(total) + rng.randrange(500, 4000)
                rows.append(
                    _account_row(
                        period.end - timedelta(hours=2),
                        -extra,
                        "TransactionTotalAmount",
                        transaction_type="ServiceFee",
                        amount_type="Cost of Advertising",
                    )
                )
                rows.sort(key=lambda r: r.posted_date)
                total = sum((r.amount for r in rows), dec(0))
            group_id = token(ids, B64URL, 43)
            settlement = Settlement(
                settlement_id=settlement_ids[mp_id, period.index],
                marketplace_id=mp_id,
                currency=period.marketplace.currency,
                start=period.start,
                end=period.end,
                deposit_date=period.end + timedelta(days=2) if period.closed else None,
                total_amount=total,
                rows=rows,
                processing_status="Closed" if period.closed else "Open",
                financial_event_group_id=group_id,
            )
            (closed if period.closed else open_).append(settlement)
            deposit = settlement.deposit_date
            groups.append(
                FinancialEventGroup(
                    financial_event_group_id=group_id,
                    settlement_id=settlement.settlement_id,
                    processing_status=settlement.processing_status,
                    fund_transfer_status=(
                        "Unknown"
                        if deposit is None
                        else "Processing"
                        if deposit > now
                        else "Succeeded"
                    ),
                    currency=settlement.currency,
                    original_total=total,
                    beginning_balance=dec(previous_hold),
                    start=period.start,
                    end=period.end if period.closed else None,
                    fund_transfer_date=deposit,
                    trace_id=token(ids, UPPER_DIGITS, 14),
                    account_tail=card_tail if total < 0 else bank_tail,
                )
            )
    closed.sort(key=lambda s: (s.end, s.marketplace_id))
    groups.sort(key=lambda g: (g.start, g.settlement_id))
    return closed, open_, groups

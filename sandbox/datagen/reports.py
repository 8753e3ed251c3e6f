"""Settlement report files, in the two tab-separated layouts Amazon issues.

`render_settlement_v2` writes ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``: the 23 columns of
the official attribute list plus ``promotion-id`` (24; reference note §7). Amazon.de files are
written with the 23 columns only, as the 2018 DE file has them, so a parser must map by header
name. One row per amount; the first data row is the summary (settlement-id, start, end,
deposit date, total-amount, currency, the rest blank); detail rows repeat only settlement-id.

`render_settlement_flat` writes the older ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE`` (no
``_V2``), whose 36 columns spread each amount over typed column pairs (header as in MWS-era
parsers). The note does not say which V2 amount goes to which pair; the choice made here:
- ``ItemPrice/*`` → ``price-type`` / ``price-amount``;
- ``ItemFees/*`` and ``ItemWithheldTax/*`` → ``item-related-fee-type`` /
  ``item-related-fee-amount``;
- ``Promotion/*`` → ``promotion-type`` / ``promotion-amount`` (+ ``promotion-id``);
- account-level ``other-transaction`` rows → transaction-type is the description
  (``Subscription Fee``, ``Current Reserve Amount`` …) and the amount goes to ``other-amount``;
- other account-level rows (``Cost of Advertising``, ``FBA Inventory Reimbursement``, …) →
  transaction-type is the amount-type, the description goes to
  ``other-fee-reason-description`` and the amount to ``other-fee-amount``.
Its posted-date is a full timestamp. The summary row is as in V2.

Both layouts format dates and amounts per marketplace (see `marketplaces.py`): Amazon.de uses
``DD.MM.YYYY HH:MM:SS UTC`` and comma decimals. As in real files, account-level rows have a
blank marketplace-name, and reserve descriptions carry a trailing space.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sandbox.datagen.marketplaces import MARKETPLACES, format_date, format_datetime
from sandbox.datagen.money import fmt_amount

if TYPE_CHECKING:
    from sandbox.datagen.seller import Settlement, SettlementRow

T = TypeVar("T")

V2_COLUMNS: tuple[str, ...] = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)

FLAT_COLUMNS: tuple[str, ...] = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "shipment-fee-type",
    "shipment-fee-amount",
    "order-fee-type",
    "order-fee-amount",
    "fulfillment-id",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "misc-fee-amount",
    "other-fee-amount",
    "other-fee-reason-description",
    "promotion-id",
    "promotion-type",
    "promotion-amount",
    "direct-payment-type",
    "direct-payment-amount",
    "other-amount",
)

# Descriptions that real files carry with a trailing space.
_TRAILING_SPACE = frozenset({"Current Reserve Amount", "Previous Reserve Amount Balance"})

_FLAT_INDEX = {name: i for i, name in enumerate(FLAT_COLUMNS)}
_FLAT_PAIRS = {
    "ItemPrice": ("price-type", "price-amount"),
    "ItemFees": ("item-related-fee-type", "item-related-fee-amount"),
    "ItemWithheldTax": ("item-related-fee-type", "item-related-fee-amount"),
    "Promotion": ("promotion-type", "promotion-amount"),
}


def v2_columns(marketplace_id: str) -> tuple[str, ...]:
    """The V2 header this marketplace's files use (23 or 24 columns)."""
    if MARKETPLACES[marketplace_id].v2_promotion_id_column:
        return V2_COLUMNS
    return V2_COLUMNS[:-1]


def render_settlement_v2(settlement: Settlement) -> str:
    """The settlement as a Flat File V2 report (tab-separated, ``\\n`` line ends)."""
    mp = MARKETPLACES[settlement.marketplace_id]
    columns = v2_columns(settlement.marketplace_id)
    width = len(columns)
    comma = mp.decimal_comma
    sid = settlement.settlement_id
    stamp = _cached(lambda d: (format_date(mp, d), format_datetime(mp, d)))
    lines = ["\t".join(columns), "\t".join(_summary(settlement, width))]
    for row in settlement.rows:
        posted_date, posted_time = stamp(row.posted_date)
        cells = [
            sid,
            "",
            "",
            "",
            "",
            "",
            row.transaction_type,
            row.order_id,
            row.merchant_order_id,
            row.adjustment_id,
            row.shipment_id,
            row.marketplace_name,
            row.amount_type,
            _description(row),
            fmt_amount(row.amount, comma=comma),
            row.fulfillment_id,
            posted_date,
            posted_time,
            row.order_item_code,
            row.merchant_order_item_id,
            row.merchant_adjustment_item_id,
            row.sku,
            "" if row.quantity_purchased is None else str(row.quantity_purchased),
            row.promotion_id,
        ]
        lines.append("\t".join(cells[:width]))
    return "\n".join(lines) + "\n"


def render_settlement_flat(settlement: Settlement) -> str:
    """The settlement in the older flat-file layout (36 columns, see the module docstring)."""
    mp = MARKETPLACES[settlement.marketplace_id]
    comma = mp.decimal_comma
    width = len(FLAT_COLUMNS)
    sid = settlement.settlement_id
    stamp = _cached(lambda d: format_datetime(mp, d))
    ix = _FLAT_INDEX
    lines = ["\t".join(FLAT_COLUMNS), "\t".join(_summary(settlement, width))]
    for row in settlement.rows:
        cells = [""] * width
        cells[0] = sid
        cells[ix["order-id"]] = row.order_id
        cells[ix["merchant-order-id"]] = row.merchant_order_id
        cells[ix["adjustment-id"]] = row.adjustment_id
        cells[ix["shipment-id"]] = row.shipment_id
        cells[ix["marketplace-name"]] = row.marketplace_name
        cells[ix["fulfillment-id"]] = row.fulfillment_id
        cells[ix["posted-date"]] = stamp(row.posted_date)
        cells[ix["order-item-code"]] = row.order_item_code
        cells[ix["merchant-order-item-id"]] = row.merchant_order_item_id
        cells[ix["merchant-adjustment-item-id"]] = row.merchant_adjustment_item_id
        cells[ix["sku"]] = row.sku
        if row.quantity_purchased is not None:
            cells[ix["quantity-purchased"]] = str(row.quantity_purchased)
        cells[ix["promotion-id"]] = row.promotion_id
        amount = fmt_amount(row.amount, comma=comma)
        pair = _FLAT_PAIRS.get(row.amount_type) if row.order_id else None
        if pair is not None:
            cells[ix["transaction-type"]] = row.transaction_type
            cells[ix[pair[0]]] = _description(row)
            cells[ix[pair[1]]] = amount
        elif row.amount_type == "other-transaction":
            cells[ix["transaction-type"]] = _description(row)
            cells[ix["other-amount"]] = amount
        else:
            cells[ix["transaction-type"]] = row.amount_type
            cells[ix["other-fee-reason-description"]] = _description(row)
            cells[ix["other-fee-amount"]] = amount
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _summary(settlement: Settlement, width: int) -> list[str]:
    mp = MARKETPLACES[settlement.marketplace_id]
    deposit = settlement.deposit_date
    head = [
        settlement.settlement_id,
        format_datetime(mp, settlement.start),
        format_datetime(mp, settlement.end),
        format_datetime(mp, deposit) if deposit is not None else "",
        fmt_amount(settlement.total_amount, comma=mp.decimal_comma),
        settlement.currency,
    ]
    return head + [""] * (width - len(head))


def _description(row: SettlementRow) -> str:
    text = row.amount_description
    return text + " " if text in _TRAILING_SPACE else text


def _cached(render: Callable[[datetime], T]) -> Callable[[datetime], T]:
    """Rows come in runs with the same timestamp; format each timestamp once."""
    cache: dict[datetime, T] = {}

    def get(value: datetime) -> T:
        try:
            return cache[value]
        except KeyError:
            cache[value] = result = render(value)
            return result

    return get

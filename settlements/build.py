"""From what the parser or the database holds to the transform's plain input (pure)."""

from __future__ import annotations

from datetime import date

from mappings.transforms.settlement import SettlementAmount, SettlementInput
from settlements.parser import ParsedSettlement, cents_decimal


def input_from_parsed(parsed: ParsedSettlement) -> SettlementInput:
    summary = parsed.summary
    return SettlementInput(
        settlement_id=summary.settlement_id,
        currency=summary.currency,
        start=summary.start,
        end=summary.end,
        deposit_date=summary.deposit_date,
        total_amount=summary.total_amount,
        marketplace=parsed.primary_marketplace(),
        amounts=tuple(
            SettlementAmount(
                day=date.fromisoformat(day),
                transaction_type=ttype,
                amount_type=atype,
                amount_description=desc,
                marketplace=market,
                sku=sku,
                amount=cents_decimal(cents),
                rows=rows,
            )
            for (day, ttype, atype, desc, market, sku), (cents, rows) in parsed.amounts.items()
        ),
    )

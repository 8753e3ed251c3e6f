"""Settlement test helpers: generated sandbox settlements, charts as Xero lists them, mappings.

Settlement files come from the sandbox's own generator (``sandbox/datagen``) and renderers, in
both layouts; charts are built from the sandbox organisations' charts (``sandbox/xero/charts``)
exactly as ``GET /Accounts`` and ``GET /TaxRates`` return them, so the pure tests use the same
accounts and tax rates the end-to-end tests post against.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from mappings.categories_seller import SELLER_CATEGORIES
from mappings.chart import Chart, chart_from_xero
from mappings.resolve import MappingSet, Target
from mappings.transforms.settlement import SettlementInput
from sandbox.datagen.reports import render_settlement_flat, render_settlement_v2
from sandbox.datagen.seller import SellerSpec, Settlement, SettlementRow, generate_seller
from sandbox.xero import charts
from settlements.build import input_from_parsed
from settlements.parser import settlement_parse

UK, DE, US = "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "ATVPDKIKX0DER"


@lru_cache(maxsize=4)
def dataset(seed: int = 5, orders: int = 600) -> Any:
    return generate_seller(SellerSpec(seed=seed, start=date(2026, 3, 2), days=56, orders=orders))


def settlements_of(marketplace: str, *, seed: int = 5) -> list[Settlement]:
    return [s for s in dataset(seed).settlements if s.marketplace_id == marketplace]


def render(settlement: Settlement, layout: str = "v2") -> bytes:
    text = (
        render_settlement_v2(settlement) if layout == "v2" else render_settlement_flat(settlement)
    )
    return text.encode("utf-8")


def parsed_input(
    settlement: Settlement, layout: str = "v2", *, by_sku: bool = False
) -> SettlementInput:
    return input_from_parsed(
        settlement_parse(io.BytesIO(render(settlement, layout)), by_sku=by_sku)
    )


def with_rows(settlement: Settlement, rows: list[SettlementRow], **changes: Any) -> Settlement:
    """The settlement with other rows (its total follows them)."""
    total = sum((r.amount for r in rows), Decimal("0.00"))
    return dataclasses.replace(settlement, rows=rows, total_amount=total, **changes)


def account_row(
    posted: datetime,
    amount: str,
    description: str,
    *,
    transaction_type: str = "other-transaction",
    amount_type: str = "other-transaction",
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
        Decimal(amount),
        "",
        posted,
        "",
        "",
        None,
        "",
    )


def _xero_accounts(rows: list[charts.Row], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "Code": code,
            "Name": name,
            "Type": kind,
            "TaxType": tax,
            "Status": "ACTIVE",
            "EnablePaymentsToAccount": bool(extra.get("enable_payments")),
            "SystemAccount": extra.get("system_account", ""),
            "BankAccountType": extra.get("bank_account_type", ""),
            "CurrencyCode": extra.get("currency_code", currency),
        }
        for code, name, kind, tax, extra in rows
    ]


def _xero_rates(rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "TaxType": r["tax_type"],
            "Name": r["name"],
            "Status": "ACTIVE",
            "EffectiveRate": str(sum(Decimal(c["Rate"]) for c in r["components"])),
            "CanApplyToRevenue": r["can_apply_to_revenue"],
            "CanApplyToExpenses": r["can_apply_to_expenses"],
            "CanApplyToAssets": r["can_apply_to_assets"],
            "CanApplyToEquity": r["can_apply_to_equity"],
            "CanApplyToLiabilities": r["can_apply_to_liabilities"],
        }
        for r in rates
    ]


def uk_chart(currencies: tuple[str, ...] = ("GBP", "EUR", "USD")) -> Chart:
    return chart_from_xero(
        accounts=_xero_accounts(charts.UK_ACCOUNTS, "GBP"),
        tax_rates=_xero_rates(charts.UK_TAX_RATES),
        tracking_categories=[
            {"Name": "Sales Channel", "Options": [{"Name": "Amazon UK"}, {"Name": "Amazon DE"}]}
        ],
        currencies=[{"Code": c} for c in currencies],
        organisation={"BaseCurrency": "GBP", "CountryCode": "GB", "Name": "Northwind Goods Ltd"},
    )


def us_chart() -> Chart:
    return chart_from_xero(
        accounts=_xero_accounts(charts.US_ACCOUNTS, "USD"),
        tax_rates=_xero_rates(charts.US_TAX_RATES),
        tracking_categories=[],
        currencies=[{"Code": "USD"}],
        organisation={"BaseCurrency": "USD", "CountryCode": "US", "Name": "Redwood Supply Co."},
    )


# Where each category group posts in Northwind's chart (UK VAT: sales lines carry 20%).
UK_GROUPS = {
    "Sales": ("200", "OUTPUT2"),
    "Refunds": ("200", "OUTPUT2"),
    "Promotions": ("200", "OUTPUT2"),
    "Reimbursements": ("260", "NONE"),
    "Fees": ("404", "NONE"),
    "Taxes": ("805", "NONE"),
    "Transfers": ("615", "NONE"),
}
US_GROUPS = {
    "Sales": ("400", "NONE"),
    "Refunds": ("400", "NONE"),
    "Promotions": ("400", "NONE"),
    "Reimbursements": ("460", "NONE"),
    "Fees": ("604", "NONE"),
    "Taxes": ("240", "NONE"),
    "Transfers": ("125", "NONE"),
}


def mapping(
    groups: dict[str, tuple[str, str]] | None = None,
    *,
    clearing: str = "615",
    reserve: str = "620",
    suspense: str = "850",
    rounding: str = "860",
    omit: tuple[str, ...] = (),
    **extra: Any,
) -> MappingSet:
    groups = groups or UK_GROUPS
    targets = {
        c.key: Target(*groups[c.group])
        for c in SELLER_CATEGORIES
        if c.group in groups and c.key not in omit
    }
    return MappingSet(
        targets=targets,
        clearing_account=clearing,
        reserve_account=reserve,
        suspense_account=suspense,
        rounding_account=rounding,
        **extra,
    )


def us_mapping(**kwargs: Any) -> MappingSet:
    return mapping(
        US_GROUPS, clearing="125", reserve="130", suspense="250", rounding="260", **kwargs
    )


def when(day: int, month: int = 4, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)

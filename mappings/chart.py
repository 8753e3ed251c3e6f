"""The tenant's chart as plain data: accounts, tax rates, tracking, currencies, organisation.

Built from Xero's own JSON (GET /Accounts, /TaxRates, /TrackingCategories, /Currencies,
/Organisation) as kept in ``ChartCache``; validation and suggestions read only this.
Reference: https://developer.xero.com/documentation/api/accounting/accounts (and siblings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

# Xero's account classes from account types (the Accounts endpoint also returns Class).
ACCOUNT_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}
# System accounts Xero keeps for itself: no document line may post to them.
SYSTEM_ONLY = {
    "DEBTORS": "Accounts Receivable",
    "CREDITORS": "Accounts Payable",
    "GST": "sales tax / VAT / GST",
    "RETAINEDEARNINGS": "Retained Earnings",
    "UNPAIDEXPCLM": "Unpaid Expense Claims",
    "WAGEPAYABLES": "Wages Payable",
    "HISTORICAL": "Historical Adjustment",
    "TRACKINGTRANSFERS": "Tracking Transfers",
    "BANKCURRENCYGAIN": "Bank Revaluations",
    "UNREALISEDCURRENCYGAIN": "Unrealised Currency Gains",
    "REALISEDCURRENCYGAIN": "Realised Currency Gains",
}
CLASS_WORDS = {
    "ASSET": "an asset",
    "EQUITY": "an equity",
    "EXPENSE": "an expense",
    "LIABILITY": "a liability",
    "REVENUE": "a revenue",
}


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: str
    status: str
    tax_type: str
    account_class: str
    bank_account_type: str = ""
    currency: str = ""
    bank_number: str = ""
    enable_payments: bool = False
    system_account: str = ""
    account_id: str = ""

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    @property
    def is_bank(self) -> bool:
        return self.type == "BANK"

    @property
    def system_only(self) -> bool:
        return self.system_account in SYSTEM_ONLY

    @property
    def accepts_payments(self) -> bool:
        return self.is_bank or self.enable_payments

    @property
    def display(self) -> str:
        return f"{self.code} {self.name}".strip()


@dataclass(frozen=True)
class TaxRate:
    tax_type: str
    name: str
    status: str
    percent: Decimal
    can_apply: Mapping[str, bool]  # account class -> allowed

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    def applies_to(self, account: Account) -> bool:
        """Xero's rule: a tax rate may be used on an account only when its CanApplyTo<Class>
        flag for the account's class is true (e.g. a UK sales rate is allowed on revenue,
        asset, equity and liability accounts but not on expense accounts)."""
        return bool(self.can_apply.get(account.account_class, False))

    @property
    def display(self) -> str:
        return f"{self.name} ({self.tax_type})"


@dataclass(frozen=True)
class TrackingCategory:
    name: str
    status: str
    options: Mapping[str, str]  # option name -> status

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    def active_options(self) -> list[str]:
        return [name for name, status in self.options.items() if status == "ACTIVE"]


@dataclass(frozen=True)
class Chart:
    accounts: list[Account] = field(default_factory=list)
    tax_rates: list[TaxRate] = field(default_factory=list)
    tracking: list[TrackingCategory] = field(default_factory=list)
    currencies: frozenset[str] = frozenset()
    base_currency: str = ""
    country: str = ""
    organisation_name: str = ""

    def account(self, code: str) -> Account | None:
        wanted = code.strip().upper()
        return next((a for a in self.accounts if a.code and a.code.upper() == wanted), None)

    def account_named(self, name: str) -> Account | None:
        wanted = name.strip().lower()
        return next((a for a in self.accounts if a.name.lower() == wanted), None)

    def rate(self, tax_type: str) -> TaxRate | None:
        wanted = tax_type.strip().upper()
        return next((r for r in self.tax_rates if r.tax_type.upper() == wanted), None)

    def tracking_category(self, name: str) -> TrackingCategory | None:
        wanted = name.strip().lower()
        return next((t for t in self.tracking if t.name.lower() == wanted), None)

    def postable_accounts(self) -> list[Account]:
        """Active accounts a document line may use (with a code; no Xero-only system account)."""
        return [a for a in self.accounts if a.active and a.code and not a.system_only]

    def bank_accounts(self) -> list[Account]:
        return [a for a in self.accounts if a.active and a.is_bank and a.code]

    def active_rates(self) -> list[TaxRate]:
        return [r for r in self.tax_rates if r.active]

    def enabled_currencies(self) -> frozenset[str]:
        return self.currencies | ({self.base_currency} if self.base_currency else set())


def chart_from_xero(
    *,
    accounts: Iterable[Mapping[str, Any]],
    tax_rates: Iterable[Mapping[str, Any]],
    tracking_categories: Iterable[Mapping[str, Any]],
    currencies: Iterable[Mapping[str, Any]],
    organisation: Mapping[str, Any],
) -> Chart:
    """A Chart from the JSON elements Xero returned for each collection."""
    return Chart(
        accounts=[_account(a) for a in accounts],
        tax_rates=[_rate(r) for r in tax_rates],
        tracking=[
            TrackingCategory(
                name=str(t.get("Name") or ""),
                status=str(t.get("Status") or "ACTIVE").upper(),
                options={
                    str(o.get("Name") or ""): str(o.get("Status") or "ACTIVE").upper()
                    for o in t.get("Options") or []
                },
            )
            for t in tracking_categories
        ],
        currencies=frozenset(str(c.get("Code") or "").upper() for c in currencies if c.get("Code")),
        base_currency=str(organisation.get("BaseCurrency") or "").upper(),
        country=str(organisation.get("CountryCode") or "").upper(),
        organisation_name=str(organisation.get("Name") or ""),
    )


def _account(raw: Mapping[str, Any]) -> Account:
    account_type = str(raw.get("Type") or "").upper()
    return Account(
        code=str(raw.get("Code") or ""),
        name=str(raw.get("Name") or ""),
        type=account_type,
        status=str(raw.get("Status") or "ACTIVE").upper(),
        tax_type=str(raw.get("TaxType") or ""),
        account_class=str(raw.get("Class") or ACCOUNT_CLASS.get(account_type, "ASSET")).upper(),
        bank_account_type=str(raw.get("BankAccountType") or "").upper(),
        currency=str(raw.get("CurrencyCode") or "").upper(),
        bank_number=str(raw.get("BankAccountNumber") or ""),
        enable_payments=bool(raw.get("EnablePaymentsToAccount")),
        system_account=str(raw.get("SystemAccount") or "").upper(),
        account_id=str(raw.get("AccountID") or ""),
    )


def _rate(raw: Mapping[str, Any]) -> TaxRate:
    try:
        percent = Decimal(str(raw.get("EffectiveRate", raw.get("DisplayTaxRate", "0")) or "0"))
    except InvalidOperation:
        percent = Decimal(0)
    return TaxRate(
        tax_type=str(raw.get("TaxType") or ""),
        name=str(raw.get("Name") or ""),
        status=str(raw.get("Status") or "ACTIVE").upper(),
        percent=percent,
        can_apply={
            "ASSET": bool(raw.get("CanApplyToAssets")),
            "EQUITY": bool(raw.get("CanApplyToEquity")),
            "EXPENSE": bool(raw.get("CanApplyToExpenses")),
            "LIABILITY": bool(raw.get("CanApplyToLiabilities")),
            "REVENUE": bool(raw.get("CanApplyToRevenue")),
        },
    )

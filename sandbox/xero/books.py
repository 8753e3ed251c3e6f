"""One organisation's settings, looked up once per call: accounts, tax rates, tracking, items."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sandbox.xero import render
from sandbox.xero.models import (
    Account,
    Currency,
    Item,
    Organisation,
    TaxRate,
    TrackingCategory,
    TrackingOption,
)

# Sandbox "XE.com day rates": units of the foreign currency per one unit of the base currency,
# the direction Xero's UI shows ("1 GBP = 1.1650 EUR"). Used when a document omits CurrencyRate.
DAY_RATES: dict[tuple[str, str], Decimal] = {
    ("GBP", "EUR"): Decimal("1.165000"),
    ("GBP", "USD"): Decimal("1.270000"),
    ("GBP", "AUD"): Decimal("1.930000"),
    ("USD", "EUR"): Decimal("0.917000"),
    ("USD", "GBP"): Decimal("0.787000"),
    ("USD", "CAD"): Decimal("1.360000"),
    ("AUD", "USD"): Decimal("0.658000"),
    ("AUD", "NZD"): Decimal("1.085000"),
}

# Accounts no document line may use (AR/AP control, tax, retained earnings...).
SYSTEM_ONLY = {"DEBTORS", "CREDITORS", "GST", "RETAINEDEARNINGS", "UNPAIDEXPCLM"}

CLASS_FLAG = {
    "ASSET": "can_apply_to_assets",
    "EQUITY": "can_apply_to_equity",
    "EXPENSE": "can_apply_to_expenses",
    "LIABILITY": "can_apply_to_liabilities",
    "REVENUE": "can_apply_to_revenue",
}


@dataclass
class Books:
    org: Organisation
    _accounts: list[Account] | None = None
    _rates: dict[str, TaxRate] | None = None
    _tracking: list[tuple[TrackingCategory, list[TrackingOption]]] | None = None
    _currencies: set[str] | None = None
    _items: dict[str, Item] = field(default_factory=dict)

    @property
    def accounts(self) -> list[Account]:
        if self._accounts is None:
            self._accounts = list(self.org.accounts.all())
        return self._accounts

    def account_by_code(self, code: str) -> Account | None:
        wanted = code.strip().upper()
        return next((a for a in self.accounts if a.code.upper() == wanted and a.code), None)

    def account_by_id(self, raw: object) -> Account | None:
        try:
            wanted = uuid.UUID(str(raw))
        except ValueError:
            return None
        return next((a for a in self.accounts if a.account_id == wanted), None)

    def forget_accounts(self) -> None:
        self._accounts = None

    @property
    def rates(self) -> dict[str, TaxRate]:
        if self._rates is None:
            self._rates = {r.tax_type.upper(): r for r in self.org.tax_rates.all()}
        return self._rates

    def rate(self, tax_type: str) -> TaxRate | None:
        return self.rates.get(tax_type.strip().upper())

    def percent(self, rate: TaxRate) -> Decimal:
        return render.tax_percent(rate)

    def rate_applies(self, rate: TaxRate, account: Account) -> bool:
        return bool(getattr(rate, CLASS_FLAG[account.account_class]))

    @property
    def tracking(self) -> list[tuple[TrackingCategory, list[TrackingOption]]]:
        if self._tracking is None:
            self._tracking = [
                (category, list(category.options.all()))
                for category in self.org.tracking_categories.prefetch_related("options")
            ]
        return self._tracking

    @property
    def currencies(self) -> set[str]:
        if self._currencies is None:
            self._currencies = set(
                Currency.objects.filter(org=self.org).values_list("code", flat=True)
            )
            self._currencies.add(self.org.base_currency)
        return self._currencies

    def day_rate(self, code: str) -> Decimal:
        if code == self.org.base_currency:
            return Decimal(1)
        return DAY_RATES.get((self.org.base_currency, code), Decimal("1.000000"))

    def item(self, code: str) -> Item | None:
        key = code.strip().upper()
        if key not in self._items:
            found = Item.objects.filter(org=self.org, code__iexact=code.strip()).first()
            if found is None:
                return None
            self._items[key] = found
        return self._items[key]

"""Xero's OAuth scopes as the sandbox knows them, with the words the consent screen uses.

Reference: developer.xero.com/documentation/guides/oauth2/scopes and /faq/granular-scopes
(see ../shared/reference/xero-api.md §1.1). Apps created on or after 2 March 2026 must use the
granular scopes; asking for a broad one is refused with ``invalid_scope``.
"""

from __future__ import annotations

from datetime import UTC, datetime

GRANULAR_ONLY_FROM = datetime(2026, 3, 2, tzinfo=UTC)

IDENTITY_SCOPES = {
    "openid": "Confirm who you are in Xero",
    "profile": "See your name and Xero user id",
    "email": "See your email address",
    "offline_access": "Keep access to your data while you are not using the app",
}

_DATA = {
    "accounting.invoices": "invoices, credit notes, quotes, purchase orders and items",
    "accounting.payments": "payments, batch payments, overpayments and prepayments",
    "accounting.banktransactions": "bank transactions and bank transfers",
    "accounting.manualjournals": "manual journals",
    "accounting.classicexpenses": "expense claims and receipts",
    "accounting.contacts": "contacts and contact groups",
    "accounting.settings": "organisation settings: accounts, tax rates, tracking, currencies",
    "accounting.attachments": "attachments",
}
_READ_ONLY = {
    "accounting.journals.read": "View your general ledger journals",
    "accounting.budgets.read": "View your budgets",
    "accounting.reports.aged.read": "View aged payables and receivables reports",
    "accounting.reports.balancesheet.read": "View the balance sheet report",
    "accounting.reports.banksummary.read": "View the bank summary report",
    "accounting.reports.budgetsummary.read": "View the budget summary report",
    "accounting.reports.executivesummary.read": "View the executive summary report",
    "accounting.reports.profitandloss.read": "View the profit and loss report",
    "accounting.reports.trialbalance.read": "View the trial balance report",
    "accounting.reports.taxreports.read": "View tax reports",
}

# The broad scopes a new app may no longer request (§1.1).
DEPRECATED_SCOPES = {
    "accounting.transactions": "View and manage your business transactions",
    "accounting.transactions.read": "View your business transactions",
    "accounting.reports.read": "View your reports",
}

GRANULAR_SCOPES: dict[str, str] = {}
for _scope, _what in _DATA.items():
    GRANULAR_SCOPES[_scope] = f"View and manage your {_what}"
    GRANULAR_SCOPES[f"{_scope}.read"] = f"View your {_what}"
GRANULAR_SCOPES.update(_READ_ONLY)

SCOPE_WORDS: dict[str, str] = {**IDENTITY_SCOPES, **GRANULAR_SCOPES, **DEPRECATED_SCOPES}


def scopes_for_new_app() -> list[str]:
    """Everything a new app may be configured for: identity plus all granular scopes."""
    return [*IDENTITY_SCOPES, *GRANULAR_SCOPES]


def refused_scopes(requested: list[str], *, allowed: list[str], app_created: datetime) -> list[str]:
    """The requested scopes Xero would refuse for this app (empty when the request is fine).

    Unknown scopes, scopes the app is not configured for, and, for an app created on or after
    2 March 2026, the deprecated broad scopes even when configured.
    """
    granular_only = app_created >= GRANULAR_ONLY_FROM
    return [
        scope
        for scope in requested
        if scope not in SCOPE_WORDS
        or scope not in allowed
        or (granular_only and scope in DEPRECATED_SCOPES)
    ]

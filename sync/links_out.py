"""Links out of the hub: a ledger row's document in Xero, and its source at Amazon."""

from __future__ import annotations

import re

from django.conf import settings

from sync.models import LedgerEntry

XERO_APP = "https://go.xero.com"
XERO_PATHS = {
    "invoice": "/AccountsReceivable/View.aspx?InvoiceID={id}",
    "bill": "/AccountsPayable/View.aspx?InvoiceID={id}",
    "credit_note": "/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}",
    "bank_transaction": "/Bank/ViewTransaction.aspx?bankTransactionID={id}",
    "manual_journal": "/Journal/View.aspx?invoiceID={id}",
}


def xero_url(entry: LedgerEntry) -> str:
    if not entry.xero_id:
        return ""
    if settings.SANDBOX:
        tenant = entry.link.xero_tenant.tenant_id
        return f"{settings.SANDBOX_URL}/xero/organisations/{tenant}/#{entry.xero_id}"
    path = XERO_PATHS.get(entry.kind)
    if path is None:  # payments open from their invoice
        parent = entry.parent
        return xero_url(parent) if parent is not None else ""
    return XERO_APP + path.format(id=entry.xero_id)


def amazon_url(entry: LedgerEntry) -> str:
    link = entry.link
    if link.business_account_id:
        if settings.SANDBOX:
            return f"{settings.SANDBOX_URL}/business/store/accounts/"
        return "https://www.amazon.com/b2b/aba/"
    if re.fullmatch(r"\d+", entry.amazon_id):  # a settlement id
        if settings.SANDBOX:
            return f"{settings.SANDBOX_URL}/amazon/sellercentral/payments/past-settlements"
        return "https://sellercentral.amazon.com/payments/reports-repository"
    if settings.SANDBOX:
        return ""
    return f"https://sellercentral.amazon.com/orders-v3/order/{entry.amazon_id}"

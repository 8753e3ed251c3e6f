"""The Accounting API 2.0 under /sandbox/xero/api/api.xro/2.0/ (api.xero.com/api.xro/2.0/).

Paths and their casing are the spec's (../shared/specs/xero/xero_accounting.yaml).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from sandbox.xero import api_views as v
from sandbox.xero import attachments

P = "api.xro/2.0/"
ENDPOINTS = "|".join(attachments.ENDPOINTS)

urlpatterns: list[URLPattern | URLResolver] = [
    path(f"{P}Organisation", v.organisation, name="xero-api-organisation"),
    path(f"{P}Accounts", v.accounts, name="xero-api-accounts"),
    path(f"{P}Accounts/<str:account_id>", v.account_detail, name="xero-api-account"),
    path(f"{P}TaxRates", v.tax_rates, name="xero-api-tax-rates"),
    path(f"{P}TrackingCategories", v.tracking_categories, name="xero-api-tracking-categories"),
    path(
        f"{P}TrackingCategories/<str:category_id>",
        v.tracking_category_detail,
        name="xero-api-tracking-category",
    ),
    path(f"{P}Currencies", v.currencies, name="xero-api-currencies"),
    path(f"{P}Contacts", v.contacts, name="xero-api-contacts"),
    path(f"{P}Contacts/<str:contact_id>", v.contact_detail, name="xero-api-contact"),
    path(f"{P}Items", v.items, name="xero-api-items"),
    path(f"{P}Items/<str:item_id>", v.item_detail, name="xero-api-item"),
    path(f"{P}Invoices", v.invoices, name="xero-api-invoices"),
    path(f"{P}Invoices/<str:invoice_id>", v.invoice_detail, name="xero-api-invoice"),
    path(f"{P}CreditNotes", v.credit_notes, name="xero-api-credit-notes"),
    path(
        f"{P}CreditNotes/<str:credit_note_id>/Allocations",
        v.credit_note_allocations,
        name="xero-api-credit-note-allocations",
    ),
    path(
        f"{P}CreditNotes/<str:credit_note_id>/Allocations/<str:allocation_id>",
        v.credit_note_allocation_detail,
        name="xero-api-credit-note-allocation",
    ),
    path(f"{P}CreditNotes/<str:credit_note_id>", v.credit_note_detail, name="xero-api-credit-note"),
    path(f"{P}Payments", v.payments, name="xero-api-payments"),
    path(f"{P}Payments/<str:payment_id>", v.payment_detail, name="xero-api-payment"),
    path(f"{P}BankTransactions", v.bank_transactions, name="xero-api-bank-transactions"),
    path(
        f"{P}BankTransactions/<str:bank_transaction_id>",
        v.bank_transaction_detail,
        name="xero-api-bank-transaction",
    ),
    path(f"{P}ManualJournals", v.manual_journals, name="xero-api-manual-journals"),
    path(
        f"{P}ManualJournals/<str:manual_journal_id>",
        v.manual_journal_detail,
        name="xero-api-manual-journal",
    ),
    re_path(
        rf"^{P}(?P<endpoint_name>{ENDPOINTS})/(?P<object_id>[^/]+)/Attachments$",
        attachments.attachment_list,
        name="xero-api-attachments",
    ),
    re_path(
        rf"^{P}(?P<endpoint_name>{ENDPOINTS})/(?P<object_id>[^/]+)/Attachments/(?P<file_name>[^/]+)$",
        attachments.attachment_file,
        name="xero-api-attachment",
    ),
]

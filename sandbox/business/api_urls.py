"""The Amazon Business API host (na.business-api.amazon.com): the Reconciliation API."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from sandbox.business import api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "reconciliation/2021-01-08/transactions",
        api.get_transactions,
        name="business-get-transactions",
    ),
    path(
        "reconciliation/2021-01-08/invoices/batch/paymentDetails",
        api.get_batch_invoice_payment_details,
        name="business-get-batch-invoice-payment-details",
    ),
    path(
        "reconciliation/2021-01-08/invoices",
        api.get_invoice_details_by_order_line_items,
        name="business-get-invoice-details",
    ),
    # Anything else on the API host answers in the API's error shape, not an HTML page.
    re_path(r"^(?P<rest>.*)$", api.not_found, name="business-api-not-found"),
]

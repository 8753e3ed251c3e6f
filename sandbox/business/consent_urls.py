"""The buyer store (www.amazon.com and the other Amazon Business stores): consent and pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox.business import store

urlpatterns: list[URLPattern | URLResolver] = [
    path("b2b/abws/oauth", store.consent, name="business-consent"),
    path("accounts/", store.accounts, name="business-accounts"),
    path("accounts/<str:account_id>/", store.account, name="business-account"),
    path(
        "accounts/<str:account_id>/purchases",
        store.purchase_create,
        name="business-purchase-create",
    ),
    path(
        "accounts/<str:account_id>/invoices/<str:invoice_id>/pay",
        store.invoice_pay,
        name="business-invoice-pay",
    ),
    path("authorizations/", store.authorizations, name="business-authorizations"),
    path(
        "authorizations/<int:pk>/revoke",
        store.authorization_remove,
        name="business-authorization-revoke",
    ),
]

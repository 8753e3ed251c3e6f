from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox.xero import pages

urlpatterns: list[URLPattern | URLResolver] = [
    path("organisations/", pages.organisation_list, name="xero-organisations"),
    path(
        "organisations/<str:tenant_id>/",
        pages.organisation_detail,
        name="xero-organisation",
    ),
    path(
        "organisations/<str:tenant_id>/accounts/<str:account_id>/status",
        pages.account_status,
        name="xero-account-status",
    ),
]

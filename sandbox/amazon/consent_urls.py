"""Seller Central, mounted at ``/sandbox/amazon/sellercentral/`` (one host for every region)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox.amazon import consent

urlpatterns: list[URLPattern | URLResolver] = [
    path("apps/authorize/consent", consent.consent, name="amazon-consent"),
    path("apps/manage", consent.manage_apps, name="amazon-manage-apps"),
    path(
        "apps/manage/<int:pk>/revoke", consent.manage_apps_revoke, name="amazon-manage-apps-revoke"
    ),
    path("apps/manage/revoke", consent.control_revoke, name="amazon-control-revoke"),
    path("payments/past-settlements", consent.past_settlements, name="amazon-settlements"),
    path("payments/reissue", consent.control_reissue, name="amazon-control-reissue"),
    path(
        "payments/past-settlements/<str:settlement_id>/download",
        consent.settlement_download,
        name="amazon-settlement-download",
    ),
]

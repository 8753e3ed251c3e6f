from __future__ import annotations

from django.urls import path

from connectors import views

urlpatterns = [
    path("connect/xero", views.xero_start, name="connect-xero"),
    path("connect/xero/callback", views.xero_callback, name="connect-xero-callback"),
    path("connect/amazon/callback", views.amazon_callback, name="connect-amazon-callback"),
    path("connect/business/callback", views.business_callback, name="connect-business-callback"),
    path(
        "w/<uuid:code>/connect/xero/<int:grant_id>/organisation/",
        views.xero_organisation,
        name="connect-xero-organisation",
    ),
    path("w/<uuid:code>/connect/amazon/", views.amazon_start, name="connect-amazon"),
    path(
        "w/<uuid:code>/connect/amazon/<int:account_id>/marketplaces/",
        views.amazon_marketplaces,
        name="connect-amazon-marketplaces",
    ),
    path("w/<uuid:code>/connect/business/", views.business_start, name="connect-business"),
    path("w/<uuid:code>/connections/", views.connections, name="connections"),
    path(
        "w/<uuid:code>/connections/<str:kind>/<int:pk>/disconnect/",
        views.disconnect,
        name="disconnect",
    ),
    path("w/<uuid:code>/uninstall/", views.uninstall, name="uninstall"),
    path("w/<uuid:code>/export/", views.export, name="export"),
]

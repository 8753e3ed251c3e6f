"""login.xero.com, mounted at /sandbox/xero/login/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox.xero_identity import consent

urlpatterns: list[URLPattern | URLResolver] = [
    path("identity/connect/authorize", consent.authorize, name="xero-authorize"),
]

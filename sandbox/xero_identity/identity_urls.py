"""identity.xero.com at /sandbox/xero/identity/, then the sandbox's own page and controls."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox.xero_identity import connections, control, endpoints

urlpatterns: list[URLPattern | URLResolver] = [
    path(".well-known/openid-configuration", endpoints.discovery, name="xero-discovery"),
    path(".well-known/openid-configuration/jwks", endpoints.jwks_view, name="xero-jwks"),
    path("connect/token", endpoints.token, name="xero-token"),
    path("connect/revocation", endpoints.revocation, name="xero-revocation"),
    path("connect/userinfo", endpoints.userinfo, name="xero-userinfo"),
    # The sandbox's own: not part of Xero.
    path("connections/", connections.connections_page, name="xero-identity-connections"),
    path("control/expire", control.control_expire, name="xero-identity-expire"),
    path("control/disconnect", connections.control_disconnect, name="xero-identity-disconnect"),
]

"""api.xero.com/connections, mounted at /sandbox/xero/api/ (the Accounting API is elsewhere).

Xero's paths are case-insensitive, and the spec and xero-python say ``/Connections``; both casings
are served.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox.xero_identity import connections

urlpatterns: list[URLPattern | URLResolver] = [
    path("connections", connections.connections_list, name="xero-connections"),
    path("Connections", connections.connections_list),
    path("connections/<str:connection_id>", connections.connection_delete, name="xero-connection"),
    path("Connections/<str:connection_id>", connections.connection_delete),
]

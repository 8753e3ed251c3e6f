"""Calls the connection flow makes to Xero: /connections and the Organisation.

The Accounting API client for posting documents is built per connection in ``sync`` on top of
``xero_request``: one token chain per grant, never a module-global token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from connectors import http
from connectors.models import XeroGrant
from connectors.xero.auth import PROVIDER, connection_mark_needs_reconnect, xero_access_token


def xero_request(
    grant: XeroGrant,
    operation: str,
    method: str,
    path: str,
    *,
    tenant_id: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    """One authenticated call; a 401 refreshes the token once and retries."""
    url = f"{settings.XERO_API_URL}{path}"
    token = xero_access_token(grant.pk)
    extra_headers = kwargs.pop("headers", {})
    for attempt in (0, 1):
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            **extra_headers,
        }
        if tenant_id:
            headers["xero-tenant-id"] = str(tenant_id)
        try:
            return http.call(
                PROVIDER, operation, method, url, headers=headers, attempt=attempt, **kwargs
            )
        except http.AuthRejected as exc:
            if exc.status == 401 and attempt == 0:
                token = xero_access_token(grant.pk, rejected=token)
                continue
            if exc.status == 403 and tenant_id:
                connection_mark_needs_reconnect(
                    grant,
                    reason=(
                        "Xero refused access to the organisation: it was disconnected from the app "
                        "in Xero. Reconnect Xero to resume syncing."
                    ),
                )
            raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class TenantConnection:
    id: str
    tenant_id: str
    tenant_type: str
    tenant_name: str
    auth_event_id: str


def connections_list(
    grant: XeroGrant, *, auth_event_id: str | None = None
) -> list[TenantConnection]:
    """Reference: https://developer.xero.com/documentation/guides/oauth2/tenants"""
    params = {"authEventId": auth_event_id} if auth_event_id else {}
    rows = xero_request(grant, "connections", "GET", "/connections", params=params).json()
    return [
        TenantConnection(
            id=r["id"],
            tenant_id=r["tenantId"],
            tenant_type=r["tenantType"],
            tenant_name=r.get("tenantName") or "",
            auth_event_id=r["authEventId"],
        )
        for r in rows
        if r.get("tenantType") == "ORGANISATION"
    ]


def connection_delete(grant: XeroGrant, connection_id: str) -> None:
    """DELETE /connections/{id}: 204, or 404 when Xero already forgot it (fine either way)."""
    xero_request(grant, "disconnect", "DELETE", f"/connections/{connection_id}", expect=(404,))


def organisation_get(grant: XeroGrant, tenant_id: str) -> dict[str, Any]:
    """Reference: https://developer.xero.com/documentation/api/accounting/organisation"""
    body = xero_request(
        grant, "getOrganisations", "GET", "/api.xro/2.0/Organisation", tenant_id=tenant_id
    ).json()
    organisations: list[dict[str, Any]] = body.get("Organisations") or []
    if not organisations:
        raise http.Rejected(
            provider=PROVIDER,
            operation="getOrganisations",
            message="Xero returned no organisation for this tenant.",
            decision=http.RetryDecision(False, "empty"),
        )
    return organisations[0]


def organisation_problem(org: dict[str, Any]) -> str:
    """Why the hub cannot post into this organisation ('' when it can)."""
    if org.get("Edition") == "PARTNER":
        return (
            "This organisation is on Xero's partner edition, which cannot raise invoices or "
            "bills. Choose a business-edition organisation."
        )
    return ""

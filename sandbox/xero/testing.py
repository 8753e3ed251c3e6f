"""A connected app with a live token for a sandbox organisation, for tests and benchmarks.

Goes straight through ``grant_create`` and ``issue_token_set`` (what the consent flow ends
with), so API tests do not depend on the login pages.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import requests

from sandbox.xero import wire
from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import XeroApp, XeroUser
from sandbox.xero_identity.tokens import grant_create, issue_token_set

ALL_SCOPES = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.settings",
    "accounting.contacts",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
    "accounting.manualjournals",
    "accounting.attachments",
]


@dataclass
class Connected:
    app: XeroApp
    user: XeroUser
    org: Organisation
    access_token: str
    refresh_token: str | None
    scopes: list[str]

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "xero-tenant-id": str(self.org.tenant_id),
            "Accept": "application/json",
        }


def connect(
    org: Organisation,
    *,
    scopes: list[str] | None = None,
    app: XeroApp | None = None,
    email: str | None = None,
) -> Connected:
    scopes = list(scopes or ALL_SCOPES)
    if app is None:
        client_id = f"test-{secrets.token_hex(6)}"
        app = XeroApp.objects.create(
            client_id=client_id,
            client_secret=secrets.token_urlsafe(16),
            name=f"Test app {client_id}",
            redirect_uris=["https://hub.example/xero/callback"],
            allowed_scopes=scopes,
        )
    user = XeroUser.objects.create(
        email=email or f"{secrets.token_hex(5)}@example.com",
        given_name="Test",
        family_name="User",
        tenant_ids=[str(org.tenant_id)],
    )
    grant = grant_create(app=app, user=user, scopes=scopes, tenant_ids=[org.tenant_id])
    tokens = issue_token_set(grant)
    return Connected(
        app=app,
        user=user,
        org=org,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        scopes=scopes,
    )


class Api:
    """Plain ``requests`` calls to the sandbox Accounting API as one connection."""

    def __init__(self, sandbox_url: str, conn: Connected) -> None:
        self.base = f"{sandbox_url}/xero/api/api.xro/2.0"
        self.conn = conn

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {**self.conn.headers(), **(extra or {})}

    def get(
        self, path: str, *, headers: dict[str, str] | None = None, **params: Any
    ) -> requests.Response:
        return requests.get(
            f"{self.base}/{path}", params=params, headers=self._headers(headers), timeout=30
        )

    def send(
        self,
        method: str,
        path: str,
        body: object,
        *,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> requests.Response:
        # Decimals go out as JSON numbers with their exact digits, as a careful client sends.
        return requests.request(
            method,
            f"{self.base}/{path}",
            params=params,
            data=wire.dumps(body),
            headers=self._headers({"Content-Type": "application/json", **(headers or {})}),
            timeout=30,
        )

    def delete(self, path: str, *, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.delete(f"{self.base}/{path}", headers=self._headers(headers), timeout=30)

    def put(self, path: str, body: object, **kwargs: Any) -> requests.Response:
        return self.send("PUT", path, body, **kwargs)

    def post(self, path: str, body: object, **kwargs: Any) -> requests.Response:
        return self.send("POST", path, body, **kwargs)

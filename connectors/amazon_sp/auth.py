"""Seller Central website authorisation and Login with Amazon tokens for the SP-API.

Reference: https://developer-docs.amazon.com/sp-api/docs/website-authorization-workflow
(shared/reference/amazon-api.md §1).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction

from connectors import http
from connectors.models import AmazonBusinessAccount, AmazonSellerAccount
from connectors.xero.auth import connection_mark_needs_reconnect

PROVIDER = "amazon-lwa"
ACCESS_AHEAD_SECONDS = 300


def redirect_uri() -> str:
    return f"{settings.SITE_URL}/connect/amazon/callback"


def consent_url(*, state: str) -> str:
    query = {
        "application_id": settings.AMAZON_SP_APP_ID,
        "state": state,
        "redirect_uri": redirect_uri(),
    }
    if settings.AMAZON_SP_APP_DRAFT:
        query["version"] = "beta"  # draft apps only; MD1000 without it
    return f"{settings.AMAZON_SELLER_CENTRAL_URL}/apps/authorize/consent?{urlencode(query)}"


def lwa_token(
    form: dict[str, str], *, client_id: str, client_secret: str, operation: str
) -> dict[str, Any]:
    response = http.call(
        PROVIDER,
        operation,
        "POST",
        f"{settings.AMAZON_LWA_URL}/auth/o2/token",
        data={**form, "client_id": client_id, "client_secret": client_secret},
    )
    body: dict[str, Any] = response.json()
    return {
        "refresh_token": body.get("refresh_token") or form.get("refresh_token"),
        "access_token": body["access_token"],
        "access_expires_at": int(time.time()) + int(body.get("expires_in", 3600)),
    }


def exchange_code(
    *, code: str, redirect: str, client_id: str, client_secret: str
) -> dict[str, Any]:
    """The code lives five minutes: exchanged as soon as the callback arrives."""
    return lwa_token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        client_id=client_id,
        client_secret=client_secret,
        operation="token",
    )


def _credentials(account: AmazonSellerAccount | AmazonBusinessAccount) -> tuple[str, str]:
    if isinstance(account, AmazonSellerAccount):
        return settings.AMAZON_SP_CLIENT_ID, settings.AMAZON_SP_CLIENT_SECRET
    return settings.AMAZON_BUSINESS_CLIENT_ID, settings.AMAZON_BUSINESS_CLIENT_SECRET


def amazon_access_token(account: AmazonSellerAccount | AmazonBusinessAccount) -> str:
    """A valid LWA access token for the account (cached, encrypted, about an hour)."""
    model = type(account)
    with transaction.atomic():
        fresh = model.objects.select_for_update().get(pk=account.pk)
        token = fresh.token or {}
        if (
            token.get("access_token")
            and token["access_expires_at"] - ACCESS_AHEAD_SECONDS > time.time()
        ):
            return str(token["access_token"])
        if not fresh.is_active:
            raise http.AuthRejected(
                provider=PROVIDER,
                operation="refresh",
                message=fresh.status_reason or "Amazon needs reconnecting.",
                decision=http.RetryDecision(False, "needs reconnect"),
            )
        client_id, client_secret = _credentials(fresh)
        try:
            new = lwa_token(
                {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
                client_id=client_id,
                client_secret=client_secret,
                operation="refresh",
            )
        except http.Rejected as exc:
            failure = exc
        else:
            fresh.token = new
            fresh.save(update_fields=["token"])
            return str(new["access_token"])
    connection_mark_needs_reconnect(
        account,
        reason=(
            f"Amazon refused to refresh the authorisation ({failure.message}): it was removed in "
            "Amazon or has lapsed. Reconnect Amazon to resume syncing."
        ),
    )
    raise failure

"""Sign up / sign in with Xero (OpenID Connect, PKCE) and the Xero token chain.

Reference: https://developer.xero.com/documentation/oauth2/auth-flow,
https://developer.xero.com/documentation/oauth2/sign-up (shared/reference/xero-api.md §1).
Authlib builds the PKCE challenge and checks the id_token; the HTTP calls go through the seam.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import JoseError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors import http
from connectors.models import Link, Status, XeroGrant
from connectors.providers import XERO_SCOPES

PROVIDER = "xero"
REFRESH_AHEAD = timedelta(minutes=5)


def redirect_uri() -> str:
    return f"{settings.SITE_URL}/connect/xero/callback"


@lru_cache(maxsize=4)
def _metadata(identity_url: str) -> dict[str, Any]:
    response = http.call(
        PROVIDER, "openid-configuration", "GET", f"{identity_url}/.well-known/openid-configuration"
    )
    data: dict[str, Any] = response.json()
    return data


def metadata() -> dict[str, Any]:
    return _metadata(settings.XERO_IDENTITY_URL)


def authorize_url(*, state: str, code_verifier: str, nonce: str) -> str:
    """Reference: https://developer.xero.com/documentation/oauth2/pkce-flow"""
    query = {
        "response_type": "code",
        "client_id": settings.XERO_CLIENT_ID,
        "redirect_uri": redirect_uri(),
        "scope": " ".join(XERO_SCOPES),
        "state": state,
        "nonce": nonce,
        "code_challenge": create_s256_code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    return f"{metadata()['authorization_endpoint']}?{urlencode(query)}"


@dataclass(frozen=True)
class XeroIdentity:
    xero_userid: str
    email: str
    given_name: str
    family_name: str
    auth_event_id: str | None


def _token_from_response(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token"),
        "expires_at": int(time.time()) + int(body.get("expires_in", 1800)),
        "scope": body.get("scope", ""),
    }


def exchange_code(
    *, code: str, code_verifier: str, nonce: str
) -> tuple[dict[str, Any], XeroIdentity]:
    """Swap the code for tokens and check the id_token (signature, issuer, audience, nonce)."""
    response = http.call(
        PROVIDER,
        "token",
        "POST",
        metadata()["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(),
            "code_verifier": code_verifier,
        },
        auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
    )
    body = response.json()
    token = _token_from_response(body)
    jwks = http.call(PROVIDER, "jwks", "GET", metadata()["jwks_uri"]).json()
    try:
        claims = jwt.decode(
            body["id_token"],
            JsonWebKey.import_key_set(jwks),
            claims_cls=CodeIDToken,
            claims_options={
                "iss": {"essential": True, "value": metadata()["issuer"]},
                "aud": {"essential": True, "value": settings.XERO_CLIENT_ID},
            },
            claims_params={"nonce": nonce},
        )
        claims.validate(leeway=60)
    except (JoseError, KeyError, ValueError) as exc:
        raise http.Rejected(
            provider=PROVIDER,
            operation="id_token",
            message=f"Xero's identity token did not verify ({exc}).",
            decision=http.RetryDecision(False, "bad id_token"),
        ) from exc
    access_claims = jwt.decode(body["access_token"], JsonWebKey.import_key_set(jwks))
    identity = XeroIdentity(
        xero_userid=str(claims["xero_userid"]),
        email=str(claims.get("email", "")),
        given_name=str(claims.get("given_name", "")),
        family_name=str(claims.get("family_name", "")),
        auth_event_id=access_claims.get("authentication_event_id"),
    )
    return token, identity


def grant_store_tokens(grant: XeroGrant, token: dict[str, Any]) -> None:
    grant.token = token
    grant.access_expires_at = datetime.fromtimestamp(token["expires_at"], tz=UTC)
    grant.refreshed_at = timezone.now()
    grant.status, grant.status_reason = Status.ACTIVE, ""
    grant.status_changed_at = timezone.now()
    grant.save()


def connection_mark_needs_reconnect(account: Any, *, reason: str) -> None:
    """Xero or Amazon revoked a connection: say so, with the reason; its links stop running.

    The workspace's owners get one email per lapse.
    """
    now = timezone.now()
    changed = (
        type(account)
        .objects.filter(pk=account.pk, status=Status.ACTIVE)
        .update(status=Status.NEEDS_RECONNECT, status_reason=reason[:500], status_changed_at=now)
    )
    account.status, account.status_reason = Status.NEEDS_RECONNECT, reason[:500]
    if changed:
        from hub.notify import notify_owners

        customer = account.customer
        notify_owners(
            customer=customer,
            key=f"reconnect:{account._meta.label}:{account.pk}:{now.isoformat()}",
            subject=f"Reconnect {account}",
            body=f"{reason}\n\nSyncing for this connection is paused until you reconnect it.",
            path=f"/w/{customer.code}/connections/",
        )


def _fresh(grant: XeroGrant) -> bool:
    return bool(
        grant.token
        and grant.access_expires_at
        and grant.access_expires_at - REFRESH_AHEAD > timezone.now()
    )


def xero_access_token(grant_id: int, *, rejected: str | None = None) -> str:
    """A valid access token for the grant, refreshing it ahead of expiry.

    The refresh happens under a row lock and re-reads the grant once the lock is held, so when
    several workers find the token stale at once only the first spends Xero's single-use
    refresh token; the others use what it stored. ``rejected`` is a token Xero just answered
    401 to: it is refreshed even if it looks fresh, unless another worker already replaced it.
    """
    grant = XeroGrant.objects.get(pk=grant_id)
    if _usable(grant, rejected):
        return str(grant.token["access_token"])
    failure: http.ProviderError
    with transaction.atomic():
        grant = XeroGrant.objects.select_for_update().get(pk=grant_id)
        if not grant.is_active:
            raise http.AuthRejected(
                provider=PROVIDER,
                operation="refresh",
                message=grant.status_reason or "Xero needs reconnecting.",
                decision=http.RetryDecision(False, "needs reconnect"),
            )
        if _usable(grant, rejected):
            return str(grant.token["access_token"])
        try:
            response = http.call(
                PROVIDER,
                "refresh",
                "POST",
                metadata()["token_endpoint"],
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": grant.token["refresh_token"],
                },
                auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
            )
        except http.AuthRejected as exc:
            failure = exc  # recorded below, outside the transaction this exception unwinds
        else:
            grant.refresh_count += 1
            grant_store_tokens(grant, _token_from_response(response.json()))
            return str(grant.token["access_token"])
    reason = (
        f"Xero refused to refresh the connection ({failure.message}): it was disconnected "
        "in Xero or the consent expired. Reconnect Xero to resume syncing."
    )
    connection_mark_needs_reconnect(grant, reason=reason)
    raise failure


def _usable(grant: XeroGrant, rejected: str | None) -> bool:
    if not grant.is_active or not grant.token:
        return False
    if rejected is not None:
        return bool(grant.token["access_token"] != rejected)
    return _fresh(grant)


def revoke(grant: XeroGrant) -> None:
    """Revoke the refresh token at Xero: removes all of this user's connections to the app."""
    if not grant.token or not grant.token.get("refresh_token"):
        return
    http.call(
        PROVIDER,
        "revoke",
        "POST",
        metadata()["revocation_endpoint"],
        data={"token": grant.token["refresh_token"]},
        auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
        expect=(400,),
    )


def links_for_grant(grant: XeroGrant) -> list[Link]:
    return list(Link.objects.filter(xero_tenant__grant=grant))

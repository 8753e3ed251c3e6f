"""identity.xero.com: OpenID discovery, JWKS, token, revocation and userinfo.

Errors are IdentityServer's compact JSON (``{"error":"invalid_grant"}``, byte for byte: xero-python
recognises an invalid grant only by that exact body) with HTTP 400, client failures included.

References: developer.xero.com/documentation/guides/oauth2/auth-flow, /token-types,
/faq/oauth2; ../shared/reference/xero-api.md §1. Not offered here: client_credentials (Custom
Connections), introspection and end-session; discovery lists only what the sandbox serves.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.faults import with_faults
from sandbox.xero_identity.models import AuthorizationCode, Grant, RefreshToken, token_hash
from sandbox.xero_identity.oauth import PKCE_METHODS, authenticate_client, pkce_matches
from sandbox.xero_identity.scopes import SCOPE_WORDS
from sandbox.xero_identity.services import grant_revoke
from sandbox.xero_identity.tokens import (
    InvalidGrant,
    bearer_check,
    issue_token_set,
    jwks,
    refresh_token_set,
    subject,
)


def _compact(body: dict[str, object], status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json; charset=UTF-8",
    )
    response["Cache-Control"] = "no-store, no-cache, max-age=0"
    response["Pragma"] = "no-cache"
    return response


def _error(error: str) -> HttpResponse:
    return _compact({"error": error}, status=400)


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    """/.well-known/openid-configuration, which Authlib reads through ``server_metadata_url``."""
    issuer = settings.XERO_IDENTITY_URL
    return JsonResponse(
        {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/openid-configuration/jwks",
            "authorization_endpoint": f"{settings.XERO_LOGIN_URL}/identity/connect/authorize",
            "token_endpoint": f"{issuer}/connect/token",
            "userinfo_endpoint": f"{issuer}/connect/userinfo",
            "revocation_endpoint": f"{issuer}/connect/revocation",
            "scopes_supported": list(SCOPE_WORDS),
            "claims_supported": [
                "sub",
                "xero_userid",
                "global_session_id",
                "sid",
                "auth_time",
                "nonce",
                "email",
                "email_verified",
                "given_name",
                "family_name",
                "name",
                "preferred_username",
            ],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": list(PKCE_METHODS),
        }
    )


@require_GET
def jwks_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(jwks())


@csrf_exempt
@require_POST
@with_faults
def token(request: HttpRequest) -> HttpResponse:
    """POST /connect/token: ``authorization_code`` (with PKCE) and ``refresh_token``.

    Refresh tokens are single use with Xero's 30-minute grace for the one just spent
    (``refresh_token_set``); an unknown, expired, revoked or spent-past-grace token, like any
    failed code exchange, is ``{"error":"invalid_grant"}``.
    """
    app = authenticate_client(request)
    if app is None:
        return _error("invalid_client")
    form = request.POST
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        return _exchange_code(request, client_id=app.client_id)
    if grant_type == "refresh_token":
        raw = form.get("refresh_token", "")
        if not raw:
            return _error("invalid_request")
        try:
            tokens = refresh_token_set(raw, client_id=app.client_id)
        except InvalidGrant:
            return _error("invalid_grant")
        return _compact(tokens.as_response())
    if not grant_type:
        return _error("invalid_request")
    return _error("unsupported_grant_type")


def _exchange_code(request: HttpRequest, *, client_id: str) -> HttpResponse:
    form = request.POST
    raw_code = form.get("code", "")
    if not raw_code:
        return _error("invalid_request")
    now = timezone.now()
    with transaction.atomic():
        code = (
            AuthorizationCode.objects.select_for_update()
            .select_related("grant__app", "grant__user")
            .filter(code_hash=token_hash(raw_code))
            .first()
        )
        if code is None or code.used_at is not None:
            return _error("invalid_grant")
        # Spent now, whatever follows: a failed exchange cannot be retried (IdentityServer).
        code.used_at = now
        code.save(update_fields=["used_at"])
        grant = code.grant
        verifier = form.get("code_verifier", "")
        if (
            grant.app.client_id != client_id
            or code.expires_at <= now
            or form.get("redirect_uri", "") != code.redirect_uri
            or grant.revoked_at is not None
        ):
            return _error("invalid_grant")
        if code.code_challenge:
            if not pkce_matches(
                verifier=verifier,
                challenge=code.code_challenge,
                method=code.code_challenge_method,
            ):
                return _error("invalid_grant")
        elif verifier:
            return _error("invalid_grant")  # a verifier for a code issued without a challenge
        tokens = issue_token_set(grant, nonce=code.nonce or None, now=now)
    return _compact(tokens.as_response())


@csrf_exempt
@require_POST
@with_faults
def revocation(request: HttpRequest) -> HttpResponse:
    """POST /connect/revocation with ``token=<refresh token>``: RFC 7009.

    A refresh token of this client revokes its grant and removes ALL of the user's connections
    to the app (Xero). Unknown tokens, access tokens (JWTs, which cannot be revoked) and tokens
    of another client change nothing and still answer 200, as RFC 7009 §2.2 and IdentityServer
    do.
    """
    app = authenticate_client(request)
    if app is None:
        return _error("invalid_client")
    raw = request.POST.get("token", "")
    if not raw:
        return _error("invalid_request")
    row = (
        RefreshToken.objects.select_related("grant")
        .filter(token_hash=token_hash(raw), grant__app=app)
        .first()
    )
    if row is not None:
        grant_revoke(row.grant)
    return HttpResponse(status=200)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@with_faults
def userinfo(request: HttpRequest) -> HttpResponse:
    """GET|POST /connect/userinfo with a Bearer access token that carries ``openid``."""
    grant = bearer_check(request)
    if not isinstance(grant, Grant):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    if "openid" not in grant.scopes:
        response = HttpResponse(status=403)
        response["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
        return response
    user = grant.user
    claims: dict[str, object] = {
        "sub": subject(user),
        "xero_userid": str(user.xero_userid),
    }
    if "email" in grant.scopes:
        claims.update({"email": user.email, "email_verified": True})
    if "profile" in grant.scopes:
        claims.update(
            {
                "given_name": user.given_name,
                "family_name": user.family_name,
                "name": f"{user.given_name} {user.family_name}",
                "preferred_username": user.email,
            }
        )
    return JsonResponse(claims)

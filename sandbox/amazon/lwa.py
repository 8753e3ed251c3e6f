"""Login with Amazon: authorization codes, the token endpoint, and checking access tokens.

Reference: https://developer-docs.amazon.com/sp-api/docs/website-authorization-workflow
Token endpoint: POST /auth/o2/token (grant_type authorization_code | refresh_token), form body
with client_id and client_secret. Codes live 5 minutes; access tokens 1 hour (prefix Atza|);
refresh tokens (prefix Atzr|) do not rotate and fail with invalid_grant once revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sandbox.amazon.models import LwaAccessToken, LwaApp, LwaAuthCode, LwaRefreshToken, token_hash
from sandbox.faults import with_faults

CODE_LIFETIME = timedelta(minutes=5)
ACCESS_LIFETIME = timedelta(hours=1)


def issue_authorization_code(
    *, app: LwaApp, redirect_uri: str, subject_kind: str, subject_id: str
) -> str:
    """A code the consent page hands back (spapi_oauth_code, or the Business equivalent)."""
    code = "ANDx" + secrets.token_urlsafe(24)
    LwaAuthCode.objects.create(
        app=app,
        code_hash=token_hash(code),
        redirect_uri=redirect_uri,
        subject_kind=subject_kind,
        subject_id=subject_id,
        expires_at=timezone.now() + CODE_LIFETIME,
    )
    return code


def _error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _access_token(refresh: LwaRefreshToken) -> dict[str, object]:
    access = "Atza|" + secrets.token_urlsafe(48)
    LwaAccessToken.objects.create(
        refresh=refresh, token_hash=token_hash(access), expires_at=timezone.now() + ACCESS_LIFETIME
    )
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": int(ACCESS_LIFETIME.total_seconds()),
    }


@csrf_exempt
@require_POST
@with_faults
def token_endpoint(request: HttpRequest) -> JsonResponse:
    form = request.POST
    app = LwaApp.objects.filter(client_id=form.get("client_id", "")).first()
    if app is None or not secrets.compare_digest(app.client_secret, form.get("client_secret", "")):
        return _error("invalid_client", "Client authentication failed", 401)
    grant_type = form.get("grant_type")
    now = timezone.now()
    if grant_type == "authorization_code":
        with transaction.atomic():
            code = (
                LwaAuthCode.objects.select_for_update()
                .filter(app=app, code_hash=token_hash(form.get("code", "")))
                .first()
            )
            if code is None or code.used_at is not None or code.expires_at <= now:
                return _error("invalid_grant", "The authorization code is invalid or expired.")
            if form.get("redirect_uri") and form["redirect_uri"] != code.redirect_uri:
                return _error("invalid_grant", "redirect_uri does not match the authorization.")
            code.used_at = now
            code.save(update_fields=["used_at"])
            raw_refresh = "Atzr|" + secrets.token_urlsafe(64)
            refresh = LwaRefreshToken.objects.create(
                app=app,
                token_hash=token_hash(raw_refresh),
                subject_kind=code.subject_kind,
                subject_id=code.subject_id,
            )
            return JsonResponse(_access_token(refresh) | {"refresh_token": raw_refresh})
    if grant_type == "refresh_token":
        existing = LwaRefreshToken.objects.filter(
            app=app, token_hash=token_hash(form.get("refresh_token", ""))
        ).first()
        if existing is None or existing.revoked_at is not None:
            return _error(
                "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        return JsonResponse(_access_token(existing) | {"refresh_token": form["refresh_token"]})
    return _error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


@dataclass(frozen=True)
class LwaCaller:
    app: LwaApp
    subject_kind: str
    subject_id: str
    refresh: LwaRefreshToken


def lwa_caller(request: HttpRequest, *, kind: str) -> LwaCaller | JsonResponse:
    """Check ``x-amz-access-token``; the errors are the SP-API's own shape."""
    raw = request.headers.get("x-amz-access-token", "")
    row = (
        (
            LwaAccessToken.objects.select_related("refresh__app")
            .filter(token_hash=token_hash(raw))
            .first()
        )
        if raw
        else None
    )
    if row is None or row.expires_at <= timezone.now() or row.refresh.revoked_at is not None:
        return JsonResponse(
            {
                "errors": [
                    {
                        "code": "Unauthorized",
                        "message": "Access to requested resource is denied.",
                        "details": "The access token you provided is revoked, "
                        "malformed or invalid.",
                    }
                ]
            },
            status=403,
        )
    if row.refresh.subject_kind != kind:
        return JsonResponse(
            {
                "errors": [
                    {
                        "code": "Unauthorized",
                        "message": "Access to requested resource is denied.",
                        "details": "",
                    }
                ]
            },
            status=403,
        )
    return LwaCaller(
        app=row.refresh.app,
        subject_kind=row.refresh.subject_kind,
        subject_id=row.refresh.subject_id,
        refresh=row.refresh,
    )

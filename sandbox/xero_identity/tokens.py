"""Issuing and checking Xero tokens, shared by the identity endpoints and the Accounting API.

Access tokens and id_tokens are RS256 JWTs, as Xero's are, signed with a key published at the
sandbox's JWKS endpoint. The database keeps only hashes of the tokens it issued.

Token lifetimes run on real time, not on the sandbox's time scale (which only speeds up rate-limit
windows): a 30-minute access token lives 30 real minutes. Tests that need an expired token or a
refresh token past its grace move the issue times back with ``sandbox.xero_identity.services.
age_grant`` (or ``POST /sandbox/xero/identity/control/expire``).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from authlib.jose import JsonWebKey, jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from sandbox.xero_identity.models import (
    AccessToken,
    Connection,
    Grant,
    RefreshToken,
    SigningKey,
    XeroApp,
    XeroUser,
    token_hash,
)

ACCESS_TOKEN_LIFETIME = timedelta(minutes=30)
REFRESH_TOKEN_LIFETIME = timedelta(days=60)
REFRESH_GRACE = timedelta(minutes=30)
ID_TOKEN_LIFETIME = timedelta(minutes=5)


def issuer() -> str:
    return settings.XERO_IDENTITY_URL


def signing_key() -> SigningKey:
    key = SigningKey.objects.order_by("-created_at").first()
    if key:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    try:
        with transaction.atomic():
            return SigningKey.objects.create(kid=secrets.token_hex(8), private_pem=pem)
    except IntegrityError:
        return SigningKey.objects.order_by("-created_at").first()  # type: ignore[return-value]


def jwks() -> dict[str, object]:
    """Every signing key, newest first: two first requests racing may each create one."""
    signing_key()
    keys = []
    for key in SigningKey.objects.order_by("-created_at", "-id"):
        public = JsonWebKey.import_key(key.private_pem, {"kty": "RSA"}).as_dict(is_private=False)
        public.update({"kid": key.kid, "use": "sig", "alg": "RS256"})
        keys.append(public)
    return {"keys": keys}


def subject(user: XeroUser) -> str:
    """The ``sub`` claim: stable per user, 32 hex digits like Xero's."""
    return uuid.uuid5(uuid.NAMESPACE_URL, str(user.xero_userid)).hex


def _sign(claims: dict[str, object]) -> str:
    key = signing_key()
    token: bytes = jwt.encode(
        {"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key.private_pem
    )
    return token.decode()


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str
    id_token: str | None = None
    token_type: str = "Bearer"

    def as_response(self) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "token_type": self.token_type,
            "scope": self.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.id_token:
            body["id_token"] = self.id_token
        return body


def issue_token_set(
    grant: Grant,
    *,
    nonce: str | None = None,
    now: datetime | None = None,
    parent: RefreshToken | None = None,
) -> TokenSet:
    """New access token (and refresh token with offline_access, id_token with openid).

    ``parent`` is the refresh token spent to get this set, so a test can count refreshes.
    """
    now = now or timezone.now()
    user, app = grant.user, grant.app
    exp = now + ACCESS_TOKEN_LIFETIME
    access = _sign(
        {
            "iss": issuer(),
            "aud": f"{issuer()}/resources",
            "client_id": app.client_id,
            "sub": subject(user),
            "xero_userid": str(user.xero_userid),
            "authentication_event_id": str(grant.auth_event_id),
            "global_session_id": grant.auth_event_id.hex,
            "jti": secrets.token_hex(16),
            "scope": list(grant.scopes),
            "nbf": int(now.timestamp()),
            "iat": int(now.timestamp()),
            "exp": int(exp.timestamp()),
        }
    )
    AccessToken.objects.create(
        grant=grant, token_hash=token_hash(access), issued_at=now, expires_at=exp
    )
    refresh = None
    if "offline_access" in grant.scopes:
        refresh = secrets.token_urlsafe(48)
        RefreshToken.objects.create(
            grant=grant,
            token_hash=token_hash(refresh),
            issued_at=now,
            expires_at=now + REFRESH_TOKEN_LIFETIME,
            parent=parent,
        )
    id_token = None
    if "openid" in grant.scopes:
        claims: dict[str, object] = {
            "iss": issuer(),
            "aud": app.client_id,
            "nbf": int(now.timestamp()),
            "iat": int(now.timestamp()),
            "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
            "auth_time": int(now.timestamp()),
            "sub": subject(user),
            "xero_userid": str(user.xero_userid),
            "sid": grant.auth_event_id.hex,
            "global_session_id": grant.auth_event_id.hex,
        }
        if nonce:
            claims["nonce"] = nonce
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
        id_token = _sign(claims)
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        scope=" ".join(grant.scopes),
        id_token=id_token,
    )


class InvalidGrant(Exception):
    pass


def refresh_token_set(raw_refresh: str, *, client_id: str, now: datetime | None = None) -> TokenSet:
    """Spend a refresh token: single use, with a 30-minute grace for the one just rotated."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .select_related("grant__app")
            .filter(token_hash=token_hash(raw_refresh))
            .first()
        )
        if row is None or row.grant.app.client_id != client_id:
            raise InvalidGrant("unknown refresh token")
        if row.grant.revoked_at is not None or row.expires_at <= now:
            raise InvalidGrant("refresh token revoked or expired")
        if row.used_at is not None and row.used_at + REFRESH_GRACE <= now:
            raise InvalidGrant("refresh token already used")
        if row.used_at is None:
            row.used_at = now
            row.save(update_fields=["used_at"])
        return issue_token_set(row.grant, now=now, parent=row)


@dataclass
class Caller:
    """Who is calling the Accounting API, for which tenant, with which scopes."""

    grant: Grant
    tenant_id: uuid.UUID
    connection: Connection
    scopes: set[str] = field(default_factory=set)

    def allows(self, scope: str) -> bool:
        """``accounting.invoices`` covers ``accounting.invoices.read`` too."""
        return scope in self.scopes or scope.removesuffix(".read") in self.scopes


def unauthorized(detail: str = "AuthenticationUnsuccessful") -> JsonResponse:
    response = JsonResponse(
        {
            "Type": None,
            "Title": "Unauthorized",
            "Status": 401,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def forbidden(detail: str = "AuthenticationUnsuccessful") -> JsonResponse:
    return JsonResponse(
        {
            "Type": None,
            "Title": "Forbidden",
            "Status": 403,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
        status=403,
    )


def bearer_check(request: HttpRequest) -> Grant | JsonResponse:
    """The grant behind ``Authorization: Bearer``, or Xero's 401.

    An expired token gets Xero's own detail (``TokenExpired: token expired at 07/14/2020
    21:26:02``, UTC, as seen in xero-node#435 and xeroizer#509); anything else unknown or revoked
    gets ``AuthenticationUnsuccessful``.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return unauthorized()
    row = (
        AccessToken.objects.select_related("grant__app", "grant__user")
        .filter(token_hash=token_hash(header.removeprefix("Bearer ").strip()))
        .first()
    )
    if row is None or row.grant.revoked_at is not None:
        return unauthorized()
    if row.expires_at <= timezone.now():
        return unauthorized(f"TokenExpired: token expired at {row.expires_at:%m/%d/%Y %H:%M:%S}")
    return row.grant


def bearer_grant(request: HttpRequest) -> Grant | None:
    checked = bearer_check(request)
    return checked if isinstance(checked, Grant) else None


def api_caller(request: HttpRequest, *, scope: str | None = None) -> Caller | JsonResponse:
    """Authenticate an Accounting API call: a live bearer token and a connected tenant.

    A tenant id that is malformed or not connected for this app and user (never connected,
    disconnected, or its connections removed by revocation) is Xero's 403
    ``AuthenticationUnsuccessful``.
    """
    grant = bearer_check(request)
    if not isinstance(grant, Grant):
        return grant
    raw_tenant = request.headers.get("xero-tenant-id", "")
    try:
        tenant_id = uuid.UUID(raw_tenant)
    except ValueError:
        return forbidden("AuthenticationUnsuccessful")
    connection = Connection.objects.filter(
        app=grant.app, user=grant.user, tenant_id=tenant_id
    ).first()
    if connection is None:
        return forbidden("AuthenticationUnsuccessful")
    caller = Caller(
        grant=grant, tenant_id=tenant_id, connection=connection, scopes=set(grant.scopes)
    )
    if scope and not caller.allows(scope):
        return unauthorized("AuthorizationUnsuccessful")
    return caller


def grant_create(
    *, app: XeroApp, user: XeroUser, scopes: list[str], tenant_ids: list[uuid.UUID]
) -> Grant:
    """Record a consent: a new token chain, and a connection per chosen tenant.

    Reconnecting a tenant keeps its connection id and moves ``updatedDateUtc``, as Xero does.
    """
    from sandbox.xero.models import Organisation

    with transaction.atomic():
        grant = Grant.objects.create(app=app, user=user, scopes=list(scopes))
        for org in Organisation.objects.filter(tenant_id__in=tenant_ids):
            connection, created = Connection.objects.get_or_create(
                app=app,
                user=user,
                tenant_id=org.tenant_id,
                defaults={"tenant_name": org.name, "auth_event_id": grant.auth_event_id},
            )
            if not created:
                connection.auth_event_id = grant.auth_event_id
                connection.tenant_name = org.name
                connection.save()
    return grant

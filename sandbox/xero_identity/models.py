"""Xero identity as the sandbox holds it: apps, users, grants, tokens and connections.

Tokens are stored as SHA-256 hashes, never in clear. A *grant* is one token chain (what the hub
stores as a token set): each refresh spends the current refresh token and issues the next, with
Xero's 30-minute grace for the previous one.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import models


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class XeroApp(models.Model):
    """An app registered at developer.xero.com (client id, secret, redirect URIs)."""

    client_id = models.CharField(max_length=64, unique=True)
    client_secret = models.CharField(max_length=128, blank=True)  # empty for PKCE apps
    name = models.CharField(max_length=100)
    redirect_uris = models.JSONField(default=list)
    # Scopes the app is configured for; requesting any other refuses the whole consent.
    allowed_scopes = models.JSONField(default=list)
    application_id = models.UUIDField(default=uuid.uuid4, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class XeroUser(models.Model):
    """A person who signs in to Xero and consents."""

    xero_userid = models.UUIDField(default=uuid.uuid4, unique=True)
    email = models.EmailField(unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    # Organisations this user may connect (tenant ids of sandbox_xero.Organisation).
    tenant_ids = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.email


class Grant(models.Model):
    """One token chain from one consent."""

    app = models.ForeignKey(XeroApp, models.CASCADE, related_name="grants")
    user = models.ForeignKey(XeroUser, models.CASCADE, related_name="grants")
    scopes = models.JSONField(default=list)
    auth_event_id = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class RefreshToken(models.Model):
    grant = models.ForeignKey(Grant, models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()  # 60 days after issue
    used_at = models.DateTimeField(null=True, blank=True)  # rotated: grace runs from here
    # The token spent to get this one (None for the first of a chain). A token spent N times
    # (once, then retried within the grace) has N successors: tests count refreshes with it.
    parent = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="successors"
    )


class AccessToken(models.Model):
    grant = models.ForeignKey(Grant, models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()  # 30 minutes after issue


class AuthorizationCode(models.Model):
    """A code handed to the redirect URI after consent: single use, five minutes.

    The grant (and its connections) exists from the moment the user allowed access, as in Xero,
    where the tenants are connected even if the app never exchanges the code.
    """

    grant = models.ForeignKey(Grant, models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.CharField(max_length=2000)
    nonce = models.CharField(max_length=500, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)  # plain | S256
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class Connection(models.Model):
    """GET /connections: one app's access to one tenant, on behalf of one user."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    app = models.ForeignKey(XeroApp, models.CASCADE, related_name="connections")
    user = models.ForeignKey(XeroUser, models.CASCADE, related_name="connections")
    tenant_id = models.UUIDField()
    tenant_type = models.CharField(max_length=20, default="ORGANISATION")
    tenant_name = models.CharField(max_length=255)
    auth_event_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["app", "user", "tenant_id"], name="xero_connection_once"
            )
        ]


class SigningKey(models.Model):
    """The RSA key that signs id_tokens and access tokens; published at the JWKS endpoint."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

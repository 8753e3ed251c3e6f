"""Login with Amazon (LWA) as the sandbox holds it: apps, codes and tokens.

LWA serves both the SP-API (a selling partner authorises an app in Seller Central) and the
Amazon Business API (a business administrator authorises it on the buyer store). A token's
*subject* says which: ``("seller", selling_partner_id)`` or ``("business", account id)``.
"""

from __future__ import annotations

import hashlib

from django.db import models


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LwaApp(models.Model):
    class Kind(models.TextChoices):
        SELLER = "seller", "SP-API application"
        BUSINESS = "business", "Amazon Business application"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    application_id = models.CharField(max_length=100, unique=True)  # amzn1.sp.solution.…
    client_id = models.CharField(max_length=100, unique=True)  # amzn1.application-oa2-client.…
    client_secret = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    redirect_uris = models.JSONField(default=list)


class LwaAuthCode(models.Model):
    app = models.ForeignKey(LwaApp, models.CASCADE)
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.CharField(max_length=500)
    subject_kind = models.CharField(max_length=10)
    subject_id = models.CharField(max_length=100)
    expires_at = models.DateTimeField()  # five minutes after issue
    used_at = models.DateTimeField(null=True, blank=True)


class LwaRefreshToken(models.Model):
    """Long-lived; Amazon does not rotate it. Revoked when the seller removes the app."""

    app = models.ForeignKey(LwaApp, models.CASCADE)
    token_hash = models.CharField(max_length=64, unique=True)
    subject_kind = models.CharField(max_length=10)
    subject_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class LwaAccessToken(models.Model):
    refresh = models.ForeignKey(LwaRefreshToken, models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()  # one hour after issue

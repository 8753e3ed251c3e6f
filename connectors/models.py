"""Connections to Xero and Amazon, and the links that pair them.

Tokens live only in ``EncryptedJSONField`` columns (Fernet ciphertext at rest). A connection that
Xero or Amazon revoked is kept with ``status=needs_reconnect`` and the reason, so the user sees
"reconnect" instead of a sync that silently stopped.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from connectors.vault import EncryptedJSONField
from hub.models import Customer


class Status(models.TextChoices):
    ACTIVE = "active", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"


class ConnectionState(models.Model):
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status == Status.ACTIVE


class XeroGrant(ConnectionState):
    """One Xero token set: one Xero user's consent for this workspace."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="xero_grants")
    xero_userid = models.UUIDField()
    email = models.EmailField(blank=True)
    auth_event_id = models.UUIDField(null=True, blank=True)
    # {"access_token", "refresh_token", "expires_at" (epoch seconds), "scope"}
    token = EncryptedJSONField(null=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "xero_userid"], name="xero_grant_once"),
        ]

    def __str__(self) -> str:
        return f"Xero consent by {self.email or self.xero_userid}"


class XeroTenant(models.Model):
    """A Xero organisation the workspace chose to sync into."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="xero_tenants")
    grant = models.ForeignKey(XeroGrant, models.CASCADE, related_name="tenants")
    tenant_id = models.UUIDField()
    connection_id = models.UUIDField()
    name = models.CharField(max_length=255)
    country_code = models.CharField(max_length=2, blank=True)
    base_currency = models.CharField(max_length=3, blank=True)
    edition = models.CharField(max_length=20, blank=True)
    org_class = models.CharField(max_length=20, blank=True)
    short_code = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One Xero organisation feeds one workspace; a second would post everything twice.
            models.UniqueConstraint(fields=["tenant_id"], name="xero_tenant_one_workspace"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        return self.grant.status


class AmazonSellerAccount(ConnectionState):
    """A Seller Central account authorised for one region (one consent covers the region)."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="seller_accounts")
    name = models.CharField(max_length=100)
    region = models.CharField(max_length=2)  # na, eu, fe
    selling_partner_id = models.CharField(max_length=50)
    # {"refresh_token", "access_token", "access_expires_at" (epoch seconds)}
    token = EncryptedJSONField(null=True)
    authorised_at = models.DateTimeField(default=timezone.now)
    # [{"id", "name", "country", "currency"}] as getMarketplaceParticipations lists them.
    available_marketplaces = models.JSONField(default=list)
    marketplace_ids = models.JSONField(default=list)  # the ones the user chose to sync

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["selling_partner_id", "region"], name="seller_account_one_workspace"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AmazonBusinessAccount(ConnectionState):
    customer = models.ForeignKey(Customer, models.CASCADE, related_name="business_accounts")
    name = models.CharField(max_length=100)
    region = models.CharField(max_length=2)
    token = EncryptedJSONField(null=True)
    authorised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Link(models.Model):
    """One Amazon account feeding one Xero organisation of the same workspace."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="links")
    xero_tenant = models.ForeignKey(XeroTenant, models.CASCADE, related_name="links")
    seller_account = models.OneToOneField(
        AmazonSellerAccount, models.CASCADE, null=True, blank=True, related_name="link"
    )
    business_account = models.OneToOneField(
        AmazonBusinessAccount, models.CASCADE, null=True, blank=True, related_name="link"
    )
    paused_by_user = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(seller_account__isnull=False, business_account__isnull=True)
                    | Q(seller_account__isnull=True, business_account__isnull=False)
                ),
                name="link_one_amazon_account",
            ),
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.amazon} → {self.xero_tenant}"

    @property
    def amazon(self) -> AmazonSellerAccount | AmazonBusinessAccount:
        account = self.seller_account or self.business_account
        assert account is not None
        return account

    @property
    def pause_reason(self) -> str:
        """Why nothing syncs for this link right now ('' when it runs)."""
        if self.paused_by_user:
            return "Paused by you."
        if not self.xero_tenant.grant.is_active:
            return "Paused: Xero needs reconnecting."
        if not self.amazon.is_active:
            return "Paused: Amazon needs reconnecting."
        return ""


class LimiterEvent(models.Model):
    """The database rate-limiter backend's log (the demo runs without Redis)."""

    key = models.CharField(max_length=200, db_index=True)
    at = models.FloatField()  # unix time; for a concurrency lease, when it expires
    lease = models.CharField(max_length=32, blank=True)
    tokens = models.FloatField(null=True, blank=True)  # token buckets only

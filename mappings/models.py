"""A link's account mapping, what it has seen from Amazon, and a cached copy of the Xero chart.

- ``CategoryMapping``: one Amazon category → Xero account code, tax type, up to two tracking
  options.
- ``MappingSettings``: the rest of a link's mapping (clearing, reserve, suspense and rounding
  accounts, marketplace contacts and tracking, payment methods, the Amazon Business supplier).
- ``SeenItem``: every category and payment method a sync met, with when it was first met; an
  unmapped one is shown as "map this" and holds only its own documents.
- ``ChartCache``: the tenant's Accounts, TaxRates, TrackingCategories, Currencies and
  Organisation as Xero last returned them (a refresh costs five Xero calls).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from connectors.models import Link, XeroTenant


class CategoryMapping(models.Model):
    link = models.ForeignKey(Link, models.CASCADE, related_name="category_mappings")
    category_key = models.CharField(max_length=200)
    account_code = models.CharField(max_length=10)
    tax_type = models.CharField(max_length=50, blank=True)
    tracking1_category = models.CharField(max_length=100, blank=True)
    tracking1_option = models.CharField(max_length=100, blank=True)
    tracking2_category = models.CharField(max_length=100, blank=True)
    tracking2_option = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "category_key"], name="category_mapping_once")
        ]
        ordering = ["category_key"]

    def __str__(self) -> str:
        return f"{self.category_key} → {self.account_code}"

    @property
    def tracking(self) -> tuple[tuple[str, str], ...]:
        pairs = [
            (self.tracking1_category, self.tracking1_option),
            (self.tracking2_category, self.tracking2_option),
        ]
        return tuple((c, o) for c, o in pairs if c and o)


class MappingSettings(models.Model):
    link = models.OneToOneField(Link, models.CASCADE, related_name="mapping_settings")
    clearing_account = models.CharField(max_length=10, blank=True)
    reserve_account = models.CharField(max_length=10, blank=True)
    suspense_account = models.CharField(max_length=10, blank=True)
    rounding_account = models.CharField(max_length=10, blank=True)
    # marketplace id -> Xero contact name
    marketplace_contacts = models.JSONField(default=dict, blank=True)
    # marketplace id -> [tracking category name, option name]
    marketplace_tracking = models.JSONField(default=dict, blank=True)
    # payment-method key ("card:4242", "invoice") -> account code, or "bill"
    payment_methods = models.JSONField(default=dict, blank=True)
    business_supplier_contact_id = models.CharField(max_length=36, blank=True)
    # When an owner finished the review step (the wizard shows it done).
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "mapping settings"

    def __str__(self) -> str:
        return f"Mapping settings for {self.link}"


class SeenItem(models.Model):
    class Kind(models.TextChoices):
        CATEGORY = "category", "Category"
        PAYMENT_METHOD = "payment_method", "Payment method"

    link = models.ForeignKey(Link, models.CASCADE, related_name="seen_items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200)
    label = models.CharField(max_length=255)
    group = models.CharField(max_length=100, blank=True)
    category_kind = models.CharField(max_length=30, blank=True)  # Category.kind
    hint = models.CharField(max_length=100, blank=True)
    unmapped = models.BooleanField(default=False)  # an unknown combination (suspense)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "kind", "key"], name="seen_item_once")
        ]
        ordering = ["first_seen_at", "key"]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"


class ChartCache(models.Model):
    tenant = models.OneToOneField(XeroTenant, models.CASCADE, related_name="chart_cache")
    accounts = models.JSONField(default=list)
    tax_rates = models.JSONField(default=list)
    tracking_categories = models.JSONField(default=list)
    currencies = models.JSONField(default=list)
    organisation = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Chart of {self.tenant} at {self.refreshed_at:%Y-%m-%d %H:%M}"

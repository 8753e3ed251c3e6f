"""Seller Central orders as the hub keeps them, for links that account per order.

- ``OrderSettings``: per link, the accounting mode (settlement summary, the default, or one
  invoice per order), the per-order options, and the incremental pull's cursor.
- ``AmazonOrder``: one order per link and AmazonOrderId, as the Orders API (or, for a backfill,
  the flat-file orders report) last described it: the order, its items, and what the hub made
  of it (its invoice's ledger row, and the check of the invoice against Amazon's total).
- ``BuyerContact``: per-buyer Xero contacts, de-duplicated by normalised e-mail or name.
A pull's page-by-page checkpoint (NextToken, report id, orders still needing items) lives on
its ``sync.Run``.
"""

from __future__ import annotations

from django.db import models

from connectors.models import Link
from sync.models import LedgerEntry


class AccountingMode(models.TextChoices):
    SUMMARY = "summary", "Settlement summary"
    PER_ORDER = "per_order", "Per order"


class OrderSettings(models.Model):
    link = models.OneToOneField(Link, models.CASCADE, related_name="order_settings")
    mode = models.CharField(
        max_length=10, choices=AccountingMode.choices, default=AccountingMode.SUMMARY
    )
    # Orders purchased before this post in their settlement's summary lines (set when the
    # mode becomes per order, so history is never counted twice).
    per_order_since = models.DateTimeField(null=True, blank=True)
    contact_per_buyer = models.BooleanField(
        default=False,
        help_text="One Xero contact per buyer when Amazon shares buyer details, instead of "
        "one 'Amazon Customers' contact per marketplace.",
    )
    create_items = models.BooleanField(
        default=False, help_text="Create a Xero Item for each SKU that has none."
    )
    sync_enabled = models.BooleanField(default=True)
    # Orders last updated before this were all read by an earlier pull (LastUpdatedAfter).
    updated_through = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    # AmazonOrderIds asked for by id (a settlement names orders the hub has not read yet),
    # waiting for an orders run to fetch them.
    fetch_ids = models.JSONField(default=list, blank=True)
    # Xero Item codes of the organisation, as last read (one GET /Items), and when.
    item_codes = models.JSONField(default=list, blank=True)
    items_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "order settings"

    def __str__(self) -> str:
        return f"Order settings for {self.link}"

    @property
    def per_order(self) -> bool:
        return self.mode == AccountingMode.PER_ORDER


class AmazonOrder(models.Model):
    class Source(models.TextChoices):
        API = "api", "Orders API"
        REPORT = "report", "Orders report"

    link = models.ForeignKey(Link, models.CASCADE, related_name="amazon_orders")
    amazon_order_id = models.CharField(max_length=40)
    marketplace_id = models.CharField(max_length=20)
    sales_channel = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=30)  # OrderStatus: Shipped, Canceled, …
    purchase_date = models.DateTimeField()
    last_update_date = models.DateTimeField()
    currency = models.CharField(max_length=3, blank=True)
    order_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # The ordersV0 Order, and its OrderItems (report rows are read into the same shape).
    data = models.JSONField(default=dict)
    items = models.JSONField(default=list)
    # When the items were read (None: still to read; older than last_update_date: read again).
    items_read_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    invoice_entry = models.ForeignKey(
        LedgerEntry, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The check: the invoice's total less Amazon's order total, and why they differ.
    difference = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    check_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "amazon_order_id"], name="hub_amazon_order_once"
            ),
        ]
        indexes = [
            models.Index(fields=["link", "status"]),
            models.Index(fields=["link", "last_update_date"]),
        ]
        ordering = ["-purchase_date", "-id"]

    def __str__(self) -> str:
        return f"Order {self.amazon_order_id} ({self.status})"


class BuyerContact(models.Model):
    link = models.ForeignKey(Link, models.CASCADE, related_name="buyer_contacts")
    key = models.CharField(max_length=255)  # "email:…" or "name:…", normalised
    contact_name = models.CharField(max_length=255)
    email = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "key"], name="buyer_contact_once")]

    def __str__(self) -> str:
        return self.contact_name

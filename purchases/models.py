"""Amazon Business purchases as the hub keeps them.

- ``PurchaseTransaction``: each Reconciliation API transaction, stored as Amazon sent it (the
  source record; natural key link + transactionId), with what the hub learnt about it since
  (the Pay by Invoice payment status) and the ledger rows it became.
- ``PurchaseSettings``: per link, the scheduled-sync interval, how far the feed has been read
  (the high-water mark a sync resumes from), and the "Amazon Business" supplier contact the hub
  created in Xero, tracked by its ContactID.
- ``PurchaseNotice``: what the hub did on the user's behalf and wants them to know ("the
  Amazon Business contact was archived in Xero; it was reactivated").

A pull's page-by-page checkpoint (feed window and nextPageToken) lives on its ``sync.Run``.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from connectors.models import Link
from sync.models import LedgerEntry, Run

DEFAULT_INTERVAL_MINUTES = 60


class PurchaseSettings(models.Model):
    link = models.OneToOneField(Link, models.CASCADE, related_name="purchase_settings")
    sync_enabled = models.BooleanField(
        default=False, help_text="Scheduled sync runs once the user started it (import or sync)."
    )
    sync_interval_minutes = models.PositiveIntegerField(default=DEFAULT_INTERVAL_MINUTES)
    # Every transaction with a feedDate before this has been read (a sync resumes from here).
    synced_through = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    supplier_contact_id = models.CharField(max_length=36, blank=True)
    supplier_contact_name = models.CharField(max_length=255, blank=True)
    supplier_contact_number = models.CharField(max_length=50, blank=True)
    supplier_checked_at = models.DateTimeField(null=True, blank=True)
    # Cost centre (as requisitioners type it in Amazon) -> [[tracking category, option], …]
    cost_centre_tracking = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "purchase settings"

    def __str__(self) -> str:
        return f"Purchase settings for {self.link}"


class PurchaseTransaction(models.Model):
    link = models.ForeignKey(Link, models.CASCADE, related_name="purchase_transactions")
    transaction_id = models.CharField(max_length=100)
    transaction_type = models.CharField(max_length=12)  # CHARGE, REFUND, OVERREFUND
    feed_date = models.DateTimeField()
    transaction_date = models.DateTimeField()
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    method_key = models.CharField(max_length=60)  # "card:4242", "invoice", "other:giftcard"
    method_label = models.CharField(max_length=120)
    invoice_number = models.CharField(max_length=100, blank=True)
    order_id = models.CharField(max_length=100, blank=True)
    # The joined purchase of a split payment: its transaction ids, sorted, joined by "+".
    split_group = models.CharField(max_length=400, blank=True)
    data = models.JSONField()  # Amazon's Transaction object, unchanged
    # Amazon changed the transaction after its document was posted: shown to the user.
    changed_after_post = models.BooleanField(default=False)
    # Pay by Invoice: getBatchInvoicePaymentDetails.
    invoice_status = models.CharField(max_length=40, blank=True)
    invoice_due_date = models.DateField(null=True, blank=True)
    invoice_closed_on = models.DateField(null=True, blank=True)
    invoice_checked_at = models.DateTimeField(null=True, blank=True)
    invoice_error = models.CharField(max_length=300, blank=True)
    # What it became in the ledger.
    entry = models.ForeignKey(LedgerEntry, models.SET_NULL, null=True, blank=True, related_name="+")
    payment_entry = models.ForeignKey(
        LedgerEntry, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey(Run, models.SET_NULL, null=True, blank=True, related_name="+")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "transaction_id"], name="purchase_transaction_once"
            ),
        ]
        indexes = [
            models.Index(fields=["link", "feed_date"], name="purchase_feed"),
            models.Index(fields=["link", "method_key"], name="purchase_method"),
        ]
        ordering = ["feed_date", "id"]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.transaction_id} ({self.amount} {self.currency})"

    @property
    def is_pay_by_invoice_charge(self) -> bool:
        return self.method_key == "invoice" and self.amount > Decimal(0)


class PurchaseNotice(models.Model):
    class Level(models.TextChoices):
        INFO = "info", "Information"
        WARNING = "warning", "Warning"

    link = models.ForeignKey(Link, models.CASCADE, related_name="purchase_notices")
    at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.message

"""Seller Central settlements as the hub keeps them.

- ``SettlementFile``: a settlement report exactly as received (downloaded from the Reports API
  or uploaded from Seller Central), gzip-compressed; written once, never changed. A file that
  could not be read keeps the reason (``error``), and nothing from it posts.
- ``Settlement``: one settlement per link and settlement-id, read from the copy in use (Amazon
  can issue a settlement twice: the latest complete copy wins until something was posted).
- ``SettlementAmount``: the settlement's rows summed by posted day, transaction type, amount
  type, description, marketplace (and SKU when grouping by SKU): what documents are built
  from, so a remap rebuilds without reading the file again.
- ``SettlementDocument``: each Xero document a settlement became (one, or one per month when
  split), its ledger rows and its audit-CSV attachment.
- ``SettlementSettings``: per link, the options (split at month end, group by SKU) and the pull
  schedule.
A pull's page-by-page checkpoint (nextToken, reports still to download) lives on its
``sync.Run``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from connectors.models import Link
from sync.models import LedgerEntry


class SettlementSettings(models.Model):
    link = models.OneToOneField(Link, models.CASCADE, related_name="settlement_settings")
    split_month_end = models.BooleanField(
        default=False,
        help_text="A settlement that spans a month end posts as one document per month.",
    )
    group_by_sku = models.BooleanField(
        default=False, help_text="One line per category and SKU instead of per category."
    )
    sync_enabled = models.BooleanField(
        default=False, help_text="Fetch new settlement reports on a schedule."
    )
    last_pull_at = models.DateTimeField(null=True, blank=True)
    # Reports created before this were all listed by an earlier pull (minus an overlap).
    listed_through = models.DateTimeField(null=True, blank=True)
    # An attachment task is queued for this link (one at a time; cleared when it finishes).
    attach_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "settlement settings"

    def __str__(self) -> str:
        return f"Settlement settings for {self.link}"


class SettlementFile(models.Model):
    class Source(models.TextChoices):
        REPORT = "report", "Reports API"
        UPLOAD = "upload", "Uploaded"

    link = models.ForeignKey(Link, models.CASCADE, related_name="settlement_files")
    source = models.CharField(max_length=10, choices=Source.choices)
    report_id = models.CharField(max_length=40, blank=True)
    report_document_id = models.CharField(max_length=200, blank=True)
    report_type = models.CharField(max_length=60, blank=True)
    # When Amazon issued the report (createdTime); for an upload, when it was received.
    issued_at = models.DateTimeField()
    file_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content = models.BinaryField()  # the raw file, gzip-compressed
    settlement_id = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)  # why the file was refused ("" = accepted)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "report_id"],
                condition=~Q(report_id=""),
                name="settlement_file_report_once",
            ),
            models.UniqueConstraint(
                fields=["link", "sha256"],
                condition=Q(source="upload"),
                name="settlement_file_upload_once",
            ),
        ]
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name or self.report_id} ({self.settlement_id or 'unread'})"


class Settlement(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for Amazon's deposit"
        BUILT = "built", "In the ledger"
        HELD = "held", "Held"
        IGNORED = "ignored", "Not a marketplace you sync"

    link = models.ForeignKey(Link, models.CASCADE, related_name="settlements")
    settlement_id = models.CharField(max_length=40)
    # A file cannot be deleted while a settlement reads from it, unless the settlement goes too
    # (a link disconnected, a workspace uninstalled): RESTRICT, not PROTECT.
    file = models.ForeignKey(SettlementFile, models.RESTRICT, related_name="settlements")
    layout = models.CharField(max_length=10)  # v2, flat
    currency = models.CharField(max_length=3)
    start = models.DateTimeField()
    end = models.DateTimeField()
    deposit_date = models.DateTimeField(null=True, blank=True)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2)
    marketplace = models.CharField(max_length=60, blank=True)  # the main marketplace name
    rows = models.PositiveIntegerField(default=0)
    by_sku = models.BooleanField(default=False)  # amounts were summed per SKU
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    held_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)  # what the user should know (suspense, a newer copy)
    # Where each (transaction type, amount type, description) posted, for the audit CSV:
    # "type\x1fatype\x1fdescription" -> {"key", "label", "account", "tax_type", "note"}.
    assignments = models.JSONField(default=dict, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "settlement_id"], name="hub_settlement_once"),
        ]
        ordering = ["-end", "-id"]

    def __str__(self) -> str:
        return f"Settlement {self.settlement_id} ({self.currency} {self.total_amount})"


class SettlementAmount(models.Model):
    settlement = models.ForeignKey(Settlement, models.CASCADE, related_name="amounts")
    day = models.DateField()
    transaction_type = models.CharField(max_length=100)
    amount_type = models.CharField(max_length=100)
    amount_description = models.CharField(max_length=255)
    marketplace = models.CharField(max_length=60)
    sku = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]


class SettlementDocument(models.Model):
    settlement = models.ForeignKey(Settlement, models.CASCADE, related_name="documents")
    part = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=20)  # invoice, bill
    number = models.CharField(max_length=100)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    entry = models.ForeignKey(LedgerEntry, models.SET_NULL, null=True, related_name="+")
    payment_entry = models.ForeignKey(
        LedgerEntry, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attachment_name = models.CharField(max_length=255)
    # The Xero document the audit CSV was attached to (a re-post after a rollback is another).
    attached_to = models.UUIDField(null=True, blank=True)
    attached_at = models.DateTimeField(null=True, blank=True)
    attachment_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["settlement", "part"], name="settlement_document_once")
        ]
        ordering = ["part"]

    def __str__(self) -> str:
        return self.number

"""The ledger (one row per outbound Xero document), its attempts, and runs.

The ledger is the source of truth for "was this sent". Its natural key (link, kind, Amazon id,
part) is unique, so a re-import or a retry finds the row it already made instead of making a
second; and a row moves through explicit states:

    pending → sending → posted | failed | held        posted → voided
    sending → pending       (a throttled or failed batch, nothing created)
    sending → (lookup) → posted | pending              (an uncertain outcome, resolved in Xero)
    failed | held → pending (retry after the user fixed the cause)
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from connectors.models import Link


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Sales invoice"
    BILL = "bill", "Bill"
    CREDIT_NOTE = "credit_note", "Credit note"
    PAYMENT = "payment", "Payment"
    BANK_TRANSACTION = "bank_transaction", "Bank transaction"
    MANUAL_JOURNAL = "manual_journal", "Manual journal"
    # Part of a credit note applied to an invoice: parent = the credit note, target = the invoice.
    ALLOCATION = "allocation", "Credit note allocation"


class EntryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to post"
    SENDING = "sending", "Sending"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"
    HELD = "held", "Held"
    VOIDED = "voided", "Voided"


class RunKind(models.TextChoices):
    SETTLEMENTS = "settlements", "Settlements"
    ORDERS = "orders", "Orders"
    BUSINESS = "business", "Amazon Business purchases"
    PUSH = "push", "Posting to Xero"
    ROLLBACK = "rollback", "Roll back"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Run(models.Model):
    """One import or sync: what it pulled and posted, how far it got, where to resume."""

    link = models.ForeignKey(Link, models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20, choices=RunKind.choices)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    range_start = models.DateTimeField(null=True, blank=True)
    range_end = models.DateTimeField(null=True, blank=True)
    pulled = models.PositiveIntegerField(default=0)
    posted = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Already posted before.")
    total = models.PositiveIntegerField(default=0, help_text="Documents this run will handle.")
    # Where an interrupted pull resumes: NextToken, LastUpdatedAfter, report ids seen, …
    checkpoint = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A link never runs two pulls of the same kind at once.
            models.UniqueConstraint(
                fields=["link", "kind"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_run_per_link_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.link} ({self.status})"

    @property
    def label(self) -> str:
        """What the progress bar says (the live script shows the same, from run_progress)."""
        if self.kind == RunKind.ORDERS:
            return f"{self.progress}% · {self.pulled} orders read ({self.status})"
        return (
            f"{self.progress}% · {self.posted} posted, {self.skipped} already posted, "
            f"{self.held} held, {self.failed} failed of {self.total} ({self.status})"
        )

    @property
    def progress(self) -> int:
        """Percent of this run's documents that reached a final state."""
        if self.kind == RunKind.ORDERS:  # it reads orders; their invoices post on their own
            return 100 if self.status == RunStatus.DONE else 0
        if not self.total:
            return 100 if self.status == RunStatus.DONE else 0
        done = self.posted + self.failed + self.held + self.skipped
        return min(100, round(100 * done / self.total))


class LedgerEntry(models.Model):
    link = models.ForeignKey(Link, models.CASCADE, related_name="ledger")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    amazon_id = models.CharField(max_length=100)
    part = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=EntryStatus.choices, default=EntryStatus.PENDING
    )
    # The Xero document to send, built by a pure transform; replaced only while not yet sent.
    payload = models.JSONField()
    # Looked up in Xero to settle an uncertain outcome: InvoiceNumber, else Reference.
    lookup_number = models.CharField(max_length=255, blank=True)
    lookup_reference = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="children"
    )
    # A second document this one needs posted first: the invoice an allocation applies to.
    target = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="targeted_by"
    )
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    xero_id = models.UUIDField(null=True, blank=True)
    xero_number = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    held_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Bumped when a rolled-back (voided) document is posted again: its number gets "-R<n>",
    # since Xero keeps a voided invoice's number.
    revision = models.PositiveSmallIntegerField(default=0)
    run = models.ForeignKey(Run, models.SET_NULL, null=True, blank=True, related_name="entries")
    claimed_at = models.DateTimeField(null=True, blank=True)
    batch_key = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "kind", "amazon_id", "part"], name="ledger_natural_key"
            ),
        ]
        indexes = [models.Index(fields=["link", "kind", "status"])]
        ordering = ["id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        suffix = f"/{self.part}" if self.part else ""
        return f"{self.get_kind_display()} {self.amazon_id}{suffix} ({self.status})"


class Attempt(models.Model):
    """Every try at sending an entry, kept: what was sent, what came back."""

    entry = models.ForeignKey(LedgerEntry, models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    batch_key = models.CharField(max_length=128)
    outcome = models.CharField(max_length=20)  # posted, failed, throttled, uncertain, resolved…
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]


class PushQueue(models.Model):
    """At most one queued push task per link and kind: a backlog never floods the broker.

    The task re-queues itself (at the back of the queue) while work remains, so every link with
    work gets a batch in turn: one customer's backfill cannot starve another's daily sync.
    """

    link = models.ForeignKey(Link, models.CASCADE, related_name="push_queue")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "kind"], name="push_queue_once")]

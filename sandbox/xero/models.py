"""A Xero organisation (tenant) and everything the Accounting API 2.0 holds for it.

Documents (invoices, credit notes, bank transactions, manual journals) keep the lines and the
less-used fields as JSON in ``data`` and the fields the API filters, sorts and totals on as
columns. Money is ``Decimal`` to the cent (unit amounts to 4 dp), as Xero stores it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models


def money() -> models.DecimalField[Decimal | int | str, Decimal]:
    """An amount to the cent, zero unless set."""
    return models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))


def rate() -> models.DecimalField[Decimal | int | str, Decimal]:
    """A currency rate to 6 dp (Xero's 18.6), one unless set."""
    return rate()


class Organisation(models.Model):
    tenant_id = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=255)
    short_code = models.CharField(max_length=20, unique=True)
    country_code = models.CharField(max_length=2)  # GB, US, AU, ...
    base_currency = models.CharField(max_length=3)
    # Xero's Organisation.Version: UK, US, AU, NZ, GLOBAL...
    version = models.CharField(max_length=10)
    # BUSINESS, or PARTNER (Xero's partner edition: no invoicing).
    edition = models.CharField(max_length=10, default="BUSINESS")
    org_class = models.CharField(max_length=20, default="STANDARD")
    organisation_type = models.CharField(max_length=20, default="COMPANY")
    sales_tax_basis = models.CharField(max_length=20, default="ACCRUALS")
    timezone = models.CharField(max_length=60, default="GMTSTANDARDTIME")
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    legal_name = models.CharField(max_length=255, blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    registration_number = models.CharField(max_length=50, blank=True)
    sales_tax_period = models.CharField(max_length=20, default="QUARTERLY1")
    financial_year_end_day = models.PositiveSmallIntegerField(default=31)
    financial_year_end_month = models.PositiveSmallIntegerField(default=3)
    line_of_business = models.CharField(max_length=100, blank=True)
    # Organisation Invoice Settings: the next number Xero generates when none is given.
    next_invoice_number = models.PositiveIntegerField(default=1)
    next_credit_note_number = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


ACCOUNT_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}


class Account(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="accounts")
    account_id = models.UUIDField(default=uuid.uuid4, unique=True)
    code = models.CharField(max_length=10, blank=True)
    name = models.CharField(max_length=150)
    type = models.CharField(max_length=20)
    tax_type = models.CharField(max_length=30, default="NONE")
    status = models.CharField(max_length=10, default="ACTIVE")  # ACTIVE / ARCHIVED / DELETED
    description = models.TextField(blank=True)
    bank_account_number = models.CharField(max_length=50, blank=True)
    bank_account_type = models.CharField(max_length=20, blank=True)  # BANK / CREDITCARD / PAYPAL
    currency_code = models.CharField(max_length=3, blank=True)
    enable_payments = models.BooleanField(default=False)
    show_in_expense_claims = models.BooleanField(default=False)
    system_account = models.CharField(max_length=30, blank=True)
    reporting_code = models.CharField(max_length=30, blank=True)
    add_to_watchlist = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code", "name"]
        indexes = [models.Index(fields=["org", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def account_class(self) -> str:
        return ACCOUNT_CLASS.get(self.type, "ASSET")


class TaxRate(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="tax_rates")
    tax_type = models.CharField(max_length=30)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="ACTIVE")
    report_tax_type = models.CharField(max_length=30, blank=True)
    # [{"Name": "VAT", "Rate": "20.0000", "IsCompound": false, "IsNonRecoverable": false}]
    components = models.JSONField(default=list)
    can_apply_to_assets = models.BooleanField(default=True)
    can_apply_to_equity = models.BooleanField(default=True)
    can_apply_to_expenses = models.BooleanField(default=True)
    can_apply_to_liabilities = models.BooleanField(default=True)
    can_apply_to_revenue = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "tax_type"], name="xero_tax_type_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_type})"


class TrackingCategory(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="tracking_categories")
    category_id = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="ACTIVE")

    class Meta:
        ordering = ["name"]


class TrackingOption(models.Model):
    category = models.ForeignKey(TrackingCategory, models.CASCADE, related_name="options")
    option_id = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="ACTIVE")

    class Meta:
        ordering = ["name"]


class Currency(models.Model):
    """A currency enabled for the organisation (the base currency always is)."""

    org = models.ForeignKey(Organisation, models.CASCADE, related_name="currencies")
    code = models.CharField(max_length=3)
    description = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["org", "code"], name="xero_currency_once")]


class Contact(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="contacts")
    contact_id = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=12, default="ACTIVE")  # ACTIVE / ARCHIVED / GDPRREQUEST
    contact_number = models.CharField(max_length=50, blank=True)
    account_number = models.CharField(max_length=50, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    company_number = models.CharField(max_length=50, blank=True)
    default_currency = models.CharField(max_length=3, blank=True)
    is_supplier = models.BooleanField(default=False)
    is_customer = models.BooleanField(default=False)
    # Addresses, Phones, ContactPersons, PaymentTerms, default accounts... as sent.
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["org", "name"])]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="items")
    item_id = models.UUIDField(default=uuid.uuid4, unique=True)
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    purchase_description = models.TextField(blank=True)
    is_sold = models.BooleanField(default=True)
    is_purchased = models.BooleanField(default=True)
    # {"UnitPrice": "12.5000", "AccountCode": "200", "TaxType": "OUTPUT2"}
    sales_details = models.JSONField(default=dict)
    purchase_details = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["org", "code"], name="xero_item_code_once")]


class Invoice(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="invoices")
    invoice_id = models.UUIDField(default=uuid.uuid4, unique=True)
    type = models.CharField(max_length=10)  # ACCREC / ACCPAY
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12)
    contact = models.ForeignKey(Contact, models.PROTECT, related_name="invoices")
    currency_code = models.CharField(max_length=3)
    currency_rate = models.DecimalField(
        max_digits=18, decimal_places=6, default=Decimal("1.000000")
    )
    line_amount_types = models.CharField(max_length=10, default="Exclusive")
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    sub_total = money()
    total_tax = money()
    total = money()
    amount_due = money()
    amount_paid = money()
    amount_credited = money()
    fully_paid_on = models.DateField(null=True, blank=True)
    # LineItems (rendered), Url, SentToContact, BrandingThemeID, Expected/PlannedPaymentDate.
    data = models.JSONField(default=dict)
    created_by_app = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["updated_at", "id"]
        indexes = [
            models.Index(fields=["org", "updated_at"]),
            models.Index(fields=["org", "type", "number"]),
            models.Index(fields=["org", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.number or self.invoice_id}"


class CreditNote(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="credit_notes")
    credit_note_id = models.UUIDField(default=uuid.uuid4, unique=True)
    type = models.CharField(max_length=14)  # ACCRECCREDIT / ACCPAYCREDIT
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12)
    contact = models.ForeignKey(Contact, models.PROTECT, related_name="credit_notes")
    currency_code = models.CharField(max_length=3)
    currency_rate = models.DecimalField(
        max_digits=18, decimal_places=6, default=Decimal("1.000000")
    )
    line_amount_types = models.CharField(max_length=10, default="Exclusive")
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    sub_total = money()
    total_tax = money()
    total = money()
    remaining_credit = money()
    fully_paid_on = models.DateField(null=True, blank=True)
    data = models.JSONField(default=dict)
    created_by_app = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["updated_at", "id"]
        indexes = [models.Index(fields=["org", "updated_at"])]


class Allocation(models.Model):
    """Part of a credit note applied to an invoice of the same contact and currency."""

    allocation_id = models.UUIDField(default=uuid.uuid4, unique=True)
    credit_note = models.ForeignKey(CreditNote, models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, models.CASCADE, related_name="allocations")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    date = models.DateField()
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class Payment(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="payments")
    payment_id = models.UUIDField(default=uuid.uuid4, unique=True)
    invoice = models.ForeignKey(
        Invoice, models.CASCADE, null=True, blank=True, related_name="payments"
    )
    credit_note = models.ForeignKey(
        CreditNote, models.CASCADE, null=True, blank=True, related_name="payments"
    )
    account = models.ForeignKey(Account, models.PROTECT, related_name="payments")
    date = models.DateField()
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency_rate = models.DecimalField(
        max_digits=18, decimal_places=6, default=Decimal("1.000000")
    )
    reference = models.CharField(max_length=255, blank=True)
    is_reconciled = models.BooleanField(default=False)
    status = models.CharField(max_length=10, default="AUTHORISED")  # AUTHORISED / DELETED
    payment_type = models.CharField(max_length=30)
    created_by_app = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["updated_at", "id"]
        indexes = [models.Index(fields=["org", "updated_at"])]


class BankTransaction(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="bank_transactions")
    bank_transaction_id = models.UUIDField(default=uuid.uuid4, unique=True)
    type = models.CharField(max_length=20)  # SPEND / RECEIVE (others are read-only)
    contact = models.ForeignKey(Contact, models.PROTECT, related_name="bank_transactions")
    bank_account = models.ForeignKey(Account, models.PROTECT, related_name="bank_transactions")
    date = models.DateField()
    reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, default="AUTHORISED")
    is_reconciled = models.BooleanField(default=False)
    currency_code = models.CharField(max_length=3)
    currency_rate = models.DecimalField(
        max_digits=18, decimal_places=6, default=Decimal("1.000000")
    )
    line_amount_types = models.CharField(max_length=10, default="Exclusive")
    sub_total = money()
    total_tax = money()
    total = money()
    data = models.JSONField(default=dict)
    created_by_app = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["updated_at", "id"]
        indexes = [models.Index(fields=["org", "updated_at"])]


class ManualJournal(models.Model):
    org = models.ForeignKey(Organisation, models.CASCADE, related_name="manual_journals")
    manual_journal_id = models.UUIDField(default=uuid.uuid4, unique=True)
    narration = models.TextField()
    date = models.DateField()
    status = models.CharField(max_length=10, default="DRAFT")
    line_amount_types = models.CharField(max_length=10, default="NoTax")
    show_on_cash_basis = models.BooleanField(default=True)
    data = models.JSONField(default=dict)  # JournalLines, Url
    created_by_app = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["updated_at", "id"]
        indexes = [models.Index(fields=["org", "updated_at"])]


class Attachment(models.Model):
    """A file attached to one document (Xero allows 10 per document)."""

    org = models.ForeignKey(Organisation, models.CASCADE, related_name="attachments")
    attachment_id = models.UUIDField(default=uuid.uuid4, unique=True)
    endpoint = models.CharField(max_length=30)  # Invoices, CreditNotes, BankTransactions, ...
    object_id = models.UUIDField()
    file_name = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    content = models.BinaryField()
    include_online = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "object_id", "file_name"], name="xero_attachment_name_once"
            )
        ]


class IdempotencyRecord(models.Model):
    """The first response to an Idempotency-Key, replayed for 6 (scaled) minutes."""

    tenant_id = models.UUIDField()
    client_id = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    method = models.CharField(max_length=10)
    url = models.TextField()
    body_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None while processing
    body = models.BinaryField(default=b"")
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "client_id", "key"], name="xero_idempotency_key_once"
            )
        ]


class WebhookSubscription(models.Model):
    """Where Xero POSTs events: one per app (``app`` set) or one for every app (global)."""

    app = models.ForeignKey(
        "sandbox_xero_identity.XeroApp",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_subscriptions",
    )
    url = models.URLField(max_length=500)
    signing_key = models.CharField(max_length=128)
    categories = models.JSONField(default=list)  # e.g. ["CONTACT", "INVOICE", "CREDITNOTE"]
    status = models.CharField(max_length=10, default="ACTIVE")  # ACTIVE / DISABLED
    intent_verified_at = models.DateTimeField(null=True, blank=True)
    next_sequence = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One POST to a subscription: the exact bytes sent and what came back."""

    subscription = models.ForeignKey(WebhookSubscription, models.CASCADE, related_name="deliveries")
    payload = models.BinaryField()
    signature = models.CharField(max_length=100)
    first_sequence = models.PositiveBigIntegerField()
    last_sequence = models.PositiveBigIntegerField()
    event_count = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField()

    class Meta:
        ordering = ["delivered_at", "id"]

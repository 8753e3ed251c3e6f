"""Amazon Business as the sandbox holds it: buyer accounts, their users, purchases and invoices.

A business account's purchases are stored as the Reconciliation API reports them: each
``Transaction`` row keeps the API's own ``Transaction`` object in ``data`` (spec field names,
string amounts) beside the columns the API filters and pages on, so the API serves exactly what
was generated or added, and the pages can list it without parsing JSON.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models

from sandbox.amazon.models import LwaApp

# Pay by Invoice: a payment takes this long to clear ("Payment Processing" → "Closed"). Amazon
# does not document the delay; two days matches the generator's own rule.
PAYMENT_PROCESSING = timedelta(days=2)


class BusinessAccount(models.Model):
    """One Amazon Business account in one region (one LWA authorization each)."""

    account_id = models.CharField(max_length=100, unique=True)  # amzn1.abws.account.…
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=2, default="US")  # a key of datagen.business.REGIONS
    marketplace_id = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    legal_entity_name = models.CharField(max_length=200)
    seed = models.IntegerField(default=1, help_text="Seed of the generated data and additions.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"


class BusinessUser(models.Model):
    """A person who signs in to the business account on the buyer store."""

    class Role(models.TextChoices):
        # Only this role may authorize an app: "admin for all legal entities" (AB onboarding).
        ADMIN = "admin", "Administrator (all legal entities)"
        GROUP_ADMIN = "group_admin", "Group administrator (one group only)"
        REQUISITIONER = "requisitioner", "Requisitioner (buyer)"

    account = models.ForeignKey(BusinessAccount, models.CASCADE, related_name="users")
    user_id = models.CharField(max_length=100)  # amzn1.account.…
    name = models.CharField(max_length=200)
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user_id"], name="business_user_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def may_authorize_apps(self) -> bool:
        return self.role == self.Role.ADMIN


class PaymentMethod(models.Model):
    """A payment instrument on the account: a card (with last 4 digits), Pay by Invoice, …"""

    account = models.ForeignKey(BusinessAccount, models.CASCADE, related_name="payment_methods")
    key = models.CharField(max_length=40)  # "card-1111", "pay-by-invoice", "gift-card"
    payment_instrument_type = models.CharField(max_length=40)  # Transaction.paymentInstrumentType
    last4 = models.CharField(max_length=4, blank=True)  # paymentInstrumentLast4Digits, cards only
    label = models.CharField(max_length=200)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="business_payment_method_once")
        ]

    def __str__(self) -> str:
        return self.label


class Transaction(models.Model):
    """One Reconciliation API ``Transaction``; ``data`` is the API object itself."""

    account = models.ForeignKey(BusinessAccount, models.CASCADE, related_name="transactions")
    transaction_id = models.CharField(max_length=40)
    transaction_type = models.CharField(max_length=12)  # CHARGE, REFUND, OVERREFUND
    # getTransactions filters and pages on feedDate: a transaction is not returned before it.
    feed_date = models.DateTimeField()
    transaction_date = models.DateTimeField()
    payment_instrument_type = models.CharField(max_length=40)
    last4 = models.CharField(max_length=4, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    invoice_number = models.CharField(max_length=40, blank=True)
    # One shipment of one order per transaction: getInvoiceDetailsByOrderLineItems looks it up.
    order_id = models.CharField(max_length=40, blank=True, db_index=True)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "transaction_id"], name="business_transaction_once"
            )
        ]
        indexes = [
            models.Index(fields=["account", "feed_date", "id"], name="business_tx_feed"),
            models.Index(fields=["account", "transaction_date"], name="business_tx_date"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.transaction_id}"


class Invoice(models.Model):
    """A Pay by Invoice invoice and its payment, as getBatchInvoicePaymentDetails reports it.

    The status is worked out from the clock when asked, so invoices move on by themselves:
    Issued → Past Due once the due date passes; Payment Processing from ``paid_at``; Closed
    from ``closed_at``.
    """

    account = models.ForeignKey(BusinessAccount, models.CASCADE, related_name="invoices")
    invoice_id = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    issued_at = models.DateTimeField()
    due_date = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "invoice_id"], name="business_invoice_once")
        ]

    def __str__(self) -> str:
        return self.invoice_id

    def status_at(self, now: datetime) -> str:
        """One of the statuses PaymentDetails documents: Closed, Payment Processing, …"""
        if self.closed_at is not None and self.closed_at <= now:
            return "Closed"
        if self.paid_at is not None and self.paid_at <= now:
            return "Payment Processing"
        return "Past Due" if self.due_date < now else "Issued"


class Authorization(models.Model):
    """An administrator's consent for an app; revoking it revokes the app's refresh tokens."""

    account = models.ForeignKey(BusinessAccount, models.CASCADE, related_name="authorizations")
    user = models.ForeignKey(BusinessUser, models.CASCADE, related_name="authorizations")
    app = models.ForeignKey(LwaApp, models.CASCADE, related_name="business_authorizations")
    redirect_uri = models.CharField(max_length=500)
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.app.name} on {self.account.name}"

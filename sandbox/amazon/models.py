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
    # A Draft app (not yet listed in the Appstore) is authorised only with ``version=beta``
    # (Seller Central error MD1000 otherwise); the hub's sandbox apps are Drafts, as real ones
    # are until published.
    is_published = models.BooleanField(default=False)


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


# --------------------------------------------------------------------------- seller data
#
# What Seller Central holds for each seeded selling partner, as `sandbox.datagen.seller`
# generated it. The SP-API views read only these rows; nothing is generated per request.


class Seller(models.Model):
    """A selling partner (``A2SANDBOXEU1``) and the marketplaces it sells in."""

    selling_partner_id = models.CharField(max_length=20, unique=True)
    store_name = models.CharField(max_length=100)
    marketplace_ids = models.JSONField(default=list)
    # The generator's inputs, so the dataset can be told apart and regenerated.
    seed = models.IntegerField()
    data_start = models.DateField()
    data_days = models.IntegerField()
    data_orders = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.store_name} ({self.selling_partner_id})"


class SellerAuthorization(models.Model):
    """A seller's consent to an app, as Seller Central's "Manage your apps" lists it."""

    app = models.ForeignKey(LwaApp, models.CASCADE)
    seller = models.ForeignKey(Seller, models.CASCADE)
    region = models.CharField(max_length=2, help_text="na, eu or fe: the hint the app sent.")
    redirect_uri = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class Order(models.Model):
    seller = models.ForeignKey(Seller, models.CASCADE)
    amazon_order_id = models.CharField(max_length=19)
    seller_order_id = models.CharField(max_length=40, blank=True)
    marketplace_id = models.CharField(max_length=20)
    purchase_date = models.DateTimeField()
    last_update_date = models.DateTimeField()
    status = models.CharField(max_length=20)
    fulfillment_channel = models.CharField(max_length=3)
    data = models.JSONField(help_text="The ordersV0 Order, as getOrders returns it.")
    items = models.JSONField(help_text="The ordersV0 OrderItems, as getOrderItems returns them.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "amazon_order_id"], name="amazon_order_once")
        ]
        indexes = [
            models.Index(fields=["seller", "marketplace_id", "purchase_date"]),
            models.Index(fields=["seller", "marketplace_id", "last_update_date"]),
        ]


class FinancialEventGroup(models.Model):
    """One settlement period's money, as the Finances API shows it (Open or Closed)."""

    seller = models.ForeignKey(Seller, models.CASCADE)
    group_id = models.CharField(max_length=60)
    settlement_id = models.CharField(max_length=20)
    marketplace_id = models.CharField(max_length=20)
    region = models.CharField(max_length=2)
    processing_status = models.CharField(max_length=10)
    fund_transfer_status = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    original_total = models.DecimalField(max_digits=14, decimal_places=2)
    beginning_balance = models.DecimalField(max_digits=14, decimal_places=2)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    fund_transfer_date = models.DateTimeField(null=True, blank=True)
    trace_id = models.CharField(max_length=30, blank=True)
    account_tail = models.CharField(max_length=4, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "group_id"], name="amazon_event_group_once")
        ]
        indexes = [models.Index(fields=["seller", "region", "start"])]


class Settlement(models.Model):
    seller = models.ForeignKey(Seller, models.CASCADE)
    settlement_id = models.CharField(max_length=20)
    marketplace_id = models.CharField(max_length=20)
    region = models.CharField(max_length=2)
    currency = models.CharField(max_length=3)
    start = models.DateTimeField()
    end = models.DateTimeField()
    deposit_date = models.DateTimeField(null=True, blank=True)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2)
    processing_status = models.CharField(max_length=10)  # Open or Closed
    group = models.OneToOneField(FinancialEventGroup, models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "settlement_id"], name="settlement_once")
        ]


class FinancialTransaction(models.Model):
    """One posting (an order's shipment, a refund, a fee …): the settlement rows it made.

    ``rows`` holds compact ``[amount-type, amount-description, amount, order-item-code, sku,
    quantity, promotion-id]`` lists; Finances v0 events and 2024-06-19 transactions are built
    from them, so both APIs add up to the settlement to the cent.
    """

    seller = models.ForeignKey(Seller, models.CASCADE)
    transaction_id = models.CharField(max_length=60)
    group = models.ForeignKey(FinancialEventGroup, models.CASCADE)
    transaction_type = models.CharField(max_length=40)  # the settlement's transaction-type
    marketplace_id = models.CharField(max_length=20)
    region = models.CharField(max_length=2)
    order_id = models.CharField(max_length=19, blank=True, db_index=True)
    merchant_order_id = models.CharField(max_length=40, blank=True)
    adjustment_id = models.CharField(max_length=20, blank=True)
    shipment_id = models.CharField(max_length=20, blank=True)
    fulfillment_channel = models.CharField(max_length=3, blank=True)
    posted_date = models.DateTimeField()
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    rows = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "transaction_id"], name="amazon_transaction_once"
            )
        ]
        indexes = [
            models.Index(fields=["seller", "region", "posted_date"]),
            models.Index(fields=["group", "posted_date"]),
        ]


class ReportDocument(models.Model):
    """The bytes behind a report, stored as served (gzipped when ``compression`` says so)."""

    seller = models.ForeignKey(Seller, models.CASCADE)
    document_id = models.CharField(max_length=120, unique=True)
    content = models.BinaryField()
    compression = models.CharField(max_length=4, blank=True)  # "GZIP" or ""
    content_type = models.CharField(max_length=60)


class Report(models.Model):
    seller = models.ForeignKey(Seller, models.CASCADE)
    region = models.CharField(max_length=2)
    report_id = models.CharField(max_length=20, unique=True)
    report_type = models.CharField(max_length=80)
    marketplace_ids = models.JSONField(default=list)
    data_start = models.DateTimeField()
    data_end = models.DateTimeField()
    created_time = models.DateTimeField()
    # IN_QUEUE until processing starts, IN_PROGRESS until it ends, then ``final_status``.
    processing_start = models.DateTimeField()
    processing_end = models.DateTimeField()
    final_status = models.CharField(max_length=12)  # DONE, FATAL or CANCELLED
    document = models.ForeignKey(ReportDocument, models.SET_NULL, null=True, blank=True)
    settlement = models.ForeignKey(Settlement, models.CASCADE, null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["seller", "region", "report_type", "created_time"])]

"""A Xero organisation (tenant) as the sandbox holds it."""

from __future__ import annotations

import uuid

from django.db import models


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
    timezone = models.CharField(max_length=60, default="GMTUKTIME")
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

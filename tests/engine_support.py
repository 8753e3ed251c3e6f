"""Wiring the hub to sandbox organisations quickly, for engine tests and benchmarks.

The OAuth flows themselves are tested end to end elsewhere; here the sandbox issues the hub's
app a token set directly, and the hub stores it exactly as the flow would.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from connectors.models import AmazonSellerAccount, Link, XeroGrant, XeroTenant
from hub.models import Customer
from sandbox.xero.models import Organisation
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import connect
from sandbox.xero_identity.models import Connection
from sandbox.xero_identity.seed import hub_app, seed_identity
from sync.models import LedgerEntry
from sync.push import PushOutcome, push_batch

UK_ORG = "Northwind Goods Ltd"


def seed_xero(site_url: str) -> None:
    seed_organisations(site_url=site_url)
    seed_identity(site_url=site_url)


def hub_tenant(*, org: Organisation, customer: Customer, site_url: str) -> XeroTenant:
    """The customer's Xero tenant, with a token set the sandbox issued to the hub's app."""
    conn = connect(org, app=hub_app(site_url=site_url))
    grant = XeroGrant.objects.create(
        customer=customer,
        xero_userid=conn.user.xero_userid,
        email=conn.user.email,
        token={
            "access_token": conn.access_token,
            "refresh_token": conn.refresh_token,
            "expires_at": int(time.time()) + 1800,
            "scope": " ".join(conn.scopes),
        },
        access_expires_at=datetime.fromtimestamp(time.time() + 1800, tz=UTC),
    )
    connection = Connection.objects.get(app=conn.app, user=conn.user, tenant_id=org.tenant_id)
    return XeroTenant.objects.create(
        customer=customer,
        grant=grant,
        tenant_id=org.tenant_id,
        connection_id=connection.id,
        name=org.name,
        country_code=org.country_code,
        base_currency=org.base_currency,
    )


def hub_link(*, org: Organisation, customer_name: str, site_url: str) -> Link:
    """A workspace whose Xero grant came from the sandbox, linked to a Seller Central account."""
    customer = Customer.objects.create(name=customer_name)
    tenant = hub_tenant(org=org, customer=customer, site_url=site_url)
    seller = AmazonSellerAccount.objects.create(
        customer=customer,
        name=f"{customer_name} Amazon",
        region="eu",
        selling_partner_id=f"A{customer.pk:06d}{org.short_code.strip('!')}",
    )
    return Link.objects.create(customer=customer, xero_tenant=tenant, seller_account=seller)


def invoice_payload(n: int, *, prefix: str = "AMZ") -> dict[str, Any]:
    """A valid UK sales invoice (Northwind's chart: 200 Sales, OUTPUT2 20% VAT)."""
    return {
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "Contact": {"Name": "Amazon.co.uk"},
        "Date": "2026-11-01",
        "DueDate": "2026-11-15",
        "InvoiceNumber": f"{prefix}-{n:06d}",
        "Reference": f"settlement {n}",
        "CurrencyCode": "GBP",
        "LineItems": [
            {
                "Description": "Amazon sales",
                "Quantity": "1",
                "UnitAmount": f"{Decimal(10) + Decimal(n % 97) / 4:.2f}",
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    }


def ledger_invoices(link: Link, count: int, *, prefix: str = "AMZ") -> list[LedgerEntry]:
    return LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                link=link,
                kind="invoice",
                amazon_id=f"{prefix}{n}",
                payload=invoice_payload(n, prefix=prefix),
                lookup_number=f"{prefix}-{n:06d}",
                currency="GBP",
            )
            for n in range(count)
        ]
    )


def drain(link: Link, kind: str = "invoice", *, deadline: float = 120.0) -> list[PushOutcome]:
    """Push until nothing is left to send, waiting as told (the test waits, not a worker)."""
    outcomes = []
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        outcome = push_batch(link_id=link.pk, kind=kind)
        outcomes.append(outcome)
        open_rows = LedgerEntry.objects.filter(
            link=link, kind=kind, status__in=["pending", "sending"]
        ).exists()
        if not open_rows:
            return outcomes
        time.sleep(min(outcome.wait, 5.0) if outcome.wait else 0.0)
    raise AssertionError(f"not drained in {deadline}s: {outcomes[-3:]}")


def settings_env(sandbox_url: str) -> dict[str, str]:
    """Environment for a worker process: the same database and sandbox as the test."""
    from django.db import connection

    db = connection.settings_dict
    return {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SITE_URL": sandbox_url.removesuffix("/sandbox"),
        "SANDBOX_URL": sandbox_url,
        "XERO_IDENTITY_URL": settings.XERO_IDENTITY_URL,
        "XERO_API_URL": settings.XERO_API_URL,
        "XERO_LOGIN_URL": settings.XERO_LOGIN_URL,
        "RATE_LIMIT_TIME_SCALE": str(settings.RATE_LIMIT_TIME_SCALE),
    }

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from connectors.models import AmazonSellerAccount, Link, XeroGrant, XeroTenant
from hub.metrics import record_call
from hub.models import Customer
from sync.models import Attempt, LedgerEntry


@pytest.mark.django_db
def test_metrics_expose_calls_ledger_states_and_attempts() -> None:
    customer = Customer.objects.create(name="Metrics Ltd")
    grant = XeroGrant.objects.create(
        customer=customer, xero_userid="00000000-0000-0000-0000-0000000000a1"
    )
    tenant = XeroTenant.objects.create(
        customer=customer,
        grant=grant,
        name="Org",
        tenant_id="00000000-0000-0000-0000-0000000000b1",
        connection_id="00000000-0000-0000-0000-0000000000c1",
    )
    seller = AmazonSellerAccount.objects.create(
        customer=customer, name="EU", region="eu", selling_partner_id="A1METRICS"
    )
    link = Link.objects.create(customer=customer, xero_tenant=tenant, seller_account=seller)
    entry = LedgerEntry.objects.create(
        link=link, kind="invoice", amazon_id="S1", payload={}, status="failed"
    )
    LedgerEntry.objects.create(link=link, kind="invoice", amazon_id="S2", payload={})
    Attempt.objects.create(entry=entry, batch_key="k", outcome="throttled")
    record_call("xero", "createInvoices", 429, 0.12)

    body = Client().get("/metrics").content.decode()
    assert 'hub_ledger_entries{kind="invoice",status="failed"} 1.0' in body
    assert 'hub_ledger_entries{kind="invoice",status="pending"} 1.0' in body
    assert 'hub_ledger_attempts{outcome="throttled"} 1.0' in body
    assert 'hub_provider_throttled_total{provider="xero"}' in body
    assert (
        'hub_provider_calls_total{operation="createInvoices",provider="xero",status="429"}' in body
    )
    assert "hub_push_queue_depth 0.0" in body


@pytest.mark.django_db
@override_settings(METRICS_TOKEN="scrape-me")
def test_metrics_can_require_a_token() -> None:
    assert Client().get("/metrics").status_code == 401
    ok = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert ok.status_code == 200 and b"hub_ledger_entries" in ok.content

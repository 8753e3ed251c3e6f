"""Fixtures for the purchases tests."""

from __future__ import annotations

import pytest

from connectors.models import AmazonBusinessAccount, Link, XeroGrant, XeroTenant
from hub.models import Customer
from tests.purchases.support import own_queue


@pytest.fixture
def queue():
    """Tasks the test queues go to a queue of its own, purged afterwards."""
    with own_queue() as name:
        yield name


@pytest.fixture
def offline_link(customer: Customer) -> Link:
    """A business link with stored (unusable) tokens: for code that calls no provider."""
    grant = XeroGrant.objects.create(
        customer=customer, xero_userid="00000000-0000-0000-0000-00000000aaaa"
    )
    tenant = XeroTenant.objects.create(
        customer=customer,
        grant=grant,
        tenant_id="00000000-0000-0000-0000-0000000000bb",
        connection_id="00000000-0000-0000-0000-0000000000cc",
        name="Redwood Supply Co.",
    )
    account = AmazonBusinessAccount.objects.create(
        customer=customer, name="Amazon Business US", region="na", token={"refresh_token": "x"}
    )
    return Link.objects.create(customer=customer, xero_tenant=tenant, business_account=account)

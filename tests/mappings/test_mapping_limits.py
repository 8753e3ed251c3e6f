"""The chart is read through the tenant's shared limiter: a busy limiter delays, never fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from connectors import limits
from connectors.models import Link
from connectors.providers import XERO_TENANT_CONCURRENT
from mappings import services
from mappings.models import ChartCache
from mappings.resolve import Target
from mappings.services import MappingInput
from sync.ledger import ledger_upsert
from sync.models import EntryStatus, LedgerEntry
from sync.push import push_batch
from tests.conftest import client_for
from tests.engine_support import invoice_payload
from tests.mappings.support import UK, seller_link


@contextmanager
def all_slots_taken(link: Link) -> Iterator[None]:
    """Another worker holds every in-flight slot of the tenant (5 calls under way)."""
    tenant = str(link.xero_tenant.tenant_id)
    grants = [limits.xero_acquire(tenant) for _ in range(XERO_TENANT_CONCURRENT)]
    assert all(g.ok for g in grants)
    try:
        yield
    finally:
        for grant in grants:
            limits.xero_release(grant)


def test_the_page_waits_for_the_limiter_and_then_uses_its_copy(
    sandbox_url: str, owner: User
) -> None:
    link = seller_link(sandbox_url.removesuffix("/sandbox"), UK, owner=owner)
    client = client_for(owner)
    url = f"/w/{link.customer.code}/links/{link.pk}/mapping/"
    with all_slots_taken(link):
        busy = client.get(url)
    assert busy.status_code == 502
    text = busy.content.decode()
    assert "Xero&#x27;s chart of accounts could not be read" in text
    assert "waiting for a rate-limit slot" in text and "nothing was changed" in text
    assert not ChartCache.objects.exists()

    assert client.get(url).status_code == 200  # read and cached
    with all_slots_taken(link):
        refreshed = client.post(f"{url}refresh/", follow=True)
    text = refreshed.content.decode()
    assert "Xero could not be read just now (waiting for a rate-limit slot" in text
    assert "this check used the copy of your chart from" in text


def test_a_busy_limiter_before_a_push_delays_the_batch(sandbox_url: str) -> None:
    link = seller_link(sandbox_url.removesuffix("/sandbox"), UK)
    assert (
        services.mapping_save(
            link, MappingInput(targets={"seller:sales:principal": Target("200", "OUTPUT2")})
        )
        == []
    )
    ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="LIM1",
        payload=invoice_payload(1, prefix="LIM"),
        total=Decimal("10.00"),
        currency="GBP",
    )
    ChartCache.objects.update(refreshed_at=timezone.now() - timedelta(hours=1))
    with all_slots_taken(link):
        outcome = push_batch(link_id=link.pk, kind="invoice")
    assert outcome.more and outcome.wait > 0 and outcome.sent == 0
    entry = LedgerEntry.objects.get(amazon_id="LIM1")
    assert entry.status == EntryStatus.PENDING and entry.attempts == 0
    outcome = push_batch(link_id=link.pk, kind="invoice")
    assert outcome.posted == 1

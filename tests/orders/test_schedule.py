"""The "orders" dispatcher source and the Sync now trigger: per-order links only, on time."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from connectors.models import AmazonSellerAccount, Link, XeroGrant, XeroTenant
from hub.models import Customer
from orders import pull
from orders.models import AccountingMode, OrderSettings
from orders.schedule import orders_due, orders_sync_now
from sync.dispatch import link_sync_now, registered_sources
from sync.models import Run, RunStatus
from tests.sandbox.amazon_support import DE, UK


def _link(customer: Customer, mode: str | None = AccountingMode.PER_ORDER, **options: Any) -> Link:
    """A Seller Central link (no provider behind it) syncing UK and DE, in ``mode``."""
    grant = XeroGrant.objects.create(customer=customer, xero_userid=uuid.uuid4())
    tenant = XeroTenant.objects.create(
        customer=customer,
        grant=grant,
        tenant_id=uuid.uuid4(),
        connection_id=uuid.uuid4(),
        name=f"{customer.name} Xero",
    )
    account = AmazonSellerAccount.objects.create(
        customer=customer,
        name=f"{customer.name} Amazon EU",
        region="eu",
        selling_partner_id=f"A{uuid.uuid4().hex[:12].upper()}",
        marketplace_ids=[UK, DE],
    )
    link = Link.objects.create(customer=customer, xero_tenant=tenant, seller_account=account)
    if mode is not None:
        OrderSettings.objects.create(link=link, mode=mode, **options)
    return link


def _runs(link: Link) -> list[Run]:
    return list(Run.objects.filter(link=link, kind="orders"))


def test_the_source_is_registered() -> None:
    assert "orders" in registered_sources()


def test_only_per_order_links_with_their_sync_on_are_pulled_when_due(customer: Customer) -> None:
    link = _link(customer)
    summary = _link(Customer.objects.create(name="Summary Ltd"), AccountingMode.SUMMARY)
    off = _link(Customer.objects.create(name="Off Ltd"), sync_enabled=False)
    unset = _link(Customer.objects.create(name="Unset Ltd"), None)
    now = timezone.now()
    assert orders_due(now) == 1
    (run,) = _runs(link)
    assert run.status == "queued" and run.checkpoint["mode"] == "sync"
    assert run.checkpoint["step"] == 0 and run.range_start == now - pull.FIRST_PULL
    assert not _runs(summary) and not _runs(off) and not _runs(unset)
    assert orders_due(now) == 0  # one active run per link

    finished = now + timedelta(minutes=1)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.DONE)
    OrderSettings.objects.filter(link=link).update(last_pull_at=finished, updated_through=now)
    assert orders_due(finished + timedelta(minutes=59)) == 0  # ORDERS_PULL_MINUTES: 60
    assert orders_due(finished + timedelta(minutes=60)) == 1
    second = Run.objects.filter(link=link, status="queued").get()
    assert second.range_start == now - pull.OVERLAP
    Run.objects.filter(pk=second.pk).update(status=RunStatus.DONE)
    with override_settings(ORDERS_PULL_MINUTES=5):
        assert orders_due(finished + timedelta(minutes=5)) == 1
    Run.objects.filter(link=link).update(status=RunStatus.DONE)
    Link.objects.filter(pk=link.pk).update(paused_by_user=True)
    assert orders_due(finished + timedelta(days=1)) == 0
    assert not _runs(summary) and not _runs(off)


def test_the_first_pull_starts_at_the_per_order_date(customer: Customer) -> None:
    now = timezone.now()
    link = _link(customer, per_order_since=now - timedelta(days=3))
    assert orders_due(now) == 1
    assert _runs(link)[0].range_start == now - timedelta(days=3)
    # Switched to per-order a moment ago: Amazon takes no date in its last two minutes.
    other = _link(Customer.objects.create(name="Fresh Ltd"), per_order_since=now)
    assert orders_due(now) == 1
    assert _runs(other)[0].range_start == now - pull.SETTLE


def test_orders_asked_for_by_id_get_a_run_when_none_took_them(customer: Customer) -> None:
    link = _link(customer, sync_enabled=False, fetch_ids=["202-1234567-1234567"])
    assert orders_due(timezone.now()) == 1
    (run,) = _runs(link)
    assert run.checkpoint["mode"] == "fetch"
    assert OrderSettings.objects.get(link=link).fetch_ids == ["202-1234567-1234567"]


def test_a_lost_run_is_queued_again(customer: Customer, monkeypatch: pytest.MonkeyPatch) -> None:
    from orders import tasks

    link = _link(customer)
    now = timezone.now()
    run = pull.orders_pull_start(link, now=now)
    Run.objects.filter(pk=run.pk).update(
        checkpoint={**run.checkpoint, "step": 3, "at": (now - timedelta(minutes=11)).isoformat()}
    )
    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.orders_step, "delay", lambda *args: queued.append(args))
    assert orders_due(now) == 1
    assert queued == [(run.pk, 3)]


def test_sync_now_pulls_per_order_links_only(customer: Customer) -> None:
    link = _link(customer)
    assert orders_sync_now(link) == 1
    assert link_sync_now(link)["orders"] == 1  # the active run, found again
    assert len(_runs(link)) == 1
    summary = _link(Customer.objects.create(name="Summary Ltd"), AccountingMode.SUMMARY)
    assert orders_sync_now(summary) == 0
    unset = _link(Customer.objects.create(name="Unset Ltd"), None)
    assert orders_sync_now(unset) == 0
    assert not _runs(summary) and not _runs(unset)

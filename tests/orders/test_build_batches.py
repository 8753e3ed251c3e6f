"""Building invoices while a push runs: Xero gets whole batches of 50, never a few at a time."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from mappings.services import mapping_store
from orders import pull
from orders.models import AccountingMode, AmazonOrder, OrderSettings
from orders.services import mode_save, orders_build
from sandbox.xero.models import Invoice
from sync.models import LedgerEntry
from sync.push import BATCH_SIZE, push_batch
from tests.orders.support import per_order_link, run_to_end
from tests.sandbox.amazon_support import EU_SELLER
from tests.settlements.support import mapping


def test_a_push_running_during_the_build_sends_full_batches(sandbox_url: str) -> None:
    link = per_order_link(sandbox_url, seller=EU_SELLER, orders=200)
    mapping_store(link, mapping())
    # Orders read while the link still posts settlement summaries: nothing is invoiced yet.
    OrderSettings.objects.filter(link=link).update(
        mode=AccountingMode.SUMMARY, per_order_since=timezone.now() - timedelta(days=60)
    )
    run = run_to_end(pull.orders_pull_start(link))
    assert run.status == "done", run.error
    assert not LedgerEntry.objects.filter(link=link).exists()
    since = (timezone.now() - timedelta(days=60)).date()
    mode_save(link, mode=AccountingMode.PER_ORDER, since=since)
    shipped = AmazonOrder.objects.filter(
        link=link,
        status="Shipped",
        purchase_date__gte=OrderSettings.objects.get(link=link).per_order_since,
    ).count()
    assert shipped > 2 * BATCH_SIZE

    sent: list[int] = []
    building = threading.Event()
    building.set()

    def pushing() -> None:
        try:
            while (
                building.is_set()
                or LedgerEntry.objects.filter(link=link, kind="invoice", status="pending").exists()
            ):
                outcome = push_batch(link_id=link.pk, kind="invoice")
                if outcome.sent:
                    sent.append(outcome.sent)
                time.sleep(min(outcome.wait, 1.0) if outcome.wait else 0.005)
        finally:
            connection.close()

    pusher = threading.Thread(target=pushing)
    pusher.start()
    try:
        counts = orders_build(link)
    finally:
        building.clear()
        pusher.join(timeout=120)
    assert not pusher.is_alive()

    assert counts.created == shipped
    full, rest = divmod(shipped, BATCH_SIZE)
    assert sent == [BATCH_SIZE] * full + ([rest] if rest else [])
    invoices = Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id, type="ACCREC")
    assert invoices.count() == shipped
    assert not LedgerEntry.objects.filter(link=link).exclude(status="posted").exists()

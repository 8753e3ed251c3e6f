"""The sync engine against the sandbox's Xero: exactly once under faults, throttling and races."""

from __future__ import annotations

import threading

import requests
from django.db import connection
from django.test import override_settings

from connectors.xero.auth import xero_access_token
from sandbox import faults
from sandbox.state import sandbox_configure
from sandbox.xero.models import Invoice, Organisation
from sync.models import Attempt, LedgerEntry
from sync.push import push_batch
from tests.engine_support import UK_ORG, drain, hub_link, ledger_invoices, seed_xero


def _link(sandbox_url: str, name: str = "Acme"):
    site = sandbox_url.removesuffix("/sandbox")
    seed_xero(site)
    return hub_link(org=Organisation.objects.get(name=UK_ORG), customer_name=name, site_url=site)


def _assert_exactly_once(link, count: int) -> None:
    rows = LedgerEntry.objects.filter(link=link)
    assert rows.filter(status="posted").count() == count, list(
        rows.exclude(status="posted").values_list("status", "last_error")[:5]
    )
    numbers = list(
        Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id)
        .exclude(status__in=["VOIDED", "DELETED"])
        .values_list("number", flat=True)
    )
    assert len(numbers) == count and len(set(numbers)) == count, "one Xero document per row"
    xero_ids = set(rows.values_list("xero_id", flat=True))
    assert len(xero_ids) == count


def test_batches_of_fifty_post_every_row_once(sandbox_url: str) -> None:
    link = _link(sandbox_url)
    ledger_invoices(link, 120)
    outcomes = drain(link)
    _assert_exactly_once(link, 120)
    assert [o.sent for o in outcomes if o.sent] == [50, 50, 20]
    assert sum(o.calls for o in outcomes) == 3
    entry = LedgerEntry.objects.get(amazon_id="AMZ7")
    assert entry.xero_number == "AMZ-000007"
    assert list(entry.attempt_log.values_list("outcome", flat=True)) == ["posted"]
    # Re-running finds nothing to send.
    assert push_batch(link_id=link.pk, kind="invoice").sent == 0


def test_twenty_percent_faults_still_post_every_row_exactly_once(sandbox_url: str) -> None:
    link = _link(sandbox_url)
    ledger_invoices(link, 1000)
    faults._random.seed(20)  # the server runs in this process: a repeatable fault sequence
    sandbox_configure(
        fault_5xx_rate=0.07,
        fault_timeout_rate=0.07,
        fault_reset_rate=0.06,
        fault_timeout_seconds=0.3,
    )
    drain(link, deadline=240)
    sandbox_configure(fault_5xx_rate=0, fault_timeout_rate=0, fault_reset_rate=0)
    _assert_exactly_once(link, 1000)
    outcomes = set(Attempt.objects.values_list("outcome", flat=True))
    assert {"posted", "retry"} <= outcomes, outcomes
    assert outcomes & {"uncertain", "resolved", "not-in-xero"}, "uncertain sends were resolved"


def test_a_429_storm_delays_but_fails_nothing(sandbox_url: str) -> None:
    link = _link(sandbox_url)
    ledger_invoices(link, 150)
    # A Xero minute lasts thirty seconds: long enough for 61 calls on a busy machine.
    sandbox_configure(time_scale=2)
    with override_settings(RATE_LIMIT_TIME_SCALE=2):
        # Another process of the same app, outside this limiter, spends the tenant's minute:
        # the hub's next call meets Xero's 429 and must wait, not fail.
        token = xero_access_token(link.xero_tenant.grant_id)
        headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": str(link.xero_tenant.tenant_id),
        }
        statuses = [
            requests.get(
                f"{sandbox_url}/xero/api/api.xro/2.0/Organisation", headers=headers, timeout=10
            ).status_code
            for _ in range(61)
        ]
        assert statuses[-1] == 429
        drain(link, deadline=120)
    _assert_exactly_once(link, 150)
    throttled = Attempt.objects.filter(outcome="retry", http_status=429)
    assert throttled.exists()
    assert not LedgerEntry.objects.filter(status="failed").exists()


def test_two_workers_racing_never_both_send(sandbox_url: str) -> None:
    link = _link(sandbox_url)
    ledger_invoices(link, 100)
    errors: list[Exception] = []

    def worker() -> None:
        try:
            drain(link, deadline=60)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _assert_exactly_once(link, 100)
    assert Attempt.objects.filter(outcome="posted").count() == 100


def test_posting_a_parent_queues_the_push_of_its_waiting_payment(
    sandbox_url: str, monkeypatch
) -> None:
    from sync import tasks
    from sync.models import PushQueue

    link = _link(sandbox_url)
    (invoice,) = ledger_invoices(link, 1)
    payment = LedgerEntry.objects.create(
        link=link,
        kind="payment",
        amazon_id=invoice.amazon_id,
        parent=invoice,
        payload={"Date": "2026-11-15", "Amount": "10.00", "Account": {"Code": "090"}},
        total=invoice.total,
        currency="GBP",
    )
    queued: list[tuple[int, str]] = []
    monkeypatch.setattr(
        tasks.push_link, "apply_async", lambda args, countdown=0, **kw: queued.append(args)
    )
    # The payment's own push ran first and found nothing it could send yet.
    assert tasks.push_link.run(link.pk, "payment")["sent"] == 0
    assert tasks.push_link.run(link.pk, "invoice")["posted"] == 1
    assert queued == [(link.pk, "payment")]
    assert PushQueue.objects.get(link=link, kind="payment").queued_at is not None
    payment.refresh_from_db()
    assert payment.status == "pending"

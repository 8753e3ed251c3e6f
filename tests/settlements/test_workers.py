"""A worker killed while posting settlements: the next one finishes without a duplicate."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from hub.celery import app as celery_app
from sandbox.state import sandbox_configure
from sandbox.xero.models import Attachment, Payment
from settlements import services
from settlements.models import Settlement, SettlementDocument
from sync.dispatch import dispatch_due_work
from sync.models import Attempt, LedgerEntry
from tests.engine_support import settings_env
from tests.settlements.flow import (
    assert_settlement_in_xero,
    retry,
    seller_link,
    upload,
    xero_documents,
)
from tests.settlements.support import DE, UK, settlements_of
from tests.test_engine_workers import _children, _wait_for
from tests.workers import celery_worker

pytestmark = pytest.mark.worker


def _dispatch() -> None:
    with override_settings(PUSH_QUEUE_LOST_SECONDS=1):
        dispatch_due_work(now=timezone.now())


def test_a_worker_killed_mid_post_resumes_without_duplicates(sandbox_url: str, tmp_path) -> None:
    link = seller_link(sandbox_url)
    for settlement in [*settlements_of(UK), *settlements_of(DE)]:
        upload(link, settlement)
    queue = f"settlements-{uuid.uuid4().hex[:8]}"
    env = {
        **settings_env(sandbox_url),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LEDGER_STALE_SENDING_SECONDS": "2",
        "HUB_VAR_DIR": str(tmp_path),
    }
    # Xero creates the invoices, then its answer never comes: the worker hangs in the call.
    sandbox_configure(fault_timeout_rate=1.0, fault_timeout_seconds=60)
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        # Built here (the chart read before the fault); the build queues the pushes.
        sandbox_configure(fault_timeout_rate=0.0)
        retry(lambda: services.settlements_build_due(link))
        expected = LedgerEntry.objects.filter(link=link, kind__in=["invoice", "bill"]).count()
        payments = LedgerEntry.objects.filter(link=link, kind="payment").count()
        assert expected >= 8 and payments == expected
        sandbox_configure(fault_timeout_rate=1.0, fault_timeout_seconds=60)
        with celery_worker(env, queue=queue, log=tmp_path / "worker1.log") as first:

            def in_xero() -> bool:
                _dispatch()
                return xero_documents(link).exists()

            _wait_for(in_xero, 30, "the invoices in Xero")
            assert LedgerEntry.objects.filter(link=link, status="sending").exists()
            for child in _children(first.pid):
                os.kill(child, signal.SIGKILL)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        sandbox_configure(fault_timeout_rate=0.0)
        time.sleep(2.5)  # the claims are now older than LEDGER_STALE_SENDING_SECONDS

        def done() -> bool:
            _dispatch()  # what beat does every minute
            return (
                not LedgerEntry.objects.filter(link=link).exclude(status="posted").exists()
                and not SettlementDocument.objects.filter(
                    settlement__link=link, attached_at__isnull=True
                ).exists()
            )

        with celery_worker(env, queue=queue, log=tmp_path / "worker2.log"):
            _wait_for(done, 120, "every document posted, paid and attached")
    finally:
        celery_app.conf.task_default_queue = previous_queue
        sandbox_configure(fault_timeout_rate=0.0)
    numbers = Counter(xero_documents(link).values_list("number", flat=True))
    assert len(numbers) == expected and set(numbers.values()) == {1}, numbers
    assert Payment.objects.filter(invoice__in=xero_documents(link)).count() == payments
    assert (
        Attachment.objects.filter(
            object_id__in=xero_documents(link).values_list("invoice_id", flat=True)
        ).count()
        == expected
    )
    for settlement in Settlement.objects.filter(link=link):
        assert_settlement_in_xero(link, settlement)
    assert Attempt.objects.filter(entry__link=link, outcome="resolved").exists(), (
        "the killed batch was found in Xero by its number, not sent again"
    )

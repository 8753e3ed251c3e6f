"""Real Celery worker processes on Redis against the sandbox: a worker killed mid-batch."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from hub.celery import app as celery_app
from sandbox.state import sandbox_configure
from sandbox.xero.models import Invoice
from sync.dispatch import dispatch_due_work
from sync.models import Attempt, LedgerEntry
from tests.engine_support import ledger_invoices, settings_env
from tests.test_engine import _assert_exactly_once, _link
from tests.workers import celery_worker

pytestmark = pytest.mark.worker


def _wait_for(predicate, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_batch_then_restart_posts_every_document_once(
    sandbox_url: str, tmp_path
) -> None:
    link = _link(sandbox_url)
    ledger_invoices(link, 300)
    queue = f"engine-{uuid.uuid4().hex[:8]}"
    env = {
        **settings_env(sandbox_url),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LEDGER_STALE_SENDING_SECONDS": "2",
        "HUB_VAR_DIR": str(tmp_path),
    }
    tenant_invoices = Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id)
    # Xero processes the first batch, then the answer never comes: the worker hangs in the call.
    sandbox_configure(fault_timeout_rate=1.0, fault_timeout_seconds=60)
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        with celery_worker(env, queue=queue, log=tmp_path / "worker1.log") as first:
            with override_settings(PUSH_QUEUE_LOST_SECONDS=1):
                dispatch_due_work(now=timezone.now())
            _wait_for(lambda: tenant_invoices.count() == 50, 30, "the first batch in Xero")
            assert LedgerEntry.objects.filter(status="sending").count() == 50
            for child in _children(first.pid):  # the pool process making the call, then its parent
                os.kill(child, signal.SIGKILL)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        sandbox_configure(fault_timeout_rate=0.0)
        time.sleep(2.5)  # the claim is now older than LEDGER_STALE_SENDING_SECONDS
        with celery_worker(env, queue=queue, log=tmp_path / "worker2.log"):
            with override_settings(PUSH_QUEUE_LOST_SECONDS=1):
                dispatch_due_work(now=timezone.now())
            _wait_for(
                lambda: not LedgerEntry.objects.exclude(status="posted").exists(),
                90,
                "every row posted",
            )
    finally:
        celery_app.conf.task_default_queue = previous_queue
        sandbox_configure(fault_timeout_rate=0.0)
    _assert_exactly_once(link, 300)
    resolved = Attempt.objects.filter(outcome="resolved").count()
    assert resolved == 50, "the killed batch was found in Xero, not sent again"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().split(")")[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found

"""A real worker runs a pull task by task; one killed mid-run is replaced and the run finishes
from its checkpoint."""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from hub.celery import app as celery_app
from orders import pull
from orders.models import AmazonOrder, OrderSettings
from orders.schedule import orders_due
from sync.models import Run
from tests.engine_support import settings_env
from tests.orders.support import assert_order_as_amazon_has_it, per_order_link, sandbox_orders
from tests.sandbox.amazon_support import DE, EU_SELLER, UK
from tests.test_engine_workers import _children, _wait_for
from tests.workers import celery_worker

pytestmark = pytest.mark.worker


def test_a_killed_worker_is_replaced_and_the_pull_finishes_from_its_checkpoint(
    sandbox_url: str, tmp_path: Path
) -> None:
    link = per_order_link(sandbox_url)
    queue = f"orders-{uuid.uuid4().hex[:8]}"
    env = {
        **settings_env(sandbox_url),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "HUB_VAR_DIR": str(tmp_path),
    }
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        run = pull.orders_pull_start(link)  # its first step is queued on commit
        with celery_worker(env, queue=queue, log=tmp_path / "worker1.log") as first:

            def started() -> bool:
                current = Run.objects.get(pk=run.pk)
                return current.pulled > 0 and current.checkpoint.get("items_read", 0) > 0

            end = time.monotonic() + 60
            while not started() and time.monotonic() < end:
                time.sleep(0.02)
            for child in _children(first.pid):
                os.kill(child, signal.SIGKILL)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        stopped = Run.objects.get(pk=run.pk)
        assert stopped.status == "running", "the worker finished before it could be killed"
        assert stopped.checkpoint["listed"] and stopped.checkpoint["items_read"] > 0

        # Beat's dispatcher, once the run has made no step for ten minutes.
        assert orders_due(timezone.now() + timedelta(minutes=11)) == 1
        with celery_worker(env, queue=queue, log=tmp_path / "worker2.log"):
            _wait_for(lambda: Run.objects.get(pk=run.pk).status == "done", 60, "the pull to finish")
    finally:
        celery_app.conf.task_default_queue = previous_queue
    done = Run.objects.get(pk=run.pk)
    assert done.error == "" and done.checkpoint["step"] > stopped.checkpoint["step"]
    through = OrderSettings.objects.get(link=link).updated_through
    assert through == pull._when(done.checkpoint["before"])
    expected = sandbox_orders(
        EU_SELLER,
        marketplace_id__in=[UK, DE],
        last_update_date__gte=done.range_start,
        last_update_date__lte=through,
    )
    ours = {o.amazon_order_id: o for o in AmazonOrder.objects.filter(link=link)}
    assert set(ours) == set(expected)
    for order_id, theirs in expected.items():
        assert_order_as_amazon_has_it(ours[order_id], theirs)
    shipped = sum(o.status in pull.ITEM_STATUSES for o in expected.values())
    assert done.checkpoint["items_read"] == shipped  # each order's items saved once

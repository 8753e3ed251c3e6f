"""Thin Celery tasks: ids in, one service call, re-queued with the provider's wait."""

from __future__ import annotations

import logging

from celery import shared_task

from connectors import http
from connectors.models import Link
from orders.pull import orders_step as pull_step
from sync.models import Run

log = logging.getLogger(__name__)


@shared_task(name="orders.tasks.orders_step")
def orders_step(run_id: int, step: int) -> dict[str, object]:
    """One step of an orders run (one SP-API call at most), then the next after its wait."""
    outcome = pull_step(run_id=run_id, step=step)
    if outcome.more:
        orders_step.apply_async((run_id, outcome.step), countdown=outcome.wait)
    log.info(
        "orders step run=%s step=%s more=%s wait=%.1f %s",
        run_id,
        step,
        outcome.more,
        outcome.wait,
        outcome.note,
    )
    return {"more": outcome.more, "step": outcome.step, "wait": outcome.wait}


@shared_task(name="orders.tasks.orders_build_later")
def orders_build_later(link_id: int, run_id: int, order_ids: list[str] | None) -> str:
    """Build the orders a finished run read, when the first try had to wait (chart, limiter)."""
    from orders.services import orders_build

    link = Link.objects.select_related("xero_tenant__grant", "seller_account").get(pk=link_id)
    run = Run.objects.get(pk=run_id)
    try:
        if order_ids is None:
            orders_build(link, run=run)
        else:
            orders_build(link, run=run, order_ids=order_ids)
    except http.RetryLater as exc:
        wait = max(exc.decision.wait, 1.0)
        orders_build_later.apply_async((link_id, run_id, order_ids), countdown=wait)
        return f"later: {exc.message}"
    return "built"

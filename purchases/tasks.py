"""Thin Celery tasks: ids in, one service call, re-queued with the provider's wait."""

from __future__ import annotations

import logging

from celery import shared_task

from connectors.models import Link
from purchases.services import purchases_release_held, run_advance

log = logging.getLogger(__name__)


@shared_task(name="purchases.tasks.business_step")
def business_step(run_id: int, step: int) -> dict[str, object]:
    """Take one step of an Amazon Business run, then queue the next (after its wait)."""
    outcome = run_advance(run_id=run_id, step=step)
    if outcome.more:
        business_step.apply_async((run_id, outcome.step), countdown=outcome.wait)
    log.info(
        "business step run=%s step=%s more=%s wait=%.1f %s",
        run_id,
        step,
        outcome.more,
        outcome.wait,
        outcome.note,
    )
    return {"more": outcome.more, "step": outcome.step, "wait": outcome.wait}


@shared_task(name="purchases.tasks.purchases_release")
def purchases_release(link_id: int) -> int:
    """Prepare a link's unsent purchase documents again (e.g. for a new supplier contact)."""
    link = Link.objects.select_related("xero_tenant__grant").filter(pk=link_id).first()
    if link is None:
        return 0
    return purchases_release_held(link)

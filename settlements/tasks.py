"""Thin Celery tasks: ids in, one service call, re-queued with the provider's wait."""

from __future__ import annotations

import logging

from celery import shared_task

from connectors import http
from connectors.models import Link
from settlements import services
from settlements.pull import pull_step

log = logging.getLogger(__name__)


@shared_task(name="settlements.tasks.settlements_step")
def settlements_step(run_id: int, step: int) -> dict[str, object]:
    """One step of a settlements pull (one SP-API call at most), then the next after its wait."""
    outcome = pull_step(run_id=run_id, step=step)
    if outcome.more:
        settlements_step.apply_async((run_id, outcome.step), countdown=outcome.wait)
    log.info(
        "settlements step run=%s step=%s more=%s wait=%.1f %s",
        run_id,
        step,
        outcome.more,
        outcome.wait,
        outcome.note,
    )
    return {"more": outcome.more, "step": outcome.step, "wait": outcome.wait}


@shared_task(name="settlements.tasks.settlements_build")
def settlements_build(link_id: int) -> int:
    """Build the link's settlements that are final or held (e.g. after an upload)."""
    link = Link.objects.select_related("xero_tenant__grant", "seller_account").get(pk=link_id)
    try:
        return services.settlements_build_due(link)
    except http.RetryLater as exc:  # the chart could not be read yet (limiter, Xero busy)
        settlements_build.apply_async((link_id,), countdown=max(exc.decision.wait, 1.0))
        return 0


@shared_task(name="settlements.tasks.settlements_attach")
def settlements_attach(link_id: int) -> dict[str, object]:
    """Attach audit CSVs to posted documents; re-queued with the limiter's wait."""
    link = Link.objects.select_related("xero_tenant__grant", "seller_account").get(pk=link_id)
    outcome = services.settlement_attach_step(link)
    if outcome.more:
        settlements_attach.apply_async((link_id,), countdown=outcome.wait)
    else:
        services.attach_done(link_id=link_id)
    log.info(
        "settlements attach link=%s attached=%d failed=%d wait=%.1f calls=%d",
        link_id,
        outcome.attached,
        outcome.failed,
        outcome.wait,
        outcome.calls,
    )
    return {"attached": outcome.attached, "failed": outcome.failed, "more": outcome.more}


@shared_task(name="settlements.tasks.settlements_check")
def settlements_check(link_id: int) -> int:
    """Re-read the Xero chart (currencies, accounts) and rebuild held settlements."""
    link = Link.objects.select_related("xero_tenant__grant", "seller_account").get(pk=link_id)
    try:
        return services.settlement_check_again(link)
    except http.RetryLater as exc:
        settlements_check.apply_async((link_id,), countdown=max(exc.decision.wait, 1.0))
        return 0

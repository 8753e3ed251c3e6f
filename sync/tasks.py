"""Thin Celery tasks: ids in, one service call, re-queue with the provider's wait."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from sync import queue
from sync.dispatch import dispatch_due_work as _dispatch
from sync.push import push_batch

log = logging.getLogger(__name__)


@shared_task(name="sync.tasks.dispatch_due_work", acks_late=False)
def dispatch_due_work() -> dict[str, int]:
    # acks_late off: a dispatcher tick lost with its worker is simply replaced by the next tick.
    return _dispatch(now=timezone.now())


@shared_task(name="sync.tasks.push_link")
def push_link(link_id: int, kind: str) -> dict[str, object]:
    """Post one batch for a link, then hand over to a successor at the back of the queue."""
    try:
        outcome = push_batch(link_id=link_id, kind=kind)
    except Exception:
        # Unexpected: keep the link's queue alive instead of stalling it until the marker ages.
        log.exception("push failed link=%s kind=%s; retrying in 30 s", link_id, kind)
        queue.push_requeue(link_id=link_id, kind=kind, countdown=30)
        raise
    if outcome.more:
        queue.push_requeue(link_id=link_id, kind=kind, countdown=outcome.wait)
    else:
        queue.push_done(link_id=link_id, kind=kind)
    if outcome.posted:
        queue.push_dependents(link_id=link_id)
    log.info(
        "push link=%s kind=%s sent=%d posted=%d failed=%d requeued=%d wait=%.1f calls=%d",
        link_id,
        kind,
        outcome.sent,
        outcome.posted,
        outcome.failed,
        outcome.requeued,
        outcome.wait,
        outcome.calls,
    )
    return {
        "sent": outcome.sent,
        "posted": outcome.posted,
        "failed": outcome.failed,
        "wait": outcome.wait,
        "calls": outcome.calls,
        "more": outcome.more,
    }


@shared_task(name="sync.tasks.rollback_entries")
def rollback_entries_task(entry_ids: list[int]) -> dict[str, object]:
    """Void or delete these documents in Xero; re-queued with the wait when throttled."""
    from sync.models import LedgerEntry
    from sync.rollback import rollback_entries

    entries = list(
        LedgerEntry.objects.filter(pk__in=entry_ids).select_related("link__xero_tenant__grant")
    )
    outcome = rollback_entries(entries)
    if outcome.remaining:
        rollback_entries_task.apply_async((entry_ids,), countdown=outcome.wait)
    return {
        "voided": outcome.voided,
        "refused": outcome.refused,
        "remaining": outcome.remaining,
        "errors": outcome.errors,
    }

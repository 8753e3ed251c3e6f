"""The scheduled pull of settlement reports, the attachment queue, and the hooks others call.

- Dispatcher source "settlements" (``sync/dispatch.py``, every minute): for each Seller
  Central link whose settlement sync is on, start a pull when ``SETTLEMENTS_PULL_HOURS`` have
  passed since the last one (Amazon issues a settlement every fortnight per marketplace, and
  keeps its report 90 days). A run whose task was lost (no step for ``LOST_AFTER``) gets its
  current step queued again; the step counter makes a duplicate harmless.
- Dispatcher source "settlement-attachments": links with a posted settlement document still
  without its audit CSV get one attachment task.
- Link trigger "settlements" (the manage page's Sync now): a pull now.
- Mapping rebuilder "settlements": after the user maps something, held settlements are built
  again and released.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from connectors.models import Link
from mappings.services import register_rebuilder
from settlements.models import SettlementSettings
from settlements.pull import ACTIVE, PullError, pull_start
from settlements.services import attach_enqueue, attachments_due_links, settlements_rebuild
from sync.dispatch import register_link_trigger, register_source
from sync.models import Run, RunKind
from sync.runs import runs_requeue_lost

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(minutes=10)

register_rebuilder("settlements", settlements_rebuild)


def pull_interval() -> timedelta:
    return timedelta(hours=float(settings.SETTLEMENTS_PULL_HOURS))


def pull_now(link: Link, *, now: datetime | None = None) -> Run:
    """Start (or find) the link's pull and queue its next step after the transaction."""
    from settlements.tasks import settlements_step

    run = pull_start(link=link, now=now)
    SettlementSettings.objects.update_or_create(link=link, defaults={"sync_enabled": True})
    step = int(run.checkpoint.get("step", 0))
    transaction.on_commit(lambda: settlements_step.delay(run.pk, step))
    return run


def _requeue_lost(now: datetime) -> int:
    from settlements.tasks import settlements_step

    return runs_requeue_lost(
        kind=RunKind.SETTLEMENTS,
        now=now,
        lost_after=LOST_AFTER,
        step=lambda run_id, step: settlements_step.delay(run_id, step),
    )


@register_source("settlements")
def settlements_due(now: datetime) -> int:
    """Start the pulls that are due; returns how many runs were started or re-queued."""
    started = _requeue_lost(now)
    busy = set(
        Run.objects.filter(kind=RunKind.SETTLEMENTS, status__in=ACTIVE).values_list(
            "link_id", flat=True
        )
    )
    rows = SettlementSettings.objects.filter(
        sync_enabled=True, link__seller_account__isnull=False
    ).select_related("link__xero_tenant__grant", "link__seller_account")
    for options in rows:
        link = options.link
        if link.pk in busy or link.pause_reason:
            continue
        if options.last_pull_at is not None and options.last_pull_at + pull_interval() > now:
            continue
        try:
            pull_now(link, now=now)
        except PullError as exc:
            log.info("settlements pull not started link=%s: %s", link.pk, exc.message)
            continue
        started += 1
    return started


@register_source("settlement-attachments")
def attachments_due(now: datetime) -> int:
    return sum(attach_enqueue(link_id=link_id) for link_id in attachments_due_links())


@register_link_trigger("settlements")
def settlements_sync_now(link: Link) -> int:
    if link.seller_account_id is None:
        return 0
    try:
        pull_now(link)
    except PullError:
        return 0
    return 1

"""The scheduled pull of Seller Central orders, for links that account per order.

- Dispatcher source "orders" (``sync/dispatch.py``, every minute): for each link in per-order
  mode whose order sync is on, start an incremental pull when ``ORDERS_PULL_MINUTES`` have
  passed since the last one; a link with orders asked for by id and no run gets a run that
  fetches them. A run whose task was lost (no step for ``LOST_AFTER``) gets its current step
  queued again; the step counter makes a duplicate harmless. Links in settlement-summary mode
  are never pulled.
- Link trigger "orders" (the link page's Sync now): a pull now, for per-order links only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings

from connectors.models import Link
from orders.models import AccountingMode, OrderSettings
from orders.pull import ACTIVE, OrdersPullError, orders_fetch_start, orders_pull_start
from sync.dispatch import register_link_trigger, register_source
from sync.models import Run, RunKind
from sync.runs import runs_requeue_lost

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(minutes=10)


def pull_interval() -> timedelta:
    return timedelta(minutes=float(settings.ORDERS_PULL_MINUTES))


def _requeue_lost(now: datetime) -> int:
    from orders.tasks import orders_step

    return runs_requeue_lost(
        kind=RunKind.ORDERS,
        now=now,
        lost_after=LOST_AFTER,
        step=lambda run_id, step: orders_step.delay(run_id, step),
    )


@register_source("orders")
def orders_due(now: datetime) -> int:
    """Start the pulls that are due; returns how many runs were started or re-queued."""
    started = _requeue_lost(now)
    busy = set(
        Run.objects.filter(kind=RunKind.ORDERS, status__in=ACTIVE).values_list("link_id", flat=True)
    )
    rows = (
        OrderSettings.objects.filter(link__seller_account__isnull=False)
        .filter(mode=AccountingMode.PER_ORDER)
        .select_related("link__xero_tenant__grant", "link__seller_account")
    )
    for options in rows:
        link = options.link
        if link.pk in busy or link.pause_reason:
            continue
        due = options.sync_enabled and (
            options.last_pull_at is None or options.last_pull_at + pull_interval() <= now
        )
        if not due and not options.fetch_ids:
            continue
        try:
            if due:
                orders_pull_start(link, now=now)
            else:  # orders asked for by id while no run could take them
                orders_fetch_start(link, list(options.fetch_ids))
        except OrdersPullError as exc:
            log.info("orders pull not started link=%s: %s", link.pk, exc.message)
            continue
        started += 1
    return started


@register_link_trigger("orders")
def orders_sync_now(link: Link) -> int:
    if link.seller_account_id is None:
        return 0
    options = OrderSettings.objects.filter(link=link).first()
    if options is None or options.mode != AccountingMode.PER_ORDER:
        return 0
    try:
        orders_pull_start(link)
    except OrdersPullError:
        return 0
    return 1

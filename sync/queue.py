"""Enqueueing pushes: one queued task per (link, kind), re-queued at the back while work remains."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from connectors.models import Link
from sync.dispatch import register_link_trigger, register_source
from sync.models import EntryStatus, LedgerEntry, PushQueue


def push_enqueue(*, link_id: int, kind: str, countdown: float = 0) -> bool:
    """Queue a push unless one is already queued for this link and kind."""
    from sync.tasks import push_link

    now = timezone.now()
    try:
        with transaction.atomic():
            PushQueue.objects.get_or_create(link_id=link_id, kind=kind)
    except IntegrityError:
        pass
    claimed = (
        PushQueue.objects.filter(link_id=link_id, kind=kind)
        .filter(
            Q(queued_at__isnull=True)
            | Q(queued_at__lt=now - timedelta(seconds=settings.PUSH_QUEUE_LOST_SECONDS))
        )
        .update(queued_at=now)
    )
    if not claimed:
        return False
    transaction.on_commit(lambda: push_link.apply_async((link_id, kind), countdown=countdown))
    return True


def push_requeue(*, link_id: int, kind: str, countdown: float = 0) -> None:
    """The running task hands over to its successor (the marker stays set)."""
    from sync.tasks import push_link

    PushQueue.objects.filter(link_id=link_id, kind=kind).update(queued_at=timezone.now())
    push_link.apply_async((link_id, kind), countdown=countdown)


def push_done(*, link_id: int, kind: str) -> None:
    PushQueue.objects.filter(link_id=link_id, kind=kind).update(queued_at=None)


def push_dependents(*, link_id: int) -> int:
    """Parents just posted: queue the pushes of the link's documents that waited for them
    (a settlement's payment; an allocation, once its invoice is posted too), so they do not
    wait for the dispatcher's next tick."""
    kinds = (
        LedgerEntry.objects.filter(
            link_id=link_id, status=EntryStatus.PENDING, parent__status=EntryStatus.POSTED
        )
        .filter(Q(target__isnull=True) | Q(target__status=EntryStatus.POSTED))
        .values_list("kind", flat=True)
        .distinct()
    )
    return sum(push_enqueue(link_id=link_id, kind=kind) for kind in kinds)


@register_link_trigger("push")
def link_push_now(link: Link) -> int:
    kinds = set(
        LedgerEntry.objects.filter(
            link=link, status__in=[EntryStatus.PENDING, EntryStatus.SENDING]
        ).values_list("kind", flat=True)
    )
    return sum(push_enqueue(link_id=link.pk, kind=kind) for kind in kinds)


@register_source("push")
def enqueue_pending_pushes(now: datetime) -> int:
    """Every link with sendable (or stuck) rows gets a push task, unless one is queued."""
    pairs = (
        LedgerEntry.objects.filter(status__in=[EntryStatus.PENDING, EntryStatus.SENDING])
        .values_list("link_id", "kind")
        .distinct()
    )
    return sum(push_enqueue(link_id=link_id, kind=kind) for link_id, kind in pairs)

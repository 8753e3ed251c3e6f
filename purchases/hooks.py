"""How Amazon Business purchases plug into the engine and the mapping.

- Dispatcher source "business" (``sync/dispatch.py``, every minute): for each link whose sync
  is on, start a sync run when its interval has passed since the last one (hourly by default),
  or soon when documents failed because the supplier contact was archived or removed in Xero
  (the run heals the contact and re-sends them). A run whose task was lost (no step for
  ``LOST_AFTER``) gets its current step queued again; the step counter makes a duplicate
  harmless.
- "Sync now" trigger "business" (the link page's button).
- Push precheck (``sync/push.py``): before a batch of purchase documents is sent, the supplier
  contact is verified in Xero (at most once a minute per link) and healed if it was archived;
  documents naming a contact that was replaced are held and prepared again.
- Mapping rebuilder "business" (``mappings/services.py``): after the user maps something, held
  purchases are transformed again and released.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors import http
from connectors.models import Link
from mappings.services import register_rebuilder
from purchases.contact import ContactProblem, supplier_contact_ensure
from purchases.models import PurchaseSettings
from purchases.services import ACTIVE, PurchaseError, purchases_rebuild, sync_start
from sync.dispatch import register_link_trigger, register_source
from sync.models import EntryStatus, LedgerEntry, Run, RunKind
from sync.push import register_precheck
from sync.runs import runs_requeue_lost

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(minutes=10)
CONTACT_CHECK_EVERY = timedelta(seconds=60)
HEAL_AFTER = timedelta(minutes=5)  # a failed heal is not retried more often than this
# Xero's words when a document's contact can no longer be used.
CONTACT_ERRORS = ("has been archived", "Contact with the specified ContactID could not be found")
REPLACED = (
    "The Amazon Business supplier contact was replaced in Xero; this document is being "
    "prepared again with the new contact."
)

register_rebuilder("business", purchases_rebuild)


def _contact_failures(link_id: int) -> bool:
    query = Q()
    for words in CONTACT_ERRORS:
        query |= Q(last_error__icontains=words)
    return (
        LedgerEntry.objects.filter(link_id=link_id, status=EntryStatus.FAILED)
        .filter(query)
        .exists()
    )


def _requeue_lost(now: datetime) -> int:
    from purchases.tasks import business_step

    return runs_requeue_lost(
        kind=RunKind.BUSINESS,
        now=now,
        lost_after=LOST_AFTER,
        step=lambda run_id, step: business_step.delay(run_id, step),
    )


@register_source("business")
def business_due(now: datetime) -> int:
    """Start the sync runs that are due; returns how many runs were started or re-queued."""
    started = _requeue_lost(now)
    busy = set(
        Run.objects.filter(kind=RunKind.BUSINESS, status__in=ACTIVE).values_list(
            "link_id", flat=True
        )
    )
    rows = PurchaseSettings.objects.filter(
        sync_enabled=True, link__business_account__isnull=False
    ).select_related("link__xero_tenant__grant", "link__business_account")
    for settings in rows:
        link = settings.link
        if link.pk in busy or link.pause_reason:
            continue
        last = settings.last_sync_at
        due = last is None or last + timedelta(minutes=settings.sync_interval_minutes) <= now
        heal = (last is None or last + HEAL_AFTER <= now) and _contact_failures(link.pk)
        if not (due or heal):
            continue
        try:
            sync_start(link=link, now=now)
        except PurchaseError as exc:
            log.info("business sync not started link=%s: %s", link.pk, exc.message)
            continue
        started += 1
    return started


@register_link_trigger("business")
def business_sync_now(link: Any) -> int:
    """The link page's "Sync now": a sync run for an Amazon Business link (1 if started)."""
    if not isinstance(link, Link) or link.business_account_id is None:
        return 0
    try:
        sync_start(link=link)
    except PurchaseError:
        return 0
    return 1


def _contact_id(payload: Any) -> str:
    contact = payload.get("Contact") if isinstance(payload, dict) else None
    return str(contact.get("ContactID") or "") if isinstance(contact, dict) else ""


@register_precheck
def supplier_contact_precheck(link: Link, entries: list[LedgerEntry]) -> dict[int, str]:
    """Verify (and heal) the supplier contact before purchase documents are sent."""
    if link.business_account_id is None:
        return {}
    named = [e for e in entries if _contact_id(e.payload)]
    if not named:
        return {}
    settings = PurchaseSettings.objects.filter(link=link).first()
    fresh = (
        settings is not None
        and settings.supplier_checked_at is not None
        and settings.supplier_checked_at > timezone.now() - CONTACT_CHECK_EVERY
    )
    if fresh and settings is not None:
        contact_id = settings.supplier_contact_id
    else:
        try:
            contact_id = supplier_contact_ensure(link=link)
        except ContactProblem as exc:
            return {e.pk: exc.message for e in named}
        except http.RetryLater:
            raise
        except http.ProviderError as exc:
            log.warning("supplier contact not checked link=%s: %s", link.pk, exc.message)
            return {}
    replaced = {e.pk: REPLACED for e in named if _contact_id(e.payload) != contact_id}
    if replaced:
        transaction.on_commit(lambda: _rebuild_later(link.pk))
    return replaced


def _rebuild_later(link_id: int) -> None:
    from purchases.tasks import purchases_release

    purchases_release.apply_async((link_id,), countdown=1)

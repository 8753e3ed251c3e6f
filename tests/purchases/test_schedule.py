"""The scheduled sync: hourly by default, configurable, one run at a time, lost runs resumed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import Link
from purchases.hooks import business_due, business_sync_now
from purchases.models import DEFAULT_INTERVAL_MINUTES, PurchaseSettings
from purchases.services import FEED_SETTLE, OVERLAP, run_cancel
from sync.dispatch import registered_sources
from sync.models import Run, RunKind, RunStatus

pytestmark = pytest.mark.usefixtures("queue")


def _finish_all() -> None:
    Run.objects.filter(status__in=["queued", "running"]).update(
        status=RunStatus.DONE, finished_at=timezone.now()
    )


def test_the_business_source_is_registered_with_the_dispatcher() -> None:
    assert "business" in registered_sources()


def test_sync_runs_hourly_by_default_once_started_and_never_twice_at_once(
    offline_link, django_capture_on_commit_callbacks
) -> None:
    now = timezone.now()
    assert business_due(now) == 0  # not set up: nothing runs on its own
    settings = PurchaseSettings.objects.get_or_create(link=offline_link)[0]
    assert settings.sync_interval_minutes == DEFAULT_INTERVAL_MINUTES == 60
    PurchaseSettings.objects.filter(link=offline_link).update(sync_enabled=True)

    with django_capture_on_commit_callbacks() as queued:
        assert business_due(now) == 1
    assert len(queued) == 1  # the run's first step
    run = Run.objects.get(link=offline_link)
    assert (run.kind, run.status, run.checkpoint["mode"]) == (RunKind.BUSINESS, "queued", "sync")
    # The first sync reads from when the link was made (less the overlap) to just before now.
    assert run.range_start == offline_link.created_at - OVERLAP
    assert run.range_end == now - FEED_SETTLE
    assert business_due(now + timedelta(minutes=5)) == 0  # one run at a time

    _finish_all()
    PurchaseSettings.objects.filter(link=offline_link).update(
        synced_through=now - timedelta(minutes=2)
    )
    assert business_due(now + timedelta(minutes=59)) == 0
    assert business_due(now + timedelta(minutes=61)) == 1
    latest = Run.objects.latest("created_at")
    # A later sync reads from the high-water mark, with an overlap (the natural key dedupes).
    assert latest.range_start == now - timedelta(minutes=2) - OVERLAP

    _finish_all()
    PurchaseSettings.objects.filter(link=offline_link).update(sync_interval_minutes=5)
    later = now + timedelta(minutes=61)
    assert business_due(later + timedelta(minutes=4)) == 0
    assert business_due(later + timedelta(minutes=6)) == 1


def test_a_paused_link_does_not_sync_and_sync_now_starts_one(offline_link) -> None:
    PurchaseSettings.objects.create(link=offline_link, sync_enabled=True)
    Link.objects.filter(pk=offline_link.pk).update(paused_by_user=True)
    assert business_due(timezone.now()) == 0
    offline_link.refresh_from_db()
    assert business_sync_now(offline_link) == 0
    Link.objects.filter(pk=offline_link.pk).update(paused_by_user=False)
    offline_link.refresh_from_db()
    assert business_sync_now(offline_link) == 1
    assert business_sync_now(offline_link) == 0  # already running
    run = Run.objects.get(link=offline_link)
    assert run_cancel(run=run)
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.CANCELLED, "Cancelled by you.")


def test_a_run_whose_task_was_lost_is_queued_again(
    offline_link, django_capture_on_commit_callbacks
) -> None:
    PurchaseSettings.objects.create(
        link=offline_link, sync_enabled=True, last_sync_at=timezone.now()
    )
    stale = (timezone.now() - timedelta(minutes=30)).isoformat()
    Run.objects.create(
        link=offline_link,
        kind=RunKind.BUSINESS,
        status=RunStatus.RUNNING,
        checkpoint={"mode": "sync", "phase": "transactions", "step": 4, "at": stale},
    )
    assert business_due(timezone.now()) == 1
    assert Run.objects.count() == 1  # resumed, not started again

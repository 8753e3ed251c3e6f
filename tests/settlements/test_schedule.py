"""The dispatcher sources and the Sync now trigger for settlements."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from connectors.models import Link
from settlements.models import SettlementSettings
from settlements.schedule import settlements_due, settlements_sync_now
from sync.dispatch import registered_sources
from sync.models import Run
from tests.settlements.test_views import plain_link


def test_sources_are_registered() -> None:
    assert {"settlements", "settlement-attachments"} <= set(registered_sources())


def test_a_pull_starts_when_due_once_and_not_for_paused_or_disabled_links(customer) -> None:
    link = plain_link(customer)
    now = timezone.now()
    assert settlements_due(now) == 0  # the user has not turned the sync on
    SettlementSettings.objects.create(link=link, sync_enabled=True)
    assert settlements_due(now) == 1
    run = Run.objects.get(link=link, kind="settlements")
    assert run.status == "queued" and run.checkpoint["step"] == 0
    assert run.range_start >= now - timedelta(days=90)
    assert settlements_due(now) == 0  # one active pull per link
    run.status = "done"
    run.save()
    SettlementSettings.objects.filter(link=link).update(last_pull_at=now)
    assert settlements_due(now + timedelta(hours=1)) == 0  # not due yet
    assert settlements_due(now + timedelta(hours=7)) == 1
    Run.objects.filter(link=link).update(status="done")
    Link.objects.filter(pk=link.pk).update(paused_by_user=True)
    assert settlements_due(now + timedelta(days=1)) == 0


def test_sync_now_starts_a_pull_and_turns_the_schedule_on(customer) -> None:
    link = plain_link(customer)
    assert settlements_sync_now(link) == 1
    assert SettlementSettings.objects.get(link=link).sync_enabled
    assert Run.objects.filter(link=link, kind="settlements", status="queued").count() == 1

"""Importing a date range of settlements, clicked in Chromium, run by a real worker.

The owner opens "Import settlements" from the link page, checks the default range (the last 30
days), reads the count of new and already posted settlements, starts the import and watches
the progress bar reach 100 % while a Celery worker process (on Redis) reads Amazon's reports
and posts to the sandbox's Xero.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from hub.models import Membership
from sandbox.state import sandbox_configure
from settlements.models import Settlement
from sync.models import LedgerEntry, Run
from tests.browser.conftest import screenshot
from tests.engine_support import settings_env
from tests.purchases.support import own_queue
from tests.settlements.conftest import SCALE
from tests.settlements.flow import xero_documents
from tests.settlements.test_history import _connected, _expected
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_settlements_import_shows_the_count_and_progress_to_100(
    page: Page, sandbox_url: str, owner, tmp_path
) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    sandbox_configure(time_scale=SCALE)
    link = _connected(sandbox_url)
    Membership.objects.create(customer=link.customer, user=owner, role=Membership.Role.OWNER)
    today = timezone.now().date()
    start = datetime.combine(today - timedelta(days=30), datetime.min.time(), tzinfo=UTC)
    expected = _expected(start, start + timedelta(days=31))
    n, new = len(expected), sum(expected.values())
    assert new > 1

    with own_queue() as queue:
        env = {
            **settings_env(sandbox_url),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "AMAZON_LWA_URL": settings.AMAZON_LWA_URL,
            "AMAZON_SP_API_URL_EU": settings.AMAZON_SP_API_URL_EU,
            "HUB_VAR_DIR": str(tmp_path),
        }
        with celery_worker(env, queue=queue, concurrency=2, log=tmp_path / "worker.log"):
            try:
                page.goto(f"{site}/accounts/login/")
                page.get_by_label("Username").fill("olivia")
                page.get_by_label("Password").fill("pw-olivia-123")
                page.get_by_role("button", name="Log in").click()
                page.goto(
                    site
                    + reverse(
                        "link-detail", kwargs={"code": link.customer.code, "link_id": link.pk}
                    )
                )
                page.get_by_role("link", name="Import a date range").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Import settlements")
                expect(page.get_by_label("From")).to_have_value(
                    f"{today - timedelta(days=30):%Y-%m-%d}"
                )
                expect(page.get_by_label("To")).to_have_value(f"{today:%Y-%m-%d}")
                screenshot(page, "settlements-import-01-range")
                page.get_by_role("button", name="Check this range").click()

                summary = page.locator(".preview-count")
                expect(summary).to_contain_text(
                    f"{n} settlements in this range: 0 already posted, {new} new", timeout=60_000
                )
                expect(page.locator('[data-status="new"]')).to_have_count(new)
                screenshot(page, "settlements-import-02-count")
                page.get_by_role("button", name=f"Import {new} new settlements").click()

                expect(page.locator("progress[data-bar]").first).to_be_visible()
                expect(page.locator("[data-percent]").first).to_have_text("100 %", timeout=120_000)
                expect(page.get_by_role("heading", name="Last import")).to_be_visible()
                expect(page.locator("progress[data-bar]").first).to_have_attribute("value", "100")
                expect(page.locator("[data-text]").first).to_contain_text(
                    f"Done: {new} posted, 0 already posted before, 0 held, 0 failed (of {new})"
                )
                screenshot(page, "settlements-import-03-done")
            except Exception:
                print((tmp_path / "worker.log").read_text()[-20000:])
                raise

    run = Run.objects.get(link=link, checkpoint__mode="import")
    assert run.status == "done" and run.progress == 100 and run.posted == new
    built = Settlement.objects.filter(link=link, state=Settlement.State.BUILT)
    assert built.count() == new
    assert xero_documents(link).count() == new
    assert LedgerEntry.objects.filter(link=link, status="posted").count() == 2 * new
    assert not LedgerEntry.objects.filter(link=link).exclude(status="posted").exists()

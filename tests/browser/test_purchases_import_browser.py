"""The historical import of Amazon Business purchases, clicked in Chromium, run by a real worker.

The owner signs in, opens "Import historical data", checks the default range (the last 90
days), reads the count of what will be posted, starts the import and watches the progress bar
reach 100 % while a Celery worker process (on Redis) reads Amazon and posts to Xero.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from sandbox.business.models import Transaction
from sandbox.xero.models import BankTransaction
from sync.models import EntryStatus, LedgerEntry, Run
from tests.browser.conftest import screenshot
from tests.engine_support import settings_env
from tests.purchases.support import business_link, map_everything, own_queue, seed
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_historical_import_shows_its_count_and_progress_to_100(
    page: Page, sandbox_url: str, customer, tmp_path
) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    seed(sandbox_url, days=60, purchases=80)
    link = business_link(sandbox_url, customer=customer)
    map_everything(link)
    amazon = Transaction.objects.count()
    new_card = Transaction.objects.filter(last4="4242").count()

    with own_queue() as queue:
        env = {
            **settings_env(sandbox_url),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "AMAZON_LWA_URL": settings.AMAZON_LWA_URL,
            "AMAZON_BUSINESS_API_URL": settings.AMAZON_BUSINESS_API_URL,
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
                        "purchases-import", kwargs={"code": customer.code, "link_id": link.pk}
                    )
                )
                expect(page.get_by_role("heading", level=1)).to_have_text("Import historical data")
                screenshot(page, "purchases-01-import-range")
                page.get_by_role("button", name="Check this range").click()

                summary = page.locator(".preview-count")
                expect(summary).to_contain_text(f"{amazon} purchases", timeout=60_000)
                expect(summary).to_contain_text(f"0 already posted, {amazon} new")
                expect(page.get_by_text(f"{new_card} paid with Visa ending 4242")).to_be_visible()
                screenshot(page, "purchases-02-import-count")
                page.get_by_role(
                    "button", name=re.compile(rf"Import {amazon} new purchases")
                ).click()

                bar = page.locator("progress[data-bar]").first
                expect(bar).to_be_visible()
                expect(page.locator("[data-percent]").first).to_have_text("100 %", timeout=120_000)
                expect(page.get_by_role("heading", name="Last import")).to_be_visible()
                expect(page.locator("progress[data-bar]").first).to_have_attribute("value", "100")
                screenshot(page, "purchases-03-import-done")
                page.get_by_role("link", name="Manage purchases").click()
                expect(page.get_by_role("heading", name="Needs your attention")).to_be_visible()
                expect(page.get_by_role("link", name="Map this card")).to_be_visible()
                screenshot(page, "purchases-04-manage")
            except Exception:
                print((tmp_path / "worker.log").read_text()[-20000:])
                raise

    run = Run.objects.get(link=link, checkpoint__mode="import")
    assert run.status == "done" and run.progress == 100
    assert run.held == LedgerEntry.objects.filter(link=link, status=EntryStatus.HELD).count()
    assert run.held == new_card
    assert not LedgerEntry.objects.filter(link=link, status__in=["pending", "sending", "failed"])
    posted = LedgerEntry.objects.filter(
        link=link, status=EntryStatus.POSTED, kind="bank_transaction"
    )
    assert posted.count() == BankTransaction.objects.filter(org__name="Redwood Supply Co.").count()

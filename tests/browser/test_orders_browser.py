"""Per-order accounting switched on and a range of orders imported, clicked in Chromium.

The owner opens the link's Orders page, chooses "Per order" from a day 40 days back, imports the
orders of that range, and watches a Celery worker process (on Redis) read Amazon's order reports
and invoice each shipped order in the sandbox's Xero; the page then shows each order with its
Xero invoice and "equals Amazon's total".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from hub.models import Membership
from mappings.services import mapping_store
from orders.models import AccountingMode, AmazonOrder, OrderSettings
from orders.views import SHOWN
from sandbox.state import sandbox_configure
from sandbox.xero.models import Invoice
from tests.browser.conftest import screenshot
from tests.engine_support import settings_env
from tests.orders.support import per_order_link, sandbox_orders
from tests.purchases.support import own_queue
from tests.sandbox.amazon_support import EU_SELLER
from tests.settlements.support import mapping
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker]
SCALE = 60


def test_switch_to_per_order_and_import_a_range_of_orders(
    page: Page, sandbox_url: str, owner, tmp_path
) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    sandbox_configure(time_scale=SCALE)
    link = per_order_link(sandbox_url, seller=EU_SELLER, orders=80)
    OrderSettings.objects.filter(link=link).update(mode=AccountingMode.SUMMARY)
    mapping_store(link, mapping())
    Membership.objects.create(customer=link.customer, user=owner, role=Membership.Role.OWNER)
    since = timezone.now().date() - timedelta(days=40)
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    shipped = {
        oid
        for oid, order in sandbox_orders(EU_SELLER).items()
        if order.status == "Shipped" and order.purchase_date >= start
    }
    assert len(shipped) > 5

    with own_queue() as queue:
        env = {
            **settings_env(sandbox_url),
            "RATE_LIMIT_TIME_SCALE": str(SCALE),
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
                kwargs = {"code": link.customer.code, "link_id": link.pk}
                page.goto(site + reverse("link-detail", kwargs=kwargs))
                page.get_by_role("link", name="Orders and accounting mode").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Orders")
                expect(page.get_by_role("heading", name="Import orders")).to_have_count(0)

                page.get_by_label("Per order", exact=True).check()
                page.get_by_label("Per order from").fill(f"{since:%Y-%m-%d}")
                screenshot(page, "orders-01-mode")
                page.get_by_role("button", name="Save accounting mode").click()
                expect(
                    page.get_by_text(f"Per-order accounting is on from {since:%d %b %Y}")
                ).to_be_visible()

                page.get_by_label("From", exact=True).fill(f"{since:%Y-%m-%d}")
                page.get_by_role("button", name="Import this range").click()
                expect(page.get_by_text("Reading orders from")).to_be_visible()
                screenshot(page, "orders-02-importing")

                # Every shipped order of the range is invoiced and in Xero (the page shows the
                # most recent ones, each with its invoice number and the check).
                end = timezone.now() + timedelta(seconds=120)
                while _in_xero(link).count() < len(shipped) and timezone.now() < end:
                    page.wait_for_timeout(1000)
                page.reload()
                shown = min(len(shipped), SHOWN)
                expect(page.get_by_text("equals Amazon's total")).to_have_count(shown)
                expect(page.get_by_role("link", name=re.compile(r"^(UK|DE)-"))).to_have_count(shown)
                expect(page.get_by_text("orders read (done)")).to_be_visible()
                # Orders read because they changed lately, but bought before the start day.
                earlier = AmazonOrder.objects.filter(link=link, purchase_date__lt=start).count()
                expect(page.get_by_text("none: bought before per order began")).to_have_count(
                    earlier
                )
                expect(page.get_by_text("not yet")).to_have_count(0)
                screenshot(page, "orders-03-invoiced")
            except Exception:
                screenshot(page, "orders-failed")
                print((tmp_path / "worker.log").read_text()[-20000:])
                raise

    # Each shipped order of the range has exactly one invoice in Xero, equal to Amazon's total.
    invoices = _in_xero(link)
    by_order = {i.reference: i for i in invoices}
    assert set(by_order) == shipped and invoices.count() == len(shipped)
    for order in AmazonOrder.objects.filter(link=link, amazon_order_id__in=shipped):
        assert by_order[order.amazon_order_id].total == order.order_total


def _in_xero(link):
    return Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id, type="ACCREC").exclude(
        status="VOIDED"
    )

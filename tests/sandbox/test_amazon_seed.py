"""Seeding the sandbox's Login with Amazon apps and Seller Central accounts."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import override_settings

from sandbox.amazon.models import (
    FinancialEventGroup,
    FinancialTransaction,
    LwaApp,
    Order,
    Report,
    Seller,
    Settlement,
)
from sandbox.amazon.seed import seed_big_seller, seed_seller, seller_delete
from sandbox.amazon.store import FLAT_REPORT, V2_REPORT

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (LwaApp, Seller, Order, Settlement, FinancialTransaction, Report)
    }


def test_seed_registers_the_hubs_apps_and_two_sellers_once() -> None:
    summary = seed_seller(site_url="http://hub.test", orders=120)
    assert "A2SANDBOXEU1, A2SANDBOXNA1 created" in summary
    sp = LwaApp.objects.get(application_id=settings.AMAZON_SP_APP_ID)
    assert (sp.kind, sp.client_id, sp.client_secret, sp.name) == (
        "seller",
        settings.AMAZON_SP_CLIENT_ID,
        settings.AMAZON_SP_CLIENT_SECRET,
        "Ledgerbridge (sandbox)",
    )
    assert sp.redirect_uris == ["http://hub.test/connect/amazon/callback"]
    assert sp.is_published == (not settings.AMAZON_SP_APP_DRAFT)
    business = LwaApp.objects.get(application_id=settings.AMAZON_BUSINESS_APP_ID)
    assert business.kind == "business"
    assert business.client_id == settings.AMAZON_BUSINESS_CLIENT_ID
    assert business.redirect_uris == ["http://hub.test/connect/business/callback"]

    eu = Seller.objects.get(selling_partner_id="A2SANDBOXEU1")
    na = Seller.objects.get(selling_partner_id="A2SANDBOXNA1")
    assert eu.marketplace_ids == ["A1F83G8C2ARO7P", "A1PA6795UKMFR9"]
    assert na.marketplace_ids == ["ATVPDKIKX0DER"]
    today = datetime.now(UTC).date()
    assert eu.data_start + timedelta(days=eu.data_days) == today  # the data ends today
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    recent = Order.objects.filter(seller=eu, purchase_date__gte=midnight - timedelta(days=90))
    assert 90 <= recent.count() <= 150  # about `orders` in the last 90 days
    assert not Order.objects.filter(purchase_date__gte=midnight).exists()

    before = _counts()
    again = seed_seller(site_url="http://hub.test", orders=120)
    assert "already seeded" in again and _counts() == before
    with override_settings(AMAZON_SP_APP_DRAFT=True):
        seed_seller(site_url="http://other.test", orders=120)
    sp.refresh_from_db()
    assert sp.redirect_uris == [
        "http://hub.test/connect/amazon/callback",
        "http://other.test/connect/amazon/callback",
    ]
    assert sp.is_published is False
    assert LwaApp.objects.count() == 2


def test_seeded_reports_cover_both_layouts_a_duplicate_and_expired_settlements() -> None:
    seed_seller(site_url="http://hub.test", orders=120)
    now = datetime.now(UTC)
    for seller in Seller.objects.all():
        reports = Report.objects.filter(seller=seller).select_related("settlement", "document")
        closed = Settlement.objects.filter(seller=seller, processing_status="Closed")
        assert {r.settlement_id for r in reports} == set(closed.values_list("pk", flat=True))
        assert {r.report_type for r in reports} == {V2_REPORT, FLAT_REPORT}
        for report in reports:
            settlement = report.settlement
            assert settlement is not None and report.document is not None
            assert report.created_time >= settlement.end + timedelta(days=1)
            assert report.created_time < settlement.end + timedelta(days=2, hours=8)
            assert report.document.compression == (
                "GZIP" if report.report_type == V2_REPORT else ""
            )
        assert reports.filter(created_time__lt=now - timedelta(days=90)).exists()
        listable_flat = reports.filter(
            report_type=FLAT_REPORT, created_time__gte=now - timedelta(days=90)
        )
        assert listable_flat.exists()
        twice = [s for s, n in Counter(r.settlement_id for r in reports).items() if n > 1]
        assert len(twice) == 1
        copies = reports.filter(settlement_id=twice[0]).order_by("created_time")
        assert len(bytes(copies[0].document.content)) != len(bytes(copies[1].document.content))
        groups = FinancialEventGroup.objects.filter(seller=seller)
        assert groups.filter(processing_status="Open").exists()
        for group in groups:
            postings = FinancialTransaction.objects.filter(group=group)
            assert sum(p.total for p in postings) == group.original_total


def test_same_date_and_seed_give_the_same_data() -> None:
    first = seed_big_seller(selling_partner_id="A2SANDBOXT1", orders=300, seed=5)
    second = seed_big_seller(selling_partner_id="A2SANDBOXT2", orders=300, seed=5)

    def fingerprint(seller: Seller) -> list[tuple[str, str, str]]:
        return [
            (o.amazon_order_id, o.purchase_date.isoformat(), o.data["OrderStatus"])
            for o in Order.objects.filter(seller=seller).order_by("amazon_order_id")
        ]

    assert fingerprint(first) == fingerprint(second) and len(fingerprint(first)) == 300
    assert seed_big_seller(selling_partner_id="A2SANDBOXT1", orders=999).pk == first.pk
    replaced = seed_big_seller(selling_partner_id="A2SANDBOXT1", orders=100, replace=True)
    assert Order.objects.filter(seller=replaced).count() == 100
    seller_delete(replaced)
    assert not Seller.objects.filter(selling_partner_id="A2SANDBOXT1").exists()
    assert Order.objects.filter(seller=second).count() == 300


def test_a_big_seller_is_stored_in_bulk() -> None:
    started = time.monotonic()
    seller = seed_big_seller(orders=20_000)
    elapsed = time.monotonic() - started
    assert Order.objects.filter(seller=seller).count() == 20_000
    assert FinancialTransaction.objects.filter(seller=seller).count() > 20_000
    assert elapsed < 30, f"20,000 orders took {elapsed:.1f}s"

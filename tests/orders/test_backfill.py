"""History from the sandbox's orders reports: the same orders and amounts as the Orders API for
the same range (EU and US sellers), without getOrderItems; Amazon's refusals and damaged
reports end the run with their words and nothing half-written."""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from orders import pull
from orders.models import AmazonOrder, OrderSettings
from orders.report import ReportOrder
from sandbox.amazon.models import Report
from sync.models import Run
from tests.orders.support import (
    SELLERS,
    Calls,
    assert_order_as_amazon_has_it,
    assert_report_order_like_api,
    ops,
    per_order_link,
    run_to_end,
    sandbox_orders,
)
from tests.sandbox.amazon_support import EU_SELLER, NA_SELLER, UK


def _snapshot(link: Any) -> dict[str, AmazonOrder]:
    return {o.amazon_order_id: o for o in AmazonOrder.objects.filter(link=link)}


@pytest.mark.parametrize("seller", [EU_SELLER, NA_SELLER])
def test_a_report_backfill_gives_the_orders_and_amounts_the_api_gives(
    sandbox_url: str, seller: str, sp_calls: Calls, builds: list[dict[str, Any]]
) -> None:
    link = per_order_link(sandbox_url, seller=seller)
    _, marketplaces, _ = SELLERS[seller]
    now = timezone.now()
    start = (now - timedelta(days=45)).replace(microsecond=0)
    run = pull.orders_backfill_start(link, start, now + timedelta(days=1))
    assert run.checkpoint["mode"] == "backfill" and run.range_end <= now + timedelta(seconds=1)
    chunks = run.checkpoint["chunks"]
    assert len(chunks) == 2 * len(marketplaces)  # 30 days, then 15, per marketplace
    run = run_to_end(run, deadline=180)
    assert run.status == "done", run.error
    assert all(c["status"] == "done" and c["report_id"] for c in run.checkpoint["chunks"])
    requested = [params for _, _, params in ops(sp_calls, "createReport")]
    assert [(p["marketplaceIds"], p["dataStartTime"], p["dataEndTime"]) for p in requested] == [
        ([c["marketplace"]], c["start"], c["end"]) for c in chunks
    ]
    assert not ops(sp_calls, "getOrderItems")  # the report carries the items
    reported = _snapshot(link)
    expected = sandbox_orders(
        seller,
        marketplace_id__in=list(marketplaces),
        last_update_date__gte=start,
        last_update_date__lte=run.range_end,
    )
    assert len(expected) > 25 and set(reported) == set(expected)
    assert run.pulled >= len(expected) and run.total == run.pulled
    assert {o.source for o in reported.values()} == {"report"}
    assert all(o.items_read_at and o.items_read_at >= o.last_update_date for o in reported.values())
    assert builds == [{"link": link.pk, "run": run.pk, "order_ids": None}]

    # The same range from the Orders API, compared field by field.
    AmazonOrder.objects.filter(link=link).delete()
    OrderSettings.objects.filter(link=link).update(per_order_since=start)
    api_run = run_to_end(pull.orders_pull_start(link))
    assert api_run.status == "done" and api_run.range_start == start
    from_api = _snapshot(link)
    assert set(from_api) == set(reported)
    priced = 0
    for order_id, ours in reported.items():
        theirs = from_api[order_id]
        assert_order_as_amazon_has_it(theirs, expected[order_id])
        for name in ("marketplace_id", "sales_channel", "status", "purchase_date"):
            assert getattr(ours, name) == getattr(theirs, name), (order_id, name)
        assert ours.last_update_date == theirs.last_update_date
        assert ours.order_total == theirs.order_total, order_id
        if theirs.order_total is not None:
            assert ours.currency == theirs.currency
            priced += 1
        shipped = theirs.status in pull.ITEM_STATUSES
        assert_report_order_like_api(
            ours.data, ours.items, theirs.data, theirs.items if shipped else None
        )
    assert priced > 20


def test_a_report_never_replaces_what_the_api_said_as_recently(sandbox_url: str) -> None:
    link = per_order_link(sandbox_url)
    run = run_to_end(pull.orders_pull_start(link))
    assert run.status == "done"
    before = {o.amazon_order_id: (o.data, o.items, o.source) for o in AmazonOrder.objects.all()}
    older, same, newer = list(AmazonOrder.objects.filter(link=link, status="Shipped"))[:3]

    def report_of(order: AmazonOrder, moved: timedelta) -> ReportOrder:
        return ReportOrder(
            amazon_order_id=order.amazon_order_id,
            marketplace_id=order.marketplace_id,
            sales_channel=order.sales_channel,
            status="Shipped",
            purchase_date=order.purchase_date,
            last_update_date=order.last_update_date + moved,
            currency=order.currency,
            order_total=order.order_total,
            data={"AmazonOrderId": order.amazon_order_id, "from": "report"},
            items=[{"SellerSKU": "FROM-REPORT"}],
        )

    written = pull.orders_store_report(
        link,
        [
            report_of(older, -timedelta(hours=1)),
            report_of(same, timedelta(0)),
            report_of(newer, timedelta(hours=1)),
        ],
    )
    assert written == 1
    for kept in (older, same):
        kept.refresh_from_db()
        assert (kept.data, kept.items, kept.source) == before[kept.amazon_order_id]
    newer.refresh_from_db()
    assert newer.source == "report" and newer.items == [{"SellerSKU": "FROM-REPORT"}]
    assert newer.data["from"] == "report"


def _break(report_id: str, line: int, column: int, value: str) -> None:
    document = Report.objects.get(report_id=report_id).document
    assert document is not None
    text = gzip.decompress(bytes(document.content)).decode("cp1252")
    lines = text.split("\n")
    cells = lines[line - 1].split("\t")
    cells[column] = value
    lines[line - 1] = "\t".join(cells)
    document.content = gzip.compress("\n".join(lines).encode("cp1252"))
    document.save()


def test_a_damaged_report_line_fails_the_run_naming_it_and_keeps_nothing_of_that_report(
    sandbox_url: str,
) -> None:
    link = per_order_link(sandbox_url)
    account = link.seller_account
    assert account is not None
    account.marketplace_ids = [UK]
    account.save()
    now = timezone.now()
    run = pull.orders_backfill_start(link, now - timedelta(days=50), now)
    step = 0
    for _ in range(2):  # both reports requested
        step = pull.orders_step(run_id=run.pk, step=step).step
    first, second = Run.objects.get(pk=run.pk).checkpoint["chunks"]
    _break(second["report_id"], 4, 16, "12,99")  # item-price
    run = run_to_end(Run.objects.get(pk=run.pk))
    assert run.status == "failed"
    assert run.error == (
        f"The orders report {second['report_id']} for marketplace {UK}, {second['start']} to "
        f"{second['end']} cannot be read: Line 4: item-price '12,99' is not an amount."
    )
    chunks = run.checkpoint["chunks"]
    assert [c["status"] for c in chunks] == ["done", "ready"]
    first_range = sandbox_orders(
        EU_SELLER,
        marketplace_id=UK,
        last_update_date__gte=pull._when(first["start"]),
        last_update_date__lte=pull._when(first["end"]),
    )
    kept = set(AmazonOrder.objects.filter(link=link).values_list("amazon_order_id", flat=True))
    assert kept == set(first_range) and chunks[0]["orders"] == len(first_range)


def test_a_report_amazon_could_not_make_fails_the_run_with_its_words(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = per_order_link(sandbox_url)
    monkeypatch.setattr(pull, "REPORT_SPAN", timedelta(days=45))  # Amazon allows 30
    now = timezone.now()
    run = run_to_end(pull.orders_backfill_start(link, now - timedelta(days=40), now))
    assert run.status == "failed"
    assert run.error.endswith(": Date range exceeded. Report can be requested only upto 30 days"), (
        run.error
    )
    assert run.error.startswith("Amazon could not produce the orders report ")
    assert not AmazonOrder.objects.filter(link=link).exists()


def test_a_backfill_refuses_bad_ranges(sandbox_url: str) -> None:
    link = per_order_link(sandbox_url)
    now = timezone.now()
    with pytest.raises(pull.OrdersPullError, match="start must be before its end"):
        pull.orders_backfill_start(link, now - timedelta(days=1), now - timedelta(days=2))
    with pytest.raises(pull.OrdersPullError, match="two years"):
        pull.orders_backfill_start(link, now - timedelta(days=800), now)
    assert not Run.objects.filter(link=link).exists()


def test_a_report_amazon_cancelled_for_want_of_orders_is_an_empty_chunk(
    sandbox_url: str,
) -> None:
    link = per_order_link(sandbox_url)
    account = link.seller_account
    assert account is not None
    account.marketplace_ids = [UK]
    account.save()
    now = timezone.now()
    run = pull.orders_backfill_start(link, now - timedelta(days=50), now)
    step = 0
    for _ in range(2):  # both reports requested
        step = pull.orders_step(run_id=run.pk, step=step).step
    first, second = Run.objects.get(pk=run.pk).checkpoint["chunks"]
    # Amazon found nothing for the first range (it cancels such reports by itself).
    Report.objects.filter(report_id=first["report_id"]).update(
        final_status="CANCELLED", document=None
    )
    run = run_to_end(Run.objects.get(pk=run.pk))
    assert run.status == "done" and run.error == ""
    chunks = run.checkpoint["chunks"]
    assert chunks[0]["empty"] and chunks[0]["orders"] == 0 and chunks[1]["orders"] > 0
    second_range = sandbox_orders(
        EU_SELLER,
        marketplace_id=UK,
        last_update_date__gte=pull._when(second["start"]),
        last_update_date__lte=pull._when(second["end"]),
    )
    kept = set(AmazonOrder.objects.filter(link=link).values_list("amazon_order_id", flat=True))
    assert kept == set(second_range)

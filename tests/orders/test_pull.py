"""Orders from the sandbox's Orders API: the incremental pull page by page, its items, what a
second pull reads, resuming after an interruption, throttling, and orders fetched by id."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from connectors import limits
from orders import pull
from orders.models import AmazonOrder, OrderSettings
from sandbox.amazon.models import Order
from sandbox.state import sandbox_configure
from sync.models import Run
from tests.orders.support import (
    Calls,
    assert_order_as_amazon_has_it,
    buyer_paid,
    ops,
    per_order_link,
    run_to_end,
    sandbox_orders,
)
from tests.sandbox.amazon_support import DE, EU_SELLER, UK, access_token


def _in_range(link_since: Any, before: Any) -> dict[str, Order]:
    return sandbox_orders(
        EU_SELLER,
        marketplace_id__in=[UK, DE],
        last_update_date__gte=link_since,
        last_update_date__lte=before,
    )


def test_an_incremental_pull_reads_every_order_in_range_with_its_items_and_totals(
    sandbox_url: str,
    monkeypatch: pytest.MonkeyPatch,
    sp_calls: Calls,
    builds: list[dict[str, Any]],
) -> None:
    link = per_order_link(sandbox_url)
    monkeypatch.setattr(pull, "PAGE_SIZE", 10)  # several pages, several NextTokens
    now = timezone.now()
    run = pull.orders_pull_start(link, now=now)
    assert run.checkpoint["mode"] == "sync" and run.checkpoint["marketplaces"] == [UK, DE]
    assert run.range_start == now - timedelta(days=30)
    run = run_to_end(run)
    assert run.status == "done" and run.error == ""

    options = OrderSettings.objects.get(link=link)
    assert options.updated_through == pull._when(run.checkpoint["before"])
    assert now - timedelta(minutes=3) < options.updated_through <= now
    assert options.last_pull_at is not None and options.last_pull_at >= now

    expected = _in_range(run.range_start, options.updated_through)
    ours = {o.amazon_order_id: o for o in AmazonOrder.objects.filter(link=link)}
    assert len(expected) > 25 and set(ours) == set(expected)
    older = sandbox_orders(EU_SELLER, last_update_date__lt=run.range_start)
    assert older and not set(older) & set(ours)  # nothing before the range was read
    shipped = [o for o in expected.values() if o.status == "Shipped"]
    assert shipped and {o.status for o in expected.values()} - {"Shipped"}
    for order_id, theirs in expected.items():
        assert_order_as_amazon_has_it(ours[order_id], theirs)
        assert ours[order_id].source == "api"
    for theirs in shipped:
        order = ours[theirs.amazon_order_id]
        assert order.order_total == buyer_paid(order.items, tax_inclusive=True)

    pages = math.ceil(len(expected) / 10)
    listing = ops(sp_calls, "getOrders")
    assert len(listing) == pages == run.checkpoint["pages"]
    assert listing[0][2] == {
        "MarketplaceIds": f"{UK},{DE}",
        "LastUpdatedAfter": run.checkpoint["since"],
        "MaxResultsPerPage": 10,
    }
    assert all("NextToken" in params for _, _, params in listing[1:])
    read = Counter(path for _, path, _ in ops(sp_calls, "getOrderItems"))
    assert set(read) == {f"/orders/v0/orders/{o.amazon_order_id}/orderItems" for o in shipped}
    assert set(read.values()) == {1}
    assert run.pulled == run.total == len(expected)
    assert run.checkpoint["items_read"] == len(shipped)
    assert builds == [{"link": link.pk, "run": run.pk, "order_ids": None}]


def _touch(order: Order, when: Any, **changes: Any) -> None:
    """Amazon changes an order: its LastUpdateDate moves, and whatever else changed."""
    data = dict(order.data)
    data["LastUpdateDate"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    order.last_update_date = when
    for name, value in changes.items():
        setattr(order, name, value)
    order.data = data
    order.save()


def test_a_second_pull_reads_only_what_changed(sandbox_url: str, sp_calls: Calls) -> None:
    link = per_order_link(sandbox_url)
    first = run_to_end(pull.orders_pull_start(link))
    assert first.status == "done"
    through = OrderSettings.objects.get(link=link).updated_through
    assert through is not None
    read_before = {
        o.amazon_order_id: o.items_read_at for o in AmazonOrder.objects.filter(link=link)
    }

    # Amazon records two changes: an order the hub has (its item's title changed), and an
    # old order the hub never read (a late refund moved its LastUpdateDate).
    now = timezone.now()
    changed_at = now - timedelta(minutes=2, seconds=30)
    shipped = sandbox_orders(EU_SELLER, status="Shipped", last_update_date__gte=first.range_start)
    known = next(iter(shipped.values()))
    items = [dict(item) for item in known.items]
    items[0]["Title"] = "Renamed: " + items[0]["Title"]
    _touch(known, changed_at, items=items)
    old = sandbox_orders(
        EU_SELLER,
        status="Shipped",
        marketplace_id__in=[UK, DE],
        last_update_date__lt=first.range_start - timedelta(days=5),
    )
    late = next(iter(old.values()))
    assert late.amazon_order_id not in read_before
    _touch(late, changed_at)
    sp_calls.clear()

    second = pull.orders_pull_start(link)
    assert second.pk != first.pk and second.range_start == through - pull.OVERLAP
    second = run_to_end(second)
    assert second.status == "done"
    expected = _in_range(second.range_start, pull._when(second.checkpoint["before"]))
    assert {known.amazon_order_id, late.amazon_order_id} <= set(expected)
    assert second.pulled == len(expected)  # only what changed (and the overlap) is listed
    assert len(ops(sp_calls, "getOrders")) == 1
    items_read = sorted(path for _, path, _ in ops(sp_calls, "getOrderItems"))
    assert items_read == sorted(
        f"/orders/v0/orders/{o.amazon_order_id}/orderItems" for o in (known, late)
    )
    ours = AmazonOrder.objects.get(link=link, amazon_order_id=known.amazon_order_id)
    known.refresh_from_db()
    assert_order_as_amazon_has_it(ours, known)
    assert ours.items[0]["Title"].startswith("Renamed: ")
    late.refresh_from_db()
    assert_order_as_amazon_has_it(
        AmazonOrder.objects.get(link=link, amazon_order_id=late.amazon_order_id), late
    )
    unchanged = AmazonOrder.objects.filter(link=link).exclude(
        amazon_order_id__in=[known.amazon_order_id, late.amazon_order_id]
    )
    assert {o.amazon_order_id: o.items_read_at for o in unchanged} == {
        k: v for k, v in read_before.items() if k != known.amazon_order_id
    }
    assert OrderSettings.objects.get(link=link).updated_through == pull._when(
        second.checkpoint["before"]
    )


def test_an_interrupted_pull_resumes_at_the_saved_next_token_without_reading_again(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch, sp_calls: Calls
) -> None:
    link = per_order_link(sandbox_url)
    monkeypatch.setattr(pull, "PAGE_SIZE", 5)
    run = pull.orders_pull_start(link)
    first = pull.orders_step(run_id=run.pk, step=0)
    assert first.more and first.step == 1
    saved = Run.objects.get(pk=run.pk)  # the worker dies here: only the database remains
    token = saved.checkpoint["next_token"]
    assert token and saved.checkpoint["pages"] == 1 and saved.pulled == 5
    assert AmazonOrder.objects.filter(link=link).count() == 5
    # A copy of the first task (re-queued as lost) does nothing.
    assert pull.orders_step(run_id=run.pk, step=0).note == "stale step"
    assert len(ops(sp_calls, "getOrders")) == 1

    # The next worker dies after Amazon answered, before the page was saved: nothing of that
    # page is kept, and the step after it asks for the same page again.
    real_store = pull.orders_store_api

    def crash(link: Any, orders: Any) -> int:
        real_store(link, orders)
        raise RuntimeError("worker lost")

    monkeypatch.setattr(pull, "orders_store_api", crash)
    with pytest.raises(RuntimeError):
        pull.orders_step(run_id=run.pk, step=1)
    monkeypatch.setattr(pull, "orders_store_api", real_store)
    assert AmazonOrder.objects.filter(link=link).count() == 5
    assert Run.objects.get(pk=run.pk).checkpoint["next_token"] == token

    resumed = pull.orders_step(run_id=run.pk, step=Run.objects.get(pk=run.pk).checkpoint["step"])
    assert resumed.more
    listing = ops(sp_calls, "getOrders")
    assert [params.get("NextToken") for _, _, params in listing] == [None, token, token]
    assert AmazonOrder.objects.filter(link=link).count() == 10

    # Into the items: read some, then the worker dies and another takes over from the database.
    step = resumed.step
    while not Run.objects.get(pk=run.pk).checkpoint["listed"]:
        step = pull.orders_step(run_id=run.pk, step=step).step
    for _ in range(3):
        step = pull.orders_step(run_id=run.pk, step=step).step
    assert len(ops(sp_calls, "getOrderItems")) == 3
    assert pull.orders_step(run_id=run.pk, step=step - 1).note == "stale step"
    done = run_to_end(Run.objects.get(pk=run.pk))
    assert done.status == "done"
    expected = _in_range(done.range_start, pull._when(done.checkpoint["before"]))
    assert AmazonOrder.objects.filter(link=link).count() == len(expected) == done.pulled
    tokens = [params.get("NextToken") for _, _, params in ops(sp_calls, "getOrders")]
    assert len(tokens) == math.ceil(len(expected) / 5) + 1  # the one page lost to the crash
    read = Counter(path for _, path, _ in ops(sp_calls, "getOrderItems"))
    shipped = [o for o in expected.values() if o.status == "Shipped"]
    assert len(read) == len(shipped) and set(read.values()) == {1}  # no order read twice


def test_throttling_returns_a_wait_and_never_fails(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = per_order_link(sandbox_url)
    run = pull.orders_pull_start(link)
    real_wait = limits.sp_wait
    # The hub's own limiter says wait: nothing is called, the step is taken again later.
    monkeypatch.setattr(limits, "sp_wait", lambda seller, operation: 42.0)
    outcome = pull.orders_step(run_id=run.pk, step=0)
    assert outcome.more and outcome.wait == 42.0 and outcome.step == 0
    assert outcome.note == "getOrders limit"

    # Amazon says 429 QuotaExceeded (another app spent the seller's getOrders burst).
    monkeypatch.setattr(limits, "sp_wait", lambda seller, operation: 0.0)
    sandbox_configure(time_scale=1)
    account = link.seller_account
    assert account is not None
    token = access_token(sandbox_url, account.token["refresh_token"])
    statuses = [
        requests.get(
            f"{sandbox_url}/amazon/sp/eu/orders/v0/orders",
            params={"MarketplaceIds": UK, "CreatedAfter": "2026-01-01T00:00:00Z"},
            headers={"x-amz-access-token": token},
            timeout=10,
        ).status_code
        for _ in range(21)
    ]
    assert statuses[-1] == 429
    throttled = pull.orders_step(run_id=run.pk, step=0)
    assert throttled.more and throttled.wait >= 1.0 and throttled.step == 0
    assert "quota" in throttled.note.lower()
    run.refresh_from_db()
    assert run.status == "running" and run.error == "" and run.checkpoint["step"] == 0
    assert not AmazonOrder.objects.filter(link=link).exists()

    sandbox_configure(time_scale=60)
    monkeypatch.setattr(limits, "sp_wait", real_wait)
    done = run_to_end(run)
    assert done.status == "done" and AmazonOrder.objects.filter(link=link).exists()


def test_orders_fetched_by_id_with_their_items(
    sandbox_url: str, sp_calls: Calls, builds: list[dict[str, Any]]
) -> None:
    link = per_order_link(sandbox_url)
    old = sorted(
        sandbox_orders(
            EU_SELLER,
            status="Shipped",
            marketplace_id__in=[UK, DE],
            last_update_date__lt=timezone.now() - timedelta(days=40),
        ).values(),
        key=lambda o: o.amazon_order_id,
    )
    assert len(old) >= 55
    wanted = [o.amazon_order_id for o in old[:55]]
    unknown = "999-0000000-0000001"

    with pytest.raises(pull.OrdersPullError, match=r"not Amazon order ids.*settlement-7"):
        pull.orders_fetch_start(link, ["settlement-7"])
    run = pull.orders_fetch_start(link, [*wanted, wanted[0], unknown])
    assert run.checkpoint["mode"] == "fetch"
    assert OrderSettings.objects.get(link=link).fetch_ids == [*wanted, unknown]
    run = run_to_end(run)
    assert run.status == "done"
    assert run.error == f"Amazon returned no order for {unknown}"
    batches = [params for _, _, params in ops(sp_calls, "getOrders")]
    assert [len(p["AmazonOrderIds"].split(",")) for p in batches] == [50, 6]
    assert all("CreatedAfter" in p and "LastUpdatedAfter" not in p for p in batches)
    ours = {o.amazon_order_id: o for o in AmazonOrder.objects.filter(link=link)}
    assert set(ours) == set(wanted)
    for theirs in old[:55]:
        assert_order_as_amazon_has_it(ours[theirs.amazon_order_id], theirs)
    assert OrderSettings.objects.get(link=link).fetch_ids == []
    assert OrderSettings.objects.get(link=link).updated_through is None  # a fetch is no sync
    assert builds == [{"link": link.pk, "run": run.pk, "order_ids": wanted}]


def test_orders_asked_for_during_a_sync_are_fetched_by_that_sync(
    sandbox_url: str, sp_calls: Calls
) -> None:
    link = per_order_link(sandbox_url)
    old = sandbox_orders(
        EU_SELLER,
        status="Shipped",
        marketplace_id__in=[UK],
        last_update_date__lt=timezone.now() - timedelta(days=40),
    )
    wanted = sorted(old)[:2]
    sync = pull.orders_pull_start(link)
    step = pull.orders_step(run_id=sync.pk, step=0).step
    assert pull.orders_fetch_start(link, wanted).pk == sync.pk
    with pytest.raises(pull.OrdersPullError, match="reading new orders for this link"):
        pull.orders_backfill_start(
            link, timezone.now() - timedelta(days=10), timezone.now() - timedelta(days=1)
        )
    done = run_to_end(Run.objects.get(pk=sync.pk))
    assert done.status == "done" and done.checkpoint["fetched"] == wanted
    assert step == 1 and Run.objects.filter(link=link).count() == 1
    for order_id in wanted:
        ours = AmazonOrder.objects.get(link=link, amazon_order_id=order_id)
        assert_order_as_amazon_has_it(ours, old[order_id])
    assert OrderSettings.objects.get(link=link).updated_through is not None


def test_a_pull_needs_chosen_marketplaces_and_an_active_connection(sandbox_url: str) -> None:
    link = per_order_link(sandbox_url)
    account = link.seller_account
    assert account is not None
    account.marketplace_ids = []
    account.save()
    with pytest.raises(pull.OrdersPullError, match="Choose the Amazon marketplaces"):
        pull.orders_pull_start(link)
    account.marketplace_ids = [UK]
    account.status = "needs_reconnect"
    account.save()
    with pytest.raises(pull.OrdersPullError, match="Amazon needs reconnecting"):
        pull.orders_pull_start(link)
    assert not Run.objects.filter(link=link).exists()

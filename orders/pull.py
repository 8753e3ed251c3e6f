"""Seller Central orders into ``AmazonOrder`` rows: one SP-API call per step, checkpointed.

A link has at most one active ORDERS run. Its checkpoint says what kind of run it is
(``mode``) and how far it got, so a killed worker's successor resumes where it stopped:

- ``sync`` (the schedule, Sync now): getOrders with ``LastUpdatedAfter`` (the first pull from
  ``OrderSettings.per_order_since``, else 30 days back; later ones from the previous pull's
  ``LastUpdatedBefore`` less a small overlap), the link's chosen marketplaces, 100 a page.
  Each page's orders are stored with the page's NextToken in one transaction.
- ``fetch`` (the settlement side names orders the hub has not read): getOrders with
  ``AmazonOrderIds``, 50 a call. Asked-for ids wait in ``OrderSettings.fetch_ids``, and any
  active run fetches them before it finishes, so asking during a sync or a backfill is served
  by that run.
- ``backfill`` (history by report, not bound by getOrderItems' 0.5 a second): per marketplace
  and 30-day chunk, createReport, getReport until DONE, then getReportDocument and the
  download; each report's orders are stored with the chunk marked done in one transaction.
  FATAL fails the run with the words of the report's document, as does a line that cannot be
  read; CANCELLED is Amazon's answer when a range has no orders (developer-docs
  …/verify-that-report-processing-is-complete), so that chunk is done with none.

Then every run reads the items of the orders that need them (Shipped, PartiallyShipped or
InvoiceUnconfirmed, and not read since their LastUpdateDate moved): getOrderItems, each order
saved as soon as read (the pages of an order with over 100 items wait in the checkpoint).
Last, a sync moves ``updated_through`` to the LastUpdatedBefore Amazon returned, the run is
done, and ``orders_build`` turns the orders into invoices. Every call first takes a token from
the per-seller, per-operation limiter (``sp_wait``): a wait is returned, never slept.

Reference: shared/reference/amazon-api.md §4 (Orders API v0), §6 (Reports API), §11.
"""

from __future__ import annotations

import gzip
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from connectors import http, limits
from connectors.amazon_sp.client import sp_request
from connectors.models import AmazonSellerAccount, Link
from orders.models import AmazonOrder, OrderSettings
from orders.report import ReportError, ReportOrder, report_decode, report_parse
from sync.models import Run, RunKind, RunStatus

log = logging.getLogger(__name__)

ORDERS_PATH = "/orders/v0/orders"
REPORTS_PATH = "/reports/2021-06-30/reports"
DOCUMENTS_PATH = "/reports/2021-06-30/documents"
REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
PAGE_SIZE = 100
FETCH_BATCH = 50  # AmazonOrderIds takes at most 50
ITEM_STATUSES = ("Shipped", "PartiallyShipped", "InvoiceUnconfirmed")
FIRST_PULL = timedelta(days=30)
# Each pull reads again from a little before the last one's LastUpdatedBefore: an order Amazon
# recorded late is still found; orders read before are only updated.
OVERLAP = timedelta(minutes=10)
# Amazon wants After/Before dates at least two minutes in the past; a margin for clocks.
SETTLE = timedelta(minutes=3)
HISTORY = timedelta(days=730)  # the Orders API serves the last two years
REPORT_SPAN = timedelta(days=30)  # "Report can be requested only upto 30 days"
REPORT_POLL_SECONDS = 30.0
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
ORDER_ID = re.compile(r"^[0-9A-Z]{3}-\d{7}-\d{7}$")  # 123-1234567-1234567


class OrdersPullError(Exception):
    """A run that cannot start; ``message`` says why and what to do."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class OrderDataError(Exception):
    """Amazon sent an order the hub cannot read."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class _Stale(Exception):
    """Another worker already took this step."""


@dataclass
class Step:
    more: bool
    wait: float = 0.0
    step: int = 0
    note: str = ""


# --------------------------------------------------------------------------- starting runs


def order_settings_for(link: Link) -> OrderSettings:
    found, _ = OrderSettings.objects.get_or_create(link=link)
    return found


def _locked_settings(link: Link) -> OrderSettings:
    order_settings_for(link)
    return OrderSettings.objects.select_for_update().get(link=link)


def _account(link: Link) -> AmazonSellerAccount:
    account = link.seller_account
    if account is None:
        raise OrdersPullError("Orders come from Seller Central; this link has none.")
    if link.pause_reason:
        raise OrdersPullError(link.pause_reason)
    if not account.marketplace_ids:
        raise OrdersPullError(
            "Choose the Amazon marketplaces to sync on the link's page before reading orders."
        )
    return account


def _z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _active(link: Link) -> Run | None:
    return Run.objects.filter(link=link, kind=RunKind.ORDERS, status__in=ACTIVE).first()


def _create(link: Link, *, start: datetime, end: datetime, **checkpoint: Any) -> Run:
    now = timezone.now()
    run = Run.objects.create(
        link=link,
        kind=RunKind.ORDERS,
        status=RunStatus.QUEUED,
        range_start=start,
        range_end=end,
        checkpoint={"step": 0, "at": now.isoformat(), "items_read": 0, **checkpoint},
    )
    _queue(run)
    return run


def _queue(run: Run) -> None:
    from orders.tasks import orders_step

    step = int(run.checkpoint.get("step", 0))
    transaction.on_commit(lambda: orders_step.delay(run.pk, step))


def orders_pull_start(link: Link, *, now: datetime | None = None) -> Run:
    """Start the link's incremental pull (or find the ORDERS run already under way)."""
    account = _account(link)
    now = now or timezone.now()
    latest = now - SETTLE
    with transaction.atomic():
        options = _locked_settings(link)
        active = _active(link)
        if active is not None:
            return active
        if options.updated_through is not None:
            since = options.updated_through - OVERLAP
        else:
            since = options.per_order_since or now - FIRST_PULL
        since = min(max(since, now - HISTORY), latest)
        return _create(
            link,
            start=since,
            end=now,
            mode="sync",
            since=_z(since),
            marketplaces=list(account.marketplace_ids),
            listed=False,
            next_token=None,
            pages=0,
        )


def orders_fetch_start(link: Link, order_ids: list[str]) -> Run:
    """Fetch these orders (and their items) by id: the active ORDERS run takes them, else a
    new run does. Returns that run."""
    _account(link)
    ids = list(dict.fromkeys(str(i).strip() for i in order_ids if str(i).strip()))
    bad = [i for i in ids if not ORDER_ID.match(i)]
    if bad:
        raise OrdersPullError(
            "These are not Amazon order ids (like 123-1234567-1234567): " + ", ".join(bad[:10])
        )
    if not ids:
        raise OrdersPullError("Name at least one Amazon order id to fetch.")
    now = timezone.now()
    with transaction.atomic():
        options = _locked_settings(link)
        waiting = list(options.fetch_ids)
        options.fetch_ids = waiting + [i for i in ids if i not in waiting]
        options.save(update_fields=["fetch_ids"])
        active = _active(link)
        if active is not None:
            return active
        return _create(link, start=now - HISTORY, end=now, mode="fetch")


def orders_backfill_start(link: Link, start: datetime, end: datetime) -> Run:
    """Read orders last updated between ``start`` and ``end`` from orders reports."""
    account = _account(link)
    now = timezone.now()
    if start.tzinfo is None or end.tzinfo is None:
        raise OrdersPullError("Give the backfill's start and end with a time zone.")
    start, end = start.replace(microsecond=0), min(end, now).replace(microsecond=0)
    if start >= end:
        raise OrdersPullError("The backfill's start must be before its end (and before now).")
    if start < now - HISTORY:
        raise OrdersPullError("Amazon keeps orders for two years: choose a later start.")
    chunks: list[dict[str, Any]] = []
    cursor = start
    while cursor < end:
        stop = min(cursor + REPORT_SPAN, end)
        for marketplace in account.marketplace_ids:
            chunks.append(
                {
                    "marketplace": marketplace,
                    "start": _z(cursor),
                    "end": _z(stop),
                    "status": "new",
                    "report_id": None,
                    "document_id": None,
                    "orders": 0,
                }
            )
        cursor = stop
    with transaction.atomic():
        _locked_settings(link)
        active = _active(link)
        if active is not None:
            what = {"sync": "new orders", "fetch": "orders by id", "backfill": "a backfill"}
            raise OrdersPullError(
                f"The hub is reading {what.get(active.checkpoint.get('mode'), 'orders')} for "
                "this link right now; start the backfill again when that has finished."
            )
        return _create(link, start=start, end=end, mode="backfill", chunks=chunks)


# --------------------------------------------------------------------------- storing orders


def _money(value: Any, order_id: str) -> tuple[str, Decimal | None]:
    if value is None:
        return "", None
    try:
        return str(value.get("CurrencyCode") or ""), Decimal(str(value["Amount"]))
    except (AttributeError, KeyError, InvalidOperation) as exc:
        raise OrderDataError(
            f"Amazon sent order {order_id} with an OrderTotal the hub cannot read: {value!r}."
        ) from exc


def _api_fields(data: dict[str, Any]) -> dict[str, Any]:
    order_id = str(data.get("AmazonOrderId") or "")
    if not order_id:
        raise OrderDataError(f"Amazon sent an order without an AmazonOrderId: {str(data)[:300]}")
    currency, total = _money(data.get("OrderTotal"), order_id)
    try:
        return {
            "amazon_order_id": order_id,
            "marketplace_id": str(data["MarketplaceId"]),
            "sales_channel": str(data.get("SalesChannel") or "")[:60],
            "status": str(data["OrderStatus"]),
            "purchase_date": _when(data["PurchaseDate"]),
            "last_update_date": _when(data["LastUpdateDate"]),
            "currency": currency,
            "order_total": total,
            "data": data,
        }
    except KeyError as exc:
        raise OrderDataError(f"Amazon sent order {order_id} without its {exc.args[0]}.") from exc
    except ValueError as exc:
        raise OrderDataError(
            f"Amazon sent order {order_id} with a date the hub cannot read: {exc}."
        ) from exc


ORDER_COLUMNS = (
    "marketplace_id",
    "sales_channel",
    "status",
    "purchase_date",
    "last_update_date",
    "currency",
    "order_total",
    "data",
)


def orders_store_api(link: Link, orders: list[dict[str, Any]]) -> int:
    """Keep a page of getOrders' orders (inside the step's transaction); returns how many.

    An order whose LastUpdateDate moved forward keeps its items but must read them again; a
    stored order Amazon described more recently (a report read later) is left as it is.
    """
    rows = [_api_fields(o) for o in orders if isinstance(o, dict)]
    now = timezone.now()
    with transaction.atomic():
        existing = {
            o.amazon_order_id: o
            for o in AmazonOrder.objects.select_for_update().filter(
                link=link, amazon_order_id__in=[r["amazon_order_id"] for r in rows]
            )
        }
        new, changed = [], []
        for row in rows:
            found = existing.get(row["amazon_order_id"])
            if found is None:
                created = AmazonOrder(link=link, source=AmazonOrder.Source.API, **row)
                existing[row["amazon_order_id"]] = created
                new.append(created)
                continue
            if row["last_update_date"] < found.last_update_date:
                continue
            if row["last_update_date"] > found.last_update_date:
                found.items_read_at = None
            for name in ORDER_COLUMNS:
                setattr(found, name, row[name])
            found.updated_at = now
            if found.pk is not None:  # else: listed twice, still to be created
                changed.append(found)
        AmazonOrder.objects.bulk_create(new)
        AmazonOrder.objects.bulk_update(changed, [*ORDER_COLUMNS, "items_read_at", "updated_at"])
        return len(rows)


def orders_store_report(link: Link, orders: list[ReportOrder]) -> int:
    """Keep a report's orders with their items; returns how many were written.

    A report row never replaces an order the API described as recently or more recently.
    """
    now = timezone.now()
    with transaction.atomic():
        existing = {
            o.amazon_order_id: o
            for o in AmazonOrder.objects.select_for_update().filter(
                link=link, amazon_order_id__in=[o.amazon_order_id for o in orders]
            )
        }
        new, changed = [], []
        for order in orders:
            values = {
                "marketplace_id": order.marketplace_id,
                "sales_channel": order.sales_channel[:60],
                "status": order.status,
                "purchase_date": order.purchase_date,
                "last_update_date": order.last_update_date,
                "currency": order.currency,
                "order_total": order.order_total,
                "data": order.data,
                "items": order.items,
                "items_read_at": max(now, order.last_update_date),
                "source": AmazonOrder.Source.REPORT,
            }
            found = existing.get(order.amazon_order_id)
            if found is None:
                created = AmazonOrder(link=link, amazon_order_id=order.amazon_order_id, **values)
                existing[order.amazon_order_id] = created
                new.append(created)
                continue
            if found.last_update_date > order.last_update_date or (
                found.last_update_date == order.last_update_date
                and found.source == AmazonOrder.Source.API
            ):
                continue
            for name, value in values.items():
                setattr(found, name, value)
            found.updated_at = now
            if found.pk is not None:  # else: listed twice, still to be created
                changed.append(found)
        AmazonOrder.objects.bulk_create(new)
        AmazonOrder.objects.bulk_update(
            changed, [*ORDER_COLUMNS, "items", "items_read_at", "source", "updated_at"]
        )
        return len(new) + len(changed)


def orders_needing_items(link: Link) -> QuerySet[AmazonOrder]:
    """Shipped orders whose items were never read, or not since their last update."""
    return AmazonOrder.objects.filter(link=link, status__in=ITEM_STATUSES).filter(
        Q(items_read_at__isnull=True) | Q(items_read_at__lt=F("last_update_date"))
    )


# --------------------------------------------------------------------------- one step


def _save(run: Run, step: int, checkpoint: dict[str, Any], **fields: Any) -> int:
    """Record this step unless another worker already did (then ``_Stale``); the next step."""
    checkpoint["step"] = step + 1
    checkpoint["at"] = timezone.now().isoformat()
    updated = Run.objects.filter(pk=run.pk, status__in=ACTIVE, checkpoint__step=step).update(
        checkpoint=checkpoint, **fields
    )
    if not updated:
        raise _Stale()
    run.checkpoint = checkpoint
    return step + 1


def _fail(run: Run, message: str, status: str = RunStatus.FAILED) -> Step:
    Run.objects.filter(pk=run.pk, status__in=ACTIVE).update(
        status=status, error=message[:4000], finished_at=timezone.now()
    )
    log.warning("orders run=%s %s: %s", run.pk, status, message)
    return Step(more=False, step=int(run.checkpoint.get("step", 0)), note=message)


def orders_step(*, run_id: int, step: int) -> Step:
    """Take the run's next step (one SP-API call at most). A duplicate task is a no-op."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        current = int(run.checkpoint.get("step", 0))
        if run.status not in ACTIVE or current != step:
            return Step(more=False, step=current, note="stale step")
        if run.status == RunStatus.QUEUED:
            run.status, run.started_at = RunStatus.RUNNING, timezone.now()
            run.save(update_fields=["status", "started_at"])
    link = Link.objects.select_related("seller_account", "xero_tenant__grant", "customer").get(
        pk=run.link_id
    )
    if link.pause_reason:
        return _fail(run, link.pause_reason, RunStatus.CANCELLED)
    checkpoint = dict(run.checkpoint)
    try:
        return _advance(run, link, checkpoint, step)
    except _Stale:
        return Step(more=False, step=step, note="stale step")
    except http.AuthRejected as exc:
        return _fail(run, exc.message)
    except http.RetryLater as exc:
        wait = max(exc.decision.wait, 1.0)
        at = int(checkpoint.get("step", step))
        return Step(more=True, wait=wait, step=at, note=f"retry: {exc.message}")
    except http.Rejected as exc:
        return _fail(run, f"Amazon refused the request ({exc.operation}): {exc.message}")
    except OrderDataError as exc:
        return _fail(run, exc.message)


def _advance(run: Run, link: Link, checkpoint: dict[str, Any], step: int) -> Step:
    account = link.seller_account
    assert account is not None
    mode = checkpoint.get("mode")
    if mode == "backfill" and any(c["status"] != "done" for c in checkpoint["chunks"]):
        return _report_step(run, link, account, checkpoint, step)
    if mode == "sync" and not checkpoint.get("listed"):
        return _list_page(run, link, account, checkpoint, step)
    fetched = _fetch_batch(run, link, account, checkpoint, step)
    if fetched is not None:
        return fetched
    items = _items_page(run, link, account, checkpoint, step)
    if items is not None:
        return items
    return _complete(run, link, checkpoint, step)


def _limited(account: AmazonSellerAccount, operation: str, step: int) -> Step | None:
    wait = limits.sp_wait(account.selling_partner_id, operation)
    if wait > 0:
        return Step(more=True, wait=wait, step=step, note=f"{operation} limit")
    return None


def _list_page(
    run: Run, link: Link, account: AmazonSellerAccount, checkpoint: dict[str, Any], step: int
) -> Step:
    """Reference: https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorders"""
    waiting = _limited(account, "getOrders", step)
    if waiting is not None:
        return waiting
    marketplaces = ",".join(checkpoint["marketplaces"])
    token = checkpoint.get("next_token")
    params: dict[str, Any]
    if token:
        # A NextToken carries the first call's filters; MarketplaceIds is required anyway.
        params = {"MarketplaceIds": marketplaces, "NextToken": token}
    else:
        params = {
            "MarketplaceIds": marketplaces,
            "LastUpdatedAfter": checkpoint["since"],
            "MaxResultsPerPage": PAGE_SIZE,
        }
    called = timezone.now()
    body = sp_request(account, "getOrders", "GET", ORDERS_PATH, params=params).json()
    payload = body.get("payload") or {}
    orders = [o for o in payload.get("Orders") or [] if isinstance(o, dict)]
    with transaction.atomic():
        stored = orders_store_api(link, orders)
        checkpoint["next_token"] = payload.get("NextToken") or None
        checkpoint["listed"] = checkpoint["next_token"] is None
        checkpoint["pages"] = int(checkpoint.get("pages", 0)) + 1
        if not checkpoint.get("before"):
            # Amazon answers with the LastUpdatedBefore it applied; without it, what it would.
            checkpoint["before"] = payload.get("LastUpdatedBefore") or _z(
                called - timedelta(minutes=2)
            )
        step = _save(run, step, checkpoint, pulled=F("pulled") + stored)
    log.info(
        "orders page link=%s run=%s page=%s orders=%d more=%s",
        link.pk,
        run.pk,
        checkpoint["pages"],
        stored,
        not checkpoint["listed"],
    )
    return Step(more=True, step=step)


def _fetch_batch(
    run: Run, link: Link, account: AmazonSellerAccount, checkpoint: dict[str, Any], step: int
) -> Step | None:
    """Orders asked for by id, 50 a call. Reference: as ``_list_page`` (AmazonOrderIds)."""
    waiting_ids = OrderSettings.objects.filter(link=link).values_list("fetch_ids", flat=True)
    ids = list((waiting_ids.first() or [])[:FETCH_BATCH])
    if not ids:
        return None
    waiting = _limited(account, "getOrders", step)
    if waiting is not None:
        return waiting
    # getOrders needs a CreatedAfter even with ids: as far back as Amazon serves orders.
    params = {
        "MarketplaceIds": ",".join(account.marketplace_ids),
        "AmazonOrderIds": ",".join(ids),
        "CreatedAfter": _z(timezone.now() - HISTORY + timedelta(days=1)),
        "MaxResultsPerPage": PAGE_SIZE,  # more than 50 ids: one page, never a NextToken
    }
    refusal = ""
    try:
        body = sp_request(account, "getOrders", "GET", ORDERS_PATH, params=params).json()
    except http.AuthRejected:
        raise
    except http.Rejected as exc:
        # Asking again would be refused again: these ids are dropped, and the run names them.
        body, refusal = {}, exc.message[:300]
    orders = [o for o in (body.get("payload") or {}).get("Orders") or [] if isinstance(o, dict)]
    found = {str(o.get("AmazonOrderId")) for o in orders}
    with transaction.atomic():
        options = OrderSettings.objects.select_for_update().get(link=link)
        options.fetch_ids = [i for i in options.fetch_ids if i not in ids]
        options.save(update_fields=["fetch_ids"])
        stored = orders_store_api(link, orders)
        if refusal:
            checkpoint.setdefault("fetch_errors", []).append({"ids": ids, "error": refusal})
        else:
            missing = [i for i in ids if i not in found]
            checkpoint["missing"] = [*checkpoint.get("missing", []), *missing]
        checkpoint["fetched"] = [*checkpoint.get("fetched", []), *[i for i in ids if i in found]]
        step = _save(run, step, checkpoint, pulled=F("pulled") + stored)
    return Step(more=True, step=step)


def _items_page(
    run: Run, link: Link, account: AmazonSellerAccount, checkpoint: dict[str, Any], step: int
) -> Step | None:
    """Reference: https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorderitems"""
    partial = checkpoint.get("item")
    if partial:
        order = AmazonOrder.objects.filter(link=link, amazon_order_id=partial["order"]).first()
    else:
        refused = [e["order"] for e in checkpoint.get("item_errors", [])]
        order = (
            orders_needing_items(link).exclude(amazon_order_id__in=refused).order_by("pk").first()
        )
    if order is None:
        return None
    waiting = _limited(account, "getOrderItems", step)
    if waiting is not None:
        return waiting
    token = partial["token"] if partial else None
    try:
        body = sp_request(
            account,
            "getOrderItems",
            "GET",
            f"{ORDERS_PATH}/{order.amazon_order_id}/orderItems",
            params={"NextToken": token} if token else None,
        ).json()
    except http.AuthRejected:
        raise
    except http.Rejected as exc:
        # One order Amazon will not describe does not stop the others; the run names it.
        checkpoint.pop("item", None)
        errors = checkpoint.setdefault("item_errors", [])
        errors.append({"order": order.amazon_order_id, "error": exc.message[:300]})
        return Step(more=True, step=_save(run, step, checkpoint))
    payload = body.get("payload") or {}
    rows = [*(partial["rows"] if partial else []), *(payload.get("OrderItems") or [])]
    next_token = payload.get("NextToken")
    with transaction.atomic():
        if next_token:
            checkpoint["item"] = {
                "order": order.amazon_order_id,
                "token": next_token,
                "rows": rows,
            }
        else:
            checkpoint.pop("item", None)
            checkpoint["items_read"] = int(checkpoint.get("items_read", 0)) + 1
            AmazonOrder.objects.filter(pk=order.pk).update(
                items=rows,
                items_read_at=max(timezone.now(), order.last_update_date),
                source=AmazonOrder.Source.API,
                updated_at=timezone.now(),
            )
        step = _save(run, step, checkpoint)
    return Step(more=True, step=step)


# --------------------------------------------------------------------------- the report


def _chunk_name(chunk: dict[str, Any]) -> str:
    report = f"orders report {chunk['report_id']}" if chunk.get("report_id") else "orders report"
    return f"{report} for marketplace {chunk['marketplace']}, {chunk['start']} to {chunk['end']}"


def _report_step(
    run: Run, link: Link, account: AmazonSellerAccount, checkpoint: dict[str, Any], step: int
) -> Step:
    chunks: list[dict[str, Any]] = checkpoint["chunks"]
    new = next((c for c in chunks if c["status"] == "new"), None)
    if new is not None:
        return _report_create(run, account, checkpoint, new, step)
    chunk = next(c for c in chunks if c["status"] != "done")
    if chunk["status"] == "requested":
        return _report_poll(run, account, checkpoint, chunk, step)
    return _report_read(run, link, account, checkpoint, chunk, step)


def _report_create(
    run: Run,
    account: AmazonSellerAccount,
    checkpoint: dict[str, Any],
    chunk: dict[str, Any],
    step: int,
) -> Step:
    """Reference: https://developer-docs.amazon.com/sp-api/docs/reports-api-v2021-06-30-reference#createreport"""
    waiting = _limited(account, "createReport", step)
    if waiting is not None:
        return waiting
    body = sp_request(
        account,
        "createReport",
        "POST",
        REPORTS_PATH,
        json={
            "reportType": REPORT_TYPE,
            "marketplaceIds": [chunk["marketplace"]],
            "dataStartTime": chunk["start"],
            "dataEndTime": chunk["end"],
        },
    ).json()
    if not body.get("reportId"):
        return _fail(run, f"Amazon did not create the {_chunk_name(chunk)}: {body}")
    chunk["report_id"] = str(body["reportId"])
    chunk["status"] = "requested"
    return Step(more=True, step=_save(run, step, checkpoint))


def _report_poll(
    run: Run,
    account: AmazonSellerAccount,
    checkpoint: dict[str, Any],
    chunk: dict[str, Any],
    step: int,
) -> Step:
    """Reference: https://developer-docs.amazon.com/sp-api/docs/reports-api-v2021-06-30-reference#getreport"""
    waiting = _limited(account, "getReport", step)
    if waiting is not None:
        return waiting
    report = sp_request(account, "getReport", "GET", f"{REPORTS_PATH}/{chunk['report_id']}").json()
    status = str(report.get("processingStatus") or "")
    if status in ("IN_QUEUE", "IN_PROGRESS"):
        # Each look is a step: a copy of this task (re-queued as lost) stops at its next save.
        chunk["polls"] = int(chunk.get("polls", 0)) + 1
        step = _save(run, step, checkpoint)
        wait = REPORT_POLL_SECONDS / limits.scale()
        return Step(more=True, wait=wait, step=step, note=f"report {status}")
    document = report.get("reportDocumentId")
    if status == "DONE" and document:
        chunk["status"], chunk["document_id"] = "ready", str(document)
    elif status == "FATAL" and document:
        chunk["status"], chunk["document_id"] = "fatal", str(document)  # it holds Amazon's words
    elif status == "CANCELLED":
        # Amazon cancels a report by itself when there is no data to return; nobody else
        # holds this report's id to cancel it, so the chunk simply had no orders.
        chunk["status"], chunk["orders"], chunk["empty"] = "done", 0, True
    else:
        return _fail(
            run,
            f"Amazon could not produce the {_chunk_name(chunk)} (processing status {status}). "
            "Start the backfill again later.",
        )
    return Step(more=True, step=_save(run, step, checkpoint))


def _report_read(
    run: Run,
    link: Link,
    account: AmazonSellerAccount,
    checkpoint: dict[str, Any],
    chunk: dict[str, Any],
    step: int,
) -> Step:
    """Reference: https://developer-docs.amazon.com/sp-api/docs/reports-api-v2021-06-30-reference#getreportdocument"""
    waiting = _limited(account, "getReportDocument", step)
    if waiting is not None:
        return waiting
    document = sp_request(
        account, "getReportDocument", "GET", f"{DOCUMENTS_PATH}/{chunk['document_id']}"
    ).json()
    try:
        response = http.call("amazon-s3", "downloadReportDocument", "GET", document["url"])
    except http.AuthRejected as exc:
        # An expired or refused presigned URL (S3's 403): ask for a fresh one next step.
        raise http.RetryLater(
            provider="amazon-s3",
            operation="downloadReportDocument",
            message=exc.message,
            decision=http.RetryDecision(True, "presigned URL refused", 1.0),
        ) from exc
    raw = response.content
    if str(document.get("compressionAlgorithm") or "").upper() == "GZIP" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        text = report_decode(raw, response.headers.get("Content-Type", ""))
        if chunk["status"] == "fatal":
            return _fail(
                run,
                f"Amazon could not produce the {_chunk_name(chunk)}: {text.strip()[:500]}",
            )
        orders = report_parse(text, marketplace_id=chunk["marketplace"])
    except ReportError as exc:
        return _fail(run, f"The {_chunk_name(chunk)} cannot be read: {exc.message}")
    with transaction.atomic():
        written = orders_store_report(link, orders)
        chunk["status"], chunk["orders"] = "done", len(orders)
        step = _save(run, step, checkpoint, pulled=F("pulled") + len(orders))
    log.info(
        "orders report link=%s run=%s report=%s orders=%d written=%d",
        link.pk,
        run.pk,
        chunk["report_id"],
        len(orders),
        written,
    )
    return Step(more=True, step=step)


# --------------------------------------------------------------------------- the end


def _summary(checkpoint: dict[str, Any]) -> str:
    problems = []
    missing = checkpoint.get("missing") or []
    if missing:
        problems.append("Amazon returned no order for " + ", ".join(missing[:20]))
    for failed in checkpoint.get("fetch_errors") or []:
        problems.append(f"Amazon refused orders {', '.join(failed['ids'][:20])}: {failed['error']}")
    for error in checkpoint.get("item_errors") or []:
        problems.append(f"order {error['order']}: Amazon refused its items: {error['error']}")
    return "; ".join(problems)[:4000]


def _complete(run: Run, link: Link, checkpoint: dict[str, Any], step: int) -> Step:
    """Every page, report and item saved: finish the run, move the cursor, build."""
    now = timezone.now()
    mode = checkpoint.get("mode")
    with transaction.atomic():
        options = _locked_settings(link)
        if options.fetch_ids:  # asked for while this run worked: fetched before it ends
            return Step(more=True, step=step, note="orders asked for by id")
        pulled = Run.objects.filter(pk=run.pk).values_list("pulled", flat=True).get()
        step = _save(
            run,
            step,
            checkpoint,
            status=RunStatus.DONE,
            finished_at=now,
            total=pulled,
            error=_summary(checkpoint),
        )
        if mode == "sync":
            options.updated_through = _when(checkpoint["before"])
            options.last_pull_at = now
            options.save(update_fields=["updated_through", "last_pull_at"])
    run.refresh_from_db()
    log.info(
        "orders run done link=%s run=%s mode=%s orders=%d items=%d",
        link.pk,
        run.pk,
        mode,
        run.pulled,
        int(checkpoint.get("items_read", 0)),
    )
    note = _build(link, run, checkpoint.get("fetched") if mode == "fetch" else None)
    return Step(more=False, step=step, note=note)


def _build(link: Link, run: Run, order_ids: list[str] | None) -> str:
    """Turn the orders into invoices; a build the limiter delays is queued for later."""
    from orders.services import orders_build

    try:
        if order_ids is None:
            orders_build(link, run=run)
        else:
            orders_build(link, run=run, order_ids=order_ids)
    except http.RetryLater as exc:
        from orders.tasks import orders_build_later

        wait = max(exc.decision.wait, 1.0)
        transaction.on_commit(
            lambda: orders_build_later.apply_async((link.pk, run.pk, order_ids), countdown=wait)
        )
        return f"build later: {exc.message}"
    return "built"

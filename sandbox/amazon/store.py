"""Persisting a generated seller: orders, settlements, postings, and Amazon's settlement reports.

`seller_store` turns one `generate_seller` dataset into rows (bulk inserts in batches, so a
100,000-order seller is stored in well under a minute). What Seller Central does on its own is
modelled here too:

- Amazon generates a settlement report about a day after each settlement closes
  (``createdTime`` = settlement end + 1 day + a few hours). Most are issued as
  ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` (gzipped); settlements that closed more than
  75 days before the end of the data are issued only in the older
  ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE`` layout (not compressed), so a client meets both
  report types, both layouts and both download paths. (Real accounts get every type for every
  settlement; the sandbox issues one so that each layout is the only copy of some settlements.)
- Amazon sometimes issues a settlement twice (selling-partner-api-docs #969): at seeding, one
  settlement of the first marketplace gets an early, incomplete report and, a day later, the
  complete one under the same settlement-id. `settlement_issue_again` issues another copy on
  demand.
- Reports older than 90 days are gone from the Reports API; their settlements stay
  downloadable from the sandbox's Seller Central "past settlements" page.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction

from sandbox.amazon.marketplaces import region_of
from sandbox.amazon.models import (
    FinancialEventGroup,
    FinancialTransaction,
    Order,
    Report,
    ReportDocument,
    Seller,
    Settlement,
)
from sandbox.datagen.seller import (
    SellerDataset,
    SellerSpec,
    generate_seller,
    render_settlement_flat,
    render_settlement_v2,
)
from sandbox.datagen.seller import Settlement as GeneratedSettlement
from sandbox.datagen.seller import SettlementRow as GeneratedRow
from sandbox.state import sandbox_state

V2_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
FLAT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"
XML_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_XML"
SETTLEMENT_REPORT_TYPES = (V2_REPORT, FLAT_REPORT, XML_REPORT)
# Settlements closed this long before the data ends are issued in the older layout only.
FLAT_FILE_BEFORE = timedelta(days=75)
# Settlement files carry no charset in their Content-Type (selling-partner-api-docs #2338).
SETTLEMENT_CONTENT_TYPE = "text/plain"
BATCH = 2000

M = TypeVar("M", bound=models.Model)


def seller_store(
    *, selling_partner_id: str, store_name: str, spec: SellerSpec, duplicate: bool = True
) -> Seller:
    """Generate ``spec`` and store it for a new seller (all or nothing)."""
    dataset = generate_seller(spec)
    with transaction.atomic():
        seller = Seller.objects.create(
            selling_partner_id=selling_partner_id,
            store_name=store_name,
            marketplace_ids=list(dict.fromkeys(spec.marketplaces)),
            seed=spec.seed,
            data_start=spec.start,
            data_days=spec.days,
            data_orders=spec.orders,
        )
        _store_orders(seller, dataset)
        settlements = _store_settlements(seller, dataset)
        _store_reports(seller, dataset, settlements, duplicate=duplicate)
    return seller


def _batched(objects: Iterable[M], model: type[M]) -> None:
    chunk: list[M] = []
    for obj in objects:
        chunk.append(obj)
        if len(chunk) >= BATCH:
            model._default_manager.bulk_create(chunk)
            chunk = []
    if chunk:
        model._default_manager.bulk_create(chunk)


def _store_orders(seller: Seller, dataset: SellerDataset) -> None:
    _batched(
        (
            Order(
                seller=seller,
                amazon_order_id=o.amazon_order_id,
                seller_order_id=o.seller_order_id,
                marketplace_id=o.marketplace_id,
                purchase_date=o.purchase_date,
                last_update_date=o.last_update_date,
                status=o.status,
                fulfillment_channel=o.fulfillment_channel,
                data=o.to_api(),
                items=o.items_to_api(),
            )
            for o in dataset.orders
        ),
        Order,
    )


def _store_settlements(
    seller: Seller, dataset: SellerDataset
) -> dict[str, tuple[Settlement, GeneratedSettlement]]:
    generated = {s.settlement_id: s for s in dataset.settlements + dataset.open_settlements}
    groups = FinancialEventGroup.objects.bulk_create(
        FinancialEventGroup(
            seller=seller,
            group_id=g.financial_event_group_id,
            settlement_id=g.settlement_id,
            marketplace_id=generated[g.settlement_id].marketplace_id,
            region=region_of(generated[g.settlement_id].marketplace_id),
            processing_status=g.processing_status,
            fund_transfer_status=g.fund_transfer_status,
            currency=g.currency,
            original_total=g.original_total,
            beginning_balance=g.beginning_balance,
            start=g.start,
            end=g.end,
            fund_transfer_date=g.fund_transfer_date,
            trace_id=g.trace_id if g.fund_transfer_date else "",
            account_tail=g.account_tail if g.fund_transfer_date else "",
        )
        for g in dataset.financial_event_groups
    )
    by_settlement = {g.settlement_id: g for g in groups}
    stored = Settlement.objects.bulk_create(
        Settlement(
            seller=seller,
            settlement_id=s.settlement_id,
            marketplace_id=s.marketplace_id,
            region=region_of(s.marketplace_id),
            currency=s.currency,
            start=s.start,
            end=s.end,
            deposit_date=s.deposit_date,
            total_amount=s.total_amount,
            processing_status=s.processing_status,
            group=by_settlement[s.settlement_id],
        )
        for s in generated.values()
    )
    _batched(
        (
            tx
            for s in generated.values()
            for tx in _transactions(seller, s, by_settlement[s.settlement_id])
        ),
        FinancialTransaction,
    )
    return {s.settlement_id: (s, generated[s.settlement_id]) for s in stored}


def _posting_key(row: GeneratedRow) -> tuple[Any, ...]:
    if not row.order_id:
        return (id(row),)  # every account-level row is a posting of its own
    return (row.transaction_type, row.order_id, row.adjustment_id, row.posted_date)


def _postings(rows: list[GeneratedRow]) -> Iterator[list[GeneratedRow]]:
    """Consecutive rows of one shipment or refund (the generator writes them together)."""
    current: list[GeneratedRow] = []
    key: tuple[Any, ...] | None = None
    for row in rows:
        row_key = _posting_key(row)
        if current and row_key != key:
            yield current
            current = []
        current.append(row)
        key = row_key
    if current:
        yield current


def _transaction_id(settlement_id: str, index: int) -> str:
    digest = hashlib.sha256(f"{settlement_id}:{index}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _transactions(
    seller: Seller, settlement: GeneratedSettlement, group: FinancialEventGroup
) -> Iterator[FinancialTransaction]:
    region = region_of(settlement.marketplace_id)
    for index, rows in enumerate(_postings(settlement.rows)):
        first = rows[0]
        yield FinancialTransaction(
            seller=seller,
            transaction_id=_transaction_id(settlement.settlement_id, index),
            group=group,
            transaction_type=first.transaction_type,
            marketplace_id=settlement.marketplace_id,
            region=region,
            order_id=first.order_id,
            merchant_order_id=first.merchant_order_id,
            adjustment_id=first.adjustment_id,
            shipment_id=first.shipment_id,
            fulfillment_channel=first.fulfillment_id,
            posted_date=first.posted_date,
            currency=settlement.currency,
            total=sum((r.amount for r in rows), Decimal("0.00")),
            rows=[
                [
                    r.amount_type,
                    r.amount_description,
                    f"{r.amount:.2f}",
                    r.order_item_code,
                    r.sku,
                    r.quantity_purchased,
                    r.promotion_id,
                ]
                for r in rows
            ],
        )


# --------------------------------------------------------------------------- reports


def report_id_for(seller: Seller, *parts: object) -> str:
    """An 11-digit report id like Amazon's (``50028020354``), stable for the same inputs."""
    digest = hashlib.sha256(":".join([seller.selling_partner_id, *map(str, parts)]).encode())
    return str(50_000_000_000 + int.from_bytes(digest.digest()[:8], "big") % 10**10)


def document_create(
    *, seller: Seller, region: str, text: str, gzipped: bool, content_type: str, encoding: str
) -> ReportDocument:
    raw = text.encode(encoding, errors="replace")
    return ReportDocument.objects.create(
        seller=seller,
        document_id=f"amzn1.spdoc.1.4.{region}.{uuid.uuid4()}.T{uuid.uuid4().hex[:12]}",
        content=gzip.compress(raw, mtime=0) if gzipped else raw,
        compression="GZIP" if gzipped else "",
        content_type=content_type,
    )


def settlement_report_create(
    *,
    seller: Seller,
    settlement: Settlement,
    generated: GeneratedSettlement,
    report_type: str,
    created_time: datetime,
    copy: int = 0,
) -> Report:
    """Amazon's report for a closed settlement (``copy`` tells re-issues apart)."""
    if report_type == V2_REPORT:
        text, gzipped = render_settlement_v2(generated), True
    else:
        text, gzipped = render_settlement_flat(generated), False
    document = document_create(
        seller=seller,
        region=settlement.region,
        text=text,
        gzipped=gzipped,
        content_type=SETTLEMENT_CONTENT_TYPE,
        encoding="utf-8",
    )
    return Report.objects.create(
        seller=seller,
        region=settlement.region,
        report_id=report_id_for(seller, settlement.settlement_id, report_type, copy),
        report_type=report_type,
        marketplace_ids=[
            m for m in seller.marketplace_ids if region_of(m) == settlement.region
        ],  # settlement reports list every marketplace of the account's region (models #1557)
        data_start=settlement.start,
        data_end=settlement.end,
        created_time=created_time,
        processing_start=created_time + timedelta(minutes=1),
        processing_end=created_time + timedelta(minutes=4),
        final_status="DONE",
        document=document,
        settlement=settlement,
    )


def _hours(settlement_id: str) -> timedelta:
    """A few hours after the day Amazon takes to issue the report, fixed per settlement."""
    return timedelta(minutes=int(hashlib.sha256(settlement_id.encode()).hexdigest(), 16) % 480)


def _store_reports(
    seller: Seller,
    dataset: SellerDataset,
    settlements: dict[str, tuple[Settlement, GeneratedSettlement]],
    *,
    duplicate: bool,
) -> None:
    closed = [settlements[s.settlement_id] for s in dataset.settlements]
    first_marketplace = seller.marketplace_ids[0] if seller.marketplace_ids else ""
    of_first = [pair for pair in closed if pair[0].marketplace_id == first_marketplace]
    twice = of_first[-2][0].settlement_id if duplicate and len(of_first) >= 2 else None
    for stored, generated in closed:
        old = stored.end < dataset.now - FLAT_FILE_BEFORE
        report_type = FLAT_REPORT if old else V2_REPORT
        created = stored.end + timedelta(days=1) + _hours(stored.settlement_id)
        if stored.settlement_id == twice:
            # Issued early with the last rows missing, then complete a day later.
            cut = max(1, len(generated.rows) // 10)
            rows = generated.rows[:-cut]
            early = dataclasses.replace(
                generated, rows=rows, total_amount=sum((r.amount for r in rows), Decimal("0.00"))
            )
            settlement_report_create(
                seller=seller,
                settlement=stored,
                generated=early,
                report_type=report_type,
                created_time=created,
                copy=1,
            )
            created += timedelta(days=1)
        settlement_report_create(
            seller=seller,
            settlement=stored,
            generated=generated,
            report_type=report_type,
            created_time=created,
        )


def settlement_issue_again(*, seller: Seller, settlement_id: str, created_time: datetime) -> Report:
    """Issue another, complete copy of a settlement's report (same settlement-id); it is
    processed as Amazon's own are (1 minute queued, 3 running), at the sandbox time scale."""
    scale = sandbox_state().time_scale
    with transaction.atomic():
        latest = (
            Report.objects.select_related("document", "settlement")
            .filter(seller=seller, settlement__settlement_id=settlement_id)
            .order_by("-created_time")
            .first()
        )
        if latest is None or latest.document is None or latest.settlement is None:
            raise ValueError(f"settlement {settlement_id} has no report to issue again")
        copies = Report.objects.filter(seller=seller, settlement=latest.settlement).count()
        document = ReportDocument.objects.create(
            seller=seller,
            document_id=f"amzn1.spdoc.1.4.{latest.region}.{uuid.uuid4()}.T{uuid.uuid4().hex[:12]}",
            content=bytes(latest.document.content),
            compression=latest.document.compression,
            content_type=latest.document.content_type,
        )
        return Report.objects.create(
            seller=seller,
            region=latest.region,
            report_id=report_id_for(seller, settlement_id, latest.report_type, copies + 1),
            report_type=latest.report_type,
            marketplace_ids=latest.marketplace_ids,
            data_start=latest.data_start,
            data_end=latest.data_end,
            created_time=created_time,
            processing_start=created_time + timedelta(minutes=1) / scale,
            processing_end=created_time + timedelta(minutes=4) / scale,
            final_status="DONE",
            document=document,
            settlement=latest.settlement,
        )

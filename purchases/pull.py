"""Reading Amazon Business: one page of transactions, or one batch of invoice statuses, per call.

``transactions_store`` keeps each transaction as Amazon sent it, keyed by (link,
transactionId): reading an overlapping window again finds the rows it made before. Split
payments are joined here: every part records the sorted ids of the whole group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.amazon_business.client import (
    MAX_INVOICE_IDS,
    InvoicePayment,
    invoice_payments_get,
)
from connectors.models import Link
from mappings.categories_business import payment_method_key, payment_method_label
from mappings.transforms.business import money
from purchases.models import PurchaseTransaction
from sync.models import EntryStatus, Run

POSTED_OR_SENDING = (EntryStatus.POSTED, EntryStatus.SENDING)


def _when(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _split_group(data: dict[str, Any]) -> str:
    ids = [
        str(a.get("associatedTransactionId"))
        for a in data.get("associatedTransactionDetails") or []
        if isinstance(a, dict) and a.get("associatedTransactionId")
    ]
    if not ids:
        return ""
    return "+".join(sorted({str(data["transactionId"]), *ids}))[:400]


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    amount = data.get("amount") or {}
    lines = [i for i in data.get("transactionLineItems") or [] if isinstance(i, dict)]
    return {
        "transaction_type": str(data.get("transactionType") or "CHARGE").upper(),
        "feed_date": _when(data["feedDate"]),
        "transaction_date": _when(data["transactionDate"]),
        "currency": str(amount.get("currencyCode") or ""),
        "amount": money(amount),
        "method_key": payment_method_key(data),
        "method_label": payment_method_label(data)[:120],
        "invoice_number": str(data.get("invoiceNumber") or "")[:100],
        "order_id": str(next((i.get("orderId") for i in lines if i.get("orderId")), ""))[:100],
        "split_group": _split_group(data),
        "data": data,
    }


@dataclass(frozen=True)
class Stored:
    new: int
    changed: int
    unchanged: int


def transactions_store(*, link: Link, transactions: Iterable[dict[str, Any]], run: Run) -> Stored:
    """Keep a page of Amazon's transactions (call inside the step's transaction)."""
    rows = [t for t in transactions if isinstance(t, dict) and t.get("transactionId")]
    ids = [str(t["transactionId"]) for t in rows]
    existing = {
        p.transaction_id: p
        for p in PurchaseTransaction.objects.filter(
            link=link, transaction_id__in=ids
        ).select_related("entry")
    }
    new = changed = unchanged = 0
    for data in rows:
        fields = _fields(data)
        current = existing.get(str(data["transactionId"]))
        if current is None:
            PurchaseTransaction.objects.create(
                link=link, transaction_id=str(data["transactionId"]), run=run, **fields
            )
            new += 1
            continue
        if current.data == data:
            PurchaseTransaction.objects.filter(pk=current.pk).update(run=run)
            unchanged += 1
            continue
        posted = current.entry is not None and current.entry.status in POSTED_OR_SENDING
        PurchaseTransaction.objects.filter(pk=current.pk).update(
            run=run,
            changed_after_post=current.changed_after_post
            or (posted and fields["amount"] != current.amount),
            updated_at=timezone.now(),
            **fields,
        )
        changed += 1
    return Stored(new=new, changed=changed, unchanged=unchanged)


def invoices_due_for_check(*, link: Link, since: datetime) -> list[str]:
    """Pay by Invoice invoice ids to ask Amazon about: not yet Closed, not asked since ``since``.

    ``since`` is the run's start, so each invoice is asked about at most once per run.
    """
    rows = (
        PurchaseTransaction.objects.filter(
            link=link, method_key="invoice", amount__gt=Decimal(0), transaction_type="CHARGE"
        )
        .exclude(invoice_number="")
        .exclude(invoice_status="Closed")
        .filter(Q(invoice_checked_at__isnull=True) | Q(invoice_checked_at__lt=since))
        .order_by("transaction_date", "id")
        .values_list("invoice_number", flat=True)
    )
    unique: list[str] = []
    for number in rows:
        if number not in unique:
            unique.append(number)
        if len(unique) == MAX_INVOICE_IDS:
            break
    return unique


def invoices_check(*, link: Link, invoice_ids: list[str]) -> list[InvoicePayment]:
    """One getBatchInvoicePaymentDetails call (the caller holds no database transaction)."""
    account = link.business_account
    assert account is not None
    return invoice_payments_get(account, invoice_ids)


def invoices_store(*, link: Link, results: list[InvoicePayment], today: date) -> int:
    """Record Amazon's answer; returns how many invoices are newly Closed."""
    closed = 0
    now = timezone.now()
    with transaction.atomic():
        for result in results:
            rows = PurchaseTransaction.objects.select_for_update().filter(
                link=link, method_key="invoice", invoice_number=result.invoice_id
            )
            for row in rows:
                row.invoice_checked_at = now
                row.invoice_error = result.error[:300]
                if not result.error:
                    row.invoice_status = result.status[:40]
                    if result.due_date is not None:
                        row.invoice_due_date = result.due_date.date()
                    if result.closed and row.invoice_closed_on is None:
                        row.invoice_closed_on = today
                        closed += 1
                row.save(
                    update_fields=[
                        "invoice_checked_at",
                        "invoice_error",
                        "invoice_status",
                        "invoice_due_date",
                        "invoice_closed_on",
                        "updated_at",
                    ]
                )
    return closed

"""Putting transformed documents into the ledger: once per natural key, ever.

``ledger_upsert`` is how every sync kind (settlements, orders, purchases) hands a document to the
engine. A re-import finds the row it made before: a posted row is never touched (counted as
skipped), an unsent one takes the new payload (e.g. after a remap), and a held one is released
when its payload is now complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from connectors.models import Link
from sync.models import EntryStatus, LedgerEntry, Run

UNSENT = (EntryStatus.PENDING, EntryStatus.FAILED, EntryStatus.HELD)
NUMBER_FIELDS = {
    "invoice": "InvoiceNumber",
    "bill": "InvoiceNumber",
    "credit_note": "CreditNoteNumber",
}


def revised(
    kind: str, payload: dict[str, Any], lookup_number: str, revision: int
) -> tuple[dict[str, Any], str]:
    """A re-post after a rollback carries a new number: Xero keeps the voided one's."""
    field = NUMBER_FIELDS.get(kind)
    if not revision or not field or not payload.get(field):
        return payload, lookup_number
    number = f"{payload[field]}-R{revision}"
    return {**payload, field: number}, (number if lookup_number else "")


@dataclass(frozen=True)
class Upserted:
    entry: LedgerEntry
    created: bool
    skipped: bool  # already posted (or sending): left exactly as it was


def ledger_upsert(
    *,
    link: Link,
    kind: str,
    amazon_id: str,
    part: str = "",
    payload: dict[str, Any],
    total: Decimal,
    currency: str,
    lookup_number: str = "",
    lookup_reference: str = "",
    parent: LedgerEntry | None = None,
    target: LedgerEntry | None = None,
    held_reason: str = "",
    run: Run | None = None,
) -> Upserted:
    """Create or refresh the row for one outbound document.

    ``held_reason`` non-empty: the row waits (status held) until the cause is fixed, e.g. a
    payment method that is not mapped yet. ``parent`` and ``target`` are documents this one
    needs posted first (a payment's invoice; an allocation's credit note and invoice).
    """
    status = EntryStatus.HELD if held_reason else EntryStatus.PENDING
    if held_reason:
        _notify_held(link, held_reason)
    fields = {
        "payload": payload,
        "total": total,
        "currency": currency,
        "lookup_number": lookup_number,
        "lookup_reference": lookup_reference,
        "parent": parent,
        "target": target,
        "held_reason": held_reason,
        "run": run,
    }
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                link=link, kind=kind, amazon_id=amazon_id, part=part, status=status, **fields
            )
            return Upserted(entry, created=True, skipped=False)
    except IntegrityError:
        pass
    with transaction.atomic():
        entry = LedgerEntry.objects.select_for_update().get(
            link=link, kind=kind, amazon_id=amazon_id, part=part
        )
        if entry.status == EntryStatus.VOIDED:
            entry.revision += 1  # rolled back: post again under a new number
        elif entry.status not in UNSENT:
            return Upserted(entry, created=False, skipped=True)
        fields["payload"], fields["lookup_number"] = revised(
            kind, payload, lookup_number, entry.revision
        )
        for name, value in fields.items():
            setattr(entry, name, value)
        entry.status = status
        if status == EntryStatus.PENDING:
            entry.last_error = ""
        entry.save()
    return Upserted(entry, created=False, skipped=False)


def entries_retry(entries: list[LedgerEntry] | Any) -> int:
    """Dead letters back in line after the user fixed the cause; never duplicates.

    Only failed rows move (pending again); a failed row was never created in Xero (a batch
    element with errors is not saved), so sending it again cannot make a second document.
    """
    ids = [e.pk for e in entries]
    return LedgerEntry.objects.filter(pk__in=ids, status=EntryStatus.FAILED).update(
        status=EntryStatus.PENDING, claimed_at=None
    )


REBUILT = " Rebuilt with your new mapping: press Retry to send it."


@contextmanager
def refused_kept(entry_ids: Iterable[int]) -> Iterator[None]:
    """Rebuild inside: a row Xero refused takes the new payload but stays failed, marked, until
    the user presses Retry (a dead letter moves only when the user says so)."""
    with transaction.atomic():
        refused = dict(
            LedgerEntry.objects.filter(
                pk__in=list(entry_ids), status=EntryStatus.FAILED
            ).values_list("pk", "last_error")
        )
        yield
        for pk, error in refused.items():
            LedgerEntry.objects.filter(pk=pk, status=EntryStatus.PENDING).update(
                status=EntryStatus.FAILED, last_error=f"{error.removesuffix(REBUILT)}{REBUILT}"
            )


def link_retry_failed(link: Link, *, kind: str | None = None) -> int:
    rows = LedgerEntry.objects.filter(link=link, status=EntryStatus.FAILED)
    if kind:
        rows = rows.filter(kind=kind)
    return entries_retry(list(rows))


def _notify_held(link: Link, reason: str) -> None:
    """One email a day per link and reason while documents are held for mapping."""
    from django.utils import timezone

    from hub.notify import notify_owners

    notify_owners(
        customer=link.customer,
        key=f"held:{link.pk}:{timezone.now().date()}:{reason[:80]}",
        subject=f"Documents held for {link.amazon.name}",
        body=f"{reason}\n\nThey post as soon as the mapping is complete; nothing is dropped.",
        path=f"/w/{link.customer.code}/links/{link.pk}/",
    )

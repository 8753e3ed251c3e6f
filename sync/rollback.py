"""Rolling back: void or delete documents in Xero, payments first, then allow a re-post.

Used for a settlement (its invoice or bill and its payment) or a whole run. Each document is
one call through the limiter; a throttled rollback stops and is resumed by its task with the
provider's wait. A document Xero refuses to void keeps its posted state and Xero's message.
Xero refuses to void a credit note that is allocated to an invoice, so allocations are deleted
(DELETE /CreditNotes/{id}/Allocations/{AllocationID}) with the payments, before any void.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from connectors import http
from connectors.xero.accounting import ENDPOINTS, XeroAccounting
from sync.models import Attempt, EntryStatus, LedgerEntry

# How each kind is taken back: payments and bank transactions are deleted, documents voided.
UNDO = {
    "payment": "DELETED",
    "allocation": "DELETED",
    "bank_transaction": "DELETED",
    "invoice": "VOIDED",
    "bill": "VOIDED",
    "credit_note": "VOIDED",
    "manual_journal": "VOIDED",
}
ORDER = {
    "payment": 0,
    "allocation": 0,
    "credit_note": 1,
    "bank_transaction": 2,
    "manual_journal": 2,
    "invoice": 3,
    "bill": 3,
}


@dataclass
class RollbackOutcome:
    voided: int = 0
    refused: int = 0
    remaining: int = 0
    wait: float = 0.0
    errors: list[str] = field(default_factory=list)


def rollback_entries(entries: list[LedgerEntry]) -> RollbackOutcome:
    """Take these posted documents back out of Xero, dependants first."""
    outcome = RollbackOutcome()
    todo = sorted(
        (e for e in entries if e.status == EntryStatus.POSTED and e.xero_id),
        key=lambda e: (ORDER[e.kind], e.pk),
    )
    clients: dict[int, XeroAccounting] = {}
    for index, entry in enumerate(todo):
        tenant = entry.link.xero_tenant
        client = clients.setdefault(tenant.pk, XeroAccounting(tenant))
        try:
            _undo(client, entry)
        except http.RetryLater as exc:  # throttled, 5xx or lost answer: resume later
            outcome.remaining = len(todo) - index
            outcome.wait = max(exc.decision.wait, 1.0)
            return outcome
        except http.Rejected as exc:
            LedgerEntry.objects.filter(pk=entry.pk).update(last_error=exc.message)
            Attempt.objects.create(
                entry=entry,
                batch_key="rollback",
                outcome="rollback-refused",
                http_status=exc.status,
                message=exc.message,
            )
            outcome.refused += 1
            outcome.errors.append(f"{entry}: {exc.message}")
            continue
        LedgerEntry.objects.filter(pk=entry.pk, status=EntryStatus.POSTED).update(
            status=EntryStatus.VOIDED, updated_at=timezone.now(), last_error=""
        )
        Attempt.objects.create(entry=entry, batch_key="rollback", outcome="voided", http_status=200)
        outcome.voided += 1
    return outcome


def _undo(client: XeroAccounting, entry: LedgerEntry) -> None:
    if entry.kind == "allocation":
        credit_note = entry.parent
        assert credit_note is not None and credit_note.xero_id
        client.allocation_delete(str(credit_note.xero_id), str(entry.xero_id))
        return
    endpoint = ENDPOINTS[entry.kind]
    body: dict[str, Any] = {
        endpoint.collection: [{endpoint.id_field: str(entry.xero_id), "Status": UNDO[entry.kind]}]
    }
    client.request(
        f"update{endpoint.collection}", "POST", f"{endpoint.path}/{entry.xero_id}", json=body
    )

"""Posting ledger entries to Xero: claim, send in batches of up to 50, record each outcome.

Exactly once: a row is claimed by a conditional UPDATE (pending → sending), so two workers never
send it both; an Idempotency-Key derived from the batch makes a fast retry a replay; and an
outcome that is uncertain (timeout, reset after sending, a worker killed mid-call) is resolved by
looking the document up in Xero by its number or reference before anything is sent again.

Credit note allocations have no batch endpoint (PUT /CreditNotes/{id}/Allocations names one
credit note): they are sent one per call, each with an Idempotency-Key of its own, and an
uncertain one is looked up among its credit note's allocations.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors import http
from connectors.models import Link
from connectors.xero.accounting import ENDPOINTS, LimiterBusy, XeroAccounting
from sync.models import Attempt, EntryStatus, LedgerEntry

log = logging.getLogger(__name__)
BATCH_SIZE = 50
# Kinds Xero creates one per call (the path names the parent), and how many a push takes.
ONE_PER_CALL = frozenset({"allocation"})
ONE_PER_CALL_STEP = 10

# Checks run on claimed rows before they are sent: entry id -> why it must wait (held).
# mappings registers one that holds documents whose account was deleted or archived in Xero
# ("Remap needed"), so they wait for a remap instead of failing in Xero. A check may raise
# http.RetryLater (e.g. the limiter is busy): the rows go back to pending.
Precheck = Callable[[Link, list[LedgerEntry]], dict[int, str]]
_prechecks: list[Precheck] = []


def register_precheck(check: Precheck) -> Precheck:
    if check not in _prechecks:
        _prechecks.append(check)
    return check


def entries_precheck(link: Link, entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Hold the rows a registered check refuses; return the rest with a fresh batch key."""
    reasons: dict[int, str] = {}
    for check in _prechecks:
        reasons.update(check(link, entries))
    if not reasons:
        return entries
    held = [e for e in entries if e.id in reasons]
    for entry in held:
        LedgerEntry.objects.filter(id=entry.id, status=EntryStatus.SENDING).update(
            status=EntryStatus.HELD,
            held_reason=reasons[entry.id][:500],
            claimed_at=None,
            attempts=F("attempts") - 1,
        )
        _record([entry], "held", message=reasons[entry.id])
    keep = [e for e in entries if e.id not in reasons]
    if keep:
        keys_assign(link.pk, keep[0].kind, keep)
    return keep


def stale_after() -> timedelta:
    """A row still "sending" this long after its claim lost its worker: settle it by lookup.

    Longer than a task may run (CELERY_TASK_TIME_LIMIT), so a live worker is never overtaken.
    """
    return timedelta(seconds=settings.LEDGER_STALE_SENDING_SECONDS)


@dataclass
class PushOutcome:
    sent: int = 0
    posted: int = 0
    failed: int = 0
    requeued: int = 0
    wait: float = 0.0
    more: bool = False
    calls: int = 0
    notes: list[str] = field(default_factory=list)


def batch_key(link_id: int, kind: str, entries: list[LedgerEntry]) -> str:
    """Deterministic for a batch's content and attempt: the same request gets the same key."""
    digest = hashlib.sha256()
    digest.update(f"{link_id}:{kind}".encode())
    for entry in entries:
        # The attempt number is part of the key: Xero caches error answers too, so a retry
        # after the user fixed the cause must not replay the old error.
        digest.update(f"|{entry.amazon_id}/{entry.part}#{entry.attempts}:".encode())
        digest.update(json.dumps(entry.payload, sort_keys=True, default=str).encode())
    return f"lb-{kind}-{digest.hexdigest()[:48]}"


def keys_assign(link_id: int, kind: str, entries: list[LedgerEntry]) -> None:
    """One key for the batch; for a kind sent one per call, one key per row (its request)."""
    groups = [[e] for e in entries] if kind in ONE_PER_CALL else [entries]
    for group in groups:
        key = batch_key(link_id, kind, group)
        LedgerEntry.objects.filter(id__in=[e.id for e in group]).update(batch_key=key)
        for entry in group:
            entry.batch_key = key


def entries_claim(*, link_id: int, kind: str, limit: int = BATCH_SIZE) -> list[LedgerEntry]:
    """Take up to ``limit`` pending rows whose parent and target (if any) are posted."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            LedgerEntry.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(link_id=link_id, kind=kind, status=EntryStatus.PENDING)
            .filter(Q(parent__isnull=True) | Q(parent__status=EntryStatus.POSTED))
            .filter(Q(target__isnull=True) | Q(target__status=EntryStatus.POSTED))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        LedgerEntry.objects.filter(id__in=ids, status=EntryStatus.PENDING).update(
            status=EntryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        entries = list(
            LedgerEntry.objects.filter(
                id__in=ids, status=EntryStatus.SENDING, claimed_at=now
            ).select_related("parent", "target")
        )
        keys_assign(link_id, kind, entries)
    return entries


def _payload(entry: LedgerEntry) -> dict[str, Any]:
    """The document as sent: a dependent document points at its parent's Xero id."""
    payload = dict(entry.payload)
    if entry.kind == "allocation":
        # The credit note is in the path; the body names the invoice it is applied to.
        assert entry.target is not None and entry.target.xero_id
        payload["Invoice"] = {"InvoiceID": str(entry.target.xero_id)}
        return payload
    if entry.parent_id and entry.parent is not None and entry.parent.xero_id:
        parent_ref = {"invoice": "Invoice", "bill": "Invoice", "credit_note": "CreditNote"}.get(
            entry.parent.kind, "Invoice"
        )
        id_field = ENDPOINTS[entry.parent.kind].id_field
        payload[parent_ref] = {id_field: str(entry.parent.xero_id)}
    return payload


def _record(
    entries: list[LedgerEntry], outcome: str, *, status: int | None = None, message: str = ""
) -> None:
    Attempt.objects.bulk_create(
        [
            Attempt(
                entry=e,
                batch_key=e.batch_key,
                outcome=outcome,
                http_status=status,
                message=message[:2000],
            )
            for e in entries
        ]
    )


def _release(
    entries: list[LedgerEntry],
    *,
    outcome: str,
    message: str,
    status: int | None = None,
    undo_attempt: bool = False,
) -> None:
    """Nothing was created: back to pending for the next try."""
    ids = [e.id for e in entries]
    updates: dict[str, Any] = {"status": EntryStatus.PENDING, "claimed_at": None}
    if undo_attempt:
        updates["attempts"] = F("attempts") - 1
    LedgerEntry.objects.filter(id__in=ids, status=EntryStatus.SENDING).update(**updates)
    if not undo_attempt:
        _record(entries, outcome, status=status, message=message)


def _element_errors(element: dict[str, Any]) -> str:
    messages = [e.get("Message", "") for e in element.get("ValidationErrors") or []]
    return "; ".join(m for m in messages if m) or "Xero reported an error without a message."


def entry_mark_posted(entry: LedgerEntry, document: dict[str, Any], *, outcome: str) -> bool:
    endpoint = ENDPOINTS[entry.kind]
    number = document.get(endpoint.number_field or "") or document.get("Reference") or ""
    updated = LedgerEntry.objects.filter(id=entry.id, status=EntryStatus.SENDING).update(
        status=EntryStatus.POSTED,
        xero_id=document[endpoint.id_field],
        xero_number=number,
        posted_at=timezone.now(),
        last_error="",
        claimed_at=None,
    )
    if updated:
        _record([entry], outcome, status=200)
    return bool(updated)


def settle_elements(entries: list[LedgerEntry], elements: list[dict[str, Any]]) -> tuple[int, int]:
    """Record Xero's answer for each element of a batch, in one transaction."""
    now = timezone.now()
    changed: list[LedgerEntry] = []
    attempts: list[Attempt] = []
    posted = failed = 0
    with transaction.atomic():
        mine = set(
            LedgerEntry.objects.select_for_update()
            .filter(
                id__in=[e.id for e in entries],
                status=EntryStatus.SENDING,
                batch_key=entries[0].batch_key,
            )
            .values_list("id", flat=True)
        )
        for entry, element in zip(entries, elements, strict=True):
            if entry.id not in mine:
                continue  # settled meanwhile by a lookup; never overwrite that
            entry.claimed_at, entry.updated_at = None, now
            if element.get("HasErrors") or element.get("StatusAttributeString") == "ERROR":
                entry.status, entry.last_error = EntryStatus.FAILED, _element_errors(element)
                attempts.append(
                    Attempt(
                        entry=entry,
                        batch_key=entry.batch_key,
                        outcome="failed",
                        http_status=200,
                        message=entry.last_error[:2000],
                    )
                )
                failed += 1
            else:
                endpoint = ENDPOINTS[entry.kind]
                entry.status, entry.last_error, entry.posted_at = EntryStatus.POSTED, "", now
                entry.xero_id = element[endpoint.id_field]
                entry.xero_number = (
                    element.get(endpoint.number_field or "") or element.get("Reference") or ""
                )
                attempts.append(
                    Attempt(
                        entry=entry, batch_key=entry.batch_key, outcome="posted", http_status=200
                    )
                )
                posted += 1
            changed.append(entry)
        LedgerEntry.objects.bulk_update(
            changed,
            [
                "status",
                "last_error",
                "claimed_at",
                "posted_at",
                "xero_id",
                "xero_number",
                "updated_at",
            ],
        )
        Attempt.objects.bulk_create(attempts)
    return posted, failed


def push_batch(*, link_id: int, kind: str) -> PushOutcome:
    """Send one batch for one link and document kind. Never sleeps: returns a wait instead."""
    outcome = PushOutcome()
    link = Link.objects.select_related(
        "xero_tenant__grant", "seller_account", "business_account"
    ).get(pk=link_id)
    if link.pause_reason:
        outcome.notes.append(link.pause_reason)
        return outcome
    client = XeroAccounting(link.xero_tenant)
    resolve_stale(link=link, kind=kind, client=client, outcome=outcome)
    one_per_call = kind in ONE_PER_CALL
    entries = entries_claim(
        link_id=link_id, kind=kind, limit=ONE_PER_CALL_STEP if one_per_call else BATCH_SIZE
    )
    if not entries:
        outcome.calls = client.calls
        return outcome
    try:
        entries = entries_precheck(link, entries)
    except http.RetryLater as exc:
        _release(entries, outcome="throttled", message=exc.message, undo_attempt=True)
        outcome.wait, outcome.requeued, outcome.more = exc.decision.wait, len(entries), True
        return outcome
    if not entries:  # every claimed row was held: look for more in the next turn
        outcome.calls = client.calls
        outcome.more = LedgerEntry.objects.filter(
            link_id=link_id, kind=kind, status=EntryStatus.PENDING
        ).exists()
        return outcome
    outcome.sent = len(entries)
    if one_per_call:
        _send_one_by_one(entries, client=client, outcome=outcome)
    else:
        _send_batch(entries, client=client, outcome=outcome)
    outcome.calls = client.calls
    if not outcome.more:
        outcome.more = LedgerEntry.objects.filter(
            link_id=link_id, kind=kind, status=EntryStatus.PENDING
        ).exists()
    return outcome


def _send_batch(
    entries: list[LedgerEntry], *, client: XeroAccounting, outcome: PushOutcome
) -> None:
    kind, key = entries[0].kind, entries[0].batch_key
    try:
        elements = client.put_batch(kind, [_payload(e) for e in entries], idempotency_key=key)
    except LimiterBusy as exc:
        _release(entries, outcome="throttled", message=exc.message, undo_attempt=True)
        outcome.wait, outcome.requeued, outcome.more = exc.decision.wait, len(entries), True
    except http.Uncertain as exc:
        _record(entries, "uncertain", message=exc.message)
        resolve_uncertain(entries, client=client, outcome=outcome)
        outcome.more = True
    except http.AuthRejected as exc:
        _release(entries, outcome="unauthorised", status=exc.status, message=exc.message)
        outcome.requeued = len(entries)
        outcome.wait = 60.0  # the grant is marked for reconnection, or this clears by itself
        outcome.notes.append(exc.message)
    except http.RetryLater as exc:
        _release(entries, outcome="retry", status=exc.status, message=exc.message)
        outcome.wait, outcome.requeued, outcome.more = exc.decision.wait, len(entries), True
    except http.Rejected as exc:
        # The request as a whole was refused (not one element): nothing was created.
        LedgerEntry.objects.filter(id__in=[e.id for e in entries]).update(
            status=EntryStatus.FAILED, last_error=exc.message, claimed_at=None
        )
        _record(entries, "failed", status=exc.status, message=exc.message)
        outcome.failed = len(entries)
    else:
        posted, failed = settle_elements(entries, elements)
        outcome.posted += posted
        outcome.failed += failed


def _send_one_by_one(
    entries: list[LedgerEntry], *, client: XeroAccounting, outcome: PushOutcome
) -> None:
    """Credit note allocations: one call each; a throttle or outage stops the rest (released)."""
    for index, entry in enumerate(entries):
        rest = entries[index + 1 :]
        assert entry.parent is not None and entry.parent.xero_id
        try:
            element = client.allocate(
                str(entry.parent.xero_id), _payload(entry), idempotency_key=entry.batch_key
            )
        except LimiterBusy as exc:
            _release(entries[index:], outcome="throttled", message=exc.message, undo_attempt=True)
            outcome.wait, outcome.requeued, outcome.more = (
                exc.decision.wait,
                len(entries) - index,
                True,
            )
            return
        except http.Uncertain as exc:
            _record([entry], "uncertain", message=exc.message)
            resolve_uncertain([entry], client=client, outcome=outcome)
            if rest:
                _release(rest, outcome="throttled", message=exc.message, undo_attempt=True)
                outcome.requeued += len(rest)
            outcome.more = True
            return
        except http.AuthRejected as exc:
            _release(
                entries[index:], outcome="unauthorised", status=exc.status, message=exc.message
            )
            outcome.requeued += len(entries) - index
            outcome.wait = 60.0
            outcome.notes.append(exc.message)
            return
        except http.RetryLater as exc:
            _release(entries[index:], outcome="retry", status=exc.status, message=exc.message)
            outcome.wait, outcome.requeued, outcome.more = (
                exc.decision.wait,
                len(entries) - index,
                True,
            )
            return
        except http.Rejected as exc:
            LedgerEntry.objects.filter(id=entry.id, status=EntryStatus.SENDING).update(
                status=EntryStatus.FAILED, last_error=exc.message, claimed_at=None
            )
            _record([entry], "failed", status=exc.status, message=exc.message)
            outcome.failed += 1
            continue
        has_errors = element.get("HasErrors") or element.get("StatusAttributeString") == "ERROR"
        if not has_errors and not element.get("AllocationID"):
            # Created, but the answer did not name it: take its id from the credit note.
            _record([entry], "uncertain", message="Xero's answer did not carry the AllocationID.")
            resolve_uncertain([entry], client=client, outcome=outcome)
            continue
        posted, failed = settle_elements([entry], [element])
        outcome.posted += posted
        outcome.failed += failed


def allocation_find(entry: LedgerEntry, *, client: XeroAccounting) -> dict[str, Any] | None:
    """This row's allocation among its credit note's live allocations in Xero, if made.

    The same invoice and amount, and an AllocationID no other row of the ledger holds.
    """
    credit_note, invoice = entry.parent, entry.target
    if credit_note is None or invoice is None or not credit_note.xero_id or not invoice.xero_id:
        return None
    taken = {
        str(i)
        for i in LedgerEntry.objects.filter(link_id=entry.link_id, kind=entry.kind)
        .exclude(pk=entry.pk)
        .exclude(xero_id__isnull=True)
        .values_list("xero_id", flat=True)
    }
    for allocation in client.allocations_of(str(credit_note.xero_id)):
        target = (allocation.get("Invoice") or {}).get("InvoiceID")
        allocation_id = allocation.get("AllocationID")
        if (
            allocation_id
            and str(allocation_id) not in taken
            and str(target) == str(invoice.xero_id)
            and Decimal(str(allocation.get("Amount"))) == entry.total
        ):
            return allocation
    return None


def resolve_uncertain(
    entries: list[LedgerEntry], *, client: XeroAccounting, outcome: PushOutcome
) -> None:
    """Look each document up in Xero: found → posted; not found → pending to send again."""
    kind = entries[0].kind
    if kind in ONE_PER_CALL:
        _resolve_allocations(entries, client=client, outcome=outcome)
        return
    by_number = [e for e in entries if e.lookup_number]
    by_reference = [e for e in entries if not e.lookup_number and e.lookup_reference]
    try:
        found = client.find(kind, numbers=[e.lookup_number for e in by_number]) if by_number else {}
        found_refs = (
            client.find(kind, references=[e.lookup_reference for e in by_reference])
            if by_reference
            else {}
        )
    except http.ProviderError as exc:
        # Still uncertain: the rows stay "sending", unclaimed, and the next push for this link
        # looks them up again before sending anything else.
        LedgerEntry.objects.filter(
            id__in=[e.id for e in entries], status=EntryStatus.SENDING
        ).update(claimed_at=None)
        outcome.notes.append(f"lookup deferred: {exc.message}")
        outcome.wait = max(outcome.wait, exc.decision.wait or 1.0)
        return
    _settle_lookups(
        [
            (
                entry,
                found.get(entry.lookup_number)
                if entry.lookup_number
                else found_refs.get(entry.lookup_reference),
            )
            for entry in entries
        ],
        outcome=outcome,
    )


def _settle_lookups(
    looked_up: list[tuple[LedgerEntry, dict[str, Any] | None]], *, outcome: PushOutcome
) -> None:
    """Found in Xero → posted; not found → pending, to be sent again."""
    missing = []
    for entry, document in looked_up:
        if document is not None:
            if entry_mark_posted(entry, document, outcome="resolved"):
                outcome.posted += 1
        else:
            missing.append(entry)
    if missing:
        _release(
            missing,
            outcome="not-in-xero",
            message="Not found in Xero after an uncertain send; it will be sent again.",
        )
        outcome.requeued += len(missing)


def _resolve_allocations(
    entries: list[LedgerEntry], *, client: XeroAccounting, outcome: PushOutcome
) -> None:
    """An allocation is found by reading its credit note's allocations (it has no number)."""
    looked_up: list[tuple[LedgerEntry, dict[str, Any] | None]] = []
    for index, entry in enumerate(entries):
        try:
            looked_up.append((entry, allocation_find(entry, client=client)))
        except http.ProviderError as exc:
            LedgerEntry.objects.filter(
                id__in=[e.id for e in entries[index:]], status=EntryStatus.SENDING
            ).update(claimed_at=None)
            outcome.notes.append(f"lookup deferred: {exc.message}")
            outcome.wait = max(outcome.wait, exc.decision.wait or 1.0)
            break
    _settle_lookups(looked_up, outcome=outcome)


def resolve_stale(*, link: Link, kind: str, client: XeroAccounting, outcome: PushOutcome) -> None:
    """Rows whose outcome is unknown are settled by lookup, never resent blindly.

    Those are rows left "sending" by a worker that died mid-call (claimed long ago), and rows
    whose earlier lookup could not be made (claim cleared).
    """
    stale = list(
        LedgerEntry.objects.filter(link=link, kind=kind, status=EntryStatus.SENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=timezone.now() - stale_after()))
        .select_related("parent", "target")
        .order_by("id")[:BATCH_SIZE]
    )
    if stale:
        _record(
            stale,
            "stale",
            message="Outcome unknown (a lost answer or a stopped worker): looking it up.",
        )
        resolve_uncertain(stale, client=client, outcome=outcome)

"""Amazon Business purchases: runs (preview, import, scheduled sync), posting, releasing.

A run moves through phases, one small step per task, each step saving the run's checkpoint
with what it did (so an interrupted run resumes where it stopped, and a duplicate task finds
its step already taken and does nothing):

    transactions  one getTransactions page per step (feed window + nextPageToken)
    invoices      one getBatchInvoicePaymentDetails call per step (≤ 25 open invoices)
    post          the supplier contact is checked (and healed), then up to POST_CHUNK stored
                  transactions per step are transformed and handed to the ledger
    track         (import only) wait until every document reached a final state

Modes: ``preview`` (transactions, then a count of what an import would post), ``import`` (a
user's date range: invoices → post → track; it follows a preview, whose pages it reuses) and
``sync`` (the schedule: transactions from the last high-water mark → invoices → post).

Exactly once: a transaction's documents go through ``ledger_upsert`` under (link, kind,
transactionId), so re-reading or re-importing a range finds the rows made before.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from connectors import http
from connectors.amazon_business.client import transactions_get
from connectors.models import Link
from mappings.categories import Category
from mappings.categories_business import (
    GOODWILL,
    business_charge_category,
    business_line_category,
)
from mappings.resolve import MappingSet
from mappings.services import categories_seen, mapping_set_for, payment_method_seen
from mappings.transforms.business import (
    INVOICE,
    INVOICE_PAYMENT,
    Categorisers,
    Document,
    InvoiceState,
    Purchase,
    PurchaseDocuments,
    TotalsMismatch,
    purchase_documents,
    purchase_from_api,
)
from purchases import pull
from purchases.contact import ContactProblem, supplier_contact_ensure
from purchases.models import PurchaseSettings, PurchaseTransaction
from sync.ledger import UNSENT, Upserted, ledger_upsert, refused_kept
from sync.models import EntryStatus, LedgerEntry, Run, RunKind, RunStatus
from sync.queue import push_enqueue

log = logging.getLogger(__name__)

ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
POST_CHUNK = 200
TRACK_EVERY = 2.0  # seconds between progress checks of an import
OVERLAP = timedelta(hours=1)  # a sync re-reads this much of the feed before its high-water mark
FEED_SETTLE = timedelta(minutes=2)  # the window ends this far before now
HISTORY_DEFAULT_DAYS = 90
HISTORY_MAX_DAYS = 730  # what the hub lets a user ask for; Amazon serves what it holds
INVOICE_PAYMENT_LABEL = "Bank account that pays Pay by Invoice bills"
CATEGORISERS = Categorisers(
    line=business_line_category, charge=business_charge_category, goodwill=GOODWILL
)


class PurchaseError(Exception):
    """Bad input or a state the user must change first; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Stale(Exception):
    """This step was already taken (a duplicate or late task): nothing to do."""


@dataclass(frozen=True)
class StepOutcome:
    more: bool
    step: int = 0
    wait: float = 0.0
    note: str = ""


def push_pending(link_id: int) -> int:
    """Queue a push for each document kind of the link that has rows waiting to be sent."""
    kinds = (
        LedgerEntry.objects.filter(link_id=link_id, status=EntryStatus.PENDING)
        .values_list("kind", flat=True)
        .distinct()
    )
    return sum(push_enqueue(link_id=link_id, kind=kind) for kind in kinds)


# ---------------------------------------------------------------- settings


def settings_for(link: Link) -> PurchaseSettings:
    found, _ = PurchaseSettings.objects.get_or_create(link=link)
    return found


def business_links(customer_id: int) -> QuerySet[Link]:
    return Link.objects.filter(customer_id=customer_id, business_account__isnull=False)


def settings_update(
    *,
    link: Link,
    enabled: bool,
    interval_minutes: int,
    cost_centres: dict[str, list[list[str]]] | None = None,
) -> PurchaseSettings:
    """Scheduled-sync settings (and cost-centre tracking), then re-post what they change."""
    if not 5 <= interval_minutes <= 1440:
        raise PurchaseError("Choose a sync interval between 5 minutes and 24 hours (1440).")
    settings = settings_for(link)
    settings.sync_enabled = enabled
    settings.sync_interval_minutes = interval_minutes
    fields = ["sync_enabled", "sync_interval_minutes"]
    if cost_centres is not None:
        settings.cost_centre_tracking = cost_centres
        fields.append("cost_centre_tracking")
    settings.save(update_fields=fields)
    if cost_centres is not None:
        purchases_rebuild(link)
    return settings


# ---------------------------------------------------------------- starting runs


def _checkpoint(mode: str, phase: str, **extra: Any) -> dict[str, Any]:
    return {"mode": mode, "phase": phase, "step": 0, "at": timezone.now().isoformat(), **extra}


def run_start(
    *, link: Link, mode: str, phase: str, start: datetime, end: datetime, total: int = 0
) -> Run:
    """Create a run and queue its first step; PurchaseError when one is already running."""
    from purchases.tasks import business_step

    if link.pause_reason:
        raise PurchaseError(f"{link.pause_reason} Nothing can be read or posted until then.")
    try:
        with transaction.atomic():
            run = Run.objects.create(
                link=link,
                kind=RunKind.BUSINESS,
                range_start=start,
                range_end=end,
                total=total,
                checkpoint=_checkpoint(mode, phase),
            )
    except IntegrityError:
        active = Run.objects.filter(link=link, kind=RunKind.BUSINESS, status__in=ACTIVE).first()
        what = (active.checkpoint.get("mode") if active else "") or "run"
        raise PurchaseError(
            f"An Amazon Business {what} is already running for this link; wait for it to "
            "finish (or cancel it) and try again."
        ) from None
    transaction.on_commit(lambda: business_step.delay(run.pk, 0))
    return run


def history_range_check(
    start: datetime, end: datetime, *, now: datetime
) -> tuple[datetime, datetime]:
    """A user's import range, or PurchaseError saying what is wrong with it."""
    latest = now - FEED_SETTLE
    if end > latest:
        end = latest
    if start >= end:
        raise PurchaseError("The start date must be before the end date (and not in the future).")
    if start < now - timedelta(days=HISTORY_MAX_DAYS):
        raise PurchaseError(
            f"Choose a start within the last {HISTORY_MAX_DAYS} days; older purchases are "
            "beyond what this import reads."
        )
    return start, end


def import_preview_start(*, link: Link, start: datetime, end: datetime) -> Run:
    """Read the range from Amazon and count what an import would post (nothing is posted)."""
    start, end = history_range_check(start, end, now=timezone.now())
    return run_start(link=link, mode="preview", phase="transactions", start=start, end=end)


def import_start(*, link: Link, preview: Run) -> Run:
    """Post the range a finished preview read: its transactions, none twice."""
    if (
        preview.link_id != link.pk
        or preview.kind != RunKind.BUSINESS
        or preview.checkpoint.get("mode") != "preview"
    ):
        raise PurchaseError("Check the date range first: the import posts what the check found.")
    if preview.status != RunStatus.DONE:
        raise PurchaseError("The check of this date range has not finished yet.")
    assert preview.range_start is not None and preview.range_end is not None
    scope = PurchaseTransaction.objects.filter(
        link=link, feed_date__gte=preview.range_start, feed_date__lt=preview.range_end
    ).exclude(amount=0)
    run = run_start(
        link=link,
        mode="import",
        phase="invoices",
        start=preview.range_start,
        end=preview.range_end,
        total=scope.count(),
    )
    settings_for(link)
    PurchaseSettings.objects.filter(link=link).update(sync_enabled=True)
    return run


def sync_window(link: Link, *, now: datetime) -> tuple[datetime, datetime]:
    settings = settings_for(link)
    since = settings.synced_through or link.created_at
    return since - OVERLAP, now - FEED_SETTLE


def sync_start(*, link: Link, now: datetime | None = None) -> Run:
    """A scheduled (or "sync now") run: new transactions, invoice statuses, posting."""
    now = now or timezone.now()
    start, end = sync_window(link, now=now)
    run = run_start(link=link, mode="sync", phase="transactions", start=start, end=end)
    # The attempt counts for the schedule: a failing sync is retried at the next interval.
    PurchaseSettings.objects.filter(link=link).update(sync_enabled=True, last_sync_at=now)
    return run


def run_cancel(*, run: Run) -> bool:
    """Stop a run between steps; documents already handed to the ledger still post."""
    return bool(
        Run.objects.filter(pk=run.pk, status__in=ACTIVE).update(
            status=RunStatus.CANCELLED,
            finished_at=timezone.now(),
            error="Cancelled by you.",
        )
    )


# ---------------------------------------------------------------- advancing a run


def _save(run: Run, step: int, checkpoint: dict[str, Any], **fields: Any) -> int:
    """Record this step's outcome unless another worker already did; returns the next step."""
    checkpoint = {**checkpoint, "step": step + 1, "at": timezone.now().isoformat()}
    checkpoint.pop("note", None)
    updated = Run.objects.filter(pk=run.pk, status__in=ACTIVE, checkpoint__step=step).update(
        checkpoint=checkpoint, **fields
    )
    if not updated:
        raise Stale()
    run.checkpoint = checkpoint
    return step + 1


def _finish(run: Run, step: int, checkpoint: dict[str, Any], **fields: Any) -> StepOutcome:
    _save(run, step, checkpoint, status=RunStatus.DONE, finished_at=timezone.now(), **fields)
    return StepOutcome(more=False)


def _fail(run: Run, message: str) -> StepOutcome:
    Run.objects.filter(pk=run.pk, status__in=ACTIVE).update(
        status=RunStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )
    return StepOutcome(more=False, note=message)


def run_advance(*, run_id: int, step: int) -> StepOutcome:
    """Take step ``step`` of the run (what the task calls)."""
    run = Run.objects.select_related(
        "link__xero_tenant__grant", "link__business_account", "link__customer"
    ).get(pk=run_id)
    checkpoint = dict(run.checkpoint)
    if run.status not in ACTIVE or checkpoint.get("step") != step:
        return StepOutcome(more=False, note="already taken")
    link = run.link
    if link.pause_reason:
        return _fail(run, f"{link.pause_reason} The run stopped; start it again afterwards.")
    if run.status == RunStatus.QUEUED:
        Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, started_at=timezone.now()
        )
    phase = checkpoint.get("phase")
    try:
        if phase == "transactions":
            return _step_transactions(run, step, checkpoint)
        if phase == "invoices":
            return _step_invoices(run, step, checkpoint)
        if phase == "post":
            return _step_post(run, step, checkpoint)
        if phase == "track":
            return _step_track(run, step, checkpoint)
        return _fail(run, f"Unknown phase {phase!r}.")
    except Stale:
        return StepOutcome(more=False, note="already taken")
    except http.AuthRejected as exc:
        return _fail(run, f"{exc.provider} refused access: {exc.message}. Reconnect and retry.")
    except http.RetryLater as exc:
        wait = max(exc.decision.wait, 1.0)
        Run.objects.filter(pk=run.pk, checkpoint__step=step).update(
            checkpoint={**checkpoint, "note": f"Waiting {wait:.0f} s: {exc.message}"}
        )
        return StepOutcome(more=True, step=step, wait=wait, note=exc.message)
    except http.Rejected as exc:
        return _fail(run, f"{exc.provider} refused the request: {exc.message}")
    except ContactProblem as exc:
        return _fail(run, exc.message)


def _step_transactions(run: Run, step: int, checkpoint: dict[str, Any]) -> StepOutcome:
    link = run.link
    assert link.business_account is not None
    assert run.range_start is not None and run.range_end is not None
    page = transactions_get(
        link.business_account,
        feed_start=run.range_start,
        feed_end=run.range_end,
        next_page_token=str(checkpoint.get("token") or ""),
    )
    with transaction.atomic():
        stored = pull.transactions_store(link=link, transactions=page.transactions, run=run)
        checkpoint["pages"] = int(checkpoint.get("pages", 0)) + 1
        checkpoint["new"] = int(checkpoint.get("new", 0)) + stored.new
        checkpoint["token"] = page.next_page_token
        if not page.next_page_token:
            checkpoint["phase"] = "summary" if checkpoint["mode"] == "preview" else "invoices"
        if checkpoint["phase"] == "summary":
            checkpoint["summary"] = preview_summary(run)
            return _finish(run, step, checkpoint, pulled=F("pulled") + len(page.transactions))
        next_step = _save(run, step, checkpoint, pulled=F("pulled") + len(page.transactions))
    return StepOutcome(more=True, step=next_step)


def _step_invoices(run: Run, step: int, checkpoint: dict[str, Any]) -> StepOutcome:
    link = run.link
    since = run.started_at or run.created_at
    ids = pull.invoices_due_for_check(link=link, since=since)
    if ids:
        results = pull.invoices_check(link=link, invoice_ids=ids)
        with transaction.atomic():
            closed = pull.invoices_store(link=link, results=results, today=timezone.now().date())
            checkpoint["invoices_checked"] = int(checkpoint.get("invoices_checked", 0)) + len(ids)
            checkpoint["invoices_closed"] = int(checkpoint.get("invoices_closed", 0)) + closed
            next_step = _save(run, step, checkpoint)
        return StepOutcome(more=True, step=next_step)
    checkpoint["phase"] = "post"
    return StepOutcome(more=True, step=_save(run, step, checkpoint))


def needs_posting() -> Q:
    """Stored transactions whose documents are not all in the ledger, or not sent yet."""
    return ~Q(amount=0) & (
        Q(entry__isnull=True)
        | Q(entry__status__in=UNSENT)
        | Q(invoice_closed_on__isnull=False, payment_entry__isnull=True)
        | Q(payment_entry__status__in=UNSENT)
    )


def _scope(run: Run) -> QuerySet[PurchaseTransaction]:
    rows = PurchaseTransaction.objects.filter(link=run.link)
    if run.checkpoint.get("mode") == "import":
        return rows.filter(feed_date__gte=run.range_start, feed_date__lt=run.range_end)
    return rows.filter(Q(run=run) | needs_posting())


def _step_post(run: Run, step: int, checkpoint: dict[str, Any]) -> StepOutcome:
    link = run.link
    if not checkpoint.get("contact"):
        contact_id = supplier_contact_ensure(link=link)
        checkpoint["contact"] = contact_id
        return StepOutcome(more=True, step=_save(run, step, checkpoint))
    cursor = int(checkpoint.get("cursor", 0))
    records = list(_scope(run).filter(pk__gt=cursor).order_by("pk")[:POST_CHUNK])
    with transaction.atomic():
        counts = records_post(link=link, records=records, run=run)
        totals = dict(checkpoint.get("counts") or {})
        for key, value in counts.items():
            totals[key] = int(totals.get(key, 0)) + value
        checkpoint["counts"] = totals
        if records:
            checkpoint["cursor"] = records[-1].pk
            if len(records) == POST_CHUNK:
                return StepOutcome(
                    more=True, step=_save(run, step, checkpoint, skipped=totals.get("skipped", 0))
                )
        push_pending(link.pk)
        fields: dict[str, Any] = {
            "total": totals.get("documents", 0),
            "skipped": totals.get("skipped", 0),
        }
        if checkpoint["mode"] == "sync":
            assert run.range_end is not None
            _advance_high_water(link, run.range_end)
            counted = run_counts(run)
            return _finish(
                run, step, checkpoint, held=counted["held"], posted=counted["posted"], **fields
            )
        checkpoint["phase"] = "track"
        if run.range_end is not None:
            _advance_high_water(link, run.range_end, only_if_unset=True)
        return StepOutcome(more=True, step=_save(run, step, checkpoint, **fields))


def _advance_high_water(link: Link, end: datetime, *, only_if_unset: bool = False) -> None:
    """Transactions with a feedDate before ``end`` have all been read."""
    settings = settings_for(link)
    if settings.synced_through is None or (not only_if_unset and end > settings.synced_through):
        settings.synced_through = end
        settings.save(update_fields=["synced_through"])


def run_counts(run: Run) -> dict[str, int]:
    """The run's documents by state, as the ledger has them now."""
    rows = LedgerEntry.objects.filter(run=run).values("status").annotate(n=Count("id"))
    by_status = {r["status"]: r["n"] for r in rows}
    return {
        "posted": by_status.get(EntryStatus.POSTED, 0),
        "failed": by_status.get(EntryStatus.FAILED, 0),
        "held": by_status.get(EntryStatus.HELD, 0),
        "open": by_status.get(EntryStatus.PENDING, 0) + by_status.get(EntryStatus.SENDING, 0),
    }


def _step_track(run: Run, step: int, checkpoint: dict[str, Any]) -> StepOutcome:
    counts = run_counts(run)
    fields = {"posted": counts["posted"], "failed": counts["failed"], "held": counts["held"]}
    if counts["open"]:
        push_pending(run.link_id)
        return StepOutcome(more=True, step=_save(run, step, checkpoint, **fields), wait=TRACK_EVERY)
    return _finish(run, step, checkpoint, **fields)


# ---------------------------------------------------------------- transform and ledger


def _mapping(link: Link) -> MappingSet:
    settings = settings_for(link)
    return dataclasses.replace(
        mapping_set_for(link), business_supplier_contact_id=settings.supplier_contact_id
    )


def _cost_centres(link: Link) -> dict[str, tuple[tuple[str, str], ...]]:
    raw = settings_for(link).cost_centre_tracking or {}
    return {
        str(cc): tuple((str(p[0]), str(p[1])) for p in pairs if len(p) == 2 and p[0] and p[1])
        for cc, pairs in raw.items()
        if isinstance(pairs, list)
    }


def _purchase(row: PurchaseTransaction) -> Purchase:
    return purchase_from_api(row.data, method_key=row.method_key, method_label=row.method_label)


def _partners(link: Link, records: Iterable[PurchaseTransaction]) -> dict[str, Purchase]:
    wanted = {i for r in records if r.split_group for i in r.split_group.split("+")}
    if not wanted:
        return {}
    found: dict[str, Purchase] = {}
    for row in PurchaseTransaction.objects.filter(link=link, transaction_id__in=wanted):
        try:
            found[row.transaction_id] = _purchase(row)
        except (KeyError, ValueError, TypeError):
            continue  # unreadable: the part that needs it waits, and says why
    return found


def _upsert(
    *,
    link: Link,
    amazon_id: str,
    document: Document,
    existing: LedgerEntry | None,
    run: Run | None,
    parent: LedgerEntry | None = None,
) -> Upserted:
    """Hand one document to the ledger (its kind may have changed with the mapping)."""
    if existing is not None and existing.kind != document.kind:
        deleted, _ = LedgerEntry.objects.filter(pk=existing.pk, status__in=UNSENT).delete()
        if not deleted:  # already sent as the old kind: that one stands
            return Upserted(existing, created=False, skipped=True)
        existing = None
    return ledger_upsert(
        link=link,
        kind=document.kind,
        amazon_id=amazon_id,
        payload=document.payload,
        total=document.total,
        currency=document.currency,
        lookup_number=document.lookup_number,
        lookup_reference=document.lookup_reference,
        held_reason=document.held_reason,
        parent=parent,
        run=run or (existing.run if existing is not None else None),
    )


def records_post(
    *, link: Link, records: list[PurchaseTransaction], run: Run | None
) -> dict[str, int]:
    """Transform stored transactions and hand their documents to the ledger.

    ``run`` None (a mapping change) keeps each row's run. Returns counts: documents, created,
    updated, skipped (already posted), held, zero.
    """
    counts = {"documents": 0, "created": 0, "updated": 0, "skipped": 0, "held": 0, "zero": 0}
    if not records:
        return counts
    mapping = _mapping(link)
    if not mapping.business_supplier_contact_id:
        return counts  # no run has set up the supplier contact yet: nothing was posted before
    cost_centres = _cost_centres(link)
    partners = _partners(link, records)
    met: dict[str, Category] = {}
    methods: dict[str, str] = {}
    entries = {
        e.pk: e
        for e in LedgerEntry.objects.filter(
            pk__in=[r.entry_id for r in records if r.entry_id]
            + [r.payment_entry_id for r in records if r.payment_entry_id]
        )
    }
    for record in records:
        methods[record.method_key] = record.method_label
        invoice = None
        if record.method_key == INVOICE:
            invoice = InvoiceState(
                due_date=record.invoice_due_date, closed_on=record.invoice_closed_on
            )
            if record.amount > 0:
                methods[INVOICE_PAYMENT] = INVOICE_PAYMENT_LABEL
        try:
            documents = purchase_documents(
                _purchase(record),
                mapping,
                categorisers=CATEGORISERS,
                partners=partners,
                invoice=invoice,
                cost_centres=cost_centres,
            )
        except (TotalsMismatch, ValueError, KeyError, TypeError) as exc:
            # Kept visible (held) instead of stopping every run at this transaction; a later
            # run prepares it again.
            log.exception("purchase not prepared link=%s tx=%s", link.pk, record.transaction_id)
            documents = _unprepared(record, exc)
        for category in documents.categories:
            met.setdefault(category.key, category)
        if documents.main is None:
            counts["zero"] += 1
            continue
        main = _upsert(
            link=link,
            amazon_id=record.transaction_id,
            document=documents.main,
            existing=entries.get(record.entry_id or 0),
            run=run,
        )
        _count(counts, main)
        payment_entry = entries.get(record.payment_entry_id or 0)
        if documents.payment is not None and documents.main.kind == "bill":
            paid = _upsert(
                link=link,
                amazon_id=record.transaction_id,
                document=documents.payment,
                existing=payment_entry,
                run=run,
                parent=main.entry,
            )
            _count(counts, paid)
            payment_entry = paid.entry
        if record.entry_id != main.entry.pk or (
            payment_entry is not None and record.payment_entry_id != payment_entry.pk
        ):
            PurchaseTransaction.objects.filter(pk=record.pk).update(
                entry=main.entry, payment_entry=payment_entry
            )
    categories_seen(link, met.values())
    for key, label in methods.items():
        payment_method_seen(link, key, label)
    return counts


def _unprepared(record: PurchaseTransaction, exc: Exception) -> PurchaseDocuments:
    bill = record.method_key == INVOICE and record.amount > 0
    return PurchaseDocuments(
        main=Document(
            kind="bill" if bill else "bank_transaction",
            payload={},
            total=abs(record.amount),
            currency=record.currency,
            held_reason=(
                f"This purchase could not be prepared for Xero ({type(exc).__name__}: {exc}); "
                "it is kept and prepared again at the next sync"
            )[:500],
        )
    )


def _count(counts: dict[str, int], result: Upserted) -> None:
    counts["documents"] += 1
    if result.skipped:
        counts["skipped"] += 1
    elif result.created:
        counts["created"] += 1
    else:
        counts["updated"] += 1
    if not result.skipped and result.entry.status == EntryStatus.HELD:
        counts["held"] += 1


def purchases_rebuild(link: Link) -> int:
    """Re-transform the link's documents that are not sent yet (after a mapping change).

    The mapping page calls this through ``register_rebuilder``; it makes no provider call. A
    document Xero refused takes the new accounts and stays failed until the user retries it.
    Returns how many documents it rebuilt.
    """
    if link.business_account_id is None:
        return 0
    rows = list(
        PurchaseTransaction.objects.filter(link=link).filter(needs_posting()).order_by("pk")
    )
    rebuilt = 0
    for start in range(0, len(rows), POST_CHUNK):
        chunk = rows[start : start + POST_CHUNK]
        entries = [i for r in chunk for i in (r.entry_id, r.payment_entry_id) if i is not None]
        with refused_kept(entries):  # what Xero refused waits for the user's Retry
            counts = records_post(link=link, records=chunk, run=None)
        rebuilt += counts["created"] + counts["updated"]
    return rebuilt


def purchases_release_held(link: Link) -> int:
    """Rebuild the link's unsent documents and queue their pushes."""
    rebuilt = purchases_rebuild(link)
    push_pending(link.pk)
    return rebuilt


# ---------------------------------------------------------------- what the pages show


def preview_summary(run: Run) -> dict[str, Any]:
    """What an import of the run's range would do: N purchases, M already posted, K new."""
    rows = PurchaseTransaction.objects.filter(
        link=run.link, feed_date__gte=run.range_start, feed_date__lt=run.range_end
    )
    total = rows.count()
    zero = rows.filter(amount=0).count()
    posted = rows.filter(entry__status__in=[EntryStatus.POSTED, EntryStatus.SENDING]).count()
    mapping = mapping_set_for(run.link)
    unmapped = (
        rows.exclude(amount=0)
        .exclude(entry__status__in=[EntryStatus.POSTED, EntryStatus.SENDING])
        .exclude(method_key__in=[*mapping.payment_methods, INVOICE])
        .values("method_label")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    kinds = rows.values("transaction_type").annotate(n=Count("id"))
    return {
        "purchases": total,
        "posted": posted,
        "new": total - posted - zero,
        "zero": zero,
        "by_type": {r["transaction_type"]: r["n"] for r in kinds},
        "unmapped": [[r["method_label"], r["n"]] for r in unmapped],
        "amount": str(sum((r for r in rows.values_list("amount", flat=True)), Decimal(0))),
    }


def held_by_reason(link: Link) -> list[tuple[str, int]]:
    rows = (
        LedgerEntry.objects.filter(link=link, status=EntryStatus.HELD)
        .values("held_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "held_reason")
    )
    return [(r["held_reason"], r["n"]) for r in rows]


def latest_runs(link: Link, limit: int = 10) -> list[Run]:
    return list(
        Run.objects.filter(link=link, kind=RunKind.BUSINESS).order_by("-created_at")[:limit]
    )

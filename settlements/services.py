"""Settlements: keep the files, read them, build the Xero documents, attach the audit CSV.

What other parts call:
- ``settlement_file_store`` + ``settlement_file_ingest``: a file from the Reports API or an
  upload is kept as received, read completely (``SettlementFileError`` refuses it, naming the
  line and the problem, and nothing from it posts), and becomes (or updates) its settlement.
  Amazon can issue one settlement twice: the latest complete copy is used until a document of
  the settlement was posted; a later copy that differs is then reported, never posted twice.
- ``settlement_build``: a final settlement (its deposit date has passed, plus a grace period
  for a corrected copy) becomes ledger rows through ``ledger_upsert``: the invoice or bill per
  document, and the deposit payment as its child. A mapping that is incomplete holds them with
  the reason; unknown categories post to the suspense account and raise an alert.
- ``settlements_rebuild``: the mapping rebuilder (``mappings.services.register_rebuilder``).
- ``settlement_attach_step``: puts the audit CSV on each posted document.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from connectors import http
from connectors.models import Link
from connectors.xero.accounting import XeroAccounting
from mappings.chart import Chart
from mappings.services import (
    CHART_MAX_AGE,
    categories_seen,
    chart_for,
    chart_refresh,
    mapping_set_for,
)
from mappings.transforms.settlement import (
    SettlementAmount as AmountInput,
)
from mappings.transforms.settlement import (
    SettlementInput,
    SettlementOptions,
    SettlementPlan,
    marketplace_id,
    settlement_documents,
)
from settlements.audit import assignments_json, audit_csv
from settlements.models import (
    Settlement,
    SettlementAmount,
    SettlementDocument,
    SettlementFile,
    SettlementSettings,
)
from settlements.parser import (
    ParsedSettlement,
    SettlementFileError,
    cents_decimal,
    settlement_parse,
    settlement_rows,
)
from sync.ledger import ledger_upsert, refused_kept
from sync.models import EntryStatus, LedgerEntry, Run
from sync.queue import push_enqueue

log = logging.getLogger(__name__)

DOCUMENT_KINDS = ("invoice", "bill")
KINDS = (*DOCUMENT_KINDS, "payment")
SENT = (EntryStatus.POSTED, EntryStatus.SENDING)
UNSENT = (EntryStatus.PENDING, EntryStatus.HELD, EntryStatus.FAILED)
# Xero's attachment size limit (xero-api.md §5: 10 MB today; test it): bigger CSVs go gzipped.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_STEP = 20


class SettlementError(Exception):
    """A state the user must fix; the message says what to do."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def settings_for(link: Link) -> SettlementSettings:
    found, _ = SettlementSettings.objects.get_or_create(link=link)
    return found


def final_grace() -> timedelta:
    return timedelta(hours=float(settings.SETTLEMENTS_FINAL_AFTER_DEPOSIT_HOURS))


# --------------------------------------------------------------------------- files


def file_open(file: SettlementFile) -> gzip.GzipFile:
    """The kept file's bytes as a stream (it is stored gzip-compressed)."""
    return gzip.GzipFile(fileobj=io.BytesIO(bytes(file.content)), mode="rb")


def settlement_file_store(
    *,
    link: Link,
    raw: bytes,
    source: str,
    file_name: str = "",
    issued_at: datetime | None = None,
    report_id: str = "",
    report_document_id: str = "",
    report_type: str = "",
    uploaded_by: User | None = None,
) -> tuple[SettlementFile, bool]:
    """Keep a settlement file exactly as received; returns (file, created).

    The same upload again, or the same report again, is the file already kept.
    """
    digest = hashlib.sha256(raw).hexdigest()
    if source == SettlementFile.Source.UPLOAD:
        existing = SettlementFile.objects.filter(link=link, source=source, sha256=digest).first()
    else:
        existing = SettlementFile.objects.filter(link=link, report_id=report_id).first()
    if existing is not None:
        return existing, False
    file = SettlementFile.objects.create(
        link=link,
        source=source,
        report_id=report_id,
        report_document_id=report_document_id[:200],
        report_type=report_type,
        issued_at=issued_at or timezone.now(),
        file_name=file_name[:255],
        sha256=digest,
        size=len(raw),
        content=gzip.compress(raw, mtime=0),
        uploaded_by=uploaded_by,
    )
    return file, True


@dataclass
class Ingested:
    file: SettlementFile
    settlement: Settlement | None = None
    error: str = ""
    created: bool = False  # a settlement the hub had not seen
    replaced: bool = False  # a newer copy replaced the one in use (nothing was posted)
    unchanged: bool = False  # the settlement was known with this content: nothing new
    note: str = ""


def settlement_file_ingest(file: SettlementFile) -> Ingested:
    """Read a kept file completely and make (or update) its settlement; never half-written."""
    options = settings_for(file.link)
    try:
        with file_open(file) as stream:
            parsed = settlement_parse(stream, by_sku=options.group_by_sku)
    except (SettlementFileError, OSError, EOFError) as exc:
        message = (
            str(exc)
            if isinstance(exc, SettlementFileError)
            else (
                f"The file cannot be decompressed or read ({exc}). Download it again from Seller "
                "Central."
            )
        )
        SettlementFile.objects.filter(pk=file.pk).update(error=message)
        file.error = message
        log.info("settlement file refused link=%s file=%s: %s", file.link_id, file.pk, message)
        return Ingested(file=file, error=message)
    sid = parsed.settlement_id
    SettlementFile.objects.filter(pk=file.pk).update(settlement_id=sid, error="")
    file.settlement_id = sid
    with transaction.atomic():
        current = (
            Settlement.objects.select_for_update()
            .select_related("file")
            .filter(link=file.link, settlement_id=sid)
            .first()
        )
        if current is None:
            settlement = Settlement(link=file.link, settlement_id=sid)
            try:
                with transaction.atomic():
                    _store_parsed(settlement, file, parsed, by_sku=options.group_by_sku)
            except IntegrityError:
                # Another copy of the same settlement was stored at this moment: compare with it.
                return settlement_file_ingest(file)
            return Ingested(file=file, settlement=settlement, created=True)
        if current.file_id == file.pk or current.file.sha256 == file.sha256:
            return Ingested(file=file, settlement=current, unchanged=True)
        if _sent(current):
            note = ""
            if cents_decimal(parsed.summary.total_cents) != current.total_amount or (
                parsed.rows != current.rows
            ):
                note = (
                    f"Amazon issued another copy of settlement {sid} ({parsed.rows} rows, total "
                    f"{parsed.summary.total_amount} {parsed.currency}) after its documents were "
                    f"posted from the copy with {current.rows} rows and total "
                    f"{current.total_amount}. Nothing was posted twice: roll back the "
                    "settlement to post the newer copy."
                )
                _add_note(current, note)
            return Ingested(file=file, settlement=current, unchanged=not note, note=note)
        if _newer(file, current.file):
            _store_parsed(current, file, parsed, by_sku=options.group_by_sku)
            return Ingested(file=file, settlement=current, replaced=True)
        return Ingested(file=file, settlement=current, unchanged=True)


def _newer(candidate: SettlementFile, current: SettlementFile) -> bool:
    """The latest complete copy wins: issued later (an upload is issued when received)."""
    return (candidate.issued_at, candidate.pk) > (current.issued_at, current.pk)


def _add_note(settlement: Settlement, note: str) -> None:
    if note and note not in settlement.notes:
        settlement.notes = f"{settlement.notes}\n{note}".strip()
        Settlement.objects.filter(pk=settlement.pk).update(notes=settlement.notes)


def _store_parsed(
    settlement: Settlement, file: SettlementFile, parsed: ParsedSettlement, *, by_sku: bool
) -> None:
    """The settlement's fields and amounts from a parsed copy (call inside a transaction)."""
    summary = parsed.summary
    settlement.file = file
    settlement.layout = parsed.layout
    settlement.currency = summary.currency
    settlement.start = summary.start
    settlement.end = summary.end
    settlement.deposit_date = summary.deposit_date
    settlement.total_amount = summary.total_amount
    settlement.marketplace = parsed.primary_marketplace()[:60]
    settlement.rows = parsed.rows
    settlement.by_sku = by_sku
    if settlement.state == Settlement.State.BUILT:
        settlement.state = Settlement.State.WAITING
    settlement.save()
    SettlementAmount.objects.filter(settlement=settlement).delete()
    SettlementAmount.objects.bulk_create(
        [
            SettlementAmount(
                settlement=settlement,
                day=date.fromisoformat(day),
                transaction_type=ttype[:100],
                amount_type=atype[:100],
                amount_description=desc[:255],
                marketplace=market[:60],
                sku=sku[:100],
                amount=cents_decimal(cents),
                rows=rows,
            )
            for (day, ttype, atype, desc, market, sku), (cents, rows) in parsed.amounts.items()
        ],
        batch_size=2000,
    )


# --------------------------------------------------------------------------- ledger


def settlement_entries(settlement: Settlement) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(
        link_id=settlement.link_id, amazon_id=settlement.settlement_id, kind__in=KINDS
    )


def _sent(settlement: Settlement) -> bool:
    return settlement_entries(settlement).filter(status__in=SENT).exists()


def final_after(*, end: datetime, deposit_date: datetime | None) -> datetime:
    """When a settlement is final: Amazon's deposit (or 3 days after its end), plus the grace."""
    return (deposit_date or end + timedelta(days=3)) + final_grace()


def settlement_is_final(settlement: Settlement, now: datetime) -> bool:
    """Amazon can correct a settlement until its money moved: wait for the deposit (+grace)."""
    return bool(now >= final_after(end=settlement.end, deposit_date=settlement.deposit_date))


def settlement_input(settlement: Settlement) -> SettlementInput:
    return SettlementInput(
        settlement_id=settlement.settlement_id,
        currency=settlement.currency,
        start=settlement.start,
        end=settlement.end,
        deposit_date=settlement.deposit_date,
        total_amount=settlement.total_amount,
        marketplace=settlement.marketplace,
        amounts=tuple(
            AmountInput(
                day=a.day,
                transaction_type=a.transaction_type,
                amount_type=a.amount_type,
                amount_description=a.amount_description,
                marketplace=a.marketplace,
                sku=a.sku,
                amount=a.amount,
                rows=a.rows,
            )
            for a in settlement.amounts.all()
        ),
    )


def _best_file(settlement: Settlement) -> SettlementFile:
    """The latest accepted copy of this settlement the hub holds."""
    best = (
        SettlementFile.objects.filter(
            link_id=settlement.link_id, settlement_id=settlement.settlement_id, error=""
        )
        .order_by("-issued_at", "-id")
        .first()
    )
    return best or settlement.file


@dataclass
class Built:
    settlement: Settlement
    state: str
    held_reason: str = ""
    documents: int = 0
    created: int = 0  # ledger rows made
    skipped: int = 0  # already posted: left alone
    unknown: list[str] = field(default_factory=list)


# Builders that take a settlement over (per-order accounting, in the orders app): each returns
# a ``Built`` when it handled the settlement, or None to leave it to the summary.
SettlementBuilder = Callable[..., "Built | None"]
_builders: list[SettlementBuilder] = []


def register_settlement_builder(builder: SettlementBuilder) -> SettlementBuilder:
    if builder not in _builders:
        _builders.append(builder)
    return builder


def settlement_build(
    settlement: Settlement,
    *,
    now: datetime | None = None,
    chart: Chart | None = None,
    run: Run | None = None,
) -> Built:
    """Turn a final settlement into ledger rows (or hold them, saying why)."""
    now = now or timezone.now()
    link = settlement.link
    sent = _sent(settlement)
    ignored = _not_chosen(settlement)
    if ignored and not sent:  # said at once, final or not: it would never post anyway
        Settlement.objects.filter(pk=settlement.pk).update(
            state=Settlement.State.IGNORED, held_reason=ignored
        )
        settlement.state, settlement.held_reason = Settlement.State.IGNORED, ignored
        return Built(settlement, Settlement.State.IGNORED, ignored)
    if not settlement_is_final(settlement, now):
        Settlement.objects.filter(pk=settlement.pk).update(state=Settlement.State.WAITING)
        settlement.state = Settlement.State.WAITING
        return Built(settlement, Settlement.State.WAITING)
    options = settings_for(link)
    if not sent:
        # Nothing posted yet: use the latest copy, summed as the options now ask.
        best = _best_file(settlement)
        if best.pk != settlement.file_id or settlement.by_sku != options.group_by_sku:
            with file_open(best) as stream:
                parsed = settlement_parse(stream, by_sku=options.group_by_sku)
            with transaction.atomic():
                _store_parsed(settlement, best, parsed, by_sku=options.group_by_sku)
    if chart is None:
        chart = chart_for(link.xero_tenant, max_age=CHART_MAX_AGE).chart
    for builder in _builders:
        taken = builder(settlement, chart=chart, run=run, sent=sent)
        if taken is not None:
            return taken
    mapping = mapping_set_for(link)
    plan = settlement_documents(
        settlement_input(settlement),
        mapping,
        chart,
        SettlementOptions(
            split_month_end=options.split_month_end, group_by_sku=options.group_by_sku
        ),
    )
    categories_seen(link, plan.categories.values())
    built = _ledger_write(settlement, plan, sent=sent, run=run)
    if plan.unknown:
        _alert_unknown(settlement, plan)
    if built.created or not sent:
        kinds = {d.kind for d in plan.documents} | ({"payment"} if plan.documents else set())
        for kind in sorted(kinds):
            push_enqueue(link_id=link.pk, kind=kind)
    return built


def _not_chosen(settlement: Settlement) -> str:
    """Why a settlement from the Reports API is not posted: its marketplace is not synced.

    Settlement reports list every marketplace of the region, whichever the user chose
    (reference note §11); an uploaded file is posted because the user chose to upload it.
    """
    account = settlement.link.seller_account
    chosen = set(account.marketplace_ids or []) if account is not None else set()
    if not chosen or not settlement.marketplace or settlement.file.source != "report":
        return ""
    if marketplace_id(settlement.marketplace) in chosen:
        return ""
    return (
        f"{settlement.marketplace} is not among the marketplaces you sync: choose it under "
        "Connections, or upload this settlement's file, to post it."
    )


def _ledger_write(
    settlement: Settlement, plan: SettlementPlan, *, sent: bool, run: Run | None
) -> Built:
    held = plan.held_reason
    sid = settlement.settlement_id
    built = Built(settlement, Settlement.State.HELD if held else Settlement.State.BUILT, held)
    wanted = {(d.kind, d.part) for d in plan.documents} | {
        ("payment", d.part) for d in plan.documents if d.payment is not None
    }
    with transaction.atomic():
        # Rows of an earlier build that this one no longer makes (a newer copy changed the
        # sign, the split was turned on): removed while they were never sent.
        stale = [
            e.pk
            for e in settlement_entries(settlement).filter(status__in=UNSENT)
            if (e.kind, e.part) not in wanted
        ]
        LedgerEntry.objects.filter(pk__in=stale).delete()
        parts = []
        for document in plan.documents:
            upserted = ledger_upsert(
                link=settlement.link,
                kind=document.kind,
                amazon_id=sid,
                part=document.part,
                payload=document.payload,
                total=document.total,
                currency=settlement.currency,
                lookup_number=document.number,
                held_reason=held,
                run=run,
            )
            built.created += upserted.created
            built.skipped += upserted.skipped
            payment_entry = None
            if document.payment is not None:
                paid = ledger_upsert(
                    link=settlement.link,
                    kind="payment",
                    amazon_id=sid,
                    part=document.part,
                    payload=document.payment,
                    total=document.total,
                    currency=settlement.currency,
                    lookup_reference=document.payment_reference,
                    parent=upserted.entry,
                    held_reason=held,
                    run=run,
                )
                built.created += paid.created
                built.skipped += paid.skipped
                payment_entry = paid.entry
            SettlementDocument.objects.update_or_create(
                settlement=settlement,
                part=document.part,
                defaults={
                    "kind": document.kind,
                    "number": upserted.entry.lookup_number or document.number,
                    "total": document.total,
                    "entry": upserted.entry,
                    "payment_entry": payment_entry,
                    "attachment_name": document.attachment_name,
                },
            )
            parts.append(document.part)
        SettlementDocument.objects.filter(settlement=settlement).exclude(part__in=parts).filter(
            Q(entry__isnull=True) | ~Q(entry__status__in=SENT)
        ).delete()
        notes = [n for n in plan.notes]
        if plan.unknown:
            labels = ", ".join(f"'{c.label.removeprefix('Unknown: ')}'" for c in plan.unknown)
            notes.append(
                f"Posted to the suspense account until you map them: {labels} (new Amazon "
                "categories)."
            )
        kept = [n for n in settlement.notes.splitlines() if n.startswith("Amazon issued")]
        update: dict[str, Any] = {
            "state": built.state,
            "held_reason": held,
            "notes": "\n".join([*kept, *notes]),
            "built_at": timezone.now(),
        }
        if not sent:
            update["assignments"] = assignments_json(plan.assignments)
        Settlement.objects.filter(pk=settlement.pk).update(**update)
        for name, value in update.items():
            setattr(settlement, name, value)
    built.documents = len(plan.documents)
    built.unknown = [c.label for c in plan.unknown]
    return built


def _alert_unknown(settlement: Settlement, plan: SettlementPlan) -> None:
    from hub.notify import notify_owners

    link = settlement.link
    for category in plan.unknown:
        name = category.label.removeprefix("Unknown: ")
        notify_owners(
            customer=link.customer,
            key=f"settlement-unknown:{link.pk}:{category.key}",
            subject=f"New Amazon category in settlement {settlement.settlement_id}",
            body=(
                f"Amazon sent '{name}', which the hub does not recognise yet. It was posted to "
                "your suspense account so the settlement still matches its deposit. Map it to "
                "the right Xero account; later settlements then post there."
            ),
            path=f"/w/{link.customer.code}/links/{link.pk}/settlements/",
        )


def settlements_build_due(link: Link, *, now: datetime | None = None) -> int:
    """Build the link's settlements that became final or are held; returns how many."""
    now = now or timezone.now()
    candidates = Settlement.objects.filter(
        link=link,
        state__in=[Settlement.State.WAITING, Settlement.State.HELD, Settlement.State.IGNORED],
    ).select_related("link__xero_tenant", "link__seller_account", "file")
    due: list[Settlement] = []
    other_marketplace: list[Settlement] = []
    for settlement in candidates:
        if settlement_is_final(settlement, now):
            due.append(settlement)
        elif settlement.state == Settlement.State.WAITING and _not_chosen(settlement):
            other_marketplace.append(settlement)
    for settlement in other_marketplace:  # ignored at once, without reading the chart
        settlement_build(settlement, now=now)
    if not due:
        return len(other_marketplace)
    chart = chart_for(link.xero_tenant, max_age=CHART_MAX_AGE).chart
    for settlement in sorted(due, key=lambda s: (s.end, s.pk)):
        settlement_build(settlement, now=now, chart=chart)
    return len(due) + len(other_marketplace)


def settlements_rebuild(link: Link) -> int:
    """The mapping rebuilder: held settlements are built again with the new mapping, and so
    are built ones with a document Xero refused or the push held for a remap (an account
    archived since): those documents take the new accounts; posted ones stay as they are.

    A document the push held posts at once. One Xero refused stays failed, rebuilt, until the
    user presses Retry: a dead letter moves only when the user says so."""
    if link.seller_account_id is None:
        return 0
    rebuilt = settlements_build_due(link)
    unsent = LedgerEntry.objects.filter(
        link=link, status__in=[EntryStatus.FAILED, EntryStatus.HELD]
    )
    # A summary's documents carry the settlement id; per order, a settlement's refunds and
    # payments carry the order id and the settlement id at the head of their part.
    refused = set(unsent.filter(kind__in=KINDS).values_list("amazon_id", flat=True)) | {
        part.split(":", 1)[0]
        for part in unsent.filter(part__contains=":").values_list("part", flat=True)
    }
    stuck = list(
        Settlement.objects.filter(
            link=link, state=Settlement.State.BUILT, settlement_id__in=refused
        ).select_related("link__xero_tenant", "link__seller_account", "file")
    )
    if stuck:
        chart = chart_for(link.xero_tenant, max_age=CHART_MAX_AGE).chart
        for settlement in sorted(stuck, key=lambda s: (s.end, s.pk)):
            sid = settlement.settlement_id
            family = LedgerEntry.objects.filter(link=link).filter(
                Q(amazon_id=sid, kind__in=KINDS) | Q(part__startswith=f"{sid}:")
            )
            with refused_kept(family.values_list("pk", flat=True)):
                settlement_build(settlement, chart=chart)
    return rebuilt + len(stuck)


def settlement_check_again(link: Link) -> int:
    """The user fixed something in Xero (enabled a currency): re-read the chart, rebuild.

    A chart that cannot be read now raises (``RetryLater``): the task tries again later rather
    than rebuilding from the copy that caused the hold.
    """
    chart_refresh(link.xero_tenant)
    return settlements_build_due(link)


# --------------------------------------------------------------------------- uploads


def settlement_upload(
    *, link: Link, file_name: str, raw: bytes, user: User | None = None
) -> Ingested:
    """A settlement file downloaded from Seller Central (history beyond the 90 days)."""
    if not raw.strip():
        raise SettlementError(
            f"{file_name or 'The file'} is empty. Choose the settlement's flat file (V2) "
            "downloaded from Seller Central."
        )
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SettlementError(f"{file_name} is a damaged gzip file ({exc}).") from None
    file, created = settlement_file_store(
        link=link,
        raw=raw,
        source=SettlementFile.Source.UPLOAD,
        file_name=file_name,
        uploaded_by=user,
    )
    if not created:
        settlement = Settlement.objects.filter(link=link, settlement_id=file.settlement_id).first()
        if file.error:
            raise SettlementError(file.error)
        return Ingested(file=file, settlement=settlement, unchanged=True)
    ingested = settlement_file_ingest(file)
    if ingested.error:
        raise SettlementError(ingested.error)
    return ingested


# --------------------------------------------------------------------------- attachments


@dataclass
class Attached:
    attached: int = 0
    failed: int = 0
    wait: float = 0.0
    more: bool = False
    calls: int = 0


def _to_attach(link: Link) -> Any:
    return (
        SettlementDocument.objects.filter(
            settlement__link=link,
            entry__status=EntryStatus.POSTED,
            entry__xero_id__isnull=False,
            attachment_error="",
        )
        .exclude(attached_to=F("entry__xero_id"))
        .select_related("settlement__file", "entry")
        .order_by("id")
    )


def document_csv(document: SettlementDocument) -> tuple[bytes, str, str]:
    """The audit CSV for one document: (bytes, file name, content type)."""
    settlement = document.settlement
    numbers = {d.part: d.number for d in SettlementDocument.objects.filter(settlement=settlement)}
    with file_open(settlement.file) as stream:
        content = audit_csv(
            settlement_id=settlement.settlement_id,
            rows=settlement_rows(stream),
            assignments=settlement.assignments,
            numbers=numbers,
            part=document.part if any(numbers) else None,
        )
    if len(content) > ATTACHMENT_MAX_BYTES:
        return gzip.compress(content, mtime=0), f"{document.attachment_name}.gz", "application/gzip"
    return content, document.attachment_name, "text/csv"


def settlement_attach_step(link: Link) -> Attached:
    """Attach the audit CSV to posted documents, one Xero call each, through the limiter.

    Reference: https://developer.xero.com/documentation/api/accounting/attachments
    (PUT /Invoices/{InvoiceID}/Attachments/{FileName}; the same name again replaces the file,
    so a retry after a lost answer cannot attach it twice).
    """
    outcome = Attached()
    if link.pause_reason:
        return outcome
    client = XeroAccounting(link.xero_tenant)
    todo = list(_to_attach(link)[: ATTACHMENTS_PER_STEP + 1])
    outcome.more = len(todo) > ATTACHMENTS_PER_STEP
    for document in todo[:ATTACHMENTS_PER_STEP]:
        entry = document.entry
        assert entry is not None and entry.xero_id is not None
        content, name, content_type = document_csv(document)
        try:
            client.request(
                "createInvoiceAttachmentByFileName",
                "PUT",
                f"/Invoices/{entry.xero_id}/Attachments/{quote(name)}",
                data=content,
                headers={"Content-Type": content_type},
            )
        except http.RetryLater as exc:
            outcome.wait, outcome.more = max(exc.decision.wait, 1.0), True
            break
        except http.Rejected as exc:
            SettlementDocument.objects.filter(pk=document.pk).update(
                attachment_error=exc.message[:2000]
            )
            outcome.failed += 1
            continue
        SettlementDocument.objects.filter(pk=document.pk).update(
            attached_to=entry.xero_id, attached_at=timezone.now(), attachment_error=""
        )
        outcome.attached += 1
    outcome.calls = client.calls
    return outcome


def attachments_due_links() -> Iterator[int]:
    """Links with a posted settlement document still waiting for its audit CSV."""
    rows = (
        SettlementDocument.objects.filter(
            entry__status=EntryStatus.POSTED, entry__xero_id__isnull=False, attachment_error=""
        )
        .exclude(attached_to=F("entry__xero_id"))
        .values_list("settlement__link_id", flat=True)
        .distinct()
    )
    yield from rows


ATTACH_LOST = timedelta(minutes=15)


def attach_enqueue(*, link_id: int) -> bool:
    """Queue the link's attachment task unless one is queued (claimed by a conditional update)."""
    from settlements.tasks import settlements_attach

    now = timezone.now()
    SettlementSettings.objects.get_or_create(link_id=link_id)
    claimed = (
        SettlementSettings.objects.filter(link_id=link_id)
        .filter(Q(attach_queued_at__isnull=True) | Q(attach_queued_at__lt=now - ATTACH_LOST))
        .update(attach_queued_at=now)
    )
    if claimed:
        transaction.on_commit(lambda: settlements_attach.delay(link_id))
    return bool(claimed)


def attach_done(*, link_id: int) -> None:
    SettlementSettings.objects.filter(link_id=link_id).update(attach_queued_at=None)


def settlement_totals(settlement: Settlement) -> dict[str, Decimal]:
    """What the settlement's documents add up to in the ledger (for pages and tests)."""
    documents = Decimal("0.00")
    for entry in settlement_entries(settlement).filter(kind__in=DOCUMENT_KINDS):
        documents += entry.total if entry.kind == "invoice" else -entry.total
    return {"documents": documents, "amazon": settlement.total_amount}


# --------------------------------------------------------------------------- pages


@dataclass
class SettlementView:
    settlement: Settlement
    status: str
    badge: str  # ok, warn, bad, ""
    detail: str
    documents: list[dict[str, Any]]


def settlement_views(
    settlements: list[Settlement], *, now: datetime | None = None
) -> list[SettlementView]:
    """What the settlements page shows for each: its state in words and its Xero documents."""
    from sync.links_out import xero_url

    now = now or timezone.now()
    documents: dict[int, list[SettlementDocument]] = {}
    for document in SettlementDocument.objects.filter(settlement__in=settlements).select_related(
        "entry__link__xero_tenant", "payment_entry"
    ):
        documents.setdefault(document.settlement_id, []).append(document)
    views = []
    for settlement in settlements:
        docs = documents.get(settlement.pk, [])
        shown = [
            {
                "number": (d.entry.xero_number or d.entry.lookup_number) if d.entry else d.number,
                "kind": "Bill" if d.kind == "bill" else "Invoice",
                "total": d.total,
                "part": d.part,
                "url": xero_url(d.entry) if d.entry else "",
                "status": d.entry.get_status_display() if d.entry else "",
                "paid": bool(d.payment_entry and d.payment_entry.status == EntryStatus.POSTED),
                "attached": bool(d.attached_at),
                "attachment_error": d.attachment_error,
            }
            for d in docs
        ]
        status, badge, detail = _status(settlement, docs, now)
        views.append(SettlementView(settlement, status, badge, detail, shown))
    return views


def _status(
    settlement: Settlement, docs: list[SettlementDocument], now: datetime
) -> tuple[str, str, str]:
    if settlement.state == Settlement.State.WAITING:
        moved = settlement.deposit_date or settlement.end + timedelta(days=3)
        return (
            "Waiting",
            "",
            f"Posts after Amazon's deposit is final ({moved + final_grace():%d %b %Y %H:%M} UTC).",
        )
    if settlement.state == Settlement.State.HELD:
        return "Held", "warn", settlement.held_reason
    if settlement.state == Settlement.State.IGNORED:
        return "Not synced", "", settlement.held_reason
    entries = [e for d in docs for e in (d.entry, d.payment_entry) if e is not None]
    if not entries:
        return "Nothing to post", "ok", "Every amount of this settlement nets to zero."
    statuses = {e.status for e in entries}
    if EntryStatus.FAILED in statuses:
        failed = next(e for e in entries if e.status == EntryStatus.FAILED)
        return "Failed", "bad", f"Xero: {failed.last_error}"
    if statuses == {EntryStatus.POSTED}:
        return "Posted and paid", "ok", ""
    if statuses <= {EntryStatus.VOIDED}:
        return "Rolled back", "warn", "Its documents were voided in Xero."
    if EntryStatus.HELD in statuses:
        held = next(e for e in entries if e.status == EntryStatus.HELD)
        return "Held", "warn", held.held_reason
    return "Posting", "", "Queued for Xero."


@dataclass
class Uploaded:
    done: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def settlements_upload_files(*, link: Link, files: list[Any], user: User | None) -> Uploaded:
    """Each uploaded file kept and read on its own: one bad file does not stop the others."""
    from settlements.tasks import settlements_build

    outcome = Uploaded()
    for upload in files:
        name = str(getattr(upload, "name", "") or "settlement.txt")
        try:
            with transaction.atomic():
                ingested = settlement_upload(
                    link=link, file_name=name, raw=upload.read(), user=user
                )
        except SettlementError as exc:
            outcome.errors.append(f"{name}: {exc.message} Nothing from it was posted.")
            continue
        outcome.done.append(f"{name}: {_ingested_words(ingested)}")
    if outcome.done:
        transaction.on_commit(lambda: settlements_build.delay(link.pk))
    return outcome


def _ingested_words(ingested: Ingested) -> str:
    settlement = ingested.settlement
    if settlement is None:
        return "kept."
    what = (
        f"settlement {settlement.settlement_id} ({settlement.currency} "
        f"{settlement.total_amount}, {settlement.rows} rows)"
    )
    if ingested.created:
        return f"{what} read; it posts once its deposit is final and the mapping is complete."
    if ingested.replaced:
        return f"a newer copy of {what} replaced the earlier one (nothing had been posted)."
    if ingested.note:
        return ingested.note
    return f"{what} was already here: nothing new."


def settlement_options_save(
    *, link: Link, sync_enabled: bool, split_month_end: bool, group_by_sku: bool
) -> int:
    """Save the options; settlements not yet posted are built again with them."""
    options = settings_for(link)
    layout_changed = (options.split_month_end, options.group_by_sku) != (
        split_month_end,
        group_by_sku,
    )
    options.sync_enabled = sync_enabled
    options.split_month_end = split_month_end
    options.group_by_sku = group_by_sku
    options.save(update_fields=["sync_enabled", "split_month_end", "group_by_sku"])
    if not layout_changed:
        return 0
    unsent = [
        s
        for s in Settlement.objects.filter(link=link, state=Settlement.State.BUILT)
        if not _sent(s)
    ]
    Settlement.objects.filter(pk__in=[s.pk for s in unsent]).update(state=Settlement.State.WAITING)
    from settlements.tasks import settlements_build

    transaction.on_commit(lambda: settlements_build.delay(link.pk))
    return len(unsent)


def settlement_link_action(*, link: Link, action: str) -> str:
    """The settlements page's buttons: fetch reports now, or check again after a fix in Xero."""
    from settlements.pull import PullError
    from settlements.schedule import pull_now
    from settlements.tasks import settlements_check

    if action == "fetch":
        try:
            run = pull_now(link)
        except PullError as exc:
            return f"Nothing started: {exc.message}"
        return f"Looking for new settlement reports at Amazon (run {run.pk})."
    if action == "check":
        transaction.on_commit(lambda: settlements_check.delay(link.pk))
        return "Checking held settlements again against your Xero organisation."
    return "Unknown action."


def settlement_audit_csv(settlement: Settlement) -> bytes:
    """The whole settlement's audit CSV (as attached, all parts in one file)."""
    numbers = {d.part: d.number for d in SettlementDocument.objects.filter(settlement=settlement)}
    with file_open(settlement.file) as stream:
        return audit_csv(
            settlement_id=settlement.settlement_id,
            rows=settlement_rows(stream),
            assignments=settlement.assignments,
            numbers=numbers,
        )


def settlement_repost(settlement: Settlement) -> Built:
    """Post a rolled-back settlement again (the latest copy, today's mapping, a new number).

    Only when every document of it was rolled back; anything still posted stays as it is.
    """
    entries = settlement_entries(settlement)
    if not entries.exists() or entries.exclude(status=EntryStatus.VOIDED).exists():
        raise SettlementError(
            f"Settlement {settlement.settlement_id} is not rolled back: roll back its documents "
            "first (Activity → Roll back), then post it again."
        )
    Settlement.objects.filter(pk=settlement.pk).update(state=Settlement.State.WAITING)
    settlement.state = Settlement.State.WAITING
    return settlement_build(settlement)

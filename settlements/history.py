"""Import a chosen date range of settlements: check it first, then import exactly what is new.

Amazon keeps settlement reports for 90 days (``pull.RETENTION``); older settlements are
uploaded as files. A range is matched by the day each settlement ended. Both runs are runs of
kind "settlements" advanced by the scheduled pull's task (``pull.pull_step`` hands them to
``range_step``), one step per task and at most one SP-API call per step, through the limiter:

check (mode "preview"), nothing becomes a settlement and nothing is posted:
  list    getReports pages from the range's first day; the reports of settlements that ended
          in the range are kept on the run (the V2 layout preferred over the older one);
  read    one report per step: a report the hub read before is looked up; any other is
          downloaded and kept exactly as received, unread (the import, or the next scheduled
          pull, reads it without downloading it again), and its summary parsed;
  then each settlement is new, already posted (in the ledger), waiting for the deposit
  (not final yet), held, or of a marketplace the link does not sync.
import (mode "import", from a finished check):
  ingest  the check's reports of settlements not in the ledger, one per step (from the kept
          copies; a missing one is downloaded);
  build   one new settlement per step into ledger rows (``settlement_build``, recording the
          run on them); one already in the ledger is counted as skipped, never posted twice;
  track   until every document of those settlements is posted, held or failed.
Settlements still waiting for their deposit are kept and post once final: the import turns
the scheduled fetch on, as a fetch from the page does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connectors import limits
from connectors.models import Link
from mappings.transforms.settlement import marketplace_id
from settlements.models import Settlement, SettlementFile
from settlements.parser import ParsedSettlement, SettlementFileError, settlement_parse
from settlements.pull import (
    ACTIVE,
    LOOKBACK,
    RANGE_MODES,
    PullError,
    Step,
    _iso,
    _to_download,
    report_entry,
    report_fetch,
    report_keep,
    report_params,
    reports_request,
)
from settlements.services import (
    KINDS,
    SENT,
    file_open,
    final_after,
    settings_for,
    settlement_build,
    settlement_entries,
    settlement_file_ingest,
)
from sync.models import EntryStatus, LedgerEntry, Run, RunKind, RunStatus
from sync.queue import push_enqueue

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30
# The earliest first day a check accepts: every report of a settlement that ended on it is
# still within Amazon's 90 days (``LOOKBACK``) when the check lists them.
EARLIEST_DAYS = 89
TRACK_EVERY = 2.0  # seconds between progress checks while the documents post

NEW = "new"
POSTED = "posted"
WAITING = "waiting"
HELD = "held"
IGNORED = "ignored"
STATUS_WORDS = {
    NEW: "New",
    POSTED: "Already posted",
    WAITING: "Waiting for the deposit",
    HELD: "Held",
    IGNORED: "Not a marketplace you sync",
}
PHASES = {
    "list": "Listing Amazon's settlement reports",
    "read": "Reading the settlement reports",
    "ingest": "Reading the settlement reports",
    "build": "Preparing documents for Xero",
    "track": "Posting to Xero",
}


class Stale(Exception):
    """This step was already taken (a duplicate or late task): nothing to do."""


# --------------------------------------------------------------------------- starting


def range_check(start: datetime, end: datetime, *, now: datetime) -> tuple[datetime, datetime]:
    """A user's range [start, end), or PullError saying what is wrong with it."""
    end = min(end, now)
    if start >= end:
        raise PullError("The first day must be before the last day (and not in the future).")
    if start.date() < earliest_day(now).date():
        raise PullError(
            "Amazon keeps settlement reports for 90 days: choose a first day within the last "
            f"{EARLIEST_DAYS} days, and upload older settlements as files."
        )
    return start, end


def _run_create(
    *, link: Link, start: datetime, end: datetime, checkpoint: dict[str, Any], total: int = 0
) -> Run:
    from settlements.tasks import settlements_step

    if link.seller_account_id is None:
        raise PullError("Settlement reports come from Seller Central; this link has none.")
    if link.pause_reason:
        raise PullError(f"{link.pause_reason} Nothing can be read or posted until then.")
    now = timezone.now()
    try:
        with transaction.atomic():
            run = Run.objects.create(
                link=link,
                kind=RunKind.SETTLEMENTS,
                status=RunStatus.QUEUED,
                range_start=start,
                range_end=end,
                checkpoint={"step": 0, "at": now.isoformat(), **checkpoint},
                total=total,
            )
    except IntegrityError:
        active = Run.objects.filter(link=link, kind=RunKind.SETTLEMENTS, status__in=ACTIVE).first()
        mode = (active.checkpoint.get("mode") if active else "") or ""
        what = {"preview": "a check of a date range", "import": "an import"}.get(
            mode, "a fetch of new settlements"
        )
        raise PullError(
            f"Amazon is being read for this link right now ({what}); wait for it to finish "
            "and try again."
        ) from None
    transaction.on_commit(lambda: settlements_step.delay(run.pk, 0))
    return run


def check_start(*, link: Link, start: datetime, end: datetime) -> Run:
    """List and read the range's settlement reports and count what is new; nothing posts."""
    now = timezone.now()
    start, end = range_check(start, end, now=now)
    since = max(start, now - LOOKBACK)
    return _run_create(
        link=link,
        start=start,
        end=end,
        checkpoint={
            "mode": "preview",
            "phase": "list",
            "since": since.isoformat(),
            "next_token": None,
            "pages": 0,
            "listing": [],
        },
    )


def import_start(*, link: Link, preview: Run) -> Run:
    """Import the settlements a finished check found new (and keep those still waiting)."""
    if (
        preview.link_id != link.pk
        or preview.kind != RunKind.SETTLEMENTS
        or preview.checkpoint.get("mode") != "preview"
    ):
        raise PullError("Check the date range first: the import posts what the check found.")
    if preview.status != RunStatus.DONE:
        raise PullError("The check of this date range has not finished yet.")
    summary = preview.checkpoint.get("summary") or {}
    rows = [r for r in summary.get("rows") or [] if r["status"] in (NEW, WAITING)]
    new = [r["settlement_id"] for r in rows if r["status"] == NEW]
    if not new:
        raise PullError("Nothing in this range is new: there is nothing to import.")
    reports = [report for r in rows for report in r["reports"]]
    assert preview.range_start is not None and preview.range_end is not None
    run = _run_create(
        link=link,
        start=preview.range_start,
        end=preview.range_end,
        checkpoint={
            "mode": "import",
            "phase": "ingest",
            "preview": preview.pk,
            "reports": sorted(reports, key=lambda r: (r["createdTime"], r["reportId"])),
            "ingested": 0,
            "new": new,
            "built": 0,
            "posting": [],
        },
        total=len(new),
    )
    settings = settings_for(link)
    if not settings.sync_enabled:
        settings.sync_enabled = True
        settings.save(update_fields=["sync_enabled"])
    return run


def run_cancel(*, run: Run) -> bool:
    """Stop a check or an import between steps; documents already in the ledger still post."""
    return bool(
        Run.objects.filter(pk=run.pk, status__in=ACTIVE).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now(), error="Stopped by you."
        )
    )


# --------------------------------------------------------------------------- steps


def _save(run: Run, checkpoint: dict[str, Any], **fields: Any) -> Step:
    """Record this step unless another task already did (then ``Stale``); the next step."""
    step = int(run.checkpoint.get("step", 0))
    checkpoint = {**checkpoint, "step": step + 1, "at": timezone.now().isoformat()}
    updated = Run.objects.filter(pk=run.pk, status__in=ACTIVE, checkpoint__step=step).update(
        checkpoint=checkpoint, **fields
    )
    if not updated:
        raise Stale()
    run.checkpoint = checkpoint
    return Step(more=True, step=step + 1)


def _done(run: Run, checkpoint: dict[str, Any], **fields: Any) -> Step:
    _save(run, checkpoint, status=RunStatus.DONE, finished_at=timezone.now(), **fields)
    return Step(more=False, note="done")


def range_step(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    """One step of a check or an import (``pull.pull_step`` handles the provider's errors)."""
    assert checkpoint.get("mode") in RANGE_MODES
    phase = checkpoint.get("phase")
    steps = {
        "list": _step_list,
        "read": _step_read,
        "ingest": _step_ingest,
        "build": _step_build,
        "track": _step_track,
    }
    try:
        return steps[str(phase)](run, link, checkpoint)
    except Stale:
        return Step(more=False, step=int(run.checkpoint.get("step", 0)), note="stale step")


def _limited(run: Run, link: Link, operation: str) -> Step | None:
    """The limiter's wait as a step to take again later, or None when the call may go."""
    account = link.seller_account
    assert account is not None
    wait = limits.sp_wait(account.selling_partner_id, operation)
    if wait > 0:
        step = int(run.checkpoint.get("step", 0))
        return Step(more=True, wait=wait, step=step, note=f"{operation} limit")
    return None


def _in_range(run: Run, entry: dict[str, str]) -> bool:
    """The report's settlement ended in the run's range."""
    if not entry["dataEndTime"]:
        return False
    ended = _iso(entry["dataEndTime"])
    assert run.range_start is not None and run.range_end is not None
    return run.range_start <= ended < run.range_end


def _step_list(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    waiting = _limited(run, link, "getReports")
    if waiting is not None:
        return waiting
    account = link.seller_account
    assert account is not None
    params = report_params(since=_iso(checkpoint["since"]), token=checkpoint.get("next_token"))
    body = reports_request(account, params)
    entries = [e for e in map(report_entry, body.get("reports") or []) if e is not None]
    listing = [*checkpoint.get("listing", []), *(e for e in entries if _in_range(run, e))]
    checkpoint["next_token"] = body.get("nextToken") or None
    checkpoint["pages"] = int(checkpoint.get("pages", 0)) + 1
    if checkpoint["next_token"] is None:
        checkpoint["phase"] = "read"
        checkpoint["reports"] = _to_download(listing)
        checkpoint["read"] = 0
        checkpoint["found"] = {}
        checkpoint.pop("listing", None)
    else:
        checkpoint["listing"] = listing
    return _save(run, checkpoint)


def _summary_of(parsed: ParsedSettlement) -> dict[str, Any]:
    summary = parsed.summary
    return {
        "settlement_id": summary.settlement_id,
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "deposit_date": summary.deposit_date.isoformat() if summary.deposit_date else "",
        "currency": summary.currency,
        "total": str(summary.total_amount),
        "marketplace": parsed.primary_marketplace(),
    }


def _file_summary(file: SettlementFile) -> dict[str, Any]:
    """A kept file's settlement (the file is not read into a settlement); refused if damaged."""
    try:
        with file_open(file) as stream:
            return _summary_of(settlement_parse(stream))
    except (SettlementFileError, OSError, EOFError) as exc:
        message = (
            str(exc)
            if isinstance(exc, SettlementFileError)
            else f"The file cannot be decompressed or read ({exc})."
        )
        SettlementFile.objects.filter(pk=file.pk).update(error=message)
        return {"error": message}


def _settlement_summary(settlement: Settlement) -> dict[str, Any]:
    return {
        "settlement_id": settlement.settlement_id,
        "start": settlement.start.isoformat(),
        "end": settlement.end.isoformat(),
        "deposit_date": settlement.deposit_date.isoformat() if settlement.deposit_date else "",
        "currency": settlement.currency,
        "total": str(settlement.total_amount),
        "marketplace": settlement.marketplace,
    }


def _step_read(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    reports: list[dict[str, str]] = checkpoint["reports"]
    index = int(checkpoint.get("read", 0))
    if index >= len(reports):
        checkpoint["summary"] = check_summary(link, checkpoint)
        return _done(run, checkpoint)
    report = reports[index]
    kept = SettlementFile.objects.filter(link=link, report_id=report["reportId"]).first()
    known = None
    if kept is not None and kept.settlement_id:
        known = Settlement.objects.filter(link=link, settlement_id=kept.settlement_id).first()
    if kept is not None and kept.error:
        found = {"error": kept.error}
    elif known is not None:
        found = _settlement_summary(known)
    else:
        if kept is None:
            waiting = _limited(run, link, "getReportDocument")
            if waiting is not None:
                return waiting
            account = link.seller_account
            assert account is not None
            kept = report_keep(link, report, report_fetch(account, report))
        found = _file_summary(kept)
    checkpoint["found"] = {**checkpoint.get("found", {}), report["reportId"]: found}
    checkpoint["read"] = index + 1
    return _save(run, checkpoint, pulled=F("pulled") + 1)


def _synced(link: Link, marketplace: str) -> bool:
    """Reports list every marketplace of the region; the link posts those the user chose."""
    account = link.seller_account
    chosen = set(account.marketplace_ids or []) if account is not None else set()
    return not chosen or not marketplace or marketplace_id(marketplace) in chosen


def check_summary(link: Link, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """Per settlement of the range: new, already posted, waiting, held or not synced."""
    now = timezone.now()
    found: dict[str, dict[str, Any]] = checkpoint.get("found", {})
    copies: dict[str, list[dict[str, str]]] = {}
    latest: dict[str, dict[str, Any]] = {}
    refused = []
    for report in checkpoint.get("reports", []):
        summary = found.get(report["reportId"]) or {}
        if "error" in summary:
            refused.append({"reportId": report["reportId"], "error": summary["error"]})
            continue
        sid = summary["settlement_id"]
        copies.setdefault(sid, []).append(report)
        latest[sid] = summary  # reports are oldest first: the latest copy wins
    hub = {
        s.settlement_id: s for s in Settlement.objects.filter(link=link, settlement_id__in=latest)
    }
    sent = set(
        LedgerEntry.objects.filter(
            link=link, amazon_id__in=list(latest), kind__in=KINDS, status__in=SENT
        ).values_list("amazon_id", flat=True)
    )
    rows = []
    for sid, summary in latest.items():
        status, note = _status(link, summary, hub.get(sid), sent=sid in sent, now=now)
        rows.append({**summary, "status": status, "note": note, "reports": copies[sid]})
    rows.sort(key=lambda r: (r["end"], r["settlement_id"]))
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUS_WORDS}
    return {"settlements": len(rows), **counts, "rows": rows, "refused": refused}


def _status(
    link: Link,
    summary: dict[str, Any],
    settlement: Settlement | None,
    *,
    sent: bool,
    now: datetime,
) -> tuple[str, str]:
    if sent or (settlement is not None and settlement.state == Settlement.State.BUILT):
        return POSTED, ""
    if settlement is not None and settlement.state == Settlement.State.HELD:
        return HELD, settlement.held_reason
    if not _synced(link, summary["marketplace"]):
        return IGNORED, (
            f"{summary['marketplace']} is not among the marketplaces you sync: choose it under "
            "Connections to post it."
        )
    deposit = _iso(summary["deposit_date"]) if summary["deposit_date"] else None
    final = final_after(end=_iso(summary["end"]), deposit_date=deposit)
    if now < final:
        return WAITING, f"Posts once Amazon's deposit is final ({final:%d %b %Y %H:%M} UTC)."
    return NEW, ""


def _step_ingest(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    reports: list[dict[str, str]] = checkpoint["reports"]
    index = int(checkpoint.get("ingested", 0))
    if index >= len(reports):
        checkpoint["phase"] = "build"
        return _save(run, checkpoint)
    report = reports[index]
    kept = SettlementFile.objects.filter(link=link, report_id=report["reportId"]).first()
    raw = b""
    if kept is None:  # not kept by the check (e.g. removed since): download it now
        waiting = _limited(run, link, "getReportDocument")
        if waiting is not None:
            return waiting
        account = link.seller_account
        assert account is not None
        raw = report_fetch(account, report)
    with transaction.atomic():
        file = kept if kept is not None else report_keep(link, report, raw)
        ingested = settlement_file_ingest(file)
        if ingested.error:
            refused = {"reportId": report["reportId"], "error": ingested.error[:500]}
            checkpoint["refused"] = [*checkpoint.get("refused", []), refused]
        checkpoint["ingested"] = index + 1
        return _save(run, checkpoint, pulled=F("pulled") + 1)


def _step_build(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    new: list[str] = checkpoint["new"]
    index = int(checkpoint.get("built", 0))
    if index >= len(new):
        checkpoint["phase"] = "track"
        return _save(run, checkpoint)
    sid = new[index]
    settlement = (
        Settlement.objects.select_related("link__xero_tenant", "link__seller_account", "file")
        .filter(link=link, settlement_id=sid)
        .first()
    )
    checkpoint["built"] = index + 1
    if settlement is None:  # no copy of it could be read
        checkpoint["build_failed"] = int(checkpoint.get("build_failed", 0)) + 1
        return _save(run, checkpoint, failed=checkpoint["build_failed"])
    in_ledger = settlement_entries(settlement).filter(status__in=SENT).exists()
    if in_ledger or settlement.state == Settlement.State.BUILT:
        return _save(run, checkpoint, skipped=F("skipped") + 1)
    built = settlement_build(settlement, run=run)
    if built.state != Settlement.State.BUILT:
        # Held by the mapping (or no longer postable): it waits on the list with its reason.
        checkpoint["build_held"] = int(checkpoint.get("build_held", 0)) + 1
        return _save(run, checkpoint, held=checkpoint["build_held"])
    checkpoint["posting"] = [*checkpoint.get("posting", []), sid]
    return _save(run, checkpoint)


def _step_track(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    outcome = posting_outcome(link, checkpoint.get("posting", []))
    fields = {
        "posted": outcome.posted,
        "failed": outcome.failed + int(checkpoint.get("build_failed", 0)),
        "held": outcome.held + int(checkpoint.get("build_held", 0)),
    }
    if outcome.open:
        for kind in outcome.open_kinds:
            push_enqueue(link_id=link.pk, kind=kind)
        step = _save(run, checkpoint, **fields)
        return Step(more=True, step=step.step, wait=TRACK_EVERY, note="posting")
    refused = checkpoint.get("refused") or []
    error = "; ".join(f"report {r['reportId']}: {r['error']}" for r in refused)[:2000]
    return _done(run, checkpoint, error=error, **fields)


@dataclass(frozen=True)
class Outcome:
    posted: int
    failed: int
    held: int
    open: int
    open_kinds: tuple[str, ...]


def posting_outcome(link: Link, settlement_ids: list[str]) -> Outcome:
    """Settlements whose documents all posted, any failed or held, or still on the way."""
    entries = LedgerEntry.objects.filter(
        link=link, amazon_id__in=settlement_ids, kind__in=KINDS
    ).values_list("amazon_id", "kind", "status")
    by_settlement: dict[str, set[str]] = {sid: set() for sid in settlement_ids}
    open_kinds: set[str] = set()
    for sid, kind, status in entries:
        by_settlement[sid].add(status)
        if status == EntryStatus.PENDING:
            open_kinds.add(kind)
    posted = failed = held = open_ = 0
    for statuses in by_settlement.values():
        if EntryStatus.FAILED in statuses:
            failed += 1
        elif EntryStatus.HELD in statuses:
            held += 1
        elif statuses & {EntryStatus.PENDING, EntryStatus.SENDING}:
            open_ += 1
        else:
            posted += 1
    return Outcome(posted, failed, held, open_, tuple(sorted(open_kinds)))


# --------------------------------------------------------------------------- pages


def run_progress(run: Run) -> dict[str, Any]:
    """A check's or an import's state for its progress bar (JSON, and the first render)."""
    checkpoint = run.checkpoint or {}
    mode = str(checkpoint.get("mode") or "")
    phase = str(checkpoint.get("phase") or "")
    finished = run.status not in ACTIVE
    reports = len(checkpoint.get("reports") or [])
    percent: int | None
    if run.status == RunStatus.DONE:
        percent = 100
    elif mode == "preview":
        read = int(checkpoint.get("read", 0))
        percent = min(99, round(100 * read / reports)) if phase == "read" and reports else None
    else:
        units = reports + run.total
        done = run.pulled + run.posted + run.failed + run.held + run.skipped
        percent = min(99, round(100 * done / units)) if units else 0
    if finished:
        text = {
            RunStatus.DONE: "Done",
            RunStatus.FAILED: "Stopped",
            RunStatus.CANCELLED: "Stopped",
        }.get(RunStatus(run.status), str(run.status))
    else:
        text = PHASES.get(phase, "Starting")
    if mode == "preview":
        detail = (
            f"{run.pulled} of {reports} report{'' if reports == 1 else 's'} read"
            if phase != "list"
            else f"{checkpoint.get('pages', 0)} page{'' if checkpoint.get('pages') == 1 else 's'}"
            " of reports listed"
        )
    else:
        detail = (
            f"{run.posted} posted, {run.skipped} already posted before, {run.held} held, "
            f"{run.failed} failed (of {run.total})"
        )
    return {
        "id": run.pk,
        "mode": mode,
        "status": run.status,
        "finished": finished,
        "phase": phase,
        "percent": percent,
        "line": f"{text}: {detail}.",
        "error": run.error,
        "pulled": run.pulled,
        "total": run.total,
        "posted": run.posted,
        "skipped": run.skipped,
        "held": run.held,
        "failed": run.failed,
    }


def preview_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The check's settlements as the page lists them (dates and money parsed back)."""
    return [
        {
            **row,
            "start": _iso(row["start"]),
            "end": _iso(row["end"]),
            "deposit_date": _iso(row["deposit_date"]) if row["deposit_date"] else None,
            "total": Decimal(row["total"]),
            "status_words": STATUS_WORDS[row["status"]],
        }
        for row in summary.get("rows") or []
    ]


def count_sentence(summary: dict[str, Any]) -> str:
    """ "N settlements in this range: M already posted, K new" (and what else there is)."""
    n = int(summary.get("settlements", 0))
    parts = [f"{summary.get(POSTED, 0)} already posted", f"{summary.get(NEW, 0)} new"]
    if summary.get(WAITING):
        parts.append(f"{summary[WAITING]} waiting for the deposit")
    if summary.get(HELD):
        parts.append(f"{summary[HELD]} held")
    if summary.get(IGNORED):
        what = "marketplace" if summary[IGNORED] == 1 else "marketplaces"
        parts.append(f"{summary[IGNORED]} of {what} you do not sync")
    return f"{n} settlement{'' if n == 1 else 's'} in this range: {', '.join(parts)}"


def import_context(link: Link) -> dict[str, Any]:
    """The import page's runs: the active one, the latest check, the last import."""
    runs = list(
        Run.objects.filter(
            link=link, kind=RunKind.SETTLEMENTS, checkpoint__mode__in=list(RANGE_MODES)
        ).order_by("-created_at")[:20]
    )
    active = next((r for r in runs if r.status in ACTIVE), None)
    latest_import = next((r for r in runs if r.checkpoint.get("mode") == "import"), None)
    latest_check = next((r for r in runs if r.checkpoint.get("mode") == "preview"), None)
    if latest_check and latest_import and latest_check.created_at < latest_import.created_at:
        latest_check = None
    preview = latest_check if latest_check and latest_check.status == RunStatus.DONE else None
    stopped = (
        latest_check
        if latest_check
        and latest_check.status
        in (
            RunStatus.FAILED,
            RunStatus.CANCELLED,
        )
        else None
    )
    summary = (preview.checkpoint.get("summary") or {}) if preview else {}
    return {
        "active": _row(active) if active else None,
        "preview": _row(preview) if preview else None,
        "stopped_check": _row(stopped) if stopped else None,
        "summary": summary,
        "sentence": count_sentence(summary) if preview else "",
        "rows": preview_rows(summary) if preview else [],
        "latest_import": _row(latest_import) if latest_import else None,
        "other_active": Run.objects.filter(link=link, kind=RunKind.SETTLEMENTS, status__in=ACTIVE)
        .exclude(checkpoint__mode__in=list(RANGE_MODES))
        .exists(),
    }


def _row(run: Run) -> dict[str, Any]:
    """A run for the page: its progress and its range as days (the end is exclusive)."""
    last = run.range_end - timedelta(microseconds=1) if run.range_end else None
    return {"run": run, "first_day": run.range_start, "last_day": last, **run_progress(run)}


def earliest_day(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=EARLIEST_DAYS)

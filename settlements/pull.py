"""Settlement reports from the Reports API: one call per step, checkpointed on the run.

Amazon generates settlement reports itself at each settlement close; they cannot be requested
(createReport answers "Request for report type 1118 is not allowed"), only found and
downloaded (reference note amazon-api.md §6):
1. list: ``getReports`` for the V2 flat file (and the older flat file, for settlements that
   exist only in that layout), ``processingStatuses=DONE``, ``createdSince`` at most 90 days
   back; with ``nextToken``, only ``nextToken`` is sent. Each page's reports are added to the
   run's checkpoint (the next token, and the reports still to download) before the next call.
2. download: ``getReportDocument`` gives a URL valid for 5 minutes and whether the file is
   gzipped; the file is fetched, decompressed and kept as received, then read.
A report whose settlement was already downloaded in the V2 layout is not fetched again in the
older one; a report a range check kept without reading it (``settlements.history``) is read
from the kept copy, without a call. Every SP-API call first takes a token from the per-seller,
per-operation limiter (``sp_wait``): when it says wait, the step returns the wait and the
task re-queues itself.
Runs of a user's date range (check, import) are runs of the same kind advanced by the same
task: ``pull_step`` hands them to ``settlements.history.range_step``.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connectors import http, limits
from connectors.amazon_sp.client import sp_request
from connectors.models import AmazonSellerAccount, Link
from settlements.models import Settlement, SettlementFile
from settlements.parser import REPORT_TYPES, V2
from settlements.services import (
    Ingested,
    settings_for,
    settlement_file_ingest,
    settlement_file_store,
    settlements_build_due,
)
from sync.models import Run, RunKind, RunStatus

log = logging.getLogger(__name__)

REPORTS_PATH = "/reports/2021-06-30/reports"
RETENTION = timedelta(days=90)
# createdSince may not reach back beyond 90 days: keep a margin for clocks and slow queues.
LOOKBACK = RETENTION - timedelta(hours=1)
# Each pull lists again from a little before the last one ended: a report Amazon created late
# (its createdTime earlier than our last listing) is still found; known reports are skipped.
OVERLAP = timedelta(days=3)
PAGE_SIZE = 100
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
V2_TYPE = REPORT_TYPES[V2]
TYPES = (V2_TYPE, REPORT_TYPES["flat"])
# Runs of a user's date range (``settlements.history``) share the kind, the task and the steps.
RANGE_MODES = ("preview", "import")


class PullError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class Step:
    more: bool
    wait: float = 0.0
    step: int = 0
    note: str = ""


def pull_start(*, link: Link, now: datetime | None = None) -> Run:
    """Start a settlements pull for a link (one at a time); the caller queues its first step."""
    if link.seller_account is None:
        raise PullError("Settlement reports come from Seller Central; this link has none.")
    if link.pause_reason:
        raise PullError(link.pause_reason)
    now = now or timezone.now()
    options = settings_for(link)
    earliest = now - LOOKBACK
    since = max(earliest, options.listed_through - OVERLAP) if options.listed_through else earliest
    with transaction.atomic():
        running = Run.objects.filter(link=link, kind=RunKind.SETTLEMENTS, status__in=ACTIVE)
        found = running.first()
        if found is not None:
            if found.checkpoint.get("mode") in RANGE_MODES:
                raise PullError(
                    "A check or import of a date range is running for this link; new "
                    "settlements are fetched once it has finished."
                )
            return found
        return Run.objects.create(
            link=link,
            kind=RunKind.SETTLEMENTS,
            status=RunStatus.QUEUED,
            range_start=since,
            range_end=now,
            checkpoint={
                "step": 0,
                "at": now.isoformat(),
                "since": since.isoformat(),
                "next_token": None,
                "listed": False,
                "pending": [],
            },
        )


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _save(run: Run, checkpoint: dict[str, Any], **fields: Any) -> None:
    checkpoint["step"] = int(checkpoint.get("step", 0)) + 1
    checkpoint["at"] = timezone.now().isoformat()
    run.checkpoint = checkpoint
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["checkpoint", *fields])


def _finish(run: Run, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])


def pull_step(*, run_id: int, step: int) -> Step:
    """Take the run's next step (one SP-API call at most). A duplicate task is a no-op."""
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("link").get(pk=run_id)
        if run.status not in ACTIVE or int(run.checkpoint.get("step", 0)) != step:
            return Step(more=False, step=int(run.checkpoint.get("step", 0)), note="stale step")
        if run.status == RunStatus.QUEUED:
            run.status, run.started_at = RunStatus.RUNNING, timezone.now()
            run.save(update_fields=["status", "started_at"])
    link = Link.objects.select_related("seller_account", "xero_tenant__grant", "customer").get(
        pk=run.link_id
    )
    if link.pause_reason:
        _finish(run, RunStatus.CANCELLED, link.pause_reason)
        return Step(more=False, note=link.pause_reason)
    checkpoint = dict(run.checkpoint)
    try:
        if checkpoint.get("mode") in RANGE_MODES:
            from settlements.history import range_step

            return range_step(run, link, checkpoint)
        if checkpoint.get("pending"):
            return _download(run, link, checkpoint)
        if not checkpoint.get("listed"):
            return _list_page(run, link, checkpoint)
    except http.AuthRejected as exc:
        _finish(run, RunStatus.FAILED, exc.message)
        return Step(more=False, note=exc.message)
    except http.RetryLater as exc:
        wait = max(exc.decision.wait, 1.0)
        return Step(more=True, wait=wait, step=step, note=f"retry: {exc.message}")
    except http.Rejected as exc:
        who = "Xero" if exc.provider == "xero" else "Amazon"  # a range import reads Xero too
        message = f"{who} refused the request: {exc.message}"
        _finish(run, RunStatus.FAILED, message)
        return Step(more=False, note=message)
    return _complete(run, link)


def reports_request(account: AmazonSellerAccount, params: dict[str, Any]) -> dict[str, Any]:
    """One getReports page (the caller has taken the limiter's token).

    Reference: https://developer-docs.amazon.com/sp-api/docs/reports-api-v2021-06-30-reference#getreports
    """
    body: dict[str, Any] = sp_request(
        account, "getReports", "GET", REPORTS_PATH, params=params
    ).json()
    return body


def report_params(*, since: datetime, token: str | None) -> dict[str, Any]:
    if token:
        return {"nextToken": token}  # Amazon takes nothing else with a nextToken
    return {
        "reportTypes": ",".join(TYPES),
        "processingStatuses": "DONE",
        "createdSince": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pageSize": PAGE_SIZE,
    }


def report_entry(report: Any) -> dict[str, str] | None:
    """What a run keeps of a listed settlement report; None for one that cannot be downloaded."""
    if not isinstance(report, dict) or report.get("reportType") not in TYPES:
        return None
    if report.get("processingStatus") != "DONE" or not report.get("reportDocumentId"):
        return None
    return {
        "reportId": str(report["reportId"]),
        "reportType": str(report["reportType"]),
        "reportDocumentId": str(report["reportDocumentId"]),
        "createdTime": str(report.get("createdTime") or ""),
        "dataStartTime": str(report.get("dataStartTime") or ""),
        "dataEndTime": str(report.get("dataEndTime") or ""),
    }


def read_files(link: Link) -> QuerySet[SettlementFile]:
    """The link's kept files that were read (or refused); a file kept unread is read later."""
    return SettlementFile.objects.filter(link=link).exclude(settlement_id="", error="")


def _list_page(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    account = link.seller_account
    assert account is not None
    wait = limits.sp_wait(account.selling_partner_id, "getReports")
    if wait > 0:
        return Step(more=True, wait=wait, step=int(checkpoint["step"]), note="getReports limit")
    params = report_params(since=_iso(checkpoint["since"]), token=checkpoint.get("next_token"))
    body = reports_request(account, params)
    entries = [e for e in map(report_entry, body.get("reports") or []) if e is not None]
    known = set(
        read_files(link)
        .filter(report_id__in=[e["reportId"] for e in entries])
        .values_list("report_id", flat=True)
    )
    listed: list[dict[str, Any]] = list(checkpoint.get("listing") or [])
    listed.extend(e for e in entries if e["reportId"] not in known)
    checkpoint["next_token"] = body.get("nextToken") or None
    checkpoint["pages"] = int(checkpoint.get("pages", 0)) + 1
    if checkpoint["next_token"] is None:
        checkpoint["listed"] = True
        checkpoint["pending"] = _to_download(listed)
        checkpoint.pop("listing", None)
        _save(run, checkpoint)
    else:
        checkpoint["listing"] = listed
        _save(run, checkpoint)
    return Step(more=True, step=int(checkpoint["step"]))


def _to_download(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first; the older layout only where no V2 report covers the same period."""
    v2_periods = {
        (r["dataStartTime"], r["dataEndTime"]) for r in listed if r["reportType"] == V2_TYPE
    }
    chosen = [
        r
        for r in listed
        if r["reportType"] == V2_TYPE or (r["dataStartTime"], r["dataEndTime"]) not in v2_periods
    ]
    return sorted(chosen, key=lambda r: (r["createdTime"], r["reportId"]))


def report_fetch(account: AmazonSellerAccount, report: dict[str, Any]) -> bytes:
    """A listed report's file, as Amazon issued it (decompressed); the caller took the token.

    Reference: https://developer-docs.amazon.com/sp-api/docs/reports-api-v2021-06-30-reference#getreportdocument
    """
    document = sp_request(
        account,
        "getReportDocument",
        "GET",
        f"/reports/2021-06-30/documents/{report['reportDocumentId']}",
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
    compressed = str(document.get("compressionAlgorithm") or "").upper() == "GZIP"
    if compressed or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw


def report_keep(link: Link, report: dict[str, Any], raw: bytes) -> SettlementFile:
    """Keep a downloaded report exactly as received (the same report again is the kept one)."""
    created = report.get("createdTime") or ""
    file, _ = settlement_file_store(
        link=link,
        raw=raw,
        source=SettlementFile.Source.REPORT,
        file_name=f"{report['reportId']}.txt",
        issued_at=_iso(created) if created else timezone.now(),
        report_id=report["reportId"],
        report_document_id=report["reportDocumentId"],
        report_type=report["reportType"],
    )
    return file


def _download(run: Run, link: Link, checkpoint: dict[str, Any]) -> Step:
    account = link.seller_account
    assert account is not None
    pending: list[dict[str, Any]] = list(checkpoint["pending"])
    report = pending[0]
    kept = SettlementFile.objects.filter(link=link, report_id=report["reportId"]).first()
    if kept is not None and (kept.settlement_id or kept.error):
        checkpoint["pending"] = pending[1:]
        _save(run, checkpoint)
        return Step(more=True, step=int(checkpoint["step"]))
    raw = b""
    if kept is None:  # else a range check kept it unread: read that copy, without a call
        wait = limits.sp_wait(account.selling_partner_id, "getReportDocument")
        if wait > 0:
            return Step(more=True, wait=wait, step=int(checkpoint["step"]), note="document limit")
        raw = report_fetch(account, report)
    with transaction.atomic():
        file = kept if kept is not None else report_keep(link, report, raw)
        ingested: Ingested = settlement_file_ingest(file)
        checkpoint["pending"] = pending[1:]
        if ingested.error:
            checkpoint.setdefault("refused", []).append(
                {"reportId": report["reportId"], "error": ingested.error[:500]}
            )
        elif ingested.settlement is not None and (ingested.created or ingested.replaced):
            checkpoint.setdefault("settlements", []).append(ingested.settlement.pk)
        _save(run, checkpoint, pulled=run.pulled + 1)
    log.info(
        "settlement report link=%s report=%s settlement=%s %s",
        link.pk,
        report["reportId"],
        ingested.file.settlement_id or "-",
        "refused: " + ingested.error if ingested.error else "kept",
    )
    return Step(more=True, step=int(checkpoint["step"]))


def _complete(run: Run, link: Link) -> Step:
    """Every report listed and downloaded: build what is final, remember how far we got."""
    options = settings_for(link)
    started = run.range_end or run.created_at
    try:
        built = settlements_build_due(link)
    except http.RetryLater as exc:
        # The chart could not be read (limiter): finish later, nothing is lost.
        return Step(
            more=True,
            wait=max(exc.decision.wait, 1.0),
            step=int(run.checkpoint.get("step", 0)),
            note=f"chart: {exc.message}",
        )
    options.listed_through = started
    options.last_pull_at = timezone.now()
    options.save(update_fields=["listed_through", "last_pull_at"])
    refused = run.checkpoint.get("refused") or []
    error = ""
    if refused:
        error = "; ".join(f"report {r['reportId']}: {r['error']}" for r in refused)[:2000]
    # What the run's reports became: in the ledger, held, refused, or nothing new / waiting.
    states = list(
        Settlement.objects.filter(pk__in=run.checkpoint.get("settlements") or []).values_list(
            "state", flat=True
        )
    )
    run.total = run.pulled
    run.posted = states.count(Settlement.State.BUILT)
    run.held = states.count(Settlement.State.HELD)
    run.failed = len(refused)
    run.skipped = max(run.total - run.posted - run.held - run.failed, 0)
    run.save(update_fields=["total", "posted", "held", "failed", "skipped"])
    _finish(run, RunStatus.DONE, error)
    return Step(more=False, note=f"built {built}")

"""What the purchases pages show: read-only selectors over the link's runs, ledger and notices."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils.text import slugify

from connectors import http
from connectors.models import Link
from hub.models import Customer
from hub.tenancy import Access
from mappings.services import chart_for
from mappings.transforms.business import cost_centre
from purchases.forms import CostCentreForm, ImportRangeForm, SyncSettingsForm
from purchases.models import PurchaseNotice, PurchaseSettings, PurchaseTransaction
from purchases.services import (
    ACTIVE,
    held_by_reason,
    latest_runs,
    run_counts,
    settings_for,
)
from sync.models import EntryStatus, LedgerEntry, Run, RunKind, RunStatus

PHASES = {
    "transactions": "Reading purchases from Amazon Business",
    "invoices": "Checking Pay by Invoice payments with Amazon",
    "post": "Preparing documents for Xero",
    "track": "Posting to Xero",
    "summary": "Counting",
}
MODES = {"preview": "Check", "import": "Historical import", "sync": "Sync"}
RECENT = 50
COST_CENTRE_SCAN = 2000


def mapping_url(link: Link) -> str:
    """The link's mapping page, where a card or category is mapped ('' if there is none)."""
    try:
        return reverse("mapping", kwargs={"code": link.customer.code, "link_id": link.pk})
    except NoReverseMatch:
        return ""


CARD_REASON = re.compile(r"card ending (\d{4})")


def fix_url(link: Link, reason: str) -> str:
    """Where a held reason is fixed: the card's row on the mapping page when it is a card."""
    base = mapping_url(link)
    if not base:
        return ""
    card = CARD_REASON.search(reason)
    return f"{base}#row-{slugify('card:' + card.group(1))}" if card else base


def held_rows(link: Link) -> list[tuple[str, int, str]]:
    """(reason, count, where to fix it) for the link's held documents."""
    return [(reason, n, fix_url(link, reason)) for reason, n in held_by_reason(link)]


def run_progress(run: Run) -> dict[str, Any]:
    """A run's state for the progress bar (JSON)."""
    checkpoint = run.checkpoint or {}
    mode = str(checkpoint.get("mode") or "")
    counts = run_counts(run)
    done = run.status == RunStatus.DONE
    finished = run.status not in ACTIVE
    percent: int | None
    if done:
        percent = 100
    elif mode == "preview":
        percent = None  # the number of pages is unknown until the last one
    elif run.total:
        handled = counts["posted"] + counts["failed"] + counts["held"] + run.skipped
        percent = min(99, round(100 * handled / run.total))
    else:
        percent = 0
    phase = str(checkpoint.get("phase") or "")
    if finished:
        text = {
            RunStatus.DONE: "Done",
            RunStatus.FAILED: "Stopped",
            RunStatus.CANCELLED: "Cancelled",
        }.get(RunStatus(run.status), run.status)
    else:
        text = PHASES.get(phase, "Starting")
    return {
        "id": run.pk,
        "mode": mode,
        "status": run.status,
        "finished": finished,
        "phase": phase,
        "text": text,
        "percent": percent,
        "pulled": run.pulled,
        "pages": int(checkpoint.get("pages", 0)),
        "total": run.total,
        "posted": counts["posted"],
        "failed": counts["failed"],
        "held": counts["held"],
        "open": counts["open"],
        "skipped": run.skipped,
        "note": str(checkpoint.get("note") or ""),
        "error": run.error,
        "summary": checkpoint.get("summary") or {},
    }


def _run_row(run: Run) -> dict[str, Any]:
    return {
        "run": run,
        "mode_label": MODES.get(run.checkpoint.get("mode", ""), ""),
        **run_progress(run),
    }


def import_context(access: Access, link: Link, *, form: ImportRangeForm) -> dict[str, Any]:
    runs = list(Run.objects.filter(link=link, kind=RunKind.BUSINESS).order_by("-created_at")[:20])
    active = next((r for r in runs if r.status in ACTIVE), None)
    latest_import = next((r for r in runs if r.checkpoint.get("mode") == "import"), None)
    preview = next(
        (
            r
            for r in runs
            if r.checkpoint.get("mode") == "preview"
            and r.status == RunStatus.DONE
            and (latest_import is None or r.created_at > latest_import.created_at)
        ),
        None,
    )
    return {
        "customer": access.customer,
        "access": access,
        "link": link,
        "form": form,
        "active": _run_row(active) if active else None,
        "preview": _run_row(preview) if preview else None,
        "latest_import": _run_row(latest_import) if latest_import else None,
        "held": held_rows(link),
        "mapping_url": mapping_url(link),
    }


@dataclass
class TrackingChoices:
    options: list[tuple[str, str]] = field(default_factory=list)
    problem: str = ""


def tracking_choices(link: Link) -> TrackingChoices:
    """Active tracking options of the tenant (from the mapping's cached chart)."""
    try:
        read = chart_for(link.xero_tenant)
    except http.ProviderError as exc:
        return TrackingChoices(
            problem=f"Xero's tracking categories could not be read: {exc.message}"
        )
    return TrackingChoices(
        options=[
            (category.name, option)
            for category in read.chart.tracking
            if category.active
            for option in category.active_options()
        ]
    )


def cost_centres_seen(link: Link) -> list[str]:
    """Cost centres requisitioners entered on the link's recent purchases."""
    found: set[str] = set()
    rows = PurchaseTransaction.objects.filter(link=link).order_by("-feed_date")
    for data in rows.values_list("data", flat=True)[:COST_CENTRE_SCAN]:
        for item in data.get("transactionLineItems") or []:
            if isinstance(item, dict):
                centre = cost_centre(item)
                if centre:
                    found.add(centre)
    return sorted(found)


def current_cost_centres(link: Link) -> dict[str, list[list[str]]]:
    return dict(settings_for(link).cost_centre_tracking or {})


def current_settings(link: Link) -> PurchaseSettings:
    return settings_for(link)


def overview_context(
    access: Access,
    link: Link,
    *,
    settings_form: SyncSettingsForm | None = None,
    cost_centre_form: CostCentreForm | None = None,
) -> dict[str, Any]:
    settings = settings_for(link)
    centres = cost_centres_seen(link)
    chart = TrackingChoices()
    if cost_centre_form is None and centres:
        chart = tracking_choices(link)
        if not chart.problem:
            cost_centre_form = CostCentreForm(
                cost_centres=centres,
                options=chart.options,
                current=current_cost_centres(link),
            )
    recent = list(
        PurchaseTransaction.objects.filter(link=link)
        .select_related("entry", "payment_entry")
        .order_by("-feed_date", "-id")[:RECENT]
    )
    status_counts = dict(
        LedgerEntry.objects.filter(link=link)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "customer": access.customer,
        "access": access,
        "link": link,
        "settings": settings,
        "settings_form": settings_form
        or SyncSettingsForm(
            initial={
                "enabled": settings.sync_enabled,
                "interval_minutes": settings.sync_interval_minutes,
            }
        ),
        "cost_centre_form": cost_centre_form,
        "cost_centre_problem": chart.problem,
        "held": held_rows(link),
        "notices": list(PurchaseNotice.objects.filter(link=link)[:10]),
        "runs": [_run_row(r) for r in latest_runs(link)],
        "recent": recent,
        "changed": list(
            PurchaseTransaction.objects.filter(link=link, changed_after_post=True)[:20]
        ),
        "transactions": PurchaseTransaction.objects.filter(link=link).count(),
        "status_counts": {
            "posted": status_counts.get(EntryStatus.POSTED, 0),
            "held": status_counts.get(EntryStatus.HELD, 0),
            "failed": status_counts.get(EntryStatus.FAILED, 0),
            "waiting": status_counts.get(EntryStatus.PENDING, 0)
            + status_counts.get(EntryStatus.SENDING, 0),
        },
        "mapping_url": mapping_url(link),
    }


@dataclass(frozen=True)
class Alert:
    link: Link
    reason: str
    count: int
    url: str
    purchases_url: str


def business_alerts(customer: Customer) -> list[Alert]:
    """Held purchases per link and reason ("Map the card ending 4242 …"), for the dashboard."""
    alerts: list[Alert] = []
    links = Link.objects.filter(customer=customer, business_account__isnull=False).select_related(
        "business_account", "customer"
    )
    for link in links:
        purchases_url = reverse("purchases", kwargs={"code": customer.code, "link_id": link.pk})
        for reason, count, url in held_rows(link):
            alerts.append(Alert(link, reason, count, url or purchases_url, purchases_url))
    return alerts


def history_step(links: list[Link]) -> tuple[bool, str | None]:
    """The set-up stepper's "Import history" step for Amazon Business links: (done, url)."""
    business = [link for link in links if link.business_account_id is not None]
    if not business:
        return False, None
    done = Run.objects.filter(
        link__in=business,
        kind=RunKind.BUSINESS,
        status=RunStatus.DONE,
        checkpoint__mode="import",
    ).exists()
    first = business[0]
    return done, reverse(
        "purchases-import", kwargs={"code": first.customer.code, "link_id": first.pk}
    )

"""The manage-integrations pages: a link's health and actions, runs and the ledger."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from connectors.models import Link
from hub.tenancy import customer_for_request
from sync.dispatch import link_sync_now
from sync.errors import fix_for
from sync.ledger import entries_retry, link_retry_failed
from sync.links_out import amazon_url, xero_url
from sync.models import DocumentKind, EntryStatus, LedgerEntry, Run
from sync.tasks import rollback_entries_task

STATUSES = [s.value for s in EntryStatus]


def _link(request: HttpRequest, code: str, link_id: int, *, owner_only: bool = False) -> Link:
    access = customer_for_request(request, code, owner_only=owner_only)
    return get_object_or_404(
        Link.objects.select_related("xero_tenant__grant", "seller_account", "business_account"),
        pk=link_id,
        customer=access.customer,
    )


def counts_by_kind(link: Link) -> list[dict[str, object]]:
    rows = (
        LedgerEntry.objects.filter(link=link)
        .values("kind")
        .annotate(**{s: Count("id", filter=Q(status=s)) for s in STATUSES})
    )
    labels = dict(DocumentKind.choices)
    counted: list[dict[str, Any]] = list(rows)  # type: ignore[arg-type]
    return [{"kind": labels[r["kind"]], **{s: r[s] for s in STATUSES}} for r in counted]


def _decorate(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    for entry in entries:
        entry.xero_link = xero_url(entry)  # type: ignore[attr-defined]
        entry.amazon_link = amazon_url(entry)  # type: ignore[attr-defined]
        entry.fix = fix_for(entry.last_error) if entry.last_error else ""  # type: ignore[attr-defined]
    return entries


@login_required
def link_detail(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code)
    link = _link(request, code, link_id)
    problems = _decorate(
        list(
            LedgerEntry.objects.filter(link=link, status__in=[EntryStatus.FAILED, EntryStatus.HELD])
            .select_related("link__xero_tenant", "parent")
            .order_by("-updated_at")[:50]
        )
    )
    return render(
        request,
        "sync/link_detail.html",
        {
            "customer": access.customer,
            "access": access,
            "link": link,
            "counts": counts_by_kind(link),
            "problems": problems,
            "runs": Run.objects.filter(link=link)[:10],
            "last_sync": Run.objects.filter(link=link, finished_at__isnull=False)
            .order_by("-finished_at")
            .first(),
        },
    )


@login_required
def activity(request: HttpRequest, code: str) -> HttpResponse:
    access = customer_for_request(request, code)
    entries = (
        LedgerEntry.objects.filter(link__customer=access.customer)
        .select_related(
            "link__xero_tenant", "link__seller_account", "link__business_account", "parent"
        )
        .order_by("-updated_at")
    )
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if query:
        entries = entries.filter(
            Q(amazon_id__icontains=query)
            | Q(xero_number__icontains=query)
            | Q(lookup_number__icontains=query)
        )
    if status in STATUSES:
        entries = entries.filter(status=status)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    _decorate(list(page.object_list))
    runs = Run.objects.filter(link__customer=access.customer).select_related("link")[:20]
    return render(
        request,
        "sync/activity.html",
        {
            "customer": access.customer,
            "access": access,
            "page": page,
            "query": query,
            "status": status,
            "statuses": EntryStatus.choices,
            "runs": runs,
        },
    )


@login_required
def run_progress(request: HttpRequest, code: str, run_id: int) -> JsonResponse:
    access = customer_for_request(request, code)
    run = get_object_or_404(Run, pk=run_id, link__customer=access.customer)
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "progress": run.progress,
            "posted": run.posted,
            "failed": run.failed,
            "held": run.held,
            "skipped": run.skipped,
            "total": run.total,
            "label": run.label,
        }
    )


@login_required
@require_POST
def link_action(request: HttpRequest, code: str, link_id: int, action: str) -> HttpResponse:
    link = _link(request, code, link_id, owner_only=True)
    if action == "pause":
        Link.objects.filter(pk=link.pk).update(paused_by_user=True)
        messages.success(
            request,
            f"{link.amazon.name} is paused: nothing is pulled or posted until you resume it.",
        )
    elif action == "resume":
        Link.objects.filter(pk=link.pk).update(paused_by_user=False)
        link.paused_by_user = False
        link_sync_now(link)
        messages.success(request, f"{link.amazon.name} resumed.")
    elif action == "sync":
        if link.pause_reason:
            messages.error(request, f"Nothing started: {link.pause_reason}")
        else:
            started = link_sync_now(link)
            messages.success(request, f"Sync started ({sum(started.values())} task(s) queued).")
    elif action == "retry-failed":
        moved = link_retry_failed(link)
        link_sync_now(link)
        messages.success(request, f"{moved} failed document(s) queued again.")
    else:
        return HttpResponse(status=404)
    return redirect("link-detail", code=code, link_id=link.pk)


@login_required
@require_POST
def entry_action(request: HttpRequest, code: str, entry_id: int, action: str) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    entry = get_object_or_404(
        LedgerEntry.objects.select_related("link"), pk=entry_id, link__customer=access.customer
    )
    if action == "retry":
        moved = entries_retry([entry])
        link_sync_now(entry.link)
        messages.success(
            request, "Queued again." if moved else "Only a failed document can be retried."
        )
    elif action == "rollback":
        # A settlement (or purchase) is every document made from the same Amazon source.
        # Per-order payments and refunds of a settlement carry its id in their part.
        family = list(
            LedgerEntry.objects.filter(link=entry.link, status=EntryStatus.POSTED)
            .filter(Q(amazon_id=entry.amazon_id) | Q(part__startswith=f"{entry.amazon_id}:"))
            .values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: rollback_entries_task.delay(family))
        messages.success(
            request,
            f"Rolling back {len(family)} document(s) for "
            f"{entry.amazon_id} in Xero; re-import it to post it again.",
        )
    else:
        return HttpResponse(status=404)
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        return redirect(next_url)
    return redirect("link-detail", code=code, link_id=entry.link_id)


@login_required
@require_POST
def run_rollback(request: HttpRequest, code: str, run_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    run = get_object_or_404(Run, pk=run_id, link__customer=access.customer)
    ids = list(run.entries.filter(status=EntryStatus.POSTED).values_list("pk", flat=True))
    transaction.on_commit(lambda: rollback_entries_task.delay(ids))
    messages.success(request, f"Rolling back the {len(ids)} document(s) this run posted.")
    return redirect("link-detail", code=code, link_id=run.link_id)

"""Amazon Business purchases pages: the manage page, the historical import, run progress.

Every view starts with the tenancy helper (outsiders get 404); members may look, owners act.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.models import Link
from hub.tenancy import Access, customer_for_request
from purchases import pages
from purchases.forms import CostCentreForm, ImportRangeForm, SyncSettingsForm
from purchases.services import (
    PurchaseError,
    import_preview_start,
    import_start,
    run_cancel,
    settings_update,
    sync_start,
)
from sync.models import Run, RunKind


def _link(
    request: HttpRequest, code: str, link_id: int, *, owner_only: bool = False
) -> tuple[Access, Link]:
    access = customer_for_request(request, code, owner_only=owner_only)
    link = get_object_or_404(
        Link.objects.select_related("xero_tenant__grant", "business_account", "customer"),
        pk=link_id,
        customer=access.customer,
        business_account__isnull=False,
    )
    return access, link


@login_required
@require_GET
def overview(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access, link = _link(request, code, link_id)
    return render(request, "purchases/overview.html", pages.overview_context(access, link))


@login_required
@require_http_methods(["GET", "POST"])
def history_import(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    """Choose a range → check it (a count of what would post) → import it, with progress."""
    access, link = _link(request, code, link_id, owner_only=request.method == "POST")
    form = ImportRangeForm(request.POST or None, initial=ImportRangeForm.defaults())
    if request.method == "POST" and request.POST.get("action") == "start":
        preview = get_object_or_404(
            Run, pk=request.POST.get("preview") or 0, link=link, kind=RunKind.BUSINESS
        )
        try:
            import_start(link=link, preview=preview)
        except PurchaseError as exc:
            messages.error(request, exc.message)
        return redirect("purchases-import", code=code, link_id=link.pk)
    if request.method == "POST" and form.is_valid():
        start, end = form.window()
        try:
            import_preview_start(link=link, start=start, end=end)
        except PurchaseError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("purchases-import", code=code, link_id=link.pk)
    return render(request, "purchases/import.html", pages.import_context(access, link, form=form))


@login_required
@require_GET
def run_progress(request: HttpRequest, code: str, link_id: int, run_id: int) -> JsonResponse:
    _access, link = _link(request, code, link_id)
    run = get_object_or_404(Run, pk=run_id, link=link, kind=RunKind.BUSINESS)
    return JsonResponse(pages.run_progress(run))


@login_required
@require_POST
def run_stop(request: HttpRequest, code: str, link_id: int, run_id: int) -> HttpResponse:
    _access, link = _link(request, code, link_id, owner_only=True)
    run = get_object_or_404(Run, pk=run_id, link=link, kind=RunKind.BUSINESS)
    if run_cancel(run=run):
        messages.success(request, "Stopped. Documents already prepared still post to Xero.")
    back = "purchases-import" if request.POST.get("next") == "import" else "purchases"
    return redirect(back, code=code, link_id=link.pk)


@login_required
@require_POST
def sync_now(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    _access, link = _link(request, code, link_id, owner_only=True)
    try:
        sync_start(link=link)
    except PurchaseError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Reading new purchases from Amazon Business now.")
    return redirect("purchases", code=code, link_id=link.pk)


@login_required
@require_POST
def sync_settings(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access, link = _link(request, code, link_id, owner_only=True)
    form = SyncSettingsForm(request.POST)
    if form.is_valid():
        try:
            settings_update(
                link=link,
                enabled=form.cleaned_data["enabled"],
                interval_minutes=form.cleaned_data["interval_minutes"],
            )
        except PurchaseError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Saved the sync schedule.")
            return redirect("purchases", code=code, link_id=link.pk)
    context = pages.overview_context(access, link, settings_form=form)
    return render(request, "purchases/overview.html", context, status=400)


@login_required
@require_POST
def cost_centres(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access, link = _link(request, code, link_id, owner_only=True)
    chart = pages.tracking_choices(link)
    form = CostCentreForm(
        request.POST,
        cost_centres=pages.cost_centres_seen(link),
        options=chart.options,
        current=pages.current_cost_centres(link),
    )
    if chart.problem:
        form.add_error(None, chart.problem)
    elif form.is_valid():
        settings = pages.current_settings(link)
        settings_update(
            link=link,
            enabled=settings.sync_enabled,
            interval_minutes=settings.sync_interval_minutes,
            cost_centres=form.mapping(),
        )
        messages.success(request, "Saved the cost-centre tracking; unsent purchases use it now.")
        return redirect("purchases", code=code, link_id=link.pk)
    context = pages.overview_context(access, link, cost_centre_form=form)
    return render(request, "purchases/overview.html", context, status=400)

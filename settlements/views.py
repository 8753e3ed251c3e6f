"""The settlements pages of a Seller Central link: the list, uploads, options, actions, and the
import of a date range (check → count → import, with its progress)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors import http
from connectors.models import Link
from hub.tenancy import Access, customer_for_request
from settlements import history, services
from settlements.forms import ImportRangeForm, OptionsForm, UploadForm
from settlements.models import Settlement, SettlementFile
from settlements.pull import RANGE_MODES, PullError
from sync.models import Run, RunKind


def _link(access: Access, link_id: int) -> Link:
    return get_object_or_404(
        Link.objects.select_related("xero_tenant__grant", "seller_account"),
        pk=link_id,
        customer=access.customer,
        seller_account__isnull=False,
    )


def _page(
    request: HttpRequest, access: Access, link: Link, *, form: UploadForm | None = None
) -> HttpResponse:
    options = services.settings_for(link)
    page = Paginator(Settlement.objects.filter(link=link).select_related("file"), 50).get_page(
        request.GET.get("page")
    )
    refused = SettlementFile.objects.filter(link=link).exclude(error="")[:20]
    return render(
        request,
        "settlements/list.html",
        {
            "customer": access.customer,
            "access": access,
            "link": link,
            "page": page,
            "rows": services.settlement_views(list(page.object_list)),
            "refused": refused,
            "form": form or UploadForm(),
            "options": OptionsForm(
                initial={
                    "sync_enabled": options.sync_enabled,
                    "split_month_end": options.split_month_end,
                    "group_by_sku": options.group_by_sku,
                }
            ),
            "settings": options,
        },
    )


@login_required
def settlement_list(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code)
    return _page(request, access, _link(access, link_id))


@login_required
def settlement_upload_view(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    """Settlement files from Seller Central (history beyond Amazon's 90 days)."""
    access = customer_for_request(request, code, owner_only=request.method == "POST")
    link = _link(access, link_id)
    if request.method != "POST":
        return _page(request, access, link)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, access, link, form=form)
    user = request.user if isinstance(request.user, User) else None
    outcome = services.settlements_upload_files(
        link=link, files=form.cleaned_data["settlement_files"], user=user
    )
    for line in outcome.errors:
        messages.error(request, line)
    for line in outcome.done:
        messages.success(request, line)
    return redirect("settlements", code=access.customer.code, link_id=link.pk)


@login_required
@require_POST
def settlement_options(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    link = _link(access, link_id)
    form = OptionsForm(request.POST)
    if form.is_valid():
        changed = services.settlement_options_save(link=link, **form.cleaned_data)
        messages.success(
            request,
            "Settlement options saved."
            + (f" {changed} settlement(s) not yet posted will be rebuilt." if changed else ""),
        )
    return redirect("settlements", code=access.customer.code, link_id=link.pk)


@login_required
@require_POST
def settlement_action(request: HttpRequest, code: str, link_id: int, action: str) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    link = _link(access, link_id)
    message = services.settlement_link_action(link=link, action=action)
    messages.info(request, message)
    return redirect("settlements", code=access.customer.code, link_id=link.pk)


@login_required
def settlement_audit(request: HttpRequest, code: str, settlement_id: int) -> HttpResponse:
    access = customer_for_request(request, code)
    settlement = get_object_or_404(
        Settlement.objects.select_related("file"),
        pk=settlement_id,
        link__customer=access.customer,
    )
    content = services.settlement_audit_csv(settlement)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="amazon-settlement-{settlement.settlement_id}.csv"'
    )
    return response


@login_required
@require_POST
def settlement_repost(request: HttpRequest, code: str, settlement_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    settlement = get_object_or_404(
        Settlement.objects.select_related("link__xero_tenant__grant", "file"),
        pk=settlement_id,
        link__customer=access.customer,
    )
    try:
        services.settlement_repost(settlement)
    except services.SettlementError as exc:
        messages.error(request, exc.message)
    except http.ProviderError as exc:
        messages.error(request, f"Xero could not be read just now ({exc.message}): try again.")
    else:
        messages.success(
            request,
            f"Settlement {settlement.settlement_id} will be posted again under a new number.",
        )
    return redirect("settlements", code=access.customer.code, link_id=settlement.link_id)


@login_required
@require_http_methods(["GET", "POST"])
def settlement_import(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    """Choose a range → check it (what is new, what is already posted) → import the new ones."""
    access = customer_for_request(request, code, owner_only=True)
    link = _link(access, link_id)
    form = ImportRangeForm(request.POST or None, initial=ImportRangeForm.defaults())
    if request.method == "POST" and request.POST.get("action") == "start":
        preview = get_object_or_404(
            Run, pk=request.POST.get("preview") or 0, link=link, kind=RunKind.SETTLEMENTS
        )
        try:
            history.import_start(link=link, preview=preview)
        except PullError as exc:
            messages.error(request, exc.message)
        return redirect("settlements-import", code=code, link_id=link.pk)
    if request.method == "POST" and form.is_valid():
        start, end = form.window()
        try:
            history.check_start(link=link, start=start, end=end)
        except PullError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("settlements-import", code=code, link_id=link.pk)
    context = {
        "customer": access.customer,
        "access": access,
        "link": link,
        "form": form,
        **history.import_context(link),
    }
    return render(request, "settlements/import.html", context)


def _range_run(access: Access, link_id: int, run_id: int) -> Run:
    link = _link(access, link_id)
    return get_object_or_404(
        Run,
        pk=run_id,
        link=link,
        kind=RunKind.SETTLEMENTS,
        checkpoint__mode__in=list(RANGE_MODES),
    )


@login_required
@require_GET
def settlement_import_run(
    request: HttpRequest, code: str, link_id: int, run_id: int
) -> JsonResponse:
    access = customer_for_request(request, code, owner_only=True)
    return JsonResponse(history.run_progress(_range_run(access, link_id, run_id)))


@login_required
@require_POST
def settlement_import_stop(
    request: HttpRequest, code: str, link_id: int, run_id: int
) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    run = _range_run(access, link_id, run_id)
    if history.run_cancel(run=run):
        messages.success(request, "Stopped. Documents already in the ledger still post to Xero.")
    return redirect("settlements-import", code=code, link_id=run.link_id)

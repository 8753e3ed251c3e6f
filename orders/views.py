"""The orders page of a Seller Central link: the accounting mode, per-order status, backfill.

Every view starts with the tenancy helper (outsiders get 404); members may look, owners act.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from connectors.models import Link
from hub.tenancy import Access, customer_for_request
from orders.forms import BackfillForm, ModeForm
from orders.models import AmazonOrder, OrderSettings
from orders.pull import OrdersPullError, orders_backfill_start
from orders.services import OrdersError, mode_save, settings_for
from sync.links_out import xero_url
from sync.models import Run, RunKind

SHOWN = 100


def _link(
    request: HttpRequest, code: str, link_id: int, *, owner_only: bool = False
) -> tuple[Access, Link]:
    access = customer_for_request(request, code, owner_only=owner_only)
    link = get_object_or_404(
        Link.objects.select_related("xero_tenant", "seller_account", "customer"),
        pk=link_id,
        customer=access.customer,
        seller_account__isnull=False,
    )
    return access, link


def mode_initial(options: OrderSettings) -> dict[str, object]:
    return {
        "mode": options.mode,
        "since": options.per_order_since.date() if options.per_order_since else None,
        "contact_per_buyer": options.contact_per_buyer,
        "create_items": options.create_items,
    }


def _page(
    request: HttpRequest,
    access: Access,
    link: Link,
    *,
    mode_form: ModeForm | None = None,
    backfill_form: BackfillForm | None = None,
    status: int = 200,
) -> HttpResponse:
    options = settings_for(link)
    orders = list(
        AmazonOrder.objects.filter(link=link)
        .select_related("invoice_entry__link__xero_tenant")
        .order_by("-purchase_date", "-pk")[:SHOWN]
    )
    for order in orders:
        entry = order.invoice_entry
        order.xero_link = xero_url(entry) if entry is not None else ""  # type: ignore[attr-defined]
    by_status = dict(
        AmazonOrder.objects.filter(link=link)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return render(
        request,
        "orders/orders.html",
        {
            "customer": access.customer,
            "access": access,
            "link": link,
            "options": options,
            "mode_form": mode_form or ModeForm(initial=mode_initial(options)),
            "backfill_form": backfill_form or BackfillForm(initial=BackfillForm.defaults()),
            "orders": orders,
            "total": sum(by_status.values()),
            "by_status": sorted(by_status.items()),
            "differences": AmazonOrder.objects.filter(link=link, difference__isnull=False).count(),
            "runs": Run.objects.filter(link=link, kind=RunKind.ORDERS)[:5],
        },
        status=status,
    )


@login_required
@require_GET
def order_list(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access, link = _link(request, code, link_id)
    return _page(request, access, link)


@login_required
@require_POST
def mode(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access, link = _link(request, code, link_id, owner_only=True)
    form = ModeForm(request.POST)
    if not form.is_valid():
        return _page(request, access, link, mode_form=form, status=400)
    try:
        options = mode_save(
            link,
            mode=form.cleaned_data["mode"],
            since=form.cleaned_data.get("since"),
            contact_per_buyer=form.cleaned_data.get("contact_per_buyer", False),
            create_items=form.cleaned_data.get("create_items", False),
        )
    except OrdersError as exc:
        form.add_error(None, exc.message)
        return _page(request, access, link, mode_form=form, status=400)
    if options.per_order:
        messages.success(
            request,
            f"Per-order accounting is on from {options.per_order_since:%d %b %Y}: each shipped "
            "order becomes an invoice; settlements pay them and post Amazon's fees as one bill.",
        )
    else:
        messages.success(request, "Settlement summary: one document per settlement.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("orders", code=code, link_id=link.pk)


@login_required
@require_POST
def backfill(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access, link = _link(request, code, link_id, owner_only=True)
    form = BackfillForm(request.POST)
    if not form.is_valid():
        return _page(request, access, link, backfill_form=form, status=400)
    if not settings_for(link).per_order:
        form.add_error(None, "Choose per-order accounting first: summary mode posts settlements.")
        return _page(request, access, link, backfill_form=form, status=400)
    start = datetime.combine(form.cleaned_data["start"], time.min, tzinfo=UTC)
    end = datetime.combine(form.cleaned_data["end"], time.max, tzinfo=UTC)
    try:
        run = orders_backfill_start(link, start, end)
    except OrdersPullError as exc:
        form.add_error(None, exc.message)
        return _page(request, access, link, backfill_form=form, status=400)
    messages.success(
        request,
        f"Reading orders from {start:%d %b %Y} to {end:%d %b %Y} from Amazon's order reports "
        f"(run {run.pk}); each shipped order is invoiced once, whatever was imported before.",
    )
    return redirect("orders", code=code, link_id=link.pk)

"""The mapping and review pages of a link (wizard steps, and reachable later from the workspace).

Every view starts with the tenancy helper; changes are for owners only (members read).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors import http
from connectors.models import Link
from hub.models import Customer
from hub.tenancy import Access, customer_for_request
from mappings import services
from mappings.forms import ImportForm, MappingForm
from mappings.review import mapping_example
from mappings.services import ChartRead, MappingError


def _link(access: Access, link_id: int) -> Link:
    return get_object_or_404(
        Link.objects.select_related("xero_tenant__grant", "seller_account", "business_account"),
        pk=link_id,
        customer=access.customer,
    )


def _links(customer: Customer) -> list[Link]:
    return list(customer.links.select_related("xero_tenant", "seller_account", "business_account"))


def _unreadable(request: HttpRequest, access: Access, exc: http.ProviderError) -> HttpResponse:
    wait = f" Try again in {int(exc.decision.wait) + 1} seconds." if exc.decision.wait else ""
    return render(
        request,
        "connectors/problem.html",
        {
            "title": "Xero's chart of accounts could not be read",
            "message": f"Xero answered: {exc.message}.{wait} Mapping needs your live chart "
            f"of accounts; nothing was changed.",
            "retry_url": request.get_full_path(),
        },
        status=502,
    )


def _chart(link: Link) -> ChartRead:
    return services.chart_for(link.xero_tenant)


def _form(
    request: HttpRequest, access: Access, link: Link, read: ChartRead, *, suggest: bool
) -> MappingForm:
    suggestion = None
    if suggest:
        suggestion = services.mapping_suggest(link)
    return MappingForm(
        request.POST if request.method == "POST" else None,
        categories=services.categories_for(link),
        chart=read.chart,
        mapping=services.mapping_set_for(link),
        marketplaces=services.marketplaces_for(link),
        payment_methods=services.payment_methods_for(link),
        settings=services.settings_fields(link),
        suggestion=suggestion,
        read_only=not access.is_owner,
    )


def _mapping_page(
    request: HttpRequest,
    access: Access,
    link: Link,
    read: ChartRead,
    form: MappingForm,
    *,
    loose: list[str],
    status: int = 200,
) -> HttpResponse:
    overview = services.mapping_overview(link, read)
    if not form.is_bound:
        loose = loose + form.add_problems(overview.problems)
    attention = [
        form.category_row(c, badge="unknown" if c.unmapped else "map this")
        for c in overview.attention
    ]
    groups = [(group, [form.category_row(c) for c in cats]) for group, cats in overview.groups]
    return render(
        request,
        "mappings/mapping.html",
        {
            "customer": access.customer,
            "access": access,
            "link": link,
            "links": _links(access.customer),
            "overview": overview,
            "form": form,
            "loose": loose,
            "attention": attention,
            "groups": groups,
            "settings_rows": form.setting_rows(),
            "marketplace_rows": form.marketplace_rows(),
            "payment_rows": form.payment_rows(unmapped=overview.unmapped_payments),
            "import_form": ImportForm(),
            "suggesting": bool(form.suggested),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=request.method == "POST")
    link = _link(access, link_id)
    try:
        read = _chart(link)
        form = _form(request, access, link, read, suggest=request.GET.get("suggest") == "1")
    except http.ProviderError as exc:
        return _unreadable(request, access, exc)
    if request.method == "POST" and form.is_valid():
        try:
            problems = services.mapping_save(link, form.to_input())
        except http.ProviderError as exc:
            return _unreadable(request, access, exc)
        if not problems:
            messages.success(
                request,
                "Mapping saved. Documents that were waiting for it are being rebuilt and posted.",
            )
            return redirect("mapping", code=access.customer.code, link_id=link.pk)
        loose = form.add_problems(problems)
        messages.error(
            request,
            f"Nothing was saved: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
            f"to fix first (shown beside each field).",
        )
        return _mapping_page(request, access, link, read, form, loose=loose, status=400)
    status = 400 if request.method == "POST" else 200
    return _mapping_page(request, access, link, read, form, loose=[], status=status)


@login_required
@require_POST
def chart_refresh(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    link = _link(access, link_id)
    try:
        read = services.chart_for(link.xero_tenant, refresh=True)
    except http.ProviderError as exc:
        messages.error(request, f"Xero could not be read: {exc.message}. Try again in a minute.")
    else:
        if read.note:
            messages.error(request, read.note)
        else:
            messages.success(request, "Your chart of accounts was read again from Xero.")
    return redirect("mapping", code=access.customer.code, link_id=link.pk)


@login_required
@require_POST
def accounts_create(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    link = _link(access, link_id)
    try:
        result = services.accounts_create_recommended(link)
    except (http.ProviderError, MappingError) as exc:
        text = exc.message if isinstance(exc, http.ProviderError) else str(exc)
        messages.error(request, f"No account was created: {text}")
        return redirect("mapping", code=access.customer.code, link_id=link.pk)
    parts = []
    if result.created:
        parts.append(f"Created in Xero: {', '.join(result.created)}.")
    if result.existing:
        parts.append(f"Already in Xero: {', '.join(result.existing)}.")
    parts.append(f"{result.mapped} mapping{'s' if result.mapped != 1 else ''} filled in.")
    if result.error:
        messages.error(request, f"{result.error} {' '.join(parts)}")
    else:
        messages.success(request, " ".join(parts))
    return redirect("mapping", code=access.customer.code, link_id=link.pk)


@login_required
@require_GET
def mapping_export(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code)
    link = _link(access, link_id)
    name = slugify(f"{link.xero_tenant.name} {link.amazon.name}") or f"link-{link.pk}"
    response = JsonResponse(
        services.mapping_export(link), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="mapping-{name}.json"'
    return response


@login_required
@require_POST
def mapping_import(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    link = _link(access, link_id)
    back = redirect("mapping", code=access.customer.code, link_id=link.pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Nothing was imported: {error}")
        return back
    upload = form.cleaned_data["template"]
    try:
        data: Any = json.loads(upload.read().decode("utf-8"))
    except UnicodeDecodeError:
        messages.error(request, "Nothing was imported: the file is not text (UTF-8 JSON).")
        return back
    except json.JSONDecodeError as exc:
        messages.error(
            request,
            f"Nothing was imported: the file is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}).",
        )
        return back
    try:
        problems = services.mapping_import(link, data)
    except MappingError as exc:
        messages.error(request, f"Nothing was imported: {exc}")
        return back
    except http.ProviderError as exc:
        messages.error(request, f"Nothing was imported: Xero could not be read ({exc.message}).")
        return back
    if problems:
        messages.error(
            request,
            f"Nothing was imported: the template does not fit this Xero organisation "
            f"({len(problems)} problem{'s' if len(problems) != 1 else ''}).",
        )
        for problem in problems[:20]:
            messages.error(request, problem.message)
        return back
    messages.success(request, f"Template imported: the mapping of {link} was replaced.")
    return back


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, code: str, link_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=request.method == "POST")
    link = _link(access, link_id)
    try:
        read = _chart(link)
    except http.ProviderError as exc:
        return _unreadable(request, access, exc)
    if request.method == "POST":
        problems = services.mapping_finish(link)
        if not problems:
            messages.success(request, "Set-up finished: documents post as they are pulled.")
            return redirect("workspace", code=access.customer.code)
        messages.error(
            request, "Fix the problems below first: documents using them could not post."
        )
    overview = services.mapping_overview(link, read)
    return render(
        request,
        "mappings/review.html",
        {
            "customer": access.customer,
            "access": access,
            "link": link,
            "links": _links(access.customer),
            "overview": overview,
            "example": mapping_example(link, overview.mapping, read.chart),
            "summary": _summary(overview),
            "mapping_url": reverse(
                "mapping", kwargs={"code": access.customer.code, "link_id": link.pk}
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


def _summary(overview: services.Overview) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(group, [(category, account, tax rate)]) of what is mapped, in the chart's words."""
    chart = overview.read.chart
    rows = []
    for group, categories in overview.groups:
        mapped = []
        for category in categories:
            target = overview.mapping.target(category.key)
            if target is None:
                continue
            account = chart.account(target.account_code)
            rate = chart.rate(target.tax_type) if target.tax_type else None
            mapped.append(
                (
                    category.label,
                    account.display if account else target.account_code,
                    rate.name if rate else target.tax_type,
                )
            )
        if mapped:
            rows.append((group, mapped))
    return rows

"""The connection wizard: Xero → organisation → Amazon → (history → mapping → review).

Each view starts with the tenancy helper; callbacks recover the workspace from the OAuth state
kept in the session, never from the query string.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from connectors import http, services
from connectors.amazon_business import auth as business_auth
from connectors.amazon_sp import auth as sp_auth
from connectors.amazon_sp.client import marketplace_participations
from connectors.forms import AmazonAccountForm, MarketplacesForm, TenantChoiceForm
from connectors.models import AmazonBusinessAccount, AmazonSellerAccount, XeroGrant, XeroTenant
from connectors.oauth_state import StateError, state_begin, state_consume
from connectors.providers import AMAZON_REAUTHORISE_DAYS, AMAZON_REAUTHORISE_WARNING_DAYS
from connectors.services import ConnectError
from connectors.xero import auth as xero_auth
from connectors.xero import client as xero_client
from hub.models import Customer
from hub.tenancy import customer_for_request


def _problem(
    request: HttpRequest,
    title: str,
    message: str,
    *,
    status: int = 400,
    retry_url: str | None = None,
) -> HttpResponse:
    return render(
        request,
        "connectors/problem.html",
        {"title": title, "message": message, "retry_url": retry_url},
        status=status,
    )


# --- Xero -----------------------------------------------------------------------------------------


def xero_start(request: HttpRequest) -> HttpResponse:
    """Sign up / sign in with Xero, and the connect URL for the Xero App Store listing.

    With ``?workspace=<code>`` a signed-in owner (re)connects Xero to that workspace.
    """
    workspace = request.GET.get("workspace")
    if workspace:
        customer_for_request(request, workspace, owner_only=True)
    verifier, nonce = secrets.token_urlsafe(64), secrets.token_urlsafe(16)
    state = state_begin(
        request, provider="xero", verifier=verifier, nonce=nonce, workspace=workspace
    )
    try:
        url = xero_auth.authorize_url(state=state, code_verifier=verifier, nonce=nonce)
    except http.ProviderError as exc:
        return _problem(
            request,
            "Xero is not reachable",
            f"We could not reach Xero's sign-in service ({exc.message}). Try again in a minute.",
            status=502,
            retry_url="/connect/xero",
        )
    return redirect(url)


def xero_callback(request: HttpRequest) -> HttpResponse:
    error = request.GET.get("error")
    try:
        flow = state_consume(request, provider="xero", state=request.GET.get("state"))
    except StateError as exc:
        return _problem(
            request, "This sign-in link cannot be used", str(exc), retry_url="/connect/xero"
        )
    if error:
        if error == "access_denied":
            return _problem(
                request,
                "Xero access was not granted",
                "You cancelled on Xero's consent screen, so nothing was connected. "
                "Start again whenever you are ready.",
                retry_url="/connect/xero",
            )
        return _problem(
            request,
            "Xero refused the request",
            f"Xero answered '{error}': {request.GET.get('error_description', '')}",
            retry_url="/connect/xero",
        )
    code = request.GET.get("code")
    if not code:
        return _problem(
            request,
            "Xero's reply was incomplete",
            "The reply from Xero carried no authorisation code. Start again.",
            retry_url="/connect/xero",
        )
    workspace_customer: Customer | None = None
    if flow.get("workspace"):
        workspace_customer = customer_for_request(
            request, flow["workspace"], owner_only=True
        ).customer
    try:
        token, identity = xero_auth.exchange_code(
            code=code, code_verifier=flow["verifier"], nonce=flow["nonce"]
        )
        current = request.user if isinstance(request.user, User) else None
        user, customer, grant = services.xero_signin_complete(
            identity=identity, token=token, current_user=current, customer=workspace_customer
        )
    except http.ProviderError as exc:
        return _problem(
            request,
            "Xero did not accept the sign-in",
            f"{exc.message} Start again; authorisation codes are valid only briefly.",
            retry_url="/connect/xero",
        )
    except ConnectError as exc:
        return _problem(request, "This Xero login cannot be used here", str(exc))
    if not request.user.is_authenticated or request.user.pk != user.pk:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("connect-xero-organisation", code=customer.code, grant_id=grant.pk)


@login_required
@require_http_methods(["GET", "POST"])
def xero_organisation(request: HttpRequest, code: str, grant_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    grant = get_object_or_404(XeroGrant, pk=grant_id, customer=access.customer)
    try:
        connections = xero_client.connections_list(grant)
    except http.ProviderError as exc:
        return _problem(
            request,
            "Xero did not list your organisations",
            exc.message,
            status=502,
            retry_url=request.path,
        )
    chosen = {str(t.tenant_id) for t in access.customer.xero_tenants.all()}
    form = TenantChoiceForm(
        request.POST or None, choices=[(c.tenant_id, c.tenant_name) for c in connections]
    )
    if request.method == "POST" and form.is_valid():
        try:
            tenant = services.xero_tenant_choose(
                customer=access.customer, grant=grant, tenant_id=form.cleaned_data["tenant_id"]
            )
            services.xero_release_unchosen(customer=access.customer, grant=grant)
        except ConnectError as exc:
            form.add_error("tenant_id", str(exc))
        except http.ProviderError as exc:
            form.add_error("tenant_id", f"Xero answered: {exc.message}")
        else:
            messages.success(request, f"Connected to {tenant.name} in Xero.")
            return redirect("connect-amazon", code=access.customer.code)
    return render(
        request,
        "connectors/xero_organisation.html",
        {
            "customer": access.customer,
            "form": form,
            "connections": connections,
            "chosen": chosen,
            "step": "organisation",
        },
    )


# --- Amazon Seller Central ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def amazon_start(request: HttpRequest, code: str) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    form = AmazonAccountForm(request.POST or None, business=False)
    if request.method == "POST" and form.is_valid():
        state = state_begin(
            request,
            provider="amazon",
            workspace=str(access.customer.code),
            region=form.cleaned_data["region"],
            name=form.cleaned_data["name"],
        )
        return redirect(sp_auth.consent_url(state=state))
    return render(
        request,
        "connectors/amazon_start.html",
        {
            "customer": access.customer,
            "form": form,
            "step": "amazon",
            "has_tenant": access.customer.xero_tenants.exists(),
        },
    )


@login_required
def amazon_callback(request: HttpRequest) -> HttpResponse:
    try:
        flow = state_consume(request, provider="amazon", state=request.GET.get("state"))
    except StateError as exc:
        return _problem(request, "This Amazon authorisation cannot be used", str(exc))
    access = customer_for_request(request, flow["workspace"], owner_only=True)
    retry = f"/w/{access.customer.code}/connect/amazon/"
    if request.GET.get("error"):
        return _problem(
            request,
            "Amazon access was not granted",
            "Seller Central did not authorise Ledgerbridge, so nothing was connected. "
            "Start again whenever you are ready.",
            retry_url=retry,
        )
    oauth_code, partner = request.GET.get("spapi_oauth_code"), request.GET.get("selling_partner_id")
    if not oauth_code or not partner:
        return _problem(
            request,
            "Amazon's reply was incomplete",
            "The reply carried no authorisation code or seller id. Start again.",
            retry_url=retry,
        )
    try:
        token = sp_auth.exchange_code(
            code=oauth_code,
            redirect=sp_auth.redirect_uri(),
            client_id=settings.AMAZON_SP_CLIENT_ID,
            client_secret=settings.AMAZON_SP_CLIENT_SECRET,
        )
        account = services.seller_account_connect(
            customer=access.customer,
            region=flow["region"],
            name=flow["name"],
            selling_partner_id=partner,
            token=token,
        )
    except http.ProviderError as exc:
        return _problem(
            request,
            "Amazon did not accept the authorisation",
            f"{exc.message} Authorisation codes are valid for five minutes; start again.",
            retry_url=retry,
        )
    except ConnectError as exc:
        return _problem(
            request, "This Amazon account cannot be connected here", str(exc), retry_url=retry
        )
    return redirect("connect-amazon-marketplaces", code=access.customer.code, account_id=account.pk)


@login_required
@require_http_methods(["GET", "POST"])
def amazon_marketplaces(request: HttpRequest, code: str, account_id: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    account = get_object_or_404(AmazonSellerAccount, pk=account_id, customer=access.customer)
    if request.method == "GET" or not account.available_marketplaces:
        try:
            account.available_marketplaces = [
                m.as_dict() for m in marketplace_participations(account)
            ]
            account.save(update_fields=["available_marketplaces"])
        except http.ProviderError as exc:
            return _problem(
                request,
                "Amazon did not list the marketplaces",
                exc.message,
                status=502,
                retry_url=request.path,
            )
    tenants = list(access.customer.xero_tenants.all())
    form = MarketplacesForm(
        request.POST or None,
        marketplaces=account.available_marketplaces,
        tenants=tenants,
        initial={"marketplaces": account.marketplace_ids},
    )
    if request.method == "POST" and form.is_valid():
        account.marketplace_ids = form.cleaned_data["marketplaces"]
        account.save(update_fields=["marketplace_ids"])
        try:
            services.link_create(
                customer=access.customer, tenant=form.cleaned_data["tenant"], account=account
            )
        except ConnectError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{account.name} will sync {len(account.marketplace_ids)} marketplace(s)."
            )
            return redirect("connections", code=access.customer.code)
    return render(
        request,
        "connectors/amazon_marketplaces.html",
        {"customer": access.customer, "account": account, "form": form, "step": "amazon"},
    )


# --- Amazon Business ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def business_start(request: HttpRequest, code: str) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    form = AmazonAccountForm(
        request.POST or None, business=True, tenants=list(access.customer.xero_tenants.all())
    )
    if request.method == "POST" and form.is_valid():
        state = state_begin(
            request,
            provider="business",
            workspace=str(access.customer.code),
            region=form.cleaned_data["region"],
            name=form.cleaned_data["name"],
            tenant=form.cleaned_data["tenant"].pk,
        )
        return redirect(business_auth.consent_url(state=state))
    return render(
        request,
        "connectors/business_start.html",
        {
            "customer": access.customer,
            "form": form,
            "step": "amazon",
            "has_tenant": access.customer.xero_tenants.exists(),
        },
    )


@login_required
def business_callback(request: HttpRequest) -> HttpResponse:
    try:
        flow = state_consume(request, provider="business", state=request.GET.get("state"))
    except StateError as exc:
        return _problem(request, "This Amazon Business authorisation cannot be used", str(exc))
    access = customer_for_request(request, flow["workspace"], owner_only=True)
    retry = f"/w/{access.customer.code}/connect/business/"
    if request.GET.get("error") or not request.GET.get("code"):
        return _problem(
            request,
            "Amazon Business access was not granted",
            "The authorisation was cancelled or refused. Only an administrator of "
            "the Amazon Business account (for all its legal entities) can authorise "
            "Ledgerbridge.",
            retry_url=retry,
        )
    tenant = get_object_or_404(XeroTenant, pk=flow["tenant"], customer=access.customer)
    try:
        token = sp_auth.exchange_code(
            code=request.GET["code"],
            redirect=business_auth.redirect_uri(),
            client_id=settings.AMAZON_BUSINESS_CLIENT_ID,
            client_secret=settings.AMAZON_BUSINESS_CLIENT_SECRET,
        )
        account = services.business_account_connect(
            customer=access.customer, region=flow["region"], name=flow["name"], token=token
        )
        services.link_create(customer=access.customer, tenant=tenant, account=account)
    except http.ProviderError as exc:
        return _problem(
            request,
            "Amazon did not accept the authorisation",
            f"{exc.message} Start again.",
            retry_url=retry,
        )
    messages.success(request, f"{account.name} is connected and will post into {tenant.name}.")
    return redirect("connections", code=access.customer.code)


# --- Overview, disconnect, uninstall --------------------------------------------------------------


@login_required
def connections(request: HttpRequest, code: str) -> HttpResponse:
    access = customer_for_request(request, code)
    customer = access.customer
    soon = timezone.now() - timedelta(
        days=AMAZON_REAUTHORISE_DAYS - AMAZON_REAUTHORISE_WARNING_DAYS
    )
    return render(
        request,
        "connectors/connections.html",
        {
            "customer": customer,
            "access": access,
            "step": "amazon",
            "grants": customer.xero_grants.prefetch_related("tenants"),
            "sellers": customer.seller_accounts.all(),
            "businesses": customer.business_accounts.all(),
            "links": customer.links.select_related(
                "xero_tenant__grant", "seller_account", "business_account"
            ),
            "reauthorise_before": soon,
            "reauthorise_days": AMAZON_REAUTHORISE_DAYS,
        },
    )


KINDS = {"xero": XeroGrant, "seller": AmazonSellerAccount, "business": AmazonBusinessAccount}


@login_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, code: str, kind: str, pk: int) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    model = KINDS.get(kind)
    if model is None:
        raise Http404
    target = get_object_or_404(model, pk=pk, customer=access.customer)
    if request.method == "POST":
        name = str(target)
        if isinstance(target, XeroGrant):
            services.grant_disconnect(target)
        else:
            target.delete()
        messages.success(request, f"Disconnected {name}. Nothing already in Xero was changed.")
        return redirect("connections", code=access.customer.code)
    links = target.tenants.all() if isinstance(target, XeroGrant) else None
    return render(
        request,
        "connectors/disconnect.html",
        {"customer": access.customer, "target": target, "kind": kind, "tenants": links},
    )


@login_required
@require_http_methods(["GET", "POST"])
def uninstall(request: HttpRequest, code: str) -> HttpResponse:
    access = customer_for_request(request, code, owner_only=True)
    if request.method == "POST":
        if request.POST.get("confirm") != access.customer.name:
            messages.error(request, "Type the workspace name exactly to confirm.")
            return redirect("uninstall", code=access.customer.code)
        name = access.customer.name
        services.customer_uninstall(access.customer)
        messages.success(
            request,
            f"{name} was uninstalled: Xero access revoked, tokens and sync "
            "history deleted. Everything already posted stays in Xero.",
        )
        return redirect("app-home")
    customer = access.customer
    return render(
        request,
        "connectors/uninstall.html",
        {
            "customer": customer,
            "grants": customer.xero_grants.prefetch_related("tenants"),
            "sellers": customer.seller_accounts.all(),
            "businesses": customer.business_accounts.all(),
        },
    )


@login_required
@require_POST
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The workspace's sync history as JSON, offered before an uninstall. No tokens in it."""
    access = customer_for_request(request, code, owner_only=True)
    from connectors.export import customer_export

    body = json.dumps(customer_export(access.customer), indent=2, default=str)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="ledgerbridge-{access.customer.code}-history.json"'
    )
    return response

"""Seller Central pages: the website-authorization consent, "Manage your apps", past settlements.

Reference: https://developer-docs.amazon.com/sp-api/docs/website-authorization-workflow and
…/authorization-errors (shared/reference/amazon-api.md §1).

``GET apps/authorize/consent?application_id=…&state=…[&version=beta][&redirect_uri=…]``:
- an unknown ``application_id`` is an error page; a Draft app (``LwaApp.is_published`` false)
  without ``version=beta`` is MD1000; a ``redirect_uri`` not registered for the app is MD5101,
  one with a fragment MD5110. Without ``redirect_uri`` the app's first registered URI is used.
- Confirm redirects to the redirect URI with ``state``, ``selling_partner_id`` and
  ``spapi_oauth_code`` (valid 5 minutes, see ``lwa.py``).
- Cancel: Amazon does not document what the app receives. The sandbox redirects with
  ``error=access_denied&state=…`` (OAuth 2.0's code for a refused consent) so the app has
  something to handle.
- Region: real consent pages live on per-region hosts (sellercentral.amazon.com,
  sellercentral-europe.amazon.com, sellercentral.amazon.co.jp); the sandbox has one host and
  accepts an optional ``region`` hint (na, eu, fe), which narrows the seller list and is
  recorded on the authorization (else the seller's home region is recorded).
Sandbox sellers sign in by choosing who they are; there is no password.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.amazon.lwa import issue_authorization_code
from sandbox.amazon.marketplaces import REGIONS, region_of, seller_marketplaces_in
from sandbox.amazon.models import (
    LwaApp,
    LwaRefreshToken,
    Report,
    Seller,
    SellerAuthorization,
    Settlement,
)
from sandbox.amazon.store import settlement_issue_again

ERRORS = {
    "MD1000": "This application is in Draft state. Add the version=beta parameter to the "
    "authorization URL to authorize it.",
    "MD5101": "The redirect URI provided does not match one of the redirect URIs registered "
    "for this application.",
    "MD5110": "The redirect URI contains a fragment, which OAuth 2.0 does not allow.",
}
_CARRIED = ("application_id", "state", "version", "redirect_uri", "region")


@dataclass(frozen=True)
class ConsentRequest:
    app: LwaApp
    state: str
    redirect_uri: str
    region: str  # the hint, or ""
    carried: list[tuple[str, str]]  # the parameters, for the form's hidden fields


def _consent_request(params: QueryDict) -> ConsentRequest | tuple[str, str]:
    """The validated request, or (error code, message) for the error page."""
    app = LwaApp.objects.filter(
        application_id=params.get("application_id", ""), kind=LwaApp.Kind.SELLER
    ).first()
    if app is None:
        return "", "We could not find the application you are trying to authorize."
    if not app.is_published and params.get("version") != "beta":
        return "MD1000", ERRORS["MD1000"]
    redirect_uri = params.get("redirect_uri") or (app.redirect_uris or [""])[0]
    if urlsplit(redirect_uri).fragment or "#" in redirect_uri:
        return "MD5110", ERRORS["MD5110"]
    if redirect_uri not in app.redirect_uris:
        return "MD5101", ERRORS["MD5101"]
    state = params.get("state", "")
    if not state:
        return "", "The authorization request has no state parameter."
    region = params.get("region", "")
    return ConsentRequest(
        app=app,
        state=state,
        redirect_uri=redirect_uri,
        region=region if region in REGIONS else "",
        carried=[(name, str(params.get(name))) for name in _CARRIED if params.get(name)],
    )


def _with_query(uri: str, query: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(query)}"


def _sellers(region: str) -> list[Seller]:
    sellers = list(Seller.objects.order_by("selling_partner_id"))
    if region:
        sellers = [s for s in sellers if seller_marketplaces_in(list(s.marketplace_ids), region)]
    return sellers


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    """Seller Central's consent page for the website authorization workflow."""
    params = request.POST if request.method == "POST" else request.GET
    checked = _consent_request(params)
    if not isinstance(checked, ConsentRequest):
        code, message = checked
        return render(
            request,
            "sandbox/amazon/consent_error.html",
            {"code": code, "message": message},
            status=400,
        )
    sellers = _sellers(checked.region)
    error = ""
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return HttpResponseRedirect(
                _with_query(
                    checked.redirect_uri, {"error": "access_denied", "state": checked.state}
                )
            )
        seller = next(
            (s for s in sellers if s.selling_partner_id == request.POST.get("seller")), None
        )
        if seller is not None:
            return HttpResponseRedirect(consent_confirm(checked, seller))
        error = "Choose the seller account to sign in as."
    return render(
        request,
        "sandbox/amazon/consent.html",
        {"consent": checked, "sellers": sellers, "error": error},
        status=400 if error else 200,
    )


def consent_confirm(consent: ConsentRequest, seller: Seller) -> str:
    """Record the authorization and return the redirect carrying the code."""
    home = region_of(seller.marketplace_ids[0]) if seller.marketplace_ids else ""
    SellerAuthorization.objects.create(
        app=consent.app,
        seller=seller,
        region=consent.region or home,
        redirect_uri=consent.redirect_uri,
    )
    code = issue_authorization_code(
        app=consent.app,
        redirect_uri=consent.redirect_uri,
        subject_kind="seller",
        subject_id=seller.selling_partner_id,
    )
    return _with_query(
        consent.redirect_uri,
        {
            "state": consent.state,
            "selling_partner_id": seller.selling_partner_id,
            "spapi_oauth_code": code,
        },
    )


# --------------------------------------------------------------------------- manage apps


def authorization_revoke(*, app: LwaApp, seller: Seller) -> int:
    """The seller removes the app: every refresh token of the pair stops working
    (``invalid_grant`` on the next refresh). Returns how many authorizations were revoked."""
    now = timezone.now()
    with transaction.atomic():
        revoked = SellerAuthorization.objects.filter(
            app=app, seller=seller, revoked_at__isnull=True
        ).update(revoked_at=now)
        LwaRefreshToken.objects.filter(
            app=app,
            subject_kind="seller",
            subject_id=seller.selling_partner_id,
            revoked_at__isnull=True,
        ).update(revoked_at=now)
    return revoked


@require_GET
def manage_apps(request: HttpRequest) -> HttpResponse:
    """Seller Central's "Manage your apps": every authorization, with a Remove button."""
    authorizations = SellerAuthorization.objects.select_related("app", "seller").order_by(
        "seller__selling_partner_id", "-created_at"
    )
    return render(request, "sandbox/amazon/manage_apps.html", {"authorizations": authorizations})


@require_POST
def manage_apps_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    authorization = get_object_or_404(SellerAuthorization, pk=pk)
    count = authorization_revoke(app=authorization.app, seller=authorization.seller)
    if count:
        messages.success(
            request,
            f"{authorization.app.name} was removed from {authorization.seller.store_name}: its "
            "next token refresh will fail with invalid_grant.",
        )
    else:
        messages.info(request, "That authorization was already revoked.")
    return redirect("sandbox:amazon-manage-apps")


# --------------------------------------------------------------------------- settlements


@require_GET
def past_settlements(request: HttpRequest) -> HttpResponse:
    """Payments > All statements: every closed settlement, downloadable however old it is
    (the Reports API keeps reports 90 days; older files reach the hub only by upload)."""
    sellers = list(Seller.objects.order_by("selling_partner_id"))
    chosen = next(
        (s for s in sellers if s.selling_partner_id == request.GET.get("seller")),
        sellers[0] if sellers else None,
    )
    rows = []
    if chosen is not None:
        settlements = Settlement.objects.filter(seller=chosen, processing_status="Closed")
        reports = (
            Report.objects.filter(
                seller=chosen, settlement__isnull=False, created_time__lte=timezone.now()
            )
            .select_related("settlement")
            .order_by("created_time")
        )
        latest = {r.settlement_id: r for r in reports}  # the last issued copy wins
        rows = [
            {"settlement": s, "report": latest.get(s.pk)}
            for s in settlements.order_by("-end", "marketplace_id")
        ]
    return render(
        request,
        "sandbox/amazon/settlements.html",
        {"sellers": sellers, "chosen": chosen, "rows": rows},
    )


@require_GET
def settlement_download(request: HttpRequest, settlement_id: str) -> HttpResponse:
    report = (
        Report.objects.select_related("document", "seller")
        .filter(
            seller__selling_partner_id=request.GET.get("seller", ""),
            settlement__settlement_id=settlement_id,
            created_time__lte=timezone.now(),
        )
        .order_by("-created_time")
        .first()
    )
    if report is None or report.document is None:
        raise Http404("no such settlement")
    content = bytes(report.document.content)
    if report.document.compression == "GZIP":
        content = gzip.decompress(content)
    response = HttpResponse(content, content_type="text/plain")
    response["Content-Disposition"] = f'attachment; filename="{settlement_id}.txt"'
    return response


# --------------------------------------------------------------------------- controls
#
# JSON endpoints for tests, demos and benchmarks in other processes (like /sandbox/control):
# what a seller or Amazon would do, without a browser.


def _json_body(request: HttpRequest) -> dict[str, str]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


@csrf_exempt
@require_POST
def control_revoke(request: HttpRequest) -> JsonResponse:
    """``{"selling_partner_id", "application_id"}``: the seller removes the app."""
    body = _json_body(request)
    seller = Seller.objects.filter(selling_partner_id=body.get("selling_partner_id", "")).first()
    app = LwaApp.objects.filter(application_id=body.get("application_id", "")).first()
    if seller is None or app is None:
        return JsonResponse({"error": "unknown selling_partner_id or application_id"}, status=404)
    return JsonResponse({"revoked": authorization_revoke(app=app, seller=seller)})


@csrf_exempt
@require_POST
def control_reissue(request: HttpRequest) -> JsonResponse:
    """``{"selling_partner_id", "settlement_id"}``: Amazon issues the settlement's report again
    (created now, complete), as it sometimes does (selling-partner-api-docs #969)."""
    body = _json_body(request)
    seller = Seller.objects.filter(selling_partner_id=body.get("selling_partner_id", "")).first()
    if seller is None:
        return JsonResponse({"error": "unknown selling_partner_id"}, status=404)
    try:
        report = settlement_issue_again(
            seller=seller,
            settlement_id=body.get("settlement_id", ""),
            created_time=datetime.now(UTC),
        )
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=404)
    return JsonResponse({"reportId": report.report_id, "reportType": report.report_type})

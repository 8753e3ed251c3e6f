"""The buyer store's pages: app consent, and the sandbox's view of its business accounts.

Consent: ``GET /b2b/abws/oauth?applicationId=…&state=…&redirect_uri=…`` on the store of the
buyer's region (Reference: https://developer-docs.amazon.com/amazon-business/docs/website-authorization-workflow
and .../generate-refresh-token). The sandbox stands in for "sign in" with a choice of the
account's users. What Amazon documents, and what the sandbox does where it does not:

- ``applicationId`` is the app's Solution Provider Portal id (amzn1.sp.solution.…), not the LWA
  client id; no ``scope``. An unknown id, or one of an SP-API (seller) app, gets an error page.
- ``redirect_uri`` must be one registered for the app ("you'll encounter an error and be unable
  to proceed if there's a mismatch"): an error page, never a redirect. Left out, it is the first
  registered one (as Amazon documents for the website workflow).
- ``state`` is required here (the documented URLs always carry it; SP-API requires it).
- ``version`` (``beta`` for draft SP-API apps) is accepted and ignored: the Amazon Business flow
  has no draft-app switch.
- Granting consent needs an administrator for all legal entities of the account. Anyone else
  gets an error page on the store and nothing is sent back to the app (Amazon documents the
  requirement, not the page; the user is stuck on Amazon's side, as with a bad redirect_uri).
- Allow redirects to ``redirect_uri?code=…&state=…``: the code (exchange it within five minutes
  at /auth/o2/token) and the state, nothing else (no account id).
- Cancel redirects with ``error=access_denied`` and the state, as Login with Amazon does for a
  refused request.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sandbox.amazon.models import LwaApp
from sandbox.business.models import (
    Authorization,
    BusinessAccount,
    BusinessUser,
    Invoice,
    PaymentMethod,
)
from sandbox.business.services import (
    CARD_TYPES,
    NotAllowed,
    authorization_grant,
    authorization_revoke,
    card_add,
    invoice_mark_paid,
    purchase_add,
)

# What the consent page says the app may do: the Business Purchase Reconciliation role.
PERMISSIONS = (
    (
        "Business Purchase Reconciliation",
        "View your business purchases and refunds with their line items, payment methods "
        "(card type and last four digits), purchase order numbers and order information such "
        "as GL codes and cost centres, and the payment status of your Pay by Invoice invoices.",
    ),
)
TRANSACTIONS_SHOWN = 300


class ConsentProblem(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _consent_request(params: QueryDict) -> tuple[LwaApp, str, str]:
    """The app, redirect URI and state of a consent request, or why it cannot go on."""
    application_id = params.get("applicationId", "")
    if not application_id:
        raise ConsentProblem("The request is missing the applicationId parameter.")
    app = LwaApp.objects.filter(application_id=application_id).first()
    if app is None or app.kind != LwaApp.Kind.BUSINESS:
        raise ConsentProblem(
            f"We could not find an Amazon Business application with the ID {application_id}."
        )
    redirect_uri = params.get("redirect_uri") or (app.redirect_uris[0] if app.redirect_uris else "")
    if not redirect_uri or redirect_uri not in app.redirect_uris:
        raise ConsentProblem(
            f"The redirect URI {redirect_uri!r} is not registered for {app.name}. "
            "It must match one of the app's OAuth redirect URIs exactly."
        )
    state = params.get("state", "")
    if not state:
        raise ConsentProblem("The request is missing the state parameter.")
    return app, redirect_uri, state


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _problem(request: HttpRequest, problem: ConsentProblem) -> HttpResponse:
    return render(
        request,
        "sandbox/business/consent_error.html",
        {"message": problem.message},
        status=problem.status,
    )


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    """The consent page (GET) and the administrator's answer (POST: action=allow|cancel)."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        app, redirect_uri, state = _consent_request(params)
    except ConsentProblem as problem:
        return _problem(request, problem)
    users = BusinessUser.objects.select_related("account").order_by("account__name", "role", "name")
    context = {
        "app": app,
        "redirect_uri": redirect_uri,
        "state": state,
        "users": users,
        "permissions": PERMISSIONS,
    }
    if request.method == "GET":
        return render(request, "sandbox/business/consent.html", context)

    action = request.POST.get("action")
    if action == "cancel":
        return HttpResponseRedirect(
            _with_query(
                redirect_uri,
                error="access_denied",
                error_description="The user denied the request.",
                state=state,
            )
        )
    if action != "allow":
        return _problem(request, ConsentProblem("Choose Allow or Cancel."))
    user_pk = request.POST.get("user", "")
    user = users.filter(pk=int(user_pk)).first() if user_pk.isdigit() else None
    if user is None:
        context["error"] = "Choose the Amazon Business user you are signed in as."
        return render(request, "sandbox/business/consent.html", context, status=400)
    try:
        code = authorization_grant(user=user, app=app, redirect_uri=redirect_uri)
    except NotAllowed as exc:
        return _problem(
            request,
            ConsentProblem(
                f"{user.name} cannot authorize {app.name}. {exc} Ask an administrator of "
                f"{user.account.name} to sign in and authorize the app.",
                status=403,
            ),
        )
    return HttpResponseRedirect(_with_query(redirect_uri, code=code, state=state))


# --------------------------------------------------------------------------- sandbox pages


def accounts(request: HttpRequest) -> HttpResponse:
    """Every business account with its users, payment methods and authorized apps."""
    rows = BusinessAccount.objects.order_by("name").prefetch_related(
        "users", "payment_methods", "authorizations__app", "authorizations__user"
    )
    return render(request, "sandbox/business/accounts.html", {"accounts": rows})


def account(request: HttpRequest, account_id: str) -> HttpResponse:
    """One account: its cards, Pay by Invoice invoices and latest transactions, with controls."""
    business = get_object_or_404(BusinessAccount, account_id=account_id)
    now = timezone.now()
    invoices = [(i, i.status_at(now)) for i in business.invoices.order_by("-issued_at")]
    transactions = business.transactions.order_by("-feed_date", "-id")[:TRANSACTIONS_SHOWN]
    return render(
        request,
        "sandbox/business/account.html",
        {
            "account": business,
            "methods": business.payment_methods.order_by("added_at", "id"),
            "invoices": invoices,
            "transactions": transactions,
            "transaction_count": business.transactions.count(),
            "shown": TRANSACTIONS_SHOWN,
            "card_types": CARD_TYPES,
            "now": now,
        },
    )


@require_POST
def purchase_create(request: HttpRequest, account_id: str) -> HttpResponse:
    """Add a purchase: with an existing payment method, or a card added there and then."""
    business = get_object_or_404(BusinessAccount, account_id=account_id)
    choice = request.POST.get("method", "")
    lines = request.POST.get("lines", "1")
    try:
        if not lines.isdigit():
            raise ValueError("lines must be a whole number")
        if choice == "new-card":
            method = card_add(
                account=business,
                card_type=request.POST.get("card_type", "Visa"),
                last4=request.POST.get("last4") or None,
            )
        else:
            method = get_object_or_404(PaymentMethod, account=business, key=choice)
        row = purchase_add(account=business, method=method, lines=int(lines))
    except ValueError as exc:
        messages.error(request, f"No purchase added: {exc}.")
    else:
        messages.success(
            request,
            f"Added a {row.amount} {row.currency} purchase (order {row.order_id}, transaction "
            f"{row.transaction_id}) paid with {method.label}.",
        )
    return redirect("sandbox:business-account", account_id=business.account_id)


@require_POST
def invoice_pay(request: HttpRequest, account_id: str, invoice_id: str) -> HttpResponse:
    business = get_object_or_404(BusinessAccount, account_id=account_id)
    invoice = get_object_or_404(Invoice, account=business, invoice_id=invoice_id)
    processing = request.POST.get("status") == "Payment Processing"
    invoice_mark_paid(invoice=invoice, processing=processing)
    messages.success(
        request, f"Invoice {invoice.invoice_id} is now {invoice.status_at(timezone.now())}."
    )
    return redirect("sandbox:business-account", account_id=business.account_id)


def authorizations(request: HttpRequest) -> HttpResponse:
    rows = Authorization.objects.select_related("account", "user", "app").order_by("-granted_at")
    return render(request, "sandbox/business/authorizations.html", {"authorizations": rows})


@require_POST
def authorization_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke an app as the account's administrator would, from the buyer store's settings."""
    grant = get_object_or_404(Authorization, pk=pk)
    revoked = authorization_revoke(authorization=grant)
    messages.success(
        request,
        f"Removed {grant.app.name} from {grant.account.name}: {revoked} refresh token(s) revoked.",
    )
    return redirect("sandbox:business-authorizations")

"""login.xero.com/identity/connect/authorize: sign in as a sandbox Xero user, then consent.

One URL, as on Xero. GET shows the sign-in step (no one signed in) or the consent step; the forms
post back to the same URL with the authorization request in hidden fields, and every POST
validates it again. The signed-in Xero user is kept in the browser's session, as Xero keeps its
own login.

- Allow: records the grant and connects the ticked organisations (``grant_create``), then
  redirects to the app with ``code`` and ``state``.
- Cancel: redirects with ``error=access_denied`` and ``state``.

Scopes are additive, as Xero documents: the new grant carries the scopes asked for now plus
those of the user's live grants for the same app.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import Connection, Grant, XeroUser
from sandbox.xero_identity.oauth import (
    AuthorizeRequest,
    PageError,
    RedirectError,
    issue_code,
    parse_authorize,
)
from sandbox.xero_identity.scopes import SCOPE_WORDS
from sandbox.xero_identity.tokens import grant_create

SESSION_KEY = "sandbox_xero_userid"


@dataclass(frozen=True)
class OrganisationChoice:
    organisation: Organisation
    connected: bool
    checked: bool


def _user(xero_userid: str) -> XeroUser | None:
    try:
        return XeroUser.objects.filter(xero_userid=xero_userid).first() if xero_userid else None
    except ValidationError:
        return None


def _signed_in_user(request: HttpRequest) -> XeroUser | None:
    return _user(request.session.get(SESSION_KEY, ""))


def _choices(
    auth: AuthorizeRequest, user: XeroUser, ticked: set[str] | None
) -> list[OrganisationChoice]:
    connected = {
        str(tenant_id)
        for tenant_id in Connection.objects.filter(app=auth.app, user=user).values_list(
            "tenant_id", flat=True
        )
    }
    organisations = Organisation.objects.filter(tenant_id__in=list(user.tenant_ids))
    return [
        OrganisationChoice(
            organisation=org,
            connected=str(org.tenant_id) in connected,
            checked=(str(org.tenant_id) in ticked)
            if ticked is not None
            else str(org.tenant_id) in connected,
        )
        for org in organisations
    ]


def _render(
    request: HttpRequest,
    auth: AuthorizeRequest,
    *,
    user: XeroUser | None,
    error: str = "",
    ticked: set[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, object] = {
        "auth": auth,
        "hidden": sorted(auth.params.items()),
        "user": user,
        "error": error,
    }
    if user is None:
        context["users"] = XeroUser.objects.order_by("given_name", "family_name", "email")
    else:
        context["organisations"] = _choices(auth, user, ticked)
        context["scopes"] = [(scope, SCOPE_WORDS[scope]) for scope in auth.scopes]
    return render(request, "sandbox/xero_identity/authorize.html", context, status=status)


def _allow(request: HttpRequest, auth: AuthorizeRequest, user: XeroUser) -> HttpResponse:
    ticked = set(request.POST.getlist("tenant"))
    allowed = {str(t) for t in user.tenant_ids}
    if not ticked:
        return _render(
            request, auth, user=user, error="Choose at least one organisation.", ticked=ticked
        )
    if not ticked <= allowed:
        return _render(
            request,
            auth,
            user=user,
            error="You can only connect organisations you have access to.",
            ticked=ticked & allowed,
        )
    previous = Grant.objects.filter(app=auth.app, user=user, revoked_at=None).values_list(
        "scopes", flat=True
    )
    scopes = list(dict.fromkeys([*auth.scopes, *(s for grant in previous for s in grant)]))
    grant = grant_create(
        app=auth.app, user=user, scopes=scopes, tenant_ids=[uuid.UUID(t) for t in ticked]
    )
    return HttpResponseRedirect(auth.redirect(code=issue_code(auth, grant)))


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    data: QueryDict = request.POST if request.method == "POST" else request.GET
    try:
        auth = parse_authorize(data)
    except PageError as exc:
        return render(
            request,
            "sandbox/xero_identity/error.html",
            {"error": exc.error, "description": exc.description},
            status=400,
        )
    except RedirectError as exc:
        return HttpResponseRedirect(exc.location)

    user = _signed_in_user(request)
    if request.method == "GET":
        return _render(request, auth, user=user)

    action = request.POST.get("action", "")
    if action == "cancel":
        return HttpResponseRedirect(auth.redirect(error="access_denied"))
    if action == "signin":
        chosen = _user(request.POST.get("xero_user", ""))
        if chosen is None:
            return _render(request, auth, user=None, error="Choose a Xero user.", status=400)
        request.session[SESSION_KEY] = str(chosen.xero_userid)
        return _back_to_consent(request, auth)
    if action == "signout":
        request.session.pop(SESSION_KEY, None)
        return _back_to_consent(request, auth)
    if action == "allow":
        if user is None:
            return _render(request, auth, user=None, error="Sign in first.", status=400)
        return _allow(request, auth, user)
    return _render(request, auth, user=user, error="Unknown action.", status=400)


def _back_to_consent(request: HttpRequest, auth: AuthorizeRequest) -> HttpResponse:
    response = HttpResponseRedirect(f"{request.path}?{urlencode(auth.params)}")
    response.status_code = 303
    return response

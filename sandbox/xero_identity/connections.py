"""api.xero.com/connections, and the sandbox's page and control for disconnecting from Xero's side.

``GET /connections`` lists the tenants the token's app may reach for the token's user (the spec's
``Connection`` fields); ``DELETE /connections/{id}`` disconnects one: 204, or 404 when the id is
not one of them. The app deleting its own connections leaves its tokens working (they then reach
no tenant); a user disconnecting the app in Xero (``connections_disconnect``) also revokes the
tokens once no connection is left.

Dates: Xero sends ``2019-12-07T18:46:19.5165400`` (seven fractional digits, no offset, in the
spec's own example), which fails the spec's ``format: date-time``; the sandbox keeps the seven
digits and adds ``Z`` so responses validate against the spec. Clients must parse both.

Reference: ../shared/specs/xero/xero-identity.yaml; developer.xero.com/documentation/guides/
oauth2/tenants.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.faults import with_faults
from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import Connection, Grant, XeroUser
from sandbox.xero_identity.services import connections_disconnect
from sandbox.xero_identity.tokens import bearer_check


def xero_datetime(value: datetime) -> str:
    """``2019-12-07T18:46:19.5165400Z``: Xero's seven fractional digits, in UTC."""
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond:06d}0Z"


def connection_json(connection: Connection) -> dict[str, object]:
    return {
        "id": str(connection.id),
        "authEventId": str(connection.auth_event_id),
        "tenantId": str(connection.tenant_id),
        "tenantType": connection.tenant_type,
        "tenantName": connection.tenant_name,
        "createdDateUtc": xero_datetime(connection.created_at),
        "updatedDateUtc": xero_datetime(connection.updated_at),
    }


def _bad_request(detail: str) -> JsonResponse:
    return JsonResponse(
        {
            "Type": None,
            "Title": "Bad Request",
            "Status": 400,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
        status=400,
    )


@require_GET
@with_faults
def connections_list(request: HttpRequest) -> HttpResponse:
    grant = bearer_check(request)
    if not isinstance(grant, Grant):
        return grant
    rows = Connection.objects.filter(app=grant.app, user=grant.user)
    raw_event = request.GET.get("authEventId")
    if raw_event is not None:
        try:
            rows = rows.filter(auth_event_id=uuid.UUID(raw_event))
        except ValueError:
            return _bad_request(f"The value '{raw_event}' is not valid for authEventId.")
    payload = [connection_json(c) for c in rows.order_by("created_at", "id")]
    return JsonResponse(payload, safe=False)


@csrf_exempt
@require_http_methods(["DELETE"])
@with_faults
def connection_delete(request: HttpRequest, connection_id: str) -> HttpResponse:
    grant = bearer_check(request)
    if not isinstance(grant, Grant):
        return grant
    try:
        wanted = uuid.UUID(connection_id)
    except ValueError:
        return HttpResponse(status=404)
    deleted, _ = Connection.objects.filter(id=wanted, app=grant.app, user=grant.user).delete()
    return HttpResponse(status=204 if deleted else 404)


# --- The sandbox's own page and control -----------------------------------------------------------


@require_GET
def connections_page(request: HttpRequest) -> HttpResponse:
    """Every sandbox Xero user with their organisations, grants and connections."""
    users = XeroUser.objects.order_by("given_name", "family_name", "email").prefetch_related(
        "connections__app"
    )
    grants = (
        Grant.objects.select_related("app", "user")
        .annotate(
            spent=Count("refresh_tokens", filter=Q(refresh_tokens__used_at__isnull=False)),
            refreshes=Count("refresh_tokens", filter=Q(refresh_tokens__parent__isnull=False)),
        )
        .order_by("-created_at")
    )
    by_user: dict[int, list[Grant]] = {}
    for grant in grants:
        by_user.setdefault(grant.user_id, []).append(grant)
    organisations = {str(org.tenant_id): org.name for org in Organisation.objects.all()}
    rows = [
        {
            "user": user,
            "organisations": [organisations[t] for t in user.tenant_ids if t in organisations],
            "connections": sorted(user.connections.all(), key=lambda c: c.created_at),
            "grants": by_user.get(user.pk, []),
        }
        for user in users
    ]
    return render(request, "sandbox/xero_identity/connections.html", {"rows": rows})


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError("send a JSON object")
        return body
    return {key: request.POST.get(key) for key in request.POST}


def _to_disconnect(body: dict[str, Any]) -> QuerySet[Connection]:
    if body.get("connection_id"):
        return Connection.objects.filter(id=uuid.UUID(str(body["connection_id"])))
    if body.get("tenant_id"):
        rows = Connection.objects.filter(tenant_id=uuid.UUID(str(body["tenant_id"])))
        if body.get("client_id"):
            rows = rows.filter(app__client_id=body["client_id"])
        if body.get("email"):
            rows = rows.filter(user__email=body["email"])
        return rows
    raise ValueError("send connection_id, or tenant_id (optionally with client_id and email)")


@csrf_exempt
@require_POST
def control_disconnect(request: HttpRequest) -> HttpResponse:
    """Disconnect as the user would in Xero's settings (JSON for tests, a form from the page).

    ``{"connection_id": ...}`` or ``{"tenant_id": ..., "client_id": ..., "email": ...}``.
    """
    wants_json = request.content_type == "application/json"
    try:
        result = connections_disconnect(_to_disconnect(_json_body(request)))
    except ValueError as exc:  # includes malformed UUIDs and JSON
        if wants_json:
            return JsonResponse({"error": str(exc)}, status=400)
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("sandbox:xero-identity-connections"))
    if wants_json:
        return JsonResponse(
            {"disconnected": result.connection_ids, "revoked_grants": result.revoked_grants}
        )
    if result.connection_ids:
        note = " The app's tokens were revoked." if result.revoked_grants else ""
        messages.success(request, f"Disconnected.{note}")
    else:
        messages.error(request, "That connection no longer exists.")
    return HttpResponseRedirect(reverse("sandbox:xero-identity-connections"))

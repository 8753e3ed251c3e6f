"""POST /sandbox/xero/identity/control/expire: age tokens so tests can see them expire.

Tokens run on real time (not the sandbox's time scale). This endpoint moves a grant's times
``seconds`` into the past: ``{"seconds": 1800, "access_token": "..."}`` expires that access
token; after a refresh, ``{"seconds": 1801, "refresh_token": "<the new one>"}`` puts the spent
one past its 30-minute grace. Grants are chosen by one of ``access_token``, ``refresh_token``,
``auth_event_id`` or ``client_id`` (optionally with the user's ``email``).
"""

from __future__ import annotations

import json

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sandbox.xero_identity.models import AccessToken, Grant, RefreshToken, token_hash
from sandbox.xero_identity.services import age_grants


def _grants(body: dict[str, object]) -> QuerySet[Grant]:
    if body.get("access_token"):
        access = AccessToken.objects.filter(token_hash=token_hash(str(body["access_token"])))
        return Grant.objects.filter(pk__in=access.values("grant_id"))
    if body.get("refresh_token"):
        refresh = RefreshToken.objects.filter(token_hash=token_hash(str(body["refresh_token"])))
        return Grant.objects.filter(pk__in=refresh.values("grant_id"))
    if body.get("auth_event_id"):
        return Grant.objects.filter(auth_event_id=str(body["auth_event_id"]))
    if body.get("client_id"):
        grants = Grant.objects.filter(app__client_id=str(body["client_id"]))
        if body.get("email"):
            grants = grants.filter(user__email=str(body["email"]))
        return grants
    raise ValueError("send one of access_token, refresh_token, auth_event_id or client_id")


@csrf_exempt
@require_POST
def control_expire(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError('send a JSON object, e.g. {"seconds": 1800, "access_token": "..."}')
        seconds = body.get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
            raise ValueError("seconds must be a positive number")
        grants = _grants(body)
        moved = age_grants(grants, float(seconds))
    except ValueError as exc:  # includes JSON and UUID errors
        return JsonResponse({"error": str(exc)}, status=400)
    if not moved:
        return JsonResponse({"error": "no grant matches"}, status=404)
    return JsonResponse({"grants": moved, "seconds": seconds})

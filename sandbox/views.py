from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.state import sandbox_configure, sandbox_state

STATE_FIELDS = (
    "time_scale",
    "fault_5xx_rate",
    "fault_timeout_rate",
    "fault_reset_rate",
    "fault_timeout_seconds",
)


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/index.html", {"state": sandbox_state()})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> JsonResponse:
    """Read or change the time scale and fault rates (JSON), for tests and benchmarks."""
    if request.method == "POST":
        try:
            changes = json.loads(request.body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError('send a JSON object, e.g. {"time_scale": 60}')
            sandbox_configure(**changes)
        except (ValueError, TypeError) as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    state = sandbox_state()
    return JsonResponse({name: getattr(state, name) for name in STATE_FIELDS})

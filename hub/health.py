"""Liveness and readiness probes for load balancers and docker compose."""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; says nothing about its dependencies."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database answers a query and the Celery broker accepts a connection."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ready = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _check_database() -> dict[str, object]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"; the message says which
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}".strip()}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_broker() -> dict[str, object]:
    started = time.monotonic()
    url = settings.CELERY_BROKER_URL
    transport = url.split(":", 1)[0]
    if transport == "filesystem":
        # A filesystem "connection" always succeeds; what matters is a writable queue folder.
        folder = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
        if not (folder and os.path.isdir(folder) and os.access(folder, os.W_OK)):
            return {
                "ok": False,
                "transport": transport,
                "error": f"queue folder {folder or '(unset)'} is missing or not writable",
            }
        return {
            "ok": True,
            "transport": transport,
            "ms": round((time.monotonic() - started) * 1000, 1),
        }
    try:
        with Connection(
            url,
            connect_timeout=2,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors; report them as-is
        return {
            "ok": False,
            "transport": transport,
            "error": f"{type(exc).__name__}: {exc}".strip(),
        }
    return {
        "ok": True,
        "transport": transport,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }

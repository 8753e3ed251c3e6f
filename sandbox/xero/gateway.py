"""What every Accounting API call passes through, in Xero's order.

1. Authentication and scopes (``api_caller``): 401/403 before anything is counted.
2. Rate limits: per tenant 60 calls a minute, 5,000 a day and 5 in flight; per app 10,000 a
   minute. Every answer carries the ``X-*Limit-Remaining`` headers; over a limit is a 429 with
   ``X-Rate-Limit-Problem`` (``minute``, ``day``, ``appminute`` or ``concurrent``) and, for the
   windowed limits, ``Retry-After``. Windows run ``time_scale`` times faster.
3. Faults (``with_faults``): inside the limits, so a call whose response is withheld still holds
   its in-flight slot while it hangs, as a slow call at Xero does.
4. Idempotency: inside the faults, so a call processed but whose response was withheld has its
   response cached, and the client's retry with the same key gets it instead of a duplicate.
   Limits are checked before idempotency (Xero: "a retry still uses quota").

The limit windows and the in-flight slot are taken in one statement when every window already
exists (the usual case), and the idempotency record in another; anything unusual (a new window,
a refusal, a missing slot row) falls back to ``sandbox.limits``, which decides the same way.

Reference: developer.xero.com/documentation/guides/oauth2/limits and
developer.xero.com/documentation/guides/idempotent-requests/idempotency (xero-api.md §3, §4).
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.faults import with_faults
from sandbox.limits import (
    STALE_IN_FLIGHT,
    Decision,
    concurrency,
    window_hit,
    window_remaining,
)
from sandbox.models import InFlight
from sandbox.state import sandbox_state
from sandbox.xero import wire
from sandbox.xero.models import IdempotencyRecord, Organisation
from sandbox.xero_identity.tokens import Caller, api_caller, forbidden, unauthorized

MINUTE_LIMIT = 60
DAY_LIMIT = 5000
APP_MINUTE_LIMIT = 10_000
IN_FLIGHT_LIMIT = 5
IDEMPOTENCY_WINDOW = timedelta(minutes=6)
IDEMPOTENCY_KEY_MAX = 128
MAX_READ = 11 * 1024 * 1024  # above Xero's largest body (a 10 MB attachment)
PROVIDER_NAME = "Ledgerbridge Sandbox"


@dataclass
class Event:
    """A webhook event to send once the request's writes are committed."""

    category: str  # CONTACT / INVOICE / CREDITNOTE
    event_type: str  # CREATE / UPDATE
    resource_id: uuid.UUID
    resource_path: str  # e.g. "Invoices"
    data: dict[str, Any] | None = None


@dataclass
class Ctx:
    """One authenticated call: who, for which organisation, with which options."""

    request: HttpRequest
    caller: Caller
    org: Organisation
    events: list[Event] = field(default_factory=list)
    scale: float = 1.0  # the sandbox time scale, read once per call

    @property
    def client_id(self) -> str:
        return self.caller.grant.app.client_id

    def query(self, name: str) -> str | None:
        """Xero reads query parameter names case-insensitively."""
        lowered = name.lower()
        for key in self.request.GET:
            if key.lower() == lowered:
                return self.request.GET.get(key)
        return None

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.query(name)
        if value is None or value == "":
            return default
        return value.strip().lower() == "true"

    @property
    def summarize_errors(self) -> bool:
        # Omitted means summarise (a 400 for any invalid element), whatever the spec's default.
        return self.flag("summarizeErrors", default=True)

    @property
    def unitdp(self) -> int:
        return 4 if (self.query("unitdp") or "").strip() == "4" else 2


Handler = Callable[..., HttpResponse]


def problem(status: int, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {
            "Type": None,
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
        status=status,
    )


def not_found() -> JsonResponse:
    return problem(404, "NotFound", "The resource you're looking for cannot be found")


def xero_json(payload: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return HttpResponse(
        wire.dumps(payload), status=status, content_type="application/json; charset=utf-8"
    )


def envelope(collection: str, items: list[dict[str, Any]], **extra: Any) -> HttpResponse:
    payload: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": f"/Date({wire.ms(timezone.now())})/",
    }
    payload.update(extra)
    payload[collection] = items
    return xero_json(payload)


def validation_exception(elements: list[dict[str, Any]]) -> HttpResponse:
    return xero_json(
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        },
        status=400,
    )


def post_data_invalid(detail: str) -> HttpResponse:
    return xero_json(
        {
            "ErrorNumber": 14,
            "Type": "PostDataInvalidException",
            "Message": f"JSON request body could not be read, Error: {detail}",
        },
        status=400,
    )


# ---------------------------------------------------------------- rate limits


def _keys(tenant_id: uuid.UUID, client_id: str) -> dict[str, str]:
    return {
        "minute": f"xero:tenant:{tenant_id}:minute",
        "day": f"xero:tenant:{tenant_id}:day",
        "appminute": f"xero:app:{client_id}:minute",
        "concurrent": f"xero:tenant:{tenant_id}:inflight",
    }


def _limit_headers(response: HttpResponse, remaining: dict[str, int]) -> HttpResponse:
    response["X-DayLimit-Remaining"] = str(max(remaining["day"], 0))
    response["X-MinLimit-Remaining"] = str(max(remaining["minute"], 0))
    response["X-AppMinLimit-Remaining"] = str(max(remaining["appminute"], 0))
    return response


def _too_many(problem_name: str, retry_after: int | None) -> HttpResponse:
    response = HttpResponse(
        b"", status=429, content_type="application/json; charset=utf-8", reason="Too Many Requests"
    )
    response["X-Rate-Limit-Problem"] = problem_name
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


LIMITS = {
    "minute": (MINUTE_LIMIT, 60.0),
    "day": (DAY_LIMIT, 86_400.0),
    "appminute": (APP_MINUTE_LIMIT, 60.0),
}


def _count(
    tenant_id: uuid.UUID, client_id: str, scale: float, *, counted: dict[str, int] | None = None
) -> tuple[str | None, int, dict[str, int]]:
    """Count this call against each window; the first refused names the problem.

    ``counted`` holds the windows already counted (name: remaining), in order.
    """
    keys = _keys(tenant_id, client_id)
    remaining: dict[str, int] = dict(counted or {})
    refused: tuple[str, Decision] | None = None
    for name, (limit, window) in LIMITS.items():
        if name in remaining:
            continue
        if refused is None:
            decision = window_hit(keys[name], limit=limit, window=window, scale=scale)
            remaining[name] = decision.remaining
            if not decision.allowed:
                refused = (name, decision)
        else:
            remaining[name] = window_remaining(keys[name], limit=limit, window=window, scale=scale)
    if refused:
        return refused[0], refused[1].retry_after, remaining
    return None, 0, remaining


# Each window is counted only if the one before it was; the slot is taken only if all were
# (``window_hit`` in turn, then ``concurrency``: a stale slot count starts again from zero).
ADMIT_SQL = """
WITH minute AS (
    UPDATE sandbox_ratecounter SET "count" = "count" + 1
    WHERE "key" = %(minute_key)s AND "window" = %(minute_window)s AND "count" < %(minute_limit)s
    RETURNING "count"
), day AS (
    UPDATE sandbox_ratecounter SET "count" = "count" + 1
    WHERE "key" = %(day_key)s AND "window" = %(day_window)s AND "count" < %(day_limit)s
    AND EXISTS (SELECT 1 FROM minute)
    RETURNING "count"
), appminute AS (
    UPDATE sandbox_ratecounter SET "count" = "count" + 1
    WHERE "key" = %(appminute_key)s AND "window" = %(appminute_window)s
    AND "count" < %(appminute_limit)s AND EXISTS (SELECT 1 FROM day)
    RETURNING "count"
), slot AS (
    UPDATE sandbox_inflight
    SET "count" = CASE WHEN updated_at < %(stale)s THEN 1 ELSE "count" + 1 END,
        updated_at = %(now)s
    WHERE "key" = %(slot_key)s AND ("count" < %(slot_limit)s OR updated_at < %(stale)s)
    AND EXISTS (SELECT 1 FROM appminute)
    RETURNING 1
)
SELECT (SELECT "count" FROM minute), (SELECT "count" FROM day), (SELECT "count" FROM appminute),
       EXISTS (SELECT 1 FROM slot)
"""


def _admit(
    tenant_id: uuid.UUID, client_id: str, scale: float
) -> tuple[str | None, int, dict[str, int], bool]:
    """Count the call against every window and take an in-flight slot, in one round trip.

    Exactly what ``_count`` then ``concurrency`` do when every window and the slot row exist:
    each window is counted only if the one before it was. Returns the refusal (if any), its
    Retry-After, what remains of each window, and whether the slot is already held; when it is
    not, the caller takes it with ``concurrency`` (which also creates a missing slot row).
    """
    if connection.vendor != "postgresql":
        # One-statement counting needs PostgreSQL's writable CTEs; elsewhere (the demo's
        # SQLite) count window by window, which decides the same way.
        refused, retry_after, remaining = _count(tenant_id, client_id, scale, counted={})
        return refused, retry_after, remaining, False
    keys = _keys(tenant_id, client_id)
    now = time.time()
    params: dict[str, Any] = {
        "stale": timezone.now() - STALE_IN_FLIGHT,
        "now": timezone.now(),
        "slot_key": keys["concurrent"],
        "slot_limit": IN_FLIGHT_LIMIT,
    }
    for name, (limit, window) in LIMITS.items():
        params[f"{name}_key"] = keys[name]
        params[f"{name}_window"] = math.floor(now / (window / scale))
        params[f"{name}_limit"] = limit
    with connection.cursor() as cursor:
        cursor.execute(ADMIT_SQL, params)
        row = cursor.fetchone()
    counted: dict[str, int] = {}
    for (name, (limit, _)), count in zip(LIMITS.items(), row[: len(LIMITS)], strict=True):
        if count is None:
            break
        counted[name] = max(limit - int(count), 0)
    if len(counted) == len(LIMITS):
        return None, 0, counted, bool(row[len(LIMITS)])
    refused, retry_after, remaining = _count(tenant_id, client_id, scale, counted=counted)
    return refused, retry_after, remaining, False


def _release(key: str) -> None:
    InFlight.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


# ---------------------------------------------------------------- idempotency


def _idempotent(ctx: Ctx, run: Callable[[], HttpResponse], *, scale: float) -> HttpResponse:
    request = ctx.request
    key = request.headers.get("Idempotency-Key")
    if request.method not in ("PUT", "POST", "PATCH") or key is None:
        return run()
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.strip():
        # Undocumented: a too-long key is refused before processing.
        return validation_exception(
            [{"ValidationErrors": [{"Message": "Idempotency-Key must be 1 to 128 characters."}]}]
        )
    now = timezone.now()
    window = IDEMPOTENCY_WINDOW / scale
    tenant, client = ctx.org.tenant_id, ctx.client_id
    url = request.get_full_path()
    body_hash = hashlib.sha256(request.body).hexdigest()
    record_id = _record_claim(
        tenant, client, key, request.method, url, body_hash, now=now, expired=now - window
    )
    if record_id is None:
        existing = _await_first(tenant, client, key)
        if (
            existing is not None
            and existing.status is not None
            and (existing.method, existing.url, existing.body_sha256)
            == (request.method, url, body_hash)
        ):
            replay = HttpResponse(
                bytes(existing.body),
                status=existing.status,
                content_type=existing.content_type or "application/json; charset=utf-8",
            )
            return replay
        # Same key, different request (or the first is still running): Xero matches on
        # method, URL and body, so this is not a replay; it is processed on its own.
        return run()
    try:
        response = run()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record_id).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record_id).update(
        status=response.status_code,
        body=response.content,
        content_type=response.get("Content-Type", ""),
    )
    return response


CLAIM_SQL = """
WITH gone AS (
    DELETE FROM sandbox_xero_idempotencyrecord
    WHERE tenant_id = %(tenant)s AND created_at <= %(expired)s
    AND NOT (client_id = %(client)s AND "key" = %(key)s)
)
INSERT INTO sandbox_xero_idempotencyrecord AS record
    (tenant_id, client_id, "key", method, url, body_sha256, status, body, content_type, created_at)
VALUES (%(tenant)s, %(client)s, %(key)s, %(method)s, %(url)s, %(hash)s, NULL, %(empty)s, '',
        %(now)s)
ON CONFLICT (tenant_id, client_id, "key") DO UPDATE SET
    method = EXCLUDED.method, url = EXCLUDED.url, body_sha256 = EXCLUDED.body_sha256,
    status = NULL, body = EXCLUDED.body, content_type = EXCLUDED.content_type,
    created_at = EXCLUDED.created_at
WHERE record.created_at <= %(expired)s
RETURNING id
"""


def _record_claim(
    tenant: uuid.UUID,
    client: str,
    key: str,
    method: str,
    url: str,
    body_hash: str,
    *,
    now: datetime,
    expired: datetime,
) -> int | None:
    """Record the first request with this key; None when a live record already has the key.

    A key older than the window is a new request: its record is taken over, and the tenant's
    other old answers are forgotten in the same statement (so the table stays small).
    """
    if connection.vendor != "postgresql":
        return _record_claim_portable(
            tenant, client, key, method, url, body_hash, now=now, expired=expired
        )
    params: dict[str, Any] = {
        "tenant": tenant,
        "client": client,
        "key": key,
        "method": method,
        "url": url,
        "hash": body_hash,
        "empty": b"",
        "now": now,
        "expired": expired,
    }
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _record_claim_portable(
    tenant: uuid.UUID,
    client: str,
    key: str,
    method: str,
    url: str,
    body_hash: str,
    *,
    now: datetime,
    expired: datetime,
) -> int | None:
    """``_record_claim`` without PostgreSQL's writable CTEs, for the demo's SQLite."""
    IdempotencyRecord.objects.filter(tenant_id=tenant, created_at__lte=expired).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                tenant_id=tenant,
                client_id=client,
                key=key,
                method=method,
                url=url,
                body_sha256=body_hash,
                created_at=now,
            )
    except IntegrityError:
        return None
    return int(record.pk)


def _await_first(tenant: uuid.UUID, client: str, key: str) -> IdempotencyRecord | None:
    """The first request with this key, waiting briefly if it is still being processed."""
    deadline = time.monotonic() + 5
    while True:
        record = IdempotencyRecord.objects.filter(
            tenant_id=tenant, client_id=client, key=key
        ).first()
        if record is None or record.status is not None or time.monotonic() > deadline:
            return record
        time.sleep(0.05)


# ---------------------------------------------------------------- the decorator


def _buffer_body(request: HttpRequest) -> HttpResponse | None:
    """Read the body now, so Xero's size limits apply rather than Django's.

    Django refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) when ``request.body`` is
    first read; Xero takes 3.5 MB per Accounting write and 10 MB per attachment, and those
    limits are enforced where the body is used.
    """
    if request.method in ("GET", "HEAD") or hasattr(request, "_body"):
        return None
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_READ:
        return HttpResponse(b"Request Entity Too Large", status=413, content_type="text/plain")
    setattr(request, "_body", request.read())  # noqa: B010 (Django caches the body here)
    return None


def endpoint(
    *, read: Iterable[str] = (), write: Iterable[str] = (), methods: Iterable[str] = ("GET",)
) -> Callable[[Handler], Callable[..., HttpResponse]]:
    """Wrap a handler ``(ctx, **kwargs) -> HttpResponse`` as a Xero Accounting API view.

    ``read`` scopes allow GET; ``write`` scopes allow everything (and GET too).
    """
    read_scopes, write_scopes, allowed = tuple(read), tuple(write), tuple(methods)

    def decorate(handler: Handler) -> Callable[..., HttpResponse]:
        def inner(request: HttpRequest, ctx: Ctx, **kwargs: Any) -> HttpResponse:
            response = _idempotent(ctx, lambda: handler(ctx, **kwargs), scale=ctx.scale)
            if ctx.events:
                # Before a withheld response hangs: the writes happened, so Xero notifies.
                from sandbox.xero.webhooks import events_deliver

                events_deliver(org=ctx.org, events=ctx.events)
            return response

        faulted = with_faults(inner)

        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                refusal = problem(
                    405,
                    "MethodNotAllowed",
                    f"The requested resource does not support http method '{request.method}'.",
                )
                refusal["Allow"] = ", ".join(allowed)
                return refusal
            too_big = _buffer_body(request)
            if too_big is not None:
                return too_big
            caller = api_caller(request)
            if not isinstance(caller, Caller):
                return caller
            scopes = read_scopes + write_scopes if request.method == "GET" else write_scopes
            if not any(caller.allows(scope) for scope in scopes):
                return unauthorized("AuthorizationUnsuccessful")
            org = Organisation.objects.filter(tenant_id=caller.tenant_id).first()
            if org is None:
                return forbidden()
            scale = sandbox_state().time_scale
            ctx = Ctx(request=request, caller=caller, org=org, scale=scale)
            refused, retry_after, remaining, held = _admit(org.tenant_id, ctx.client_id, scale)
            if refused:
                return _limit_headers(_too_many(refused, retry_after), remaining)
            slot_key = _keys(org.tenant_id, ctx.client_id)["concurrent"]
            if held:
                try:
                    response = faulted(request, ctx, **kwargs)
                finally:
                    _release(slot_key)
                return _limit_headers(response, remaining)
            with concurrency(slot_key, limit=IN_FLIGHT_LIMIT) as got_slot:
                if not got_slot:
                    # Xero documents Retry-After for the minute and day limits only.
                    return _limit_headers(_too_many("concurrent", None), remaining)
                response = faulted(request, ctx, **kwargs)
            return _limit_headers(response, remaining)

        return view

    return decorate

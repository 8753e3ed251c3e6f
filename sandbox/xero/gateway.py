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

Reference: developer.xero.com/documentation/guides/oauth2/limits and
developer.xero.com/documentation/guides/idempotent-requests/idempotency (xero-api.md §3, §4).
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.faults import with_faults
from sandbox.limits import Decision, concurrency, window_hit, window_remaining
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


def _count(
    tenant_id: uuid.UUID, client_id: str, scale: float
) -> tuple[str | None, int, dict[str, int]]:
    """Count this call against each window; the first refused names the problem."""
    keys = _keys(tenant_id, client_id)
    limits = {
        "minute": (MINUTE_LIMIT, 60.0),
        "day": (DAY_LIMIT, 86_400.0),
        "appminute": (APP_MINUTE_LIMIT, 60.0),
    }
    remaining: dict[str, int] = {}
    refused: tuple[str, Decision] | None = None
    for name, (limit, window) in limits.items():
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
    # A key older than the window is a new request: forget old answers (this tenant's, so the
    # table stays small).
    IdempotencyRecord.objects.filter(tenant_id=tenant, created_at__lte=now - window).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                tenant_id=tenant,
                client_id=client,
                key=key,
                method=request.method,
                url=url,
                body_sha256=body_hash,
                created_at=now,
            )
    except IntegrityError:
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
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=response.status_code,
        body=response.content,
        content_type=response.get("Content-Type", ""),
    )
    return response


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
            scale = sandbox_state().time_scale
            response = _idempotent(ctx, lambda: handler(ctx, **kwargs), scale=scale)
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
            ctx = Ctx(request=request, caller=caller, org=org)
            scale = sandbox_state().time_scale
            refused, retry_after, remaining = _count(org.tenant_id, ctx.client_id, scale)
            if refused:
                return _limit_headers(_too_many(refused, retry_after), remaining)
            keys = _keys(org.tenant_id, ctx.client_id)
            with concurrency(keys["concurrent"], limit=IN_FLIGHT_LIMIT) as got_slot:
                if not got_slot:
                    # Xero documents Retry-After for the minute and day limits only.
                    return _limit_headers(_too_many("concurrent", None), remaining)
                response = faulted(request, ctx, **kwargs)
            return _limit_headers(response, remaining)

        return view

    return decorate

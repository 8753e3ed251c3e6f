"""What every sandbox SP-API operation shares: auth, usage plans, headers, errors, NextTokens.

- Auth: ``x-amz-access-token`` through ``lwa.lwa_caller(kind="seller")``; the selling partner is
  the token's subject. A seller with no marketplace in the called region gets the same 403
  Amazon answers for a token used against the wrong regional endpoint.
- Usage plans: one token bucket per (app, seller, region, operation) with the rate and burst of
  the operation's model file (``RATES``), counted through ``sandbox.limits.bucket_take`` so the
  sandbox time scale applies. Over the limit: 429 ``QuotaExceeded``. Throttling is decided
  before validation, as at Amazon's gateway: a 400 still spends a token.
- Every response carries ``x-amzn-RequestId`` and ``x-amzn-RateLimit-Limit`` (Amazon sends the
  latter "when available"; the sandbox always does, 429s included).
- Money in the Finances APIs is a JSON *number* (``BigDecimal``): ``json_response`` writes
  ``Decimal`` values as numbers without going through float.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from sandbox.amazon.lwa import lwa_caller
from sandbox.amazon.marketplaces import REGIONS, seller_marketplaces_in
from sandbox.amazon.models import LwaApp, Seller
from sandbox.faults import with_faults
from sandbox.limits import bucket_take
from sandbox.state import sandbox_state

# Operation -> (rate per second as the header writes it, burst), from each model's usage plan.
RATES: dict[str, tuple[str, int]] = {
    "getMarketplaceParticipations": ("0.016", 15),
    "getOrders": ("0.0167", 20),
    "getOrderItems": ("0.5", 30),
    "getReports": ("0.0222", 10),
    "getReport": ("2.0", 15),
    "createReport": ("0.0167", 15),
    "getReportDocument": ("0.0167", 15),
    "listFinancialEventGroups": ("0.5", 30),
    "listFinancialEventsByGroupId": ("0.5", 30),
    "listTransactions": ("0.5", 10),
}

GENERIC_INVALID = (
    "The input you have submitted is not valid. Please check your input and try again."
)
# Amazon asks that Before/Until dates be at least two minutes in the past.
SETTLE_DELAY = timedelta(minutes=2)


@dataclass(frozen=True)
class SpCall:
    """The authenticated caller of one operation."""

    request: HttpRequest
    app: LwaApp
    seller: Seller
    region: str
    marketplace_ids: list[str]  # the seller's marketplaces in this region
    now: datetime


SpView = Callable[..., HttpResponse]


# --------------------------------------------------------------------------- responses


_DECIMAL_MARK = "\u0000decimal:"
_DECIMAL_RE = re.compile(r'"\\u0000decimal:(-?[0-9]+(?:\.[0-9]+)?)"')


class _Encoder(json.JSONEncoder):
    def default(self, o: object) -> object:
        if isinstance(o, Decimal):
            return f"{_DECIMAL_MARK}{o:f}"
        return super().default(o)


def dumps(data: object) -> str:
    """JSON with ``Decimal`` written as a plain number (``-3.90``), never via float."""
    return _DECIMAL_RE.sub(r"\1", json.dumps(data, cls=_Encoder, ensure_ascii=False))


def json_response(data: object, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps(data), status=status, content_type="application/json")


def error(status: int, code: str, message: str, details: str = "") -> HttpResponse:
    """Amazon's error body: ``{"errors": [{"code", "message", "details"}]}``."""
    return json_response(
        {"errors": [{"code": code, "message": message, "details": details}]}, status
    )


def invalid(message: str = GENERIC_INVALID, details: str = "") -> HttpResponse:
    return error(400, "InvalidInput", message, details)


def quota_exceeded() -> HttpResponse:
    return error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")


def unauthorized() -> HttpResponse:
    return error(403, "Unauthorized", "Access to requested resource is denied.")


# --------------------------------------------------------------------------- the operation


def sp_operation(name: str) -> Callable[[SpView], SpView]:
    """Wrap a view ``view(call: SpCall, **kwargs)`` as the SP-API operation ``name``."""
    rate_text, burst = RATES[name]
    rate = float(rate_text)

    def decorate(view: SpView) -> SpView:
        @with_faults
        def faulty(request: HttpRequest, region: str, **kwargs: Any) -> HttpResponse:
            return _run(request, region, name, rate, burst, view, kwargs)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, region: str, **kwargs: Any) -> HttpResponse:
            if region not in REGIONS:
                raise Http404("no such SP-API region")
            response = faulty(request, region, **kwargs)
            # Outside the faults: a 500/503 carries the request id as Amazon's do.
            response["x-amzn-RequestId"] = str(uuid.uuid4())
            response["x-amzn-RateLimit-Limit"] = rate_text
            return response

        return wrapper

    return decorate


def _run(
    request: HttpRequest,
    region: str,
    name: str,
    rate: float,
    burst: int,
    view: SpView,
    kwargs: dict[str, Any],
) -> HttpResponse:
    caller = lwa_caller(request, kind="seller")
    if isinstance(caller, JsonResponse):
        return caller
    seller = Seller.objects.filter(selling_partner_id=caller.subject_id).first()
    if seller is None:
        return unauthorized()
    key = f"amazon-sp:{caller.app.application_id}:{seller.selling_partner_id}:{region}:{name}"
    decision = bucket_take(key, rate=rate, burst=burst, scale=sandbox_state().time_scale)
    if not decision.allowed:
        return quota_exceeded()
    marketplaces = seller_marketplaces_in(list(seller.marketplace_ids), region)
    if not marketplaces:
        return unauthorized()  # a token used against another region's endpoint
    call = SpCall(
        request=request,
        app=caller.app,
        seller=seller,
        region=region,
        marketplace_ids=marketplaces,
        now=datetime.now(UTC),
    )
    return view(call, **kwargs)


# --------------------------------------------------------------------------- parameters


def list_param(request: HttpRequest, name: str) -> list[str]:
    """A Swagger ``csv`` array; repeated keys (``a=1&a=2``) are accepted as well."""
    values: list[str] = []
    for raw in request.GET.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


_ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def parse_iso(value: str) -> datetime:
    """An ISO 8601 date-time (or date: midnight); without an offset it is UTC.

    ValueError when malformed, e.g. ``2026-01-01 00:00:00+01:00`` (an unquoted ``+`` arrives
    as a space) or ``01/02/2026``.
    """
    if not _ISO_RE.match(value):
        raise ValueError(value)
    if "T" not in value:
        value += "T00:00:00"
    text = value.replace("Z", "+00:00")
    if "." in text:  # Python reads at most microseconds
        head, _, tail = text.partition(".")
        digits = re.match(r"\d+", tail)
        assert digits is not None
        text = f"{head}.{digits.group()[:6].ljust(6, '0')}{tail[digits.end() :]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def int_param(request: HttpRequest, name: str, default: int) -> int | None:
    """The integer value, the default when absent, None when not an integer."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


# --------------------------------------------------------------------------- NextTokens


def token_encode(kind: str, data: dict[str, Any]) -> str:
    """An opaque, tamper-evident page token in Amazon's style (base64 with ``+/=``)."""
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(settings.SECRET_KEY.encode(), kind.encode() + payload, hashlib.sha256)
    return base64.b64encode(mac.digest()[:12] + zlib.compress(payload)).decode()


def token_decode(kind: str, token: str) -> dict[str, Any] | None:
    """The data of a token this sandbox issued for ``kind``; None for anything else."""
    try:
        raw = base64.b64decode(token.encode(), validate=True)
        payload = zlib.decompress(raw[12:])
    except (ValueError, zlib.error):
        return None
    mac = hmac.new(settings.SECRET_KEY.encode(), kind.encode() + payload, hashlib.sha256)
    if not hmac.compare_digest(mac.digest()[:12], raw[:12]):
        return None
    data = json.loads(payload)
    return data if isinstance(data, dict) else None

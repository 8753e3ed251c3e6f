"""The Amazon Business Reconciliation API (version 2021-01-08), as the sandbox serves it.

Reference: https://developer-docs.amazon.com/amazon-business/docs/reconciliation-api-v1-reference
Model: Reconciliation_API.json (../shared/specs/amazon-business/). Operations:

- ``GET /reconciliation/2021-01-08/transactions`` getTransactions
- ``POST /reconciliation/2021-01-08/invoices/batch/paymentDetails`` getBatchInvoicePaymentDetails
- ``POST /reconciliation/2021-01-08/invoices`` getInvoiceDetailsByOrderLineItems

Every call needs an LWA access token (``x-amz-access-token``) from an Amazon Business
authorization; the token's subject is the business account whose data is served. Each
operation has the spec's usage plan, 2 requests per second with a burst of 10, counted per
business account, application and operation (the spec gives the plan per operation; Amazon does
not say more), time-scaled like every sandbox limit. A 429 carries ``QuotaExceeded`` and, like
every response, ``x-amzn-RateLimit-Limit`` and ``x-amzn-RequestId``.

Behaviour Amazon does not document, and what the sandbox does instead:
- getTransactions returns transactions with ``feedStartDate <= feedDate < feedEndDate`` and never
  one whose feedDate is still in the future ("the date after which you can query it"), oldest
  feedDate first, 100 per page. No maximum range is documented, so none is enforced; a start
  that is not before the end is refused. Dates must be ISO 8601 date-times; one without an
  offset is read as UTC.
- The spec asks for ``nextPageToken`` alone on later pages but also marks the dates required, so
  the dates may come along with the token; they must then be the ones the token was issued for.
  Tokens are signed and bound to the account: an altered token, or another account's, is
  refused. Pages are cut on (feedDate, id), so purchases added while a client pages through a
  range are neither skipped nor returned twice.
- getBatchInvoicePaymentDetails answers an invoice id that is not a Pay by Invoice invoice of
  the account with an ERROR result (``NOT_FOUND``), one result per id asked for, in order.
- getInvoiceDetailsByOrderLineItems leaves out line items it does not know (Amazon's own sandbox
  example answers two requested line items with one), and only gives the fields the spec does
  not mark "Available for JP region only" (the sandbox's buyer is in the US).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.amazon.lwa import LwaCaller, lwa_caller
from sandbox.business.models import BusinessAccount, Invoice, Transaction
from sandbox.faults import with_faults
from sandbox.limits import bucket_take
from sandbox.state import sandbox_state

RATE = 2.0  # requests per second, every Reconciliation operation
BURST = 10
PAGE_SIZE = 100
MAX_INVOICE_IDS = 25  # GetBatchInvoicePaymentDetailsRequest.invoiceIds maxItems
MAX_INVOICE_ID_LENGTH = 255
MAX_ORDER_LINE_ITEMS = 25  # InvoiceDetailsByOrderLineItemsRequest.orderLineItems
TOKEN_SALT = "sandbox.business.getTransactions.nextPageToken"

INVALID = "INVALID_REQUEST_PARAMETER"

Operation = Callable[[HttpRequest, BusinessAccount], JsonResponse]


def _headers(response: HttpResponse) -> HttpResponse:
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    response["x-amzn-RateLimit-Limit"] = str(RATE)
    return response


def error_response(status: int, code: str, message: str, details: str = "") -> JsonResponse:
    """An ``ErrorList``: the only error shape the spec uses."""
    error = {"code": code, "message": message}
    if details:
        error["details"] = details
    response = JsonResponse({"errors": [error]}, status=status)
    _headers(response)
    return response


def _quota_exceeded() -> JsonResponse:
    return error_response(
        429, "QuotaExceeded", "You exceeded your quota for the requested resource."
    )


def operation(name: str, method: str) -> Callable[[Operation], Callable[..., HttpResponse]]:
    """Token check, the caller's account, the usage plan, then the operation itself."""

    def decorate(view: Operation) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @with_faults
        @functools.wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            if request.method != method:
                return error_response(
                    405, "MethodNotAllowed", f"Method {request.method} is not allowed here."
                )
            caller = lwa_caller(request, kind="business")
            if not isinstance(caller, LwaCaller):
                return _headers(caller)
            account = BusinessAccount.objects.filter(account_id=caller.subject_id).first()
            if account is None:
                return error_response(
                    403, "Unauthorized", "Access to requested resource is denied."
                )
            decision = bucket_take(
                f"business:{account.account_id}:{caller.app.client_id}:{name}",
                rate=RATE,
                burst=BURST,
                scale=sandbox_state().time_scale,
            )
            if not decision.allowed:
                return _quota_exceeded()
            return _headers(view(request, account))

        return wrapper

    return decorate


# --------------------------------------------------------------------------- getTransactions


class _BadRequest(Exception):
    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message, self.details = message, details


def _feed_date(raw: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is UTC (the spec's own example has none)."""
    bad = _BadRequest(f"Input date [{raw}] is not in the expected ISO8601 format.")
    if "T" not in raw:
        raise bad
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise bad from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _token_issue(
    account: BusinessAccount, start: datetime, end: datetime, last: Transaction
) -> str:
    payload = {
        "a": account.account_id,
        "s": start.isoformat(),
        "e": end.isoformat(),
        "f": last.feed_date.astimezone(UTC).isoformat(),
        "i": last.pk,
    }
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def _token_read(account: BusinessAccount, raw: str) -> tuple[datetime, datetime, datetime, int]:
    invalid = _BadRequest("The nextPageToken is invalid.", "Send the nextPageToken unchanged.")
    try:
        payload = signing.loads(raw, salt=TOKEN_SALT)
        if payload["a"] != account.account_id:
            raise invalid
        return (
            datetime.fromisoformat(payload["s"]),
            datetime.fromisoformat(payload["e"]),
            datetime.fromisoformat(payload["f"]),
            int(payload["i"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None


def _transactions_range(
    request: HttpRequest, account: BusinessAccount
) -> tuple[datetime, datetime, tuple[datetime, int] | None]:
    params = request.GET
    raw_start, raw_end = params.get("feedStartDate"), params.get("feedEndDate")
    raw_token = params.get("nextPageToken")
    start = _feed_date(raw_start) if raw_start else None
    end = _feed_date(raw_end) if raw_end else None
    if raw_token:
        token_start, token_end, last_feed, last_id = _token_read(account, raw_token)
        if (start is not None and start != token_start) or (end is not None and end != token_end):
            raise _BadRequest(
                "The nextPageToken does not belong to this feedStartDate and feedEndDate.",
                "To get the next page, send nextPageToken as the only parameter.",
            )
        return token_start, token_end, (last_feed, last_id)
    if start is None or end is None:
        missing = [n for n, v in (("feedStartDate", start), ("feedEndDate", end)) if v is None]
        raise _BadRequest(
            "Missing required request parameters.",
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required.",
        )
    if start >= end:
        raise _BadRequest(
            "Invalid date range.",
            f"feedStartDate [{raw_start}] must be before feedEndDate [{raw_end}].",
        )
    return start, end, None


@operation("getTransactions", "GET")
def get_transactions(request: HttpRequest, account: BusinessAccount) -> JsonResponse:
    """Reference: https://developer-docs.amazon.com/amazon-business/reference/gettransactions"""
    try:
        start, end, after = _transactions_range(request, account)
    except _BadRequest as exc:
        return error_response(400, INVALID, exc.message, exc.details)
    rows = account.transactions.filter(
        feed_date__gte=start, feed_date__lt=end, feed_date__lte=timezone.now()
    ).order_by("feed_date", "id")
    if after is not None:
        last_feed, last_id = after
        rows = rows.filter(Q(feed_date__gt=last_feed) | Q(feed_date=last_feed, id__gt=last_id))
    page = list(rows.only("id", "feed_date", "data")[: PAGE_SIZE + 1])
    body: dict[str, Any] = {"transactions": [row.data for row in page[:PAGE_SIZE]]}
    if len(page) > PAGE_SIZE:
        body["nextPageToken"] = _token_issue(account, start, end, page[PAGE_SIZE - 1])
    return JsonResponse(body)


# --------------------------------------------------------------------------- invoices


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest(
            "The request contains invalid parameters.", "The request body is not valid JSON."
        ) from None


def _invoice_ids(request: HttpRequest) -> list[str]:
    body = _json_body(request)
    ids = body.get("invoiceIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        raise _BadRequest(
            "The request contains invalid parameters.",
            "The invoiceIds array must contain at least one invoice ID.",
        )
    if len(ids) > MAX_INVOICE_IDS:
        raise _BadRequest(
            "The request contains invalid parameters.",
            f"The invoiceIds array must contain at most {MAX_INVOICE_IDS} invoice IDs.",
        )
    for value in ids:
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_INVOICE_ID_LENGTH:
            raise _BadRequest(
                "The request contains invalid parameters.",
                f"Each invoice ID must be a string of 1 to {MAX_INVOICE_ID_LENGTH} characters.",
            )
    return ids


@operation("getBatchInvoicePaymentDetails", "POST")
def get_batch_invoice_payment_details(
    request: HttpRequest, account: BusinessAccount
) -> JsonResponse:
    """Reference: https://developer-docs.amazon.com/amazon-business/reference/getbatchinvoicepaymentdetails"""
    try:
        ids = _invoice_ids(request)
    except _BadRequest as exc:
        return error_response(400, INVALID, exc.message, exc.details)
    now = timezone.now()
    invoices = {
        i.invoice_id: i for i in Invoice.objects.filter(account=account, invoice_id__in=ids)
    }
    results: list[dict[str, Any]] = []
    for invoice_id in ids:
        invoice = invoices.get(invoice_id)
        if invoice is None:
            results.append(
                {
                    "invoiceId": invoice_id,
                    "resultType": "ERROR",
                    "error": {"code": "NOT_FOUND", "message": "Invoice not found."},
                }
            )
            continue
        results.append(
            {
                "invoiceId": invoice_id,
                "resultType": "SUCCESS",
                "paymentDetails": {
                    "status": invoice.status_at(now),
                    "dueDate": invoice.due_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            }
        )
    return JsonResponse({"invoicePaymentDetailsResults": results})


def _order_line_items(request: HttpRequest) -> list[dict[str, str]]:
    body = _json_body(request)
    items = body.get("orderLineItems") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _BadRequest("Missing required request parameters.", "orderLineItems is required.")
    if len(items) > MAX_ORDER_LINE_ITEMS:
        raise _BadRequest(
            "The request contains invalid parameters.",
            f"The maximum number of order line items in each call is {MAX_ORDER_LINE_ITEMS}.",
        )
    keys = ("orderId", "orderLineItemId", "shipmentId")
    for item in items:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) and item[k] for k in keys
        ):
            raise _BadRequest(
                "Missing required request parameters.",
                "Each order line item needs orderId, orderLineItemId and shipmentId.",
            )
    return [{k: item[k] for k in keys} for item in items]


@operation("getInvoiceDetailsByOrderLineItems", "POST")
def get_invoice_details_by_order_line_items(
    request: HttpRequest, account: BusinessAccount
) -> JsonResponse:
    """Reference: https://developer-docs.amazon.com/amazon-business/reference/getinvoicedetailsbyorderlineitems"""
    try:
        wanted = _order_line_items(request)
    except _BadRequest as exc:
        return error_response(400, INVALID, exc.message, exc.details)
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    keys = {(w["orderId"], w["orderLineItemId"], w["shipmentId"]) for w in wanted}
    rows = account.transactions.filter(
        order_id__in={k[0] for k in keys}, feed_date__lte=timezone.now()
    ).order_by("feed_date", "id")
    for data in rows.values_list("data", flat=True):
        for item in data.get("transactionLineItems", []):
            key = (item["orderId"], item.get("orderLineItemId", ""), item.get("shipmentId", ""))
            if key not in keys:
                continue
            invoices = found.setdefault(key, [])
            if any(i["invoiceNumber"] == data["invoiceNumber"] for i in invoices):
                continue
            invoices.append(
                {
                    "invoiceNumber": data["invoiceNumber"],
                    "invoiceDate": data["transactionDate"],
                    "invoiceType": (
                        "STANDARD" if data["transactionType"] == "CHARGE" else "CREDIT_MEMO"
                    ),
                }
            )
    results = []
    for w in wanted:
        key = (w["orderId"], w["orderLineItemId"], w["shipmentId"])
        if key in found:
            results.append({"orderLineItem": w, "invoiceDetails": found[key]})
    return JsonResponse({"invoiceDetailsByOrderLineItems": results})


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return error_response(404, "NotFound", "The requested resource was not found.")

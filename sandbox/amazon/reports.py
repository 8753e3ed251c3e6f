"""Reports API 2021-06-30: settlement reports, order reports on request, presigned downloads.

Reference: shared/specs/amazon/reports_2021-06-30.json; shared/reference/amazon-api.md §6.

- getReports needs ``reportTypes`` (≤10) or ``nextToken``, and with ``nextToken`` *nothing
  else* (Amazon: "NextToken cannot be specified with other input parameters", details listing
  the offending names). ``createdSince`` defaults to, and may not reach back beyond, 90 days:
  reports are retained 90 days (the refusal's wording is the sandbox's; the limit is the
  model's). Newest first. ``marketplaceIds`` does not filter settlement reports: each lists
  every marketplace of the account's region (models #1557, #2911).
- createReport refuses settlement types as Amazon does ("Request for report type 1118 is not
  allowed at this time"; 1117 for the older flat file, both observed; the XML type's number is
  not documented and 1116 is the sandbox's guess). It generates the two order-tracking types
  (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` / ``…_BY_ORDER_DATE_GENERAL``);
  any other type is refused with a message saying the sandbox does not generate it. A report
  waits IN_QUEUE for 5 and runs IN_PROGRESS for 15 provider-seconds (divided by the time
  scale) before it is DONE; a range over 30 days ends FATAL with a document that says so
  (selling-partner-api-docs #3148: "Date range exceeded. Report can be requested only upto 30
  days").
- getReportDocument returns a URL that works for 5 minutes (``X-Amz-Expires=300``), served by
  `document_download` like S3: an expired URL is 403 ``AccessDenied``, a forged one 403
  ``SignatureDoesNotMatch`` (S3's XML). Settlement V2 and order reports are gzipped
  (``compressionAlgorithm: GZIP``); older flat files are not. With
  ``enableContentEncodingUrlHeader=true`` the download says ``Content-Encoding: gzip``.
- Order reports are encoded as Amazon encodes flat files per region (EU ``Cp1252``, NA and FE
  UTF-8, both named in the Content-Type; models #2748 and jrl84/amazon-sp-api #144 show the
  same split for listings reports). Settlement files carry no charset (docs #2338).
- Unknown report or document ids: 400 ``Invalid input`` as the model's sandbox cases answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from sandbox.amazon.marketplaces import MARKETPLACE_INFO, REGIONS
from sandbox.amazon.models import Order, Report, ReportDocument
from sandbox.amazon.spapi import (
    SpCall,
    error,
    int_param,
    json_response,
    list_param,
    parse_iso,
    sp_operation,
    token_decode,
    token_encode,
)
from sandbox.amazon.store import (
    FLAT_REPORT,
    V2_REPORT,
    XML_REPORT,
    document_create,
    report_id_for,
)
from sandbox.state import sandbox_state

RETENTION = timedelta(days=90)
URL_LIFETIME = timedelta(minutes=5)
QUEUE_SECONDS = 5.0
PROCESSING_SECONDS = 15.0
ORDER_REPORT_MAX_RANGE = timedelta(days=30)
PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
SETTLEMENT_TYPE_NUMBERS = {FLAT_REPORT: 1117, V2_REPORT: 1118, XML_REPORT: 1116}
ORDER_REPORTS = {
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": "last_update_date",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": "purchase_date",
}
_TOKEN_NAMES = (
    "createdUntil",
    "createdSince",
    "pageSize",
    "marketplaceIds",
    "processingStatuses",
    "reportTypes",
)


def _invalid(details: str = "Invalid input") -> HttpResponse:
    return error(400, "InvalidInput", "Invalid input", details)


def _iso(value: datetime) -> str:
    """Reports API dates: ``2021-06-18T08:59:40+00:00``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def report_status(report: Report, now: datetime) -> str:
    if now < report.processing_start:
        return "IN_QUEUE"
    if now < report.processing_end:
        return "IN_PROGRESS"
    return report.final_status


def _visible(report: Report, now: datetime) -> bool:
    return now - RETENTION <= report.created_time <= now


def report_to_api(report: Report, now: datetime) -> dict[str, Any]:
    status = report_status(report, now)
    data: dict[str, Any] = {
        "reportId": report.report_id,
        "reportType": report.report_type,
        "dataStartTime": _iso(report.data_start),
        "dataEndTime": _iso(report.data_end),
        "createdTime": _iso(report.created_time),
        "processingStatus": status,
        "marketplaceIds": list(report.marketplace_ids),
    }
    if status != "IN_QUEUE":
        data["processingStartTime"] = _iso(report.processing_start)
    if status not in ("IN_QUEUE", "IN_PROGRESS"):
        data["processingEndTime"] = _iso(report.processing_end)
        if report.document_id is not None and report.document is not None:
            data["reportDocumentId"] = report.document.document_id
    return data


# --------------------------------------------------------------------------- getReports


@csrf_exempt
@require_http_methods(["GET", "POST"])
def reports(request: HttpRequest, region: str) -> HttpResponse:
    """``/reports/2021-06-30/reports``: getReports (GET) and createReport (POST)."""
    if request.method == "POST":
        return create_report(request, region=region)
    return get_reports(request, region=region)


@sp_operation("getReports")
def get_reports(call: SpCall) -> HttpResponse:
    params = call.request.GET
    now = call.now
    if "nextToken" in params:
        others = [name for name in _TOKEN_NAMES if name in params]
        if others:
            return error(
                400,
                "InvalidInput",
                "NextToken cannot be specified with other input parameters",
                "".join(f"{name};" for name in others),
            )
        query = token_decode("getReports", params["nextToken"])
        if query is None or query.get("seller") != call.seller.selling_partner_id:
            return _invalid("Invalid nextToken")
    else:
        parsed = _report_query(call)
        if isinstance(parsed, HttpResponse):
            return parsed
        query = parsed
    since, until = parse_iso(query["since"]), parse_iso(query["until"])
    candidates = (
        Report.objects.select_related("document")
        .filter(
            seller=call.seller,
            region=call.region,
            report_type__in=query["types"],
            created_time__gte=max(since, now - RETENTION),
            created_time__lte=min(until, now),
        )
        .order_by("-created_time", "-report_id")
    )
    after = query.get("after")
    wanted_mps = set(query["mps"])
    page: list[dict[str, Any]] = []
    more = False
    for report in candidates:
        key = [_iso(report.created_time), report.report_id]
        if after is not None and key >= after:
            continue  # already on an earlier page (keys fall as the list goes on)
        if query["statuses"] and report_status(report, now) not in query["statuses"]:
            continue
        if (
            wanted_mps
            and report.settlement_id is None
            and not wanted_mps & set(report.marketplace_ids)
        ):
            continue
        if len(page) == query["size"]:
            more = True
            break
        page.append(report_to_api(report, now))
    body: dict[str, Any] = {"reports": page}
    if more:
        last = page[-1]
        body["nextToken"] = token_encode(
            "getReports", query | {"after": [last["createdTime"], last["reportId"]]}
        )
    return json_response(body)


def _report_query(call: SpCall) -> dict[str, Any] | HttpResponse:
    request, now = call.request, call.now
    types = list_param(request, "reportTypes")
    if not types:
        return _invalid("Either reportTypes or nextToken is required.")
    if len(types) > 10:
        return _invalid("reportTypes must contain between 1 and 10 values.")
    statuses = list_param(request, "processingStatuses")
    if any(s not in PROCESSING_STATUSES for s in statuses):
        return _invalid("Invalid input in processing status")
    mps = list_param(request, "marketplaceIds")
    if len(mps) > 10 or any(m not in MARKETPLACE_INFO for m in mps):
        return _invalid("Invalid input in marketplaceIds")
    size = int_param(request, "pageSize", 10)
    if size is None or not 1 <= size <= 100:
        return _invalid("pageSize must be between 1 and 100.")
    try:
        since = parse_iso(request.GET["createdSince"]) if "createdSince" in request.GET else None
        until = parse_iso(request.GET["createdUntil"]) if "createdUntil" in request.GET else now
    except ValueError:
        return _invalid("createdSince and createdUntil must be ISO 8601 date-times.")
    # A minute of slack: a client computing "90 days ago" a moment before the call is fine.
    if since is not None and since < now - RETENTION - timedelta(minutes=1):
        return _invalid("createdSince cannot be more than 90 days in the past.")
    since = since or now - RETENTION
    if until < since:
        return _invalid("createdUntil must be after createdSince.")
    return {
        "seller": call.seller.selling_partner_id,
        "types": types,
        "statuses": statuses,
        "mps": mps,
        "size": size,
        "since": _iso(since),
        "until": _iso(until),
    }


# --------------------------------------------------------------------------- getReport


@require_GET
@sp_operation("getReport")
def get_report(call: SpCall, report_id: str) -> HttpResponse:
    report = (
        Report.objects.select_related("document")
        .filter(seller=call.seller, region=call.region, report_id=report_id)
        .first()
    )
    if report is None or not _visible(report, call.now):
        return _invalid()
    return json_response(report_to_api(report, call.now))


# --------------------------------------------------------------------------- createReport


@sp_operation("createReport")
def create_report(call: SpCall) -> HttpResponse:
    try:
        spec = json.loads(call.request.body or b"null")
    except ValueError:
        return _invalid("The request body is not valid JSON.")
    if not isinstance(spec, dict) or not isinstance(spec.get("reportType"), str):
        return _invalid("reportType is required.")
    report_type = spec["reportType"]
    if report_type in SETTLEMENT_TYPE_NUMBERS:
        return error(
            400,
            "InvalidInput",
            f"Request for report type {SETTLEMENT_TYPE_NUMBERS[report_type]} is not allowed "
            "at this time",
        )
    mps = spec.get("marketplaceIds")
    if (
        not isinstance(mps, list)
        or not 1 <= len(mps) <= 25
        or not all(isinstance(m, str) for m in mps)
    ):
        return _invalid("marketplaceIds must contain between 1 and 25 marketplace ids.")
    if any(m not in call.marketplace_ids for m in mps):
        return _invalid("Invalid input in marketplaceIds")
    if report_type not in ORDER_REPORTS:
        return _invalid(
            f"The sandbox does not generate {report_type}; it generates "
            + " and ".join(ORDER_REPORTS)
        )
    now = call.now
    try:
        start = parse_iso(spec["dataStartTime"]) if spec.get("dataStartTime") else now
        end = parse_iso(spec["dataEndTime"]) if spec.get("dataEndTime") else now
    except (ValueError, TypeError):
        return _invalid("dataStartTime and dataEndTime must be ISO 8601 date-times.")
    if start > now or end > now:
        return _invalid("dataStartTime and dataEndTime must be prior to or equal to now.")
    if start > end:
        return _invalid("dataStartTime must be before dataEndTime.")

    if end - start > ORDER_REPORT_MAX_RANGE:
        text, status = "Date range exceeded. Report can be requested only upto 30 days\n", "FATAL"
    else:
        text, status = orders_report_text(call, mps, ORDER_REPORTS[report_type], start, end), "DONE"
    cp1252 = call.region == "eu"
    document = document_create(
        seller=call.seller,
        region=call.region,
        text=text,
        gzipped=True,
        content_type=f"text/plain; charset={'Cp1252' if cp1252 else 'UTF-8'}",
        encoding="cp1252" if cp1252 else "utf-8",
    )
    scale = sandbox_state().time_scale
    queued = now + timedelta(seconds=QUEUE_SECONDS / scale)
    report = Report.objects.create(
        seller=call.seller,
        region=call.region,
        report_id=report_id_for(call.seller, "create", uuid.uuid4()),
        report_type=report_type,
        marketplace_ids=mps,
        data_start=start,
        data_end=end,
        created_time=now,
        processing_start=queued,
        processing_end=queued + timedelta(seconds=PROCESSING_SECONDS / scale),
        final_status=status,
        document=document,
    )
    return json_response({"reportId": report.report_id}, status=202)


ORDER_REPORT_COLUMNS = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "url",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
)
_REPORT_STATUS = {"Canceled": "Cancelled"}


def orders_report_text(
    call: SpCall, marketplace_ids: list[str], field: str, start: datetime, end: datetime
) -> str:
    """The order-tracking flat file (32 columns, one row per item, ``+00:00`` dates)."""
    orders = Order.objects.filter(
        seller=call.seller,
        marketplace_id__in=marketplace_ids,
        **{f"{field}__gte": start, f"{field}__lte": end},
    ).order_by(field, "id")
    lines = ["\t".join(ORDER_REPORT_COLUMNS)]
    for order in orders.iterator(chunk_size=2000):
        lines.extend(_order_lines(order))
    return "\n".join(lines) + "\n"


def _amount(money: dict[str, str] | None, *, negate: bool = False) -> str:
    if not money:
        return ""
    value = money["Amount"]
    if negate and value not in ("0.00", "0"):
        return "-" + value
    return value


def _order_lines(order: Order) -> list[str]:
    data: dict[str, Any] = order.data
    status = _REPORT_STATUS.get(order.status, order.status)
    address = data.get("ShippingAddress") or {}
    buyer = data.get("BuyerInfo") or {}
    lines = []
    for item in order.items:
        if order.status == "Shipped":
            item_status = "Shipped"
        elif order.status == "Canceled":
            item_status = "Cancelled"
        else:
            item_status = "Unshipped"
        gift = item.get("BuyerInfo") or {}
        cells = [
            order.amazon_order_id,
            order.seller_order_id,
            order.purchase_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            order.last_update_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            status,
            "Amazon" if order.fulfillment_channel == "AFN" else "Merchant",
            data.get("SalesChannel", ""),
            "",
            "",
            data.get("ShipServiceLevel", ""),
            item.get("Title", ""),
            item.get("SellerSKU", ""),
            item.get("ASIN", ""),
            item_status,
            str(item.get("QuantityOrdered", "")),
            (item.get("ItemPrice") or {}).get("CurrencyCode", ""),
            _amount(item.get("ItemPrice")),
            _amount(item.get("ItemTax")),
            _amount(item.get("ShippingPrice")),
            _amount(item.get("ShippingTax")),
            _amount(gift.get("GiftWrapPrice")),
            _amount(gift.get("GiftWrapTax")),
            _amount(item.get("PromotionDiscount"), negate=True),
            _amount(item.get("ShippingDiscount"), negate=True),
            address.get("City", ""),
            address.get("StateOrRegion", ""),
            address.get("PostalCode", ""),
            address.get("CountryCode", ""),
            ",".join(item.get("PromotionIds") or []),
            "true" if data.get("IsBusinessOrder") else "false",
            buyer.get("PurchaseOrderNumber", ""),
            "BusinessPrice" if data.get("IsBusinessOrder") else "",
        ]
        lines.append("\t".join(cells))
    return lines


# --------------------------------------------------------------------------- documents


@require_GET
@sp_operation("getReportDocument")
def get_report_document(call: SpCall, document_id: str) -> HttpResponse:
    document = ReportDocument.objects.filter(seller=call.seller, document_id=document_id).first()
    visible = document is not None and any(
        _visible(r, call.now) and report_status(r, call.now) in ("DONE", "FATAL")
        for r in Report.objects.filter(document=document, region=call.region)
    )
    if document is None or not visible:
        return _invalid()
    encoding = (
        call.request.GET.get("enableContentEncodingUrlHeader", "").lower() == "true"
        and document.compression == "GZIP"
    )
    body: dict[str, Any] = {
        "reportDocumentId": document.document_id,
        "url": presign(call.region, document.document_id, issued=call.now, gzip_header=encoding),
    }
    if document.compression:
        body["compressionAlgorithm"] = document.compression
    return json_response(body)


def _signature(region: str, document_id: str, stamp: str, gzip_header: bool) -> str:
    message = f"{region}|{document_id}|{stamp}|{int(URL_LIFETIME.total_seconds())}|{gzip_header}"
    return hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def presign(region: str, document_id: str, *, issued: datetime, gzip_header: bool = False) -> str:
    """A URL like S3's presigned ones, good for five minutes from ``issued``."""
    stamp = issued.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Date": stamp,
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Expires": str(int(URL_LIFETIME.total_seconds())),
    }
    if gzip_header:
        query["response-content-encoding"] = "gzip"
    query["X-Amz-Signature"] = _signature(region, document_id, stamp, gzip_header)
    return f"{settings.SANDBOX_URL}/amazon/sp/{region}/_s3/{document_id}?{urlencode(query)}"


def _s3_error(status: int, code: str, message: str, extra: str = "") -> HttpResponse:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId><HostId>{uuid.uuid4().hex}</HostId></Error>"
    )
    return HttpResponse(body, status=status, content_type="application/xml")


@require_GET
def document_download(request: HttpRequest, region: str, document_id: str) -> HttpResponse:
    """The presigned URL's target (S3 in reality): the bytes, or S3's 403/404 XML."""
    if region not in REGIONS:
        return _s3_error(404, "NoSuchBucket", "The specified bucket does not exist")
    params = request.GET
    stamp = params.get("X-Amz-Date", "")
    gzip_header = params.get("response-content-encoding") == "gzip"
    expected = _signature(region, document_id, stamp, gzip_header)
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")) or params.get(
        "X-Amz-Expires"
    ) != str(int(URL_LIFETIME.total_seconds())):
        return _s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    issued = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if now > issued + URL_LIFETIME:
        return _s3_error(
            403,
            "AccessDenied",
            "Request has expired",
            f"<X-Amz-Expires>{int(URL_LIFETIME.total_seconds())}</X-Amz-Expires>"
            f"<Expires>{(issued + URL_LIFETIME).strftime('%Y-%m-%dT%H:%M:%SZ')}</Expires>"
            f"<ServerTime>{now.strftime('%Y-%m-%dT%H:%M:%SZ')}</ServerTime>",
        )
    document = ReportDocument.objects.filter(document_id=document_id).first()
    if document is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    if gzip_header:
        response["Content-Encoding"] = "gzip"
    return response

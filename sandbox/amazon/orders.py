"""Orders API v0: getOrders and getOrderItems over the seller's stored orders.

Reference: shared/specs/amazon/ordersV0.json; shared/reference/amazon-api.md §4.

Validation follows the model's parameter notes, with the messages Amazon is seen to send:
- ``MarketplaceIds`` is required (≤50, the seller's marketplaces of this region);
- exactly one of ``CreatedAfter`` / ``LastUpdatedAfter``; Created* and LastUpdated* never mix;
- ``CreatedBefore`` / ``LastUpdatedBefore`` at least two minutes before now and not before the
  After date; a violation is the generic "The input you have submitted is not valid. Please
  check your input and try again." with empty details (models #974, #2233);
- malformed dates: "Invalid date-time field(s) [createdAfter]." (models #1437 shape);
- a NextToken this server did not issue: "We could not decode your NextToken. Possible reasons
  include: a transmission error, improper quoting or a truncation problem." (models #2382).
A NextToken carries the filters of the first call; filters sent along with it are ignored.
Unknown or foreign order ids in getOrderItems: 400 InvalidInput with the generic message
(models #4979). Plain LWA tokens get no PII: ``BuyerInfo.BuyerEmail``/``BuyerName`` are left
out, as Amazon has done since 2023 without a Restricted Data Token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from sandbox.amazon.models import Order
from sandbox.amazon.spapi import (
    GENERIC_INVALID,
    SETTLE_DELAY,
    SpCall,
    int_param,
    invalid,
    iso_z,
    json_response,
    list_param,
    parse_iso,
    sp_operation,
    token_decode,
    token_encode,
)

ORDER_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
)
FULFILLMENT_CHANNELS = ("AFN", "MFN")
BAD_NEXT_TOKEN = (
    "We could not decode your NextToken. Possible reasons include: a transmission error, "
    "improper quoting or a truncation problem."
)
PII = ("BuyerEmail", "BuyerName")
ITEMS_PER_PAGE = 100


def _enum_error(values: list[str], member: str, allowed: tuple[str, ...]) -> HttpResponse:
    return invalid(
        f"1 validation error detected: Value '[{', '.join(values)}]' at '{member}' failed to "
        "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value "
        f"set: [{', '.join(allowed)}]]"
    )


def _query(call: SpCall) -> dict[str, Any] | HttpResponse:
    """The filters of a first getOrders call, validated."""
    request, now = call.request, call.now
    params = request.GET
    mps = list_param(request, "MarketplaceIds")
    if not mps or len(mps) > 50:
        return invalid()
    if any(m not in call.marketplace_ids for m in mps):
        return invalid()
    created_after, updated_after = params.get("CreatedAfter"), params.get("LastUpdatedAfter")
    created_before, updated_before = params.get("CreatedBefore"), params.get("LastUpdatedBefore")
    if bool(created_after) == bool(updated_after):
        return invalid()  # neither, or both
    if (created_after and updated_before) or (updated_after and created_before):
        return invalid()
    bad = [
        name[0].lower() + name[1:]
        for name, value in (
            ("LastUpdatedAfter", updated_after),
            ("LastUpdatedBefore", updated_before),
            ("CreatedAfter", created_after),
            ("CreatedBefore", created_before),
        )
        if value and not _parses(value)
    ]
    if bad:
        return invalid(
            "This is an invalid input", f"Invalid date-time field(s) [{', '.join(bad)}]."
        )
    field = "purchase_date" if created_after else "last_update_date"
    after = parse_iso(created_after or updated_after or "")
    latest = now - SETTLE_DELAY
    before_text = created_before or updated_before
    before = parse_iso(before_text) if before_text else latest
    if before > latest or before < after or after > latest:
        return invalid()
    statuses = list_param(request, "OrderStatuses")
    if any(s not in ORDER_STATUSES for s in statuses):
        return _enum_error(statuses, "orderStatuses", ORDER_STATUSES)
    channels = list_param(request, "FulfillmentChannels")
    if any(c not in FULFILLMENT_CHANNELS for c in channels):
        return _enum_error(channels, "fulfillmentChannels", FULFILLMENT_CHANNELS)
    order_ids = list_param(request, "AmazonOrderIds")
    if len(order_ids) > 50:
        return invalid()
    size = int_param(request, "MaxResultsPerPage", 100)
    if size is None or not 1 <= size <= 100:
        return invalid()
    seller_order_id = params.get("SellerOrderId", "")
    if seller_order_id and (statuses or channels or updated_after or params.get("BuyerEmail")):
        return invalid()
    return {
        "seller": call.seller.selling_partner_id,
        "region": call.region,
        "mps": mps,
        "field": field,
        "after": iso_z(after),
        "before": iso_z(before),
        "statuses": statuses,
        "channels": channels,
        "ids": order_ids,
        "seller_order_id": seller_order_id,
        "buyer_email": params.get("BuyerEmail", ""),
        "size": size,
    }


def _parses(value: str) -> bool:
    try:
        parse_iso(value)
    except ValueError:
        return False
    return True


def order_to_api(order: Order) -> dict[str, Any]:
    data = dict(order.data)
    buyer = {k: v for k, v in (data.get("BuyerInfo") or {}).items() if k not in PII}
    if buyer:
        data["BuyerInfo"] = buyer
    else:
        data.pop("BuyerInfo", None)
    return data


@require_GET
@sp_operation("getOrders")
def get_orders(call: SpCall) -> HttpResponse:
    token = call.request.GET.get("NextToken")
    if token:
        query = token_decode("getOrders", token)
        if (
            query is None
            or query["seller"] != call.seller.selling_partner_id
            or query["region"] != call.region
        ):
            return invalid(BAD_NEXT_TOKEN)
    else:
        parsed = _query(call)
        if isinstance(parsed, HttpResponse):
            return parsed
        query = parsed
    field = query["field"]
    after, before = parse_iso(query["after"]), parse_iso(query["before"])
    orders = Order.objects.filter(
        seller=call.seller,
        marketplace_id__in=query["mps"],
        **{f"{field}__gte": after, f"{field}__lte": before},
    )
    if query["statuses"]:
        orders = orders.filter(status__in=query["statuses"])
    if query["channels"]:
        orders = orders.filter(fulfillment_channel__in=query["channels"])
    if query["ids"]:
        orders = orders.filter(amazon_order_id__in=query["ids"])
    if query["seller_order_id"]:
        orders = orders.filter(seller_order_id=query["seller_order_id"])
    if query["buyer_email"]:
        orders = orders.filter(data__BuyerInfo__BuyerEmail=query["buyer_email"])
    cursor = query.get("cursor")
    if cursor is not None:
        at, pk = parse_iso(cursor[0]), cursor[1]
        orders = orders.filter(Q(**{f"{field}__gt": at}) | Q(**{field: at, "pk__gt": pk}))
    page = list(orders.order_by(field, "pk")[: query["size"] + 1])
    body: dict[str, Any] = {"Orders": [order_to_api(o) for o in page[: query["size"]]]}
    if len(page) > query["size"]:
        last = page[query["size"] - 1]
        moment: datetime = getattr(last, field)
        body["NextToken"] = token_encode(
            "getOrders", query | {"cursor": [moment.isoformat(), last.pk]}
        )
    body["CreatedBefore" if field == "purchase_date" else "LastUpdatedBefore"] = query["before"]
    return json_response({"payload": body})


@require_GET
@sp_operation("getOrderItems")
def get_order_items(call: SpCall, order_id: str) -> HttpResponse:
    order = Order.objects.filter(
        seller=call.seller, amazon_order_id=order_id, marketplace_id__in=call.marketplace_ids
    ).first()
    if order is None:
        return invalid(GENERIC_INVALID)
    start = 0
    token = call.request.GET.get("NextToken")
    if token:
        data = token_decode("getOrderItems", token)
        if data is None or data.get("order") != order_id:
            return invalid(BAD_NEXT_TOKEN)
        start = int(data["start"])
    items = order.items[start : start + ITEMS_PER_PAGE]
    body: dict[str, Any] = {"OrderItems": items, "AmazonOrderId": order.amazon_order_id}
    if start + ITEMS_PER_PAGE < len(order.items):
        body["NextToken"] = token_encode(
            "getOrderItems", {"order": order_id, "start": start + ITEMS_PER_PAGE}
        )
    return json_response({"payload": body})

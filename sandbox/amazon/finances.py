"""Finances API v0 (event groups and their events) and 2024-06-19 (transactions).

Reference: shared/specs/amazon/financesV0.json and finances_2024-06-19.json;
shared/reference/amazon-api.md §5.

Both are built from the same stored postings (`FinancialTransaction`: the settlement rows of
one shipment, refund or fee), so events, transactions, the group's ``OriginalTotal`` and the
settlement file all add up to the same cent. Mapping of settlement rows to v0 events (the main
lists only; every other list is present and empty, as Amazon returns them):
- ``Order`` rows -> ``ShipmentEventList`` (``ItemChargeList`` with Principal, Tax,
  ShippingCharge, ShippingTax, GiftWrap, GiftWrapTax; ``ItemFeeList``; ``ItemTaxWithheldList``
  with the marketplace-facilitator taxes; ``PromotionList``);
- ``Refund`` rows -> ``RefundEventList`` (the same, as ``*AdjustmentList``s);
- account fees (subscription, storage, fees the hub has never seen) -> ``ServiceFeeEventList``;
- advertising (``Cost of Advertising``) -> ``ProductAdsPaymentEventList``;
- FBA inventory reimbursements and reserve holds/releases -> ``AdjustmentEventList``
  (``FBAInventoryReimbursement``; ``ReserveEvent`` for both reserve rows, the closest type the
  model documents).

Dates: Before dates default to, and may not be later than, two minutes before now; After dates
180 days apart from Before give an empty result (not an error), as the models say. Errors use
the models' own sandbox messages: "Date range is invalid." (groups), "Bad event group ID
provided." (events), "Start date cannot be null" (transactions).
listTransactions quirk kept from the model: when ``marketplaceId`` is given, US MFN orders are
left out ("If you want to retrieve MFN orders in the US store, do not supply the marketplaceId
parameter"). Every posting is ``RELEASED`` (the generator has no deferred transactions).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from sandbox.amazon.marketplaces import MARKETPLACE_INFO
from sandbox.amazon.models import FinancialEventGroup, FinancialTransaction
from sandbox.amazon.spapi import (
    SETTLE_DELAY,
    SpCall,
    int_param,
    invalid,
    iso_z,
    json_response,
    parse_iso,
    sp_operation,
    token_decode,
    token_encode,
)

MAX_SPAN = timedelta(days=180)
TRANSACTIONS_PER_PAGE = 100

EVENT_LISTS = (
    "ShipmentEventList",
    "ShipmentSettleEventList",
    "RefundEventList",
    "GuaranteeClaimEventList",
    "EBTRefundReimbursementOnlyEventList",
    "ChargebackEventList",
    "PayWithAmazonEventList",
    "ServiceProviderCreditEventList",
    "RetrochargeEventList",
    "RentalTransactionEventList",
    "ProductAdsPaymentEventList",
    "ServiceFeeEventList",
    "SellerDealPaymentEventList",
    "DebtRecoveryEventList",
    "LoanServicingEventList",
    "AdjustmentEventList",
    "SAFETReimbursementEventList",
    "SellerReviewEnrollmentPaymentEventList",
    "FBALiquidationEventList",
    "CouponPaymentEventList",
    "ImagingServicesFeeEventList",
    "NetworkComminglingTransactionEventList",
    "AffordabilityExpenseEventList",
    "AffordabilityExpenseReversalEventList",
    "RemovalShipmentEventList",
    "RemovalShipmentAdjustmentEventList",
    "TrialShipmentEventList",
    "TDSReimbursementEventList",
    "AdhocDisbursementEventList",
    "TaxWithholdingEventList",
    "ChargeRefundEventList",
    "FailedAdhocDisbursementEventList",
    "ValueAddedServiceChargeEventList",
    "CapacityReservationBillingEventList",
)
CHARGE_TYPES = {
    "Principal": "Principal",
    "Tax": "Tax",
    "Shipping": "ShippingCharge",
    "ShippingTax": "ShippingTax",
    "GiftWrap": "GiftWrap",
    "GiftWrapTax": "GiftWrapTax",
}
SERVICE_FEE_TYPES = {
    "Subscription Fee": "Subscription",
    "Storage Fee": "FBAStorageFee",
    "FBA Long-Term Storage Fee": "FBALongTermStorageFee",
}
RESERVES = ("Current Reserve Amount", "Previous Reserve Amount Balance")

Row = list[Any]  # [amount-type, amount-description, amount, order-item-code, sku, qty, promo]


def _money(currency: str, amount: Decimal) -> dict[str, Any]:
    return {"CurrencyCode": currency, "CurrencyAmount": amount}


def _dates(
    after_text: str | None, before_text: str | None, now: datetime, *, required: bool
) -> tuple[datetime, datetime] | None:
    """(after, before) or None when invalid; before defaults to two minutes before now."""
    latest = now - SETTLE_DELAY
    try:
        after = parse_iso(after_text) if after_text else None
        before = parse_iso(before_text) if before_text else latest
    except ValueError:
        return None
    if after is None:
        if required or before_text:
            return None
        after = latest - MAX_SPAN
    if before > latest or after > latest or before <= after:
        return None
    return after, before


# --------------------------------------------------------------------------- v0: groups


def group_to_api(group: FinancialEventGroup) -> dict[str, Any]:
    total = _money(group.currency, group.original_total)
    data: dict[str, Any] = {
        "FinancialEventGroupId": group.group_id,
        "ProcessingStatus": group.processing_status,
        "FundTransferStatus": group.fund_transfer_status,
        "OriginalTotal": total,
        "ConvertedTotal": dict(total),
        "BeginningBalance": _money(group.currency, group.beginning_balance),
        "FinancialEventGroupStart": iso_z(group.start),
    }
    if group.end is not None:
        data["FinancialEventGroupEnd"] = iso_z(group.end)
    if group.fund_transfer_date is not None:
        data["FundTransferDate"] = iso_z(group.fund_transfer_date)
        data["TraceId"] = group.trace_id
        data["AccountTail"] = group.account_tail
    return data


@require_GET
@sp_operation("listFinancialEventGroups")
def list_financial_event_groups(call: SpCall) -> HttpResponse:
    params = call.request.GET
    token = params.get("NextToken")
    if token:
        query = token_decode("listFinancialEventGroups", token)
        if query is None or query["seller"] != call.seller.selling_partner_id:
            return invalid("Invalid NextToken.")
    else:
        size = int_param(call.request, "MaxResultsPerPage", 10)
        if size is None or not 1 <= size <= 100:
            return invalid("Input not valid.")
        dates = _dates(
            params.get("FinancialEventGroupStartedAfter"),
            params.get("FinancialEventGroupStartedBefore"),
            call.now,
            required=True,
        )
        if dates is None:
            return invalid("Date range is invalid.")
        query = {
            "seller": call.seller.selling_partner_id,
            "region": call.region,
            "after": iso_z(dates[0]),
            "before": iso_z(dates[1]),
            "size": size,
        }
    after, before = parse_iso(query["after"]), parse_iso(query["before"])
    groups = FinancialEventGroup.objects.none()
    if before - after <= MAX_SPAN:
        groups = FinancialEventGroup.objects.filter(
            seller=call.seller, region=query["region"], start__gte=after, start__lt=before
        )
    groups = _after_cursor(groups, "start", query.get("cursor"))
    page = list(groups.order_by("start", "pk")[: query["size"] + 1])
    body: dict[str, Any] = {
        "FinancialEventGroupList": [group_to_api(g) for g in page[: query["size"]]]
    }
    if len(page) > query["size"]:
        last = page[query["size"] - 1]
        body["NextToken"] = token_encode(
            "listFinancialEventGroups", query | {"cursor": [last.start.isoformat(), last.pk]}
        )
    return json_response({"payload": body})


def _after_cursor(rows: QuerySet[Any], field: str, cursor: list[Any] | None) -> QuerySet[Any]:
    if cursor is None:
        return rows
    at, pk = parse_iso(cursor[0]), cursor[1]
    return rows.filter(Q(**{f"{field}__gt": at}) | Q(**{field: at, "pk__gt": pk}))


# --------------------------------------------------------------------------- v0: events


@require_GET
@sp_operation("listFinancialEventsByGroupId")
def list_financial_events_by_group(call: SpCall, group_id: str) -> HttpResponse:
    params = call.request.GET
    group = FinancialEventGroup.objects.filter(
        seller=call.seller, region=call.region, group_id=group_id
    ).first()
    if group is None:
        return invalid("Bad event group ID provided.")
    token = params.get("NextToken")
    if token:
        query = token_decode("listFinancialEventsByGroupId", token)
        if query is None or query["group"] != group_id:
            return invalid("Invalid NextToken.")
    else:
        size = int_param(call.request, "MaxResultsPerPage", 100)
        if size is None or not 1 <= size <= 100:
            return invalid("Input not valid.")
        dates = _dates(
            params.get("PostedAfter"), params.get("PostedBefore"), call.now, required=False
        )
        if dates is None:
            return invalid("Date range is invalid.")
        filtered = "PostedAfter" in params
        query = {
            "group": group_id,
            "after": iso_z(dates[0]) if filtered else None,
            "before": iso_z(dates[1]),
            "size": size,
        }
    postings = FinancialTransaction.objects.filter(
        group=group, posted_date__lt=parse_iso(query["before"])
    )
    if query["after"] is not None:
        after = parse_iso(query["after"])
        if parse_iso(query["before"]) - after > MAX_SPAN:
            postings = postings.none()
        postings = postings.filter(posted_date__gte=after)
    postings = _after_cursor(postings, "posted_date", query.get("cursor"))
    page = list(postings.order_by("posted_date", "pk")[: query["size"] + 1])
    events: dict[str, list[dict[str, Any]]] = {name: [] for name in EVENT_LISTS}
    for posting in page[: query["size"]]:
        list_name, event = posting_to_event(posting)
        events[list_name].append(event)
    body: dict[str, Any] = {"FinancialEvents": events}
    if len(page) > query["size"]:
        last = page[query["size"] - 1]
        body["NextToken"] = token_encode(
            "listFinancialEventsByGroupId",
            query | {"cursor": [last.posted_date.isoformat(), last.pk]},
        )
    return json_response({"payload": body})


def posting_to_event(posting: FinancialTransaction) -> tuple[str, dict[str, Any]]:
    """The v0 event list and event for one posting (see the module docstring)."""
    cur = posting.currency
    rows: list[Row] = posting.rows
    posted = iso_z(posting.posted_date)
    if posting.transaction_type in ("Order", "Refund") and posting.order_id:
        refund = posting.transaction_type == "Refund"
        event: dict[str, Any] = {
            "AmazonOrderId": posting.order_id,
            "SellerOrderId": posting.merchant_order_id,
            "MarketplaceName": MARKETPLACE_INFO[posting.marketplace_id].name,
            "PostedDate": posted,
        }
        items = [_shipment_item(cur, code, item_rows, refund) for code, item_rows in _by_item(rows)]
        event["ShipmentItemAdjustmentList" if refund else "ShipmentItemList"] = items
        return ("RefundEventList" if refund else "ShipmentEventList"), event
    amount_type, description, amount_text, _, sku, quantity, _ = rows[0]
    amount = Decimal(amount_text)
    if amount_type == "Cost of Advertising":
        invoice = hashlib.sha256(posting.transaction_id.encode()).hexdigest()[:10].upper()
        return "ProductAdsPaymentEventList", {
            "postedDate": posted,
            "transactionType": "Charge",
            "invoiceId": f"TR1{invoice}",
            "baseValue": _money(cur, amount),
            "taxValue": _money(cur, Decimal("0.00")),
            "transactionValue": _money(cur, amount),
        }
    if amount_type == "FBA Inventory Reimbursement":
        count = int(quantity or 1)
        return "AdjustmentEventList", {
            "AdjustmentType": "FBAInventoryReimbursement",
            "PostedDate": posted,
            "AdjustmentAmount": _money(cur, amount),
            "AdjustmentItemList": [
                {
                    "Quantity": str(count),
                    "PerUnitAmount": _money(cur, (amount / count).quantize(Decimal("0.01"))),
                    "TotalAmount": _money(cur, amount),
                    "SellerSKU": sku,
                    "ProductDescription": description,
                }
            ],
        }
    if description.strip() in RESERVES:
        return "AdjustmentEventList", {
            "AdjustmentType": "ReserveEvent",
            "PostedDate": posted,
            "AdjustmentAmount": _money(cur, amount),
        }
    return "ServiceFeeEventList", {
        "FeeDescription": description,
        "FeeList": [
            {
                "FeeType": SERVICE_FEE_TYPES.get(description, description),
                "FeeAmount": _money(cur, amount),
            }
        ],
    }


def _by_item(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    items: dict[str, list[Row]] = {}
    for row in rows:
        items.setdefault(row[3], []).append(row)
    return list(items.items())


def _shipment_item(cur: str, code: str, rows: list[Row], refund: bool) -> dict[str, Any]:
    charges, fees, withheld, promotions = [], [], [], []
    quantity = None
    for amount_type, description, amount_text, _, _, qty, promo in rows:
        amount = Decimal(amount_text)
        if amount_type == "ItemPrice":
            charges.append(
                {
                    "ChargeType": CHARGE_TYPES.get(description, description),
                    "ChargeAmount": _money(cur, amount),
                }
            )
            if description == "Principal" and qty is not None:
                quantity = qty
        elif amount_type == "ItemWithheldTax":
            withheld.append({"ChargeType": description, "ChargeAmount": _money(cur, amount)})
        elif amount_type == "Promotion":
            promotions.append(
                {
                    "PromotionType": "PromotionMetaDataDefinitionValue",
                    "PromotionId": promo,
                    "PromotionAmount": _money(cur, amount),
                }
            )
        else:
            fees.append({"FeeType": description, "FeeAmount": _money(cur, amount)})
    item: dict[str, Any] = {"SellerSKU": rows[0][4], "OrderItemId": code}
    if quantity is not None:
        item["QuantityShipped"] = quantity
    if refund:
        item["OrderAdjustmentItemId"] = hashlib.sha256(code.encode()).hexdigest()[:14]
        item["ItemChargeAdjustmentList"] = charges
        item["ItemFeeAdjustmentList"] = fees
        item["PromotionAdjustmentList"] = promotions
    else:
        item["ItemChargeList"] = charges
        item["ItemFeeList"] = fees
        item["PromotionList"] = promotions
    if withheld:
        item["ItemTaxWithheldList"] = [
            {"TaxCollectionModel": "MarketplaceFacilitator", "TaxesWithheld": withheld}
        ]
    return item


# --------------------------------------------------------------------------- 2024-06-19


TRANSACTION_STATUSES = ("DEFERRED", "RELEASED", "DEFERRED_RELEASED")
IDENTIFIER_FILTERS = ("FINANCIAL_EVENT_GROUP_ID", "ORDER_ID")


@require_GET
@sp_operation("listTransactions")
def list_transactions(call: SpCall) -> HttpResponse:
    params = call.request.GET
    token = params.get("nextToken")
    if token:
        query = token_decode("listTransactions", token)
        if query is None or query["seller"] != call.seller.selling_partner_id:
            return invalid("Invalid input", "Invalid nextToken")
    else:
        parsed = _transaction_query(call)
        if isinstance(parsed, HttpResponse):
            return parsed
        query = parsed
    postings = FinancialTransaction.objects.select_related("group").filter(
        seller=call.seller, region=call.region
    )
    if query["after"] is not None:
        after, before = parse_iso(query["after"]), parse_iso(query["before"])
        if before - after > MAX_SPAN:
            postings = postings.none()
        postings = postings.filter(posted_date__gte=after, posted_date__lt=before)
    if query["marketplace"]:
        postings = postings.filter(marketplace_id=query["marketplace"])
        if query["marketplace"] == "ATVPDKIKX0DER":
            postings = postings.exclude(order_id__gt="", fulfillment_channel="MFN")
    if query["status"] and query["status"] != "RELEASED":
        postings = postings.none()
    if query["identifier"] == "ORDER_ID":
        postings = postings.filter(order_id=query["value"])
    elif query["identifier"] == "FINANCIAL_EVENT_GROUP_ID":
        postings = postings.filter(group__group_id=query["value"])
    postings = _after_cursor(postings, "posted_date", query.get("cursor"))
    page = list(postings.order_by("posted_date", "pk")[: TRANSACTIONS_PER_PAGE + 1])
    body: dict[str, Any] = {
        "transactions": [
            posting_to_transaction(call.seller.selling_partner_id, p)
            for p in page[:TRANSACTIONS_PER_PAGE]
        ]
    }
    if len(page) > TRANSACTIONS_PER_PAGE:
        last = page[TRANSACTIONS_PER_PAGE - 1]
        body["nextToken"] = token_encode(
            "listTransactions", query | {"cursor": [last.posted_date.isoformat(), last.pk]}
        )
    return json_response({"payload": body})


def _transaction_query(call: SpCall) -> dict[str, Any] | HttpResponse:
    params = call.request.GET
    identifier = params.get("relatedIdentifierName", "")
    value = params.get("relatedIdentifierValue", "")
    if identifier and (identifier not in IDENTIFIER_FILTERS or not value):
        return invalid("Invalid input", "Invalid input")
    if not params.get("postedAfter") and not identifier:
        return invalid("Start date cannot be null", "Start date cannot be null")
    dates = None
    if params.get("postedAfter") or params.get("postedBefore"):
        dates = _dates(
            params.get("postedAfter"), params.get("postedBefore"), call.now, required=True
        )
        if dates is None:
            return invalid("Invalid input", "Invalid date range")
    marketplace = params.get("marketplaceId", "")
    if marketplace and marketplace not in call.marketplace_ids:
        return invalid("Invalid input", "Invalid marketplaceId")
    status = params.get("transactionStatus", "")
    if status and status not in TRANSACTION_STATUSES:
        return invalid("Invalid input", "Invalid transactionStatus")
    return {
        "seller": call.seller.selling_partner_id,
        "after": iso_z(dates[0]) if dates else None,
        "before": iso_z(dates[1]) if dates else None,
        "marketplace": marketplace,
        "status": status,
        "identifier": identifier,
        "value": value,
    }


def _cur(currency: str, amount: Decimal) -> dict[str, Any]:
    return {"currencyCode": currency, "currencyAmount": amount}


def _breakdown(currency: str, kind: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum((p["breakdownAmount"]["currencyAmount"] for p in parts), Decimal("0.00"))
    return {"breakdownType": kind, "breakdownAmount": _cur(currency, total), "breakdowns": parts}


def _leaf(currency: str, kind: str, amount: Decimal) -> dict[str, Any]:
    return {"breakdownType": kind, "breakdownAmount": _cur(currency, amount), "breakdowns": []}


def _breakdowns(currency: str, rows: list[Row]) -> list[dict[str, Any]]:
    """Sales (product charges, promotions) and Expenses (Amazon fees, withheld tax)."""
    groups: dict[str, dict[str, Decimal]] = {}
    for amount_type, description, amount_text, *_ in rows:
        kind = {
            "ItemPrice": "ProductCharges",
            "Promotion": "Promotions",
            "ItemFees": "AmazonFees",
            "ItemWithheldTax": "TaxWithheld",
        }.get(amount_type, "OtherCharges")
        name = (
            CHARGE_TYPES.get(description, description.strip())
            if kind != "OtherCharges"
            else (description.strip())
        )
        leaves = groups.setdefault(kind, {})
        leaves[name] = leaves.get(name, Decimal("0.00")) + Decimal(amount_text)
    result = []
    for top, kinds in (
        ("Sales", ("ProductCharges", "Promotions")),
        ("Expenses", ("AmazonFees", "TaxWithheld", "OtherCharges")),
    ):
        parts = [
            _breakdown(currency, kind, [_leaf(currency, n, a) for n, a in groups[kind].items()])
            for kind in kinds
            if kind in groups
        ]
        if parts:
            result.append(_breakdown(currency, top, parts))
    return result


def posting_to_transaction(
    selling_partner_id: str, posting: FinancialTransaction
) -> dict[str, Any]:
    cur = posting.currency
    rows: list[Row] = posting.rows
    info = MARKETPLACE_INFO[posting.marketplace_id]
    related = []
    if posting.order_id:
        related.append(
            {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": posting.order_id}
        )
    if posting.shipment_id:
        related.append(
            {"relatedIdentifierName": "SHIPMENT_ID", "relatedIdentifierValue": posting.shipment_id}
        )
    if posting.adjustment_id:
        related.append(
            {"relatedIdentifierName": "REFUND_ID", "relatedIdentifierValue": posting.adjustment_id}
        )
    related += [
        {
            "relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID",
            "relatedIdentifierValue": posting.group.group_id,
        },
        {
            "relatedIdentifierName": "SETTLEMENT_ID",
            "relatedIdentifierValue": posting.group.settlement_id,
        },
    ]
    kind, description = _transaction_kind(posting, rows)
    data: dict[str, Any] = {
        "sellingPartnerMetadata": {
            "sellingPartnerId": selling_partner_id,
            "accountType": "PAYABLE",
            "marketplaceId": posting.marketplace_id,
        },
        "relatedIdentifiers": related,
        "transactionType": kind,
        "transactionId": posting.transaction_id,
        "transactionStatus": "RELEASED",
        "description": description,
        "postedDate": posting.posted_date.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "totalAmount": _cur(cur, posting.total),
        "marketplaceDetails": {"marketplaceId": info.id, "marketplaceName": info.name},
        "items": [],
        "contexts": [],
        "breakdowns": _breakdowns(cur, rows),
    }
    if posting.order_id:
        for code, item_rows in _by_item(rows):
            quantity = next((r[5] for r in item_rows if r[5] is not None), None)
            context: dict[str, Any] = {
                "contextType": "ProductContext",
                "sku": item_rows[0][4],
                "fulfillmentNetwork": posting.fulfillment_channel,
            }
            if quantity is not None:
                context["quantityShipped"] = quantity
            data["items"].append(
                {
                    "description": item_rows[0][4],
                    "relatedIdentifiers": [
                        {
                            "itemRelatedIdentifierName": "TRANSACTION_ID",
                            "itemRelatedIdentifierValue": code,
                        }
                    ],
                    "totalAmount": _cur(
                        cur, sum((Decimal(r[2]) for r in item_rows), Decimal("0.00"))
                    ),
                    "breakdowns": _breakdowns(cur, item_rows),
                    "contexts": [context],
                }
            )
    return data


def _transaction_kind(posting: FinancialTransaction, rows: list[Row]) -> tuple[str, str]:
    if posting.transaction_type == "Order":
        return "Shipment", "Order Payment"
    if posting.transaction_type == "Refund":
        return "Refund", "Refund Order"
    amount_type, description = rows[0][0], rows[0][1].strip()
    if amount_type == "Cost of Advertising":
        return "ProductAdsPayment", "Cost of Advertising"
    if amount_type == "FBA Inventory Reimbursement":
        return "Adjustment", f"FBA Inventory Reimbursement - {description}"
    if description in RESERVES:
        return "Adjustment", description
    return "ServiceFee", description

"""Finances APIs in the sandbox: event groups, their events, and 2024-06-19 transactions, all
adding up to the settlement to the cent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from sp_api.api import Finances
from sp_api.base import Marketplaces

from sandbox.amazon.models import FinancialEventGroup, FinancialTransaction, Settlement
from tests.sandbox.amazon_support import (
    EU_SELLER,
    NA_SELLER,
    UK,
    US,
    access_token,
    authorize,
    consent,
    redirect_query,
    seed,
    sp_client,
    token_post,
)
from tests.specs import validate_swagger

V0 = "amazon/financesV0.json"
V2024 = "amazon/finances_2024-06-19.json"
# Where each settlement row's amount lands in a v0 event (ads: transactionValue).
MONEY_KEYS = (
    "FeeAmount",
    "ChargeAmount",
    "PromotionAmount",
    "AdjustmentAmount",
    "transactionValue",
)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _headers(sandbox_url: str, seller: str) -> dict[str, str]:
    code = redirect_query(consent(sandbox_url, seller=seller))["spapi_oauth_code"]
    refresh = token_post(sandbox_url, grant_type="authorization_code", code=code).json()
    return {"x-amz-access-token": access_token(sandbox_url, refresh["refresh_token"])}


@pytest.fixture
def eu(sandbox_url: str) -> tuple[str, dict[str, str]]:
    seed()
    return f"{sandbox_url}/amazon/sp/eu", _headers(sandbox_url, EU_SELLER)


def _get(api: tuple[str, dict[str, str]], path: str, **params: Any) -> requests.Response:
    base, headers = api
    return requests.get(f"{base}{path}", params=params, headers=headers, timeout=10)


def _json(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)  # money stays exact


def _amounts(node: Any) -> list[Decimal]:
    """Every CurrencyAmount in an event (each settlement row appears exactly once)."""
    found: list[Decimal] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in MONEY_KEYS:
                found.append(value["CurrencyAmount"])
            elif key not in ("baseValue", "taxValue", "TotalAmount", "PerUnitAmount"):
                found += _amounts(value)
    elif isinstance(node, list):
        for value in node:
            found += _amounts(value)
    return found


def test_event_groups_and_their_events_add_up(eu: tuple[str, dict[str, str]]) -> None:
    since = datetime.now(UTC) - timedelta(days=150)
    groups: list[dict[str, Any]] = []
    body = _json(
        _get(
            eu,
            "/finances/v0/financialEventGroups",
            FinancialEventGroupStartedAfter=_iso(since),
            MaxResultsPerPage=4,
        )
    )
    while True:
        validate_swagger(body, spec=V0, definition="ListFinancialEventGroupsResponse")
        groups += body["payload"]["FinancialEventGroupList"]
        token = body["payload"].get("NextToken")
        if not token:
            break
        body = _json(_get(eu, "/finances/v0/financialEventGroups", NextToken=token))
    stored = FinancialEventGroup.objects.filter(seller__selling_partner_id=EU_SELLER)
    assert [g["FinancialEventGroupId"] for g in groups] == [
        g.group_id for g in stored.order_by("start", "pk")
    ]
    assert {g["ProcessingStatus"] for g in groups} == {"Open", "Closed"}
    for group in groups:
        settlement = Settlement.objects.get(group__group_id=group["FinancialEventGroupId"])
        assert group["OriginalTotal"]["CurrencyAmount"] == settlement.total_amount
        assert group["OriginalTotal"]["CurrencyCode"] == settlement.currency

    # Every closed group's events: paged, all lists present, summing to the group's total.
    for group in groups[:4]:
        path = f"/finances/v0/financialEventGroups/{group['FinancialEventGroupId']}/financialEvents"
        body, total, pages = _json(_get(eu, path, MaxResultsPerPage=40)), Decimal("0.00"), 0
        while True:
            pages += 1
            validate_swagger(body, spec=V0, definition="ListFinancialEventsResponse")
            events = body["payload"]["FinancialEvents"]
            assert len(events) == 34 and events["ShipmentEventList"] is not None
            total += sum(_amounts(events), Decimal("0.00"))
            token = body["payload"].get("NextToken")
            if not token:
                break
            body = _json(_get(eu, path, NextToken=token))
        assert total == group["OriginalTotal"]["CurrencyAmount"]
        postings = FinancialTransaction.objects.filter(
            group__group_id=group["FinancialEventGroupId"]
        )
        assert pages == max(1, -(-postings.count() // 40))


def test_event_shapes(eu: tuple[str, dict[str, str]]) -> None:
    group = FinancialEventGroup.objects.filter(
        seller__selling_partner_id=EU_SELLER, processing_status="Closed", marketplace_id=UK
    ).order_by("-start")[1]
    path = f"/finances/v0/financialEventGroups/{group.group_id}/financialEvents"
    events = _json(_get(eu, path))["payload"]["FinancialEvents"]
    shipment = events["ShipmentEventList"][0]
    item = shipment["ShipmentItemList"][0]
    assert shipment["MarketplaceName"] == "Amazon.co.uk"
    assert [c["ChargeType"] for c in item["ItemChargeList"]][:2] == ["Principal", "Tax"]
    assert "Commission" in [f["FeeType"] for f in item["ItemFeeList"]]
    service_fees = {e["FeeList"][0]["FeeType"] for e in events["ServiceFeeEventList"]}
    adjustments = {e["AdjustmentType"] for e in events["AdjustmentEventList"]}
    assert service_fees & {"Subscription", "FBAStorageFee"} and "ReserveEvent" in adjustments
    if events["RefundEventList"]:
        refund = events["RefundEventList"][0]["ShipmentItemAdjustmentList"][0]
        assert refund["ItemChargeAdjustmentList"][0]["ChargeAmount"]["CurrencyAmount"] < 0


def test_finance_errors(eu: tuple[str, dict[str, str]]) -> None:
    now = datetime.now(UTC)
    cases = [
        ("/finances/v0/financialEventGroups", {}, "Date range is invalid."),
        (
            "/finances/v0/financialEventGroups",
            {"FinancialEventGroupStartedAfter": _iso(now - timedelta(minutes=1))},
            "Date range is invalid.",
        ),
        (
            "/finances/v0/financialEventGroups",
            {"FinancialEventGroupStartedAfter": _iso(now), "MaxResultsPerPage": 101},
            "Input not valid.",
        ),
        (
            "/finances/v0/financialEventGroups/BADID/financialEvents",
            {},
            "Bad event group ID provided.",
        ),
        ("/finances/2024-06-19/transactions", {}, "Start date cannot be null"),
    ]
    for path, params, message in cases:
        response = _get(eu, path, **params)
        assert response.status_code == 400, (path, params)
        assert response.json()["errors"][0]["code"] == "InvalidInput"
        assert response.json()["errors"][0]["message"] == message
    # 180 days apart: an empty page, not an error.
    wide = _json(
        _get(
            eu,
            "/finances/v0/financialEventGroups",
            FinancialEventGroupStartedAfter=_iso(now - timedelta(days=200)),
            FinancialEventGroupStartedBefore=_iso(now - timedelta(days=1)),
        )
    )
    assert wide["payload"]["FinancialEventGroupList"] == []


def test_transactions_2024_by_date_group_and_order(eu: tuple[str, dict[str, str]]) -> None:
    since = datetime.now(UTC) - timedelta(days=40)
    collected: list[dict[str, Any]] = []
    body = _json(_get(eu, "/finances/2024-06-19/transactions", postedAfter=_iso(since)))
    while True:
        validate_swagger(body, spec=V2024, definition="ListTransactionsResponse")
        collected += body["payload"]["transactions"]
        token = body["payload"].get("nextToken")
        if not token:
            break
        body = _json(_get(eu, "/finances/2024-06-19/transactions", nextToken=token))
    expected = FinancialTransaction.objects.filter(
        seller__selling_partner_id=EU_SELLER, posted_date__gte=since.replace(microsecond=0)
    )
    assert len(collected) == expected.count() > 100
    for transaction in collected:
        breakdown_total = sum(
            (b["breakdownAmount"]["currencyAmount"] for b in transaction["breakdowns"]),
            Decimal("0.00"),
        )
        assert breakdown_total == transaction["totalAmount"]["currencyAmount"]
    kinds = {t["transactionType"] for t in collected}
    assert {"Shipment", "ServiceFee"} <= kinds

    group = FinancialEventGroup.objects.filter(
        seller__selling_partner_id=EU_SELLER, processing_status="Closed"
    ).latest("start")
    by_group = _json(
        _get(
            eu,
            "/finances/2024-06-19/transactions",
            relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID",
            relatedIdentifierValue=group.group_id,
        )
    )["payload"]
    total = Decimal("0.00")
    while True:
        total += sum(
            (t["totalAmount"]["currencyAmount"] for t in by_group["transactions"]), Decimal(0)
        )
        if not by_group.get("nextToken"):
            break
        by_group = _json(
            _get(eu, "/finances/2024-06-19/transactions", nextToken=by_group["nextToken"])
        )["payload"]
    assert total == group.original_total

    order = FinancialTransaction.objects.filter(
        seller__selling_partner_id=EU_SELLER, transaction_type="Order"
    ).first()
    assert order is not None
    mine = _json(
        _get(
            eu,
            "/finances/2024-06-19/transactions",
            relatedIdentifierName="ORDER_ID",
            relatedIdentifierValue=order.order_id,
        )
    )["payload"]["transactions"]
    assert mine and all(
        {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": order.order_id}
        in t["relatedIdentifiers"]
        for t in mine
    )


def test_us_mfn_orders_only_without_marketplace_id(sandbox_url: str) -> None:
    seed()
    na = (f"{sandbox_url}/amazon/sp/na", _headers(sandbox_url, NA_SELLER))
    since = _iso(datetime.now(UTC) - timedelta(days=20))

    def order_ids(**params: str) -> set[str]:
        ids: set[str] = set()
        body = _json(_get(na, "/finances/2024-06-19/transactions", postedAfter=since, **params))
        while True:
            ids |= {
                i["relatedIdentifierValue"]
                for t in body["payload"]["transactions"]
                for i in t["relatedIdentifiers"]
                if i["relatedIdentifierName"] == "ORDER_ID"
            }
            if not body["payload"].get("nextToken"):
                return ids
            body = _json(
                _get(
                    na, "/finances/2024-06-19/transactions", nextToken=body["payload"]["nextToken"]
                )
            )

    everything, filtered = order_ids(), order_ids(marketplaceId=US)
    mfn = set(
        FinancialTransaction.objects.filter(
            seller__selling_partner_id=NA_SELLER, fulfillment_channel="MFN", order_id__gt=""
        ).values_list("order_id", flat=True)
    )
    assert everything & mfn and not filtered & mfn
    assert filtered == everything - mfn


def test_official_client_lists_groups_and_transactions(sandbox_url: str) -> None:
    seed()
    refresh = authorize(sandbox_url)["refresh_token"]
    since = datetime.now(UTC) - timedelta(days=30)
    v0 = sp_client(
        Finances, sandbox_url, region="eu", refresh_token=refresh, marketplace=Marketplaces.UK
    )
    groups = v0.list_financial_event_groups(FinancialEventGroupStartedAfter=_iso(since))
    assert groups.rate_limit == "0.5"
    assert groups.payload["FinancialEventGroupList"]
    v2024 = sp_client(
        Finances,
        sandbox_url,
        region="eu",
        refresh_token=refresh,
        marketplace=Marketplaces.UK,
        version="2024-06-19",
    )
    transactions = v2024.list_transactions(postedAfter=_iso(since))
    assert transactions.payload["transactions"] and transactions.rate_limit == "0.5"

"""Orders API v0 in the sandbox: Amazon's validation, paging, PII, auth and usage plans."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox.amazon.models import Order
from sandbox.state import sandbox_configure
from tests.sandbox.amazon_support import (
    DE,
    EU_SELLER,
    NA_SELLER,
    UK,
    US,
    access_token,
    consent,
    redirect_query,
    seed,
    token_post,
)
from tests.specs import validate_swagger

GENERIC = "The input you have submitted is not valid. Please check your input and try again."
BAD_TOKEN = (
    "We could not decode your NextToken. Possible reasons include: a transmission error, "
    "improper quoting or a truncation problem."
)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def eu(sandbox_url: str) -> tuple[str, dict[str, str]]:
    """The EU endpoint and headers carrying an access token of the EU seller."""
    seed()
    code = redirect_query(consent(sandbox_url))["spapi_oauth_code"]
    refresh = token_post(sandbox_url, grant_type="authorization_code", code=code).json()
    token = access_token(sandbox_url, refresh["refresh_token"])
    return f"{sandbox_url}/amazon/sp/eu", {"x-amz-access-token": token}


def _get(eu: tuple[str, dict[str, str]], path: str, **params: Any) -> requests.Response:
    base, headers = eu
    return requests.get(f"{base}{path}", params=params, headers=headers, timeout=10)


def _error(response: requests.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    error: dict[str, str] = body["errors"][0]
    return error


def test_get_orders_validation_matches_amazon(eu: tuple[str, dict[str, str]]) -> None:
    now = datetime.now(UTC)
    week = _iso(now - timedelta(days=7))
    generic = {"code": "InvalidInput", "message": GENERIC, "details": ""}
    cases: list[dict[str, Any]] = [
        {"CreatedAfter": week},  # no MarketplaceIds
        {"MarketplaceIds": UK},  # neither After date
        {"MarketplaceIds": UK, "CreatedAfter": week, "LastUpdatedAfter": week},
        {"MarketplaceIds": UK, "CreatedAfter": week, "LastUpdatedBefore": _iso(now)},
        {"MarketplaceIds": UK, "CreatedAfter": week, "CreatedBefore": _iso(now)},  # < 2 min
        {
            "MarketplaceIds": UK,
            "CreatedAfter": week,
            "CreatedBefore": _iso(now - timedelta(days=8)),
        },
        {"MarketplaceIds": UK, "CreatedAfter": _iso(now + timedelta(hours=1))},
        {"MarketplaceIds": UK, "CreatedAfter": week, "MaxResultsPerPage": 101},
        {"MarketplaceIds": UK, "CreatedAfter": week, "MaxResultsPerPage": 0},
        {"MarketplaceIds": US, "CreatedAfter": week},  # another region's marketplace
        {"MarketplaceIds": ",".join([UK] * 51), "CreatedAfter": week},
    ]
    for params in cases:
        response = _get(eu, "/orders/v0/orders", **params)
        assert response.status_code == 400, params
        validate_swagger(
            response.json(), spec="amazon/ordersV0.json", definition="GetOrdersResponse"
        )
        assert _error(response) == generic, params
        assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"

    malformed = _get(
        eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter="2026-01-01 10:00:00 00:00"
    )
    assert _error(malformed) == {
        "code": "InvalidInput",
        "message": "This is an invalid input",
        "details": "Invalid date-time field(s) [createdAfter].",
    }
    statuses = _get(
        eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter=week, OrderStatuses="Shipped,Lost"
    )
    assert _error(statuses)["message"].startswith(
        "1 validation error detected: Value '[Shipped, Lost]' at 'orderStatuses' failed to "
        "satisfy constraint"
    )
    for token in ("not-a-token", "AAAA"):
        bad = _get(eu, "/orders/v0/orders", MarketplaceIds=UK, NextToken=token)
        assert _error(bad) == {"code": "InvalidInput", "message": BAD_TOKEN, "details": ""}


def test_orders_by_last_update_paged_and_without_pii(eu: tuple[str, dict[str, str]]) -> None:
    since = datetime.now(UTC) - timedelta(days=30)
    params = {
        "MarketplaceIds": f"{UK},{DE}",
        "LastUpdatedAfter": _iso(since),
        "MaxResultsPerPage": 25,
        "OrderStatuses": "Shipped,Unshipped,Pending",
    }
    first = _get(eu, "/orders/v0/orders", **params)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "application/json"
    payload = first.json()["payload"]
    validate_swagger(first.json(), spec="amazon/ordersV0.json", definition="GetOrdersResponse")
    assert "LastUpdatedBefore" in payload and "CreatedBefore" not in payload
    collected = payload["Orders"]
    token = payload["NextToken"]
    assert "+" in token or "/" in token or "=" in token  # Amazon-style base64: must be quoted
    while token:
        # The token carries the filters; a different filter sent along is ignored.
        page = _get(eu, "/orders/v0/orders", MarketplaceIds=UK, NextToken=token)
        assert page.status_code == 200, page.text
        collected += page.json()["payload"]["Orders"]
        token = page.json()["payload"].get("NextToken")
    expected = Order.objects.filter(
        seller__selling_partner_id=EU_SELLER,
        last_update_date__gte=since.replace(microsecond=0),
        status__in=["Shipped", "Unshipped", "Pending"],
    ).order_by("last_update_date", "pk")
    assert [o["AmazonOrderId"] for o in collected] == [o.amazon_order_id for o in expected]
    dates = [o["LastUpdateDate"] for o in collected]
    assert dates == sorted(dates)
    assert all(
        "BuyerEmail" not in o.get("BuyerInfo", {}) and "BuyerName" not in o.get("BuyerInfo", {})
        for o in collected
    )
    with_email = [o for o in expected if o.data.get("BuyerInfo", {}).get("BuyerEmail")]
    assert with_email, "the generator gives some buyers an email: it must not leak"


def test_unquoted_next_token_cannot_be_decoded(eu: tuple[str, dict[str, str]]) -> None:
    base, headers = eu
    week = _iso(datetime.now(UTC) - timedelta(days=60))
    for size in range(1, 8):  # a token with '+', which an unquoted query turns into a space
        first = _get(
            eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter=week, MaxResultsPerPage=size
        )
        token = first.json()["payload"]["NextToken"]
        if "+" in token:
            break
    else:
        pytest.skip("no token with '+' came up")
    raw = requests.get(
        f"{base}/orders/v0/orders?MarketplaceIds={UK}&NextToken={token}",
        headers=headers,
        timeout=10,
    )
    assert raw.status_code == 400 and _error(raw)["message"] == BAD_TOKEN


def test_order_items(eu: tuple[str, dict[str, str]]) -> None:
    pending = Order.objects.filter(seller__selling_partner_id=EU_SELLER, status="Pending").first()
    shipped = Order.objects.filter(seller__selling_partner_id=EU_SELLER, status="Shipped").first()
    assert shipped is not None
    for order in filter(None, (pending, shipped)):
        response = _get(eu, f"/orders/v0/orders/{order.amazon_order_id}/orderItems")
        assert response.status_code == 200
        assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
        validate_swagger(
            response.json(), spec="amazon/ordersV0.json", definition="GetOrderItemsResponse"
        )
        items = response.json()["payload"]["OrderItems"]
        assert ("ItemPrice" in items[0]) == (order.status != "Pending")
    us_order = Order.objects.filter(seller__selling_partner_id=NA_SELLER).first()
    assert us_order is not None
    for order_id in (us_order.amazon_order_id, "000-0000000-0000000"):
        refused = _get(eu, f"/orders/v0/orders/{order_id}/orderItems")
        assert refused.status_code == 400
        assert _error(refused) == {"code": "InvalidInput", "message": GENERIC, "details": ""}
    bad = _get(eu, f"/orders/v0/orders/{shipped.amazon_order_id}/orderItems", NextToken="x")
    assert _error(bad)["message"] == BAD_TOKEN


def test_access_token_checks(sandbox_url: str, eu: tuple[str, dict[str, str]]) -> None:
    base, headers = eu
    for sent in ({}, {"x-amz-access-token": "Atza|forged"}):
        refused = requests.get(f"{base}/orders/v0/orders", headers=sent, timeout=10)
        assert refused.status_code == 403
        assert _error(refused)["code"] == "Unauthorized"
        assert refused.headers["x-amzn-RequestId"]
    # The EU seller's token against the NA endpoint: no marketplace there.
    na = requests.get(
        f"{sandbox_url}/amazon/sp/na/orders/v0/orders",
        params={"MarketplaceIds": US, "CreatedAfter": "2026-01-01T00:00:00Z"},
        headers=headers,
        timeout=10,
    )
    assert na.status_code == 403 and _error(na) == {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "",
    }
    assert (
        requests.get(f"{sandbox_url}/amazon/sp/xx/orders/v0/orders", timeout=10).status_code == 404
    )


def test_get_orders_burst_then_quota_exceeded_then_refill(eu: tuple[str, dict[str, str]]) -> None:
    week = _iso(datetime.now(UTC) - timedelta(days=7))
    codes = [
        _get(eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter=week).status_code
        for _ in range(21)
    ]
    assert codes == [200] * 20 + [429]
    throttled = _get(eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter=week)
    assert throttled.status_code == 429
    assert json.loads(throttled.text) == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert throttled.headers["x-amzn-RequestId"]
    # Other operations have buckets of their own.
    other = Order.objects.filter(seller__selling_partner_id=EU_SELLER).first()
    assert other is not None
    items = _get(eu, f"/orders/v0/orders/{other.amazon_order_id}/orderItems")
    assert items.status_code == 200
    # 0.0167/s refills a token in ~60 s; at x600 in a tenth of a second.
    sandbox_configure(time_scale=600)
    time.sleep(0.15)
    again = _get(eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter=week)
    assert again.status_code == 200


def test_faults_reach_sp_api_calls_before_anything_is_counted(
    eu: tuple[str, dict[str, str]],
) -> None:
    week = _iso(datetime.now(UTC) - timedelta(days=7))
    sandbox_configure(fault_5xx_rate=1.0)
    for _ in range(25):
        failed = _get(eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter=week)
        assert failed.status_code in (500, 503)
        assert failed.headers["x-amzn-RequestId"]
    sandbox_configure(fault_5xx_rate=0.0)
    # The refused calls spent no quota: the whole burst is still there.
    codes = [
        _get(eu, "/orders/v0/orders", MarketplaceIds=UK, CreatedAfter=week).status_code
        for _ in range(20)
    ]
    assert codes == [200] * 20

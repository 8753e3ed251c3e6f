"""Reports API 2021-06-30 in the sandbox: listing rules, settlements issued twice, order
reports, and the presigned download's S3 behaviour."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.amazon.models import Report, Seller
from sandbox.amazon.reports import presign
from sandbox.amazon.store import settlement_issue_again
from sandbox.state import sandbox_configure
from tests.sandbox.amazon_support import (
    DE,
    EU_SELLER,
    UK,
    US,
    access_token,
    consent,
    redirect_query,
    seed,
    token_post,
)
from tests.specs import validate_swagger

V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
FLAT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
SPEC = "amazon/reports_2021-06-30.json"


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def eu(sandbox_url: str) -> tuple[str, dict[str, str]]:
    seed()
    code = redirect_query(consent(sandbox_url))["spapi_oauth_code"]
    refresh = token_post(sandbox_url, grant_type="authorization_code", code=code).json()
    token = access_token(sandbox_url, refresh["refresh_token"])
    return f"{sandbox_url}/amazon/sp/eu", {"x-amz-access-token": token}


def _call(
    eu: tuple[str, dict[str, str]], method: str, path: str, **kwargs: Any
) -> requests.Response:
    base, headers = eu
    return requests.request(method, f"{base}{path}", headers=headers, timeout=10, **kwargs)


def _error(response: requests.Response) -> dict[str, str]:
    error: dict[str, str] = response.json()["errors"][0]
    return error


def test_get_reports_parameter_rules(eu: tuple[str, dict[str, str]]) -> None:
    path = "/reports/2021-06-30/reports"
    first = _call(eu, "GET", path, params={"reportTypes": V2, "pageSize": 2})
    assert first.status_code == 200 and first.headers["x-amzn-RateLimit-Limit"] == "0.0222"
    token = first.json()["nextToken"]
    mixed = _call(
        eu,
        "GET",
        path,
        params={"nextToken": token, "reportTypes": V2, "pageSize": 2, "createdSince": "x"},
    )
    assert mixed.status_code == 400
    validate_swagger(mixed.json(), spec=SPEC, definition="ErrorList")
    assert _error(mixed) == {
        "code": "InvalidInput",
        "message": "NextToken cannot be specified with other input parameters",
        "details": "createdSince;pageSize;reportTypes;",
    }
    alone = _call(eu, "GET", path, params={"nextToken": token})
    assert alone.status_code == 200
    assert {r["reportId"] for r in alone.json()["reports"]}.isdisjoint(
        {r["reportId"] for r in first.json()["reports"]}
    )

    refused = {
        "Either reportTypes or nextToken is required.": {},
        "Invalid input in processing status": {"reportTypes": V2, "processingStatuses": "BAD"},
        "pageSize must be between 1 and 100.": {"reportTypes": V2, "pageSize": 101},
        "createdSince cannot be more than 90 days in the past.": {
            "reportTypes": V2,
            "createdSince": _iso(datetime.now(UTC) - timedelta(days=91)),
        },
        "reportTypes must contain between 1 and 10 values.": {"reportTypes": ",".join([V2] * 11)},
    }
    for details, params in refused.items():
        response = _call(eu, "GET", path, params=params)
        assert response.status_code == 400, params
        assert _error(response) == {
            "code": "InvalidInput",
            "message": "Invalid input",
            "details": details,
        }


def test_settlement_issued_twice_and_marketplace_filter(eu: tuple[str, dict[str, str]]) -> None:
    listed = _call(
        eu,
        "GET",
        "/reports/2021-06-30/reports",
        # A DE-only filter still returns every settlement report (models #1557).
        params={"reportTypes": f"{V2},{FLAT}", "marketplaceIds": DE, "pageSize": 100},
    )
    validate_swagger(listed.json(), spec=SPEC, definition="GetReportsResponse")
    reports = listed.json()["reports"]
    stored = {r.report_id: r for r in Report.objects.select_related("settlement")}
    settlement_ids = [stored[r["reportId"]].settlement.settlement_id for r in reports]
    twice = {s for s in settlement_ids if settlement_ids.count(s) == 2}
    assert len(twice) == 1 and {
        stored[r["reportId"]].settlement.marketplace_id for r in reports
    } == {
        UK,
        DE,
    }
    (settlement_id,) = twice
    copies = sorted(
        (r for r in reports if stored[r["reportId"]].settlement.settlement_id == settlement_id),
        key=lambda r: r["createdTime"],
    )
    texts = []
    for report in copies:
        document = _call(eu, "GET", f"/reports/2021-06-30/documents/{report['reportDocumentId']}")
        texts.append(
            gzip.decompress(requests.get(document.json()["url"], timeout=10).content).decode()
        )
    early, late = (t.splitlines() for t in texts)
    assert early[1].split("\t")[0] == late[1].split("\t")[0] == settlement_id
    assert len(early) < len(late) and late[2 : len(early)] == early[2:]  # the early one is cut
    assert early[1] != late[1]  # the summary total changed: keep the latest

    seller = Seller.objects.get(selling_partner_id=EU_SELLER)
    again = settlement_issue_again(
        seller=seller,
        settlement_id=settlement_id,
        created_time=datetime.now(UTC) - timedelta(minutes=10),
    )
    newest = _call(eu, "GET", "/reports/2021-06-30/reports", params={"reportTypes": V2}).json()
    assert newest["reports"][0]["reportId"] == again.report_id
    assert newest["reports"][0]["processingStatus"] == "DONE"


def test_get_report_unknown_and_expired(eu: tuple[str, dict[str, str]]) -> None:
    old = Report.objects.filter(created_time__lt=datetime.now(UTC) - timedelta(days=90)).first()
    assert old is not None
    for report_id in ("badReportId1", old.report_id):
        response = _call(eu, "GET", f"/reports/2021-06-30/reports/{report_id}")
        assert response.status_code == 400
        assert _error(response) == {
            "code": "InvalidInput",
            "message": "Invalid input",
            "details": "Invalid input",
        }
    assert old.document is not None
    gone = _call(eu, "GET", f"/reports/2021-06-30/documents/{old.document.document_id}")
    assert gone.status_code == 400
    current = Report.objects.filter(
        created_time__gte=datetime.now(UTC) - timedelta(days=60),
        seller__selling_partner_id=EU_SELLER,
    ).first()
    assert current is not None
    shown = _call(eu, "GET", f"/reports/2021-06-30/reports/{current.report_id}")
    assert shown.status_code == 200 and shown.headers["x-amzn-RateLimit-Limit"] == "2.0"
    validate_swagger(shown.json(), spec=SPEC, definition="Report")


def test_presigned_url_expires_and_cannot_be_forged(
    sandbox_url: str, eu: tuple[str, dict[str, str]]
) -> None:
    report = Report.objects.filter(
        report_type=V2,
        created_time__gte=datetime.now(UTC) - timedelta(days=60),
        seller__selling_partner_id=EU_SELLER,
    ).first()
    assert report is not None and report.document is not None
    doc = report.document.document_id
    answer = _call(eu, "GET", f"/reports/2021-06-30/documents/{doc}")
    assert answer.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    url = answer.json()["url"]
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["300"]
    fine = requests.get(url, timeout=10)
    assert fine.status_code == 200 and "Content-Encoding" not in fine.headers
    assert gzip.decompress(fine.content).startswith(b"settlement-id\t")

    expired = requests.get(
        presign("eu", doc, issued=datetime.now(UTC) - timedelta(minutes=5, seconds=1)), timeout=10
    )
    assert expired.status_code == 403
    assert expired.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired.text
    forged = requests.get(url.replace(doc, doc[:-1] + ("0" if doc[-1] != "0" else "1")), timeout=10)
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text
    tampered = requests.get(url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"), timeout=10)
    assert tampered.status_code == 403

    encoded = _call(
        eu,
        "GET",
        f"/reports/2021-06-30/documents/{doc}",
        params={"enableContentEncodingUrlHeader": "true"},
    )
    auto = requests.get(encoded.json()["url"], timeout=10)
    assert auto.headers["Content-Encoding"] == "gzip"
    assert auto.content.startswith(b"settlement-id\t")  # requests decompressed it


def test_create_report_rules_and_processing(eu: tuple[str, dict[str, str]]) -> None:
    path = "/reports/2021-06-30/reports"
    now = datetime.now(UTC)
    for report_type, number in ((V2, 1118), (FLAT, 1117)):
        refused = _call(eu, "POST", path, json={"reportType": report_type, "marketplaceIds": [UK]})
        assert refused.status_code == 400
        assert _error(refused) == {
            "code": "InvalidInput",
            "message": f"Request for report type {number} is not allowed at this time",
            "details": "",
        }
    for body in (
        {"reportType": ORDERS},
        {"reportType": ORDERS, "marketplaceIds": [US]},
        {
            "reportType": ORDERS,
            "marketplaceIds": [UK],
            "dataEndTime": _iso(now + timedelta(hours=1)),
        },
        {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [UK]},
    ):
        assert _call(eu, "POST", path, json=body).status_code == 400, body
    assert _call(eu, "POST", path, data="{nope").status_code == 400

    sandbox_configure(time_scale=20)  # queued 0.25 s, then 0.75 s in progress
    too_long = _call(
        eu,
        "POST",
        path,
        json={
            "reportType": ORDERS,
            "marketplaceIds": [UK],
            "dataStartTime": _iso(now - timedelta(days=45)),
            "dataEndTime": _iso(now - timedelta(days=1)),
        },
    )
    assert too_long.status_code == 202
    validate_swagger(too_long.json(), spec=SPEC, definition="CreateReportResponse")
    report_id = too_long.json()["reportId"]
    first = _call(eu, "GET", f"{path}/{report_id}").json()
    assert first["processingStatus"] == "IN_QUEUE" and "reportDocumentId" not in first
    time.sleep(1.2)
    final = _call(eu, "GET", f"{path}/{report_id}").json()
    assert final["processingStatus"] == "FATAL" and final["processingEndTime"]
    document = _call(eu, "GET", f"/reports/2021-06-30/documents/{final['reportDocumentId']}")
    text = gzip.decompress(requests.get(document.json()["url"], timeout=10).content).decode()
    assert text == "Date range exceeded. Report can be requested only upto 30 days\n"

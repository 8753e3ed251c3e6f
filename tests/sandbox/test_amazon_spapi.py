"""The sandbox SP-API driven end to end by the official python-amazon-sp-api client."""

from __future__ import annotations

import csv
import gzip
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sp_api.auth.access_token_client
from sp_api.api import Orders, Reports, Sellers
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiForbiddenException,
    SellingApiRequestThrottledException,
)

from sandbox.amazon.models import Order, Report, Seller
from sandbox.amazon.reports import ORDER_REPORT_COLUMNS
from sandbox.datagen.seller import (
    SellerSpec,
    generate_seller,
    render_settlement_flat,
    render_settlement_v2,
)
from sandbox.state import sandbox_configure
from tests.sandbox.amazon_support import (
    DE,
    EU_SELLER,
    UK,
    authorize,
    consent,
    form_fields,
    lwa_client_class,
    seed,
    sp_client,
)
from tests.specs import validate_swagger

V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
FLAT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _dataset(selling_partner_id: str):
    seller = Seller.objects.get(selling_partner_id=selling_partner_id)
    return generate_seller(
        SellerSpec(
            seed=seller.seed,
            start=seller.data_start,
            days=seller.data_days,
            orders=seller.data_orders,
            marketplaces=tuple(seller.marketplace_ids),
        )
    )


def test_official_client_from_consent_to_revocation(sandbox_url: str) -> None:
    seed()
    tokens = authorize(sandbox_url)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["refresh_token"].startswith("Atzr|")
    refresh = tokens["refresh_token"]

    def client(cls, region="eu", marketplace=Marketplaces.UK):
        return sp_client(
            cls, sandbox_url, region=region, refresh_token=refresh, marketplace=marketplace
        )

    # Sellers: the region's marketplaces only.
    participations = client(Sellers).get_marketplace_participation()
    validate_swagger(
        {"payload": participations.payload},
        spec="amazon/sellers.json",
        definition="GetMarketplaceParticipationsResponse",
    )
    assert [p["marketplace"]["id"] for p in participations.payload] == [UK, DE]
    assert participations.payload[0]["marketplace"]["defaultCurrencyCode"] == "GBP"
    assert participations.payload[1]["marketplace"]["domainName"] == "www.amazon.de"
    assert participations.rate_limit == "0.016"
    assert participations.headers["x-amzn-RequestId"]
    with pytest.raises(SellingApiForbiddenException) as wrong_region:
        client(Sellers, region="na", marketplace=Marketplaces.US).get_marketplace_participation()
    assert wrong_region.value.amzn_code == "Unauthorized"

    # getOrders, paged with NextToken; every page validates against the model.
    now = datetime.now(UTC)
    since = now - timedelta(days=60)
    orders = client(Orders)
    page = orders.get_orders(
        CreatedAfter=_iso(since), MarketplaceIds=[UK, DE], MaxResultsPerPage=40
    )
    seen, pages = [], 0
    while True:
        pages += 1
        validate_swagger(
            {"payload": page.payload}, spec="amazon/ordersV0.json", definition="GetOrdersResponse"
        )
        assert page.rate_limit == "0.0167"
        seen += [o["AmazonOrderId"] for o in page.payload["Orders"]]
        if not page.next_token:
            break
        page = orders.get_orders(NextToken=page.next_token)
    expected = list(
        Order.objects.filter(
            seller__selling_partner_id=EU_SELLER,
            purchase_date__gte=since.replace(microsecond=0),
        )
        .order_by("purchase_date", "pk")
        .values_list("amazon_order_id", flat=True)
    )
    assert seen == expected and pages == -(-len(expected) // 40) and pages > 1
    assert page.payload["CreatedBefore"] <= _iso(now - timedelta(minutes=2))

    # getOrderItems: the generator's items; Pending orders come without prices.
    for order in Order.objects.filter(seller__selling_partner_id=EU_SELLER)[:5]:
        items = orders.get_order_items(order.amazon_order_id)
        validate_swagger(
            {"payload": items.payload},
            spec="amazon/ordersV0.json",
            definition="GetOrderItemsResponse",
        )
        assert items.payload["AmazonOrderId"] == order.amazon_order_id
        assert items.payload["OrderItems"] == order.items

    # getReports: settlement reports of the last 90 days, newest first, paged.
    reports = client(Reports)
    listed = []
    page = reports.get_reports(reportTypes=[V2, FLAT], processingStatuses=["DONE"], pageSize=4)
    while True:
        validate_swagger(
            page.payload, spec="amazon/reports_2021-06-30.json", definition="GetReportsResponse"
        )
        listed += page.payload["reports"]
        if not page.next_token:
            break
        page = reports.get_reports(nextToken=page.next_token)
    visible = Report.objects.filter(
        seller__selling_partner_id=EU_SELLER,
        created_time__gte=now - timedelta(days=90),
        processing_end__lte=datetime.now(UTC),
    ).order_by("-created_time")
    assert [r["reportId"] for r in listed] == [r.report_id for r in visible]
    assert {r["reportType"] for r in listed} == {V2, FLAT}
    assert all(r["marketplaceIds"] == [UK, DE] for r in listed)
    older = Report.objects.filter(
        seller__selling_partner_id=EU_SELLER, created_time__lt=now - timedelta(days=90)
    )
    assert older.exists() and not {r.report_id for r in older} & {r["reportId"] for r in listed}

    # Documents: download and gunzip; the file is the generator's, byte for byte.
    dataset = _dataset(EU_SELLER)
    rendered = {s.settlement_id: s for s in dataset.settlements}
    by_type = {r["reportType"]: r for r in reversed(listed)}
    for report_type, render in ((V2, render_settlement_v2), (FLAT, render_settlement_flat)):
        report = Report.objects.get(report_id=by_type[report_type]["reportId"])
        document = reports.get_report_document(report.document.document_id)
        validate_swagger(
            document.payload, spec="amazon/reports_2021-06-30.json", definition="ReportDocument"
        )
        raw = requests.get(document.payload["url"], timeout=10)
        assert raw.status_code == 200
        if report_type == V2:
            assert document.payload["compressionAlgorithm"] == "GZIP"
            text = gzip.decompress(raw.content).decode()
        else:
            assert "compressionAlgorithm" not in document.payload
            text = raw.content.decode()
        assert text == render(rendered[report.settlement.settlement_id])
    downloaded = reports.get_report_document(
        Report.objects.get(report_id=by_type[V2]["reportId"]).document.document_id,
        download=True,
    )
    assert downloaded.payload["document"].startswith("settlement-id\tsettlement-start-date\t")

    # Settlement reports cannot be requested.
    with pytest.raises(SellingApiBadRequestException) as refused:
        reports.create_report(reportType=V2, marketplaceIds=[UK])
    assert refused.value.amzn_code == "InvalidInput"
    assert refused.value.message == "Request for report type 1118 is not allowed at this time"

    # An order report is: it queues, runs, and its document lists the orders of the range.
    sandbox_configure(time_scale=60)
    start, end = now - timedelta(days=20), now - timedelta(days=1)
    created = reports.create_report(
        reportType="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        marketplaceIds=[UK, DE],
        dataStartTime=_iso(start),
        dataEndTime=_iso(end),
    )
    report_id = created.payload["reportId"]
    statuses = []
    for _ in range(50):
        status = reports.get_report(report_id).payload
        statuses.append(status["processingStatus"])
        if status["processingStatus"] == "DONE":
            break
        time.sleep(0.05)
    assert statuses[0] == "IN_QUEUE" and statuses[-1] == "DONE"
    validate_swagger(status, spec="amazon/reports_2021-06-30.json", definition="Report")
    tsv = reports.get_report_document(status["reportDocumentId"], download=True)
    rows = list(csv.DictReader(io.StringIO(tsv.payload["document"]), delimiter="\t"))
    assert tsv.character_code.lower() == "cp1252"
    assert list(rows[0]) == list(ORDER_REPORT_COLUMNS)
    assert {r["amazon-order-id"] for r in rows} == set(
        Order.objects.filter(
            seller__selling_partner_id=EU_SELLER,
            last_update_date__gte=start.replace(microsecond=0),
            last_update_date__lte=end,
        ).values_list("amazon_order_id", flat=True)
    )
    sandbox_configure(time_scale=1)

    # The burst spent, the next call is throttled, with the usage plan in the headers.
    sellers = client(Sellers)
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        for _ in range(20):
            sellers.get_marketplace_participation()
    assert throttled.value.amzn_code == "QuotaExceeded"
    assert throttled.value.message == "You exceeded your quota for the requested resource."
    assert throttled.value.headers["x-amzn-RateLimit-Limit"] == "0.016"

    # The seller removes the app in Seller Central: the next refresh is invalid_grant.
    session = requests.Session()
    manage = session.get(f"{sandbox_url}/amazon/sellercentral/apps/manage", timeout=10)
    assert "Ledgerbridge (sandbox)" in manage.text and "Active" in manage.text
    action = manage.text.split('form method="post" action="')[1].split('"')[0]
    removed = session.post(
        f"{sandbox_url.removesuffix('/sandbox')}{action}",
        data={"csrfmiddlewaretoken": form_fields(manage.text)["csrfmiddlewaretoken"]},
        timeout=10,
    )
    assert removed.status_code == 200 and "invalid_grant" in removed.text
    sp_api.auth.access_token_client.cache.clear()
    with pytest.raises(AuthorizationError) as revoked:
        client(Sellers).get_marketplace_participation()
    assert revoked.value.error_code == "invalid_grant" and revoked.value.status_code == 400


def test_authorization_code_lives_five_minutes_and_once(sandbox_url: str) -> None:
    from sp_api.base import CredentialProvider

    from sandbox.amazon.models import LwaAuthCode
    from tests.sandbox.amazon_support import credentials, redirect_query

    seed()
    code = redirect_query(consent(sandbox_url))["spapi_oauth_code"]
    LwaAuthCode.objects.update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    lwa = lwa_client_class(sandbox_url)(
        refresh_token=None, credentials=CredentialProvider(credentials=credentials()).credentials
    )
    with pytest.raises(AuthorizationError) as expired:
        lwa.authorize_auth_code(code)
    assert expired.value.error_code == "invalid_grant"

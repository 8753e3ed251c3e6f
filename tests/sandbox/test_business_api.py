"""The Reconciliation API through a real server, every body checked against Amazon's model."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from sandbox.amazon.lwa import issue_authorization_code
from sandbox.amazon.models import LwaApp
from sandbox.business.models import BusinessAccount, Invoice, PaymentMethod, Transaction
from sandbox.business.services import account_create, invoice_mark_paid, purchase_add
from sandbox.datagen.business import BuyerSpec, generate_buyer
from sandbox.state import sandbox_configure
from tests.sandbox.test_business_consent import (
    REDIRECT,
    Connected,
    connect,
    csrf_token,
    make_business_app,
    seed_buyer,
    token_request,
)
from tests.specs import validate_swagger

SPEC = "amazon-business/Reconciliation_API.json"
BASE = "/business/api/reconciliation/2021-01-08"
WIDE = {"feedStartDate": "2000-01-01T00:00:00Z", "feedEndDate": "2100-01-01T00:00:00Z"}


@pytest.fixture
def connected(sandbox_url: str) -> Connected:
    account = seed_buyer(days=90, purchases=120)
    return connect(sandbox_url, make_business_app(), account)


def get_transactions(sandbox_url: str, token: str, **params: str) -> requests.Response:
    return requests.get(
        f"{sandbox_url}{BASE}/transactions",
        params=params,
        headers={"x-amz-access-token": token},
        timeout=10,
    )


def payment_details(sandbox_url: str, token: str, body: Any) -> requests.Response:
    return requests.post(
        f"{sandbox_url}{BASE}/invoices/batch/paymentDetails",
        json=body,
        headers={"x-amz-access-token": token},
        timeout=10,
    )


def all_pages(sandbox_url: str, token: str, **params: str) -> list[list[dict[str, Any]]]:
    pages = []
    response = get_transactions(sandbox_url, token, **params)
    while True:
        assert response.status_code == 200, response.text
        assert response.headers["x-amzn-RateLimit-Limit"] == "2.0"
        assert response.headers["x-amzn-RequestId"]
        body = response.json()
        validate_swagger(body, spec=SPEC, definition="TransactionsResponse")
        pages.append(body["transactions"])
        if "nextPageToken" not in body:
            return pages
        response = get_transactions(sandbox_url, token, nextPageToken=body["nextPageToken"])


def assert_error(
    response: requests.Response, status: int, code: str, message: str
) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    validate_swagger(body, spec=SPEC, definition="ErrorList")
    (error,) = body["errors"]
    assert (error["code"], error["message"]) == (code, message)
    return dict(error)


def test_paging_returns_every_transaction_exactly_once(
    sandbox_url: str, connected: Connected
) -> None:
    pages = all_pages(sandbox_url, connected.access_token, **WIDE)

    assert len(pages) >= 2 and all(len(p) == 100 for p in pages[:-1])
    seen = [t["transactionId"] for page in pages for t in page]
    assert len(seen) == len(set(seen))
    stored = set(connected.account.transactions.values_list("transaction_id", flat=True))
    assert set(seen) == stored
    feed_dates = [t["feedDate"] for page in pages for t in page]
    assert feed_dates == sorted(feed_dates)

    transactions = {t["transactionId"]: t for page in pages for t in page}
    assert {t["transactionType"] for t in transactions.values()} == {
        "CHARGE",
        "REFUND",
        "OVERREFUND",
    }
    cards = {
        t["paymentInstrumentLast4Digits"]
        for t in transactions.values()
        if "paymentInstrumentLast4Digits" in t
    }
    assert {"1111", "5454", "0005", "4242"} <= cards
    pay_by_invoice = [
        t for t in transactions.values() if t["paymentInstrumentType"] == "PayByInvoice"
    ]
    assert pay_by_invoice and all(t["invoiceNumber"] for t in pay_by_invoice)
    split = [t for t in transactions.values() if t.get("associatedTransactionDetails")]
    assert split
    for t in split:
        for other in t["associatedTransactionDetails"]:
            partner = transactions[other["associatedTransactionId"]]
            assert {"associatedTransactionId": t["transactionId"]} in partner[
                "associatedTransactionDetails"
            ]
    for t in transactions.values():
        validate_swagger(t, spec=SPEC, definition="Transaction")
        lines = sum(Decimal(i["totalAmount"]["amount"]) for i in t["transactionLineItems"])
        assert Decimal(t["amount"]["amount"]) == lines
        for item in t["transactionLineItems"]:
            assert "GL code" in item["businessOrderInfo"]
    refunds = [t for t in transactions.values() if t["transactionType"] != "CHARGE"]
    assert all(Decimal(t["amount"]["amount"]) < 0 for t in refunds)


def test_the_range_is_by_feed_date_start_inclusive_end_exclusive(
    sandbox_url: str, connected: Connected
) -> None:
    rows = list(connected.account.transactions.order_by("feed_date", "id"))
    start, end = rows[10].feed_date, rows[40].feed_date
    expected = {r.transaction_id for r in rows if start <= r.feed_date < end}
    pages = all_pages(
        sandbox_url,
        connected.access_token,
        feedStartDate=start.isoformat(),
        feedEndDate=end.isoformat(),
    )
    assert {t["transactionId"] for page in pages for t in page} == expected

    # A date without an offset is UTC, as in Amazon's own example.
    naive = get_transactions(
        sandbox_url,
        connected.access_token,
        feedStartDate=start.astimezone(UTC).replace(tzinfo=None).isoformat(),
        feedEndDate=end.astimezone(UTC).replace(tzinfo=None).isoformat(),
    )
    assert {t["transactionId"] for t in naive.json()["transactions"]} == expected


def test_a_purchase_is_returned_once_its_feed_date_has_come(
    sandbox_url: str, connected: Connected
) -> None:
    account = connected.account
    card = account.payment_methods.get(key="card-1111")
    later = purchase_add(account=account, method=card, feed_delay=timedelta(hours=2))
    now = purchase_add(account=account, method=card, lines=3)
    ids = {
        t["transactionId"]
        for page in all_pages(sandbox_url, connected.access_token, **WIDE)
        for t in page
    }
    assert now.transaction_id in ids
    assert later.transaction_id not in ids
    assert len(now.data["transactionLineItems"]) == 3
    assert now.amount == sum(
        Decimal(i["totalAmount"]["amount"]) for i in now.data["transactionLineItems"]
    )


def test_a_purchase_with_a_brand_new_card_added_on_the_store(
    sandbox_url: str, connected: Connected
) -> None:
    account = connected.account
    session = requests.Session()
    page = session.get(f"{sandbox_url}/business/store/accounts/{account.account_id}/", timeout=10)
    assert page.status_code == 200
    added = session.post(
        f"{sandbox_url}/business/store/accounts/{account.account_id}/purchases",
        data={
            "csrfmiddlewaretoken": csrf_token(page.text),
            "method": "new-card",
            "card_type": "MasterCard",
            "last4": "9876",
            "lines": "2",
        },
        timeout=10,
    )
    assert added.status_code == 200
    assert "paid with MasterCard ending 9876" in added.text
    method = PaymentMethod.objects.get(account=account, last4="9876")
    assert (method.key, method.payment_instrument_type) == ("card-9876", "MasterCard")

    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    body = get_transactions(
        sandbox_url,
        connected.access_token,
        feedStartDate=since,
        feedEndDate="2100-01-01T00:00:00Z",
    ).json()
    validate_swagger(body, spec=SPEC, definition="TransactionsResponse")
    (charge,) = body["transactions"]
    assert charge["transactionType"] == "CHARGE"
    assert (charge["paymentInstrumentType"], charge["paymentInstrumentLast4Digits"]) == (
        "MasterCard",
        "9876",
    )
    assert len(charge["transactionLineItems"]) == 2

    again = session.post(
        f"{sandbox_url}/business/store/accounts/{account.account_id}/purchases",
        data={
            "csrfmiddlewaretoken": csrf_token(page.text),
            "method": "new-card",
            "last4": "9876",
        },
        timeout=10,
    )
    assert "No purchase added: the account already has a card ending 9876." in again.text


def test_pay_by_invoice_is_reported_paid_only_once_it_is(
    sandbox_url: str, connected: Connected
) -> None:
    account = connected.account
    row = purchase_add(account=account, method=account.payment_methods.get(key="pay-by-invoice"))
    invoice = Invoice.objects.get(account=account, invoice_id=row.invoice_number)
    assert invoice.amount == row.amount
    overdue_row = purchase_add(
        account=account,
        method=account.payment_methods.get(key="pay-by-invoice"),
        at=datetime.now(UTC) - timedelta(days=45),
    )
    past_due = Invoice.objects.get(account=account, invoice_id=overdue_row.invoice_number)

    before = payment_details(
        sandbox_url,
        connected.access_token,
        {"invoiceIds": [invoice.invoice_id, "NO-SUCH-INVOICE", past_due.invoice_id]},
    )
    assert before.status_code == 200
    body = before.json()
    validate_swagger(body, spec=SPEC, definition="GetBatchInvoicePaymentDetailsResponse")
    issued, missing, overdue = body["invoicePaymentDetailsResults"]
    validate_swagger(issued, spec=SPEC, definition="SuccessInvoicePaymentDetailResult")
    validate_swagger(missing, spec=SPEC, definition="FailedInvoicePaymentDetailResult")
    due = (row.transaction_date + timedelta(days=30)).date().isoformat() + "T23:59:59Z"
    assert issued == {
        "invoiceId": invoice.invoice_id,
        "resultType": "SUCCESS",
        "paymentDetails": {"status": "Issued", "dueDate": due},
    }
    assert missing == {
        "invoiceId": "NO-SUCH-INVOICE",
        "resultType": "ERROR",
        "error": {"code": "NOT_FOUND", "message": "Invoice not found."},
    }
    assert overdue["paymentDetails"]["status"] == "Past Due"

    # The buyer pays from the store: processing first, then closed.
    session = requests.Session()
    page = session.get(f"{sandbox_url}/business/store/accounts/{account.account_id}/", timeout=10)
    paid = session.post(
        f"{sandbox_url}/business/store/accounts/{account.account_id}/invoices/"
        f"{invoice.invoice_id}/pay",
        data={"csrfmiddlewaretoken": csrf_token(page.text), "status": "Payment Processing"},
        timeout=10,
    )
    assert f"Invoice {invoice.invoice_id} is now Payment Processing." in paid.text
    processing = payment_details(
        sandbox_url, connected.access_token, {"invoiceIds": [invoice.invoice_id]}
    ).json()
    assert processing["invoicePaymentDetailsResults"][0]["paymentDetails"]["status"] == (
        "Payment Processing"
    )

    invoice.refresh_from_db()
    invoice_mark_paid(invoice=invoice)
    after = payment_details(
        sandbox_url, connected.access_token, {"invoiceIds": [invoice.invoice_id]}
    ).json()
    validate_swagger(after, spec=SPEC, definition="GetBatchInvoicePaymentDetailsResponse")
    assert after["invoicePaymentDetailsResults"][0]["paymentDetails"] == {
        "status": "Closed",
        "dueDate": due,
    }


def test_another_accounts_invoice_is_not_found(sandbox_url: str, connected: Connected) -> None:
    other = account_create(
        account_id="amzn1.abws.account.OTHER",
        name="Another Buyer LLC",
        dataset=generate_buyer(
            BuyerSpec(seed=9, start=datetime.now(UTC).date() - timedelta(days=30), days=30)
        ),
        seed=9,
    )
    theirs = other.invoices.first()
    assert theirs is not None
    body = payment_details(
        sandbox_url, connected.access_token, {"invoiceIds": [theirs.invoice_id]}
    ).json()
    assert body["invoicePaymentDetailsResults"][0]["resultType"] == "ERROR"
    ids = {
        t["transactionId"]
        for page in all_pages(sandbox_url, connected.access_token, **WIDE)
        for t in page
    }
    assert not ids & set(other.transactions.values_list("transaction_id", flat=True))


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"invoiceIds": []}, "The invoiceIds array must contain at least one invoice ID."),
        ({}, "The invoiceIds array must contain at least one invoice ID."),
        (
            {"invoiceIds": [f"INV{n}" for n in range(26)]},
            "The invoiceIds array must contain at most 25 invoice IDs.",
        ),
        ({"invoiceIds": [""]}, "Each invoice ID must be a string of 1 to 255 characters."),
        ({"invoiceIds": [7]}, "Each invoice ID must be a string of 1 to 255 characters."),
    ],
)
def test_a_bad_batch_is_refused(
    sandbox_url: str, connected: Connected, body: dict[str, Any], details: str
) -> None:
    error = assert_error(
        payment_details(sandbox_url, connected.access_token, body),
        400,
        "INVALID_REQUEST_PARAMETER",
        "The request contains invalid parameters.",
    )
    assert error["details"] == details


def test_a_batch_that_is_not_json_is_refused(sandbox_url: str, connected: Connected) -> None:
    response = requests.post(
        f"{sandbox_url}{BASE}/invoices/batch/paymentDetails",
        data="invoiceIds=1",
        headers={"x-amz-access-token": connected.access_token},
        timeout=10,
    )
    error = assert_error(
        response, 400, "INVALID_REQUEST_PARAMETER", "The request contains invalid parameters."
    )
    assert error["details"] == "The request body is not valid JSON."


@pytest.mark.parametrize(
    ("params", "message", "details"),
    [
        (
            {"feedStartDate": "incorrectFormatDate", "feedEndDate": "2020-08-01T00:00:00"},
            "Input date [incorrectFormatDate] is not in the expected ISO8601 format.",
            None,
        ),
        (
            {"feedStartDate": "2020-07-09", "feedEndDate": "2020-08-01T00:00:00Z"},
            "Input date [2020-07-09] is not in the expected ISO8601 format.",
            None,
        ),
        (
            {"feedStartDate": "2020-07-09T00:00:00Z"},
            "Missing required request parameters.",
            "feedEndDate is required.",
        ),
        ({}, "Missing required request parameters.", "feedStartDate and feedEndDate are required."),
        (
            {"feedStartDate": "2020-08-01T00:00:00Z", "feedEndDate": "2020-07-09T00:00:00Z"},
            "Invalid date range.",
            "feedStartDate [2020-08-01T00:00:00Z] must be before feedEndDate "
            "[2020-07-09T00:00:00Z].",
        ),
        (
            {"feedStartDate": "2020-08-01T00:00:00Z", "feedEndDate": "2020-08-01T00:00:00Z"},
            "Invalid date range.",
            "feedStartDate [2020-08-01T00:00:00Z] must be before feedEndDate "
            "[2020-08-01T00:00:00Z].",
        ),
        (
            {"nextPageToken": "not-a-token"},
            "The nextPageToken is invalid.",
            "Send the nextPageToken unchanged.",
        ),
    ],
)
def test_bad_dates_and_tokens_are_refused(
    sandbox_url: str,
    connected: Connected,
    params: dict[str, str],
    message: str,
    details: str | None,
) -> None:
    error = assert_error(
        get_transactions(sandbox_url, connected.access_token, **params),
        400,
        "INVALID_REQUEST_PARAMETER",
        message,
    )
    assert error.get("details") == details


def test_a_page_token_only_fits_its_own_range_and_account(
    sandbox_url: str, connected: Connected
) -> None:
    first = get_transactions(sandbox_url, connected.access_token, **WIDE).json()
    token = first["nextPageToken"]
    # With the same dates alongside (the spec marks them required) the token still works.
    same = get_transactions(sandbox_url, connected.access_token, nextPageToken=token, **WIDE)
    assert same.status_code == 200
    assert same.json()["transactions"][0]["transactionId"] not in {
        t["transactionId"] for t in first["transactions"]
    }
    other_range = get_transactions(
        sandbox_url,
        connected.access_token,
        nextPageToken=token,
        feedStartDate="2010-01-01T00:00:00Z",
        feedEndDate=WIDE["feedEndDate"],
    )
    error = assert_error(
        other_range,
        400,
        "INVALID_REQUEST_PARAMETER",
        "The nextPageToken does not belong to this feedStartDate and feedEndDate.",
    )
    assert error["details"] == "To get the next page, send nextPageToken as the only parameter."
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert_error(
        get_transactions(sandbox_url, connected.access_token, nextPageToken=tampered),
        400,
        "INVALID_REQUEST_PARAMETER",
        "The nextPageToken is invalid.",
    )

    # Another buyer's token is no good here.
    other = account_create(
        account_id="amzn1.abws.account.OTHER",
        name="Another Buyer LLC",
        dataset=generate_buyer(
            BuyerSpec(
                seed=3, start=datetime.now(UTC).date() - timedelta(days=60), days=60, purchases=90
            )
        ),
        seed=3,
    )
    code = issue_authorization_code(
        app=connected.app,
        redirect_uri=REDIRECT,
        subject_kind="business",
        subject_id=other.account_id,
    )
    other_token = token_request(
        sandbox_url, connected.app, grant_type="authorization_code", code=code
    ).json()["access_token"]
    theirs = get_transactions(sandbox_url, other_token, **WIDE).json()["nextPageToken"]
    assert_error(
        get_transactions(sandbox_url, connected.access_token, nextPageToken=theirs),
        400,
        "INVALID_REQUEST_PARAMETER",
        "The nextPageToken is invalid.",
    )


def test_the_burst_then_quota_exceeded_then_the_rate(
    sandbox_url: str, connected: Connected
) -> None:
    # Time almost stands still: the bucket does not refill during the burst.
    sandbox_configure(time_scale=0.001)
    statuses = [
        get_transactions(sandbox_url, connected.access_token, **WIDE).status_code for _ in range(10)
    ]
    assert statuses == [200] * 10
    throttled = get_transactions(sandbox_url, connected.access_token, **WIDE)
    assert_error(
        throttled, 429, "QuotaExceeded", "You exceeded your quota for the requested resource."
    )
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "2.0"
    assert "Retry-After" not in throttled.headers

    # Each operation has its own usage plan.
    other_operation = payment_details(sandbox_url, connected.access_token, {"invoiceIds": ["X"]})
    assert other_operation.status_code == 200

    # Time x1000: two requests a second become two thousand; the bucket refills at once.
    sandbox_configure(time_scale=1000)
    time.sleep(0.05)
    assert get_transactions(sandbox_url, connected.access_token, **WIDE).status_code == 200


def test_a_missing_or_seller_token_is_refused(sandbox_url: str, connected: Connected) -> None:
    missing = get_transactions(sandbox_url, "", **WIDE)
    assert_error(missing, 403, "Unauthorized", "Access to requested resource is denied.")
    assert missing.headers["x-amzn-RequestId"]
    seller_app = LwaApp.objects.create(
        kind=LwaApp.Kind.SELLER,
        application_id="amzn1.sp.solution.seller",
        client_id="amzn1.application-oa2-client.seller",
        client_secret="test-ab-secret",
        name="Seller app",
        redirect_uris=[REDIRECT],
    )
    code = issue_authorization_code(
        app=seller_app, redirect_uri=REDIRECT, subject_kind="seller", subject_id="A2SELLER"
    )
    seller = token_request(sandbox_url, seller_app, grant_type="authorization_code", code=code)
    assert_error(
        get_transactions(sandbox_url, seller.json()["access_token"], **WIDE),
        403,
        "Unauthorized",
        "Access to requested resource is denied.",
    )


def test_invoice_details_by_order_line_items(sandbox_url: str, connected: Connected) -> None:
    refund = connected.account.transactions.filter(transaction_type="REFUND").first()
    assert refund is not None
    item = refund.data["transactionLineItems"][0]
    line = {k: item[k] for k in ("orderId", "orderLineItemId", "shipmentId")}
    unknown = {"orderId": "111-0000000-0000000", "orderLineItemId": "1", "shipmentId": "X"}
    response = requests.post(
        f"{sandbox_url}{BASE}/invoices",
        json={"orderLineItems": [line, unknown]},
        headers={"x-amz-access-token": connected.access_token},
        timeout=10,
    )
    assert response.status_code == 200
    body = response.json()
    validate_swagger(body, spec=SPEC, definition="InvoiceDetailsByOrderLineItemsResponse")
    (found,) = body["invoiceDetailsByOrderLineItems"]
    assert found["orderLineItem"] == line
    charge = next(
        c
        for c in Transaction.objects.filter(
            account=connected.account, transaction_type="CHARGE", order_id=line["orderId"]
        )
        if line in [{k: i[k] for k in line} for i in c.data["transactionLineItems"]]
    )
    kinds = {d["invoiceNumber"]: d["invoiceType"] for d in found["invoiceDetails"]}
    assert kinds[charge.invoice_number] == "STANDARD"
    assert kinds[refund.invoice_number] == "CREDIT_MEMO"

    too_many = requests.post(
        f"{sandbox_url}{BASE}/invoices",
        json={"orderLineItems": [line] * 26},
        headers={"x-amz-access-token": connected.access_token},
        timeout=10,
    )
    assert_error(
        too_many, 400, "INVALID_REQUEST_PARAMETER", "The request contains invalid parameters."
    )
    empty = requests.post(
        f"{sandbox_url}{BASE}/invoices",
        json={},
        headers={"x-amz-access-token": connected.access_token},
        timeout=10,
    )
    assert_error(empty, 400, "INVALID_REQUEST_PARAMETER", "Missing required request parameters.")


def test_unknown_paths_and_methods_answer_in_the_api_error_shape(
    sandbox_url: str, connected: Connected
) -> None:
    assert_error(
        requests.get(f"{sandbox_url}{BASE}/nothing", timeout=10),
        404,
        "NotFound",
        "The requested resource was not found.",
    )
    assert_error(
        requests.post(
            f"{sandbox_url}{BASE}/transactions",
            headers={"x-amz-access-token": connected.access_token},
            timeout=10,
        ),
        405,
        "MethodNotAllowed",
        "Method POST is not allowed here.",
    )


def test_pages_show_accounts_cards_and_transactions(sandbox_url: str, connected: Connected) -> None:
    account: BusinessAccount = connected.account
    listing = requests.get(f"{sandbox_url}/business/store/accounts/", timeout=10)
    assert listing.status_code == 200
    assert "Sandbox Business Buyer Inc." in listing.text
    assert "Visa ending 4242 (new card)" in listing.text
    assert "Ledgerbridge (test), by Accounts Payable" in listing.text
    detail = requests.get(
        f"{sandbox_url}/business/store/accounts/{account.account_id}/", timeout=10
    )
    assert detail.status_code == 200
    latest = account.transactions.order_by("-feed_date", "-id").first()
    assert latest is not None and latest.transaction_id in detail.text
    assert f"{account.transactions.count()} in all" in detail.text
    missing = requests.get(f"{sandbox_url}/business/store/accounts/amzn1.abws.account.NOPE/")
    assert missing.status_code == 404

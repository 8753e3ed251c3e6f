"""Reconciliation API calls, one Amazon Business account at a time.

Every call first takes a token from the account's shared limiter (``business_wait``: 2 per
second, burst 10). When none is free, nothing is sent and ``LimiterBusy`` says how long to wait,
so the task re-queues itself instead of sleeping. A 429 from Amazon comes back as
``http.RetryLater`` with its own wait.

Reference: https://developer-docs.amazon.com/amazon-business/docs/reconciliation-api-v1-reference
(shared/reference/amazon-api.md §9; model: shared/specs/amazon-business/Reconciliation_API.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings

from connectors import http
from connectors.amazon_sp.auth import amazon_access_token
from connectors.limits import business_wait
from connectors.models import AmazonBusinessAccount
from connectors.xero.auth import connection_mark_needs_reconnect

PROVIDER = "amazon-business"
BASE = "/reconciliation/2021-01-08"
MAX_INVOICE_IDS = 25  # GetBatchInvoicePaymentDetailsRequest.invoiceIds maxItems


class LimiterBusy(http.RetryLater):
    """No token in the account's limiter: nothing was sent; try again after ``decision.wait``."""


def business_request(
    account: AmazonBusinessAccount, operation: str, method: str, path: str, **kwargs: Any
) -> requests.Response:
    """One call to the account's Amazon Business API, within the account's rate limit."""
    wait = business_wait(account.pk)
    if wait > 0:
        raise LimiterBusy(
            provider=PROVIDER,
            operation=operation,
            message="waiting for the Amazon Business rate limit (2 calls a second)",
            decision=http.RetryDecision(True, "limiter busy", wait),
        )
    token = amazon_access_token(account)
    try:
        return http.call(
            PROVIDER,
            operation,
            method,
            f"{settings.AMAZON_BUSINESS_API_URL}{path}",
            headers={"x-amz-access-token": token, "Accept": "application/json"},
            **kwargs,
        )
    except http.AuthRejected as exc:
        connection_mark_needs_reconnect(
            account,
            reason=(
                f"Amazon Business refused access ({exc.message}). Reconnect the Amazon Business "
                "account (an administrator must authorise it again)."
            ),
        )
        raise


@dataclass(frozen=True)
class TransactionsPage:
    transactions: list[dict[str, Any]]
    next_page_token: str  # "" on the last page


def api_datetime(value: datetime) -> str:
    """ISO 8601 in UTC, as the API's own examples write feedStartDate/feedEndDate."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def transactions_get(
    account: AmazonBusinessAccount,
    *,
    feed_start: datetime | None = None,
    feed_end: datetime | None = None,
    next_page_token: str = "",
) -> TransactionsPage:
    """One page of transactions whose feedDate is in [feed_start, feed_end).

    The first page takes the dates; later pages send the ``nextPageToken`` alone.
    Reference: https://developer-docs.amazon.com/amazon-business/reference/gettransactions
    """
    if next_page_token:
        params = {"nextPageToken": next_page_token}
    else:
        if feed_start is None or feed_end is None:
            raise ValueError("the first page needs feed_start and feed_end")
        params = {"feedStartDate": api_datetime(feed_start), "feedEndDate": api_datetime(feed_end)}
    body = business_request(
        account, "getTransactions", "GET", f"{BASE}/transactions", params=params
    ).json()
    return TransactionsPage(
        transactions=list(body.get("transactions") or []),
        next_page_token=str(body.get("nextPageToken") or ""),
    )


@dataclass(frozen=True)
class InvoicePayment:
    """getBatchInvoicePaymentDetails for one invoice: status and due date, or Amazon's error."""

    invoice_id: str
    status: str  # Closed, Past Due, Issued, Payment Processing; "" on error
    due_date: datetime | None
    error: str = ""

    @property
    def closed(self) -> bool:
        return self.status == "Closed"


def _parse_date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def invoice_payments_get(
    account: AmazonBusinessAccount, invoice_ids: list[str]
) -> list[InvoicePayment]:
    """Payment status of up to 25 Pay by Invoice invoices, one result per id asked for.

    Reference: https://developer-docs.amazon.com/amazon-business/reference/getbatchinvoicepaymentdetails
    """
    if not 1 <= len(invoice_ids) <= MAX_INVOICE_IDS:
        raise ValueError(f"ask for 1 to {MAX_INVOICE_IDS} invoice ids at a time")
    body = business_request(
        account,
        "getBatchInvoicePaymentDetails",
        "POST",
        f"{BASE}/invoices/batch/paymentDetails",
        json={"invoiceIds": invoice_ids},
    ).json()
    results: list[InvoicePayment] = []
    for row in body.get("invoicePaymentDetailsResults") or []:
        invoice_id = str(row.get("invoiceId") or "")
        if row.get("resultType") == "SUCCESS":
            details = row.get("paymentDetails") or {}
            results.append(
                InvoicePayment(
                    invoice_id=invoice_id,
                    status=str(details.get("status") or ""),
                    due_date=_parse_date(details.get("dueDate")),
                )
            )
        else:
            error = row.get("error") or {}
            results.append(
                InvoicePayment(
                    invoice_id=invoice_id,
                    status="",
                    due_date=None,
                    error=str(error.get("message") or error.get("code") or "unknown error"),
                )
            )
    return results

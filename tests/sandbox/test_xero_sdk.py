"""The official xero-python SDK against the sandbox, as the hub will use it.

One ``ApiClient`` per token set, built the way xero-api.md §8 says (``Configuration()`` with no
arguments, then assign ``oauth2_token``; getter and saver bound to this connection), and
``AccountingApi(api_client, base_url=...)`` pointed at the sandbox.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    AccountingApi,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
    Payments,
)
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import NotFoundException, RateLimitException
from xero_python.exceptions.http_status_exceptions import AccountingBadRequestException

from sandbox.models import RateCounter
from sandbox.state import sandbox_configure
from sandbox.xero.models import Invoice as InvoiceRow
from sandbox.xero.models import Organisation
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import Connected, connect


@pytest.fixture
def uk(sandbox_url: str) -> Organisation:
    seed_organisations(site_url="http://hub.test")
    return Organisation.objects.get(short_code="!nW7Gd")


def accounting(sandbox_url: str, conn: Connected) -> tuple[AccountingApi, ApiClient]:
    config = Configuration()
    config.oauth2_token = OAuth2Token(client_id=conn.app.client_id, client_secret="unused")
    token = {
        "access_token": conn.access_token,
        "refresh_token": conn.refresh_token,
        "token_type": "Bearer",
        "expires_in": 1800,
        "expires_at": time.time() + 1800,
        "scope": conn.scopes,
    }
    client = ApiClient(
        config,
        oauth2_token_getter=lambda: token,
        oauth2_token_saver=lambda new: token.update(new),
        pool_threads=1,
    )
    return AccountingApi(client, base_url=f"{sandbox_url}/xero/api/api.xro/2.0"), client


@pytest.fixture
def sdk(sandbox_url: str, uk: Organisation) -> tuple[AccountingApi, ApiClient, str]:
    api, client = accounting(sandbox_url, connect(uk))
    return api, client, str(uk.tenant_id)


def _invoice(reference: str, unit: str = "100.00", **extra: object) -> Invoice:
    return Invoice(
        type="ACCREC",
        contact=Contact(name="Amazon UK"),
        date=date(2026, 3, 1),
        due_date=date(2026, 3, 15),
        reference=reference,
        status="AUTHORISED",
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        line_items=[
            LineItem(
                description="Settlement",
                quantity=Decimal("1"),
                unit_amount=Decimal(unit),
                account_code="200",
                tax_type="OUTPUT2",
            )
        ],
        **extra,
    )


def test_reads_organisation_accounts_and_limits_headers(
    sdk: tuple[AccountingApi, ApiClient, str],
) -> None:
    api, client, tenant = sdk
    org = api.get_organisations(tenant).organisations[0]
    assert (org.name, org.base_currency.value, org.edition) == (
        "Northwind Goods Ltd",
        "GBP",
        "BUSINESS",
    )
    assert client.last_response.getheader("X-DayLimit-Remaining") == "4999"
    accounts = api.get_accounts(tenant, where='Type=="BANK"').accounts
    assert {a.code for a in accounts} == {"090", "091", "092", "093"}
    card = next(a for a in accounts if a.code == "092")
    assert card.bank_account_type == "CREDITCARD"
    assert isinstance(card.updated_date_utc, object) and card.updated_date_utc.year == 2026


def test_batch_with_summarize_errors_false_and_decimal_totals(
    sdk: tuple[AccountingApi, ApiClient, str],
) -> None:
    api, _, tenant = sdk
    bad = _invoice("bad")
    bad.line_items[0].account_code = "999"
    result = api.create_invoices(
        tenant,
        Invoices(invoices=[_invoice("good", "10.0349"), bad]),
        summarize_errors=False,
        unitdp=4,
    )
    good, failed = result.invoices
    assert good.status_attribute_string == "OK" and failed.has_errors is True
    assert (
        failed.validation_errors[0].message
        == "Account code '999' is not a valid code for this document."
    )
    assert good.line_items[0].unit_amount == Decimal("10.0349")
    assert good.sub_total == Decimal("10.03") and good.total_tax == Decimal("2.01")
    assert good.total == Decimal("12.04")
    assert good.date == date(2026, 3, 1)


def test_summarised_errors_raise_with_xeros_first_message(
    sdk: tuple[AccountingApi, ApiClient, str],
) -> None:
    api, _, tenant = sdk
    api.create_invoices(tenant, Invoices(invoices=[_invoice("once", invoice_number="AMZ-1")]))
    with pytest.raises(AccountingBadRequestException) as raised:
        api.create_invoices(tenant, Invoices(invoices=[_invoice("twice", invoice_number="AMZ-1")]))
    assert raised.value.status == 400
    assert raised.value.reason == "Invoice # must be unique."
    assert raised.value.error_data["Type"] == "ValidationException"


def test_idempotency_key_through_the_sdk(sdk: tuple[AccountingApi, ApiClient, str]) -> None:
    api, _, tenant = sdk
    first = api.create_invoices(
        tenant, Invoices(invoices=[_invoice("idem")]), idempotency_key="sdk-key-1"
    )
    again = api.create_invoices(
        tenant, Invoices(invoices=[_invoice("idem")]), idempotency_key="sdk-key-1"
    )
    assert first.invoices[0].invoice_id == again.invoices[0].invoice_id
    assert InvoiceRow.objects.count() == 1


def test_payment_makes_the_invoice_paid(sdk: tuple[AccountingApi, ApiClient, str]) -> None:
    api, _, tenant = sdk
    created = api.create_invoices(tenant, Invoices(invoices=[_invoice("pay")])).invoices[0]
    payment = Payment(
        invoice=Invoice(invoice_id=created.invoice_id),
        account=Account(code="090"),
        date=date(2026, 3, 20),
        amount=created.amount_due,
    )
    result = api.create_payments(tenant, Payments(payments=[payment]), summarize_errors=False)
    assert result.payments[0].status_attribute_string == "OK"
    paid = api.get_invoice(tenant, created.invoice_id).invoices[0]
    assert paid.status == "PAID" and paid.amount_due == Decimal("0.00")
    assert paid.fully_paid_on_date == date(2026, 3, 20)


def test_paging_and_if_modified_since(sdk: tuple[AccountingApi, ApiClient, str]) -> None:
    api, _, tenant = sdk
    api.create_invoices(tenant, Invoices(invoices=[_invoice(f"P{n}") for n in range(3)]))
    page = api.get_invoices(tenant, page=1, page_size=2)
    assert page.pagination.item_count == 3 and page.pagination.page_count == 2
    assert len(page.invoices) == 2 and page.invoices[0].line_items
    newest = InvoiceRow.objects.order_by("-updated_at").first()
    assert newest is not None
    since = api.get_invoices(tenant, if_modified_since=newest.updated_at.replace(microsecond=0))
    assert [i.reference for i in since.invoices] == ["P0", "P1", "P2"][-len(since.invoices) :]


def test_contacts_and_not_found(sdk: tuple[AccountingApi, ApiClient, str]) -> None:
    api, _, tenant = sdk
    made = api.create_contacts(
        tenant,
        Contacts(contacts=[Contact(name="Amazon Business", email_address="ab@amazon.example")]),
    )
    assert made.contacts[0].contact_status == "ACTIVE"
    with pytest.raises(NotFoundException):
        api.get_invoice(tenant, "0f1a1a9e-9c9b-4ab0-9a7e-000000000001")


def test_rate_limit_raises_with_the_problem_and_retry_after(
    sdk: tuple[AccountingApi, ApiClient, str], uk: Organisation
) -> None:
    api, client, tenant = sdk
    # urllib3 under xero-python retries a 429 by sleeping its Retry-After (see the next test);
    # a worker must not sleep holding a slot, so the hub turns that off, as here.
    client.rest_client.pool_manager.connection_pool_kw["retries"] = False
    client.rest_client.pool_manager.clear()
    index = int(time.time() // 60)
    RateCounter.objects.create(key=f"xero:tenant:{uk.tenant_id}:minute", window=index, count=60)
    with pytest.raises(RateLimitException) as raised:
        api.get_organisations(tenant)
    assert raised.value.status == 429
    assert raised.value.rate_limit == "minute"
    assert 1 <= int(raised.value.headers["Retry-After"]) <= 60


def test_by_default_the_sdk_sleeps_out_a_429(
    sdk: tuple[AccountingApi, ApiClient, str], uk: Organisation
) -> None:
    """Worth knowing for the hub: urllib3's default Retry honours Retry-After on a 429, so a
    stock xero-python client blocks instead of raising RateLimitException."""
    api, _, tenant = sdk
    sandbox_configure(time_scale=60)  # a Xero minute lasts one second
    index = int(time.time() // 1)
    for window in (index, index + 1):  # this Xero minute and the next are used up
        RateCounter.objects.create(
            key=f"xero:tenant:{uk.tenant_id}:minute", window=window, count=60
        )
    started = time.monotonic()
    org = api.get_organisations(tenant).organisations[0]
    assert org.name == "Northwind Goods Ltd"
    assert time.monotonic() - started >= 0.9

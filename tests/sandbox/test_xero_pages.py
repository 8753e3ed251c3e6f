"""The sandbox Xero's pages (what a demo user sees after a sync) and its seed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from sandbox.xero.models import Account, Contact, Invoice, Organisation, TaxRate
from sandbox.xero.seed import seed_organisations, tenant_id_for
from sandbox.xero.testing import Api, connect


@pytest.fixture
def uk(sandbox_url: str) -> Organisation:
    seed_organisations(site_url="http://hub.test")
    return Organisation.objects.get(short_code="!nW7Gd")


def test_seed_is_idempotent_and_keeps_what_the_demo_changed(db: None) -> None:
    first = seed_organisations(site_url="http://hub.test")
    assert first.startswith("xero: 4 organisations (Northwind Goods Ltd, Redwood Supply Co.")
    counts = (Organisation.objects.count(), Account.objects.count(), Contact.objects.count())
    Account.objects.filter(code="429").update(status="ARCHIVED")
    second = seed_organisations(site_url="http://hub.test")
    assert "; 0 rows created" in second
    assert (
        Organisation.objects.count(),
        Account.objects.count(),
        Contact.objects.count(),
    ) == counts
    assert set(Account.objects.filter(code="429").values_list("status", flat=True)) == {"ARCHIVED"}
    uk = Organisation.objects.get(short_code="!nW7Gd")
    assert uk.tenant_id == tenant_id_for("!nW7Gd")
    assert set(uk.currencies.values_list("code", flat=True)) == {"GBP", "EUR", "USD"}
    au = Organisation.objects.get(country_code="AU")
    assert set(au.currencies.values_list("code", flat=True)) == {"AUD"}
    assert TaxRate.objects.get(org=au, tax_type="OUTPUT").components[0]["Rate"] == "10.0000"
    us = Organisation.objects.get(country_code="US")
    assert TaxRate.objects.get(org=us, tax_type="TAX001").name == "Sales Tax on Sales"
    rounding = Account.objects.get(org=uk, code="860")
    assert rounding.system_account == "ROUNDING"
    card = Account.objects.get(org=uk, code="092")
    assert (card.type, card.bank_account_type) == ("BANK", "CREDITCARD")
    assert Organisation.objects.get(edition="PARTNER").name == "Thistle Ledger Services Ltd"


def test_pages_show_what_each_organisation_holds(sandbox_url: str, uk: Organisation) -> None:
    api = Api(sandbox_url, connect(uk))
    api.put(
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"Name": "Amazon UK"},
                    "Reference": "Settlement 17355",
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "x",
                            "Quantity": 1,
                            "UnitAmount": Decimal("10.00"),
                            "AccountCode": "200",
                            "TaxType": "OUTPUT2",
                        }
                    ],
                }
            ]
        },
    )
    client = Client()
    listing = client.get("/sandbox/xero/organisations/")
    assert listing.status_code == 200
    text = listing.content.decode()
    for name in (
        "Northwind Goods Ltd",
        "Redwood Supply Co.",
        "Wattle Street Traders Pty Ltd",
        "Thistle Ledger Services Ltd",
    ):
        assert name in text
    assert "Partner (no invoicing)" in text

    detail = client.get(f"/sandbox/xero/organisations/{uk.tenant_id}/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "INV-0001" in page and "Settlement 17355" in page and "Amazon UK" in page
    assert "GBP 12.00" in page
    assert "Business Credit Card" in page and "CREDITCARD" in page
    assert "Kestrel Packaging Ltd" in page and "ARCHIVED" in page

    assert client.get("/sandbox/xero/organisations/not-a-uuid/").status_code == 404
    assert (
        client.get("/sandbox/xero/organisations/9d6f3c55-3f6a-4a3e-8a8a-2c1c9c0f0b11/").status_code
        == 404
    )


def test_archiving_an_account_on_the_page_breaks_documents_that_use_it(
    sandbox_url: str, uk: Organisation
) -> None:
    client = Client()
    general = Account.objects.get(org=uk, code="429")
    url = f"/sandbox/xero/organisations/{uk.tenant_id}/accounts/{general.account_id}/status"
    response = client.post(url, {"status": "ARCHIVED"}, follow=True)
    assert response.status_code == 200
    assert "Account 429 General Expenses archived." in response.content.decode()
    general.refresh_from_db()
    assert general.status == "ARCHIVED"

    api = Api(sandbox_url, connect(uk))
    assert api.get(f"Accounts/{general.account_id}").json()["Accounts"][0]["Status"] == "ARCHIVED"
    bill = {
        "Type": "ACCPAY",
        "Contact": {"Name": "Amazon Business"},
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Stationery",
                "Quantity": 1,
                "UnitAmount": Decimal("9.99"),
                "AccountCode": "429",
                "TaxType": "INPUT2",
            }
        ],
    }
    refused = api.put("Invoices", {"Invoices": [bill]})
    assert refused.json()["Elements"][0]["ValidationErrors"][0]["Message"] == (
        "Account code '429' has been archived, or has been deleted. "
        "Each line item must reference a valid account."
    )

    client.post(url, {"status": "ACTIVE"})
    general.refresh_from_db()
    assert general.status == "ACTIVE"
    assert api.put("Invoices", {"Invoices": [bill]}).status_code == 200
    assert Invoice.objects.filter(type="ACCPAY").count() == 1


def test_system_accounts_cannot_be_archived_and_get_is_refused(
    sandbox_url: str, uk: Organisation
) -> None:
    client = Client()
    rounding = Account.objects.get(org=uk, code="860")
    url = f"/sandbox/xero/organisations/{uk.tenant_id}/accounts/{rounding.account_id}/status"
    response = client.post(url, {"status": "ARCHIVED"}, follow=True)
    assert "is a system account and cannot be archived" in response.content.decode()
    rounding.refresh_from_db()
    assert rounding.status == "ACTIVE"
    assert client.get(url).status_code == 405
    other_org = Organisation.objects.get(short_code="!rS4Qm")
    wrong_org = (
        f"/sandbox/xero/organisations/{other_org.tenant_id}/accounts/{rounding.account_id}/status"
    )
    assert client.post(wrong_org, {"status": "ARCHIVED"}).status_code == 404

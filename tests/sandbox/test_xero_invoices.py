"""The sandbox Xero's invoices: batch semantics, Xero's rules and messages, tax maths, reads.

Every call crosses a real socket (``sandbox_url``) with a token from ``grant_create`` +
``issue_token_set``, exactly as the hub's calls will.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from sandbox.xero.models import Account, Contact, Invoice, Organisation
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import Api, connect
from tests.specs import validate_openapi

ZERO_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def uk(sandbox_url: str) -> Organisation:
    seed_organisations(site_url="http://hub.test")
    return Organisation.objects.get(short_code="!nW7Gd")


@pytest.fixture
def api(sandbox_url: str, uk: Organisation) -> Api:
    return Api(sandbox_url, connect(uk))


def invoice(
    reference: str = "", *, account: str = "200", tax: str = "OUTPUT2", **extra: object
) -> dict[str, object]:
    body: dict[str, object] = {
        "Type": "ACCREC",
        "Contact": {"Name": "Amazon UK"},
        "Date": "2026-03-01",
        "DueDate": "2026-03-15",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Settlement 1234",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": account,
                "TaxType": tax,
            }
        ],
    }
    if reference:
        body["Reference"] = reference
    body.update(extra)
    return body


def messages(element: dict[str, object]) -> list[str]:
    return [e["Message"] for e in element["ValidationErrors"]]  # type: ignore[index, union-attr]


def validate(response: requests.Response, sandbox_url: str) -> None:
    validate_openapi(
        response,
        spec="xero/xero_accounting.yaml",
        sandbox_base=f"{sandbox_url}/xero/api/api.xro/2.0",
        real_base="https://api.xero.com/api.xro/2.0",
    )


# ---------------------------------------------------------------- batch semantics


def test_summarised_batch_is_a_400_but_the_valid_invoices_are_created(
    api: Api, sandbox_url: str
) -> None:
    batch = {"Invoices": [invoice("A"), invoice("B", account="999"), invoice("C")]}
    response = api.put("Invoices", batch)

    assert response.status_code == 400
    body = response.json()
    assert body["ErrorNumber"] == 10
    assert body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    assert len(body["Elements"]) == 1
    failed = body["Elements"][0]
    assert failed["Reference"] == "B" and failed["InvoiceID"] == ZERO_ID
    assert messages(failed) == ["Account code '999' is not a valid code for this document."]
    validate(response, sandbox_url)

    # The ids of A and C were not returned, but Xero created them: a blind retry duplicates.
    listed = api.get("Invoices", where='Reference=="A" OR Reference=="C"').json()["Invoices"]
    assert sorted(i["Reference"] for i in listed) == ["A", "C"]
    assert Invoice.objects.count() == 2
    assert not Invoice.objects.filter(reference="B").exists()


def test_summarize_errors_false_answers_200_with_every_element(api: Api, sandbox_url: str) -> None:
    batch = {"Invoices": [invoice("A"), invoice("B", account="999"), invoice("C")]}
    response = api.put("Invoices", batch, summarizeErrors="false")

    assert response.status_code == 200
    validate(response, sandbox_url)
    elements = response.json()["Invoices"]
    assert [e["StatusAttributeString"] for e in elements] == ["OK", "ERROR", "OK"]
    assert [e["HasErrors"] for e in elements] == [False, True, False]
    assert [e["HasValidationErrors"] for e in elements] == [False, True, False]
    assert elements[0]["InvoiceID"] != ZERO_ID and elements[0]["InvoiceNumber"] == "INV-0001"
    assert elements[1]["InvoiceID"] == ZERO_ID
    assert messages(elements[1]) == ["Account code '999' is not a valid code for this document."]
    assert elements[2]["InvoiceNumber"] == "INV-0002"
    assert all(e["Warnings"] == [] for e in elements)
    saved = Invoice.objects.get(invoice_id=elements[0]["InvoiceID"])
    assert saved.status == "AUTHORISED" and saved.total == Decimal("120.00")


def test_a_single_object_body_is_accepted_like_a_one_element_batch(api: Api) -> None:
    response = api.put("Invoices", invoice("solo"))
    assert response.status_code == 200
    assert response.json()["Invoices"][0]["Reference"] == "solo"


def test_unreadable_json_is_refused_before_anything_is_saved(api: Api) -> None:
    response = requests.put(
        f"{api.base}/Invoices",
        data=b'{"Invoices": [',
        headers={**api.conn.headers(), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["Type"] == "PostDataInvalidException"
    assert response.json()["ErrorNumber"] == 14
    assert Invoice.objects.count() == 0


# ---------------------------------------------------------------- Xero's rules and messages


def _one_error(api: Api, body: dict[str, object]) -> list[str]:
    response = api.put("Invoices", {"Invoices": [body]})
    assert response.status_code == 400, response.text
    return messages(response.json()["Elements"][0])


def test_archived_account_is_refused_with_xeros_message(api: Api, uk: Organisation) -> None:
    general = Account.objects.get(org=uk, code="429")
    archived = api.post(f"Accounts/{general.account_id}", {"Accounts": [{"Status": "ARCHIVED"}]})
    assert archived.status_code == 200
    assert archived.json()["Accounts"][0]["Status"] == "ARCHIVED"

    bill = invoice(account="429", tax="INPUT2", Type="ACCPAY", InvoiceNumber="SUP-1")
    assert _one_error(api, bill) == [
        "Account code '429' has been archived, or has been deleted. "
        "Each line item must reference a valid account."
    ]


def test_tax_type_must_suit_the_account(api: Api) -> None:
    bill = invoice(account="404", tax="OUTPUT2", Type="ACCPAY", InvoiceNumber="BANK-FEES")
    assert _one_error(api, bill) == [
        "The TaxType code 'OUTPUT2' cannot be used with account code '404'."
    ]
    assert _one_error(api, invoice(tax="VAT20")) == [
        "The TaxType code VAT20 does not exist or cannot be used for this type of transaction."
    ]


def test_bank_and_control_accounts_are_not_valid_on_a_line(api: Api) -> None:
    assert _one_error(api, invoice(account="090", tax="NONE")) == [
        "Account code '090' is not a valid code for this document."
    ]
    assert _one_error(api, invoice(account="610", tax="NONE")) == [
        "Account code '610' is not a valid code for this document."
    ]


def test_account_code_is_required_to_approve(api: Api) -> None:
    body = invoice()
    body["LineItems"] = [{"Description": "no account", "Quantity": 1, "UnitAmount": 5}]
    assert _one_error(api, body) == ["Account code must be specified"]
    body["Status"] = "DRAFT"
    assert api.put("Invoices", {"Invoices": [body]}).status_code == 200


def test_sales_invoice_numbers_are_unique_but_bill_numbers_are_not(api: Api) -> None:
    assert api.put("Invoices", invoice(InvoiceNumber="AMZ-204-1")).status_code == 200
    assert _one_error(api, invoice(InvoiceNumber="AMZ-204-1")) == ["Invoice # must be unique."]
    bill = invoice(account="310", tax="INPUT2", Type="ACCPAY", InvoiceNumber="SUP-77")
    assert api.put("Invoices", bill).status_code == 200
    assert api.put("Invoices", bill).status_code == 200
    assert Invoice.objects.filter(type="ACCPAY", number="SUP-77").count() == 2


def test_generated_numbers_skip_numbers_already_used(api: Api) -> None:
    assert api.put("Invoices", invoice(InvoiceNumber="INV-0001")).status_code == 200
    created = api.put("Invoices", invoice()).json()["Invoices"][0]
    assert created["InvoiceNumber"] == "INV-0002"


def test_document_currency_must_be_enabled(api: Api) -> None:
    euro = api.put("Invoices", invoice(CurrencyCode="EUR")).json()["Invoices"][0]
    assert euro["CurrencyCode"] == "EUR" and euro["CurrencyRate"] == 1.165
    assert _one_error(api, invoice(CurrencyCode="AUD")) == [
        "Organisation is not subscribed to currency AUD"
    ]


def test_archived_contact_cannot_be_used_on_a_new_document(api: Api, uk: Organisation) -> None:
    archived = Contact.objects.get(org=uk, name="Kestrel Packaging Ltd")
    body = invoice(Contact={"ContactID": str(archived.contact_id)})
    assert _one_error(api, body) == [
        "The contact with the specified contact details has been archived. The contact must "
        "be un-archived before creating new invoices or credit notes."
    ]


def test_contact_by_name_reuses_the_active_contact_or_creates_it(
    api: Api, uk: Organisation
) -> None:
    first = api.put("Invoices", invoice(Contact={"Name": "Bramble & Co Interiors"})).json()
    seeded = Contact.objects.get(org=uk, name="Bramble & Co Interiors")
    assert first["Invoices"][0]["Contact"]["ContactID"] == str(seeded.contact_id)
    created = api.put("Invoices", invoice(Contact={"Name": "Amazon DE"})).json()
    new_id = created["Invoices"][0]["Contact"]["ContactID"]
    assert Contact.objects.get(contact_id=new_id).name == "Amazon DE"
    assert Contact.objects.get(contact_id=new_id).is_customer
    assert _one_error(api, invoice(Contact={})) == [
        "The Contact must contain at least 1 of the following elements to identify the "
        "contact: Name, ContactID, ContactNumber"
    ]


def test_contact_created_with_an_invalid_invoice_is_rolled_back(api: Api, uk: Organisation) -> None:
    assert _one_error(api, invoice(account="999", Contact={"Name": "Ghost Ltd"}))
    assert not Contact.objects.filter(org=uk, name="Ghost Ltd").exists()


def test_line_total_must_match_quantity_times_unit_amount(api: Api) -> None:
    body = invoice()
    body["LineItems"] = [
        {
            "Description": "x",
            "Quantity": 2,
            "UnitAmount": 10,
            "LineAmount": 25,
            "AccountCode": "200",
            "TaxType": "OUTPUT2",
        }
    ]
    assert _one_error(api, body) == [
        "The line total 25.00 does not match the expected line total 20.00"
    ]


def test_negative_quantity_is_refused_but_negative_unit_amounts_are_fine(api: Api) -> None:
    sale = {
        "Description": "sale",
        "Quantity": 1,
        "UnitAmount": 50,
        "AccountCode": "200",
        "TaxType": "OUTPUT2",
    }
    body = invoice()
    body["LineItems"] = [sale, {**sale, "Description": "refund", "Quantity": -1, "UnitAmount": 10}]
    assert _one_error(api, body) == [
        "The quantity value '-1.0000' is invalid. Quantity must not be less than zero."
    ]
    refund = {**sale, "Description": "refund", "UnitAmount": -10}
    body["LineItems"] = [sale, refund]
    created = api.put("Invoices", {"Invoices": [body]})
    assert created.status_code == 200 and created.json()["Invoices"][0]["Total"] == 48.0
    body["LineItems"] = [refund]
    assert _one_error(api, body) == ["The total of this document cannot be negative."]


def test_an_approved_zero_invoice_is_paid(api: Api) -> None:
    body = invoice()
    body["LineItems"] = [
        {
            "Description": "sample",
            "Quantity": 1,
            "UnitAmount": 0,
            "AccountCode": "200",
            "TaxType": "OUTPUT2",
        }
    ]
    created = api.put("Invoices", {"Invoices": [body]}).json()["Invoices"][0]
    assert (created["Status"], created["AmountDue"], created["Total"]) == ("PAID", 0, 0)


def test_only_draft_submitted_or_authorised_can_be_created(api: Api) -> None:
    assert _one_error(api, invoice(Status="PAID")) == ["Invoice not of valid status for creation"]


def test_partner_edition_cannot_invoice(sandbox_url: str, uk: Organisation) -> None:
    partner = Organisation.objects.get(short_code="!tL9Pa")
    api = Api(sandbox_url, connect(partner))
    organisation = api.get("Organisation").json()["Organisations"][0]
    assert organisation["Edition"] == "PARTNER" and organisation["Class"] == "LEDGER"
    response = api.put("Invoices", {"Invoices": [invoice()]})
    assert response.status_code == 400
    assert messages(response.json()["Elements"][0]) == [
        "This organisation is on the Partner edition of Xero, which does not include invoicing."
    ]
    assert Invoice.objects.filter(org=partner).count() == 0


# ---------------------------------------------------------------- tax and rounding


def _lines(
    api: Api, lines: list[dict[str, object]], *, unitdp4: bool = False, **extra: object
) -> dict[str, object]:
    body = invoice(**extra)
    body["LineItems"] = lines
    params: dict[str, object] = {"unitdp": 4} if unitdp4 else {}
    response = api.put("Invoices", {"Invoices": [body]}, **params)
    assert response.status_code == 200, response.text
    return response.json()["Invoices"][0]  # type: ignore[no-any-return]


def _line(amount: str, tax: str = "OUTPUT2", account: str = "200") -> dict[str, object]:
    return {
        "Description": "x",
        "Quantity": 1,
        "UnitAmount": amount,
        "AccountCode": account,
        "TaxType": tax,
    }


def test_tax_is_rounded_per_line_then_summed(api: Api) -> None:
    """Three 10.03 lines at 20%: 2.006 rounds to 2.01 on each line, so the tax is 6.03,
    where 20% of the 30.09 subtotal would be 6.02."""
    created = _lines(api, [_line("10.03")] * 3)
    assert [line["TaxAmount"] for line in created["LineItems"]] == [2.01, 2.01, 2.01]
    assert created["SubTotal"] == 30.09
    assert created["TotalTax"] == 6.03
    assert created["Total"] == 36.12


def test_inclusive_lines_take_tax_out_of_each_line(api: Api) -> None:
    """Three 10.00 tax-inclusive lines at 20%: 1.67 each (5.01), not 5.00 on the total."""
    created = _lines(api, [_line("10.00")] * 3, LineAmountTypes="Inclusive")
    assert created["LineAmountTypes"] == "Inclusive"
    assert created["TotalTax"] == 5.01
    assert created["SubTotal"] == 24.99
    assert created["Total"] == 30.00


def test_half_cents_round_away_from_zero(api: Api) -> None:
    created = _lines(api, [_line("10.10", tax="RROUTPUT"), _line("-10.10", tax="RROUTPUT")])
    assert [line["TaxAmount"] for line in created["LineItems"]] == [0.51, -0.51]


def test_a_tax_amount_sent_on_a_line_overrides_the_computed_one(api: Api) -> None:
    line = {**_line("10.03"), "TaxAmount": 2.00}
    created = _lines(api, [line, _line("10.03")])
    assert [line["TaxAmount"] for line in created["LineItems"]] == [2.00, 2.01]
    assert created["TotalTax"] == 4.01


def test_a_total_that_disagrees_with_the_lines_is_ignored(api: Api) -> None:
    created = _lines(api, [_line("10.00")], Total=99, SubTotal=1)
    assert created["Total"] == 12.00 and created["SubTotal"] == 10.00


def test_unit_amounts_keep_two_decimals_unless_unitdp_is_4(api: Api) -> None:
    line = {
        "Description": "x",
        "Quantity": 3,
        "UnitAmount": "1.23456",
        "AccountCode": "200",
        "TaxType": "NONE",
    }
    two = _lines(api, [line])
    assert two["LineItems"][0]["UnitAmount"] == 1.23 and two["LineItems"][0]["LineAmount"] == 3.69
    rounded = _lines(api, [{**line, "UnitAmount": "1.795", "Quantity": 1}])
    assert rounded["LineItems"][0]["UnitAmount"] == 1.80
    four = _lines(api, [line], unitdp4=True)
    assert four["LineItems"][0]["UnitAmount"] == 1.2346
    assert four["LineItems"][0]["LineAmount"] == 3.70
    assert four["Total"] == 3.70


def test_unit_amount_digits_are_exact_on_the_wire(api: Api) -> None:
    line = {
        "Description": "x",
        "Quantity": 1,
        "UnitAmount": "0.1",
        "AccountCode": "200",
        "TaxType": "NONE",
    }
    created = api.put("Invoices", {"Invoices": [{**invoice(), "LineItems": [line]}]}, unitdp=4)
    assert '"UnitAmount":0.1000' in created.text
    assert '"Total":0.10' in created.text


def test_discount_rate_reduces_the_line(api: Api) -> None:
    line = {**_line("50.00"), "Quantity": 2, "DiscountRate": 10}
    created = _lines(api, [line])
    assert created["LineItems"][0]["LineAmount"] == 90.00
    assert created["IsDiscounted"] is True and created["Total"] == 108.00


# ---------------------------------------------------------------- updates, voiding, deleting


def _create(api: Api, **extra: object) -> dict[str, object]:
    response = api.put("Invoices", {"Invoices": [invoice(**extra)]})
    assert response.status_code == 200, response.text
    return response.json()["Invoices"][0]  # type: ignore[no-any-return]


def _set_status(api: Api, invoice_id: object, status: str) -> requests.Response:
    return api.post(f"Invoices/{invoice_id}", {"Invoices": [{"Status": status}]})


def test_drafts_can_be_approved_or_deleted_but_not_voided(api: Api) -> None:
    draft = _create(api, Status="DRAFT")
    refused = _set_status(api, draft["InvoiceID"], "VOIDED")
    assert refused.status_code == 400
    assert messages(refused.json()["Elements"][0]) == [
        "Invoice not of valid status for modification"
    ]
    approved = _set_status(api, draft["InvoiceID"], "AUTHORISED")
    assert approved.status_code == 200 and approved.json()["Invoices"][0]["Status"] == "AUTHORISED"

    other = _create(api, Status="SUBMITTED")
    deleted = _set_status(api, other["InvoiceID"], "DELETED")
    assert deleted.json()["Invoices"][0]["Status"] == "DELETED"
    assert deleted.json()["Invoices"][0]["AmountDue"] == 0


def test_authorised_invoices_can_be_voided_but_not_deleted_or_reopened(api: Api) -> None:
    approved = _create(api)
    refused = _set_status(api, approved["InvoiceID"], "DELETED")
    assert messages(refused.json()["Elements"][0]) == [
        "Invoice not of valid status for modification"
    ]
    voided = _set_status(api, approved["InvoiceID"], "VOIDED")
    assert voided.status_code == 200 and voided.json()["Invoices"][0]["Status"] == "VOIDED"
    again = _set_status(api, approved["InvoiceID"], "AUTHORISED")
    assert messages(again.json()["Elements"][0]) == ["Invoice not of valid status for modification"]
    assert Invoice.objects.get(invoice_id=approved["InvoiceID"]).status == "VOIDED"


def test_post_updates_by_invoice_number_where_put_refuses_it(api: Api) -> None:
    _create(api, InvoiceNumber="AMZ-9", Status="DRAFT", Reference="first")
    updated = api.post(
        "Invoices", {"Invoices": [invoice(InvoiceNumber="AMZ-9", Reference="second")]}
    )
    assert updated.status_code == 200
    assert updated.json()["Invoices"][0]["Reference"] == "second"
    assert Invoice.objects.filter(number="AMZ-9").count() == 1


def test_editing_lines_recomputes_totals(api: Api) -> None:
    draft = _create(api, Status="DRAFT")
    changed = api.post(
        f"Invoices/{draft['InvoiceID']}",
        {"Invoices": [{"LineItems": [_line("40.00"), _line("2.50")]}]},
    )
    assert changed.status_code == 200
    assert changed.json()["Invoices"][0]["Total"] == 51.00


# ---------------------------------------------------------------- reads


def test_paging_returns_lines_and_pagination(api: Api, sandbox_url: str) -> None:
    for n in range(5):
        _create(api, Reference=f"R{n}")
    first = api.get("Invoices", page=1, pageSize=2)
    validate(first, sandbox_url)
    body = first.json()
    assert body["pagination"] == {"page": 1, "pageSize": 2, "pageCount": 3, "itemCount": 5}
    assert [i["Reference"] for i in body["Invoices"]] == ["R0", "R1"]
    assert body["Invoices"][0]["LineItems"][0]["Description"] == "Settlement 1234"
    last = api.get("Invoices", page=3, pageSize=2).json()
    assert [i["Reference"] for i in last["Invoices"]] == ["R4"]
    assert api.get("Invoices", page=4, pageSize=2).json()["Invoices"] == []
    unpaged = api.get("Invoices").json()
    assert "pagination" not in unpaged and len(unpaged["Invoices"]) == 5
    assert all(i["LineItems"] == [] for i in unpaged["Invoices"])  # summary without paging
    assert api.get("Invoices", page=1, pageSize=5000).json()["pagination"]["pageSize"] == 1000


def test_if_modified_since_returns_only_later_changes(api: Api) -> None:
    _create(api, Reference="old")
    time.sleep(0.05)
    cutoff = datetime.now(UTC)
    time.sleep(0.05)
    _create(api, Reference="new")
    changed = api.get("Invoices", headers={"If-Modified-Since": cutoff.isoformat()}).json()
    assert [i["Reference"] for i in changed["Invoices"]] == ["new"]


def test_filters_and_order(api: Api, uk: Organisation) -> None:
    _create(api, Reference="small", Contact={"Name": "Amazon UK"})
    big = invoice(Reference="big", Contact={"Name": "Amazon DE"})
    big["LineItems"] = [_line("900.00")]  # type: ignore[index]
    api.put("Invoices", {"Invoices": [big]})
    _create(api, Reference="draft", Status="DRAFT")
    ordered = api.get("Invoices", order="Total DESC").json()["Invoices"]
    assert ordered[0]["Reference"] == "big"
    filtered = api.get("Invoices", where='Contact.Name=="Amazon UK" AND Status=="AUTHORISED"')
    assert [i["Reference"] for i in filtered.json()["Invoices"]] == ["small"]
    assert [i["Reference"] for i in api.get("Invoices", Statuses="DRAFT").json()["Invoices"]] == [
        "draft"
    ]
    amazon_de = Contact.objects.get(org=uk, name="Amazon DE")
    by_contact = api.get("Invoices", ContactIDs=str(amazon_de.contact_id)).json()["Invoices"]
    assert [i["Reference"] for i in by_contact] == ["big"]
    assert api.get("Invoices", where="Total>=DateTime(2020,1,1").status_code == 400
    by_date = api.get("Invoices", where="Date>=DateTime(2026,03,01) AND AmountDue>1000").json()
    assert [i["Reference"] for i in by_date["Invoices"]] == ["big"]
    search = api.get("Invoices", searchTerm="SMA").json()["Invoices"]
    assert [i["Reference"] for i in search] == ["small"]


def test_get_one_invoice_by_id_or_number(api: Api, sandbox_url: str) -> None:
    created = _create(api, Reference="one")
    by_id = api.get(f"Invoices/{created['InvoiceID']}")
    validate(by_id, sandbox_url)
    assert by_id.json()["Invoices"][0]["Reference"] == "one"
    by_number = api.get(f"Invoices/{created['InvoiceNumber']}").json()["Invoices"][0]
    assert by_number["InvoiceID"] == created["InvoiceID"]
    assert by_number["LineItems"][0]["LineAmount"] == 100.00
    missing = api.get("Invoices/6f0e2b48-0f39-4b48-9a57-1d2f0d9b2d11")
    assert missing.status_code == 404


def test_put_invoices_request_and_response_match_the_spec(api: Api, sandbox_url: str) -> None:
    response = api.put(
        "Invoices", {"Invoices": [invoice("spec")]}, summarizeErrors="false", unitdp=4
    )
    assert response.status_code == 200
    validate(response, sandbox_url)
    assert response.json()["Invoices"][0]["DateString"] == "2026-03-01T00:00:00"
    assert response.json()["Invoices"][0]["Date"] == "/Date(1772323200000+0000)/"


# ---------------------------------------------------------------- scopes


def test_a_token_without_the_invoices_scope_is_refused(sandbox_url: str, uk: Organisation) -> None:
    settings_only = Api(sandbox_url, connect(uk, scopes=["offline_access", "accounting.settings"]))
    assert settings_only.get("Invoices").status_code == 401
    assert settings_only.put("Invoices", {"Invoices": [invoice()]}).status_code == 401
    assert settings_only.get("Accounts").status_code == 200

    read_only = Api(sandbox_url, connect(uk, scopes=["accounting.invoices.read"]))
    assert read_only.get("Invoices").status_code == 200
    assert read_only.put("Invoices", {"Invoices": [invoice()]}).status_code == 401
    assert Invoice.objects.count() == 0


def test_a_tenant_the_token_is_not_connected_to_is_forbidden(
    sandbox_url: str, uk: Organisation
) -> None:
    us = Organisation.objects.get(short_code="!rS4Qm")
    conn = connect(uk)
    response = requests.get(
        f"{sandbox_url}/xero/api/api.xro/2.0/Invoices",
        headers={**conn.headers(), "xero-tenant-id": str(us.tenant_id)},
        timeout=10,
    )
    assert response.status_code == 403
    no_token = requests.get(f"{sandbox_url}/xero/api/api.xro/2.0/Invoices", timeout=10)
    assert no_token.status_code == 401

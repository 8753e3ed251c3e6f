"""The sandbox Xero's batch writes: elements of one batch see what the earlier ones did.

A batch is validated element by element and written in bulk at the end; these tests pin the
outcomes saving each element on its own gives (new contacts reused, numbers in use, payments
adding up, an invalid element leaving no trace), plus the webhooks and the call's bookkeeping
(limit windows, in-flight slot, idempotency records). Calls cross a real socket.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from sandbox.models import InFlight, RateCounter
from sandbox.state import sandbox_configure
from sandbox.xero.models import (
    BankTransaction,
    Contact,
    CreditNote,
    IdempotencyRecord,
    Invoice,
    Organisation,
    Payment,
    WebhookDelivery,
)
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import Api, connect
from sandbox.xero.webhooks import subscription_create

FALSE = {"summarizeErrors": "false"}


@pytest.fixture
def uk(sandbox_url: str) -> Organisation:
    seed_organisations(site_url="http://hub.test")
    return Organisation.objects.get(short_code="!nW7Gd")


@pytest.fixture
def api(sandbox_url: str, uk: Organisation) -> Api:
    return Api(sandbox_url, connect(uk))


def invoice(
    contact: str = "Amazon UK", *, account: str = "200", **extra: object
) -> dict[str, object]:
    body: dict[str, object] = {
        "Type": "ACCREC",
        "Contact": {"Name": contact},
        "Date": "2026-03-01",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Settlement",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": account,
                "TaxType": "OUTPUT2",
            }
        ],
    }
    body.update(extra)
    return body


def put(api: Api, collection: str, elements: list[dict[str, object]]) -> list[dict[str, object]]:
    response = api.put(collection, {collection: elements}, **FALSE)
    assert response.status_code == 200, response.text
    return response.json()[collection]  # type: ignore[no-any-return]


def messages(element: dict[str, object]) -> list[str]:
    return [e["Message"] for e in element["ValidationErrors"]]  # type: ignore[index, union-attr]


def test_a_contact_named_by_a_new_name_is_created_once_and_reused(
    api: Api, uk: Organisation
) -> None:
    out = put(
        api, "Invoices", [invoice("Nile Retail"), invoice("NILE RETAIL"), invoice("Nile Retail")]
    )
    assert not any(e["HasErrors"] for e in out)
    contacts = Contact.objects.filter(org=uk, name__iexact="nile retail")
    assert [c.name for c in contacts] == ["Nile Retail"]
    assert {e["Contact"]["ContactID"] for e in out} == {str(contacts[0].contact_id)}  # type: ignore[index]
    assert contacts[0].is_customer
    assert Invoice.objects.filter(org=uk, contact=contacts[0]).count() == 3


def test_an_invalid_element_leaves_no_contact_and_a_later_element_creates_it(
    api: Api, uk: Organisation
) -> None:
    out = put(api, "Invoices", [invoice("Ghost Ltd", account="999"), invoice("Ghost Ltd")])
    assert out[0]["HasErrors"] and not out[1]["HasErrors"]
    ghost = Contact.objects.get(org=uk, name="Ghost Ltd")
    assert out[1]["Contact"]["ContactID"] == str(ghost.contact_id)  # type: ignore[index]
    assert Invoice.objects.filter(org=uk, contact=ghost).count() == 1


def test_a_sales_number_used_earlier_in_the_batch_is_refused_a_bill_number_is_not(
    api: Api, uk: Organisation
) -> None:
    bill = invoice(Type="ACCPAY", InvoiceNumber="SUP-9", account="310")
    bill["LineItems"][0]["TaxType"] = "INPUT2"  # type: ignore[index]
    out = put(
        api,
        "Invoices",
        [invoice(InvoiceNumber="AMZ-1"), invoice(InvoiceNumber="AMZ-1"), bill, dict(bill)],
    )
    assert [messages(e) for e in out] == [[], ["Invoice # must be unique."], [], []]
    assert Invoice.objects.filter(org=uk, number="AMZ-1").count() == 1
    assert Invoice.objects.filter(org=uk, number="SUP-9", type="ACCPAY").count() == 2


def test_generated_numbers_skip_numbers_the_batch_gives_and_the_counter_moves_on(
    api: Api, uk: Organisation
) -> None:
    start = Organisation.objects.get(pk=uk.pk).next_invoice_number
    given = f"INV-{start + 1:04d}"
    out = put(
        api,
        "Invoices",
        [invoice(InvoiceNumber=given), invoice(), invoice(account="999"), invoice()],
    )
    numbers = [e.get("InvoiceNumber") for e in out]
    assert numbers[0] == given and numbers[1] == f"INV-{start:04d}"
    assert out[2]["HasErrors"]
    assert numbers[3] == f"INV-{start + 2:04d}"
    assert Organisation.objects.get(pk=uk.pk).next_invoice_number == start + 3
    credit = put(api, "CreditNotes", [{**invoice(), "Type": "ACCRECCREDIT"}] * 2)
    assert [c["CreditNoteNumber"] for c in credit] == ["CN-0001", "CN-0002"]
    assert CreditNote.objects.filter(org=uk).count() == 2


def test_post_finds_a_sales_invoice_created_earlier_in_the_same_batch(
    api: Api, uk: Organisation
) -> None:
    draft = invoice(InvoiceNumber="POST-1", Status="DRAFT")
    approve = {"Type": "ACCREC", "InvoiceNumber": "POST-1", "Status": "AUTHORISED"}
    response = api.post("Invoices", {"Invoices": [draft, approve, invoice(InvoiceNumber="POST-2")]})
    assert response.status_code == 200, response.text
    out = response.json()["Invoices"]
    assert out[0]["InvoiceID"] == out[1]["InvoiceID"]
    assert (out[0]["Status"], out[1]["Status"]) == ("DRAFT", "AUTHORISED")
    assert Invoice.objects.get(org=uk, number="POST-1").status == "AUTHORISED"
    assert Invoice.objects.filter(org=uk, number="POST-2").count() == 1


def test_payments_in_one_batch_add_up_on_their_invoice(api: Api, uk: Organisation) -> None:
    inv = put(api, "Invoices", [invoice()])[0]  # 100 + 20 VAT

    def payment(amount: str) -> dict[str, object]:
        return {
            "Invoice": {"InvoiceID": inv["InvoiceID"]},
            "Account": {"Code": "090"},
            "Date": "2026-03-20",
            "Amount": Decimal(amount),
        }

    out = put(api, "Payments", [payment("70.00"), payment("60.00"), payment("50.00"), payment("1")])
    assert [messages(e) for e in out] == [
        [],
        ["Payment amount exceeds the amount outstanding on this document"],
        [],
        ["Payments can only be made against Authorised documents"],
    ]
    row = Invoice.objects.get(invoice_id=inv["InvoiceID"])
    assert (row.status, row.amount_paid, row.amount_due) == ("PAID", Decimal("120.00"), 0)
    assert str(row.fully_paid_on) == "2026-03-20"
    assert sorted(p.amount for p in Payment.objects.filter(invoice=row)) == [
        Decimal("50.00"),
        Decimal("70.00"),
    ]
    shown = api.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]
    assert [p["Amount"] for p in shown["Payments"]] == [70.0, 50.0]


def test_a_contacts_batch_checks_names_and_numbers_against_its_own_elements(
    api: Api, uk: Organisation
) -> None:
    out = put(
        api,
        "Contacts",
        [
            {"Name": "Acme Trading", "ContactNumber": "C-1"},
            {"Name": "ACME TRADING"},
            {"Name": "Other Co", "ContactNumber": "C-1"},
            {"Name": "Third Co", "ContactNumber": "C-3"},
        ],
    )
    assert [messages(e) for e in out] == [
        [],
        [
            "The contact name ACME TRADING is already assigned to another contact. The contact "
            "name must be unique across all active contacts."
        ],
        ["Another contact has this contact number. Please enter a unique number."],
        [],
    ]
    assert set(
        Contact.objects.filter(org=uk, contact_number__in=["C-1", "C-3"]).values_list(
            "name", flat=True
        )
    ) == {"Acme Trading", "Third Co"}
    # Archiving one frees its name for the next element of the same batch.
    acme = out[0]["ContactID"]
    again = put(
        api,
        "Contacts",
        [{"ContactID": acme, "ContactStatus": "ARCHIVED"}, {"Name": "Acme Trading"}],
    )
    assert not any(e["HasErrors"] for e in again)
    assert Contact.objects.get(contact_id=acme).status == "ARCHIVED"
    assert Contact.objects.filter(org=uk, name="Acme Trading", status="ACTIVE").count() == 1


def test_bank_transactions_share_a_new_contact(api: Api, uk: Organisation) -> None:
    spend = {
        "Type": "RECEIVE",
        "Contact": {"Name": "Amazon Payments UK"},
        "BankAccount": {"Code": "090"},
        "Date": "2026-03-02",
        "LineItems": [{"Description": "Payout", "UnitAmount": 50, "AccountCode": "200"}],
    }
    out = put(api, "BankTransactions", [spend, spend])
    assert not any(e["HasErrors"] for e in out)
    contact = Contact.objects.get(org=uk, name="Amazon Payments UK")
    assert BankTransaction.objects.filter(org=uk, contact=contact).count() == 2
    assert out[0]["Total"] == 60.0 and out[0]["HasAttachments"] is False


def test_a_batch_sends_one_contact_event_then_one_per_document(api: Api, uk: Organisation) -> None:
    # Nothing listens on port 9: the delivery fails and is recorded with its payload.
    subscription_create(url="http://127.0.0.1:9/hook", verify=False)
    out = put(api, "Invoices", [invoice("Event Buyer"), invoice("Event Buyer")])
    delivery = WebhookDelivery.objects.get()
    events = json.loads(bytes(delivery.payload))["events"]
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", out[0]["Contact"]["ContactID"]),  # type: ignore[index]
        ("INVOICE", "CREATE", out[0]["InvoiceID"]),
        ("INVOICE", "CREATE", out[1]["InvoiceID"]),
    ]


def test_a_call_counts_once_in_each_window_and_frees_its_slot(api: Api, uk: Organisation) -> None:
    sandbox_configure(time_scale=0.01)  # windows far longer than the test
    for n in range(3):
        response = api.put("Invoices", invoice(), headers={"Idempotency-Key": f"count-{n}"})
        assert response.status_code == 200
    assert response.headers["X-MinLimit-Remaining"] == "57"
    assert response.headers["X-DayLimit-Remaining"] == "4997"
    counts = dict(RateCounter.objects.values_list("key", "count"))
    assert counts[f"xero:tenant:{uk.tenant_id}:minute"] == 3
    assert counts[f"xero:tenant:{uk.tenant_id}:day"] == 3
    assert InFlight.objects.get(key=f"xero:tenant:{uk.tenant_id}:inflight").count == 0
    assert IdempotencyRecord.objects.filter(status=200).count() == 3


def test_an_expired_idempotency_key_is_a_new_request(api: Api, uk: Organisation) -> None:
    sandbox_configure(time_scale=3600)  # the 6-minute window lasts 0.1 s
    key = {"Idempotency-Key": "expires"}
    first = api.put("Invoices", invoice(), headers=key).json()["Invoices"][0]
    assert api.put("Invoices", invoice(), headers={"Idempotency-Key": "old"}).status_code == 200
    time.sleep(0.3)
    again = api.put("Invoices", invoice(), headers=key).json()["Invoices"][0]
    assert again["InvoiceID"] != first["InvoiceID"]
    # The tenant's old answers are forgotten; the key's record is the new request's.
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.status) == ("expires", 200)
    assert json.loads(bytes(record.body))["Invoices"][0]["InvoiceID"] == again["InvoiceID"]

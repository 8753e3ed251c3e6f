"""The sandbox Xero's money movements: payments, credit notes and allocations, bank
transactions, manual journals, items and attachments."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from sandbox.xero.models import Account, Attachment, Contact, Invoice, Organisation, Payment
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import Api, connect
from tests.specs import validate_openapi


@pytest.fixture
def uk(sandbox_url: str) -> Organisation:
    seed_organisations(site_url="http://hub.test")
    return Organisation.objects.get(short_code="!nW7Gd")


@pytest.fixture
def api(sandbox_url: str, uk: Organisation) -> Api:
    return Api(sandbox_url, connect(uk))


def validate(response: requests.Response, sandbox_url: str) -> None:
    validate_openapi(
        response,
        spec="xero/xero_accounting.yaml",
        sandbox_base=f"{sandbox_url}/xero/api/api.xro/2.0",
        real_base="https://api.xero.com/api.xro/2.0",
    )


def messages(element: dict[str, object]) -> list[str]:
    return [e["Message"] for e in element["ValidationErrors"]]  # type: ignore[index, union-attr]


def make_invoice(
    api: Api, amount: str = "100.00", *, status: str = "AUTHORISED", **extra: object
) -> dict[str, object]:
    body = {
        "Type": "ACCREC",
        "Contact": {"Name": "Amazon UK"},
        "Date": "2026-03-01",
        "DueDate": "2026-03-31",
        "Status": status,
        "LineItems": [
            {
                "Description": "Sales",
                "Quantity": 1,
                "UnitAmount": amount,
                "AccountCode": "200",
                "TaxType": "NONE",
            }
        ],
        **extra,
    }
    response = api.put("Invoices", {"Invoices": [body]})
    assert response.status_code == 200, response.text
    return response.json()["Invoices"][0]  # type: ignore[no-any-return]


def pay(
    api: Api, invoice_id: object, amount: str, account: str = "090", **extra: object
) -> requests.Response:
    return api.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice_id},
                    "Account": {"Code": account},
                    "Date": "2026-03-20",
                    "Amount": Decimal(amount),
                    **extra,
                }
            ]
        },
    )


# ---------------------------------------------------------------- payments


def test_part_then_full_payment_makes_the_invoice_paid(api: Api, sandbox_url: str) -> None:
    inv = make_invoice(api, "100.00")
    first = pay(api, inv["InvoiceID"], "40.00", Reference="deposit 1")
    assert first.status_code == 200
    validate(first, sandbox_url)
    payment = first.json()["Payments"][0]
    assert payment["PaymentType"] == "ACCRECPAYMENT" and payment["Amount"] == 40.00
    after_first = api.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]
    assert after_first["Status"] == "AUTHORISED"
    assert (after_first["AmountPaid"], after_first["AmountDue"]) == (40.00, 60.00)

    second = pay(api, inv["InvoiceID"], "60.00")
    assert second.status_code == 200
    paid = api.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]
    assert paid["Status"] == "PAID" and paid["AmountDue"] == 0
    assert paid["FullyPaidOnDate"] == "/Date(1773964800000+0000)/"
    assert [p["Amount"] for p in paid["Payments"]] == [40.00, 60.00]

    listed = api.get("Payments", where='Status=="AUTHORISED"')
    validate(listed, sandbox_url)
    assert len(listed.json()["Payments"]) == 2


def test_over_payment_is_refused_with_xeros_message(api: Api) -> None:
    inv = make_invoice(api, "100.00")
    response = pay(api, inv["InvoiceID"], "100.01")
    assert response.status_code == 400
    assert messages(response.json()["Elements"][0]) == [
        "Payment amount exceeds the amount outstanding on this document"
    ]
    assert Payment.objects.count() == 0


def test_only_authorised_documents_can_be_paid(api: Api) -> None:
    draft = make_invoice(api, status="DRAFT")
    response = pay(api, draft["InvoiceID"], "10.00")
    assert messages(response.json()["Elements"][0]) == [
        "Payments can only be made against Authorised documents"
    ]
    paid = make_invoice(api, "10.00")
    assert pay(api, paid["InvoiceID"], "10.00").status_code == 200
    again = pay(api, paid["InvoiceID"], "0.01")
    assert messages(again.json()["Elements"][0]) == [
        "Payments can only be made against Authorised documents"
    ]


def test_payments_need_a_bank_account_or_one_with_payments_enabled(api: Api) -> None:
    inv = make_invoice(api, "100.00")
    refused = pay(api, inv["InvoiceID"], "10.00", account="200")
    assert messages(refused.json()["Elements"][0]) == [
        "Account code '200' is not a bank account and does not have payments enabled."
    ]
    clearing = pay(api, inv["InvoiceID"], "10.00", account="615")
    assert clearing.status_code == 200
    assert clearing.json()["Payments"][0]["Account"]["Code"] == "615"


def test_deleting_a_payment_restores_the_amount_due(api: Api) -> None:
    inv = make_invoice(api, "50.00")
    payment_id = pay(api, inv["InvoiceID"], "50.00").json()["Payments"][0]["PaymentID"]
    assert Invoice.objects.get(invoice_id=inv["InvoiceID"]).status == "PAID"

    deleted = api.post(f"Payments/{payment_id}", {"Payments": [{"Status": "DELETED"}]})
    assert deleted.status_code == 200
    assert deleted.json()["Payments"][0]["Status"] == "DELETED"
    restored = api.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]
    assert restored["Status"] == "AUTHORISED"
    assert (restored["AmountDue"], restored["AmountPaid"]) == (50.00, 0)
    assert restored["Payments"] == []
    assert "FullyPaidOnDate" not in restored


def test_a_reconciled_payment_cannot_be_deleted(api: Api) -> None:
    inv = make_invoice(api, "50.00")
    payment_id = pay(api, inv["InvoiceID"], "20.00", IsReconciled=True).json()["Payments"][0][
        "PaymentID"
    ]
    response = api.post(f"Payments/{payment_id}", {"Payments": [{"Status": "DELETED"}]})
    assert response.status_code == 400
    assert messages(response.json()["Elements"][0]) == [
        "This payment has been reconciled and cannot be deleted"
    ]


def test_an_invoice_with_a_payment_cannot_be_voided_or_edited(api: Api) -> None:
    inv = make_invoice(api, "80.00")
    assert pay(api, inv["InvoiceID"], "10.00").status_code == 200
    void = api.post(f"Invoices/{inv['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
    assert messages(void.json()["Elements"][0]) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]
    edit = api.post(
        f"Invoices/{inv['InvoiceID']}",
        {
            "Invoices": [
                {
                    "LineItems": [
                        {
                            "Description": "more",
                            "Quantity": 1,
                            "UnitAmount": 90,
                            "AccountCode": "200",
                        }
                    ]
                }
            ]
        },
    )
    assert edit.status_code == 400
    assert Invoice.objects.get(invoice_id=inv["InvoiceID"]).total == Decimal("80.00")


def test_payment_by_invoice_number_and_a_mixed_batch(api: Api) -> None:
    inv = make_invoice(api, "30.00", InvoiceNumber="AMZ-PAY-1")
    response = api.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceNumber": "AMZ-PAY-1"},
                    "Account": {"Code": "090"},
                    "Amount": 30,
                },
                {"Invoice": {"InvoiceNumber": "NOPE"}, "Account": {"Code": "090"}, "Amount": 1},
            ]
        },
        summarizeErrors="false",
    )
    assert response.status_code == 200
    elements = response.json()["Payments"]
    assert [e["StatusAttributeString"] for e in elements] == ["OK", "ERROR"]
    assert elements[1]["HasValidationErrors"] is True
    assert Invoice.objects.get(invoice_id=inv["InvoiceID"]).status == "PAID"


# ---------------------------------------------------------------- credit notes & allocations


def test_credit_note_allocation_reduces_both_documents(api: Api) -> None:
    inv = make_invoice(api, "100.00")
    created = api.put(
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": "Amazon UK"},
                    "Date": "2026-03-05",
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "Refund",
                            "Quantity": 1,
                            "UnitAmount": 30,
                            "AccountCode": "200",
                            "TaxType": "NONE",
                        }
                    ],
                }
            ]
        },
    )
    assert created.status_code == 200, created.text
    cn = created.json()["CreditNotes"][0]
    assert cn["CreditNoteNumber"] == "CN-0001" and cn["RemainingCredit"] == 30.00

    allocated = api.put(
        f"CreditNotes/{cn['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 25, "Date": "2026-03-06"}
            ]
        },
    )
    assert allocated.status_code == 200, allocated.text
    assert allocated.json()["Allocations"][0]["Amount"] == 25.00
    invoice_after = api.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]
    assert (invoice_after["AmountCredited"], invoice_after["AmountDue"]) == (25.00, 75.00)
    assert invoice_after["CreditNotes"][0]["AppliedAmount"] == 25.00
    credit_after = api.get(f"CreditNotes/{cn['CreditNoteID']}").json()["CreditNotes"][0]
    assert credit_after["RemainingCredit"] == 5.00 and credit_after["Status"] == "AUTHORISED"

    too_much = api.put(
        f"CreditNotes/{cn['CreditNoteID']}/Allocations",
        {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 6}]},
    )
    assert too_much.status_code == 400
    assert messages(too_much.json()["Elements"][0]) == [
        "The amount exceeds the remaining credit on this credit note."
    ]
    rest = api.put(
        f"CreditNotes/{cn['CreditNoteID']}/Allocations",
        {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 5}]},
    )
    assert rest.status_code == 200
    assert api.get(f"CreditNotes/{cn['CreditNoteID']}").json()["CreditNotes"][0]["Status"] == "PAID"
    void = api.post(f"Invoices/{inv['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
    assert messages(void.json()["Elements"][0]) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]


def test_an_allocation_is_deleted_before_its_credit_note_can_be_voided(
    api: Api, sandbox_url: str
) -> None:
    inv = make_invoice(api, "40.00")
    created = api.put(
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": "Amazon UK"},
                    "Date": "2026-03-05",
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "Refund",
                            "Quantity": 1,
                            "UnitAmount": 10,
                            "AccountCode": "200",
                            "TaxType": "NONE",
                        }
                    ],
                }
            ]
        },
    )
    cn = created.json()["CreditNotes"][0]
    allocated = api.put(
        f"CreditNotes/{cn['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 10, "Date": "2026-03-06"}
            ]
        },
    )
    assert allocated.status_code == 200, allocated.text
    allocation_id = allocated.json()["Allocations"][0]["AllocationID"]
    credit = api.get(f"CreditNotes/{cn['CreditNoteID']}").json()["CreditNotes"][0]
    assert credit["Status"] == "PAID" and credit["Allocations"][0]["AllocationID"] == allocation_id

    # Fully allocated (PAID), the credit note cannot be voided.
    void = api.post(f"CreditNotes/{cn['CreditNoteID']}", {"CreditNotes": [{"Status": "VOIDED"}]})
    assert void.status_code == 400
    assert messages(void.json()["Elements"][0]) == ["Invoice not of valid status for modification"]

    deleted = api.delete(f"CreditNotes/{cn['CreditNoteID']}/Allocations/{allocation_id}")
    assert deleted.status_code == 200, deleted.text
    validate(deleted, sandbox_url)
    body = deleted.json()
    assert (body["AllocationID"], body["IsDeleted"], body["Amount"]) == (allocation_id, True, 10.0)
    assert body["Invoice"]["InvoiceID"] == inv["InvoiceID"]
    invoice_after = api.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]
    assert (invoice_after["AmountCredited"], invoice_after["AmountDue"]) == (0.00, 40.00)
    assert invoice_after["CreditNotes"] == []
    credit = api.get(f"CreditNotes/{cn['CreditNoteID']}").json()["CreditNotes"][0]
    assert (credit["Status"], credit["RemainingCredit"]) == ("AUTHORISED", 10.00)
    assert credit["Allocations"] == []

    again = api.delete(f"CreditNotes/{cn['CreditNoteID']}/Allocations/{allocation_id}")
    assert again.status_code == 400
    assert messages(again.json()["Elements"][0]) == ["This allocation has already been deleted."]
    unknown = api.delete(f"CreditNotes/{cn['CreditNoteID']}/Allocations/{inv['InvoiceID']}")
    assert unknown.status_code == 404

    void = api.post(f"CreditNotes/{cn['CreditNoteID']}", {"CreditNotes": [{"Status": "VOIDED"}]})
    assert void.status_code == 200, void.text
    assert void.json()["CreditNotes"][0]["Status"] == "VOIDED"


def test_a_partly_allocated_credit_note_is_refused_a_void_with_xeros_words(api: Api) -> None:
    inv = make_invoice(api, "40.00")
    cn = api.put(
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": "Amazon UK"},
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "Refund",
                            "Quantity": 1,
                            "UnitAmount": 10,
                            "AccountCode": "200",
                            "TaxType": "NONE",
                        }
                    ],
                }
            ]
        },
    ).json()["CreditNotes"][0]
    api.put(
        f"CreditNotes/{cn['CreditNoteID']}/Allocations",
        {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 4}]},
    )
    void = api.post(f"CreditNotes/{cn['CreditNoteID']}", {"CreditNotes": [{"Status": "VOIDED"}]})
    assert void.status_code == 400
    assert messages(void.json()["Elements"][0]) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]


# ---------------------------------------------------------------- bank transactions


def spend(api: Api, **extra: object) -> requests.Response:
    body = {
        "Type": "SPEND",
        "Contact": {"Name": "Amazon Business"},
        "BankAccount": {"Code": "092"},
        "Date": "2026-03-02",
        "Reference": "AB-114-2231",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            {
                "Description": "Office chair",
                "Quantity": 1,
                "UnitAmount": Decimal("119.99"),
                "AccountCode": "429",
                "TaxType": "INPUT2",
            }
        ],
        **extra,
    }
    return api.put("BankTransactions", {"BankTransactions": [body]})


def test_spend_money_on_the_credit_card(api: Api, sandbox_url: str) -> None:
    response = spend(api)
    assert response.status_code == 200, response.text
    validate(response, sandbox_url)
    bt = response.json()["BankTransactions"][0]
    assert bt["Type"] == "SPEND" and bt["Status"] == "AUTHORISED"
    assert bt["BankAccount"]["Code"] == "092"
    assert (bt["SubTotal"], bt["TotalTax"], bt["Total"]) == (99.99, 20.00, 119.99)
    listed = api.get("BankTransactions", page=1)
    validate(listed, sandbox_url)
    assert listed.json()["BankTransactions"][0]["LineItems"][0]["TaxAmount"] == 20.00


def test_bank_transaction_rules(api: Api) -> None:
    not_bank = spend(api, BankAccount={"Code": "615"})
    assert messages(not_bank.json()["Elements"][0]) == [
        "Account code '615' is not a valid bank account."
    ]
    transfer = spend(api, Type="SPEND-TRANSFER")
    assert messages(transfer.json()["Elements"][0]) == [
        "Bank transactions of type SPEND-TRANSFER cannot be created through this endpoint."
    ]
    no_contact = spend(api, Contact={})
    assert (
        "The Contact must contain at least 1 of the following elements"
        in messages(no_contact.json()["Elements"][0])[0]
    )
    euro_account = spend(api, BankAccount={"Code": "093"}, CurrencyCode="EUR")
    assert euro_account.status_code == 200
    assert euro_account.json()["BankTransactions"][0]["CurrencyRate"] == 1.165


def test_deleting_a_bank_transaction(api: Api) -> None:
    bt = spend(api).json()["BankTransactions"][0]
    deleted = api.post(
        f"BankTransactions/{bt['BankTransactionID']}",
        {"BankTransactions": [{"Status": "DELETED"}]},
    )
    assert deleted.status_code == 200
    assert deleted.json()["BankTransactions"][0]["Status"] == "DELETED"


# ---------------------------------------------------------------- manual journals


def test_manual_journal_must_balance(api: Api) -> None:
    response = api.put(
        "ManualJournals",
        {
            "ManualJournals": [
                {
                    "Narration": "Amazon reserve",
                    "Date": "2026-03-31",
                    "JournalLines": [
                        {"LineAmount": 100, "AccountCode": "615"},
                        {"LineAmount": -10, "AccountCode": "200"},
                    ],
                }
            ]
        },
    )
    assert response.status_code == 400
    assert messages(response.json()["Elements"][0]) == [
        "The total debits (100.00) must equal total credits (-10.00)"
    ]


def test_unknown_journal_account_is_dropped_with_a_warning(api: Api) -> None:
    response = api.put(
        "ManualJournals",
        {
            "ManualJournals": [
                {
                    "Narration": "Reserve release",
                    "Status": "POSTED",
                    "JournalLines": [
                        {"LineAmount": 55.5, "AccountCode": "615"},
                        {"LineAmount": -55.5, "AccountCode": "850"},
                        {"LineAmount": 0, "AccountCode": "476"},
                    ],
                }
            ]
        },
        summarizeErrors="false",
    )
    assert response.status_code == 200
    journal = response.json()["ManualJournals"][0]
    assert journal["StatusAttributeString"] == "WARNING"
    assert [w["Message"] for w in journal["Warnings"]] == [
        "Account code '476' has been removed as it does not match a recognised account."
    ]
    assert [line["AccountCode"] for line in journal["JournalLines"]] == ["615", "850"]
    assert journal["Status"] == "POSTED"


# ---------------------------------------------------------------- items & attachments


def test_items_are_unique_by_code_and_fill_invoice_lines(api: Api) -> None:
    created = api.put(
        "Items",
        {
            "Items": [
                {
                    "Code": "B0-SKU-1",
                    "Name": "Tea towel",
                    "SalesDetails": {"UnitPrice": 7.5, "AccountCode": "200", "TaxType": "OUTPUT2"},
                }
            ]
        },
    )
    assert created.status_code == 200
    dup = api.put("Items", {"Items": [{"Code": "b0-sku-1"}]})
    assert messages(dup.json()["Elements"][0]) == [
        "Price List Item with Code 'b0-sku-1' already exists"
    ]
    inv = api.put(
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"Name": "Amazon UK"},
                    "Status": "AUTHORISED",
                    "LineItems": [{"ItemCode": "B0-SKU-1", "Quantity": 2}],
                }
            ]
        },
    )
    assert inv.status_code == 200, inv.text
    line = inv.json()["Invoices"][0]["LineItems"][0]
    assert (line["UnitAmount"], line["AccountCode"], line["TaxType"], line["LineAmount"]) == (
        7.50,
        "200",
        "OUTPUT2",
        15.00,
    )
    assert inv.json()["Invoices"][0]["Total"] == 18.00


def test_attachments_upload_list_download_and_limit(api: Api) -> None:
    inv = make_invoice(api)
    url = f"{api.base}/Invoices/{inv['InvoiceID']}/Attachments"
    headers = {**api.conn.headers(), "Content-Type": "text/csv"}
    put = requests.put(
        f"{url}/settlement.csv",
        data=b"a,b\n1,2\n",
        headers=headers,
        params={"IncludeOnline": "true"},
        timeout=10,
    )
    assert put.status_code == 200
    att = put.json()["Attachments"][0]
    assert (att["FileName"], att["MimeType"], att["ContentLength"], att["IncludeOnline"]) == (
        "settlement.csv",
        "text/csv",
        8,
        True,
    )
    listed = requests.get(url, headers=api.conn.headers(), timeout=10).json()["Attachments"]
    assert [a["FileName"] for a in listed] == ["settlement.csv"]
    file = requests.get(f"{url}/settlement.csv", headers=api.conn.headers(), timeout=10)
    assert file.content == b"a,b\n1,2\n" and file.headers["Content-Type"] == "text/csv"
    by_id = requests.get(f"{url}/{att['AttachmentID']}", headers=api.conn.headers(), timeout=10)
    assert by_id.content == b"a,b\n1,2\n"
    assert api.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]["HasAttachments"] is True
    for n in range(9):
        assert (
            requests.put(f"{url}/f{n}.txt", data=b"x", headers=headers, timeout=10).status_code
            == 200
        )
    eleventh = requests.put(f"{url}/f10.txt", data=b"x", headers=headers, timeout=10)
    assert eleventh.status_code == 400
    assert messages(eleventh.json()["Elements"][0]) == [
        "A document can have a maximum of 10 attachments."
    ]
    replaced = requests.post(f"{url}/settlement.csv", data=b"new", headers=headers, timeout=10)
    assert replaced.status_code == 200
    assert Attachment.objects.count() == 10
    no_scope = Api(
        api.base.rsplit("/xero/", 1)[0], connect(api.conn.org, scopes=["accounting.invoices"])
    )
    assert requests.get(url, headers=no_scope.conn.headers(), timeout=10).status_code == 401


# ---------------------------------------------------------------- contacts & accounts


def test_contact_names_are_unique_among_active_contacts(
    api: Api, sandbox_url: str, uk: Organisation
) -> None:
    created = api.put(
        "Contacts", {"Contacts": [{"Name": "Amazon", "EmailAddress": "a@amazon.example"}]}
    )
    assert created.status_code == 200
    validate(created, sandbox_url)
    dup = api.put("Contacts", {"Contacts": [{"Name": "amazon"}]})
    assert dup.status_code == 400
    validate(dup, sandbox_url)
    assert messages(dup.json()["Elements"][0]) == [
        "The contact name amazon is already assigned to another contact. The contact name must "
        "be unique across all active contacts."
    ]
    # An archived contact's name can be reused; a POST by name updates the active one.
    assert api.put("Contacts", {"Contacts": [{"Name": "Kestrel Packaging Ltd"}]}).status_code == 200
    updated = api.post(
        "Contacts", {"Contacts": [{"Name": "Amazon", "EmailAddress": "new@amazon.example"}]}
    )
    assert updated.json()["Contacts"][0]["ContactID"] == created.json()["Contacts"][0]["ContactID"]
    assert Contact.objects.get(org=uk, name="Amazon").email == "new@amazon.example"


def test_contact_reads_skip_archived_unless_asked(api: Api, sandbox_url: str) -> None:
    active = api.get("Contacts")
    validate(active, sandbox_url)
    names = [c["Name"] for c in active.json()["Contacts"]]
    assert "Kestrel Packaging Ltd" not in names and "Royal Mail Group Ltd" in names
    everyone = [c["Name"] for c in api.get("Contacts", includeArchived="true").json()["Contacts"]]
    assert "Kestrel Packaging Ltd" in everyone
    assert [c["Name"] for c in api.get("Contacts", searchTerm="royal").json()["Contacts"]] == [
        "Royal Mail Group Ltd"
    ]
    paged = api.get("Contacts", page=1, pageSize=2).json()
    assert paged["pagination"]["itemCount"] == 3 and len(paged["Contacts"]) == 2


def test_accounts_create_update_and_archive(api: Api, sandbox_url: str, uk: Organisation) -> None:
    listed = api.get("Accounts", where='Type=="BANK"')
    validate(listed, sandbox_url)
    banks = {a["Code"]: a for a in listed.json()["Accounts"]}
    assert banks["092"]["BankAccountType"] == "CREDITCARD" and banks["093"]["CurrencyCode"] == "EUR"
    rounding = api.get("Accounts", where='SystemAccount=="ROUNDING"').json()["Accounts"]
    assert [(a["Code"], a["Name"]) for a in rounding] == [("860", "Rounding")]

    created = api.put(
        "Accounts",
        {
            "Code": "616",
            "Name": "Amazon Clearing",
            "Type": "CURRENT",
            "EnablePaymentsToAccount": True,
        },
    )
    assert created.status_code == 200, created.text
    validate(created, sandbox_url)
    assert created.json()["Accounts"][0]["Class"] == "ASSET"
    dup = api.put("Accounts", {"Code": "616", "Name": "Sales", "Type": "CURRENT"})
    assert dup.status_code == 400
    assert messages(dup.json()["Elements"][0]) == [
        "Please enter a unique Code.",
        "Please enter a unique Name.",
    ]
    system = Account.objects.get(org=uk, code="860")
    refused = api.post(f"Accounts/{system.account_id}", {"Accounts": [{"Status": "ARCHIVED"}]})
    assert refused.status_code == 400


def test_currencies_and_tax_rates(api: Api, sandbox_url: str) -> None:
    rates = {r["TaxType"]: r for r in api.get("TaxRates").json()["TaxRates"]}
    assert (
        rates["OUTPUT2"]["EffectiveRate"] == 20.0
        and rates["OUTPUT2"]["CanApplyToExpenses"] is False
    )
    assert rates["INPUT2"]["CanApplyToRevenue"] is False
    enabled = api.put("Currencies", {"Code": "CAD"})
    assert enabled.status_code == 200
    assert "CAD" in [c["Code"] for c in api.get("Currencies").json()["Currencies"]]


def test_xeros_size_limits_apply_not_djangos(api: Api) -> None:
    inv = make_invoice(api)
    url = f"{api.base}/Invoices/{inv['InvoiceID']}/Attachments"
    headers = {**api.conn.headers(), "Content-Type": "application/pdf"}
    four_mb = b"%PDF" + b"0" * (4 * 1024 * 1024)
    assert (
        requests.put(f"{url}/statement.pdf", data=four_mb, headers=headers, timeout=30).status_code
        == 200
    )
    too_big = requests.put(
        f"{url}/huge.pdf", data=b"0" * (10 * 1024 * 1024 + 1), headers=headers, timeout=30
    )
    assert too_big.status_code == 400
    assert messages(too_big.json()["Elements"][0]) == [
        "The attachment exceeds the maximum file size of 10MB."
    ]
    line = {
        "Description": "x" * 1000,
        "Quantity": 1,
        "UnitAmount": 1,
        "AccountCode": "200",
        "TaxType": "NONE",
    }
    huge_batch = {
        "Invoices": [
            {"Type": "ACCREC", "Contact": {"Name": "Amazon UK"}, "LineItems": [line] * 3700}
        ]
    }
    assert api.put("Invoices", huge_batch).status_code == 413
    assert (
        api.get("TaxRates", headers={"If-Modified-Since": "2026-01-01T00:00:00"}).status_code == 200
    )

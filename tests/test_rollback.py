"""Rolling back posted documents in Xero, then posting them again without a clash."""

from __future__ import annotations

from decimal import Decimal

from sandbox.xero.models import Invoice, Payment
from sync.ledger import ledger_upsert
from sync.models import LedgerEntry
from sync.rollback import rollback_entries
from tests.engine_support import drain, invoice_payload
from tests.test_engine import _link


def test_rollback_deletes_the_payment_voids_the_invoice_and_a_repost_gets_a_new_number(
    sandbox_url: str,
) -> None:
    link = _link(sandbox_url)
    payload = invoice_payload(5)
    invoice = ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="S5",
        payload=payload,
        total=Decimal("13.50"),
        currency="GBP",
        lookup_number=payload["InvoiceNumber"],
    ).entry
    drain(link)
    invoice.refresh_from_db()
    sandbox_invoice = Invoice.objects.get(invoice_id=invoice.xero_id)
    payment = ledger_upsert(
        link=link,
        kind="payment",
        amazon_id="S5",
        part="deposit",
        parent=invoice,
        payload={
            "Account": {"Code": "090"},
            "Date": "2026-11-02",
            "Amount": str(sandbox_invoice.total),
            "Reference": "deposit S5",
        },
        total=sandbox_invoice.total,
        currency="GBP",
        lookup_reference="deposit S5",
    ).entry
    drain(link, "payment")
    sandbox_invoice.refresh_from_db()
    assert sandbox_invoice.status == "PAID"

    outcome = rollback_entries(list(LedgerEntry.objects.filter(link=link)))
    assert (outcome.voided, outcome.refused, outcome.remaining) == (2, 0, 0)
    sandbox_invoice.refresh_from_db()
    assert sandbox_invoice.status == "VOIDED"
    assert (
        Payment.objects.get(payment_id=LedgerEntry.objects.get(pk=payment.pk).xero_id).status
        == "DELETED"
    )
    assert set(LedgerEntry.objects.values_list("status", flat=True)) == {"voided"}

    # Re-import after the rollback: posted again, under a new number (Xero keeps the old one).
    again = ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="S5",
        payload=payload,
        total=Decimal("13.50"),
        currency="GBP",
        lookup_number=payload["InvoiceNumber"],
    )
    assert again.entry.revision == 1 and again.entry.status == "pending"
    assert again.entry.payload["InvoiceNumber"] == "AMZ-000005-R1"
    drain(link)
    numbers = set(
        Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id).values_list(
            "number", "status"
        )
    )
    assert numbers == {("AMZ-000005", "VOIDED"), ("AMZ-000005-R1", "AUTHORISED")}

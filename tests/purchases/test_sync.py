"""Amazon Business purchases into Xero, end to end against the sandbox (real HTTP both ways).

What a bookkeeper would check in Xero: one document per Amazon transaction in the right place
(the card's account, a bill for Pay by Invoice, a payment once Amazon says it is paid, money
back as a receive or a supplier credit), totals equal to Amazon's to the cent, nothing twice
after a re-import, a new card waiting for its mapping, and the supplier contact surviving
whatever is done to it in Xero.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from mappings.services import mapping_release_held
from purchases.models import PurchaseNotice, PurchaseSettings, PurchaseTransaction
from purchases.services import import_preview_start, import_start, sync_start
from sandbox.business.models import BusinessAccount, Invoice, PaymentMethod, Transaction
from sandbox.business.services import invoice_mark_paid, purchase_add
from sandbox.xero.models import BankTransaction, Contact, CreditNote, Organisation, Payment
from sandbox.xero.models import Invoice as XeroInvoice
from sync.models import EntryStatus, LedgerEntry, RunStatus
from tests.purchases.support import (
    CARD_ACCOUNTS,
    US_ORG,
    business_link,
    drain_link,
    drive,
    map_card,
    map_everything,
    seed,
)
from tests.workspace_support import fast_limits

pytestmark = pytest.mark.usefixtures("queue")


def _org() -> Organisation:
    return Organisation.objects.get(name=US_ORG)


def _import(link, *, days: int = 91):
    now = timezone.now()
    preview = drive(import_preview_start(link=link, start=now - timedelta(days=days), end=now))
    assert preview.status == RunStatus.DONE, preview.error
    run = drive(import_start(link=link, preview=preview))
    assert run.status == RunStatus.DONE, run.error
    return preview, run


def test_historical_import_posts_each_purchase_once_with_amazons_totals(sandbox_url) -> None:
    buyer = seed(sandbox_url, days=90, purchases=120)
    link = business_link(sandbox_url)
    map_everything(link)
    org = _org()
    preview, run = _import(link)

    amazon = list(Transaction.objects.filter(account=buyer))
    summary = preview.checkpoint["summary"]
    assert summary["purchases"] == len(amazon)
    assert summary["posted"] == 0 and summary["new"] == len(amazon)
    assert set(summary["by_type"]) == {"CHARGE", "REFUND", "OVERREFUND"}
    new_card = [t for t in amazon if t.last4 == "4242"]
    assert new_card and summary["unmapped"] == [["Visa ending 4242", len(new_card)]]
    assert run.progress == 100
    assert run.total == run.posted + run.held + run.failed + run.skipped
    assert run.failed == 0 and run.held == len(new_card)

    contact = Contact.objects.get(org=org, contact_number=f"LEDGERBRIDGE-AB-{link.pk}")
    assert (contact.name, contact.status) == ("Amazon Business", "ACTIVE")

    spend = {b.reference: b for b in BankTransaction.objects.filter(org=org)}
    bills = {i.number: i for i in XeroInvoice.objects.filter(org=org, type="ACCPAY")}
    credits = {c.number: c for c in CreditNote.objects.filter(org=org, type="ACCPAYCREDIT")}
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for t in amazon:
        amount = t.amount
        order = t.data["transactionLineItems"][0]["orderId"]
        if t.last4 == "4242":
            entry = LedgerEntry.objects.get(link=link, amazon_id=t.transaction_id)
            assert entry.status == EntryStatus.HELD
            assert entry.held_reason == (
                "Map the card ending 4242 to a Xero bank or credit-card account"
            )
            assert not any(t.transaction_id in ref for ref in spend)
            continue
        if t.payment_instrument_type == "PayByInvoice":
            if amount > 0:
                bill = bills[t.invoice_number]
                assert bill.total == amount and bill.contact == contact
                assert (
                    bill.due_date
                    == Invoice.objects.get(invoice_id=t.invoice_number).due_date.date()
                )
                status = Invoice.objects.get(invoice_id=t.invoice_number).status_at(timezone.now())
                paid = Payment.objects.filter(invoice=bill, status="AUTHORISED")
                if status == "Closed":
                    (payment,) = paid
                    assert payment.amount == amount and payment.account.code == "090"
                    assert bill.status == "PAID"
                else:
                    assert not paid.exists() and bill.status == "AUTHORISED"
            else:
                credit = credits[t.invoice_number]
                assert credit.total == -amount and credit.contact == contact
            continue
        reference = f"Amazon Business order {order} / {t.transaction_id}"
        document = spend[reference]
        assert document.type == ("SPEND" if amount > 0 else "RECEIVE")
        key = f"card:{t.last4}" if t.last4 else "other:giftcard"
        assert document.bank_account.code == CARD_ACCOUNTS[key]
        assert document.total == abs(amount), t.transaction_id
        assert document.contact == contact
        sums[document.bank_account.code] += amount
        # Tax as Amazon computed it, line by line, where the mapped rate has a percentage.
        amazon_tax = [Decimal(i["tax"]["amount"]) for i in t.data["transactionLineItems"]]
        for line, tax in zip(document.data["LineItems"], amazon_tax, strict=True):
            if line["TaxType"] == "TAX002":
                assert Decimal(str(line["TaxAmount"])) == abs(tax)
    # Per account, what Xero holds equals what Amazon charged, to the cent.
    for code, total in sums.items():
        in_xero = sum(
            (b.total if b.type == "SPEND" else -b.total)
            for b in BankTransaction.objects.filter(org=org, bank_account__code=code)
        )
        assert in_xero == total
    posted = LedgerEntry.objects.filter(link=link, status=EntryStatus.POSTED).count()
    assert (
        posted == len(spend) + len(bills) + len(credits) + Payment.objects.filter(org=org).count()
    )

    # Re-importing an overlapping, wider range adds nothing.
    counts = (
        BankTransaction.objects.count(),
        XeroInvoice.objects.count(),
        CreditNote.objects.count(),
        Payment.objects.count(),
        Contact.objects.filter(org=org).count(),
        LedgerEntry.objects.count(),
    )
    again, second = _import(link, days=120)
    assert again.checkpoint["summary"]["posted"] == posted - Payment.objects.filter(org=org).count()
    assert again.checkpoint["summary"]["new"] == len(new_card)
    assert second.skipped == posted and second.progress == 100
    assert (
        BankTransaction.objects.count(),
        XeroInvoice.objects.count(),
        CreditNote.objects.count(),
        Payment.objects.count(),
        Contact.objects.filter(org=org).count(),
        LedgerEntry.objects.count(),
    ) == counts
    assert PurchaseTransaction.objects.filter(link=link).count() == len(amazon)


def test_a_new_card_holds_only_its_purchases_until_it_is_mapped(sandbox_url) -> None:
    buyer = seed(sandbox_url, days=20, purchases=30)
    link = business_link(sandbox_url)
    map_everything(link)
    _import(link, days=21)
    held = LedgerEntry.objects.filter(link=link, status=EntryStatus.HELD)
    assert held.exists()
    assert set(held.values_list("held_reason", flat=True)) == {
        "Map the card ending 4242 to a Xero bank or credit-card account"
    }
    others = LedgerEntry.objects.filter(link=link).exclude(status=EntryStatus.HELD)
    assert others.exists() and set(others.values_list("status", flat=True)) == {"posted"}
    held_ids = set(held.values_list("amazon_id", flat=True))
    assert held_ids == set(
        Transaction.objects.filter(account=buyer, last4="4242").values_list(
            "transaction_id", flat=True
        )
    )

    # The new card is mapped to the credit-card account: its purchases are released.
    map_card(link, "card:4242", "092")
    released = mapping_release_held(link)
    assert released == len(held_ids)
    drain_link(link)
    org = _org()
    for txid in held_ids:
        entry = LedgerEntry.objects.get(link=link, amazon_id=txid)
        assert entry.status == EntryStatus.POSTED
        document = BankTransaction.objects.get(org=org, bank_transaction_id=entry.xero_id)
        assert document.bank_account.code == "092"
        assert document.total == abs(Transaction.objects.get(transaction_id=txid).amount)
    assert not LedgerEntry.objects.filter(link=link, status=EntryStatus.HELD).exists()


def test_pay_by_invoice_posts_a_bill_then_its_payment_once_amazon_reports_it_paid(
    sandbox_url,
) -> None:
    buyer = seed(sandbox_url, days=10, purchases=5)
    link = business_link(sandbox_url)
    map_everything(link)
    _import(link, days=11)
    method = PaymentMethod.objects.get(account=buyer, key="pay-by-invoice")
    bought = purchase_add(
        account=buyer, method=method, lines=3, at=timezone.now() - timedelta(minutes=10)
    )
    run = drive(sync_start(link=link))
    assert run.status == RunStatus.DONE, run.error
    drain_link(link)
    org = _org()
    bill = XeroInvoice.objects.get(org=org, type="ACCPAY", number=bought.invoice_number)
    amazon_invoice = Invoice.objects.get(invoice_id=bought.invoice_number)
    assert bill.total == bought.amount and bill.status == "AUTHORISED"
    assert bill.due_date == amazon_invoice.due_date.date()
    lines = bill.data["LineItems"]
    assert len(lines) == 3
    assert sum(Decimal(str(x["TaxAmount"])) for x in lines) == sum(
        Decimal(i["tax"]["amount"]) for i in bought.data["transactionLineItems"]
    ) or any(x["TaxType"] == "NONE" for x in lines)
    assert not Payment.objects.filter(invoice=bill).exists()

    invoice_mark_paid(invoice=amazon_invoice)
    run = drive(sync_start(link=link))
    assert run.status == RunStatus.DONE, run.error
    assert run.checkpoint["invoices_closed"] >= 1
    drain_link(link)
    bill.refresh_from_db()
    (payment,) = Payment.objects.filter(invoice=bill)
    assert (payment.amount, payment.account.code, bill.status) == (bought.amount, "090", "PAID")
    assert payment.reference == f"Amazon Business invoice {bought.invoice_number} paid"
    # Another sync finds nothing more to pay.
    drive(sync_start(link=link))
    drain_link(link)
    assert Payment.objects.filter(invoice=bill).count() == 1


def _buy(buyer: BusinessAccount, key: str = "card-1111") -> Transaction:
    method = PaymentMethod.objects.get(account=buyer, key=key)
    return purchase_add(account=buyer, method=method, at=timezone.now() - timedelta(minutes=5))


def _posted_to(link, row: Transaction) -> BankTransaction:
    entry = LedgerEntry.objects.get(link=link, amazon_id=row.transaction_id)
    assert entry.status == EntryStatus.POSTED, (entry.status, entry.last_error, entry.held_reason)
    return BankTransaction.objects.get(bank_transaction_id=entry.xero_id)


def test_a_renamed_archived_or_removed_supplier_contact_heals(sandbox_url) -> None:
    with fast_limits():  # Xero minutes of one second: the heals make many calls
        _contact_heals(sandbox_url)


def _contact_heals(sandbox_url) -> None:
    buyer = seed(sandbox_url, days=5, purchases=4)
    link = business_link(sandbox_url)
    map_everything(link)
    _import(link, days=6)
    settings = PurchaseSettings.objects.get(link=link)
    contact = Contact.objects.get(contact_id=settings.supplier_contact_id)

    # Renamed in Xero: the sync keeps using it by its ContactID and says so.
    Contact.objects.filter(pk=contact.pk).update(name="AMZ Business (renamed)")
    row = _buy(buyer)
    drive(sync_start(link=link))
    drain_link(link)
    assert _posted_to(link, row).contact_id == contact.pk
    assert PurchaseNotice.objects.filter(link=link, message__contains="renamed in Xero").exists()

    # Archived in Xero before a sync: the run reactivates it first.
    Contact.objects.filter(pk=contact.pk).update(status="ARCHIVED")
    row = _buy(buyer)
    drive(sync_start(link=link))
    drain_link(link)
    contact.refresh_from_db()
    assert contact.status == "ACTIVE" and _posted_to(link, row).contact_id == contact.pk
    assert PurchaseNotice.objects.filter(link=link, message__contains="reactivated").exists()

    # Archived after the documents were prepared: the push checks the contact and heals it.
    row = _buy(buyer)
    run = sync_start(link=link)
    from purchases.services import run_advance

    step = 0
    while True:  # take the run's steps without pushing
        outcome = run_advance(run_id=run.pk, step=step)
        if not outcome.more:
            break
        step = outcome.step
    assert LedgerEntry.objects.get(amazon_id=row.transaction_id).status == EntryStatus.PENDING
    Contact.objects.filter(pk=contact.pk).update(status="ARCHIVED")
    PurchaseSettings.objects.filter(link=link).update(
        supplier_checked_at=timezone.now() - timedelta(minutes=5)
    )
    drain_link(link)
    contact.refresh_from_db()
    assert contact.status == "ACTIVE" and _posted_to(link, row).contact_id == contact.pk

    # Archived while the hub had just checked it: Xero refuses the document; the dispatcher
    # sees why and starts a sync that heals the contact and sends the document again.
    row = _buy(buyer)
    run = sync_start(link=link)
    step = 0
    while True:
        outcome = run_advance(run_id=run.pk, step=step)
        if not outcome.more:
            break
        step = outcome.step
    Contact.objects.filter(pk=contact.pk).update(status="ARCHIVED")
    PurchaseSettings.objects.filter(link=link).update(supplier_checked_at=timezone.now())
    drain_link(link)
    failed = LedgerEntry.objects.get(amazon_id=row.transaction_id)
    assert failed.status == EntryStatus.FAILED and "archived" in failed.last_error
    from purchases.hooks import business_due

    PurchaseSettings.objects.filter(link=link).update(
        last_sync_at=timezone.now() - timedelta(minutes=6)
    )
    assert business_due(timezone.now()) == 1
    heal = link.runs.order_by("-created_at").first()
    drive(heal)
    drain_link(link)
    contact.refresh_from_db()
    assert contact.status == "ACTIVE" and _posted_to(link, row).contact_id == contact.pk

    # Gone (a GDPR request makes it unusable): a new supplier contact is created.
    Contact.objects.filter(pk=contact.pk).update(status="GDPRREQUEST")
    row = _buy(buyer)
    drive(sync_start(link=link))
    drain_link(link)
    settings.refresh_from_db()
    assert settings.supplier_contact_id != str(contact.contact_id)
    replacement = Contact.objects.get(contact_id=settings.supplier_contact_id)
    assert replacement.status == "ACTIVE" and replacement.name == "Amazon Business"
    assert _posted_to(link, row).contact_id == replacement.pk
    assert PurchaseNotice.objects.filter(
        link=link, message__contains="can no longer be used in Xero"
    ).exists()


def test_the_supplier_name_taken_by_another_contact_gets_a_suffix(sandbox_url) -> None:
    seed(sandbox_url, days=3, purchases=2)
    org = _org()
    Contact.objects.create(org=org, name="Amazon Business", updated_at=timezone.now())
    link = business_link(sandbox_url)
    map_everything(link)
    _import(link, days=4)
    settings = PurchaseSettings.objects.get(link=link)
    assert settings.supplier_contact_name == "Amazon Business (Ledgerbridge)"
    ours = Contact.objects.get(contact_id=settings.supplier_contact_id)
    assert ours.contact_number == f"LEDGERBRIDGE-AB-{link.pk}"
    assert Contact.objects.filter(org=org, name="Amazon Business").count() == 1

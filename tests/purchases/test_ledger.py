"""Stored transactions into the ledger (no provider calls): once per natural key, always visible."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from django.utils import timezone

from mappings.categories_business import business_line_category
from mappings.resolve import MappingSet, Target
from mappings.services import mapping_store
from purchases import pull
from purchases.models import PurchaseSettings, PurchaseTransaction
from purchases.services import purchases_rebuild, records_post
from sandbox.datagen.business import BuyerSpec, generate_buyer
from sync.ledger import entries_retry
from sync.models import EntryStatus, LedgerEntry, Run, RunKind

pytestmark = pytest.mark.usefixtures("queue")
CONTACT = "5b1d7a52-0000-4000-8000-00000000c0de"


def _stored(link, count: int = 40) -> list[PurchaseTransaction]:
    data = generate_buyer(BuyerSpec(seed=3, start=date(2026, 2, 1), days=30, purchases=count))
    run = Run.objects.create(link=link, kind=RunKind.BUSINESS, checkpoint={"step": 0})
    pull.transactions_store(link=link, transactions=data.transactions, run=run)
    PurchaseSettings.objects.update_or_create(
        link=link,
        defaults={"supplier_contact_id": CONTACT, "supplier_contact_name": "Amazon Business"},
    )
    return list(PurchaseTransaction.objects.filter(link=link).order_by("pk"))


def test_a_purchase_that_cannot_be_prepared_is_held_with_why_and_nothing_else_stops(
    offline_link,
) -> None:
    rows = _stored(offline_link)
    broken = rows[0]
    data = copy.deepcopy(broken.data)
    data["transactionLineItems"][0]["totalAmount"]["amount"] = "not-a-number"
    PurchaseTransaction.objects.filter(pk=broken.pk).update(data=data)
    counts = records_post(
        link=offline_link,
        records=list(PurchaseTransaction.objects.filter(link=offline_link)),
        run=None,
    )
    assert counts["documents"] >= len(rows) - counts["zero"]
    entry = LedgerEntry.objects.get(link=offline_link, amazon_id=broken.transaction_id)
    assert entry.status == EntryStatus.HELD
    assert entry.held_reason.startswith("This purchase could not be prepared for Xero (ValueError")
    # Everything else was prepared (held only for want of a mapping: none was saved).
    others = LedgerEntry.objects.filter(link=offline_link).exclude(pk=entry.pk)
    assert others.count() >= len(rows) - 1 - counts["zero"]
    assert not others.filter(held_reason__startswith="This purchase could not").exists()


def test_a_remapped_payment_method_replaces_unsent_documents_but_never_a_sent_one(
    offline_link,
) -> None:
    rows = _stored(offline_link)
    invoices = [r for r in rows if r.method_key == "invoice" and r.amount > 0]
    assert len(invoices) >= 2
    records_post(link=offline_link, records=rows, run=None)
    first, second = invoices[:2]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.entry.kind == "bill" and second.entry.kind == "bill"
    LedgerEntry.objects.filter(pk=first.entry_id).update(
        status=EntryStatus.POSTED, posted_at=timezone.now()
    )
    # Pay by Invoice now posts as spent from a bank account instead of as bills.
    mapping_store(offline_link, MappingSet(payment_methods={"invoice": "090"}))
    rebuilt = purchases_rebuild(offline_link)
    assert rebuilt > 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.entry.kind == "bill" and first.entry.status == EntryStatus.POSTED
    assert second.entry.kind == "bank_transaction"
    assert second.entry.payload["BankAccount"] == {"Code": "090"}
    assert not LedgerEntry.objects.filter(
        link=offline_link, kind="bill", amazon_id=second.transaction_id
    ).exists()
    # Every stored transaction has exactly one main document in the ledger.
    for row in PurchaseTransaction.objects.filter(link=offline_link).exclude(amount=0):
        assert (
            LedgerEntry.objects.filter(link=offline_link, amazon_id=row.transaction_id)
            .exclude(kind="payment")
            .count()
            == 1
        )


def test_a_document_xero_refused_takes_the_remap_but_waits_for_the_users_retry(
    offline_link,
) -> None:
    rows = _stored(offline_link)
    keys = {
        business_line_category(item).key
        for row in rows
        for item in row.data.get("transactionLineItems", [])
    }

    def mapped(account: str) -> MappingSet:
        return MappingSet(
            targets={key: Target(account, "NONE") for key in keys},
            payment_methods={row.method_key: "090" for row in rows},
            suspense_account="250",
        )

    mapping_store(offline_link, mapped("648"))
    records_post(link=offline_link, records=rows, run=None)
    unsent = LedgerEntry.objects.filter(link=offline_link, status=EntryStatus.PENDING)
    refused = unsent.filter(kind="bank_transaction").first()
    assert refused is not None
    xero_said = (
        "Account code '648' has been archived, or has been deleted. Each line item must "
        "reference a valid account."
    )
    LedgerEntry.objects.filter(pk=refused.pk).update(
        status=EntryStatus.FAILED, last_error=xero_said
    )
    others = set(unsent.exclude(pk=refused.pk).values_list("pk", flat=True))

    mapping_store(offline_link, mapped("652"))  # the user remaps to an active account
    assert purchases_rebuild(offline_link) > 0
    refused.refresh_from_db()
    assert refused.status == EntryStatus.FAILED
    assert (
        refused.last_error == f"{xero_said} Rebuilt with your new mapping: press Retry to send it."
    )
    assert {line["AccountCode"] for line in refused.payload["LineItems"]} == {"652"}
    # Documents never sent simply take the new accounts and stay in line.
    assert (
        set(
            LedgerEntry.objects.filter(pk__in=others, status=EntryStatus.PENDING).values_list(
                "pk", flat=True
            )
        )
        == others
    )
    # Rebuilt twice, the note is not repeated; Retry puts it back in line.
    purchases_rebuild(offline_link)
    refused.refresh_from_db()
    assert refused.last_error.count("Rebuilt with your new mapping") == 1
    assert entries_retry([refused]) == 1
    refused.refresh_from_db()
    assert refused.status == EntryStatus.PENDING

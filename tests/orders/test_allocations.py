"""Refunds of orders the same settlement pays are allocated to their invoices, against the
sandbox: the invoice reads paid (cash for the net, credit for the refund), the credit note is
used up, the clearing account still holds the deposit; a refund of an order paid before gets a
refund payment (Xero cannot allocate to a paid invoice); a lost answer is looked up, never sent
twice; rolling the settlement back deletes the allocation before voiding its credit note."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from connectors.models import Link
from connectors.xero.accounting import XeroAccounting
from mappings.transforms import orders as transform
from orders.models import AmazonOrder
from orders.services import clearing_balance, orders_build
from sandbox.datagen.reports import render_settlement_v2
from sandbox.datagen.settlements import Settlement as AmazonSettlement
from sandbox.datagen.settlements import SettlementRow
from sandbox.xero.models import Allocation, CreditNote, Invoice, Payment
from settlements.models import Settlement
from settlements.services import settlement_build, settlement_upload
from sync.ledger import ledger_upsert
from sync.models import Attempt, LedgerEntry
from sync.push import push_batch
from sync.rollback import rollback_entries
from tests.engine_support import drain
from tests.orders.api_json import api_item
from tests.orders.test_lifecycle import hub_order, xero_documents, xero_link
from tests.orders.test_per_order import _clearing, _push_all
from tests.sandbox.amazon_support import UK

MUG = "203-7000001-0000001"  # sold and partly refunded in the first settlement
LAMP = "203-7000002-0000002"  # sold in the first settlement, refunded in the second
THROW = "203-7000003-0000003"  # sold in the second settlement
CHANNEL = "Amazon.co.uk"


def row(
    transaction_type: str,
    order_id: str,
    amount_type: str,
    description: str,
    amount: str,
    posted: datetime,
    *,
    adjustment: str = "",
) -> SettlementRow:
    return SettlementRow(
        transaction_type,
        order_id,
        "",
        adjustment,
        "",
        CHANNEL,
        amount_type,
        description,
        Decimal(amount),
        "AFN",
        posted,
        "",
        "",
        1,
        "",
    )


def upload(link: Link, sid: str, rows: list[SettlementRow], *, ended_days_ago: int) -> Settlement:
    """A settlement file as Seller Central offers it (V2), uploaded and built."""
    end = (timezone.now() - timedelta(days=ended_days_ago)).replace(microsecond=0)
    amazon = AmazonSettlement(
        settlement_id=sid,
        marketplace_id=UK,
        currency="GBP",
        start=end - timedelta(days=2),
        end=end,
        deposit_date=end + timedelta(hours=12),
        total_amount=sum((r.amount for r in rows), Decimal("0.00")),
        rows=rows,
    )
    raw = render_settlement_v2(amazon).encode()
    ingested = settlement_upload(link=link, file_name=f"{sid}.txt", raw=raw)
    assert ingested.settlement is not None, ingested.error
    settlement = ingested.settlement
    built = settlement_build(settlement, now=timezone.now() + timedelta(days=10))
    assert built.state == Settlement.State.BUILT, built
    settlement.refresh_from_db()
    return settlement


def orders_posted(link: Link) -> None:
    mug = [api_item(UK, "MUG-1001-BLU", "Mug", price="24.00", tax="4.00")]
    lamp = [api_item(UK, "LAM-1004-RED", "Table lamp", price="12.00", tax="2.00")]
    throw = [api_item(UK, "NW-THROW-GRY", "Throw", price="30.00", tax="5.00")]
    hub_order(link, MUG, "24.00", mug, days_ago=5)
    hub_order(link, LAMP, "12.00", lamp, days_ago=5)
    hub_order(link, THROW, "30.00", throw, days_ago=4)
    assert orders_build(link).invoices == 3
    drain(link, "invoice")


def first_settlement(link: Link) -> Settlement:
    """Sells the mug and the lamp; refunds 10.00 of the mug (with its commission)."""
    sold = timezone.now() - timedelta(days=4)
    refunded = timezone.now() - timedelta(days=3)
    return upload(
        link,
        "70000000001",
        [
            row("Order", MUG, "ItemPrice", "Principal", "24.00", sold),
            row("Order", MUG, "ItemFees", "Commission", "-3.60", sold),
            row("Order", LAMP, "ItemPrice", "Principal", "12.00", sold),
            row("Order", LAMP, "ItemFees", "Commission", "-1.80", sold),
            row("Refund", MUG, "ItemPrice", "Principal", "-10.00", refunded, adjustment="AD-1"),
            row("Refund", MUG, "ItemFees", "Commission", "1.50", refunded, adjustment="AD-1"),
        ],
        ended_days_ago=2,
    )


def second_settlement(link: Link) -> Settlement:
    """Refunds the lamp, paid in full by the first settlement; sells the throw."""
    day = timezone.now() - timedelta(days=1, hours=12)
    return upload(
        link,
        "70000000002",
        [
            row("Order", THROW, "ItemPrice", "Principal", "30.00", day),
            row("Order", THROW, "ItemFees", "Commission", "-4.50", day),
            row("Refund", LAMP, "ItemPrice", "Principal", "-12.00", day, adjustment="AD-2"),
            row("Refund", LAMP, "ItemFees", "Commission", "1.50", day, adjustment="AD-2"),
        ],
        ended_days_ago=1,
    )


def deposit_day(settlement: Settlement) -> date:
    assert settlement.deposit_date is not None
    return settlement.deposit_date.astimezone(UTC).date()


def invoices(link: Link) -> dict[str, Invoice]:
    found = Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id, type="ACCREC")
    return {i.reference: i for i in found}


def documents_in_xero(link: Link) -> dict[str, int]:
    tenant = link.xero_tenant.tenant_id
    return {
        **xero_documents(link),
        "allocations": Allocation.objects.filter(credit_note__org__tenant_id=tenant).count(),
    }


def test_a_refund_in_its_orders_settlement_is_allocated_to_the_invoice(sandbox_url: str) -> None:
    link = xero_link(sandbox_url)
    orders_posted(link)
    settlement = first_settlement(link)
    sid = settlement.settlement_id
    assert settlement.total_amount == Decimal("22.10")

    note_row = LedgerEntry.objects.get(link=link, kind="credit_note", amazon_id=MUG)
    assert note_row.part == f"{sid}:refund:AD-1" and note_row.total == Decimal("10.00")
    invoice_row = AmazonOrder.objects.get(link=link, amazon_order_id=MUG).invoice_entry
    allocation_row = LedgerEntry.objects.get(link=link, kind="allocation")
    assert (allocation_row.amazon_id, allocation_row.part) == (MUG, note_row.part)
    assert allocation_row.parent_id == note_row.pk and allocation_row.target == invoice_row
    assert allocation_row.total == Decimal("10.00")
    assert allocation_row.payload == {
        "Amount": "10.00",
        "Date": deposit_day(settlement).isoformat(),
    }
    # The mug's payment is the net; its refund needs no refund payment.
    paid = {
        e.amazon_id: e.total
        for e in LedgerEntry.objects.filter(link=link, kind="payment", part=f"{sid}:paid")
    }
    assert paid == {MUG: Decimal("14.00"), LAMP: Decimal("12.00")}
    assert not LedgerEntry.objects.filter(link=link, kind="payment", part=note_row.part).exists()

    # The allocation waits for its credit note, whatever order the pushes run in.
    assert push_batch(link_id=link.pk, kind="allocation").sent == 0
    _push_all(link)

    statuses = set(LedgerEntry.objects.filter(link=link).values_list("status", flat=True))
    assert statuses == {"posted"}
    mug = invoices(link)[MUG]
    assert (mug.status, mug.amount_due, mug.amount_paid, mug.amount_credited) == (
        "PAID",
        Decimal("0.00"),
        Decimal("14.00"),
        Decimal("10.00"),
    )
    note = CreditNote.objects.get(credit_note_id=LedgerEntry.objects.get(pk=note_row.pk).xero_id)
    assert (note.status, note.remaining_credit, note.total) == (
        "PAID",
        Decimal("0.00"),
        Decimal("10.00"),
    )
    assert not note.payments.exists()
    allocation = Allocation.objects.get(credit_note=note)
    allocation_row.refresh_from_db()
    assert allocation_row.xero_id == allocation.allocation_id
    assert (allocation.invoice, allocation.amount, allocation.is_deleted) == (
        mug,
        Decimal("10.00"),
        False,
    )
    assert allocation.date == deposit_day(settlement)
    payment = Payment.objects.get(invoice=mug, status="AUTHORISED")
    assert (payment.amount, payment.account.code) == (Decimal("14.00"), "615")
    lamp = invoices(link)[LAMP]
    assert (lamp.status, lamp.amount_paid, lamp.amount_credited) == (
        "PAID",
        Decimal("12.00"),
        Decimal("0.00"),
    )
    # The clearing account holds the deposit: 14.00 + 12.00 for the orders, -3.90 of fees.
    assert _clearing(link, settlement) == settlement.total_amount == Decimal("22.10")
    assert clearing_balance(link, sid) == settlement.total_amount
    assert Attempt.objects.filter(entry=allocation_row, outcome="posted").count() == 1

    # Building and pushing again makes nothing new, here or in Xero.
    rows = LedgerEntry.objects.filter(link=link).count()
    documents = documents_in_xero(link)
    settlement_build(settlement, now=timezone.now() + timedelta(days=10))
    _push_all(link)
    assert LedgerEntry.objects.filter(link=link).count() == rows
    assert documents_in_xero(link) == documents


def test_a_refund_of_an_order_paid_by_an_earlier_settlement_is_refunded_by_a_payment(
    sandbox_url: str,
) -> None:
    link = xero_link(sandbox_url)
    orders_posted(link)
    first_settlement(link)
    _push_all(link)
    assert invoices(link)[LAMP].status == "PAID"

    settlement = second_settlement(link)
    sid = settlement.settlement_id
    _push_all(link)

    assert not LedgerEntry.objects.filter(
        link=link, kind="allocation", part__startswith=f"{sid}:"
    ).exists()
    note_row = LedgerEntry.objects.get(link=link, kind="credit_note", part=f"{sid}:refund:AD-2")
    refund_row = LedgerEntry.objects.get(link=link, kind="payment", part=note_row.part)
    assert refund_row.parent_id == note_row.pk and refund_row.total == Decimal("12.00")
    assert refund_row.status == "posted"
    note = CreditNote.objects.get(credit_note_id=note_row.xero_id)
    refund = Payment.objects.get(credit_note=note, status="AUTHORISED")
    assert (refund.amount, refund.account.code) == (Decimal("12.00"), "615")
    assert (note.status, note.remaining_credit) == ("PAID", Decimal("0.00"))
    assert not note.allocations.exists()
    lamp = invoices(link)[LAMP]
    assert (lamp.status, lamp.amount_paid, lamp.amount_credited) == (
        "PAID",
        Decimal("12.00"),
        Decimal("0.00"),
    )
    assert invoices(link)[THROW].status == "PAID"
    # 30.00 for the throw - 12.00 refunded + 1.50 - 4.50 of fees.
    assert settlement.total_amount == Decimal("15.00")
    assert _clearing(link, settlement) == settlement.total_amount


def test_an_allocation_whose_answer_was_lost_is_found_in_xero_not_sent_again(
    sandbox_url: str,
) -> None:
    link = xero_link(sandbox_url)
    orders_posted(link)
    first_settlement(link)
    for kind in ("invoice", "bill", "credit_note", "payment"):
        drain(link, kind)
    row_ = LedgerEntry.objects.select_related("parent", "target").get(link=link, kind="allocation")
    # The call went through but its answer was lost (the worker died waiting for it).
    made = XeroAccounting(link.xero_tenant).allocate(
        str(row_.parent.xero_id),
        {**row_.payload, "Invoice": {"InvoiceID": str(row_.target.xero_id)}},
        idempotency_key="lost-answer",
    )
    LedgerEntry.objects.filter(pk=row_.pk).update(status="sending", claimed_at=None, attempts=1)

    outcome = push_batch(link_id=link.pk, kind="allocation")

    assert (outcome.posted, outcome.sent) == (1, 0)
    row_.refresh_from_db()
    assert row_.status == "posted" and str(row_.xero_id) == made["AllocationID"]
    assert list(Attempt.objects.filter(entry=row_).values_list("outcome", flat=True)) == [
        "stale",
        "resolved",
    ]
    live = Allocation.objects.filter(credit_note__credit_note_id=row_.parent.xero_id)
    assert live.count() == 1 and invoices(link)[MUG].amount_credited == Decimal("10.00")


def test_rolling_back_the_settlement_deletes_the_allocation_before_voiding_the_credit_note(
    sandbox_url: str,
) -> None:
    link = xero_link(sandbox_url)
    orders_posted(link)
    settlement = first_settlement(link)
    sid = settlement.settlement_id
    _push_all(link)
    allocation_row = LedgerEntry.objects.get(link=link, kind="allocation")
    allocation = Allocation.objects.get(allocation_id=allocation_row.xero_id)

    # The settlement's family, as its "Roll back" button gathers it.
    family = list(
        LedgerEntry.objects.filter(link=link, status="posted").filter(
            Q(amazon_id=sid) | Q(part__startswith=f"{sid}:")
        )
    )
    assert {e.kind for e in family} == {"payment", "credit_note", "allocation", "bill"}
    outcome = rollback_entries(family)

    assert (outcome.refused, outcome.remaining, outcome.errors) == (0, 0, [])
    assert outcome.voided == len(family)
    allocation.refresh_from_db()
    assert allocation.is_deleted
    note = CreditNote.objects.get(credit_note_id=allocation_row.parent.xero_id)
    assert note.status == "VOIDED"
    mug = invoices(link)[MUG]
    assert (mug.status, mug.amount_due, mug.amount_credited, mug.amount_paid) == (
        "AUTHORISED",
        Decimal("24.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert set(
        LedgerEntry.objects.filter(pk__in=[e.pk for e in family]).values_list("status", flat=True)
    ) == {"voided"}
    assert Attempt.objects.filter(entry=allocation_row, outcome="voided").exists()

    # Posted again after the rollback: a new credit note, allocated again.
    settlement_build(settlement, now=timezone.now() + timedelta(days=10))
    _push_all(link)
    allocation_row.refresh_from_db()
    assert allocation_row.status == "posted" and allocation_row.xero_id != allocation.allocation_id
    again = Allocation.objects.get(allocation_id=allocation_row.xero_id)
    assert again.credit_note.number.endswith("-R1") and again.credit_note.status == "PAID"
    mug.refresh_from_db()
    assert (mug.status, mug.amount_paid, mug.amount_credited) == (
        "PAID",
        Decimal("14.00"),
        Decimal("10.00"),
    )
    assert _clearing(link, settlement) == settlement.total_amount


def _refund_payment(link: Link, note_row: LedgerEntry, amount: str) -> LedgerEntry:
    """The refund paid from the clearing account, as builds before allocations made it."""
    reference = f"Amazon settlement {note_row.part.split(':')[0]} refund {MUG} AD-1"
    return ledger_upsert(
        link=link,
        kind="payment",
        amazon_id=MUG,
        part=note_row.part,
        parent=note_row,
        payload=transform.payment(
            amount=Decimal(amount),
            day=timezone.now().date(),
            clearing_account="615",
            reference=reference,
        ),
        total=Decimal(amount),
        currency="GBP",
        lookup_reference=reference,
    ).entry


def test_an_unsent_refund_payment_of_an_earlier_build_gives_way_to_the_allocation(
    sandbox_url: str,
) -> None:
    link = xero_link(sandbox_url)
    orders_posted(link)
    settlement = first_settlement(link)
    note_row = LedgerEntry.objects.get(link=link, kind="credit_note", amazon_id=MUG)
    leftover = _refund_payment(link, note_row, "10.00")

    settlement_build(settlement, now=timezone.now() + timedelta(days=10))
    _push_all(link)

    assert not LedgerEntry.objects.filter(pk=leftover.pk).exists()
    note = CreditNote.objects.get(credit_note_id=LedgerEntry.objects.get(pk=note_row.pk).xero_id)
    assert not note.payments.exists() and note.allocations.get().amount == Decimal("10.00")
    assert _clearing(link, settlement) == settlement.total_amount


def test_a_refund_already_paid_from_the_clearing_account_is_never_allocated_too(
    sandbox_url: str,
) -> None:
    link = xero_link(sandbox_url)
    orders_posted(link)
    settlement = first_settlement(link)
    sid = settlement.settlement_id
    # Posted as builds before allocations posted it: the gross paid, the refund paid back.
    LedgerEntry.objects.filter(link=link, kind="allocation").delete()
    note_row = LedgerEntry.objects.get(link=link, kind="credit_note", amazon_id=MUG)
    _refund_payment(link, note_row, "10.00")
    paid = LedgerEntry.objects.get(link=link, kind="payment", amazon_id=MUG, part=f"{sid}:paid")
    LedgerEntry.objects.filter(pk=paid.pk).update(
        total=Decimal("24.00"), payload={**paid.payload, "Amount": "24.00"}
    )
    _push_all(link)
    assert invoices(link)[MUG].amount_paid == Decimal("24.00")
    rows = LedgerEntry.objects.filter(link=link).count()
    documents = documents_in_xero(link)

    settlement_build(settlement, now=timezone.now() + timedelta(days=10))
    _push_all(link)

    assert not LedgerEntry.objects.filter(link=link, kind="allocation").exists()
    assert LedgerEntry.objects.filter(link=link).count() == rows
    assert documents_in_xero(link) == documents
    assert _clearing(link, settlement) == settlement.total_amount

"""Per-order accounting end to end against the sandbox: orders → invoices, settlements →
payments, refunds → credit notes, fees → one bill; the clearing account holds the deposit."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from mappings.services import mapping_store
from orders import pull
from orders.models import AccountingMode, AmazonOrder, OrderSettings
from orders.services import mode_save, orders_build
from sandbox.xero.models import CreditNote, Invoice, Payment
from settlements import pull as settlement_pull
from settlements.models import Settlement
from settlements.services import settlements_build_due
from sync.models import LedgerEntry
from tests.engine_support import drain
from tests.orders.support import buyer_paid, per_order_link, run_to_end, sandbox_orders
from tests.sandbox.amazon_support import EU_SELLER, NA_SELLER
from tests.settlements.support import mapping, us_mapping

KINDS = ("invoice", "bill", "credit_note", "payment", "allocation")


def _settlements_pulled(link) -> None:
    run = settlement_pull.pull_start(link=link)
    step = int(run.checkpoint["step"])
    end = time.monotonic() + 120
    while time.monotonic() < end:
        outcome = settlement_pull.pull_step(run_id=run.pk, step=step)
        if not outcome.more:
            return
        step = outcome.step
        time.sleep(min(outcome.wait, 2.0))
    raise AssertionError("the settlement pull did not finish")


def _push_all(link) -> None:
    for _ in range(3):  # payments wait for their invoices and credit notes
        for kind in KINDS:
            drain(link, kind)


def _orders_and_settlements(link) -> None:
    run = run_to_end(pull.orders_pull_start(link))
    assert run.status == "done", run.error
    _push_all(link)
    _settlements_pulled(link)
    for _ in range(4):  # a settlement waiting for orders asks for them, then builds
        held = Settlement.objects.filter(link=link, held_reason__startswith="Waiting for its")
        if not held.exists():
            break
        fetch = pull._active(link)
        if fetch is not None:
            run_to_end(fetch)
        _push_all(link)
        settlements_build_due(link)
    _push_all(link)


def _xero(link, model):
    return model.objects.filter(org__tenant_id=link.xero_tenant.tenant_id).exclude(
        status__in=["VOIDED", "DELETED"]
    )


def _clearing(link, settlement: Settlement) -> Decimal:
    """What the settlement's payments moved through the clearing account in sandbox Xero."""
    sid = settlement.settlement_id
    total = Decimal("0.00")
    for payment in Payment.objects.filter(
        invoice__org__tenant_id=link.xero_tenant.tenant_id, status="AUTHORISED"
    ).select_related("invoice", "account"):
        if payment.reference.startswith((f"Amazon settlement {sid} ", f"Amazon deposit {sid}")):
            assert payment.account.code == link.mapping_settings.clearing_account
            total += payment.amount if payment.invoice.type == "ACCREC" else -payment.amount
    for payment in Payment.objects.filter(
        credit_note__org__tenant_id=link.xero_tenant.tenant_id, status="AUTHORISED"
    ).select_related("account"):
        if payment.reference.startswith(f"Amazon settlement {sid} refund "):
            assert payment.account.code == link.mapping_settings.clearing_account
            total -= payment.amount
    return total


def _check(link, seller: str, *, inclusive: bool) -> None:
    theirs = sandbox_orders(seller)
    ours = {o.amazon_order_id: o for o in AmazonOrder.objects.filter(link=link)}
    invoices = {i.reference: i for i in _xero(link, Invoice).filter(type="ACCREC")}
    since = OrderSettings.objects.get(link=link).per_order_since
    checked = 0
    for oid, order in ours.items():
        if order.purchase_date < since:
            continue
        if order.status == "Shipped":
            invoice = invoices[oid]
            amazon = theirs[oid]
            paid = buyer_paid(amazon.items, tax_inclusive=inclusive)
            assert invoice.total == paid == order.order_total, oid
            assert invoice.line_amount_types == ("Inclusive" if inclusive else "Exclusive")
            assert invoice.number.endswith(oid)
            assert order.difference is None and order.check_note == ""
            checked += 1
        elif order.status == "Canceled":
            assert oid not in invoices
    assert checked > 10

    per_order = [
        s
        for s in Settlement.objects.filter(link=link, end__gt=since, state="built")
        if s.deposit_date is not None
    ]
    assert per_order, "no settlement was built per order"
    for settlement in per_order:
        assert _clearing(link, settlement) == settlement.total_amount, settlement.settlement_id
    # Every order a per-order settlement paid reads paid in Xero.
    paid_ids = set(
        LedgerEntry.objects.filter(link=link, kind="payment", part__endswith=":paid").values_list(
            "amazon_id", flat=True
        )
    )
    assert paid_ids
    for oid in paid_ids:
        invoice = invoices[oid]
        assert invoice.amount_due == 0 and invoice.status == "PAID", oid


def test_uk_and_de_orders_post_vat_inclusive_and_settle_to_the_deposit(sandbox_url: str) -> None:
    link = per_order_link(sandbox_url, seller=EU_SELLER, orders=160)
    mapping_store(link, mapping())
    OrderSettings.objects.filter(link=link).update(
        per_order_since=timezone.now() - timedelta(days=45)
    )
    _orders_and_settlements(link)
    _check(link, EU_SELLER, inclusive=True)
    refunds = _xero(link, CreditNote)
    assert refunds.exists()
    for note in refunds:
        assert note.status == "PAID" and note.line_amount_types == "Inclusive"

    # Re-import creates nothing.
    before = LedgerEntry.objects.filter(link=link).count()
    counted = {m.__name__: _xero(link, m).count() for m in (Invoice, CreditNote)}
    orders_build(link)
    for settlement in Settlement.objects.filter(link=link):
        from settlements.services import settlement_build

        settlement_build(settlement)
    _push_all(link)
    assert LedgerEntry.objects.filter(link=link).count() == before
    assert {m.__name__: _xero(link, m).count() for m in (Invoice, CreditNote)} == counted


def test_us_orders_carry_facilitator_tax_that_nets_to_zero(sandbox_url: str) -> None:
    link = per_order_link(sandbox_url, seller=NA_SELLER, orders=120)
    mapping_store(link, us_mapping())
    OrderSettings.objects.filter(link=link).update(
        per_order_since=timezone.now() - timedelta(days=45)
    )
    _orders_and_settlements(link)
    _check(link, NA_SELLER, inclusive=False)
    facilitator = link.category_mappings.get(category_key="seller:tax:facilitator").account_code

    def on_facilitator(doc) -> Decimal:
        return sum(
            (
                Decimal(str(line["LineAmount"]))
                for line in doc.data.get("LineItems", [])
                if line.get("AccountCode") == facilitator
            ),
            Decimal("0.00"),
        )

    settled = [
        s
        for s in Settlement.objects.filter(link=link, state="built")
        if s.end > OrderSettings.objects.get(link=link).per_order_since
    ]
    assert settled
    for settlement in settled:
        sid = settlement.settlement_id
        # The settlement's orders: paid by it, or (a refund as large as the sale) paid by their
        # refund's allocation alone.
        paid = LedgerEntry.objects.filter(link=link, kind="payment", part=f"{sid}:paid")
        allocated = LedgerEntry.objects.filter(
            link=link, kind="allocation", part__startswith=f"{sid}:refund:"
        )
        orders = sorted(
            set(paid.values_list("amazon_id", flat=True))
            | set(allocated.values_list("amazon_id", flat=True))
        )
        invoices = _xero(link, Invoice).filter(type="ACCREC", reference__in=orders)
        collected = sum((on_facilitator(i) for i in invoices), Decimal("0.00"))
        refunded = sum(
            (
                on_facilitator(n)
                for n in _xero(link, CreditNote).filter(
                    credit_note_id__in=LedgerEntry.objects.filter(
                        link=link, kind="credit_note", part__startswith=f"{sid}:refund:"
                    ).values_list("xero_id", flat=True)
                )
            ),
            Decimal("0.00"),
        )
        own = _xero(link, Invoice).filter(number=f"AMZ-{sid}")
        withheld = sum(
            ((1 if d.type == "ACCREC" else -1) * on_facilitator(d) for d in own),
            Decimal("0.00"),
        )
        assert collected > 0
        assert collected - refunded + withheld == 0, sid


def test_switched_back_to_summaries_orders_already_invoiced_are_paid_not_counted_twice(
    sandbox_url: str,
) -> None:
    link = per_order_link(sandbox_url, seller=EU_SELLER, orders=160)
    mapping_store(link, mapping())
    since = timezone.now() - timedelta(days=45)
    OrderSettings.objects.filter(link=link).update(per_order_since=since)
    run = run_to_end(pull.orders_pull_start(link))
    assert run.status == "done", run.error
    # The latest orders were not read yet when the user switched back to summaries.
    late = AmazonOrder.objects.filter(
        link=link, purchase_date__gte=timezone.now() - timedelta(days=10)
    )
    assert late.exists()
    LedgerEntry.objects.filter(
        link=link, kind="invoice", amazon_id__in=late.values("amazon_order_id")
    ).delete()
    late.delete()
    _push_all(link)
    invoiced = set(
        AmazonOrder.objects.filter(link=link, invoice_entry__status="posted").values_list(
            "amazon_order_id", flat=True
        )
    )
    assert invoiced
    mode_save(link, mode=AccountingMode.SUMMARY)

    _settlements_pulled(link)
    _push_all(link)
    assert not Settlement.objects.filter(link=link, held_reason__startswith="Waiting for its")
    built = [
        s
        for s in Settlement.objects.filter(link=link, end__gt=since, state="built")
        if s.deposit_date is not None
    ]
    assert built
    for settlement in built:
        # Each order invoiced per order is paid; everything else is on the settlement's own
        # document; together they move the clearing account by exactly the deposit.
        assert _clearing(link, settlement) == settlement.total_amount, settlement.settlement_id
    paid = set(
        LedgerEntry.objects.filter(link=link, kind="payment", part__endswith=":paid").values_list(
            "amazon_id", flat=True
        )
    )
    assert paid and paid <= invoiced
    invoices = {i.reference: i for i in _xero(link, Invoice).filter(type="ACCREC")}
    for oid in paid:
        assert invoices[oid].status == "PAID", oid

"""Reading Amazon Business: pages and checkpoints, the shared rate limit, changed transactions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors import limits
from connectors.amazon_business.client import (
    LimiterBusy,
    invoice_payments_get,
    transactions_get,
)
from purchases import pull
from purchases.models import PurchaseTransaction
from purchases.services import import_preview_start, run_advance
from sandbox.business.models import Invoice, Transaction
from sandbox.state import sandbox_configure
from sync.models import EntryStatus, LedgerEntry, RunStatus
from tests.purchases.support import business_link, drive, seed

pytestmark = pytest.mark.usefixtures("queue")


def test_pages_are_read_one_per_step_with_a_checkpoint_and_split_payments_joined(
    sandbox_url,
) -> None:
    seed(sandbox_url, days=90, purchases=160)  # more than one page of 100
    link = business_link(sandbox_url)
    now = timezone.now()
    run = import_preview_start(link=link, start=now - timedelta(days=91), end=now)
    first = run_advance(run_id=run.pk, step=0)
    run.refresh_from_db()
    assert first.more and first.step == 1
    assert run.pulled == 100 and run.checkpoint["token"] and run.checkpoint["pages"] == 1
    assert run.checkpoint["phase"] == "transactions"
    # A duplicate of the step just taken (a redelivered task) does nothing.
    assert run_advance(run_id=run.pk, step=0).note == "already taken"
    run.refresh_from_db()
    assert run.pulled == 100
    drive(run)
    run.refresh_from_db()
    total = Transaction.objects.count()
    assert total > 100
    assert (
        run.status == RunStatus.DONE
        and run.pulled == total
        and run.checkpoint["pages"] == -(-total // 100)
    )
    assert PurchaseTransaction.objects.filter(link=link).count() == total
    split = PurchaseTransaction.objects.filter(link=link).exclude(split_group="")
    assert split.exists()
    for row in split:
        ids = row.split_group.split("+")
        assert row.transaction_id in ids and len(ids) >= 2
        assert PurchaseTransaction.objects.filter(
            link=link, split_group=row.split_group
        ).count() == len(ids)


def test_no_call_leaves_without_a_token_from_the_accounts_limiter(sandbox_url) -> None:
    seed(sandbox_url, days=5, purchases=3)
    link = business_link(sandbox_url)
    account = link.business_account
    for _ in range(12):  # spend the burst of 10 (and then some)
        limits.business_wait(account.pk)
    now = timezone.now()
    with pytest.raises(LimiterBusy) as busy:
        transactions_get(account, feed_start=now - timedelta(days=6), feed_end=now)
    assert 0 < busy.value.decision.wait <= 1.5
    # In a run, the step is not taken: it is to be tried again after the limiter's wait.
    run = import_preview_start(link=link, start=now - timedelta(days=6), end=now)
    for _ in range(12):
        limits.business_wait(account.pk)
    outcome = run_advance(run_id=run.pk, step=0)
    assert outcome.more and outcome.step == 0 and outcome.wait >= 1.0
    run.refresh_from_db()
    assert run.pulled == 0 and "rate limit" in run.checkpoint["note"]
    assert drive(run).status == RunStatus.DONE


def test_amazons_throttling_and_errors_reach_the_run_in_amazons_words(sandbox_url) -> None:
    seed(sandbox_url, days=5, purchases=3)
    link = business_link(sandbox_url)
    account = link.business_account
    now = timezone.now()
    sandbox_configure(fault_5xx_rate=1.0)
    run = import_preview_start(link=link, start=now - timedelta(days=6), end=now)
    outcome = run_advance(run_id=run.pk, step=0)
    assert outcome.more and outcome.step == 0  # a server error: the same step, later
    sandbox_configure(fault_5xx_rate=0.0)
    assert drive(run).status == RunStatus.DONE
    # More than Amazon takes is refused before any call; an unknown invoice is Amazon's words.
    with pytest.raises(ValueError):
        invoice_payments_get(account, [f"X{n}" for n in range(26)])
    results = invoice_payments_get(account, ["NOPE-1"])
    assert results[0].error == "Invoice not found." and results[0].status == ""
    known = Invoice.objects.first()
    if known is not None:
        (found,) = invoice_payments_get(account, [known.invoice_id])
        assert found.due_date is not None and found.status in (
            "Closed",
            "Issued",
            "Past Due",
            "Payment Processing",
        )


def test_a_transaction_amazon_changes_after_posting_is_flagged(sandbox_url) -> None:
    seed(sandbox_url, days=5, purchases=3)
    link = business_link(sandbox_url)
    now = timezone.now()
    run = drive(import_preview_start(link=link, start=now - timedelta(days=6), end=now))
    row = PurchaseTransaction.objects.filter(link=link).first()
    entry = LedgerEntry.objects.create(
        link=link,
        kind="bank_transaction",
        amazon_id=row.transaction_id,
        payload={},
        status=EntryStatus.POSTED,
    )
    PurchaseTransaction.objects.filter(pk=row.pk).update(entry=entry)
    changed = dict(row.data, amount={"currencyCode": "USD", "amount": "1.23"})
    pull.transactions_store(link=link, transactions=[changed], run=run)
    row.refresh_from_db()
    assert row.changed_after_post and str(row.amount) == "1.23"
    # Unchanged data changes nothing.
    other = PurchaseTransaction.objects.filter(link=link).exclude(pk=row.pk).first()
    stored = pull.transactions_store(link=link, transactions=[other.data], run=run)
    assert (stored.new, stored.changed, stored.unchanged) == (0, 0, 1)

"""The sandbox buyer's data: the seed, invoice payments over time, the purchase controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from sandbox.amazon.models import LwaApp, LwaAuthCode
from sandbox.business.models import (
    PAYMENT_PROCESSING,
    Authorization,
    BusinessAccount,
    BusinessUser,
    Invoice,
    PaymentMethod,
    Transaction,
)
from sandbox.business.seed import ACCOUNT_ID, ACCOUNT_NAME, seed_business
from sandbox.business.services import (
    NotAllowed,
    account_create,
    authorization_grant,
    card_add,
    invoice_mark_paid,
    purchase_add,
)
from sandbox.datagen.business import BuyerSpec, generate_buyer

pytestmark = pytest.mark.django_db


def _summary_counts(account: BusinessAccount) -> tuple[int, int, int, int]:
    return (
        account.transactions.count(),
        account.invoices.count(),
        account.users.count(),
        account.payment_methods.count(),
    )


def test_seed_is_idempotent_and_ends_today() -> None:
    first = seed_business(site_url="https://hub.example", seed=1, days=90, purchases=120)
    account = BusinessAccount.objects.get(account_id=ACCOUNT_ID)
    counts = _summary_counts(account)
    assert first.startswith(f"Amazon Business: {ACCOUNT_NAME} ({ACCOUNT_ID}) created: ")
    assert f"{counts[0]} transactions, {counts[1]} Pay by Invoice invoices" in first

    again = seed_business(site_url="https://hub.example", seed=1, days=90, purchases=120)
    assert "already there" in again
    assert BusinessAccount.objects.count() == 1
    assert _summary_counts(account) == counts

    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    latest = account.transactions.order_by("-feed_date").first()
    earliest = account.transactions.order_by("transaction_date").first()
    assert latest is not None and earliest is not None
    assert latest.feed_date <= today
    assert earliest.transaction_date >= today - timedelta(days=90)
    admin = account.users.get(role=BusinessUser.Role.ADMIN)
    assert admin.email in again
    assert account.users.filter(role=BusinessUser.Role.REQUISITIONER).exists()


def test_seeded_data_is_the_generators_for_that_day_and_seed() -> None:
    seed_business(site_url="https://hub.example", seed=4, days=30, purchases=40)
    account = BusinessAccount.objects.get(account_id=ACCOUNT_ID)
    today = timezone.now().date()
    dataset = generate_buyer(
        BuyerSpec(seed=4, start=today - timedelta(days=30), days=30, purchases=40)
    )
    stored = list(account.transactions.order_by("feed_date", "id").values_list("data", flat=True))
    assert stored == dataset.transactions
    row = account.transactions.order_by("id").first()
    assert row is not None
    assert row.amount == Decimal(row.data["amount"]["amount"])
    assert row.last4 == row.data.get("paymentInstrumentLast4Digits", "")
    assert row.order_id == row.data["transactionLineItems"][0]["orderId"]
    statuses = {i.invoice_id: i.status for i in dataset.invoice_payments}
    as_of = dataset.now
    assert {i.invoice_id: i.status_at(as_of) for i in account.invoices.all()} == statuses


def test_invoice_status_moves_with_the_clock() -> None:
    t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
    invoice = Invoice(
        invoice_id="US1",
        currency="USD",
        amount=Decimal("10.00"),
        issued_at=t0,
        due_date=t0 + timedelta(days=30),
    )
    assert invoice.status_at(t0 + timedelta(days=1)) == "Issued"
    assert invoice.status_at(t0 + timedelta(days=31)) == "Past Due"
    invoice.paid_at = t0 + timedelta(days=32)
    invoice.closed_at = invoice.paid_at + PAYMENT_PROCESSING
    assert invoice.status_at(t0 + timedelta(days=31)) == "Past Due"
    assert invoice.status_at(t0 + timedelta(days=33)) == "Payment Processing"
    assert invoice.status_at(t0 + timedelta(days=35)) == "Closed"


def _fresh_account(purchases: int = 20) -> BusinessAccount:
    start = timezone.now().date() - timedelta(days=20)
    return account_create(
        account_id="amzn1.abws.account.T",
        name="T",
        dataset=generate_buyer(BuyerSpec(seed=2, start=start, days=20, purchases=purchases)),
        seed=2,
    )


def test_paying_an_invoice_twice_changes_nothing() -> None:
    account = _fresh_account()
    row = purchase_add(account=account, method=account.payment_methods.get(key="pay-by-invoice"))
    invoice = Invoice.objects.get(invoice_id=row.invoice_number)
    assert invoice.status_at(timezone.now()) == "Issued"
    paid_at = timezone.now()
    invoice_mark_paid(invoice=invoice, at=paid_at)
    invoice_mark_paid(invoice=invoice, at=paid_at + timedelta(days=3))
    invoice.refresh_from_db()
    assert (invoice.paid_at, invoice.closed_at) == (paid_at, paid_at)
    assert invoice.status_at(timezone.now()) == "Closed"


def test_cards_are_checked() -> None:
    account = _fresh_account()
    with pytest.raises(ValueError, match="already has a card ending 1111"):
        card_add(account=account, last4="1111")
    with pytest.raises(ValueError, match="four digits"):
        card_add(account=account, last4="12a4")
    with pytest.raises(ValueError, match="card type must be one of"):
        card_add(account=account, card_type="Diners")
    picked = card_add(account=account)
    assert len(picked.last4) == 4 and picked.last4.isdigit()
    assert picked.last4 not in {"1111", "5454", "0005", "4242"}
    assert picked.key == f"card-{picked.last4}"


def test_a_purchase_without_earlier_purchases_still_has_a_product() -> None:
    account = _fresh_account(purchases=0)
    assert not account.transactions.exists()
    BusinessUser.objects.create(
        account=account, user_id="amzn1.account.X", name="X", email="x@example.com", role="admin"
    )
    method = PaymentMethod.objects.get(account=account, key="card-5454")
    row = purchase_add(account=account, method=method, lines=2)
    item = row.data["transactionLineItems"][0]
    assert item["productTitle"] == "Copy Paper, Letter, 5 Reams"
    assert row.amount == sum(
        Decimal(i["totalAmount"]["amount"]) for i in row.data["transactionLineItems"]
    )
    # Tax on the line is rounded half up to the cent from the rate.
    principal = Decimal(item["principalAmount"]["amount"])
    assert Decimal(item["tax"]["amount"]) == (principal * Decimal("0.0825")).quantize(
        Decimal("0.01")
    )
    with pytest.raises(ValueError, match="1 to 10 lines"):
        purchase_add(account=account, method=method, lines=11)
    assert Transaction.objects.filter(account=account).count() == 1


def test_only_an_administrator_may_grant_and_only_a_business_app() -> None:
    account = _fresh_account()
    app = LwaApp.objects.create(
        kind=LwaApp.Kind.SELLER,
        application_id="amzn1.sp.solution.s",
        client_id="c",
        client_secret="s",
        name="Seller",
        redirect_uris=["https://x.example/cb"],
    )
    buyer = account.users.filter(role=BusinessUser.Role.REQUISITIONER).first()
    admin = account.users.get(role=BusinessUser.Role.ADMIN)
    assert buyer is not None
    with pytest.raises(NotAllowed):
        authorization_grant(user=buyer, app=app, redirect_uri="https://x.example/cb")
    with pytest.raises(ValueError, match="only Amazon Business applications"):
        authorization_grant(user=admin, app=app, redirect_uri="https://x.example/cb")
    assert not Authorization.objects.exists()
    assert not LwaAuthCode.objects.exists()

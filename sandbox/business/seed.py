"""The sandbox's Amazon Business buyer: one US business account and its purchases.

The hub's own Amazon Business app (LwaApp, kind "business") is registered by
``sandbox.amazon.seed``; this seed adds the buyer that authorizes it.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sandbox.business.models import BusinessAccount, BusinessUser
from sandbox.business.services import account_create
from sandbox.datagen.business import BuyerSpec, generate_buyer

ACCOUNT_ID = "amzn1.abws.account.SANDBOX1"
ACCOUNT_NAME = "Sandbox Business Buyer Inc."


def seed_business(
    *, site_url: str, seed: int = 1, days: int = 90, purchases: int = 120, **_: object
) -> str:
    """The buyer's purchases over ``days`` ending today (00:00 UTC); idempotent.

    The same seed on the same day gives the same data. An account seeded on an earlier day is
    kept as it is (re-seeding never duplicates or rewrites purchases).
    """
    existing = BusinessAccount.objects.filter(account_id=ACCOUNT_ID).first()
    if existing is None:
        today = timezone.now().date()  # UTC: USE_TZ with TIME_ZONE "UTC"
        dataset = generate_buyer(
            BuyerSpec(
                seed=seed,
                start=today - timedelta(days=days),
                days=days,
                purchases=purchases,
                region="US",
            )
        )
        account = account_create(
            account_id=ACCOUNT_ID, name=ACCOUNT_NAME, dataset=dataset, seed=seed
        )
        verb = "created"
    else:
        account, verb = existing, "already there"
    admin = account.users.filter(role=BusinessUser.Role.ADMIN).first()
    return (
        f"Amazon Business: {account.name} ({account.account_id}) {verb}: "
        f"{account.transactions.count()} transactions, {account.invoices.count()} Pay by "
        f"Invoice invoices, {account.users.count()} users (administrator: "
        f"{admin.email if admin else 'none'})"
    )

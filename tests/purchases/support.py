"""An Amazon Business link wired to the sandbox, and driving its runs from the test.

The Xero grant comes from the sandbox's identity server (as in tests/engine_support.py); the
Amazon Business token is what the hub gets when the sandbox's administrator authorises the
hub's app and the code is exchanged at the sandbox's Login with Amazon.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.conf import settings

from connectors.amazon_sp.auth import exchange_code
from connectors.models import AmazonBusinessAccount, Link
from hub.celery import app as celery_app
from hub.models import Customer
from mappings.categories_business import business_line_category
from mappings.resolve import MappingSet, Target
from mappings.services import mapping_store
from purchases.services import run_advance
from sandbox.amazon.models import LwaApp
from sandbox.amazon.seed import seed_apps
from sandbox.business.models import BusinessAccount, BusinessUser
from sandbox.business.seed import ACCOUNT_ID, seed_business
from sandbox.business.services import authorization_grant
from sandbox.xero.models import Organisation
from sync.models import EntryStatus, LedgerEntry, Run
from sync.push import push_batch
from tests.engine_support import hub_tenant, seed_xero

US_ORG = "Redwood Supply Co."
KINDS = ("bank_transaction", "bill", "credit_note", "payment")
CARD_ACCOUNTS = {
    "card:1111": "092",
    "card:5454": "090",
    "card:0005": "091",
    "other:giftcard": "090",
}


def seed(site_url: str, *, days: int = 90, purchases: int = 120) -> BusinessAccount:
    seed_xero(site_url)
    seed_apps(site_url=site_url)
    seed_business(site_url=site_url, days=days, purchases=purchases)
    return BusinessAccount.objects.get(account_id=ACCOUNT_ID)


def business_link(
    site_url: str, *, customer: Customer | None = None, org_name: str = US_ORG
) -> Link:
    """A workspace with the sandbox's US organisation and its Amazon Business buyer linked."""
    site = site_url.removesuffix("/sandbox")
    org = Organisation.objects.get(name=org_name)
    customer = customer or Customer.objects.create(name="Contoso Trading")
    tenant = hub_tenant(org=org, customer=customer, site_url=site)
    redirect = f"{site}/connect/business/callback"
    buyer = BusinessAccount.objects.get(account_id=ACCOUNT_ID)
    code = authorization_grant(
        user=buyer.users.get(role=BusinessUser.Role.ADMIN),
        app=LwaApp.objects.get(application_id=settings.AMAZON_BUSINESS_APP_ID),
        redirect_uri=redirect,
    )
    token = exchange_code(
        code=code,
        redirect=redirect,
        client_id=settings.AMAZON_BUSINESS_CLIENT_ID,
        client_secret=settings.AMAZON_BUSINESS_CLIENT_SECRET,
    )
    account = AmazonBusinessAccount.objects.create(
        customer=customer, name="Amazon Business US", region="na", token=token
    )
    return Link.objects.create(customer=customer, xero_tenant=tenant, business_account=account)


def map_everything(link: Link, *, except_methods: tuple[str, ...] = ("card:4242",)) -> MappingSet:
    """Redwood's chart: every category of the buyer's purchases, every card but the new one."""
    from sandbox.business.models import Transaction

    keys = {
        business_line_category(item).key
        for data in Transaction.objects.values_list("data", flat=True)
        for item in data.get("transactionLineItems", [])
    }
    accounts = ["648", "652", "660", "676", "628", "680"]
    targets = {
        key: Target(accounts[n % len(accounts)], "TAX002" if n % 2 == 0 else "NONE")
        for n, key in enumerate(sorted(keys))
    }
    methods = {k: v for k, v in CARD_ACCOUNTS.items() if k not in except_methods}
    methods.update({"invoice": MappingSet.BILL, "invoice-payment": "090"})
    mapping = MappingSet(targets=targets, payment_methods=methods, suspense_account="250")
    mapping_store(link, mapping)
    return mapping


def map_card(link: Link, key: str, account: str) -> None:
    from mappings.services import mapping_set_for

    current = mapping_set_for(link)
    mapping_store(
        link,
        MappingSet(
            targets=current.targets,
            payment_methods={**current.payment_methods, key: account},
            suspense_account=current.suspense_account,
        ),
    )


def drain_link(link: Link, *, deadline: float = 120.0) -> None:
    """Push every sendable row of the link (the test waits, never a worker)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        waits = []
        for kind in KINDS:
            if LedgerEntry.objects.filter(
                link=link, kind=kind, status=EntryStatus.PENDING
            ).exists():
                waits.append(push_batch(link_id=link.pk, kind=kind).wait)
        if not LedgerEntry.objects.filter(
            link=link, status__in=[EntryStatus.PENDING, EntryStatus.SENDING]
        ).exists():
            return
        time.sleep(min(max(waits or [0.2]), 3.0) or 0.05)
    raise AssertionError("the link's documents did not all post in time")


def drive(run: Run, *, deadline: float = 180.0) -> Run:
    """Take the run's steps here, as the task would, pushing as a worker would."""
    end = time.monotonic() + deadline
    step = int(run.checkpoint.get("step", 0))
    while time.monotonic() < end:
        outcome = run_advance(run_id=run.pk, step=step)
        for kind in KINDS:
            if LedgerEntry.objects.filter(
                link_id=run.link_id, kind=kind, status=EntryStatus.PENDING
            ).exists():
                push_batch(link_id=run.link_id, kind=kind)
        if not outcome.more:
            run.refresh_from_db()
            return run
        step = outcome.step
        if outcome.wait:
            print(f"run {run.pk} step {step} waits {outcome.wait:.1f}s: {outcome.note}")
            time.sleep(min(outcome.wait, 3.0))
    raise AssertionError(f"run {run.pk} did not finish: {Run.objects.get(pk=run.pk).checkpoint}")


@contextmanager
def own_queue() -> Iterator[str]:
    """Tasks this test queues go to a queue of its own (no other test's worker takes them)."""
    queue = f"purchases-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_default_queue = previous
        try:
            with celery_app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
        except Exception:  # nothing was queued, or no broker: nothing to purge
            pass


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))

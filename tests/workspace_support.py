"""A workspace with something on every page: for the crawl and the phone/keyboard tests.

Olivia owns it. Its Seller Central link (the sandbox's EU seller into Northwind Goods Ltd) has
imported the last 30 days of settlements, so the link page has its chart and documents, the
settlements list its rows and the import page its last import; a failed document waits in
"Needs attention". Its Amazon Business link (the sandbox's buyer into Redwood Supply Co.) is
mapped and has checked a range of purchases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from connectors.models import Link
from hub.models import Customer, Membership
from purchases.services import import_preview_start
from sandbox.state import sandbox_configure
from settlements import history
from sync.models import EntryStatus, LedgerEntry
from tests.purchases.support import business_link, drive, map_everything
from tests.purchases.support import seed as seed_business
from tests.settlements.conftest import SCALE
from tests.settlements.test_history import _connected
from tests.settlements.test_history import drive as drive_settlements


@dataclass(frozen=True)
class Workspace:
    customer: Customer
    seller: Link
    business: Link


@contextmanager
def fast_limits() -> Iterator[None]:
    """Provider minutes of one second, as the settlements tests use (the limiter's windows in
    Redis are shared by every test of the run for the same sandbox seller)."""
    sandbox_configure(time_scale=SCALE)
    with override_settings(RATE_LIMIT_TIME_SCALE=SCALE):
        yield


def seeded_workspace(sandbox_url: str, owner: User) -> Workspace:
    """Call it inside ``fast_limits()`` (with the ``sandbox_url`` fixture)."""
    seller = _connected(sandbox_url)
    customer = seller.customer
    Membership.objects.create(customer=customer, user=owner, role=Membership.Role.OWNER)
    today = timezone.now().date()
    start = datetime.combine(today - timedelta(days=30), time(), tzinfo=UTC)
    end = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    check = drive_settlements(history.check_start(link=seller, start=start, end=end))
    drive_settlements(history.import_start(link=seller, preview=check))
    LedgerEntry.objects.create(
        link=seller,
        kind="invoice",
        amazon_id="11893740521",
        status=EntryStatus.FAILED,
        payload={},
        total="12.34",
        currency="GBP",
        lookup_number="AMZ-11893740521",
        last_error=(
            "Account code '200' has been archived, or has been deleted. Each line item must "
            "reference a valid account."
        ),
    )

    seed_business(sandbox_url, days=20, purchases=12)
    business = business_link(sandbox_url, customer=customer)
    map_everything(business)
    drive(
        import_preview_start(
            link=business, start=start, end=datetime.now(UTC) - timedelta(minutes=5)
        )
    )
    return Workspace(customer=customer, seller=seller, business=business)

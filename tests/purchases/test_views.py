"""The purchases pages: outsiders see nothing, members look, owners import and manage."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.models import Link
from hub.models import Customer
from purchases.models import PurchaseSettings
from sandbox.business.models import PaymentMethod, Transaction
from sandbox.business.services import purchase_add
from sandbox.xero.models import BankTransaction
from sync.models import EntryStatus, LedgerEntry, Run, RunKind, RunStatus
from tests.conftest import client_for
from tests.purchases.support import (
    business_link,
    drain_link,
    drive,
    map_everything,
    seed,
)


def _urls(link: Link, run: Run) -> list[tuple[str, str]]:
    kwargs = {"code": link.customer.code, "link_id": link.pk}
    run_kwargs = {**kwargs, "run_id": run.pk}
    return [
        ("get", reverse("purchases", kwargs=kwargs)),
        ("get", reverse("purchases-import", kwargs=kwargs)),
        ("post", reverse("purchases-import", kwargs=kwargs)),
        ("get", reverse("purchases-run", kwargs=run_kwargs)),
        ("post", reverse("purchases-run-stop", kwargs=run_kwargs)),
        ("post", reverse("purchases-sync", kwargs=kwargs)),
        ("post", reverse("purchases-settings", kwargs=kwargs)),
        ("post", reverse("purchases-cost-centres", kwargs=kwargs)),
    ]


def _run(link: Link) -> Run:
    return Run.objects.create(
        link=link,
        kind=RunKind.BUSINESS,
        status=RunStatus.DONE,
        checkpoint={"mode": "preview", "phase": "summary", "step": 3, "summary": {}},
    )


def test_an_outsider_gets_404_on_every_purchases_url(offline_link, outsider, queue) -> None:
    run = _run(offline_link)
    client = client_for(outsider)
    for method, url in _urls(offline_link, run):
        response = getattr(client, method)(url, {"enabled": "on", "interval_minutes": "5"})
        assert response.status_code == 404, (method, url)
    assert not Run.objects.exclude(pk=run.pk).exists()
    assert not PurchaseSettings.objects.filter(sync_enabled=True).exists()


def test_another_workspaces_link_or_run_is_404_even_for_an_owner(
    offline_link, outsider, queue
) -> None:
    mine = Customer.objects.get(memberships__user=outsider)
    run = _run(offline_link)
    client = client_for(outsider)
    foreign = reverse("purchases", kwargs={"code": mine.code, "link_id": offline_link.pk})
    assert client.get(foreign).status_code == 404
    foreign_run = reverse(
        "purchases-run", kwargs={"code": mine.code, "link_id": offline_link.pk, "run_id": run.pk}
    )
    assert client.get(foreign_run).status_code == 404


def test_a_member_sees_the_pages_but_cannot_start_or_change_anything(
    offline_link, member, queue
) -> None:
    run = _run(offline_link)
    client = client_for(member)
    urls = _urls(offline_link, run)
    for method, url in urls:
        if method == "get":
            assert client.get(url).status_code == 200, url
        else:
            assert client.post(url, {"interval_minutes": "5"}).status_code == 404, url
    page = client.get(urls[1][1]).content.decode()
    assert "Only an owner of this workspace can import." in page
    assert Run.objects.count() == 1


def test_bad_input_says_what_to_do_and_starts_nothing(offline_link, owner, queue) -> None:
    client = client_for(owner)
    kwargs = {"code": offline_link.customer.code, "link_id": offline_link.pk}
    today = timezone.now().date()
    page = client.post(
        reverse("purchases-import", kwargs=kwargs),
        {"action": "check", "start": today.isoformat(), "end": (today - timedelta(days=3))},
    )
    assert page.status_code == 200
    assert "The first day must not be after the last day." in page.content.decode()
    page = client.post(
        reverse("purchases-import", kwargs=kwargs),
        {"action": "check", "start": (today - timedelta(days=900)).isoformat(), "end": today},
    )
    assert "Choose a first day within the last 730 days." in page.content.decode()
    assert not Run.objects.exists()
    page = client.post(
        reverse("purchases-settings", kwargs=kwargs), {"enabled": "on", "interval_minutes": "2"}
    )
    assert page.status_code == 400
    assert "Ensure this value is greater than or equal to 5." in page.content.decode()
    assert not PurchaseSettings.objects.filter(sync_interval_minutes=2).exists()
    # A preview that is not finished cannot be imported.
    preview = Run.objects.create(
        link=offline_link, kind=RunKind.BUSINESS, checkpoint={"mode": "preview", "step": 0}
    )
    response = client.post(
        reverse("purchases-import", kwargs=kwargs),
        {"action": "start", "preview": preview.pk},
        follow=True,
    )
    assert "The check of this date range has not finished yet." in response.content.decode()
    assert Run.objects.count() == 1


def test_the_import_page_checks_counts_imports_and_shows_what_waits(
    sandbox_url, customer, owner, queue
) -> None:
    seed(sandbox_url, days=30, purchases=40)
    link = business_link(sandbox_url, customer=customer)
    map_everything(link)
    client = client_for(owner)
    kwargs = {"code": customer.code, "link_id": link.pk}
    url = reverse("purchases-import", kwargs=kwargs)

    page = client.get(url).content.decode()
    today = timezone.now().date()
    assert f'value="{(today - timedelta(days=90)).isoformat()}"' in page  # the last 90 days
    assert f'value="{today.isoformat()}"' in page
    assert 'aria-current="step"' in page and "Import history" in page

    response = client.post(
        url, {"action": "check", "start": (today - timedelta(days=90)).isoformat(), "end": today}
    )
    assert response.status_code == 302
    preview = Run.objects.get(link=link)
    assert preview.checkpoint["mode"] == "preview"
    drive(preview)
    amazon = Transaction.objects.count()
    page = client.get(url).content.decode()
    assert re.search(
        rf"<strong>{amazon} purchases</strong>,\s+0 already posted, <strong>{amazon} new</strong>",
        page,
    ), page
    held_count = Transaction.objects.filter(last4="4242").count()
    assert f"{held_count} paid with Visa ending 4242" in page

    response = client.post(url, {"action": "start", "preview": preview.pk})
    assert response.status_code == 302
    run = Run.objects.get(link=link, checkpoint__mode="import")
    progress = client.get(reverse("purchases-run", kwargs={**kwargs, "run_id": run.pk})).json()
    assert progress["total"] == amazon and progress["finished"] is False
    drive(run)
    progress = client.get(reverse("purchases-run", kwargs={**kwargs, "run_id": run.pk})).json()
    assert progress["percent"] == 100 and progress["finished"] is True
    assert progress["held"] == held_count and progress["failed"] == 0
    assert PurchaseSettings.objects.get(link=link).sync_enabled  # the schedule starts now
    page = client.get(url).content.decode()
    assert "Last import" in page and 'value="100"' in page and "100 %" in page

    # The manage page and the dashboard say what waits and where to map it.
    mapping = reverse("mapping", kwargs=kwargs)
    overview = client.get(reverse("purchases", kwargs=kwargs)).content.decode()
    assert "Map the card ending 4242 to a Xero bank or credit-card account" in overview
    assert f'href="{mapping}#row-card4242">Map this card</a>' in overview
    assert "Created the supplier contact “Amazon Business” in Xero" in overview
    dashboard = client.get(reverse("workspace", kwargs={"code": customer.code})).content.decode()
    assert "Amazon Business purchases waiting for you" in dashboard
    assert f'href="{mapping}#row-card4242">Map this card</a>' in dashboard

    # Checking the same range again: everything already posted but the held card.
    client.post(url, {"action": "check", "start": (today - timedelta(days=90)), "end": today})
    drive(Run.objects.filter(link=link).order_by("-created_at").first())
    page = client.get(url).content.decode()
    assert re.search(
        rf"{amazon - held_count} already posted, <strong>{held_count} new</strong>", page
    ), page


def test_cost_centres_map_to_tracking_and_the_schedule_saves(
    sandbox_url, customer, owner, queue
) -> None:
    buyer = seed(sandbox_url, days=30, purchases=40)
    link = business_link(sandbox_url, customer=customer)
    map_everything(link)
    client = client_for(owner)
    kwargs = {"code": customer.code, "link_id": link.pk}
    from purchases.services import import_preview_start, import_start

    now = timezone.now()
    drive(
        import_start(
            link=link,
            preview=drive(import_preview_start(link=link, start=now - timedelta(days=31), end=now)),
        )
    )
    overview = client.get(reverse("purchases", kwargs=kwargs)).content.decode()
    assert "Cost centres → Xero tracking" in overview
    fields = dict(re.findall(r'<label for="id_(cc_\d+)">([^<]+):</label>', overview))
    assert set(fields.values()) >= {"CC-100", "CC-200", "CC-300"}
    option = re.search(r'<option value="(\d+)">Region: West</option>', overview).group(1)
    cc200 = next(name for name, label in fields.items() if label == "CC-200")
    response = client.post(reverse("purchases-cost-centres", kwargs=kwargs), {cc200: option})
    assert response.status_code == 302
    assert PurchaseSettings.objects.get(link=link).cost_centre_tracking == {
        "CC-200": [["Region", "West"]]
    }
    # A new purchase by the requisitioner with cost centre CC-200 carries the tracking.
    card = PaymentMethod.objects.get(account=buyer, key="card-1111")
    for _ in range(15):
        row = purchase_add(account=buyer, method=card, at=timezone.now() - timedelta(minutes=3))
        if row.data["transactionLineItems"][0]["businessOrderInfo"].get("Cost center") == "CC-200":
            break
    else:
        pytest.fail("no purchase with cost centre CC-200 was generated")
    response = client.post(reverse("purchases-sync", kwargs=kwargs))
    assert response.status_code == 302
    drive(Run.objects.filter(link=link, checkpoint__mode="sync").get())
    drain_link(link)
    entry = LedgerEntry.objects.get(link=link, amazon_id=row.transaction_id)
    assert entry.status == EntryStatus.POSTED
    document = BankTransaction.objects.get(bank_transaction_id=entry.xero_id)
    for line in document.data["LineItems"]:
        assert {"Name": "Region", "Option": "West"}.items() <= line["Tracking"][-1].items()

    response = client.post(
        reverse("purchases-settings", kwargs=kwargs), {"enabled": "on", "interval_minutes": "15"}
    )
    assert response.status_code == 302
    settings = PurchaseSettings.objects.get(link=link)
    assert (settings.sync_enabled, settings.sync_interval_minutes) == (True, 15)
    overview = client.get(reverse("purchases", kwargs=kwargs)).content.decode()
    assert "every 15 minutes" in overview

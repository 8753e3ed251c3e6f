"""The "Import settlements" page: owners only, the range form, the count, the import button,
the progress; and the whole page flow against the sandbox."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from connectors.models import AmazonSellerAccount, Link
from hub.models import Customer, Membership
from settlements import history
from settlements.models import Settlement
from sync.models import LedgerEntry, Run, RunKind, RunStatus
from tests.conftest import client_for
from tests.purchases.support import own_queue
from tests.settlements.flow import xero_documents
from tests.settlements.test_history import _connected, drive
from tests.settlements.test_views import plain_link


def _summary_row(sid: str, status: str, end_day: int) -> dict:
    end = timezone.now() - timedelta(days=end_day)
    return {
        "settlement_id": sid,
        "start": (end - timedelta(days=14)).isoformat(),
        "end": end.isoformat(),
        "deposit_date": (end + timedelta(days=2)).isoformat(),
        "currency": "GBP",
        "total": "1234.50",
        "marketplace": "Amazon.co.uk",
        "status": status,
        "note": "",
        "reports": [
            {
                "reportId": f"R{sid}",
                "reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
                "reportDocumentId": f"D{sid}",
                "createdTime": end.isoformat(),
                "dataStartTime": "",
                "dataEndTime": end.isoformat(),
            }
        ],
    }


def _check(link: Link, statuses: list[str]) -> Run:
    """A finished check whose summary lists settlements with these statuses."""
    rows = [_summary_row(f"1000{i}", s, 20 - i) for i, s in enumerate(statuses)]
    summary = {
        "settlements": len(rows),
        **{k: statuses.count(k) for k in history.STATUS_WORDS},
        "rows": rows,
        "refused": [],
    }
    now = timezone.now()
    return Run.objects.create(
        link=link,
        kind=RunKind.SETTLEMENTS,
        status=RunStatus.DONE,
        range_start=now - timedelta(days=30),
        range_end=now,
        checkpoint={"mode": "preview", "phase": "read", "step": 5, "summary": summary},
    )


def _urls(link: Link, run: Run, code=None) -> list[tuple[str, str]]:
    kwargs = {"code": code or link.customer.code, "link_id": link.pk}
    return [
        ("get", reverse("settlements-import", kwargs=kwargs)),
        ("post", reverse("settlements-import", kwargs=kwargs)),
        ("get", reverse("settlements-import-run", kwargs={**kwargs, "run_id": run.pk})),
        ("post", reverse("settlements-import-stop", kwargs={**kwargs, "run_id": run.pk})),
    ]


def test_outsiders_and_members_get_404_and_start_nothing(customer, member, outsider) -> None:
    link = plain_link(customer)
    run = _check(link, ["new"])
    today = timezone.now().date()
    data = {"action": "check", "start": today - timedelta(days=3), "end": today}
    for user in (outsider, member):
        client = client_for(user)
        for method, url in _urls(link, run):
            assert getattr(client, method)(url, data).status_code == 404, (user, method, url)
    own = Customer.objects.get(memberships__user=outsider)
    for method, url in _urls(link, run, code=own.code):
        assert getattr(client_for(outsider), method)(url, data).status_code == 404, url
    assert list(Run.objects.all()) == [run]


def test_the_page_offers_the_last_30_days_and_says_where_older_settlements_go(
    customer, owner
) -> None:
    link = plain_link(customer)
    url = reverse("settlements-import", kwargs={"code": customer.code, "link_id": link.pk})
    page = client_for(owner).get(url).content.decode()
    today = timezone.now().date()
    assert "<h1>Import settlements</h1>" in page
    assert '<label for="id_start">From</label>' in page
    assert '<label for="id_end">To</label>' in page
    assert f'value="{today - timedelta(days=30):%Y-%m-%d}"' in page
    assert f'value="{today:%Y-%m-%d}"' in page
    assert ">Check this range</button>" in page
    assert "keeps settlement reports for 90 days" in page

    too_old = client_for(owner).post(
        url, {"action": "check", "start": today - timedelta(days=120), "end": today}
    )
    text = too_old.content.decode()
    earliest = today - timedelta(days=89)
    assert f"a check can start on {earliest.day} {earliest:%B %Y} at the earliest" in text
    upload = reverse("settlements", kwargs={"code": customer.code, "link_id": link.pk})
    assert f'<a href="{upload}#upload">Upload settlement files</a>' in text
    backwards = client_for(owner).post(
        url, {"action": "check", "start": today, "end": today - timedelta(days=2)}
    )
    assert "The first day must not be after the last day." in backwards.content.decode()
    assert not Run.objects.exists()


def test_the_count_and_the_import_button_say_exactly_what_will_happen(customer, owner) -> None:
    link = plain_link(customer)
    url = reverse("settlements-import", kwargs={"code": customer.code, "link_id": link.pk})
    client = client_for(owner)

    _check(link, ["posted", "new", "new", "waiting"])
    page = client.get(url).content.decode()
    count = re.search(r'<p class="preview-count"><strong>([^<]+)</strong>', page).group(1)
    assert count == (
        "4 settlements in this range: 1 already posted, 2 new, 1 waiting for the deposit"
    )
    assert ">Import 2 new settlements</button>" in page
    assert page.count('data-status="new"') == 2 and "Waiting for the deposit" in page
    assert "£1,234.50" in page

    _check(link, ["new"])
    page = client.get(url).content.decode()
    assert "1 settlement in this range: 0 already posted, 1 new<" in page
    assert ">Import 1 new settlement</button>" in page

    _check(link, ["posted", "posted"])
    page = client.get(url).content.decode()
    assert "2 settlements in this range: 2 already posted, 0 new<" in page
    assert "Everything in this range is already posted" in page
    assert not re.search(r">Import \d+ new", page)

    _check(link, [])
    page = client.get(url).content.decode()
    assert "0 settlements in this range: 0 already posted, 0 new<" in page
    assert "Amazon lists no settlement that ended in this range" in page


def test_an_unfinished_or_foreign_check_cannot_be_imported(customer, owner) -> None:
    link = plain_link(customer)
    url = reverse("settlements-import", kwargs={"code": customer.code, "link_id": link.pk})
    running = _check(link, ["new"])
    Run.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING)
    response = client_for(owner).post(url, {"action": "start", "preview": running.pk}, follow=True)
    assert "The check of this date range has not finished yet." in response.content.decode()
    seller = AmazonSellerAccount.objects.create(
        customer=customer, name="Acme Amazon NA", region="na", selling_partner_id="A1OTHER"
    )
    other = Link.objects.create(
        customer=customer, xero_tenant=link.xero_tenant, seller_account=seller
    )
    foreign = _check(other, ["new"])  # another link's check
    response = client_for(owner).post(url, {"action": "start", "preview": foreign.pk})
    assert response.status_code == 404
    assert not Run.objects.filter(checkpoint__mode="import").exists()


def test_the_whole_flow_on_the_page_against_the_sandbox(sandbox_url: str, owner) -> None:
    link = _connected(sandbox_url)
    Membership.objects.create(customer=link.customer, user=owner, role=Membership.Role.OWNER)
    client = client_for(owner)
    url = reverse("settlements-import", kwargs={"code": link.customer.code, "link_id": link.pk})
    today = timezone.now().date()
    with own_queue():
        response = client.post(
            url,
            {"action": "check", "start": today - timedelta(days=30), "end": today},
            follow=True,
        )
        assert "Checking the date range" in response.content.decode()
        check = drive(Run.objects.get(link=link, checkpoint__mode="preview"))
        progress = client.get(
            reverse(
                "settlements-import-run",
                kwargs={"code": link.customer.code, "link_id": link.pk, "run_id": check.pk},
            )
        ).json()
        assert progress["percent"] == 100 and progress["finished"]
        page = client.get(url).content.decode()
        new = check.checkpoint["summary"]["new"]
        assert f"0 already posted, {new} new" in page
        assert f">Import {new} new settlements</button>" in page
        response = client.post(url, {"action": "start", "preview": check.pk}, follow=True)
        assert "Importing" in response.content.decode()
        run = drive(Run.objects.get(link=link, checkpoint__mode="import"))
    assert run.status == RunStatus.DONE and run.posted == new
    assert (run.range_start, run.range_end) == (check.range_start, check.range_end)
    page = client.get(url).content.decode()
    assert "<h2>Last import</h2>" in page and 'value="100"' in page and "100 %" in page
    assert f"Done: {new} posted, 0 already posted before, 0 held, 0 failed (of {new})." in page
    assert xero_documents(link).count() == new
    assert Settlement.objects.filter(link=link, state="built").count() == new
    assert LedgerEntry.objects.filter(link=link, status="posted").count() == 2 * new

"""The manage pages: a link's documents and problems, the ledger search, actions, rollback."""

from __future__ import annotations

from decimal import Decimal

import requests
from django.contrib.auth.models import User
from django.urls import reverse

from connectors.models import Link
from hub.models import Membership
from sandbox.xero.models import Account, Invoice
from sync.ledger import ledger_upsert
from sync.models import LedgerEntry, Run
from tests.conftest import client_for
from tests.engine_support import drain, invoice_payload
from tests.test_engine import _link


def _urls(link: Link, entry: LedgerEntry, run: Run) -> list[tuple[str, str]]:
    code = link.customer.code
    return [
        ("get", reverse("activity", kwargs={"code": code})),
        ("get", reverse("link-detail", kwargs={"code": code, "link_id": link.pk})),
        ("get", reverse("run-progress", kwargs={"code": code, "run_id": run.pk})),
        *[
            ("post", reverse("link-action", kwargs={"code": code, "link_id": link.pk, "action": a}))
            for a in ("pause", "resume", "sync", "retry-failed")
        ],
        *[
            (
                "post",
                reverse("entry-action", kwargs={"code": code, "entry_id": entry.pk, "action": a}),
            )
            for a in ("retry", "rollback")
        ],
        ("post", reverse("run-rollback", kwargs={"code": code, "run_id": run.pk})),
    ]


def test_archived_account_shows_xeros_words_and_the_fix_then_retry_posts(
    sandbox_url: str, outsider
) -> None:
    link = _link(sandbox_url)

    owner = (
        Membership.objects.get(customer=link.customer)
        if Membership.objects.filter(customer=link.customer).exists()
        else None
    )

    user = User.objects.create_user("owner1", "o@example.com", "pw-owner-1234")
    Membership.objects.create(customer=link.customer, user=user, role="owner")
    assert owner is None
    sales = Account.objects.get(org__tenant_id=link.xero_tenant.tenant_id, code="200")
    Account.objects.filter(pk=sales.pk).update(status="ARCHIVED")
    run = Run.objects.create(link=link, kind="settlements", status="done", total=1)
    entry = ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="1189",
        payload=invoice_payload(9),
        total=Decimal("12.25"),
        currency="GBP",
        lookup_number="AMZ-000009",
        run=run,
    ).entry
    drain(link)
    entry.refresh_from_db()
    assert entry.status == "failed"

    client = client_for(user)
    page = client.get(
        reverse("link-detail", kwargs={"code": link.customer.code, "link_id": link.pk})
    ).content.decode()
    assert "has been archived" in page
    assert "Account 200 was archived in Xero: remap the category" in page

    found = client.get(
        reverse("activity", kwargs={"code": link.customer.code}), {"q": "1189"}
    ).content.decode()
    assert "1189" in found and "Failed" in found
    assert (
        "No document matches"
        in client.get(
            reverse("activity", kwargs={"code": link.customer.code}), {"q": "nope"}
        ).content.decode()
    )

    for method, url in _urls(link, entry, run):  # an outsider sees nothing and changes nothing
        assert getattr(client_for(outsider), method)(url).status_code == 404, url
    Link.objects.filter(pk=link.pk).update(paused_by_user=False)

    Account.objects.filter(pk=sales.pk).update(status="ACTIVE")  # the user fixes it in Xero
    response = client.post(
        reverse(
            "entry-action",
            kwargs={"code": link.customer.code, "entry_id": entry.pk, "action": "retry"},
        )
    )
    assert response.status_code == 302
    drain(link)
    entry.refresh_from_db()
    assert entry.status == "posted", entry.last_error
    assert Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id).count() == 1

    client.post(
        reverse(
            "link-action",
            kwargs={"code": link.customer.code, "link_id": link.pk, "action": "pause"},
        )
    )
    link.refresh_from_db()
    assert link.paused_by_user and link.pause_reason == "Paused by you."
    detail = client.get(
        reverse("link-detail", kwargs={"code": link.customer.code, "link_id": link.pk})
    ).content.decode()
    assert "Paused by you." in detail and ">Resume<" in detail

    progress = client.get(
        reverse("run-progress", kwargs={"code": link.customer.code, "run_id": run.pk})
    ).json()
    assert progress["status"] == "done" and progress["total"] == 1
    assert requests  # the sandbox served every Xero call above over a real socket

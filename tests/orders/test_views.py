"""The orders page and the accounting-mode card: what an owner, a member and an outsider see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import AccountingMode, OrderSettings
from tests.engine_support import hub_link

pytestmark = pytest.mark.django_db


def _url(link, name: str = "orders") -> str:
    return reverse(name, kwargs={"code": link.customer.code, "link_id": link.pk})


def _signed_in(client, link):
    from django.contrib.auth.models import User

    from hub.models import Membership

    owner = User.objects.create_user(f"owner{link.pk}", password="pw-owner-12345")
    Membership.objects.create(customer=link.customer, user=owner, role=Membership.Role.OWNER)
    client.force_login(owner)
    return owner


def _link(sandbox_url: str):
    from sandbox.xero.models import Organisation
    from tests.engine_support import seed_xero

    site = sandbox_url.removesuffix("/sandbox")
    seed_xero(site)
    return hub_link(
        org=Organisation.objects.get(name="Northwind Goods Ltd"),
        customer_name="Acme",
        site_url=site,
    )


def test_the_owner_switches_to_per_order_and_back(client, sandbox_url: str) -> None:
    link = _link(sandbox_url)
    _signed_in(client, link)
    page = client.get(_url(link))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Accounting mode" in text and "Settlement summary" in text and "Per order" in text
    since = (timezone.now() - timedelta(days=10)).date()
    answer = client.post(
        _url(link, "orders-mode"),
        {"mode": "per_order", "since": since.isoformat(), "contact_per_buyer": "on"},
        follow=True,
    )
    assert answer.status_code == 200
    assert "Per-order accounting is on from" in answer.content.decode()
    options = OrderSettings.objects.get(link=link)
    assert options.mode == AccountingMode.PER_ORDER
    assert options.per_order_since.date() == since and options.contact_per_buyer
    assert "Import orders" in answer.content.decode()
    client.post(_url(link, "orders-mode"), {"mode": "summary"})
    assert OrderSettings.objects.get(link=link).mode == AccountingMode.SUMMARY


def test_a_bad_backfill_range_says_what_to_do(client, sandbox_url: str) -> None:
    link = _link(sandbox_url)
    _signed_in(client, link)
    OrderSettings.objects.create(link=link, mode=AccountingMode.PER_ORDER)
    today = timezone.now().date()
    answer = client.post(
        _url(link, "orders-import"),
        {"start": today.isoformat(), "end": (today - timedelta(days=3)).isoformat()},
    )
    assert answer.status_code == 400
    assert "The end of the range is before its start." in answer.content.decode()


def test_another_customer_gets_a_404(client, sandbox_url: str) -> None:
    from django.contrib.auth.models import User

    link = _link(sandbox_url)
    stranger = User.objects.create_user("stranger", password="pw-stranger-123")
    client.force_login(stranger)
    assert client.get(_url(link)).status_code == 404
    assert client.post(_url(link, "orders-mode"), {"mode": "per_order"}).status_code == 404
    assert OrderSettings.objects.filter(link=link, mode="per_order").count() == 0

"""Connection pages: scoped to the workspace, owner-only where they change anything."""

from __future__ import annotations

import pytest
import requests
from django.db import connection
from django.urls import reverse

from connectors.models import (
    AmazonBusinessAccount,
    AmazonSellerAccount,
    Link,
    XeroGrant,
    XeroTenant,
)
from hub.models import Customer
from sandbox.xero_identity.models import Connection
from tests.conftest import client_for
from tests.connectors.test_xero_tokens import signed_up


@pytest.fixture
def connected(customer: Customer) -> dict[str, object]:
    grant = XeroGrant.objects.create(
        customer=customer, xero_userid="00000000-0000-0000-0000-00000000aaaa"
    )
    tenant = XeroTenant.objects.create(
        customer=customer,
        grant=grant,
        name="Acme Trading Ltd",
        tenant_id="00000000-0000-0000-0000-00000000bbbb",
        connection_id="00000000-0000-0000-0000-00000000cccc",
    )
    seller = AmazonSellerAccount.objects.create(
        customer=customer,
        name="Amazon EU",
        region="eu",
        selling_partner_id="A2SELLER",
        token={"refresh_token": "Atzr|x"},
    )
    business = AmazonBusinessAccount.objects.create(
        customer=customer, name="AB", region="na", token={"refresh_token": "Atzr|y"}
    )
    Link.objects.create(customer=customer, xero_tenant=tenant, seller_account=seller)
    return {"grant": grant, "tenant": tenant, "seller": seller, "business": business}


def _urls(customer: Customer, c: dict) -> list[tuple[str, str]]:
    code = customer.code
    return [
        ("get", reverse("connections", kwargs={"code": code})),
        (
            "get",
            reverse("connect-xero-organisation", kwargs={"code": code, "grant_id": c["grant"].pk}),
        ),
        ("get", reverse("connect-amazon", kwargs={"code": code})),
        (
            "get",
            reverse(
                "connect-amazon-marketplaces", kwargs={"code": code, "account_id": c["seller"].pk}
            ),
        ),
        ("get", reverse("connect-business", kwargs={"code": code})),
        ("get", reverse("disconnect", kwargs={"code": code, "kind": "xero", "pk": c["grant"].pk})),
        (
            "get",
            reverse("disconnect", kwargs={"code": code, "kind": "seller", "pk": c["seller"].pk}),
        ),
        (
            "post",
            reverse(
                "disconnect", kwargs={"code": code, "kind": "business", "pk": c["business"].pk}
            ),
        ),
        ("get", reverse("uninstall", kwargs={"code": code})),
        ("post", reverse("uninstall", kwargs={"code": code})),
        ("post", reverse("export", kwargs={"code": code})),
        ("get", f"{reverse('connect-xero')}?workspace={code}"),
    ]


def test_an_outsider_gets_404_on_every_connection_and_link_url(
    customer, connected, outsider
) -> None:
    client = client_for(outsider)
    for method, url in _urls(customer, connected):
        assert getattr(client, method)(url).status_code == 404, url
    assert AmazonBusinessAccount.objects.filter(pk=connected["business"].pk).exists()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_member_sees_connections_but_cannot_change_them(customer, connected, member) -> None:
    client = client_for(member)
    page = client.get(reverse("connections", kwargs={"code": customer.code}))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Acme Trading Ltd" in body and "Amazon EU" in body and "Disconnect" not in body
    for method, url in _urls(customer, connected)[1:]:
        assert getattr(client, method)(url).status_code == 404, url


def test_the_connections_page_explains_state(customer, connected, owner) -> None:
    from django.utils import timezone

    seller = connected["seller"]
    AmazonSellerAccount.objects.filter(pk=seller.pk).update(
        authorised_at=timezone.now() - timezone.timedelta(days=340)
    )
    body = (
        client_for(owner)
        .get(reverse("connections", kwargs={"code": customer.code}))
        .content.decode()
    )
    assert "Re-authorisation due" in body
    assert "re-authorise apps every 365 days" in body
    XeroGrant.objects.filter(pk=connected["grant"].pk).update(
        status="needs_reconnect", status_reason="Xero refused to refresh the connection."
    )
    body = (
        client_for(owner)
        .get(reverse("connections", kwargs={"code": customer.code}))
        .content.decode()
    )
    assert "Xero refused to refresh the connection." in body
    assert "Paused: Xero needs reconnecting." in body


def test_uninstall_revokes_xero_and_leaves_no_token(sandbox_url: str) -> None:
    browser, _ = signed_up(sandbox_url)
    site = sandbox_url.removesuffix("/sandbox")
    customer = Customer.objects.get()
    AmazonSellerAccount.objects.create(
        customer=customer,
        name="EU",
        region="eu",
        selling_partner_id="A2UNINSTALL",
        token={"refresh_token": "Atzr|z"},
    )
    assert Connection.objects.count() == 1

    page = browser.get(f"{site}/w/{customer.code}/uninstall/", timeout=10)
    assert "revoked at Xero" in page.text and "stays in Xero" in page.text
    csrf = browser.cookies["csrftoken"]
    export = browser.post(
        f"{site}/w/{customer.code}/export/", data={"csrfmiddlewaretoken": csrf}, timeout=10
    )
    assert export.json()["amazon_seller_accounts"][0]["selling_partner_id"] == "A2UNINSTALL"
    assert "Atzr" not in export.text and "refresh_token" not in export.text

    wrong = browser.post(
        f"{site}/w/{customer.code}/uninstall/",
        data={"csrfmiddlewaretoken": csrf, "confirm": "nope"},
        timeout=10,
    )
    assert "Type the workspace name exactly" in wrong.text
    done = browser.post(
        f"{site}/w/{customer.code}/uninstall/",
        data={"csrfmiddlewaretoken": csrf, "confirm": customer.name},
        timeout=10,
    )
    assert done.status_code == 200 and "was uninstalled" in done.text

    assert Connection.objects.count() == 0, "the sandbox shows the connection deleted"
    with connection.cursor() as cursor:
        for table in (
            "connectors_xerogrant",
            "connectors_amazonselleraccount",
            "connectors_amazonbusinessaccount",
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            assert cursor.fetchone()[0] == 0, table
    assert not Customer.objects.exists()
    assert (
        requests.get(
            f"{site}/w/{customer.code}/connections/", timeout=10, cookies=browser.cookies
        ).status_code
        == 404
    )

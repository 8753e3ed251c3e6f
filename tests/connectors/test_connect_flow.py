"""The install path against the sandbox, as a browser does it over HTTP:
Sign up with Xero → choose the organisation → Seller Central (Europe, two marketplaces) →
Amazon Business. No OAuth server is mocked."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from connectors.models import AmazonBusinessAccount, AmazonSellerAccount, Link, XeroTenant
from hub.models import Customer
from sandbox.business.models import BusinessUser
from sandbox.seed import sandbox_seed
from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import Connection
from sandbox.xero_identity.testing import consent

UK = "A1F83G8C2ARO7P"
DE = "A1PA6795UKMFR9"


def _csrf(browser: requests.Session) -> str:
    return browser.cookies["csrftoken"]


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def sign_up_and_choose(
    site: str, browser: requests.Session, org_name: str, also: list[str] = ()
) -> Customer:  # type: ignore[assignment]
    tenants = [str(Organisation.objects.get(name=n).tenant_id) for n in [org_name, *also]]
    start = browser.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    back = consent(
        browser, start.headers["Location"], email="demo.owner@example.com", tenant_ids=tenants
    )
    organisation_page = browser.get(back, timeout=10)
    assert organisation_page.status_code == 200
    chosen = browser.post(
        organisation_page.url,
        data={"csrfmiddlewaretoken": _csrf(browser), "tenant_id": tenants[0]},
        allow_redirects=False,
        timeout=10,
    )
    assert chosen.status_code == 302, chosen.text[:2000]
    return Customer.objects.get(xero_tenants__tenant_id=tenants[0])


def connect_seller(
    site: str, browser: requests.Session, customer: Customer, seller: str = "A2SANDBOXEU1"
) -> requests.Response:
    start_url = f"{site}/w/{customer.code}/connect/amazon/"
    browser.get(start_url, timeout=10)
    to_amazon = browser.post(
        start_url,
        data={"csrfmiddlewaretoken": _csrf(browser), "region": "eu", "name": "Amazon Europe"},
        allow_redirects=False,
        timeout=10,
    )
    assert to_amazon.status_code == 302
    page = browser.get(to_amazon.headers["Location"], timeout=10)
    assert page.status_code == 200, page.text[:1000]
    confirmed = browser.post(
        page.url,
        data={**_hidden(page.text), "seller": seller, "action": "confirm"},
        allow_redirects=False,
        timeout=10,
    )
    assert confirmed.status_code == 302
    return browser.get(confirmed.headers["Location"], timeout=10)


def test_sign_up_choose_organisation_and_connect_both_amazon_accounts(sandbox_url: str) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    sandbox_seed(site_url=site, orders=60, purchases=30, days=30)
    browser = requests.Session()
    customer = sign_up_and_choose(site, browser, "Northwind Goods Ltd", also=["Redwood Supply Co."])
    tenant = XeroTenant.objects.get(customer=customer)
    assert (tenant.name, tenant.country_code, tenant.base_currency) == (
        "Northwind Goods Ltd",
        "GB",
        "GBP",
    )
    customer.refresh_from_db()
    assert customer.name == "Northwind Goods Ltd"
    # The organisation not chosen was disconnected from the app in Xero.
    redwood = Organisation.objects.get(name="Redwood Supply Co.")
    assert not Connection.objects.filter(tenant_id=redwood.tenant_id).exists()

    marketplaces = connect_seller(site, browser, customer)
    assert marketplaces.status_code == 200, marketplaces.text[:1000]
    assert "Amazon.co.uk" in marketplaces.text and "Amazon.de" in marketplaces.text
    account = AmazonSellerAccount.objects.get(customer=customer)
    assert account.selling_partner_id == "A2SANDBOXEU1" and account.region == "eu"
    assert account.token["refresh_token"].startswith("Atzr|")
    saved = browser.post(
        marketplaces.url,
        data={
            "csrfmiddlewaretoken": _csrf(browser),
            "marketplaces": [UK, DE],
            "tenant": str(tenant.pk),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/connections/")
    account.refresh_from_db()
    assert sorted(account.marketplace_ids) == sorted([UK, DE])
    assert Link.objects.get(seller_account=account).xero_tenant == tenant

    # Amazon Business, consented by an administrator.
    start_url = f"{site}/w/{customer.code}/connect/business/"
    page = browser.get(start_url, timeout=10)
    assert "must be an administrator" in page.text
    to_amazon = browser.post(
        start_url,
        data={
            "csrfmiddlewaretoken": _csrf(browser),
            "region": "na",
            "name": "Amazon Business US",
            "tenant": str(tenant.pk),
        },
        allow_redirects=False,
        timeout=10,
    )
    consent_url = to_amazon.headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    page = browser.get(consent_url, timeout=10)
    admin = BusinessUser.objects.get(role=BusinessUser.Role.ADMIN)
    allowed = browser.post(
        page.url.split("?")[0],
        data={
            "csrfmiddlewaretoken": re.search(
                r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text
            ).group(1),
            **query,
            "action": "allow",
            "user": str(admin.pk),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert allowed.status_code == 302, allowed.text[:1000]
    done = browser.get(allowed.headers["Location"], timeout=10)
    assert done.status_code == 200 and "Amazon Business US is connected" in done.text
    business = AmazonBusinessAccount.objects.get(customer=customer)
    assert Link.objects.get(business_account=business).xero_tenant == tenant

    overview = browser.get(f"{site}/w/{customer.code}/connections/", timeout=10).text
    assert "Amazon.co.uk (GBP)" in overview and "Amazon.de (EUR)" in overview
    assert overview.count('badge-ok">Active') == 2


def test_an_organisation_or_seller_linked_elsewhere_is_refused_cleanly(sandbox_url: str) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    sandbox_seed(site_url=site, orders=30, purchases=10, days=20)
    first = requests.Session()
    customer = sign_up_and_choose(site, first, "Northwind Goods Ltd")
    connect_seller(site, first, customer)

    # Another person, another workspace, tries the same organisation and the same seller.
    from sandbox.xero_identity.models import XeroUser

    XeroUser.objects.filter(email="sam.bookkeeper@example.com").update(
        tenant_ids=[
            str(Organisation.objects.get(name=n).tenant_id)
            for n in ("Northwind Goods Ltd", "Wattle Street Traders Pty Ltd")
        ]
    )
    second = requests.Session()
    start = second.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    back = consent(
        second,
        start.headers["Location"],
        email="sam.bookkeeper@example.com",
        tenant_ids=[
            str(Organisation.objects.get(name=n).tenant_id)
            for n in ("Northwind Goods Ltd", "Wattle Street Traders Pty Ltd")
        ],
    )
    page = second.get(back, timeout=10)
    refused = second.post(
        page.url,
        data={
            "csrfmiddlewaretoken": _csrf(second),
            "tenant_id": str(Organisation.objects.get(name="Northwind Goods Ltd").tenant_id),
        },
        timeout=10,
    )
    assert "already connected to another Ledgerbridge workspace" in refused.text
    other = Customer.objects.exclude(pk=customer.pk).get()
    assert not XeroTenant.objects.filter(customer=other).exists()

    chosen = second.post(
        page.url,
        data={
            "csrfmiddlewaretoken": _csrf(second),
            "tenant_id": str(
                Organisation.objects.get(name="Wattle Street Traders Pty Ltd").tenant_id
            ),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert chosen.status_code == 302
    result = connect_seller(site, second, other)
    assert result.status_code == 400
    assert "already connected to another Ledgerbridge workspace" in result.text
    assert not AmazonSellerAccount.objects.filter(customer=other).exists()
    assert AmazonSellerAccount.objects.get().customer == customer


def test_partner_edition_expired_code_and_disconnect(sandbox_url: str) -> None:
    from django.utils import timezone

    from connectors.models import XeroGrant
    from sandbox.xero_identity.models import AuthorizationCode

    site = sandbox_url.removesuffix("/sandbox")
    sandbox_seed(site_url=site, orders=20, purchases=5, days=10)
    partner = Organisation.objects.get(edition="PARTNER")
    from sandbox.xero_identity.models import XeroUser

    XeroUser.objects.filter(email="demo.owner@example.com").update(
        tenant_ids=[str(o.tenant_id) for o in Organisation.objects.all()]
    )

    # An authorisation code that expired before the hub exchanged it: a clear page, nothing made.
    browser = requests.Session()
    start = browser.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    back = consent(
        browser,
        start.headers["Location"],
        email="demo.owner@example.com",
        tenant_ids=[str(partner.tenant_id)],
    )
    AuthorizationCode.objects.update(expires_at=timezone.now())
    page = browser.get(back, timeout=10)
    assert page.status_code == 400 and "Xero did not accept the sign-in" in page.text
    assert not Customer.objects.exists() and not XeroGrant.objects.exists()

    # A partner-edition organisation cannot invoice: explained, not connected.
    start = browser.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    back = consent(
        browser,
        start.headers["Location"],
        email="demo.owner@example.com",
        tenant_ids=[str(partner.tenant_id)],
    )
    organisation_page = browser.get(back, timeout=10)
    refused = browser.post(
        organisation_page.url,
        data={"csrfmiddlewaretoken": _csrf(browser), "tenant_id": str(partner.tenant_id)},
        timeout=10,
    )
    assert "partner edition, which cannot raise invoices" in refused.text
    assert not XeroTenant.objects.exists()

    # Disconnecting Xero removes the connection in Xero and forgets the tokens.
    customer = sign_up_and_choose(site, browser, "Northwind Goods Ltd")
    grant = XeroGrant.objects.get(customer=customer)
    northwind = Organisation.objects.get(name="Northwind Goods Ltd")
    assert Connection.objects.filter(tenant_id=northwind.tenant_id).exists()
    confirm = browser.get(
        f"{site}/w/{customer.code}/connections/xero/{grant.pk}/disconnect/", timeout=10
    )
    assert "Northwind Goods Ltd" in confirm.text and "Nothing already posted" in confirm.text
    done = browser.post(confirm.url, data={"csrfmiddlewaretoken": _csrf(browser)}, timeout=10)
    assert "Disconnected" in done.text
    assert not Connection.objects.filter(tenant_id=northwind.tenant_id).exists()
    assert not XeroGrant.objects.filter(customer=customer).exists()

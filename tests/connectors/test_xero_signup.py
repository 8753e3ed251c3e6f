"""Sign up with Xero against the sandbox's identity service: no mocked OAuth anywhere."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from connectors.models import XeroGrant
from hub.models import Customer, Membership, XeroLogin
from sandbox.xero.models import Organisation
from sandbox.xero_identity.seed import seed_identity
from sandbox.xero_identity.testing import consent


def _orgs() -> list[Organisation]:
    return [
        Organisation.objects.create(
            name="Acme Trading Ltd",
            short_code="!UK1",
            country_code="GB",
            base_currency="GBP",
            version="UK",
        ),
        Organisation.objects.create(
            name="Acme Inc", short_code="!US1", country_code="US", base_currency="USD", version="US"
        ),
    ]


def _site(sandbox_url: str) -> str:
    return sandbox_url.removesuffix("/sandbox")


def test_sign_up_provisions_a_user_and_workspace_from_the_id_token(sandbox_url: str) -> None:
    orgs = _orgs()
    site = _site(sandbox_url)
    seed_identity(site_url=site)
    browser = requests.Session()

    start = browser.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["scope"][0].split() == [
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.settings",
        "accounting.contacts",
        "accounting.invoices",
        "accounting.payments",
        "accounting.banktransactions",
        "accounting.manualjournals",
        "accounting.attachments",
    ]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]

    back = consent(
        browser,
        authorize,
        email="demo.owner@example.com",
        tenant_ids=[str(o.tenant_id) for o in orgs],
    )
    landed = browser.get(back, allow_redirects=False, timeout=10)
    assert landed.status_code == 302, landed.text[:500]

    login = XeroLogin.objects.get(email="demo.owner@example.com")
    customer = Customer.objects.get(memberships__user=login.user)
    assert customer.memberships.get().role == Membership.Role.OWNER
    grant = XeroGrant.objects.get(customer=customer)
    assert grant.is_active and grant.token["refresh_token"]
    assert landed.headers["Location"] == (
        f"/w/{customer.code}/connect/xero/{grant.pk}/organisation/"
    )

    page = browser.get(f"{site}{landed.headers['Location']}", timeout=10)
    assert page.status_code == 200
    assert "Acme Trading Ltd" in page.text and "Acme Inc" in page.text

    # A returning user signs in to the same workspace; no second user or workspace.
    again = requests.Session()
    start = again.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    back = consent(again, start.headers["Location"], email="demo.owner@example.com")
    assert again.get(back, allow_redirects=False, timeout=10).status_code == 302
    assert XeroLogin.objects.count() == 1 and Customer.objects.count() == 1


def test_cancel_tampered_state_and_replay_get_clear_pages(sandbox_url: str) -> None:
    _orgs()
    site = _site(sandbox_url)
    seed_identity(site_url=site)
    browser = requests.Session()

    start = browser.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    cancelled = consent(
        browser, start.headers["Location"], email="demo.owner@example.com", action="cancel"
    )
    page = browser.get(cancelled, timeout=10)
    assert page.status_code == 400 and "Xero access was not granted" in page.text
    assert not Customer.objects.exists()

    start = browser.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    back = consent(browser, start.headers["Location"], email="demo.owner@example.com")
    tampered = back.replace("state=", "state=x")
    page = browser.get(tampered, timeout=10)
    assert (
        page.status_code == 400 and "does not match a request started in this browser" in page.text
    )
    assert not Customer.objects.exists(), "nothing is half-created"

    assert browser.get(back, allow_redirects=False, timeout=10).status_code == 302
    replay = browser.get(back, timeout=10)
    assert replay.status_code == 400 and "already used" in replay.text
    assert Customer.objects.count() == 1

    stranger = requests.Session()  # a callback without the session that started it
    page = stranger.get(back, timeout=10)
    assert page.status_code == 400 and "does not match a request started" in page.text

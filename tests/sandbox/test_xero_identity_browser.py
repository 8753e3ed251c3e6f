"""The sandbox's Xero sign-in and consent page in a real browser (Debian chromium, Playwright)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.conf import settings
from playwright.sync_api import Page, expect

from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import Connection, XeroApp
from sandbox.xero_identity.seed import seed_identity
from sandbox.xero_identity.services import register_redirect_uri
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]


def test_sign_in_choose_organisations_and_allow(sandbox_url: str, page: Page) -> None:
    acme, beta = (
        Organisation.objects.create(
            name=name, short_code=code, country_code="GB", base_currency="GBP", version="UK"
        )
        for name, code in [("Acme Trading Ltd", "!acme"), ("Beta Imports Ltd", "!beta")]
    )
    Organisation.objects.create(
        name="Partner Practice",
        short_code="!part",
        country_code="GB",
        base_currency="GBP",
        version="UK",
        edition="PARTNER",
    )
    seed_identity(site_url="https://hub.example")
    # The browser must land somewhere real: the sandbox's own index page stands in for the hub.
    landing = f"{sandbox_url}/"
    register_redirect_uri(XeroApp.objects.get(), landing)
    params = {
        "response_type": "code",
        "client_id": settings.XERO_CLIENT_ID,
        "redirect_uri": landing,
        "scope": "openid profile email offline_access accounting.invoices accounting.settings",
        "state": "browser-state",
    }
    page.goto(f"{settings.XERO_LOGIN_URL}/identity/connect/authorize?{urlencode(params)}")

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Xero")
    page.get_by_label("Sandbox Xero user").select_option(
        label="Demo Owner (demo.owner@example.com)"
    )
    screenshot(page, "xero-identity-01-sign-in")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Allow Ledgerbridge (sandbox) to access your Xero data"
    )
    permissions = page.get_by_role("list", name="Permissions requested")
    expect(permissions).to_contain_text("View and manage your invoices")
    expect(page.get_by_role("group", name="Organisations to connect")).to_contain_text(
        "Partner Practice (partner edition)"
    )
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_role("alert")).to_have_text("Choose at least one organisation.")

    page.get_by_label("Acme Trading Ltd").check()
    page.get_by_label("Beta Imports Ltd").check()
    screenshot(page, "xero-identity-02-consent")
    page.get_by_role("button", name="Allow access").click()

    page.wait_for_url(f"{landing}?*")
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert query["state"] == "browser-state"
    token = requests.post(
        f"{settings.XERO_IDENTITY_URL}/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": landing,
        },
        auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
        timeout=5,
    )
    assert token.status_code == 200 and "id_token" in token.json()
    assert sorted(Connection.objects.values_list("tenant_name", flat=True)) == [
        "Acme Trading Ltd",
        "Beta Imports Ltd",
    ]
    assert {c.tenant_id for c in Connection.objects.all()} == {acme.tenant_id, beta.tenant_id}

    # Coming back, the connected organisations are shown as such; Cancel tells the app no.
    page.goto(f"{settings.XERO_LOGIN_URL}/identity/connect/authorize?{urlencode(params)}")
    expect(page.get_by_label("Acme Trading Ltd")).to_be_checked()
    expect(page.get_by_text("Already connected", exact=True)).to_have_count(2)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{landing}?*")
    assert page.url == f"{landing}?error=access_denied&state=browser-state"


def test_the_connections_page_disconnect_button(sandbox_url: str, page: Page) -> None:
    from sandbox.xero_identity.models import XeroUser
    from sandbox.xero_identity.tokens import grant_create

    org = Organisation.objects.create(
        name="Acme Trading Ltd",
        short_code="!acme",
        country_code="GB",
        base_currency="GBP",
        version="UK",
    )
    seed_identity(site_url="https://hub.example")
    grant_create(
        app=XeroApp.objects.get(),
        user=XeroUser.objects.get(email="demo.owner@example.com"),
        scopes=["offline_access", "accounting.invoices"],
        tenant_ids=[org.tenant_id],
    )
    page.goto(f"{settings.XERO_IDENTITY_URL}/connections/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox Xero: connected apps")
    screenshot(page, "xero-identity-03-connections")
    page.get_by_role(
        "button",
        name="Disconnect Ledgerbridge (sandbox) from Acme Trading Ltd (as Demo would in Xero)",
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        "Disconnected. The app's tokens were revoked."
    )
    assert not Connection.objects.exists()

"""Sign up with Xero → choose the organisation → connect Amazon, clicked in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from connectors.models import AmazonSellerAccount, Link
from sandbox.seed import sandbox_seed
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_sign_up_choose_organisation_connect_amazon(page: Page, sandbox_url: str) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    sandbox_seed(site_url=site, orders=40, purchases=10, days=20)

    page.goto(site)
    page.get_by_role("link", name="Sign up with Xero").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xero")
    page.get_by_label("Sandbox Xero user").select_option(
        label="Demo Owner (demo.owner@example.com)"
    )
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Northwind Goods Ltd").check()
    screenshot(page, "connect-01-xero-consent")
    page.get_by_role("button", name="Allow access").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your Xero organisation")
    page.get_by_label("Northwind Goods Ltd").check()
    screenshot(page, "connect-02-choose-organisation")
    page.get_by_role("button", name="Use this organisation").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Connect Amazon Seller Central")
    expect(page.get_by_text("Connected to Northwind Goods Ltd in Xero.")).to_be_visible()
    page.get_by_label("Region").select_option("eu")
    page.get_by_label("Name for this account").fill("Amazon Europe")
    page.get_by_role("button", name="Continue to Seller Central").click()

    page.get_by_label("Sign in as seller account").select_option(index=0)
    screenshot(page, "connect-03-seller-central-consent")
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Choose marketplaces for Amazon Europe"
    )
    page.get_by_label("Amazon.co.uk (GB, GBP)").check()
    page.get_by_label("Amazon.de (DE, EUR)").check()
    screenshot(page, "connect-04-marketplaces")
    page.get_by_role("button", name="Save marketplaces").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Connections")
    expect(page.get_by_text("Amazon Europe will sync 2 marketplace(s).")).to_be_visible()
    screenshot(page, "connect-05-connections")
    account = AmazonSellerAccount.objects.get()
    assert len(account.marketplace_ids) == 2
    assert Link.objects.get(seller_account=account).xero_tenant.name == "Northwind Goods Ltd"

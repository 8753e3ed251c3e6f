"""The mapping step in Chromium: from the connections page, suggest, fix, save, review, finish."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from connectors.models import Link
from mappings.models import CategoryMapping, MappingSettings
from sandbox.seed import sandbox_seed
from tests.browser.conftest import screenshot
from tests.mappings.conftest import isolated_limits_and_queue  # noqa: F401 (autouse)

pytestmark = pytest.mark.browser


def test_map_accounts_suggest_save_review_and_finish(page: Page, sandbox_url: str) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    sandbox_seed(site_url=site, orders=10, purchases=5, days=10)

    page.goto(f"{site}/connect/xero")
    page.get_by_label("Sandbox Xero user").select_option(
        label="Demo Owner (demo.owner@example.com)"
    )
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Northwind Goods Ltd").check()
    page.get_by_role("button", name="Allow access").click()
    page.get_by_label("Northwind Goods Ltd").check()
    page.get_by_role("button", name="Use this organisation").click()
    page.get_by_label("Region").select_option("eu")
    page.get_by_label("Name for this account").fill("Amazon Europe")
    page.get_by_role("button", name="Continue to Seller Central").click()
    page.get_by_label("Sign in as seller account").select_option(index=0)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Amazon.co.uk (GB, GBP)").check()
    page.get_by_role("button", name="Save marketplaces").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connections")

    # The "Map accounts" step, reached from the links table.
    page.get_by_role("link", name="Map accounts").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Map accounts")
    expect(page.get_by_text("0 of 32 categories mapped.")).to_be_visible()
    page.get_by_role("link", name="Suggest a mapping").click()
    sales = page.get_by_label("Account for Product sales", exact=True)
    expect(sales).to_have_value("200")
    expect(page.get_by_label("Tax rate for Product sales", exact=True)).to_have_value("OUTPUT2")
    screenshot(page, "mapping-01-suggested")

    # A tax rate Xero does not allow on an expense account is refused, in plain words.
    page.get_by_label("Tax rate for Advertising (Sponsored Products)", exact=True).select_option(
        "OUTPUT2"
    )
    page.get_by_label("Reserve account (money amazon holds back)").select_option("620")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Nothing was saved: 1 problem to fix first")).to_be_visible()
    expect(
        page.get_by_text("Tax rate '20% (VAT on Income)' cannot be used on account 400")
    ).to_be_visible()
    screenshot(page, "mapping-02-refused")
    assert not CategoryMapping.objects.exists()

    page.get_by_label("Tax rate for Advertising (Sponsored Products)", exact=True).select_option(
        "INPUT2"
    )
    page.get_by_label("Account for Advertising (Sponsored Products)", exact=True).select_option(
        "401"
    )
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Mapping saved.")).to_be_visible()
    expect(page.get_by_text("32 of 32 categories mapped.")).to_be_visible()
    link = Link.objects.get()
    ads = CategoryMapping.objects.get(link=link, category_key="seller:fees:advertising")
    assert (ads.account_code, ads.tax_type) == ("401", "INPUT2")
    assert MappingSettings.objects.get(link=link).reserve_account == "620"

    page.get_by_role("link", name="Review", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review")
    expect(page.get_by_text("representative example", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="200 Sales").first).to_be_visible()
    screenshot(page, "mapping-03-review")
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_text("Set-up finished")).to_be_visible()
    assert MappingSettings.objects.get(link=link).reviewed_at is not None

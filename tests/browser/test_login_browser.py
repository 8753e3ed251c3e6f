from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hub.models import Customer
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_landing_to_login_to_a_new_workspace(page: Page, live_server, django_user_model) -> None:
    django_user_model.objects.create_user("ivy", "ivy@example.com", "pw-ivy-12345")

    page.goto(live_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Amazon into Xero, to the cent.")
    screenshot(page, "foundation-01-landing")

    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Username").fill("ivy")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match")

    page.get_by_label("Password").fill("pw-ivy-12345")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a workspace")
    page.get_by_label("Workspace name").fill("Ivy's Imports")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Ivy's Imports")
    expect(page.get_by_text("You are owner of this workspace.")).to_be_visible()
    screenshot(page, "foundation-02-workspace")
    customer = Customer.objects.get(name="Ivy's Imports")
    assert page.url.endswith(f"/w/{customer.code}/")


def test_landing_reads_on_a_phone(browser, live_server) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "no horizontal scrolling on a phone"
    screenshot(page, "foundation-03-landing-phone")
    context.close()

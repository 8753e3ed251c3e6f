"""The manage pages on a phone and by keyboard alone, in Chromium.

At 390 x 844 (a common phone) no page scrolls sideways: wide tables scroll inside their own
wrapper. Pressing Tab from the top of each page reaches its main actions, each drawn with a
visible focus outline, and a focused action works with the keyboard.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import screenshot
from tests.purchases.support import own_queue
from tests.workspace_support import Workspace, fast_limits, seeded_workspace

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {
    text: (e.innerText || e.value || e.getAttribute("aria-label") || "").trim(),
    tag: e.tagName.toLowerCase(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    visible: e.matches(":focus-visible"),
  };
}"""
WIDTHS = """() => ({
  page: document.documentElement.scrollWidth,
  view: window.innerWidth,
  wide: [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                 && !e.closest(".table-wrap"))
    .slice(0, 5).map(e => e.tagName + "." + e.className),
})"""


def _pages(site: str, w: Workspace) -> list[tuple[str, str, list[str]]]:
    """(name, url, main actions a keyboard must reach) for each page of the pass."""
    code = w.customer.code
    seller = {"code": code, "link_id": w.seller.pk}
    business = {"code": code, "link_id": w.business.pk}
    return [
        ("link", reverse("link-detail", kwargs=seller), ["Sync now", "Import a date range"]),
        ("activity", reverse("activity", kwargs={"code": code}), ["Search"]),
        (
            "settlements",
            reverse("settlements", kwargs=seller),
            ["Fetch settlements from Amazon", "Import a date range", "Upload", "Save options"],
        ),
        ("settlements-upload", reverse("settlements-upload", kwargs=seller), ["Upload"]),
        ("settlements-import", reverse("settlements-import", kwargs=seller), ["Check this range"]),
        ("orders", reverse("orders", kwargs=seller), ["Save accounting mode"]),
        (
            "purchases",
            reverse("purchases", kwargs=business),
            ["Sync now", "Import historical data", "Save schedule"],
        ),
        ("purchases-import", reverse("purchases-import", kwargs=business), ["Check this range"]),
        (
            "connections",
            reverse("connections", kwargs={"code": code}),
            ["Connect Seller Central", "Connect Amazon Business"],
        ),
    ]


def _log_in(page: Page, site: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("pw-olivia-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _tab_to(page: Page, wanted: str, limit: int = 150) -> dict[str, object]:
    """Press Tab from the top of the page until ``wanted`` has the focus."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.keyboard.press("Home")
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused: dict[str, object] = page.evaluate(FOCUSED)
        if focused["text"] == wanted:
            return focused
    raise AssertionError(f"Tab never reached {wanted!r} on {page.url}")


def test_the_pages_fit_a_phone_and_tab_reaches_every_main_action(
    browser: Browser, sandbox_url: str, owner
) -> None:
    site = sandbox_url.removesuffix("/sandbox")
    with fast_limits():
        workspace = seeded_workspace(sandbox_url, owner)
    # Not is_mobile: a mobile layout viewport widens to the content, hiding any overflow.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _log_in(page, site)
        for name, path, actions in _pages(site, workspace):
            page.goto(site + path)
            expect(page.locator("h1")).to_be_visible()
            widths = page.evaluate(WIDTHS)
            assert widths["view"] == 390 and widths["page"] <= widths["view"], (name, widths)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
            screenshot(page, f"phone-{name}")
            for action in actions:
                focused = _tab_to(page, action)
                assert focused["tag"] in ("a", "button"), (name, action, focused)
                assert focused["visible"] and focused["outline"], (name, action, focused)
        # A focused action works with the keyboard: Enter follows the link.
        page.goto(site + _pages(site, workspace)[0][1])
        _tab_to(page, "Import a date range")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Import settlements")
        # ... and the range form can be filled and sent without a mouse.
        _tab_to(page, "Check this range")
        with own_queue():  # the check's task waits there; no worker takes it
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Checking the date range")).to_be_visible()
        screenshot(page, "phone-settlements-import-checking")
    finally:
        context.close()

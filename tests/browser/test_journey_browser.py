"""The whole journey of a new customer, clicked in Chromium, with real Celery workers.

A brand-new user signs up with Xero from the landing page, chooses the organisation, connects
Seller Central and Amazon Business, imports the last 30 days of each and then maps and reviews
(the wizard's order: nothing posts before the mapping), and sees the invoices, bills and bank
transactions in the sandbox's Xero. Then the sales account is archived in Xero: an older range
of settlements, imported next, fails with Xero's words and the fix; the user remaps, presses Retry
and sees them posted, rolls a settlement back (voided in Xero, posted again under a new number) and
finally uninstalls, after which the sandbox's Xero shows the connection gone.

The organisation is the sandbox's US one: its Amazon Business buyer and its Seller Central
seller trade in US dollars, which Xero posts only to accounts in that currency.

Every step asserts what the page shows and saves a screenshot ``journey-NN-<step>``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from sandbox.seed import sandbox_seed
from sandbox.state import sandbox_configure
from settlements.models import SettlementDocument
from sync.models import EntryStatus
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.engine_support import settings_env
from tests.purchases.support import own_queue
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker]

ORG = "Redwood Supply Co."
SELLER = "Amazon US"
BUSINESS = "Amazon Business"
# Rate-limit windows pass 60 times faster, in the sandbox and in the hub's limiter alike.
SCALE = 60
SLOW = 90_000  # ms: what a worker does in the background (pull, post, roll back)


class Journey:
    """The browser page, where the hub and the sandbox are, and the screenshots taken so far."""

    def __init__(self, page: Page, sandbox_url: str) -> None:
        self.page = page
        self.sandbox = sandbox_url
        self.site = sandbox_url.removesuffix("/sandbox")
        self.shots = 0

    def shot(self, name: str) -> None:
        self.shots += 1
        screenshot(self.page, f"journey-{self.shots:02d}-{name}")

    def heading(self, text: str | re.Pattern[str]) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_text(text)

    def step(self, name: str) -> None:
        """Follow the set-up stepper to one of its steps."""
        steps = self.page.get_by_role("navigation", name="Set-up steps")
        steps.get_by_role("link", name=name).click()

    def reload_until(self, target: Callable[[], Locator], *, timeout: float = SLOW) -> Locator:
        """Reload the page until ``target()`` is visible: a worker is doing the rest."""
        end = time.monotonic() + timeout / 1000
        while True:
            found = target()
            if found.count() and found.first.is_visible():
                return found.first
            if time.monotonic() > end:
                expect(found.first).to_be_visible(timeout=1)
            time.sleep(1.0)
            self.page.reload()

    def workspace(self) -> None:
        self.page.get_by_role("link", name="Workspace").click()
        self.heading(ORG)

    def link_page(self, account: str) -> None:
        self.workspace()
        self.page.get_by_role("link", name=f"{account} → {ORG}").click()
        self.heading(f"{account} → {ORG}")

    def sandbox_xero(self) -> None:
        """The sandbox's page of what the organisation holds."""
        self.page.goto(f"{self.sandbox}/xero/organisations/")
        self.page.get_by_role("link", name=ORG).click()
        self.heading(ORG)


def test_a_new_customer_from_sign_up_to_uninstall(
    page: Page, sandbox_url: str, tmp_path: Path
) -> None:
    sandbox_seed(site_url=sandbox_url.removesuffix("/sandbox"), orders=30, purchases=12, days=30)
    sandbox_configure(time_scale=SCALE)
    for old in ARTIFACTS.glob("journey-*.png"):  # the folder shows this run's steps only
        old.unlink()
    journey = Journey(page, sandbox_url)
    with (
        override_settings(RATE_LIMIT_TIME_SCALE=SCALE),  # the hub's pages call Xero too
        own_queue() as queue,
        _worker(sandbox_url, queue, tmp_path),
    ):
        try:
            _sign_up(journey)
            _choose_organisation(journey)
            _connect_seller_central(journey)
            _connect_business(journey)
            _import_purchases(journey)
            recent = _import_settlements(journey, days_ago=(30, 0), held=True)
            _map_and_review(journey, SELLER)
            _map_and_review(journey, BUSINESS)
            invoiced = _see_documents_in_xero(journey, recent)
            code = _archive_the_sales_account(journey)
            older = _import_settlements(journey, days_ago=(60, 31), held=False)
            _see_the_error(journey, code)
            _remap_retry_and_see_it_posted(journey, code, older)
            _roll_back_a_settlement(journey, invoiced)
            _uninstall(journey)
        except Exception:
            screenshot(page, "journey-failed")
            print((tmp_path / "worker.log").read_text()[-20000:])
            raise


@contextmanager
def _worker(sandbox_url: str, queue: str, tmp_path: Path) -> Iterator[object]:
    env = {
        **settings_env(sandbox_url),
        "RATE_LIMIT_TIME_SCALE": str(SCALE),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "AMAZON_LWA_URL": settings.AMAZON_LWA_URL,
        "AMAZON_SELLER_CENTRAL_URL": settings.AMAZON_SELLER_CENTRAL_URL,
        "AMAZON_SP_API_URL_EU": settings.AMAZON_SP_API_URL_EU,
        "AMAZON_SP_API_URL_NA": settings.AMAZON_SP_API_URL_NA,
        "AMAZON_SP_API_URL_FE": settings.AMAZON_SP_API_URL_FE,
        "AMAZON_BUSINESS_CONSENT_URL": settings.AMAZON_BUSINESS_CONSENT_URL,
        "AMAZON_BUSINESS_API_URL": settings.AMAZON_BUSINESS_API_URL,
        "HUB_VAR_DIR": str(tmp_path),
    }
    with celery_worker(env, queue=queue, concurrency=2, log=tmp_path / "worker.log") as proc:
        yield proc


# --- 1-3: sign up, choose the organisation, connect Amazon -----------------------------------


def _sign_up(journey: Journey) -> None:
    page = journey.page
    page.goto(journey.site)
    journey.heading("Amazon into Xero, to the cent.")
    page.get_by_role("link", name="Sign up with Xero").first.click()
    journey.heading("Sign in to Xero")
    page.get_by_label("Sandbox Xero user").select_option(
        label="Demo Owner (demo.owner@example.com)"
    )
    page.get_by_role("button", name="Sign in").click()
    journey.heading(re.compile(r"Allow .+ to access your Xero data"))
    page.get_by_label(ORG).check()
    page.get_by_label("Northwind Goods Ltd").check()
    journey.shot("xero-consent")
    page.get_by_role("button", name="Allow access").click()


def _choose_organisation(journey: Journey) -> None:
    page = journey.page
    journey.heading("Choose your Xero organisation")
    page.get_by_label(ORG).check()
    journey.shot("choose-organisation")
    page.get_by_role("button", name="Use this organisation").click()
    journey.heading("Connect Amazon Seller Central")
    expect(page.get_by_text(f"Connected to {ORG} in Xero.")).to_be_visible()


def _connect_seller_central(journey: Journey) -> None:
    page = journey.page
    page.get_by_label("Region").select_option("na")
    page.get_by_label("Name for this account").fill(SELLER)
    page.get_by_role("button", name="Continue to Seller Central").click()
    journey.heading(re.compile(r"Authorize .+"))
    page.get_by_label("Sign in as seller account").select_option("A2SANDBOXNA1")
    journey.shot("seller-central-consent")
    page.get_by_role("button", name="Confirm").click()
    journey.heading(f"Choose marketplaces for {SELLER}")
    page.get_by_label("Amazon.com (US, USD)").check()
    journey.shot("marketplaces")
    page.get_by_role("button", name="Save marketplaces").click()
    journey.heading("Connections")
    expect(page.get_by_text(f"{SELLER} will sync 1 marketplace(s).")).to_be_visible()


def _connect_business(journey: Journey) -> None:
    page = journey.page
    page.get_by_role("link", name="Connect Amazon Business").click()
    journey.heading("Connect Amazon Business")
    page.get_by_label("Region").select_option("na")
    page.get_by_label("Name for this account").fill(BUSINESS)
    page.get_by_label("Post into Xero organisation").select_option(label=ORG)
    page.get_by_role("button", name="Continue to Amazon Business").click()
    journey.heading(re.compile(r"Authorize .+"))
    journey.shot("business-consent")
    page.get_by_role("button", name="Allow").click()
    journey.heading("Connections")
    expect(page.get_by_text(f"{BUSINESS} is connected and will post into {ORG}.")).to_be_visible()
    links = page.get_by_role("table")
    expect(links.get_by_role("row", name=re.compile(f"{SELLER} {ORG} Active"))).to_be_visible()
    expect(links.get_by_role("row", name=re.compile(f"{BUSINESS} {ORG} Active"))).to_be_visible()
    journey.shot("connections")


# --- 4: import 30 days, then map and review ---------------------------------------------------


def _thirty_days_ago() -> str:
    return (timezone.now() - timedelta(days=30)).date().isoformat()


def _import_purchases(journey: Journey) -> None:
    page = journey.page
    journey.step("Import history")
    journey.heading("Import historical data")
    page.get_by_label("From").fill(_thirty_days_ago())
    page.get_by_role("button", name="Check this range").click()
    summary = page.locator(".preview-count")
    expect(summary).to_contain_text(re.compile(r"\d+ purchases"), timeout=SLOW)
    expect(summary).to_contain_text("0 already posted")
    new = int(re.search(r"(\d+) new", summary.inner_text()).group(1))  # type: ignore[union-attr]
    assert new > 0
    journey.shot("purchases-count")
    page.get_by_role("button", name=f"Import {new} new purchases").click()
    expect(page.get_by_role("heading", name="Last import")).to_be_visible(timeout=SLOW)
    expect(page.locator("[data-percent]").first).to_have_text("100 %")
    # Nothing is mapped yet: every document waits for the mapping step.
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    journey.shot("purchases-imported")


def _import_settlements(journey: Journey, *, days_ago: tuple[int, int], held: bool) -> list[str]:
    """Check a range of settlements, import what is new; returns the new settlements' ids."""
    page = journey.page
    journey.link_page(SELLER)
    page.get_by_role("link", name="Import a date range").click()
    journey.heading("Import settlements")
    today = timezone.now().date()
    first, last = (today - timedelta(days=n) for n in days_ago)
    if days_ago == (30, 0):  # the page's own default: the last 30 days
        expect(page.get_by_label("From", exact=True)).to_have_value(first.isoformat())
        expect(page.get_by_label("To", exact=True)).to_have_value(last.isoformat())
    else:
        page.get_by_label("From", exact=True).fill(first.isoformat())
        page.get_by_label("To", exact=True).fill(last.isoformat())
    page.get_by_role("button", name="Check this range").click()
    summary = page.locator(".preview-count")
    expect(summary).to_contain_text(
        re.compile(r"\d+ settlements? in this range: 0 already posted, [1-9]\d* new"),
        timeout=SLOW,
    )
    new = int(re.search(r"(\d+) new", summary.inner_text()).group(1))  # type: ignore[union-attr]
    ids = [
        row.get_attribute("id").removeprefix("check-")  # type: ignore[union-attr]
        for row in page.locator("tr[id^=check-]", has=page.locator("[data-status=new]")).all()
    ]
    assert len(ids) == new
    journey.shot(f"settlements-count-{days_ago[0]}-days")
    plural = "settlement" if new == 1 else "settlements"
    page.get_by_role("button", name=f"Import {new} new {plural}").click()
    expect(page.get_by_role("heading", name="Last import")).to_be_visible(timeout=SLOW)
    expect(page.locator("[data-percent]").first).to_have_text("100 %")
    journey.shot(f"settlements-imported-{days_ago[0]}-days")
    if held:  # nothing is mapped yet: the settlements wait for the mapping step
        page.get_by_role("link", name="Settlements", exact=True).click()
        for sid in ids:
            expect(page.locator(f"#settlement-{sid}")).to_contain_text("Held")
    return ids


def _choose(select: Locator, text: str) -> None:
    """Pick the option whose label contains ``text`` (account codes differ per organisation)."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    assert value, f"no option {text!r}"
    select.select_option(value)


def _map_and_review(journey: Journey, account: str) -> None:
    """The wizard's mapping step for the link that needs it, then its review and Finish."""
    page = journey.page
    journey.workspace()
    journey.step("Map accounts")
    journey.heading("Map accounts")
    expect(page.locator(".page-head")).to_contain_text(f"{account} (")
    page.get_by_role("button", name="Create recommended Amazon accounts in Xero").click()
    expect(page.get_by_text(re.compile(r"\d+ mappings filled in\."))).to_be_visible()
    # What the recommended accounts do not cover, the user maps by hand: categories Amazon
    # sent that are new or unknown, and (for Amazon Business) a gift card's bank account.
    fallback = "Amazon Selling Fees" if account == SELLER else "General Expenses"
    new = page.get_by_role("region", name="New: map this")
    for select in new.get_by_label(re.compile("^Account for ")).all():
        _choose(select, fallback)
    for select in new.get_by_label(re.compile("^Tax rate for ")).all():
        select.select_option("NONE")
    if account == BUSINESS:
        expect(page.get_by_text("Gift card has no account yet")).to_be_visible()
        _choose(page.get_by_label("Account for Gift card", exact=True), "Checking Account")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Mapping saved.")).to_be_visible()
    status = page.get_by_role("region", name="Status")
    expect(status).to_contain_text(re.compile(r"\d+ of \d+ categories mapped\."))
    expect(status.get_by_text("Ready to post")).to_be_visible()
    journey.shot(f"mapping-{account.lower().replace(' ', '-')}")
    journey.step("Review")
    journey.heading("Review")
    expect(page.locator(".page-head")).to_contain_text(f"{account} → {ORG}")
    expect(page.get_by_text("Everything is mapped and valid in Xero")).to_be_visible()
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_text("Set-up finished: documents post as they are pulled.")).to_be_visible()
    journey.heading(ORG)


# --- 5: the documents in Xero -----------------------------------------------------------------


def _posted(settlement: str) -> SettlementDocument:
    """The settlement's Xero document, once it and its payment are posted."""
    end = time.monotonic() + SLOW / 1000
    while time.monotonic() < end:
        document = (
            SettlementDocument.objects.filter(
                settlement__settlement_id=settlement,
                entry__status=EntryStatus.POSTED,
                payment_entry__status=EntryStatus.POSTED,
            )
            .select_related("entry")
            .first()
        )
        if document is not None and document.entry is not None:
            return document
        time.sleep(1)
    raise AssertionError(f"settlement {settlement} was not posted and paid")


def _posted_number(settlement: str) -> str:
    entry = _posted(settlement).entry
    assert entry is not None
    return entry.xero_number


def _see_documents_in_xero(journey: Journey, settlements: list[str]) -> str:
    """Every imported settlement paid in Xero, the purchases as bills and spend money; returns
    a settlement that posted as a sales invoice."""
    page = journey.page
    documents = {sid: _posted(sid) for sid in settlements}
    invoiced = next(sid for sid, d in documents.items() if d.kind == "invoice")
    journey.link_page(SELLER)
    page.get_by_role("link", name=re.compile("Settlements: list")).click()
    for sid in settlements:
        row = page.locator(f"#settlement-{sid}")
        expect(row).to_contain_text("Posted and paid")
        expect(row).to_contain_text(_posted_number(sid))
    journey.shot("settlements-posted")

    journey.link_page(BUSINESS)
    journey.reload_until(lambda: page.get_by_text("Nothing failed or held."))
    expect(page.get_by_role("cell", name="Bank transaction", exact=True)).to_be_visible()
    journey.shot("business-link")

    journey.sandbox_xero()
    for sid in settlements:
        # A settlement posts as an invoice, or as a bill when Amazon charged more than it paid.
        number = _posted_number(sid)
        row = page.locator("#sales, #bills").get_by_role("row", name=re.compile(re.escape(number)))
        expect(row).to_contain_text("PAID")
    bills = page.locator("#bills").get_by_role("row", name=re.compile(r"ACCPAY .* Amazon Business"))
    expect(bills.first).to_be_visible()  # Pay by Invoice purchases
    bank = page.locator("#bank").get_by_role(
        "row", name=re.compile("SPEND .*Amazon Business order")
    )
    expect(bank.first).to_be_visible()  # card purchases
    journey.shot("xero-documents")
    return invoiced


# --- 6-7: an archived account, the error, the remap -------------------------------------------


def _archive_the_sales_account(journey: Journey) -> str:
    """Archive, in Xero, the account the sales of every settlement post to; returns its code."""
    page = journey.page
    journey.sandbox_xero()
    archive = page.get_by_role("button", name=re.compile(r"^Archive account \d+ Amazon Sales$"))
    code = re.search(r"(\d+)", archive.get_attribute("aria-label") or "").group(1)  # type: ignore[union-attr]
    archive.click()
    expect(page.get_by_text(f"Account {code} Amazon Sales archived.")).to_be_visible()
    row = page.locator("#accounts").get_by_role("row", name=re.compile(f"^{code} Amazon Sales"))
    expect(row).to_contain_text("Archived")
    journey.shot("xero-sales-account-archived")
    return code


def _see_the_error(journey: Journey, code: str) -> None:
    """The older settlements' invoices used the archived account: Xero's words and the fix."""
    page = journey.page
    journey.link_page(SELLER)
    problem = page.locator("tr", has_text=f"Account code '{code}' has been archived")
    journey.reload_until(lambda: problem)
    expect(problem.first.get_by_text("Failed", exact=True)).to_be_visible()
    expect(problem.first).to_contain_text(
        f"Account {code} was archived in Xero: remap the category that uses it to an active "
        "account, then retry."
    )
    journey.shot("error-on-link-page")


def _remap_retry_and_see_it_posted(journey: Journey, code: str, settlements: list[str]) -> None:
    page = journey.page
    journey.workspace()
    page.get_by_role("link", name="Manage connections").click()
    page.get_by_role("row", name=re.compile(SELLER)).get_by_role(
        "link", name="Map accounts"
    ).click()
    journey.heading("Map accounts")
    page.get_by_role("button", name="Read chart again from Xero").click()
    expect(page.get_by_text("Your chart of accounts was read again from Xero.")).to_be_visible()
    status = page.get_by_role("region", name="Status")
    expect(status.get_by_text(re.compile(r"\d+ remap needed"))).to_be_visible()
    expect(
        page.get_by_text(f"Account {code} 'Amazon Sales' was archived in Xero").first
    ).to_be_visible()
    remapped = 0
    for select in page.get_by_label(re.compile("^Account for ")).all():
        if select.input_value() == code:
            select.select_option("400")  # the organisation's own "400 Sales"
            remapped += 1
    assert remapped
    journey.shot("remap")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Mapping saved.")).to_be_visible()
    expect(status.get_by_text("Ready to post")).to_be_visible()

    # Saving the mapping built the refused documents again with the new account; they stay
    # failed until the user retries them.
    journey.link_page(SELLER)
    rebuilt = page.locator("tr", has_text="Rebuilt with your new mapping: press Retry to send it.")
    expect(rebuilt.first).to_be_visible()
    expect(rebuilt.first.get_by_text("Failed", exact=True)).to_be_visible()
    journey.shot("rebuilt-after-remap")
    page.get_by_role("button", name="Retry all failed").click()
    expect(
        page.get_by_text(re.compile(r"[1-9]\d* failed document\(s\) queued again\."))
    ).to_be_visible()
    journey.reload_until(lambda: page.get_by_text("Nothing failed or held."))
    journey.shot("posted-after-remap")
    journey.sandbox_xero()
    for settlement in settlements:
        number = _posted_number(settlement)
        row = page.locator("#sales, #bills").get_by_role("row", name=re.compile(re.escape(number)))
        expect(row).to_contain_text("PAID")
    journey.shot("xero-posted-after-remap")


# --- 8: roll back a settlement ----------------------------------------------------------------


def _roll_back_a_settlement(journey: Journey, settlement: str) -> None:
    page = journey.page
    number = _posted_number(settlement)
    journey.workspace()
    page.get_by_role("link", name="Activity").click()
    journey.heading("Activity")
    page.get_by_label("Amazon id or Xero number").fill(settlement)
    page.get_by_role("button", name="Search").click()
    invoice = page.get_by_role("row", name=re.compile(re.escape(number)))
    expect(invoice).to_contain_text("Posted")
    invoice.get_by_role("button", name="Roll back").click()
    expect(page.get_by_text(f"Rolling back 2 document(s) for {settlement} in Xero")).to_be_visible()
    journey.reload_until(
        lambda: page.get_by_role("row", name=re.compile(re.escape(number))).get_by_text("Voided")
    )
    journey.shot("rolled-back")

    journey.sandbox_xero()
    voided = page.locator("#sales").get_by_role("row", name=re.compile(re.escape(number)))
    expect(voided).to_contain_text("VOIDED")
    journey.shot("xero-voided")

    journey.link_page(SELLER)
    page.get_by_role("link", name=re.compile("Settlements: list")).click()
    row = page.locator(f"#settlement-{settlement}")
    expect(row).to_contain_text("Rolled back")
    expect(row).to_contain_text("Its documents were voided in Xero.")
    row.get_by_role("button", name="Post again").click()
    expect(
        page.get_by_text(f"Settlement {settlement} will be posted again under a new number.")
    ).to_be_visible()
    journey.reload_until(
        lambda: page.locator(f"#settlement-{settlement}", has_text="Posted and paid")
    )
    expect(page.locator(f"#settlement-{settlement}")).to_contain_text(f"{number}-R1")
    journey.shot("posted-again")


# --- 9: uninstall -----------------------------------------------------------------------------


def _connected_apps(journey: Journey) -> Locator:
    """The sandbox Xero user's connections and grants, as Xero's settings would show them."""
    journey.page.goto(f"{journey.sandbox}/")
    journey.page.get_by_role("link", name="Connected apps").click()
    return journey.page.get_by_role("region", name=re.compile("Demo Owner"))


def _uninstall(journey: Journey) -> None:
    page = journey.page
    before = _connected_apps(journey)
    expect(before.get_by_role("row", name=re.compile(f"Ledgerbridge .*{ORG}"))).to_be_visible()
    journey.workspace()
    page.get_by_role("link", name="Manage connections").click()
    journey.heading("Connections")
    uninstall = page.locator(".danger-zone").get_by_role("link", name="Uninstall")
    box = uninstall.bounding_box()
    assert box is not None and box["x"] > 1280 / 2, "bottom right of the connections page"
    uninstall.click()
    journey.heading(f"Uninstall {ORG}")
    page.get_by_label(f"Type {ORG} to confirm").fill(ORG)
    journey.shot("uninstall-confirm")
    page.get_by_role("button", name="Uninstall").click()
    expect(page.get_by_text(f"{ORG} was uninstalled: Xero access revoked")).to_be_visible()
    journey.shot("uninstalled")

    owner = _connected_apps(journey)
    expect(owner.get_by_text("No app is connected.")).to_be_visible()
    expect(owner.get_by_text(re.compile("Revoked"))).to_be_visible()
    journey.shot("xero-connection-gone")

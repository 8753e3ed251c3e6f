"""Shared fixtures: the named personas, and a real sandbox server for tests that cross HTTP."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from playwright.sync_api import Browser, Page, sync_playwright

from hub.models import Customer, Membership
from hub.tenancy import customer_create
from sandbox.server import serve_in_thread
from sandbox.state import sandbox_configure
from tests.browser.conftest import CHROMIUM, FLAGS

User = get_user_model()


def _flush_by_delete() -> None:
    """After each test that crossed HTTP, every table is emptied. PostgreSQL's TRUNCATE of the
    ~90 tables costs a third of a second or more (new files for each table and index); DELETE
    of the few rows a test wrote costs milliseconds, which is minutes over the suite. Django's
    foreign keys are deferrable, so the order of the deletes does not matter in the flush's
    transaction. Resetting sequences or cascading still goes through TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations,
        style: object,
        tables: list[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if reset_sequences or allow_cascade or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        deletes = [f"DELETE FROM {self.quote_name(table)};" for table in tables]
        return ["SET CONSTRAINTS ALL DEFERRED;", *deletes]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


_flush_by_delete()


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("olivia", "olivia@example.com", "pw-olivia-123")


@pytest.fixture
def member(db: None) -> User:
    return User.objects.create_user("marco", "marco@example.com", "pw-marco-123")


@pytest.fixture
def outsider(db: None) -> User:
    """Has a workspace of her own, and must never see anyone else's."""
    user = User.objects.create_user("oscar", "oscar@example.com", "pw-oscar-123")
    customer_create(name="Oscar's Outlet", owner=user)
    return user


@pytest.fixture
def customer(owner: User, member: User) -> Customer:
    customer = customer_create(name="Acme Trading Ltd", owner=owner)
    Membership.objects.create(customer=customer, user=member, role=Membership.Role.MEMBER)
    return customer


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sandbox_url(transactional_db: None) -> Iterator[str]:
    """Serve the project on a free port; yields e.g. ``http://127.0.0.1:53211/sandbox``.

    The provider base URLs in settings point at it for the test, exactly as the hub would use
    them. Faults are off and time runs at x1 unless the test changes ``sandbox_configure``.
    """
    server, thread = serve_in_thread(poll_interval=0.05)  # a quick shutdown after each test
    base = f"http://127.0.0.1:{server.server_port}"
    sandbox = f"{base}/sandbox"
    overrides = {
        "SITE_URL": base,
        "SANDBOX_URL": sandbox,
        "ALLOWED_HOSTS": ["*"],
        "XERO_LOGIN_URL": f"{sandbox}/xero/login",
        "XERO_IDENTITY_URL": f"{sandbox}/xero/identity",
        "XERO_API_URL": f"{sandbox}/xero/api",
        "AMAZON_LWA_URL": f"{sandbox}/amazon/lwa",
        "AMAZON_SELLER_CENTRAL_URL": f"{sandbox}/amazon/sellercentral",
        "AMAZON_SP_API_URL_NA": f"{sandbox}/amazon/sp/na",
        "AMAZON_SP_API_URL_EU": f"{sandbox}/amazon/sp/eu",
        "AMAZON_SP_API_URL_FE": f"{sandbox}/amazon/sp/fe",
        "AMAZON_BUSINESS_CONSENT_URL": f"{sandbox}/business/store",
        "AMAZON_BUSINESS_API_URL": f"{sandbox}/business/api",
    }
    with override_settings(**overrides):
        sandbox_configure(
            time_scale=1.0, fault_5xx_rate=0.0, fault_timeout_rate=0.0, fault_reset_rate=0.0
        )
        try:
            yield sandbox
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


# --- Browser (Playwright driving Debian chromium; its own browser download does not exist here) ---


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
            "or set CHROMIUM_PATH."
        )
    # Playwright's sync API runs an event loop; Django must allow ORM calls from this thread.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        from_pw = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield from_pw
        from_pw.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()

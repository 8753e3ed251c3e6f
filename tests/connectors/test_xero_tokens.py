"""The Xero token chain: concurrent refreshes, revocation, reconnection."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from connectors import http
from connectors.models import Status, XeroGrant
from connectors.xero.auth import xero_access_token
from connectors.xero.client import connections_list
from hub.models import Customer
from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import Connection, Grant
from sandbox.xero_identity.seed import seed_identity
from sandbox.xero_identity.services import refreshes_made
from sandbox.xero_identity.testing import consent


def signed_up(sandbox_url: str) -> tuple[requests.Session, XeroGrant]:
    site = sandbox_url.removesuffix("/sandbox")
    Organisation.objects.get_or_create(
        short_code="!UK1",
        defaults={
            "name": "Acme Trading Ltd",
            "country_code": "GB",
            "base_currency": "GBP",
            "version": "UK",
        },
    )
    seed_identity(site_url=site)
    browser = requests.Session()
    start = browser.get(f"{site}/connect/xero", allow_redirects=False, timeout=10)
    back = consent(browser, start.headers["Location"], email="demo.owner@example.com")
    assert browser.get(back, allow_redirects=False, timeout=10).status_code == 302
    return browser, XeroGrant.objects.get()


def test_twenty_concurrent_refreshes_spend_one_refresh_token(sandbox_url: str) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("the refresh lock is a PostgreSQL row lock: run on PostgreSQL")
    _, grant = signed_up(sandbox_url)
    XeroGrant.objects.filter(pk=grant.pk).update(
        access_expires_at=timezone.now() + timedelta(seconds=30)
    )  # inside the refresh margin
    sandbox_grant = Grant.objects.get()
    results: list[str] = []
    errors: list[Exception] = []

    def worker() -> None:
        try:
            results.append(xero_access_token(grant.pk))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 20 and len(set(results)) == 1, "every caller got the one new token"
    assert refreshes_made(sandbox_grant) == 1
    grant.refresh_from_db()
    assert grant.refresh_count == 1
    assert grant.access_expires_at > timezone.now() + timedelta(minutes=25)
    # The token works against Xero.
    assert [c.tenant_name for c in connections_list(grant)] == ["Acme Trading Ltd"]


def test_revoked_in_xero_needs_reconnect_then_reconnect_resumes(sandbox_url: str) -> None:
    browser, grant = signed_up(sandbox_url)
    site = sandbox_url.removesuffix("/sandbox")
    # The user disconnects the app in Xero (the sandbox control acts as Xero's settings page).
    connection_id = str(Connection.objects.get().id)
    answer = requests.post(
        f"{sandbox_url}/xero/identity/control/disconnect",
        json={"connection_id": connection_id},
        timeout=10,
    )
    assert answer.json() == {"disconnected": [connection_id], "revoked_grants": 1}
    XeroGrant.objects.filter(pk=grant.pk).update(access_expires_at=timezone.now())

    with pytest.raises(http.AuthRejected):
        xero_access_token(grant.pk)
    grant.refresh_from_db()
    assert grant.status == Status.NEEDS_RECONNECT
    assert "disconnected in Xero" in grant.status_reason

    customer = Customer.objects.get()
    page = browser.get(f"{site}/w/{customer.code}/connections/", timeout=10)
    assert "Needs reconnecting" in page.text and "Reconnect Xero" in page.text

    start = browser.get(
        f"{site}/connect/xero?workspace={customer.code}", allow_redirects=False, timeout=10
    )
    back = consent(browser, start.headers["Location"], email="demo.owner@example.com")
    assert browser.get(back, allow_redirects=False, timeout=10).status_code == 302
    grant.refresh_from_db()
    assert grant.status == Status.ACTIVE and grant.status_reason == ""
    assert xero_access_token(grant.pk)


def test_owners_are_emailed_once_when_xero_needs_reconnecting(sandbox_url: str, mailoutbox) -> None:
    _, grant = signed_up(sandbox_url)
    connection_id = str(Connection.objects.get().id)
    requests.post(
        f"{sandbox_url}/xero/identity/control/disconnect",
        json={"connection_id": connection_id},
        timeout=10,
    )
    XeroGrant.objects.filter(pk=grant.pk).update(access_expires_at=timezone.now())
    for _ in range(2):
        with pytest.raises(http.AuthRejected):
            xero_access_token(grant.pk)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["demo.owner@example.com"]
    assert mail.subject.startswith("[Ledgerbridge] Reconnect")
    assert "disconnected in Xero" in mail.body and "/connections/" in mail.body

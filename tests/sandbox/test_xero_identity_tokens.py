"""The sandbox's Xero tokens after sign-in: refresh rotation and grace, concurrency, revocation,
/connections, disconnecting from Xero's side, the controls that age tokens, and the seed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.conf import settings
from django.http import JsonResponse
from django.test import RequestFactory
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import NotFoundException, OAuth2InvalidGrantError
from xero_python.identity import IdentityApi

from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import Connection, Grant, RefreshToken, XeroApp, XeroUser
from sandbox.xero_identity.seed import seed_identity
from sandbox.xero_identity.services import age_grant, refresh_tokens_spent, refreshes_made
from sandbox.xero_identity.testing import consent
from sandbox.xero_identity.tokens import Caller, api_caller
from tests.specs import validate_openapi

CALLBACK = "https://hub.example/connect/xero/callback"
SCOPES = "openid profile email offline_access accounting.settings accounting.invoices"
INVALID_GRANT = '{"error":"invalid_grant"}'


@pytest.fixture
def orgs(sandbox_url: str) -> list[Organisation]:
    seeded = [
        Organisation.objects.create(
            name=name, short_code=code, country_code="GB", base_currency="GBP", version="UK"
        )
        for name, code in [("Acme Trading Ltd", "!acme"), ("Beta Imports Ltd", "!beta")]
    ]
    seed_identity(site_url="https://hub.example")
    return seeded


Connect = Callable[..., dict[str, str]]


@pytest.fixture
def connect(sandbox_url: str, orgs: list[Organisation]) -> Connect:
    """Sign in and consent over HTTP, exchange the code: the token response."""

    def run(*, email: str = "demo.owner@example.com", tenants: int = 2) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": settings.XERO_CLIENT_ID,
            "redirect_uri": CALLBACK,
            "scope": SCOPES,
            "state": "s",
        }
        url = f"{sandbox_url}/xero/login/identity/connect/authorize?{urlencode(params)}"
        chosen = [str(o.tenant_id) for o in orgs[:tenants]]
        location = consent(requests.Session(), url, email=email, tenant_ids=chosen)
        code = parse_qs(urlsplit(location).query)["code"][0]
        response = _token(sandbox_url, grant_type="authorization_code", code=code)
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body

    return run


def _token(sandbox_url: str, **form: str) -> requests.Response:
    base = {
        "redirect_uri": CALLBACK,
        "client_id": settings.XERO_CLIENT_ID,
        "client_secret": settings.XERO_CLIENT_SECRET,
    }
    return requests.post(f"{sandbox_url}/xero/identity/connect/token", data=base | form, timeout=10)


def _refresh(sandbox_url: str, refresh_token: str) -> requests.Response:
    return _token(sandbox_url, grant_type="refresh_token", refresh_token=refresh_token)


def _connections(
    sandbox_url: str, access_token: str, path: str = "connections"
) -> requests.Response:
    return requests.get(
        f"{sandbox_url}/xero/api/{path}",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )


def test_refresh_rotates_and_the_old_token_has_thirty_minutes_grace(
    sandbox_url: str, connect: Connect
) -> None:
    first = connect()
    second = _refresh(sandbox_url, first["refresh_token"])
    assert second.status_code == 200
    body = second.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "token_type",
        "scope",
        "refresh_token",
        "id_token",
    }
    assert body["expires_in"] == 1800 and body["token_type"] == "Bearer"
    assert body["refresh_token"] != first["refresh_token"]
    assert _connections(sandbox_url, body["access_token"]).status_code == 200

    # The response was "lost": the old token still works within the grace...
    retry = _refresh(sandbox_url, first["refresh_token"])
    assert retry.status_code == 200 and retry.json()["refresh_token"] != body["refresh_token"]
    grant = Grant.objects.get()
    assert refresh_tokens_spent(grant) == 1 and refreshes_made(grant) == 2

    # ...and not after it: exactly the body xero-python recognises.
    age_grant(grant, 30 * 60 + 1)
    late = _refresh(sandbox_url, first["refresh_token"])
    assert late.status_code == 400 and late.text == INVALID_GRANT
    assert late.headers["Content-Type"].startswith("application/json")
    # The newest token was never spent, so it has no grace clock and still works.
    assert _refresh(sandbox_url, retry.json()["refresh_token"]).status_code == 200


def test_unknown_expired_and_foreign_refresh_tokens_are_invalid_grant(
    sandbox_url: str, connect: Connect
) -> None:
    tokens = connect()
    assert _refresh(sandbox_url, "not-a-token").text == INVALID_GRANT
    XeroApp.objects.create(client_id="other", client_secret="other-secret", name="Other")
    foreign = requests.post(
        f"{sandbox_url}/xero/identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("other", "other-secret"),
        timeout=5,
    )
    assert foreign.text == INVALID_GRANT
    age_grant(Grant.objects.get(), 60 * 24 * 3600)  # 60 days unused
    assert _refresh(sandbox_url, tokens["refresh_token"]).text == INVALID_GRANT
    missing = _token(sandbox_url, grant_type="refresh_token")
    assert missing.text == '{"error":"invalid_request"}'


def test_twenty_concurrent_refreshes_of_one_token_spend_it_once(
    sandbox_url: str, connect: Connect
) -> None:
    tokens = connect()
    results: list[requests.Response] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def spend() -> None:
        start.wait()
        response = _refresh(sandbox_url, tokens["refresh_token"])
        with lock:
            results.append(response)

    threads = [threading.Thread(target=spend) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [r.status_code for r in results] == [200] * 20, [r.text for r in results]
    bodies = [r.json() for r in results]
    assert len({b["access_token"] for b in bodies}) == 20
    assert len({b["refresh_token"] for b in bodies}) == 20
    for body in bodies:
        assert _connections(sandbox_url, body["access_token"]).status_code == 200
    grant = Grant.objects.get()
    spent = RefreshToken.objects.filter(grant=grant, used_at__isnull=False)
    assert spent.count() == 1 == refresh_tokens_spent(grant)
    original = spent.get()
    assert original.successors.count() == 20 == refreshes_made(grant)
    # Every new token is live and unspent; any one of them continues the chain.
    assert RefreshToken.objects.filter(grant=grant, used_at=None).count() == 20
    assert _refresh(sandbox_url, bodies[7]["refresh_token"]).status_code == 200


def test_connections_list_filter_and_delete(sandbox_url: str, connect: Connect) -> None:
    tokens = connect()
    access = tokens["access_token"]
    listed = _connections(sandbox_url, access)
    assert listed.status_code == 200
    # Xero's paths are case-insensitive; the spec (and xero-python) say /Connections.
    spec_cased = _connections(sandbox_url, access, "Connections")
    validate_openapi(
        spec_cased,
        spec="xero/xero-identity.yaml",
        sandbox_base=f"{sandbox_url}/xero/api",
        real_base="https://api.xero.com",
    )
    assert spec_cased.json() == listed.json()
    rows = listed.json()
    grant = Grant.objects.get()
    assert [set(r) for r in rows] == [
        {
            "id",
            "authEventId",
            "tenantId",
            "tenantType",
            "tenantName",
            "createdDateUtc",
            "updatedDateUtc",
        }
    ] * 2
    assert rows[0]["tenantType"] == "ORGANISATION"
    assert rows[0]["authEventId"] == str(grant.auth_event_id)
    # Xero's seven fractional digits, in UTC.
    assert len(rows[0]["createdDateUtc"]) == len("2019-12-07T18:46:19.5165400Z")
    assert rows[0]["createdDateUtc"].endswith("0Z")

    filtered = requests.get(
        f"{sandbox_url}/xero/api/Connections",
        params={"authEventId": str(grant.auth_event_id)},
        headers={"Authorization": f"Bearer {access}"},
        timeout=5,
    )
    validate_openapi(
        filtered,
        spec="xero/xero-identity.yaml",
        sandbox_base=f"{sandbox_url}/xero/api",
        real_base="https://api.xero.com",
    )
    assert len(filtered.json()) == 2
    other_event = requests.get(
        f"{sandbox_url}/xero/api/connections",
        params={"authEventId": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {access}"},
        timeout=5,
    )
    assert other_event.json() == []

    # The Accounting API's gatekeeper lets the tenant through, until it is disconnected.
    acme = rows[0]["tenantId"]
    request = RequestFactory().get(
        "/sandbox/xero/api/api.xro/2.0/Organisation",
        headers={"Authorization": f"Bearer {access}", "xero-tenant-id": acme},
    )
    assert isinstance(api_caller(request), Caller)

    deleted = requests.delete(
        f"{sandbox_url}/xero/api/Connections/{rows[0]['id']}",
        headers={"Authorization": f"Bearer {access}"},
        timeout=5,
    )
    validate_openapi(
        deleted,
        spec="xero/xero-identity.yaml",
        sandbox_base=f"{sandbox_url}/xero/api",
        real_base="https://api.xero.com",
    )
    assert deleted.status_code == 204 and deleted.content == b""
    again = requests.delete(
        f"{sandbox_url}/xero/api/connections/{rows[0]['id']}",
        headers={"Authorization": f"Bearer {access}"},
        timeout=5,
    )
    assert again.status_code == 404
    assert [r["tenantId"] for r in _connections(sandbox_url, access).json()] == [
        rows[1]["tenantId"]
    ]
    refused = api_caller(request)
    assert isinstance(refused, JsonResponse) and refused.status_code == 403
    assert b'"Detail": "AuthenticationUnsuccessful"' in refused.content
    # The app deleting its own connections does not revoke its tokens.
    assert _refresh(sandbox_url, tokens["refresh_token"]).status_code == 200


def test_connections_belong_to_one_user_and_app(sandbox_url: str, connect: Connect) -> None:
    owner = connect()
    bookkeeper = connect(email="sam.bookkeeper@example.com", tenants=1)
    owner_rows = _connections(sandbox_url, owner["access_token"]).json()
    bookkeeper_rows = _connections(sandbox_url, bookkeeper["access_token"]).json()
    assert len(owner_rows) == 2 and len(bookkeeper_rows) == 1
    assert bookkeeper_rows[0]["id"] not in {r["id"] for r in owner_rows}
    # The bookkeeper cannot disconnect the owner's connection: 404, and it stays.
    outsider = requests.delete(
        f"{sandbox_url}/xero/api/connections/{owner_rows[0]['id']}",
        headers={"Authorization": f"Bearer {bookkeeper['access_token']}"},
        timeout=5,
    )
    assert outsider.status_code == 404
    assert Connection.objects.filter(id=owner_rows[0]["id"]).exists()
    assert (
        requests.delete(
            f"{sandbox_url}/xero/api/connections/not-a-uuid",
            headers={"Authorization": f"Bearer {owner['access_token']}"},
            timeout=5,
        ).status_code
        == 404
    )


def test_connections_need_a_live_token(sandbox_url: str, connect: Connect) -> None:
    tokens = connect()
    nobody = requests.get(f"{sandbox_url}/xero/api/connections", timeout=5)
    assert nobody.status_code == 401
    assert nobody.json()["Title"] == "Unauthorized"
    assert nobody.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    age_grant(Grant.objects.get(), 1800)
    expired = _connections(sandbox_url, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")
    bad_filter = requests.get(
        f"{sandbox_url}/xero/api/connections?authEventId=nope",
        headers={"Authorization": f"Bearer {connect()['access_token']}"},
        timeout=5,
    )
    assert bad_filter.status_code == 400


def test_revocation_removes_every_connection_and_ends_the_chain(
    sandbox_url: str, connect: Connect
) -> None:
    tokens = connect()
    other_chain = connect(tenants=1)  # the same user and app, consented again
    bookkeeper = connect(email="sam.bookkeeper@example.com", tenants=1)
    revoke_url = f"{sandbox_url}/xero/identity/connect/revocation"
    base = {"client_id": settings.XERO_CLIENT_ID, "client_secret": settings.XERO_CLIENT_SECRET}

    bad_client = requests.post(
        revoke_url, data=base | {"client_secret": "x", "token": tokens["refresh_token"]}, timeout=5
    )
    assert bad_client.status_code == 400 and bad_client.text == '{"error":"invalid_client"}'
    unknown = requests.post(revoke_url, data=base | {"token": "never-issued"}, timeout=5)
    assert unknown.status_code == 200
    assert Connection.objects.count() == 3

    revoked = requests.post(revoke_url, data=base | {"token": tokens["refresh_token"]}, timeout=5)
    assert revoked.status_code == 200
    owner = XeroUser.objects.get(email="demo.owner@example.com")
    assert not Connection.objects.filter(user=owner).exists()
    assert Connection.objects.filter(user__email="sam.bookkeeper@example.com").count() == 1
    assert _refresh(sandbox_url, tokens["refresh_token"]).text == INVALID_GRANT
    assert _connections(sandbox_url, tokens["access_token"]).status_code == 401
    # The user's other chain is not revoked, but reaches no tenant any more.
    assert _connections(sandbox_url, other_chain["access_token"]).json() == []
    assert _connections(sandbox_url, bookkeeper["access_token"]).status_code == 200


def test_disconnecting_from_xero_revokes_the_tokens_with_the_last_connection(
    sandbox_url: str, connect: Connect
) -> None:
    tokens = connect()
    acme, beta = Connection.objects.order_by("tenant_name")
    control = f"{sandbox_url}/xero/identity/control/disconnect"

    first = requests.post(control, json={"connection_id": str(acme.id)}, timeout=5)
    assert first.json() == {"disconnected": [str(acme.id)], "revoked_grants": 0}
    refreshed = _refresh(sandbox_url, tokens["refresh_token"])
    assert refreshed.status_code == 200, "one organisation is still connected"

    last = requests.post(
        control,
        json={"tenant_id": str(beta.tenant_id), "client_id": settings.XERO_CLIENT_ID},
        timeout=5,
    )
    assert last.json() == {"disconnected": [str(beta.id)], "revoked_grants": 1}
    assert _refresh(sandbox_url, refreshed.json()["refresh_token"]).text == INVALID_GRANT
    assert _connections(sandbox_url, refreshed.json()["access_token"]).status_code == 401

    assert requests.post(control, json={}, timeout=5).status_code == 400
    assert requests.post(control, json={"connection_id": "x"}, timeout=5).status_code == 400


def test_the_connections_page_disconnects_as_the_user_would(
    sandbox_url: str, connect: Connect
) -> None:
    connect(tenants=1)
    page = requests.get(f"{sandbox_url}/xero/identity/connections/", timeout=5)
    assert page.status_code == 200
    assert "Demo Owner" in page.text and "Acme Trading Ltd" in page.text
    assert "Disconnect (as the user would in Xero)" in page.text
    assert '<span class="badge badge-ok">Live</span>' in page.text
    connection = Connection.objects.get()
    browser = requests.Session()
    after = browser.post(
        f"{sandbox_url}/xero/identity/control/disconnect",
        data={"connection_id": str(connection.id)},
        timeout=5,
    )
    assert after.status_code == 200 and after.url.endswith("/xero/identity/connections/")
    assert "Disconnected. The app&#x27;s tokens were revoked." in after.text
    assert "No app is connected." in after.text and "Revoked" in after.text
    assert Grant.objects.get().revoked_at is not None


def test_the_expire_control_ages_tokens(sandbox_url: str, connect: Connect) -> None:
    tokens = connect()
    expire = f"{sandbox_url}/xero/identity/control/expire"
    assert _connections(sandbox_url, tokens["access_token"]).status_code == 200
    aged = requests.post(
        expire, json={"seconds": 1800, "access_token": tokens["access_token"]}, timeout=5
    )
    assert aged.json() == {"grants": 1, "seconds": 1800}
    assert _connections(sandbox_url, tokens["access_token"]).status_code == 401

    fresh = _refresh(sandbox_url, tokens["refresh_token"]).json()
    requests.post(
        expire, json={"seconds": 1801, "refresh_token": fresh["refresh_token"]}, timeout=5
    )
    assert _refresh(sandbox_url, tokens["refresh_token"]).text == INVALID_GRANT
    by_app = requests.post(
        expire,
        json={"seconds": 5, "client_id": settings.XERO_CLIENT_ID, "email": "nobody@x.com"},
        timeout=5,
    )
    assert by_app.status_code == 404
    assert requests.post(expire, json={"seconds": -1, "client_id": "x"}, timeout=5).json() == {
        "error": "seconds must be a positive number"
    }


def test_xero_python_reads_connections_and_spots_invalid_grant(
    sandbox_url: str, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = connect()
    identity = settings.XERO_IDENTITY_URL
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{identity}/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{identity}/connect/revocation")
    config = Configuration()
    config.oauth2_token = OAuth2Token(
        client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
    )
    saved: list[dict[str, object]] = []
    token_set = {
        k: tokens[k]
        for k in ("access_token", "refresh_token", "scope", "expires_in", "token_type", "id_token")
    }
    client = ApiClient(
        config,
        oauth2_token_getter=lambda: saved[-1] if saved else token_set,
        oauth2_token_saver=saved.append,
        pool_threads=1,
    )
    api = IdentityApi(client, base_url=f"{sandbox_url}/xero/api")
    connections = api.get_connections()
    assert [c.tenant_name for c in connections] == ["Acme Trading Ltd", "Beta Imports Ltd"]
    assert str(connections[0].auth_event_id) == str(Grant.objects.get().auth_event_id)
    assert connections[0].created_date_utc.tzinfo is not None

    # A refresh through the SDK rotates the token...
    client.refresh_oauth2_token()
    assert saved and saved[-1]["refresh_token"] != tokens["refresh_token"]
    api.delete_connection(connections[0].id)
    with pytest.raises(NotFoundException):
        api.delete_connection(connections[0].id)
    assert [c.tenant_name for c in api.get_connections()] == ["Beta Imports Ltd"]

    # ...and after revocation the identity API says invalid_grant in the SDK's own terms.
    client.revoke_oauth2_token()
    assert Connection.objects.count() == 0
    stale = ApiClient(
        config,
        oauth2_token_getter=lambda: token_set | {"expires_at": 0},
        oauth2_token_saver=saved.append,
        pool_threads=1,
    )
    with pytest.raises(OAuth2InvalidGrantError):
        IdentityApi(stale, base_url=f"{sandbox_url}/xero/api").get_connections()


def test_the_seed_is_idempotent_and_registers_the_hub(sandbox_url: str) -> None:
    assert seed_identity(site_url="http://localhost:8000").startswith("xero identity: app")
    assert XeroUser.objects.get(email="demo.owner@example.com").tenant_ids == []
    orgs = [
        Organisation.objects.create(
            name=name, short_code=code, country_code="GB", base_currency="GBP", version="UK"
        )
        for name, code in [("Beta Imports Ltd", "!beta"), ("Acme Trading Ltd", "!acme")]
    ]
    first = seed_identity(site_url="http://localhost:8000")
    second = seed_identity(site_url="http://localhost:8000/")
    assert (
        first
        == second
        == (
            "xero identity: app 'Ledgerbridge (sandbox)' (sandbox-hub-xero-client), 2 users, "
            "2 organisations to connect"
        )
    )
    app = XeroApp.objects.get()
    assert app.client_id == settings.XERO_CLIENT_ID
    assert app.client_secret == settings.XERO_CLIENT_SECRET
    assert app.redirect_uris == ["http://localhost:8000/connect/xero/callback"]
    assert {"openid", "profile", "email", "offline_access", "accounting.invoices"} <= set(
        app.allowed_scopes
    )
    assert "accounting.transactions" not in app.allowed_scopes
    owner = XeroUser.objects.get(email="demo.owner@example.com")
    bookkeeper = XeroUser.objects.get(email="sam.bookkeeper@example.com")
    acme, beta = sorted(orgs, key=lambda o: o.name)
    assert owner.tenant_ids == [str(acme.tenant_id), str(beta.tenant_id)]
    assert bookkeeper.tenant_ids == [str(acme.tenant_id)]
    assert XeroUser.objects.count() == 2
    user_id = owner.xero_userid
    seed_identity(site_url="http://localhost:8000")
    assert XeroUser.objects.get(email="demo.owner@example.com").xero_userid == user_id


def test_a_lost_refresh_response_is_recovered_within_the_grace(
    sandbox_url: str, connect: Connect
) -> None:
    """The case the grace exists for: Xero rotated the token but the response never arrived."""
    from sandbox.state import sandbox_configure

    tokens = connect()
    sandbox_configure(fault_timeout_rate=1.0, fault_timeout_seconds=0.1)
    with pytest.raises(requests.ConnectionError):
        _refresh(sandbox_url, tokens["refresh_token"])
    sandbox_configure(fault_timeout_rate=0.0)
    grant = Grant.objects.get()
    assert refresh_tokens_spent(grant) == 1, "the withheld refresh was processed"
    retry = _refresh(sandbox_url, tokens["refresh_token"])
    assert retry.status_code == 200
    assert _connections(sandbox_url, retry.json()["access_token"]).status_code == 200
    assert refreshes_made(grant) == 2

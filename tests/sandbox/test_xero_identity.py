"""The sandbox's Xero sign-in: discovery, the authorize/consent page and the code exchange.

Driven over real HTTP with Authlib (what the hub uses) and plain requests for the consent form.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.django_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from django.conf import settings

from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import (
    AuthorizationCode,
    Connection,
    Grant,
    RefreshToken,
    XeroApp,
    XeroUser,
)
from sandbox.xero_identity.seed import seed_identity
from sandbox.xero_identity.services import age_grant, register_redirect_uri
from sandbox.xero_identity.testing import consent, parse_forms

CALLBACK = "https://hub.example/connect/xero/callback"
HUB_SCOPES = (
    "openid profile email offline_access accounting.settings accounting.contacts "
    "accounting.invoices accounting.payments accounting.banktransactions "
    "accounting.manualjournals accounting.attachments"
)


def _org(name: str, code: str, **extra: str) -> Organisation:
    return Organisation.objects.create(
        name=name, short_code=code, country_code="GB", base_currency="GBP", version="UK", **extra
    )


@pytest.fixture
def world(sandbox_url: str) -> dict[str, object]:
    """Three organisations, the hub's app and the two seeded users (owner sees all three)."""
    orgs = [
        _org("Acme Trading Ltd", "!acme"),
        _org("Beta Imports Ltd", "!beta"),
        _org("Partner Practice", "!part", edition="PARTNER"),
    ]
    seed_identity(site_url="https://hub.example")
    app = XeroApp.objects.get(client_id=settings.XERO_CLIENT_ID)
    return {
        "orgs": orgs,
        "app": app,
        "owner": XeroUser.objects.get(email="demo.owner@example.com"),
        "bookkeeper": XeroUser.objects.get(email="sam.bookkeeper@example.com"),
    }


def _metadata(sandbox_url: str) -> dict[str, object]:
    response = requests.get(
        f"{sandbox_url}/xero/identity/.well-known/openid-configuration", timeout=5
    )
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def _verifier() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize_url(sandbox_url: str, **params: str) -> str:
    base = {
        "response_type": "code",
        "client_id": settings.XERO_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": HUB_SCOPES,
        "state": "st-123",
    }
    return f"{sandbox_url}/xero/login/identity/connect/authorize?{urlencode(base | params)}"


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _exchange(sandbox_url: str, **form: str) -> requests.Response:
    base = {
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK,
        "client_id": settings.XERO_CLIENT_ID,
        "client_secret": settings.XERO_CLIENT_SECRET,
    }
    return requests.post(f"{sandbox_url}/xero/identity/connect/token", data=base | form, timeout=5)


def test_discovery_and_jwks_are_what_authlib_reads(sandbox_url: str, world: dict) -> None:
    meta = _metadata(sandbox_url)
    assert meta["issuer"] == settings.XERO_IDENTITY_URL == f"{sandbox_url}/xero/identity"
    assert meta["authorization_endpoint"] == (
        f"{sandbox_url}/xero/login/identity/connect/authorize"
    )
    assert meta["token_endpoint"] == f"{sandbox_url}/xero/identity/connect/token"
    assert meta["revocation_endpoint"] == f"{sandbox_url}/xero/identity/connect/revocation"
    assert meta["userinfo_endpoint"] == f"{sandbox_url}/xero/identity/connect/userinfo"
    assert meta["jwks_uri"] == f"{sandbox_url}/xero/identity/.well-known/openid-configuration/jwks"
    assert meta["response_types_supported"] == ["code"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["code_challenge_methods_supported"] == ["plain", "S256"]
    scopes = meta["scopes_supported"]
    assert isinstance(scopes, list)
    assert {"openid", "offline_access", "accounting.invoices", "accounting.transactions"} <= set(
        scopes
    )

    # Authlib's Django client, configured as the hub configures it, loads the same document.
    client = OAuth().register(
        "xero",
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        server_metadata_url=f"{settings.XERO_IDENTITY_URL}/.well-known/openid-configuration",
    )
    assert client.load_server_metadata()["issuer"] == meta["issuer"]
    keys = client.fetch_jwk_set()["keys"]
    assert len(keys) == 1 and keys[0]["alg"] == "RS256" and keys[0]["kty"] == "RSA"
    assert "d" not in keys[0], "the private exponent is never published"


def test_full_code_flow_with_pkce_through_authlib(sandbox_url: str, world: dict) -> None:
    meta = _metadata(sandbox_url)
    oauth = OAuth2Session(
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        scope=HUB_SCOPES,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    url, state = oauth.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    browser = requests.Session()
    orgs = world["orgs"]
    location = consent(
        browser,
        url,
        email="demo.owner@example.com",
        tenant_ids=[str(orgs[0].tenant_id), str(orgs[1].tenant_id)],
    )
    assert location.startswith(CALLBACK + "?")
    returned = _query(location)
    assert returned["state"] == state and set(returned) == {"code", "state"}

    token = oauth.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer" and token["expires_in"] == 1800
    assert token["scope"] == HUB_SCOPES
    assert set(token) >= {"access_token", "refresh_token", "id_token", "expires_at"}

    # The id_token, checked with Authlib against the published JWKS, as the hub's client does.
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=5).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": meta["issuer"]}},
        claims_params={"nonce": nonce, "client_id": settings.XERO_CLIENT_ID},
    )
    claims.validate()
    owner = world["owner"]
    assert claims["aud"] == settings.XERO_CLIENT_ID
    assert claims["xero_userid"] == str(owner.xero_userid)
    assert claims["email"] == "demo.owner@example.com"
    assert claims["given_name"] == "Demo" and claims["family_name"] == "Owner"
    assert claims["name"] == "Demo Owner"
    # And the Django integration's parse_id_token (discovery + JWKS fetch) accepts it too.
    client = OAuth().register(
        "xero",
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        server_metadata_url=f"{settings.XERO_IDENTITY_URL}/.well-known/openid-configuration",
    )
    assert client.parse_id_token(dict(token), nonce=nonce)["sub"] == claims["sub"]

    # The access token is a JWT too, naming the auth event that /connections filters on.
    access = jwt.decode(token["access_token"], keys)
    assert access["iss"] == meta["issuer"] and access["client_id"] == settings.XERO_CLIENT_ID
    assert access["exp"] - access["iat"] == 1800
    grant = Grant.objects.get()
    assert access["authentication_event_id"] == str(grant.auth_event_id)

    connections = requests.get(
        f"{sandbox_url}/xero/api/connections",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    ).json()
    assert [c["tenantName"] for c in connections] == ["Acme Trading Ltd", "Beta Imports Ltd"]
    assert {c["authEventId"] for c in connections} == {str(grant.auth_event_id)}

    userinfo = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    )
    assert userinfo.status_code == 200
    assert userinfo.json() == {
        "sub": claims["sub"],
        "xero_userid": str(owner.xero_userid),
        "email": "demo.owner@example.com",
        "email_verified": True,
        "given_name": "Demo",
        "family_name": "Owner",
        "name": "Demo Owner",
        "preferred_username": "demo.owner@example.com",
    }


def test_basic_auth_and_no_openid_means_no_id_token(sandbox_url: str, world: dict) -> None:
    verifier, challenge = _verifier()
    url = _authorize_url(
        sandbox_url,
        scope="accounting.invoices offline_access",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    code = _query(consent(requests.Session(), url, email="sam.bookkeeper@example.com"))["code"]
    response = requests.post(
        f"{sandbox_url}/xero/identity/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert body["scope"] == "accounting.invoices offline_access"
    assert response.headers["Cache-Control"].startswith("no-store")


def test_userinfo_needs_openid_and_a_live_token(sandbox_url: str, world: dict) -> None:
    url = _authorize_url(sandbox_url, scope="accounting.invoices")
    code = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    token = _exchange(sandbox_url, code=code).json()
    assert "refresh_token" not in token, "no offline_access, no refresh token"
    userinfo = f"{sandbox_url}/xero/identity/connect/userinfo"
    no_openid = requests.get(
        userinfo, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=5
    )
    assert no_openid.status_code == 403
    assert no_openid.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    bad = requests.get(userinfo, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("scope", "refused"),
    [
        ("openid offline_access accounting.transactions", "accounting.transactions"),
        ("accounting.transactions.read", "accounting.transactions.read"),
        ("openid accounting.reports.read", "accounting.reports.read"),
        ("openid accounting.everything", "accounting.everything"),
    ],
)
def test_broad_and_unknown_scopes_are_refused_with_invalid_scope(
    sandbox_url: str, world: dict, scope: str, refused: str
) -> None:
    response = requests.get(
        _authorize_url(sandbox_url, scope=scope), allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{CALLBACK}?error=invalid_scope&state=st-123"
    assert not Grant.objects.exists()


def test_a_scope_the_app_is_not_configured_for_is_refused(sandbox_url: str, world: dict) -> None:
    app = world["app"]
    app.allowed_scopes = ["openid", "accounting.invoices"]
    app.save()
    response = requests.get(
        _authorize_url(sandbox_url, scope="openid accounting.contacts"),
        allow_redirects=False,
        timeout=5,
    )
    assert response.headers["Location"] == f"{CALLBACK}?error=invalid_scope&state=st-123"


def test_an_app_from_before_march_2026_may_still_ask_for_broad_scopes(
    sandbox_url: str, world: dict
) -> None:
    app = world["app"]
    XeroApp.objects.filter(pk=app.pk).update(
        created_at="2025-06-01T00:00:00Z",
        allowed_scopes=[*app.allowed_scopes, "accounting.transactions"],
    )
    url = _authorize_url(sandbox_url, scope="openid accounting.transactions")
    location = consent(requests.Session(), url, email="demo.owner@example.com")
    assert set(_query(location)) == {"code", "state"}
    assert Grant.objects.get().scopes == ["openid", "accounting.transactions"]


def test_unknown_client_and_foreign_redirect_get_an_error_page_not_a_redirect(
    sandbox_url: str, world: dict
) -> None:
    unknown = requests.get(
        _authorize_url(sandbox_url, client_id="who-is-this"), allow_redirects=False, timeout=5
    )
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    assert "unauthorized_client" in unknown.text
    foreign = requests.get(
        _authorize_url(sandbox_url, redirect_uri="https://evil.example/cb", scope="nope"),
        allow_redirects=False,
        timeout=5,
    )
    assert foreign.status_code == 400 and "Location" not in foreign.headers
    assert "Invalid redirect_uri" in foreign.text
    prefix = requests.get(
        _authorize_url(sandbox_url, redirect_uri=CALLBACK + "/extra"),
        allow_redirects=False,
        timeout=5,
    )
    assert prefix.status_code == 400, "the redirect URI must match exactly"


def test_other_request_errors_go_back_to_the_app(sandbox_url: str, world: dict) -> None:
    def location(**params: str) -> str:
        response = requests.get(
            _authorize_url(sandbox_url, **params), allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text
        return str(response.headers["Location"])

    assert location(response_type="token") == (
        f"{CALLBACK}?error=unsupported_response_type&state=st-123"
    )
    assert location(scope="") == f"{CALLBACK}?error=invalid_request&state=st-123"
    assert location(code_challenge="x" * 43, code_challenge_method="S512") == (
        f"{CALLBACK}?error=invalid_request&state=st-123"
    )
    assert location(code_challenge="short") == f"{CALLBACK}?error=invalid_request&state=st-123"


def test_cancel_sends_access_denied_and_connects_nothing(sandbox_url: str, world: dict) -> None:
    location = consent(
        requests.Session(),
        _authorize_url(sandbox_url),
        email="demo.owner@example.com",
        action="cancel",
    )
    assert location == f"{CALLBACK}?error=access_denied&state=st-123"
    assert not Grant.objects.exists() and not Connection.objects.exists()


def test_the_consent_page_shows_the_app_scopes_and_the_users_organisations(
    sandbox_url: str, world: dict
) -> None:
    browser = requests.Session()
    url = _authorize_url(sandbox_url)
    page = browser.get(url, timeout=5)
    assert page.status_code == 200
    assert "Sign in to Xero" in page.text and "no password is needed" in page.text
    (form,) = parse_forms(page.text)
    assert [text for _, text in form.options["xero_user"]] == [
        "Demo Owner (demo.owner@example.com)",
        "Sam Bookkeeper (sam.bookkeeper@example.com)",
    ]
    # Sign in as the owner and look at the consent step.
    fields = [*form.fields, ("xero_user", str(world["owner"].xero_userid)), ("action", "signin")]
    signed_in = browser.post(url.split("?")[0], data=fields, allow_redirects=False, timeout=5)
    assert signed_in.status_code == 303
    page = browser.get(urljoin(url, signed_in.headers["Location"]), timeout=5)
    assert "Allow Ledgerbridge (sandbox) to access your Xero data" in page.text
    assert "Signed in as <strong>Demo Owner</strong>" in page.text
    assert "View and manage your invoices, credit notes" in page.text
    assert "Keep access to your data while you are not using the app" in page.text
    assert 'Partner Practice <span class="muted">(partner edition)</span>' in page.text
    (form,) = parse_forms(page.text)
    assert [value for _, value, _ in form.checkboxes] == [str(o.tenant_id) for o in world["orgs"]]
    assert [label for _, _, label in form.buttons] == [
        "Not you? Sign in as someone else",
        "Allow access",
        "Cancel",
    ]

    # Nothing ticked: the page says so and nothing is connected.
    data = [*form.fields, ("action", "allow")]
    again = browser.post(url.split("?")[0], data=data, allow_redirects=False, timeout=5)
    assert again.status_code == 200 and "Choose at least one organisation." in again.text
    assert not Connection.objects.exists()

    # The bookkeeper can reach one organisation only, and cannot smuggle in another.
    bookkeeper = requests.Session()
    consent(bookkeeper, url, email="sam.bookkeeper@example.com", action="cancel")
    page = bookkeeper.get(url, timeout=5)
    (form,) = parse_forms(page.text)
    assert [value for _, value, _ in form.checkboxes] == [str(world["orgs"][0].tenant_id)]
    beta = str(world["orgs"][1].tenant_id)
    data = [*form.fields, ("tenant", beta), ("action", "allow")]
    smuggled = bookkeeper.post(url.split("?")[0], data=data, allow_redirects=False, timeout=5)
    assert smuggled.status_code == 200
    assert "You can only connect organisations you have access to." in smuggled.text
    assert not Connection.objects.exists()


def test_reconnecting_keeps_the_connection_and_marks_it_connected(
    sandbox_url: str, world: dict
) -> None:
    browser = requests.Session()
    acme, beta = (str(o.tenant_id) for o in world["orgs"][:2])
    consent(browser, _authorize_url(sandbox_url), email="demo.owner@example.com", tenant_ids=[acme])
    first = Connection.objects.get()
    page = browser.get(_authorize_url(sandbox_url), timeout=5)
    assert "Already connected" in page.text
    (form,) = parse_forms(page.text)
    assert [(value, checked) for _, value, checked in form.checkboxes][:2] == [
        (acme, True),
        (beta, False),
    ]
    consent(
        browser,
        _authorize_url(sandbox_url, scope="openid accounting.contacts"),
        email="demo.owner@example.com",
        tenant_ids=[acme, beta],
    )
    again = Connection.objects.get(tenant_id=acme)
    assert again.id == first.id and again.created_at == first.created_at
    assert again.updated_at > first.updated_at and again.auth_event_id != first.auth_event_id
    latest = Grant.objects.order_by("-created_at").first()
    assert latest is not None and again.auth_event_id == latest.auth_event_id
    # Scopes are additive: the new consent keeps what the user granted before.
    assert latest.scopes[:2] == ["openid", "accounting.contacts"]
    assert set(latest.scopes) == set(HUB_SCOPES.split())


def test_switching_the_signed_in_xero_user(sandbox_url: str, world: dict) -> None:
    browser = requests.Session()
    consent(browser, _authorize_url(sandbox_url), email="demo.owner@example.com")
    consent(browser, _authorize_url(sandbox_url), email="sam.bookkeeper@example.com")
    assert sorted(Grant.objects.values_list("user__email", flat=True)) == [
        "demo.owner@example.com",
        "sam.bookkeeper@example.com",
    ]


def test_a_tampered_verifier_spends_the_code(sandbox_url: str, world: dict) -> None:
    verifier, challenge = _verifier()
    url = _authorize_url(sandbox_url, code_challenge=challenge, code_challenge_method="S256")
    code = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    tampered_verifier = verifier[:-1] + ("B" if verifier.endswith("A") else "A")
    tampered = _exchange(sandbox_url, code=code, code_verifier=tampered_verifier)
    assert tampered.status_code == 400 and tampered.text == '{"error":"invalid_grant"}'
    # Spent by the failed attempt, as IdentityServer does: the right verifier is too late.
    late = _exchange(sandbox_url, code=code, code_verifier=verifier)
    assert late.status_code == 400 and late.text == '{"error":"invalid_grant"}'
    missing_url = _authorize_url(
        sandbox_url, code_challenge=challenge, code_challenge_method="S256"
    )
    code = _query(consent(requests.Session(), missing_url, email="demo.owner@example.com"))["code"]
    assert _exchange(sandbox_url, code=code).text == '{"error":"invalid_grant"}'


def test_plain_pkce_and_verifier_rules(sandbox_url: str, world: dict) -> None:
    verifier = "a" * 43
    url = _authorize_url(sandbox_url, code_challenge=verifier, code_challenge_method="plain")
    code = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    assert _exchange(sandbox_url, code=code, code_verifier=verifier).status_code == 200
    # A verifier outside 43-128 characters of [A-Za-z0-9-._~] never matches.
    bad = "a" * 42 + "!"
    url = _authorize_url(sandbox_url, code_challenge=bad, code_challenge_method="plain")
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.headers["Location"] == f"{CALLBACK}?error=invalid_request&state=st-123"
    # A verifier sent for a code issued without a challenge is refused too.
    code = _query(
        consent(requests.Session(), _authorize_url(sandbox_url), email="demo.owner@example.com")
    )["code"]
    assert _exchange(sandbox_url, code=code, code_verifier="b" * 43).status_code == 400


def test_code_replay_expiry_and_redirect_mismatch(sandbox_url: str, world: dict) -> None:
    def fresh_code() -> str:
        url = _authorize_url(sandbox_url)
        return _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]

    code = fresh_code()
    assert _exchange(sandbox_url, code=code).status_code == 200
    replay = _exchange(sandbox_url, code=code)
    assert replay.status_code == 400 and replay.text == '{"error":"invalid_grant"}'

    code = fresh_code()
    age_grant(AuthorizationCode.objects.get(used_at=None).grant, 301)  # codes live 5 minutes
    expired = _exchange(sandbox_url, code=code)
    assert expired.status_code == 400 and expired.text == '{"error":"invalid_grant"}'

    code = fresh_code()
    register_redirect_uri(world["app"], "https://hub.example/other")
    mismatch = _exchange(sandbox_url, code=code, redirect_uri="https://hub.example/other")
    assert mismatch.text == '{"error":"invalid_grant"}'
    assert _exchange(sandbox_url, code="not-a-code").text == '{"error":"invalid_grant"}'


def test_client_authentication_failures(sandbox_url: str, world: dict) -> None:
    url = _authorize_url(sandbox_url)
    code = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    token_url = f"{sandbox_url}/xero/identity/connect/token"
    wrong = _exchange(sandbox_url, code=code, client_secret="wrong")
    assert wrong.status_code == 400 and wrong.text == '{"error":"invalid_client"}'
    no_secret = requests.post(
        token_url,
        data={"grant_type": "authorization_code", "code": code, "client_id": "x"},
        timeout=5,
    )
    assert no_secret.text == '{"error":"invalid_client"}'
    basic_wrong = requests.post(
        token_url,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(settings.XERO_CLIENT_ID, "wrong"),
        timeout=5,
    )
    assert basic_wrong.text == '{"error":"invalid_client"}'
    # None of that spent the code: the client was never authenticated.
    assert _exchange(sandbox_url, code=code).status_code == 200
    unsupported = _exchange(sandbox_url, grant_type="password")
    assert unsupported.text == '{"error":"unsupported_grant_type"}'


def test_a_pkce_app_without_a_secret(sandbox_url: str, world: dict) -> None:
    """Xero's "Auth Code with PKCE" app type: no secret, so a challenge is compulsory."""
    XeroApp.objects.create(
        client_id="pkce-app",
        name="A desktop tool",
        redirect_uris=["http://localhost:8765/callback"],
        allowed_scopes=["openid", "offline_access", "accounting.settings.read"],
    )
    params = {
        "client_id": "pkce-app",
        "redirect_uri": "http://localhost:8765/callback",
        "scope": "openid offline_access accounting.settings.read",
    }
    refused = requests.get(_authorize_url(sandbox_url, **params), allow_redirects=False, timeout=5)
    assert refused.headers["Location"] == (
        "http://localhost:8765/callback?error=invalid_request&state=st-123"
    )
    verifier, challenge = _verifier()
    url = _authorize_url(sandbox_url, code_challenge=challenge, **params)
    # No code_challenge_method means plain (RFC 7636): the S256 challenge is not the verifier.
    code = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    token_url = f"{sandbox_url}/xero/identity/connect/token"
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://localhost:8765/callback",
        "client_id": "pkce-app",
        "code_verifier": verifier,
    }
    assert requests.post(token_url, data=form, timeout=5).text == '{"error":"invalid_grant"}'

    url = _authorize_url(
        sandbox_url, code_challenge=challenge, code_challenge_method="S256", **params
    )
    form["code"] = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    with_secret = requests.post(token_url, data=form | {"client_secret": "guess"}, timeout=5)
    assert with_secret.text == '{"error":"invalid_client"}'
    form["code"] = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    token = requests.post(token_url, data=form, timeout=5)
    assert token.status_code == 200, token.text
    refreshed = requests.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": token.json()["refresh_token"],
            "client_id": "pkce-app",
        },
        timeout=5,
    )
    assert (
        refreshed.status_code == 200
        and refreshed.json()["refresh_token"] != (token.json()["refresh_token"])
    )
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1


def test_a_revoked_grant_cannot_exchange_its_code(sandbox_url: str, world: dict) -> None:
    url = _authorize_url(sandbox_url)
    code = _query(consent(requests.Session(), url, email="demo.owner@example.com"))["code"]
    Grant.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert _exchange(sandbox_url, code=code).text == '{"error":"invalid_grant"}'


def test_state_is_optional_and_existing_query_is_kept(sandbox_url: str, world: dict) -> None:
    register_redirect_uri(world["app"], "https://hub.example/cb?tenant=7")
    params = {
        "response_type": "code",
        "client_id": settings.XERO_CLIENT_ID,
        "redirect_uri": "https://hub.example/cb?tenant=7",
        "scope": "openid",
    }
    url = f"{sandbox_url}/xero/login/identity/connect/authorize?{urlencode(params)}"
    location = consent(requests.Session(), url, email="demo.owner@example.com")
    query = _query(location)
    assert location.startswith("https://hub.example/cb?tenant=7&code=")
    assert set(query) == {"tenant", "code"}
    assert uuid.UUID(str(Grant.objects.get().auth_event_id))

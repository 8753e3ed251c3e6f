"""Amazon Business consent on the sandbox's buyer store, through a real server.

Personas: the account's administrator (may authorize apps), a requisitioner (may not), and
an app that is not registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.amazon.models import LwaApp, LwaAuthCode, LwaRefreshToken
from sandbox.business.models import Authorization, BusinessAccount, BusinessUser
from sandbox.business.seed import ACCOUNT_ID, ACCOUNT_NAME, seed_business

REDIRECT = "https://hub.example/connect/amazon-business/callback"
CLIENT_SECRET = "test-ab-secret"


@dataclass
class Connected:
    access_token: str
    refresh_token: str
    account: BusinessAccount
    app: LwaApp


def make_business_app(name: str = "Ledgerbridge (test)") -> LwaApp:
    return LwaApp.objects.create(
        kind=LwaApp.Kind.BUSINESS,
        application_id="amzn1.sp.solution.test-business",
        client_id="amzn1.application-oa2-client.testbusiness",
        client_secret=CLIENT_SECRET,
        name=name,
        redirect_uris=[REDIRECT, "https://hub.example/other"],
    )


def seed_buyer(**options: int) -> BusinessAccount:
    seed_business(site_url="https://hub.example", **options)
    return BusinessAccount.objects.get(account_id=ACCOUNT_ID)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def consent_post(
    session: requests.Session,
    sandbox_url: str,
    *,
    app: LwaApp,
    user: BusinessUser | None,
    action: str,
    state: str = "st-123",
) -> requests.Response:
    """Open the consent page as the browser would, then answer it."""
    url = f"{sandbox_url}/business/store/b2b/abws/oauth"
    params = {"applicationId": app.application_id, "state": state, "redirect_uri": REDIRECT}
    page = session.get(url, params=params, timeout=10)
    assert page.status_code == 200, page.text
    form = {
        "csrfmiddlewaretoken": csrf_token(page.text),
        **params,
        "action": action,
        **({"user": str(user.pk)} if user else {}),
    }
    return session.post(url, data=form, allow_redirects=False, timeout=10)


def token_request(sandbox_url: str, app: LwaApp, **form: str) -> requests.Response:
    return requests.post(
        f"{sandbox_url}/amazon/lwa/auth/o2/token",
        data={"client_id": app.client_id, "client_secret": CLIENT_SECRET, **form},
        timeout=10,
    )


def connect(sandbox_url: str, app: LwaApp, account: BusinessAccount) -> Connected:
    """The whole authorization as the hub drives it: consent as the admin, code exchange."""
    admin = account.users.get(role=BusinessUser.Role.ADMIN)
    answer = consent_post(requests.Session(), sandbox_url, app=app, user=admin, action="allow")
    assert answer.status_code == 302, answer.text
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = token_request(
        sandbox_url, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return Connected(body["access_token"], body["refresh_token"], account, app)


def test_administrator_allows_and_the_code_buys_tokens_for_the_account(sandbox_url: str) -> None:
    account = seed_buyer(days=20, purchases=15)
    app = make_business_app()
    admin = account.users.get(role=BusinessUser.Role.ADMIN)
    session = requests.Session()

    page = session.get(
        f"{sandbox_url}/business/store/b2b/abws/oauth",
        params={"applicationId": app.application_id, "state": "st-123", "redirect_uri": REDIRECT},
        timeout=10,
    )
    assert page.status_code == 200
    assert "Authorize Ledgerbridge (test)" in page.text
    assert "Business Purchase Reconciliation" in page.text
    assert f"{admin.name} &lt;{admin.email}&gt; · Administrator (all legal entities)" in page.text
    assert "Requisitioner (buyer)" in page.text

    answer = consent_post(session, sandbox_url, app=app, user=admin, action="allow")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert set(query) == {"code", "state"}  # Amazon Business sends the code and the state only
    assert query["state"] == ["st-123"]

    grant = Authorization.objects.get()
    assert (grant.account, grant.user, grant.app, grant.revoked_at) == (account, admin, app, None)
    tokens = token_request(
        sandbox_url,
        app,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=REDIRECT,
    )
    assert tokens.status_code == 200
    assert tokens.json()["refresh_token"].startswith("Atzr|")
    refresh = LwaRefreshToken.objects.get()
    assert (refresh.subject_kind, refresh.subject_id) == ("business", ACCOUNT_ID)

    transactions = requests.get(
        f"{sandbox_url}/business/api/reconciliation/2021-01-08/transactions",
        params={"feedStartDate": "2020-01-01T00:00:00Z", "feedEndDate": "2100-01-01T00:00:00Z"},
        headers={"x-amz-access-token": tokens.json()["access_token"]},
        timeout=10,
    )
    assert transactions.status_code == 200
    assert len(transactions.json()["transactions"]) == account.transactions.count()


def test_a_requisitioner_cannot_authorize_and_nothing_reaches_the_app(sandbox_url: str) -> None:
    account = seed_buyer(days=20, purchases=15)
    app = make_business_app()
    buyer = account.users.filter(role=BusinessUser.Role.REQUISITIONER).first()
    assert buyer is not None

    answer = consent_post(requests.Session(), sandbox_url, app=app, user=buyer, action="allow")

    assert answer.status_code == 403
    assert "Location" not in answer.headers
    assert (
        f"{buyer.name} cannot authorize Ledgerbridge (test). Only an administrator for all "
        "legal entities of this business account can authorize apps." in answer.text
    )
    assert not LwaAuthCode.objects.exists()
    assert not Authorization.objects.exists()


def test_cancel_sends_access_denied_with_the_state(sandbox_url: str) -> None:
    account = seed_buyer(days=20, purchases=15)
    app = make_business_app()
    admin = account.users.get(role=BusinessUser.Role.ADMIN)

    answer = consent_post(
        requests.Session(), sandbox_url, app=app, user=admin, action="cancel", state="s-9"
    )

    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location.path == urlsplit(REDIRECT).path
    assert parse_qs(location.query) == {
        "error": ["access_denied"],
        "error_description": ["The user denied the request."],
        "state": ["s-9"],
    }
    assert not LwaAuthCode.objects.exists()


def test_allow_without_choosing_a_user_asks_again(sandbox_url: str) -> None:
    seed_buyer(days=20, purchases=15)
    app = make_business_app()
    answer = consent_post(requests.Session(), sandbox_url, app=app, user=None, action="allow")
    assert answer.status_code == 400
    assert "Choose the Amazon Business user you are signed in as." in answer.text
    assert not LwaAuthCode.objects.exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": "s"}, "The request is missing the applicationId parameter."),
        (
            {"applicationId": "amzn1.sp.solution.nope", "state": "s"},
            "We could not find an Amazon Business application with the ID amzn1.sp.solution.nope.",
        ),
        (
            {"applicationId": "amzn1.sp.solution.seller", "state": "s"},
            "We could not find an Amazon Business application with the ID "
            "amzn1.sp.solution.seller.",
        ),
        (
            {
                "applicationId": "amzn1.sp.solution.test-business",
                "state": "s",
                "redirect_uri": "https://evil.example/cb",
            },
            "The redirect URI &#x27;https://evil.example/cb&#x27; is not registered for "
            "Ledgerbridge (test).",
        ),
        (
            {"applicationId": "amzn1.sp.solution.test-business", "redirect_uri": REDIRECT},
            "The request is missing the state parameter.",
        ),
    ],
)
def test_a_bad_request_gets_an_error_page_never_a_redirect(
    sandbox_url: str, params: dict[str, str], message: str
) -> None:
    make_business_app()
    LwaApp.objects.create(
        kind=LwaApp.Kind.SELLER,
        application_id="amzn1.sp.solution.seller",
        client_id="amzn1.application-oa2-client.seller",
        client_secret="x",
        name="A seller app",
        redirect_uris=[REDIRECT],
    )
    url = f"{sandbox_url}/business/store/b2b/abws/oauth"
    session = requests.Session()
    good = session.get(
        url, params={"applicationId": "amzn1.sp.solution.test-business", "state": "s"}
    )
    token = csrf_token(good.text)
    for response in (
        session.get(url, params=params, allow_redirects=False, timeout=10),
        session.post(
            url,
            data={**params, "action": "allow", "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=10,
        ),
    ):
        assert response.status_code == 400
        assert "There was a problem" in response.text
        assert message in response.text
        assert "Location" not in response.headers
    assert not LwaAuthCode.objects.exists()


def test_redirect_uri_defaults_to_the_first_registered_one(sandbox_url: str) -> None:
    app = make_business_app()
    page = requests.get(
        f"{sandbox_url}/business/store/b2b/abws/oauth",
        params={"applicationId": app.application_id, "state": "s", "version": "beta"},
        timeout=10,
    )
    assert page.status_code == 200
    assert f'name="redirect_uri" value="{REDIRECT}"' in page.text


def test_removing_the_app_revokes_its_refresh_token(sandbox_url: str) -> None:
    account = seed_buyer(days=20, purchases=15)
    app = make_business_app()
    connected = connect(sandbox_url, app, account)
    refreshed = token_request(
        sandbox_url, app, grant_type="refresh_token", refresh_token=connected.refresh_token
    )
    assert refreshed.status_code == 200

    session = requests.Session()
    listing = session.get(f"{sandbox_url}/business/store/authorizations/", timeout=10)
    assert listing.status_code == 200
    assert "Ledgerbridge (test)" in listing.text and "Active" in listing.text
    grant = Authorization.objects.get()
    removed = session.post(
        f"{sandbox_url}/business/store/authorizations/{grant.pk}/revoke",
        data={"csrfmiddlewaretoken": csrf_token(listing.text)},
        timeout=10,
    )
    assert removed.status_code == 200  # followed back to the listing
    assert (
        f"Removed Ledgerbridge (test) from {ACCOUNT_NAME}: 1 refresh token(s) revoked."
        in removed.text
    )
    grant.refresh_from_db()
    assert grant.revoked_at is not None

    again = token_request(
        sandbox_url, app, grant_type="refresh_token", refresh_token=connected.refresh_token
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : refresh_token",
    }
    api = requests.get(
        f"{sandbox_url}/business/api/reconciliation/2021-01-08/transactions",
        params={"feedStartDate": "2020-01-01T00:00:00Z", "feedEndDate": "2100-01-01T00:00:00Z"},
        headers={"x-amz-access-token": refreshed.json()["access_token"]},
        timeout=10,
    )
    assert api.status_code == 403
    assert api.json()["errors"][0]["code"] == "Unauthorized"

    # The administrator can authorize the app again: a new, working refresh token.
    reconnected = connect(sandbox_url, app, account)
    assert reconnected.refresh_token != connected.refresh_token
    assert (
        token_request(
            sandbox_url, app, grant_type="refresh_token", refresh_token=reconnected.refresh_token
        ).status_code
        == 200
    )


def test_revoking_also_voids_a_code_not_yet_exchanged(sandbox_url: str) -> None:
    account = seed_buyer(days=20, purchases=15)
    app = make_business_app()
    admin = account.users.get(role=BusinessUser.Role.ADMIN)
    answer = consent_post(requests.Session(), sandbox_url, app=app, user=admin, action="allow")
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    from sandbox.business.services import authorization_revoke

    authorization_revoke(authorization=Authorization.objects.get())
    exchanged = token_request(
        sandbox_url, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert exchanged.status_code == 400
    assert exchanged.json()["error"] == "invalid_grant"

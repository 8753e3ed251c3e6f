"""Seller Central's website authorization in the sandbox: consent, errors, revocation, files."""

from __future__ import annotations

import gzip

import requests
from django.conf import settings

from sandbox.amazon.consent import authorization_revoke
from sandbox.amazon.models import (
    LwaApp,
    LwaRefreshToken,
    Report,
    Seller,
    SellerAuthorization,
    Settlement,
)
from tests.sandbox.amazon_support import (
    EU_SELLER,
    NA_SELLER,
    consent,
    consent_page,
    form_fields,
    redirect_query,
    seed,
    token_post,
)

CALLBACK = "/connect/amazon/callback"


def test_confirm_redirects_with_state_partner_and_code_that_exchanges_once(
    sandbox_url: str,
) -> None:
    seed()
    _, page = consent_page(sandbox_url)
    assert page.status_code == 200
    assert "Authorize Ledgerbridge (sandbox)" in page.text
    assert EU_SELLER in page.text and NA_SELLER in page.text

    response = consent(sandbox_url, seller=NA_SELLER)
    assert response.headers["Location"].startswith(f"{settings.SITE_URL}{CALLBACK}?")
    query = redirect_query(response)
    assert query["state"] == "st-123" and query["selling_partner_id"] == NA_SELLER
    assert set(query) == {"state", "selling_partner_id", "spapi_oauth_code"}
    authorization = SellerAuthorization.objects.get()
    assert authorization.seller.selling_partner_id == NA_SELLER
    assert authorization.region == "na"  # no hint: the seller's home region

    exchange = {
        "grant_type": "authorization_code",
        "code": query["spapi_oauth_code"],
        "redirect_uri": f"{settings.SITE_URL}{CALLBACK}",
    }
    first = token_post(sandbox_url, **exchange)
    assert first.status_code == 200
    assert set(first.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    refresh = LwaRefreshToken.objects.get()
    assert (refresh.subject_kind, refresh.subject_id) == ("seller", NA_SELLER)
    again = token_post(sandbox_url, **exchange)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_cancel_redirects_with_access_denied_and_issues_nothing(sandbox_url: str) -> None:
    seed()
    query = redirect_query(consent(sandbox_url, action="cancel"))
    assert query == {"error": "access_denied", "state": "st-123"}
    assert not SellerAuthorization.objects.exists()


def test_region_hint_narrows_the_sellers_and_is_recorded(sandbox_url: str) -> None:
    seed()
    _, page = consent_page(sandbox_url, region="eu")
    assert EU_SELLER in page.text and NA_SELLER not in page.text
    assert "(EU region)" in page.text
    # A seller of another region cannot be chosen with that hint.
    session, page = consent_page(sandbox_url, region="eu")
    refused = session.post(
        page.url,
        data={**form_fields(page.text), "seller": NA_SELLER, "action": "confirm"},
        allow_redirects=False,
        timeout=10,
    )
    assert refused.status_code == 400 and "Choose the seller account" in refused.text
    redirect_query(consent(sandbox_url, region="eu"))
    assert SellerAuthorization.objects.get().region == "eu"


def test_consent_errors_are_pages_not_redirects(sandbox_url: str) -> None:
    seed()
    unknown = consent_page(sandbox_url, application_id="amzn1.sp.solution.nope")[1]
    assert unknown.status_code == 400
    assert "We could not find the application" in unknown.text

    other = f"{settings.SITE_URL}/elsewhere"
    mismatch = consent_page(sandbox_url, redirect_uri=other)[1]
    assert mismatch.status_code == 400 and "MD5101" in mismatch.text
    fragment = consent_page(sandbox_url, redirect_uri=f"{settings.SITE_URL}{CALLBACK}#x")[1]
    assert fragment.status_code == 400 and "MD5110" in fragment.text
    stateless = consent_page(sandbox_url, state="")[1]
    assert stateless.status_code == 400 and "no state" in stateless.text

    LwaApp.objects.filter(application_id=settings.AMAZON_SP_APP_ID).update(is_published=False)
    draft = consent_page(sandbox_url)[1]
    assert draft.status_code == 400 and "MD1000" in draft.text and "version=beta" in draft.text
    beta = consent_page(sandbox_url, version="beta")[1]
    assert beta.status_code == 200
    # The hidden fields carry version=beta to the POST, which validates again.
    assert redirect_query(consent(sandbox_url, version="beta"))["selling_partner_id"]
    assert not SellerAuthorization.objects.filter(redirect_uri=other).exists()


def test_registered_redirect_uri_may_be_named_explicitly(sandbox_url: str) -> None:
    seed()
    app = LwaApp.objects.get(application_id=settings.AMAZON_SP_APP_ID)
    app.redirect_uris = [*app.redirect_uris, "https://hub.example.com/cb?x=1"]
    app.save()
    response = consent(sandbox_url, redirect_uri="https://hub.example.com/cb?x=1")
    assert response.headers["Location"].startswith("https://hub.example.com/cb?x=1&state=st-123")


def test_removing_the_app_revokes_every_refresh_token_of_the_pair(sandbox_url: str) -> None:
    seed()
    tokens = []
    for _ in range(2):  # the seller authorized twice: two refresh tokens
        code = redirect_query(consent(sandbox_url))["spapi_oauth_code"]
        response = token_post(sandbox_url, grant_type="authorization_code", code=code)
        tokens.append(response.json()["refresh_token"])
    other = redirect_query(consent(sandbox_url, seller=NA_SELLER))["spapi_oauth_code"]
    na_token = token_post(sandbox_url, grant_type="authorization_code", code=other).json()[
        "refresh_token"
    ]
    app = LwaApp.objects.get(application_id=settings.AMAZON_SP_APP_ID)
    seller = Seller.objects.get(selling_partner_id=EU_SELLER)
    assert authorization_revoke(app=app, seller=seller) == 2
    for token in tokens:
        refused = token_post(sandbox_url, grant_type="refresh_token", refresh_token=token)
        assert refused.status_code == 400 and refused.json() == {
            "error": "invalid_grant",
            "error_description": "The request has an invalid grant parameter : refresh_token",
        }
    kept = token_post(sandbox_url, grant_type="refresh_token", refresh_token=na_token)
    assert kept.status_code == 200
    assert authorization_revoke(app=app, seller=seller) == 0

    page = requests.get(f"{sandbox_url}/amazon/sellercentral/apps/manage", timeout=10)
    assert page.text.count("Removed ") == 2 and page.text.count(">Remove</button>") == 1


def test_manage_page_revokes_through_its_form(sandbox_url: str) -> None:
    seed()
    redirect_query(consent(sandbox_url))
    session = requests.Session()
    page = session.get(f"{sandbox_url}/amazon/sellercentral/apps/manage", timeout=10)
    pk = SellerAuthorization.objects.get().pk
    url = f"{sandbox_url}/amazon/sellercentral/apps/manage/{pk}/revoke"
    assert f'action="/sandbox/amazon/sellercentral/apps/manage/{pk}/revoke"' in page.text
    without_csrf = requests.post(url, timeout=10)
    assert without_csrf.status_code == 403
    done = session.post(
        url, data={"csrfmiddlewaretoken": form_fields(page.text)["csrfmiddlewaretoken"]}
    )
    assert done.status_code == 200 and "invalid_grant" in done.text
    assert SellerAuthorization.objects.get().revoked_at is not None
    assert requests.get(f"{url}", timeout=10).status_code == 405


def test_past_settlements_page_serves_files_the_api_no_longer_lists(sandbox_url: str) -> None:
    seed()
    page = requests.get(
        f"{sandbox_url}/amazon/sellercentral/payments/past-settlements",
        params={"seller": EU_SELLER},
        timeout=10,
    )
    assert page.status_code == 200
    oldest = Settlement.objects.filter(
        seller__selling_partner_id=EU_SELLER, processing_status="Closed"
    ).earliest("end")
    report = Report.objects.get(settlement=oldest)
    assert oldest.settlement_id in page.text
    download = requests.get(
        f"{sandbox_url}/amazon/sellercentral/payments/past-settlements/"
        f"{oldest.settlement_id}/download",
        params={"seller": EU_SELLER},
        timeout=10,
    )
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith(f'"{oldest.settlement_id}.txt"')
    content = bytes(report.document.content)
    if report.document.compression == "GZIP":
        content = gzip.decompress(content)
    assert download.content == content
    assert download.text.startswith("settlement-id\t")
    missing = requests.get(
        f"{sandbox_url}/amazon/sellercentral/payments/past-settlements/"
        f"{oldest.settlement_id}/download",
        params={"seller": NA_SELLER},
        timeout=10,
    )
    assert missing.status_code == 404


def test_json_controls_revoke_and_reissue_without_a_browser(sandbox_url: str) -> None:
    seed()
    code = redirect_query(consent(sandbox_url))["spapi_oauth_code"]
    refresh = token_post(sandbox_url, grant_type="authorization_code", code=code).json()
    control = f"{sandbox_url}/amazon/sellercentral"
    body = {"selling_partner_id": EU_SELLER, "application_id": settings.AMAZON_SP_APP_ID}
    assert requests.post(f"{control}/apps/manage/revoke", json=body, timeout=10).json() == {
        "revoked": 1
    }
    refused = token_post(
        sandbox_url, grant_type="refresh_token", refresh_token=refresh["refresh_token"]
    )
    assert refused.json()["error"] == "invalid_grant"
    unknown = requests.post(
        f"{control}/apps/manage/revoke", json={**body, "selling_partner_id": "A0"}, timeout=10
    )
    assert unknown.status_code == 404

    settlement = (
        Report.objects.filter(seller__selling_partner_id=EU_SELLER)
        .latest("created_time")
        .settlement
    )
    assert settlement is not None
    reissued = requests.post(
        f"{control}/payments/reissue",
        json={"selling_partner_id": EU_SELLER, "settlement_id": settlement.settlement_id},
        timeout=10,
    )
    assert reissued.status_code == 200
    report = Report.objects.get(report_id=reissued.json()["reportId"])
    assert report.settlement == settlement
    assert Report.objects.filter(settlement=settlement).count() >= 2
    missing = requests.post(
        f"{control}/payments/reissue",
        json={"selling_partner_id": EU_SELLER, "settlement_id": "1"},
        timeout=10,
    )
    assert missing.status_code == 404 and "no report" in missing.json()["error"]

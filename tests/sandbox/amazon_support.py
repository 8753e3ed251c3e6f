"""Helpers for the sandbox Amazon tests: seeding, consent through real HTTP, and the official
python-amazon-sp-api client pointed at the sandbox.

Pointing ``sp_api`` at the sandbox takes three things (its §10 notes in the reference):
- SP-API host: ``client.endpoint`` is a plain attribute, set after construction;
- LWA host: ``AccessTokenClient`` has class attributes ``scheme``/``host``/``path``, so a
  subclass with the sandbox's values goes in through ``auth_token_client_class=``;
- the ``host`` header: the client builds it as ``endpoint[8:]`` (it assumes ``https://``), which
  for ``http://127.0.0.1:PORT/sandbox/…`` is ``27.0.0.1:PORT/sandbox/…`` and Django refuses it
  (DisallowedHost). `sp_client` swaps in a subclass whose ``headers`` carry the real netloc.
Access tokens are cached per refresh token in ``sp_api.auth.access_token_client.cache``; clear
it to force a refresh.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from sp_api.auth import AccessTokenClient
from sp_api.base import Client, CredentialProvider, Marketplaces

from sandbox.amazon.seed import seed_seller

C = TypeVar("C", bound=Client)

EU_SELLER, NA_SELLER = "A2SANDBOXEU1", "A2SANDBOXNA1"
UK, DE, US = "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "ATVPDKIKX0DER"


def seed(orders: int = 200) -> str:
    return seed_seller(site_url=settings.SITE_URL, orders=orders)


def credentials(refresh_token: str | None = None) -> dict[str, Any]:
    return {
        "refresh_token": refresh_token,
        "lwa_app_id": settings.AMAZON_SP_CLIENT_ID,
        "lwa_client_secret": settings.AMAZON_SP_CLIENT_SECRET,
    }


def lwa_client_class(sandbox_url: str) -> type[AccessTokenClient]:
    netloc = urlsplit(sandbox_url).netloc
    return type(
        "SandboxAccessTokenClient",
        (AccessTokenClient,),
        {"scheme": "http://", "host": netloc, "path": "/sandbox/amazon/lwa/auth/o2/token"},
    )


def _fixed_host(self: Client) -> dict[str, str]:
    headers: dict[str, str] = super(type(self), self).headers  # type: ignore[misc]
    headers["host"] = urlsplit(self.endpoint).netloc
    return headers


def sp_client(
    cls: type[C],
    sandbox_url: str,
    *,
    region: str,
    refresh_token: str,
    marketplace: Marketplaces,
    **kwargs: Any,
) -> C:
    client = cls(
        marketplace=marketplace,
        refresh_token=refresh_token,
        credentials=credentials(refresh_token),
        auth_token_client_class=lwa_client_class(sandbox_url),
        **kwargs,
    )
    client.__class__ = type(
        f"Sandbox{type(client).__name__}", (type(client),), {"headers": property(_fixed_host)}
    )
    client.endpoint = f"{sandbox_url}/amazon/sp/{region}"
    return client


def consent_page(sandbox_url: str, **query: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    params = {"application_id": settings.AMAZON_SP_APP_ID, "state": "st-123", **query}
    page = session.get(
        f"{sandbox_url}/amazon/sellercentral/apps/authorize/consent", params=params, timeout=10
    )
    return session, page


def form_fields(html: str) -> dict[str, str]:
    """The hidden inputs (csrf token included) of the first form on the page."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def consent(
    sandbox_url: str, *, seller: str = EU_SELLER, action: str = "confirm", **query: str
) -> requests.Response:
    """GET the consent page and press Confirm (or Cancel) as ``seller``; not followed."""
    session, page = consent_page(sandbox_url, **query)
    assert page.status_code == 200, page.text
    return session.post(
        page.url,
        data={**form_fields(page.text), "seller": seller, "action": action},
        allow_redirects=False,
        timeout=10,
    )


def redirect_query(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def authorize(sandbox_url: str, *, seller: str = EU_SELLER) -> dict[str, Any]:
    """Consent, then exchange the code with the official client: the LWA token response."""
    code = redirect_query(consent(sandbox_url, seller=seller))["spapi_oauth_code"]
    lwa = lwa_client_class(sandbox_url)(
        refresh_token=None, credentials=CredentialProvider(credentials=credentials()).credentials
    )
    tokens: dict[str, Any] = lwa.authorize_auth_code(code)
    return tokens


def token_post(sandbox_url: str, **form: str) -> requests.Response:
    return requests.post(
        f"{sandbox_url}/amazon/lwa/auth/o2/token",
        data={
            "client_id": settings.AMAZON_SP_CLIENT_ID,
            "client_secret": settings.AMAZON_SP_CLIENT_SECRET,
            **form,
        },
        timeout=10,
    )


def access_token(sandbox_url: str, refresh_token: str) -> str:
    response = token_post(sandbox_url, grant_type="refresh_token", refresh_token=refresh_token)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])

"""SP-API calls, one seller account at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from connectors import http
from connectors.amazon_sp.auth import amazon_access_token
from connectors.models import AmazonSellerAccount
from connectors.providers import sp_api_url
from connectors.xero.auth import connection_mark_needs_reconnect

PROVIDER = "amazon-sp"


def sp_request(
    account: AmazonSellerAccount, operation: str, method: str, path: str, **kwargs: Any
) -> requests.Response:
    token = amazon_access_token(account)
    try:
        return http.call(
            PROVIDER,
            operation,
            method,
            f"{sp_api_url(account.region)}{path}",
            headers={"x-amz-access-token": token},
            **kwargs,
        )
    except http.AuthRejected as exc:
        connection_mark_needs_reconnect(
            account,
            reason=(
                f"Amazon refused access ({exc.message}). Reconnect the Seller Central account."
            ),
        )
        raise


@dataclass(frozen=True)
class Marketplace:
    id: str
    name: str
    country: str
    currency: str
    domain: str

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "currency": self.currency,
            "domain": self.domain,
        }


def marketplace_participations(account: AmazonSellerAccount) -> list[Marketplace]:
    """Reference: https://developer-docs.amazon.com/sp-api/docs/sellers-api-v1-reference"""
    body = sp_request(
        account, "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations"
    ).json()
    found = []
    for row in body.get("payload") or []:
        market, participation = row["marketplace"], row.get("participation") or {}
        if not participation.get("isParticipating", True):
            continue
        found.append(
            Marketplace(
                id=market["id"],
                name=market["name"],
                country=market["countryCode"],
                currency=market["defaultCurrencyCode"],
                domain=market.get("domainName", ""),
            )
        )
    return found

"""Marketplace facts the SP-API answers with: region, country, currency, language, domain.

Reference: shared/reference/amazon-api.md §2 (developer-docs …/sp-api-endpoints and
…/marketplace-ids). The seller generator knows only UK, DE and US; the others are here so a
marketplace of another region, or one the seller does not sell in, is told apart from a
malformed id.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS = ("na", "eu", "fe")


@dataclass(frozen=True)
class MarketplaceInfo:
    id: str
    region: str
    country: str
    name: str
    currency: str
    language: str

    @property
    def domain(self) -> str:
        return "www." + self.name.lower()

    def to_api(self) -> dict[str, str]:
        """A Sellers API ``Marketplace``."""
        return {
            "id": self.id,
            "name": self.name,
            "countryCode": self.country,
            "defaultCurrencyCode": self.currency,
            "defaultLanguageCode": self.language,
            "domainName": self.domain,
        }


_TABLE = (
    # NA
    ("ATVPDKIKX0DER", "na", "US", "Amazon.com", "USD", "en_US"),
    ("A2EUQ1WTGCTBG2", "na", "CA", "Amazon.ca", "CAD", "en_CA"),
    ("A1AM78C64UM0Y8", "na", "MX", "Amazon.com.mx", "MXN", "es_MX"),
    ("A2Q3Y263D00KWC", "na", "BR", "Amazon.com.br", "BRL", "pt_BR"),
    # EU
    ("A1F83G8C2ARO7P", "eu", "GB", "Amazon.co.uk", "GBP", "en_GB"),
    ("A1PA6795UKMFR9", "eu", "DE", "Amazon.de", "EUR", "de_DE"),
    ("A13V1IB3VIYZZH", "eu", "FR", "Amazon.fr", "EUR", "fr_FR"),
    ("APJ6JRA9NG5V4", "eu", "IT", "Amazon.it", "EUR", "it_IT"),
    ("A1RKKUPIHCS9HS", "eu", "ES", "Amazon.es", "EUR", "es_ES"),
    ("A1805IZSGTT6HS", "eu", "NL", "Amazon.nl", "EUR", "nl_NL"),
    ("A2NODRKZP88ZB9", "eu", "SE", "Amazon.se", "SEK", "sv_SE"),
    ("A1C3SOZRARQ6R3", "eu", "PL", "Amazon.pl", "PLN", "pl_PL"),
    ("AMEN7PMS3EDWL", "eu", "BE", "Amazon.com.be", "EUR", "fr_BE"),
    ("A28R8C7NBKEWEA", "eu", "IE", "Amazon.ie", "EUR", "en_IE"),
    ("A33AVAJ2PDY3EV", "eu", "TR", "Amazon.com.tr", "TRY", "tr_TR"),
    ("A2VIGQ35RCS4UG", "eu", "AE", "Amazon.ae", "AED", "en_AE"),
    ("A17E79C6D8DWNP", "eu", "SA", "Amazon.sa", "SAR", "ar_SA"),
    ("ARBP9OOSHTCHU", "eu", "EG", "Amazon.eg", "EGP", "ar_EG"),
    ("AE08WJ6YKNBMC", "eu", "ZA", "Amazon.co.za", "ZAR", "en_ZA"),
    ("A21TJRUUN4KGV", "eu", "IN", "Amazon.in", "INR", "en_IN"),
    # FE
    ("A1VC38T7YXB528", "fe", "JP", "Amazon.co.jp", "JPY", "ja_JP"),
    ("A39IBJ37TRP1C6", "fe", "AU", "Amazon.com.au", "AUD", "en_AU"),
    ("A19VAU5U5O7RUS", "fe", "SG", "Amazon.sg", "SGD", "en_SG"),
)

MARKETPLACE_INFO: dict[str, MarketplaceInfo] = {row[0]: MarketplaceInfo(*row) for row in _TABLE}


def region_of(marketplace_id: str) -> str:
    return MARKETPLACE_INFO[marketplace_id].region


def seller_marketplaces_in(marketplace_ids: list[str], region: str) -> list[str]:
    """The seller's marketplaces that the given regional endpoint serves."""
    return [m for m in marketplace_ids if m in MARKETPLACE_INFO and region_of(m) == region]

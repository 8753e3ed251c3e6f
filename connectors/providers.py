"""Provider facts in one typed registry: hosts (from settings), scopes, regions, quotas."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# Reference: shared/reference/xero-api.md §1.1. New apps must use granular scopes.
XERO_SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.settings",
    "accounting.contacts",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
    "accounting.manualjournals",
    "accounting.attachments",
)


@dataclass(frozen=True)
class Quota:
    """A rate limit: ``rate`` calls per ``per`` seconds, ``burst`` at once."""

    rate: float
    per: float
    burst: int


XERO_TENANT_MINUTE = Quota(rate=60, per=60, burst=60)
XERO_TENANT_DAY = Quota(rate=5000, per=86400, burst=5000)
XERO_TENANT_CONCURRENT = 5
XERO_APP_MINUTE = Quota(rate=10000, per=60, burst=10000)


@dataclass(frozen=True)
class SellerRegion:
    code: str
    name: str
    marketplaces: str


SP_REGIONS = {
    "na": SellerRegion("na", "North America", "United States, Canada, Mexico, Brazil"),
    "eu": SellerRegion("eu", "Europe", "United Kingdom, Germany, France, Italy, Spain and more"),
    "fe": SellerRegion("fe", "Far East", "Japan, Australia, Singapore"),
}

BUSINESS_REGIONS = {
    "na": SellerRegion("na", "North America", "amazon.com, amazon.ca, amazon.com.mx"),
    "eu": SellerRegion("eu", "Europe", "amazon.co.uk, amazon.de, amazon.fr, amazon.it, amazon.es"),
    "fe": SellerRegion("fe", "Japan and Australia", "amazon.co.jp, amazon.com.au"),
}


def sp_api_url(region: str) -> str:
    return {
        "na": settings.AMAZON_SP_API_URL_NA,
        "eu": settings.AMAZON_SP_API_URL_EU,
        "fe": settings.AMAZON_SP_API_URL_FE,
    }[region]


# Selling Partner API operation quotas (rate per second, burst), from the models.
SP_QUOTAS = {
    "getMarketplaceParticipations": Quota(rate=0.016, per=1, burst=15),
    "getOrders": Quota(rate=0.0167, per=1, burst=20),
    "getOrderItems": Quota(rate=0.5, per=1, burst=30),
    "getReports": Quota(rate=0.0222, per=1, burst=10),
    "getReport": Quota(rate=2.0, per=1, burst=15),
    "createReport": Quota(rate=0.0167, per=1, burst=15),
    "getReportDocument": Quota(rate=0.0167, per=1, burst=15),
    "listFinancialEventGroups": Quota(rate=0.5, per=1, burst=30),
    "listFinancialEventsByGroupId": Quota(rate=0.5, per=1, burst=30),
    "listTransactions": Quota(rate=0.5, per=1, burst=10),
}
BUSINESS_QUOTA = Quota(rate=2, per=1, burst=10)

# Seller Central asks public apps to be re-authorised every 365 days.
AMAZON_REAUTHORISE_DAYS = 365
AMAZON_REAUTHORISE_WARNING_DAYS = 30

"""The marketplaces the seller generator knows: facts as data, one entry each.

Date styles in settlement files (reference note §7):
- ``"uk"``: ``2026-06-16 00:00:00 UTC``, posted-date ``2026-06-16``;
- ``"de"``: ``03.05.2018 09:10:07 UTC``, posted-date ``03.05.2018``, amounts ``179,99``;
- ``"iso"``: ``2026-06-16T00:00:00+00:00``, posted-date ``2026-06-16``.
Only the DE style is confirmed by a real file; the UK and US choices follow the brief.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country: str
    currency: str
    sales_channel: str  # also the settlement file's marketplace-name
    region: str  # NA / EU / FE
    date_style: str  # "uk", "de" or "iso", see the module docstring
    decimal_comma: bool
    facilitator_tax: bool  # Amazon withholds the sales tax (US marketplace facilitator laws)
    # Tax rates in parts per million; a US order picks one state rate, EU orders use the first.
    tax_rates_ppm: tuple[int, ...]
    order_id_prefixes: tuple[int, ...]
    price_factor_pct: int  # catalogue prices relative to USD, in percent
    subscription_fee_cents: int
    v2_promotion_id_column: bool  # the 2018 DE file has 23 columns, without promotion-id
    ship_to: tuple[tuple[str, str, str], ...]  # (city, state or region, postal code)
    order_weight: int  # share of the seller's orders placed here


MARKETPLACES: dict[str, Marketplace] = {
    "A1F83G8C2ARO7P": Marketplace(
        marketplace_id="A1F83G8C2ARO7P",
        country="GB",
        currency="GBP",
        sales_channel="Amazon.co.uk",
        region="EU",
        date_style="uk",
        decimal_comma=False,
        facilitator_tax=False,
        tax_rates_ppm=(200_000,),
        order_id_prefixes=(202, 203, 204, 205, 206),
        price_factor_pct=80,
        subscription_fee_cents=2500,
        v2_promotion_id_column=True,
        ship_to=(
            ("LONDON", "Greater London", "SW1A 1AA"),
            ("MANCHESTER", "Lancashire", "M1 1AE"),
            ("LEEDS", "West Yorkshire", "LS1 4AP"),
            ("BRISTOL", "Avon", "BS1 5TR"),
        ),
        order_weight=30,
    ),
    "A1PA6795UKMFR9": Marketplace(
        marketplace_id="A1PA6795UKMFR9",
        country="DE",
        currency="EUR",
        sales_channel="Amazon.de",
        region="EU",
        date_style="de",
        decimal_comma=True,
        facilitator_tax=False,
        tax_rates_ppm=(190_000,),
        order_id_prefixes=(302, 303, 304, 305, 306),
        price_factor_pct=92,
        subscription_fee_cents=3900,
        v2_promotion_id_column=False,
        ship_to=(
            ("Berlin", "Berlin", "10115"),
            ("München", "Bayern", "80331"),
            ("Köln", "Nordrhein-Westfalen", "50667"),
            ("Hamburg", "Hamburg", "20095"),
        ),
        order_weight=20,
    ),
    "ATVPDKIKX0DER": Marketplace(
        marketplace_id="ATVPDKIKX0DER",
        country="US",
        currency="USD",
        sales_channel="Amazon.com",
        region="NA",
        date_style="iso",
        decimal_comma=False,
        facilitator_tax=True,
        # CA (with local), NY City, TX, WA, OR (no sales tax), FL
        tax_rates_ppm=(95_000, 88_750, 82_500, 101_000, 0, 70_000),
        order_id_prefixes=(111, 112, 113, 114),
        price_factor_pct=100,
        subscription_fee_cents=3999,
        v2_promotion_id_column=True,
        ship_to=(
            ("LOS ANGELES", "CA", "90001"),
            ("NEW YORK", "NY", "10001"),
            ("AUSTIN", "TX", "73301"),
            ("SEATTLE", "WA", "98101"),
            ("PORTLAND", "OR", "97201"),
            ("MIAMI", "FL", "33101"),
        ),
        order_weight=50,
    ),
}

_DATETIME_FORMATS = {
    "uk": "%Y-%m-%d %H:%M:%S UTC",
    "de": "%d.%m.%Y %H:%M:%S UTC",
    "iso": "%Y-%m-%dT%H:%M:%S+00:00",
}
_DATE_FORMATS = {"uk": "%Y-%m-%d", "de": "%d.%m.%Y", "iso": "%Y-%m-%d"}


def format_datetime(marketplace: Marketplace, value: datetime) -> str:
    """A timestamp as this marketplace's settlement files write it (always in UTC)."""
    return value.strftime(_DATETIME_FORMATS[marketplace.date_style])


def format_date(marketplace: Marketplace, value: datetime) -> str:
    """A posted-date (date only) as this marketplace's settlement files write it."""
    return value.strftime(_DATE_FORMATS[marketplace.date_style])


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as the Orders and Finances APIs return dates."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")

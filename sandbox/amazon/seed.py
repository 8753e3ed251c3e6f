"""Seed Login with Amazon and Seller Central: the hub's two LWA apps and two sandbox sellers.

- The hub's SP-API app (``kind="seller"``) and its Amazon Business app (``kind="business"``),
  with the ids and secrets the hub's settings use and the hub's callback URLs. The SP-API app
  is a Draft exactly when the hub says so (``AMAZON_SP_APP_DRAFT``): then consent needs
  ``version=beta`` (MD1000 otherwise).
- ``A2SANDBOXEU1`` (UK + DE) and ``A2SANDBOXNA1`` (US), each with ``orders`` orders over the
  last ``days`` days ending today (UTC) plus 35 days of older history at the same pace, so some
  settlements are older than the Reports API's 90-day retention (upload-only).
  Deterministic for a given date and seed.
Idempotent: apps are updated in place, an existing seller is kept as it is (its data is not
regenerated, so a hub that already synced it sees the same orders).
`seed_big_seller` stores a large seller (100,000 orders by default) for load tests.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from sandbox.amazon.models import (
    FinancialEventGroup,
    FinancialTransaction,
    LwaApp,
    Order,
    Report,
    ReportDocument,
    Seller,
    Settlement,
)
from sandbox.amazon.store import seller_store
from sandbox.datagen.seller import SellerSpec

UK, DE, US = "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "ATVPDKIKX0DER"
HISTORY_DAYS = 35
SELLERS = (
    # selling partner id, store name, marketplaces, seed offset
    ("A2SANDBOXEU1", "Sandbox Outfitters Europe", (UK, DE), 0),
    ("A2SANDBOXNA1", "Sandbox Outfitters US", (US,), 1),
)
APP_NAME = "Ledgerbridge (sandbox)"


def seed_seller(
    *, site_url: str, seed: int = 1, days: int = 90, orders: int = 500, **_: object
) -> str:
    apps = seed_apps(site_url=site_url)
    created = []
    for selling_partner_id, store_name, marketplaces, offset in SELLERS:
        if Seller.objects.filter(selling_partner_id=selling_partner_id).exists():
            continue
        seller_store(
            selling_partner_id=selling_partner_id,
            store_name=store_name,
            spec=seller_spec(
                seed=seed + offset, days=days, orders=orders, marketplaces=marketplaces
            ),
        )
        created.append(selling_partner_id)
    return (
        f"Amazon: {apps} LWA apps; sellers "
        + ", ".join(s[0] for s in SELLERS)
        + (f" ({', '.join(created)} created)" if created else " (already seeded)")
    )


def seller_spec(
    *, seed: int, days: int, orders: int, marketplaces: tuple[str, ...], history: int = HISTORY_DAYS
) -> SellerSpec:
    """``orders`` over the last ``days`` days ending today (UTC), plus ``history`` older days."""
    total = days + history
    today = datetime.now(UTC).date()
    return SellerSpec(
        seed=seed,
        start=today - timedelta(days=total),
        days=total,
        orders=orders * total // max(days, 1),
        marketplaces=marketplaces,
    )


def seed_apps(*, site_url: str) -> int:
    """The hub's SP-API and Amazon Business apps; returns how many are registered."""
    site = site_url.rstrip("/")
    count = 0
    for kind, app_id, client_id, secret, callback, published in (
        (
            LwaApp.Kind.SELLER,
            settings.AMAZON_SP_APP_ID,
            settings.AMAZON_SP_CLIENT_ID,
            settings.AMAZON_SP_CLIENT_SECRET,
            f"{site}/connect/amazon/callback",
            not getattr(settings, "AMAZON_SP_APP_DRAFT", False),
        ),
        (
            LwaApp.Kind.BUSINESS,
            settings.AMAZON_BUSINESS_APP_ID,
            settings.AMAZON_BUSINESS_CLIENT_ID,
            settings.AMAZON_BUSINESS_CLIENT_SECRET,
            f"{site}/connect/business/callback",
            True,
        ),
    ):
        if not (app_id and client_id):
            continue  # not in sandbox mode: the real apps live at Amazon
        app, _ = LwaApp.objects.get_or_create(
            application_id=app_id,
            defaults={"kind": kind, "client_id": client_id, "client_secret": secret},
        )
        app.kind, app.client_id, app.client_secret = kind, client_id, secret
        app.name, app.is_published = APP_NAME, published
        if callback not in app.redirect_uris:
            app.redirect_uris = [*app.redirect_uris, callback]
        app.save()
        count += 1
    return count


def seller_delete(seller: Seller) -> None:
    """Delete a seller's data table by table (fast deletes; no per-row cascade)."""
    with transaction.atomic():
        for model in (Report, ReportDocument, FinancialTransaction, Order, Settlement):
            model.objects.filter(seller=seller).delete()
        FinancialEventGroup.objects.filter(seller=seller).delete()
        seller.delete()


def seed_big_seller(
    *,
    selling_partner_id: str = "A2SANDBOXBIG1",
    orders: int = 100_000,
    days: int = 90,
    seed: int = 7,
    marketplaces: tuple[str, ...] = (UK, DE, US),
    replace: bool = False,
) -> Seller:
    """A seller with many orders (bulk inserts in batches) for load tests and benchmarks."""
    existing = Seller.objects.filter(selling_partner_id=selling_partner_id).first()
    if existing is not None:
        if not replace:
            return existing
        seller_delete(existing)
    spec = seller_spec(seed=seed, days=days, orders=orders, marketplaces=marketplaces)
    return seller_store(
        selling_partner_id=selling_partner_id,
        store_name=f"Sandbox Megastore {selling_partner_id[-4:]}",
        spec=dataclasses.replace(spec, orders=orders),  # exactly `orders`, history included
    )

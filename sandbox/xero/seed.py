"""Seed the sandbox's Xero: four organisations with real-looking charts, tax and contacts.

- Northwind Goods Ltd: UK, GBP, VAT (OUTPUT2/INPUT2...), EUR and USD enabled, Premium plan.
- Redwood Supply Co.: US, USD, sales tax (NONE, TAX001 "Sales Tax on Sales"...).
- Wattle Street Traders Pty Ltd: AU, AUD only, GST (OUTPUT/INPUT, GST free, BAS excluded).
- Thistle Ledger Services Ltd: UK, PARTNER edition (Ledger plan): no invoicing.

Idempotent: every row is looked up by its natural key and only created when missing, so a
re-run adds nothing and never undoes what a demo changed (an archived account stays archived).
Tenant ids are derived from the short codes, so they are the same in every database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from sandbox.xero import charts
from sandbox.xero.api_views import CURRENCY_NAMES
from sandbox.xero.models import (
    Account,
    Contact,
    Currency,
    Item,
    Organisation,
    TaxRate,
    TrackingCategory,
    TrackingOption,
)

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "short_code": "!nW7Gd",
        "name": "Northwind Goods Ltd",
        "legal_name": "Northwind Goods Limited",
        "country_code": "GB",
        "base_currency": "GBP",
        "version": "UK",
        "org_class": "PREMIUM",
        "timezone": "GMTSTANDARDTIME",
        "sales_tax_basis": "ACCRUALS",
        "sales_tax_period": "QUARTERLY1",
        "tax_number": "GB 284 5531 92",
        "registration_number": "11873204",
        "financial_year_end_day": 31,
        "financial_year_end_month": 3,
        "line_of_business": "Online retail of homeware",
        "charts": (charts.UK_ACCOUNTS, charts.UK_TAX_RATES),
        "currencies": ["GBP", "EUR", "USD"],
        "tracking": {
            "Region": ["England", "Scotland", "Wales", "Northern Ireland"],
            "Sales Channel": ["Amazon UK", "Amazon DE", "Website", "Wholesale"],
        },
        "contacts": [
            ("Royal Mail Group Ltd", "ACTIVE", "accounts@royalmail.example", True, False),
            ("Screwfix Direct Ltd", "ACTIVE", "trade@screwfix.example", True, False),
            ("Bramble & Co Interiors", "ACTIVE", "hello@bramble.example", False, True),
            ("Kestrel Packaging Ltd", "ARCHIVED", "sales@kestrel.example", True, False),
        ],
        "items": [
            ("NW-MUG-BLU", "Stoneware mug, blue", "12.5000", "200", "OUTPUT2", "5.2000", "310"),
            ("NW-THROW-GRY", "Wool throw, grey", "45.0000", "200", "OUTPUT2", "19.7500", "310"),
        ],
    },
    {
        "short_code": "!rS4Qm",
        "name": "Redwood Supply Co.",
        "legal_name": "Redwood Supply Company LLC",
        "country_code": "US",
        "base_currency": "USD",
        "version": "US",
        "org_class": "STANDARD",
        "organisation_type": "LLC",
        "timezone": "PACIFICSTANDARDTIME",
        "sales_tax_basis": "ACCRUAL",
        "sales_tax_period": "MONTHLY",
        "tax_number": "84-2917365",
        "financial_year_end_day": 31,
        "financial_year_end_month": 12,
        "line_of_business": "Outdoor equipment retail",
        "charts": (charts.US_ACCOUNTS, charts.US_TAX_RATES),
        "currencies": ["USD"],
        "tracking": {
            "Region": ["West", "Midwest", "South", "Northeast"],
            "Sales Channel": ["Amazon US", "Amazon CA", "Website"],
        },
        "contacts": [
            ("UPS", "ACTIVE", "billing@ups.example", True, False),
            ("Pacific Paper Goods", "ACTIVE", "ar@pacificpaper.example", True, False),
            ("Trailhead Outfitters", "ACTIVE", "buying@trailhead.example", False, True),
            ("Summit Freight Inc", "ARCHIVED", "billing@summitfreight.example", True, False),
        ],
        "items": [
            ("RW-TENT-2P", "Two-person tent", "189.0000", "400", "TAX001", "92.0000", "500"),
            ("RW-LAMP-LED", "LED camp lamp", "24.9900", "400", "TAX001", "9.1000", "500"),
        ],
    },
    {
        "short_code": "!aW2Tx",
        "name": "Wattle Street Traders Pty Ltd",
        "legal_name": "Wattle Street Traders Pty Ltd",
        "country_code": "AU",
        "base_currency": "AUD",
        "version": "AU",
        "org_class": "STANDARD",
        "timezone": "AUSEASTERNSTANDARDTIME",
        "sales_tax_basis": "CASH",
        "sales_tax_period": "QUARTERLY",
        "tax_number": "53 004 085 616",
        "financial_year_end_day": 30,
        "financial_year_end_month": 6,
        "line_of_business": "Kitchenware retail",
        "charts": (charts.AU_ACCOUNTS, charts.AU_TAX_RATES),
        "currencies": ["AUD"],
        "tracking": {
            "Region": ["NSW", "VIC", "QLD", "WA"],
            "Sales Channel": ["Amazon AU", "Website", "Markets"],
        },
        "contacts": [
            ("Australia Post", "ACTIVE", "accounts@auspost.example", True, False),
            ("Gum Tree Ceramics", "ACTIVE", "orders@gumtree.example", True, False),
            ("Harbourside Cafe", "ACTIVE", "owner@harbourside.example", False, True),
            ("Boomerang Logistics", "ARCHIVED", "ap@boomerang.example", True, False),
        ],
        "items": [
            ("WS-KETTLE", "Enamel kettle", "59.9500", "200", "OUTPUT", "24.0000", "310"),
        ],
    },
    {
        "short_code": "!tL9Pa",
        "name": "Thistle Ledger Services Ltd",
        "legal_name": "Thistle Ledger Services Limited",
        "country_code": "GB",
        "base_currency": "GBP",
        "version": "UK",
        "edition": "PARTNER",
        "org_class": "LEDGER",
        "timezone": "GMTSTANDARDTIME",
        "sales_tax_basis": "ACCRUALS",
        "sales_tax_period": "QUARTERLY1",
        "financial_year_end_day": 31,
        "financial_year_end_month": 3,
        "line_of_business": "Bookkeeping client ledger",
        "charts": (charts.UK_ACCOUNTS, charts.UK_TAX_RATES),
        "currencies": ["GBP"],
        "tracking": {},
        "contacts": [("HMRC", "ACTIVE", "", True, False)],
        "items": [],
    },
]

SEED_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def tenant_id_for(short_code: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://sandbox.ledgerbridge/xero/{short_code}")


def _stable(org: Organisation, kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(org.tenant_id, f"{kind}:{key}")


def _seed_org(spec: dict[str, Any]) -> tuple[Organisation, int]:
    created_rows = 0
    fields = {
        k: v
        for k, v in spec.items()
        if k not in ("short_code", "charts", "currencies", "tracking", "contacts", "items")
    }
    org, created = Organisation.objects.get_or_create(
        short_code=spec["short_code"],
        defaults={**fields, "tenant_id": tenant_id_for(spec["short_code"])},
    )
    created_rows += int(created)
    accounts, rates = spec["charts"]
    for rate in rates:
        _, made = TaxRate.objects.get_or_create(
            org=org,
            tax_type=rate["tax_type"],
            defaults={k: v for k, v in rate.items() if k != "tax_type"},
        )
        created_rows += int(made)
    for code, name, acc_type, tax_type, extra in accounts:
        if Account.objects.filter(org=org, code=code).exists():
            continue
        defaults = dict(extra)
        if acc_type == "BANK":
            defaults.setdefault("currency_code", org.base_currency)
        Account.objects.create(
            org=org,
            account_id=_stable(org, "account", code),
            code=code,
            name=name,
            type=acc_type,
            tax_type=tax_type,
            updated_at=SEED_TIME,
            **defaults,
        )
        created_rows += 1
    for code in spec["currencies"]:
        _, made = Currency.objects.get_or_create(
            org=org, code=code, defaults={"description": CURRENCY_NAMES[code]}
        )
        created_rows += int(made)
    for category_name, options in spec["tracking"].items():
        category, made = TrackingCategory.objects.get_or_create(
            org=org,
            name=category_name,
            defaults={"category_id": _stable(org, "tracking", category_name)},
        )
        created_rows += int(made)
        for option in options:
            _, made = TrackingOption.objects.get_or_create(
                category=category,
                name=option,
                defaults={"option_id": _stable(org, "option", f"{category_name}/{option}")},
            )
            created_rows += int(made)
    for name, status, email, supplier, customer in spec["contacts"]:
        if Contact.objects.filter(org=org, name=name).exists():
            continue
        Contact.objects.create(
            org=org,
            contact_id=_stable(org, "contact", name),
            name=name,
            status=status,
            email=email,
            is_supplier=supplier,
            is_customer=customer,
            updated_at=SEED_TIME,
        )
        created_rows += 1
    for code, name, price, sales_account, sales_tax, cost, cost_account in spec["items"]:
        if Item.objects.filter(org=org, code=code).exists():
            continue
        purchase_tax = {"OUTPUT2": "INPUT2", "OUTPUT": "INPUT"}.get(sales_tax, "NONE")
        Item.objects.create(
            org=org,
            item_id=_stable(org, "item", code),
            code=code,
            name=name,
            description=name,
            purchase_description=name,
            sales_details={"UnitPrice": price, "AccountCode": sales_account, "TaxType": sales_tax},
            purchase_details={
                "UnitPrice": cost,
                "AccountCode": cost_account,
                "TaxType": purchase_tax,
            },
            updated_at=SEED_TIME,
        )
        created_rows += 1
    return org, created_rows


def seed_organisations(*, site_url: str, **_: object) -> str:
    """Create the sandbox organisations (once); returns a one-line summary."""
    del site_url  # nothing here points back at the hub
    names, created = [], 0
    for spec in ORGANISATIONS:
        org, rows = _seed_org(spec)
        names.append(org.name)
        created += rows
    counts = {
        "accounts": Account.objects.count(),
        "tax rates": TaxRate.objects.count(),
        "contacts": Contact.objects.count(),
    }
    stamp = timezone.now().strftime("%H:%M")
    return (
        f"xero: {len(names)} organisations ({', '.join(names)}); "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
        + f"; {created} rows created at {stamp}"
    )

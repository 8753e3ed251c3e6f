"""A workspace's sync history as plain data (for the export offered before uninstalling)."""

from __future__ import annotations

from typing import Any

from hub.models import Customer


def customer_export(customer: Customer) -> dict[str, Any]:
    """Everything the hub knows about the workspace's syncing, without any token."""
    return {
        "workspace": {
            "name": customer.name,
            "code": str(customer.code),
            "created_at": customer.created_at,
        },
        "xero_organisations": [
            {
                "name": t.name,
                "tenant_id": str(t.tenant_id),
                "country": t.country_code,
                "base_currency": t.base_currency,
                "connected_at": t.created_at,
            }
            for t in customer.xero_tenants.all()
        ],
        "amazon_seller_accounts": [
            {
                "name": a.name,
                "region": a.region,
                "selling_partner_id": a.selling_partner_id,
                "marketplaces": a.marketplace_ids,
                "status": a.status,
            }
            for a in customer.seller_accounts.all()
        ],
        "amazon_business_accounts": [
            {"name": a.name, "region": a.region, "status": a.status}
            for a in customer.business_accounts.all()
        ],
        "links": [
            {
                "amazon": str(link.amazon),
                "xero_organisation": link.xero_tenant.name,
                "paused": link.pause_reason,
                "created_at": link.created_at,
            }
            for link in customer.links.select_related("xero_tenant")
        ],
    }

"""Sellers API v1: the marketplaces a seller takes part in, for the region called.

Reference: shared/specs/amazon/sellers.json (getMarketplaceParticipations, 0.016 rps, burst 15).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from sandbox.amazon.marketplaces import MARKETPLACE_INFO
from sandbox.amazon.spapi import SpCall, json_response, sp_operation


@require_GET
@sp_operation("getMarketplaceParticipations")
def marketplace_participations(call: SpCall) -> HttpResponse:
    return json_response(
        {
            "payload": [
                {
                    "marketplace": MARKETPLACE_INFO[marketplace_id].to_api(),
                    "participation": {"isParticipating": True, "hasSuspendedListings": False},
                    "storeName": call.seller.store_name,
                }
                for marketplace_id in call.marketplace_ids
            ]
        }
    )

"""What the orders app registers with the rest of the hub when Django starts."""

from __future__ import annotations

from mappings.services import register_rebuilder
from orders import schedule  # noqa: F401  (the "orders" dispatcher source and Sync now)
from orders.services import orders_rebuild, settlement_per_order
from settlements.services import register_settlement_builder

register_settlement_builder(settlement_per_order)
register_rebuilder("orders", orders_rebuild)

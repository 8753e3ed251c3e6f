from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Seller Central orders (per-order accounting)"

    def ready(self) -> None:
        # Registers the "orders" dispatcher source, the Sync now trigger, the mapping rebuilder
        # and the per-order settlement builder.
        from orders import hooks  # noqa: F401

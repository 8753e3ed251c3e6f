from __future__ import annotations

from django.apps import AppConfig


class PurchasesConfig(AppConfig):
    name = "purchases"
    verbose_name = "Amazon Business purchases"

    def ready(self) -> None:
        # Registers the "business" source with the dispatcher and the mapping rebuilder.
        from purchases import hooks  # noqa: F401

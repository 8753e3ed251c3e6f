from __future__ import annotations

from django.apps import AppConfig


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = "Seller Central settlements"

    def ready(self) -> None:
        # Registers the dispatcher sources, the Sync now trigger and the mapping rebuilder.
        from settlements import schedule  # noqa: F401

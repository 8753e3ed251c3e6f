from __future__ import annotations

from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    verbose_name = "Account mappings"

    def ready(self) -> None:
        # Before each push, documents whose account, tax rate or tracking option is no longer
        # valid in Xero are held as "Remap needed" instead of failing in Xero.
        from mappings.services import documents_precheck
        from sync.push import register_precheck

        register_precheck(documents_precheck)

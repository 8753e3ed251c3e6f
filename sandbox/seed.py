"""Seeding the sandbox: each provider contributes one function, run in this order."""

from __future__ import annotations

import importlib

from django.db import transaction

# Each entry is "module:function"; the function takes site_url (the hub's public URL, for the
# redirect URIs of the hub's registered apps) and returns a one-line summary.
SEEDERS = [
    "sandbox.xero.seed:seed_organisations",
    "sandbox.xero_identity.seed:seed_identity",
    "sandbox.amazon.seed:seed_seller",
    "sandbox.business.seed:seed_business",
]


def sandbox_seed(*, site_url: str, **options: object) -> list[str]:
    summaries = []
    for entry in SEEDERS:
        module_name, func_name = entry.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a provider without seed data contributes nothing
        with transaction.atomic():
            summaries.append(getattr(module, func_name)(site_url=site_url, **options))
    return summaries

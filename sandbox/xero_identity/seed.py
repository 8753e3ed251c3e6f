"""Seed the sandbox's Xero identity: the hub's registered app and two Xero users.

Runs after ``sandbox.xero.seed.seed_organisations`` and gives users the organisations it made
(if there are none yet, the users simply have none). Idempotent: ids derive from e-mails, and a
re-run updates rather than duplicates.
"""

from __future__ import annotations

import uuid

from django.conf import settings

from sandbox.xero.models import Organisation
from sandbox.xero_identity.models import XeroApp, XeroUser
from sandbox.xero_identity.scopes import scopes_for_new_app
from sandbox.xero_identity.services import register_redirect_uri

HUB_APP_NAME = "Ledgerbridge (sandbox)"
_NAMESPACE = uuid.UUID("5b1e1f2a-6c4e-4a3b-9a53-0d9f1e0c7a11")

# (email, given name, family name, how many organisations: None = all)
USERS = [
    ("demo.owner@example.com", "Demo", "Owner", None),
    ("sam.bookkeeper@example.com", "Sam", "Bookkeeper", 1),
]


def seed_identity(*, site_url: str, **_: object) -> str:
    app = hub_app(site_url=site_url)
    tenant_ids = [
        str(t) for t in Organisation.objects.order_by("name").values_list("tenant_id", flat=True)
    ]
    for email, given, family, how_many in USERS:
        XeroUser.objects.update_or_create(
            email=email,
            defaults={
                "xero_userid": uuid.uuid5(_NAMESPACE, email),
                "given_name": given,
                "family_name": family,
                "tenant_ids": tenant_ids if how_many is None else tenant_ids[:how_many],
            },
        )
    return (
        f"xero identity: app {app.name!r} ({app.client_id}), {len(USERS)} users, "
        f"{len(tenant_ids)} organisations to connect"
    )


def hub_app(*, site_url: str) -> XeroApp:
    """The hub's app as registered at developer.xero.com (a web app with a client secret)."""
    app, _ = XeroApp.objects.update_or_create(
        client_id=settings.XERO_CLIENT_ID,
        defaults={
            "client_secret": settings.XERO_CLIENT_SECRET,
            "name": HUB_APP_NAME,
            "allowed_scopes": scopes_for_new_app(),
        },
    )
    return register_redirect_uri(app, f"{site_url.rstrip('/')}/connect/xero/callback")

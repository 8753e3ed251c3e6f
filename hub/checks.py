"""System checks that refuse an unsafe or incomplete production configuration.

They run with every management command (``migrate``, ``runserver``, ``check --deploy``), so a
misconfigured deployment stops at start-up with a message that says what to set, rather than
failing later with a token it cannot decrypt or a login it cannot complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register("hub")
def check_production_settings(
    app_configs: Sequence[Any] | None = None, **_: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    errors += _check_keys()
    errors += _check_providers()
    errors += _check_database()
    return errors


def _check_keys() -> list[CheckMessage]:
    out: list[CheckMessage] = []
    if not settings.DEBUG:
        if settings.SECRET_KEY == settings.DEV_SECRET_KEY or len(settings.SECRET_KEY) < 32:
            out.append(
                Error(
                    "SECRET_KEY is not set (or is the development key) while DEBUG is off.",
                    hint="Set SECRET_KEY to a random string of at least 50 characters, e.g. "
                    "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
                    id="hub.E001",
                )
            )
        if not settings.FERNET_KEYS:
            out.append(
                Error(
                    "FERNET_KEYS is not set while DEBUG is off: tokens could not be encrypted.",
                    hint="Set FERNET_KEYS to one or more comma-separated keys, newest first, e.g. "
                    "python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'.",
                    id="hub.E002",
                )
            )
    for position, key in enumerate(settings.FERNET_KEYS, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            out.append(
                Error(
                    f"FERNET_KEYS entry {position} is not a valid Fernet key.",
                    hint="Each key is 32 url-safe base64-encoded bytes (44 characters), as made by "
                    "Fernet.generate_key().",
                    id="hub.E003",
                )
            )
    return out


def _check_providers() -> list[CheckMessage]:
    out: list[CheckMessage] = []
    if settings.SANDBOX:
        if not settings.DEBUG:
            out.append(
                Warning(
                    "SANDBOX is on with DEBUG off: Xero and Amazon are simulated, nothing reaches "
                    "the real services.",
                    hint="Set SANDBOX=false and the providers' client credentials for production.",
                    id="hub.W001",
                )
            )
        return out
    if not (settings.XERO_CLIENT_ID and settings.XERO_CLIENT_SECRET):
        out.append(
            Error(
                "SANDBOX is off but XERO_CLIENT_ID or XERO_CLIENT_SECRET is missing.",
                hint="Create an app at developer.xero.com (web app, granular scopes) and set both, "
                "or set SANDBOX=true to run against the local sandbox.",
                id="hub.E010",
            )
        )
    seller = (
        settings.AMAZON_SP_CLIENT_ID,
        settings.AMAZON_SP_CLIENT_SECRET,
        settings.AMAZON_SP_APP_ID,
    )
    business = (
        settings.AMAZON_BUSINESS_CLIENT_ID,
        settings.AMAZON_BUSINESS_CLIENT_SECRET,
        settings.AMAZON_BUSINESS_APP_ID,
    )
    if not all(seller) and not all(business):
        out.append(
            Error(
                "SANDBOX is off but neither Amazon Seller Central nor Amazon Business credentials "
                "are complete.",
                hint="Set AMAZON_SP_CLIENT_ID, AMAZON_SP_CLIENT_SECRET and AMAZON_SP_APP_ID, "
                "and/or the AMAZON_BUSINESS_* equivalents, from your registered SP-API "
                "application.",
                id="hub.E011",
            )
        )
    for name, values in (("AMAZON_SP", seller), ("AMAZON_BUSINESS", business)):
        if any(values) and not all(values):
            out.append(
                Error(
                    f"{name}_CLIENT_ID, {name}_CLIENT_SECRET and {name}_APP_ID must be set "
                    "together.",
                    hint="Set all three, or none to turn that Amazon connection off.",
                    id="hub.E012",
                )
            )
    return out


def _check_database() -> list[CheckMessage]:
    out: list[CheckMessage] = []
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3") and settings.WORKER_CONCURRENCY > 1:
        out.append(
            Error(
                f"SQLite with WORKER_CONCURRENCY={settings.WORKER_CONCURRENCY}: concurrent workers "
                "would fail with 'database is locked'.",
                hint="Use PostgreSQL (DATABASE_URL=postgres://…) for several workers, or set "
                "WORKER_CONCURRENCY=1.",
                id="hub.E020",
            )
        )
    if engine.endswith("sqlite3") and not settings.DEBUG:
        out.append(
            Warning(
                "SQLite with DEBUG off: fine for a single-user trial, not for a deployment.",
                hint="Set DATABASE_URL to a PostgreSQL database.",
                id="hub.W020",
            )
        )
    return out

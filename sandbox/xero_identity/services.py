"""What happens to grants and connections beyond issuing tokens: revoke, disconnect, age.

Reference: ../shared/reference/xero-api.md §1 (revocation removes all of the user's connections
to the app; a user disconnecting the app in Xero makes the refresh token fail with invalid_grant).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from sandbox.xero_identity.models import (
    AccessToken,
    AuthorizationCode,
    Connection,
    Grant,
    RefreshToken,
    XeroApp,
)


def register_redirect_uri(app: XeroApp, uri: str) -> XeroApp:
    """Add a redirect URI to an app (tests whose live server listens on a random port)."""
    if uri not in app.redirect_uris:
        app.redirect_uris = [*app.redirect_uris, uri]
        app.save(update_fields=["redirect_uris"])
    return app


def grant_revoke(grant: Grant) -> int:
    """The revocation endpoint: end this token chain and remove ALL of the user's connections
    to the app, as Xero does. Returns how many connections went.

    Other token chains of the same user and app stay unrevoked (RFC 7009 revokes the presented
    grant), but with no connections left they can reach no tenant.
    """
    with transaction.atomic():
        Grant.objects.filter(pk=grant.pk, revoked_at=None).update(revoked_at=timezone.now())
        deleted, _ = Connection.objects.filter(app_id=grant.app_id, user_id=grant.user_id).delete()
    return deleted


@dataclass(frozen=True)
class Disconnected:
    connection_ids: list[str]
    revoked_grants: int


def connections_disconnect(connections: QuerySet[Connection]) -> Disconnected:
    """The user removes the app from an organisation in Xero's "Connected apps" settings.

    Each connection goes; when that leaves the user with no connection to the app, every token
    chain of that user and app is revoked, so the next refresh is ``invalid_grant`` (reference
    §1, "the user disconnected the app in Xero"). Unlike ``DELETE /connections/{id}`` by the app
    itself, which leaves the tokens working.
    """
    with transaction.atomic():
        rows = list(connections.select_for_update())
        pairs = {(c.app_id, c.user_id) for c in rows}
        Connection.objects.filter(pk__in=[c.pk for c in rows]).delete()
        revoked = 0
        for app_id, user_id in pairs:
            if not Connection.objects.filter(app_id=app_id, user_id=user_id).exists():
                revoked += Grant.objects.filter(
                    app_id=app_id, user_id=user_id, revoked_at=None
                ).update(revoked_at=timezone.now())
    return Disconnected(connection_ids=[str(c.pk) for c in rows], revoked_grants=revoked)


def age_grants(grants: QuerySet[Grant], seconds: float) -> int:
    """Move every time of these grants ``seconds`` into the past (tokens run on real time).

    Ages the grant, its codes, access tokens and refresh tokens alike, so a test can make an
    access token expire (1800 s), a code expire (300 s) or a rotated refresh token pass its
    30-minute grace (1800 s after the refresh). Returns how many grants moved.
    """
    delta = timedelta(seconds=seconds)
    ids = list(grants.values_list("pk", flat=True))
    with transaction.atomic():
        Grant.objects.filter(pk__in=ids).update(created_at=F("created_at") - delta)
        AuthorizationCode.objects.filter(grant_id__in=ids).update(
            created_at=F("created_at") - delta, expires_at=F("expires_at") - delta
        )
        AccessToken.objects.filter(grant_id__in=ids).update(
            issued_at=F("issued_at") - delta, expires_at=F("expires_at") - delta
        )
        RefreshToken.objects.filter(grant_id__in=ids).update(
            issued_at=F("issued_at") - delta, expires_at=F("expires_at") - delta
        )
        RefreshToken.objects.filter(grant_id__in=ids, used_at__isnull=False).update(
            used_at=F("used_at") - delta
        )
    return len(ids)


def age_grant(grant: Grant, seconds: float) -> None:
    age_grants(Grant.objects.filter(pk=grant.pk), seconds)


def refresh_tokens_spent(grant: Grant) -> int:
    """How many of the grant's refresh tokens were spent (rotated) at least once."""
    return RefreshToken.objects.filter(grant=grant, used_at__isnull=False).count()


def refreshes_made(grant: Grant) -> int:
    """How many successful refresh calls the grant has seen (retries within grace included)."""
    return RefreshToken.objects.filter(grant=grant, parent__isnull=False).count()

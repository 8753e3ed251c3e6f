"""Xero webhooks: signed event deliveries and the "intent to receive" check.

Reference: developer.xero.com/documentation/guides/webhooks/overview and
/configuring-your-server; the payload per ../shared/specs/xero/xero-webhooks.yaml
(xero-api.md §6):
- ``x-xero-signature`` is base64(HMAC-SHA256(raw body, webhook key)).
- The body is ``{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}``; each
  event has resourceUrl, resourceId, eventDateUtc, eventType (CREATE/UPDATE), eventCategory
  (CONTACT, INVOICE, CREDITNOTE), tenantId, tenantType; only CREDITNOTE events carry ``data``.
- Intent to receive: Xero POSTs correctly and incorrectly signed empty payloads; the endpoint
  must answer 200 to the first and 401 to the second.
- The receiver must answer within 5 s. Xero retries failures; the sandbox records each failure
  on its delivery row (no retries), and never lets a delivery failure fail the API call.

An app's subscription receives the events of every tenant the app is connected to; a global
subscription (no app) receives every tenant's events, for the demo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Iterable
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sandbox.xero.gateway import Event
from sandbox.xero.models import Organisation, WebhookDelivery, WebhookSubscription
from sandbox.xero_identity.models import Connection

log = logging.getLogger("sandbox.xero.webhooks")

TIMEOUT = (2.0, 5.0)  # connect, read: Xero expects an answer within 5 seconds
DEFAULT_CATEGORIES = ["CONTACT", "INVOICE", "CREDITNOTE"]


def sign(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(body: bytes, key: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, key), signature or "")


def subscription_create(
    *,
    url: str,
    app: Any = None,
    signing_key: str | None = None,
    categories: Iterable[str] = DEFAULT_CATEGORIES,
    verify: bool = True,
) -> WebhookSubscription:
    """Register a webhook; like Xero, it only receives events once intent to receive passes.

    ``verify=False`` skips the check and leaves the subscription ACTIVE (for a receiver that
    is not up yet, e.g. while seeding the demo).
    """
    subscription = WebhookSubscription.objects.create(
        app=app,
        url=url,
        signing_key=signing_key or base64.b64encode(secrets.token_bytes(48)).decode(),
        categories=list(categories),
    )
    if verify:
        intent_to_receive(subscription)
    return subscription


def _api_base() -> str:
    return f"{settings.XERO_API_URL.rstrip('/')}/api.xro/2.0"


def _post(subscription: WebhookSubscription, body: bytes, signature: str) -> tuple[int | None, str]:
    try:
        response = requests.post(
            subscription.url,
            data=body,
            headers={"Content-Type": "application/json", "x-xero-signature": signature},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return response.status_code, ""


def _subscriptions(org: Organisation) -> list[WebhookSubscription]:
    """The active subscriptions that hear about this organisation (any category)."""
    connected_apps = Connection.objects.filter(tenant_id=org.tenant_id).values("app_id")
    return list(
        WebhookSubscription.objects.filter(status="ACTIVE").filter(
            Q(app__isnull=True) | Q(app_id__in=connected_apps)
        )
    )


def _wants(subscription: WebhookSubscription, category: str) -> bool:
    return category in (subscription.categories or DEFAULT_CATEGORIES)


def _reserve(subscription: WebhookSubscription, count: int) -> int:
    """Take ``count`` event sequence numbers; returns the first."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            next_sequence=F("next_sequence") + count
        )
        after = WebhookSubscription.objects.values_list("next_sequence", flat=True).get(
            pk=subscription.pk
        )
    return int(after) - count


def deliver(
    subscription: WebhookSubscription, org: Organisation, events: list[Event]
) -> WebhookDelivery:
    first = _reserve(subscription, len(events))
    now = timezone.now()
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    items = []
    for event in events:
        item: dict[str, Any] = {
            "resourceUrl": f"{_api_base()}/{event.resource_path}/{event.resource_id}",
            "resourceId": str(event.resource_id),
            "eventDateUtc": stamp,
            "eventType": event.event_type,
            "eventCategory": event.category,
            "tenantId": str(org.tenant_id),
            "tenantType": "ORGANISATION",
        }
        if event.data is not None:
            item["data"] = event.data
        items.append(item)
    payload = {
        "events": items,
        "firstEventSequence": first,
        "lastEventSequence": first + len(events) - 1,
        "entropy": secrets.token_hex(10).upper(),
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    signature = sign(body, subscription.signing_key)
    status, error = _post(subscription, body, signature)
    if status is not None and status != 200:
        error = f"HTTP {status}"
    if error:
        log.warning("webhook delivery to %s failed: %s", subscription.url, error)
    return WebhookDelivery.objects.create(
        subscription=subscription,
        payload=body,
        signature=signature,
        first_sequence=first,
        last_sequence=first + len(events) - 1,
        event_count=len(events),
        status_code=status,
        error=error,
        delivered_at=now,
    )


def events_deliver(*, org: Organisation, events: list[Event]) -> list[WebhookDelivery]:
    """Send a call's events (deduplicated, in order) to every subscription that wants them."""
    unique: list[Event] = []
    seen: set[tuple[str, str, str]] = set()
    for event in events:
        key = (event.category, event.event_type, str(event.resource_id))
        if key not in seen:
            seen.add(key)
            unique.append(event)
    by_subscription: dict[int, tuple[WebhookSubscription, list[Event]]] = {}
    subscriptions = _subscriptions(org) if unique else []
    for event in unique:
        for subscription in (s for s in subscriptions if _wants(s, event.category)):
            by_subscription.setdefault(subscription.pk, (subscription, []))[1].append(event)
    deliveries = []
    for subscription, wanted in by_subscription.values():
        try:
            deliveries.append(deliver(subscription, org, wanted))
        except Exception:  # a broken subscription must never fail the API call
            log.exception("webhook delivery to %s raised", subscription.url)
    return deliveries


def intent_to_receive(subscription: WebhookSubscription) -> bool:
    """Xero's check: 200 for a correctly signed payload, 401 for an incorrectly signed one.

    On success the subscription is marked verified and ACTIVE; on failure it is DISABLED.
    """
    checks = []
    for correct in (True, False, True, False):
        body = json.dumps(
            {
                "events": [],
                "firstEventSequence": 0,
                "lastEventSequence": 0,
                "entropy": secrets.token_hex(10).upper(),
            },
            separators=(",", ":"),
        ).encode()
        key = (
            subscription.signing_key
            if correct
            else base64.b64encode(secrets.token_bytes(48)).decode()
        )
        status, _ = _post(subscription, body, sign(body, key))
        checks.append(status == (200 if correct else 401))
    ok = all(checks)
    subscription.status = "ACTIVE" if ok else "DISABLED"
    subscription.intent_verified_at = timezone.now() if ok else None
    subscription.save(update_fields=["status", "intent_verified_at"])
    return ok

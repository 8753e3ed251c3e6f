"""Emails to a workspace's owners when something needs them (Django's email backend)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from hub.models import Customer, Membership, Notice

log = logging.getLogger(__name__)


def notify_owners(*, customer: Customer, key: str, subject: str, body: str, path: str) -> bool:
    """Mail the owners once per ``key``; returns False when this event was already mailed."""
    try:
        with transaction.atomic():
            Notice.objects.create(customer=customer, key=key[:200], subject=subject[:200])
    except IntegrityError:
        return False
    recipients = list(
        Membership.objects.filter(customer=customer, role=Membership.Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return False
    message = f"{body}\n\n{settings.SITE_URL}{path}\n\n— Ledgerbridge"
    send_mail(f"[Ledgerbridge] {subject}", message, settings.DEFAULT_FROM_EMAIL, recipients)
    log.info("notice sent customer=%s key=%s", customer.pk, key)
    return True

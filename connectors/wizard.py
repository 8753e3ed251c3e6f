"""The set-up stepper: Xero → organisation → Amazon → history → mapping → review.

Later steps register their page here (``url``) as they are built; a step without a page is shown
as upcoming and is not a link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from hub.models import Customer


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str  # done, current, upcoming
    url: str | None


def wizard_steps(customer: Customer, current: str) -> list[Step]:
    grant = customer.xero_grants.order_by("-created_at").first()
    done = {
        "xero": grant is not None,
        "organisation": customer.xero_tenants.exists(),
        "amazon": customer.links.exists(),
        "history": False,
        "mapping": False,
        "review": False,
    }
    urls = {
        "xero": f"{reverse('connect-xero')}?workspace={customer.code}",
        "organisation": reverse(
            "connect-xero-organisation", kwargs={"code": customer.code, "grant_id": grant.pk}
        )
        if grant
        else None,
        "amazon": reverse("connections", kwargs={"code": customer.code})
        if done["organisation"]
        else None,
        "history": None,
        "mapping": None,
        "review": None,
    }
    labels = {
        "xero": "Connect Xero",
        "organisation": "Choose organisation",
        "amazon": "Connect Amazon",
        "history": "Import history",
        "mapping": "Map accounts",
        "review": "Review",
    }
    return [
        Step(
            key,
            labels[key],
            "current" if key == current else ("done" if done[key] else "upcoming"),
            urls[key],
        )
        for key in labels
    ]

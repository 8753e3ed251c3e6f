"""The set-up stepper: Xero → organisation → Amazon → history → mapping → review.

Later steps register their page here (``url``) as they are built; a step without a page is shown
as upcoming and is not a link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from connectors.models import Link
from hub.models import Customer


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str  # done, current, upcoming
    url: str | None


def wizard_steps(customer: Customer, current: str) -> list[Step]:
    from mappings.services import mapping_step_state
    from purchases.pages import history_step

    grant = customer.xero_grants.order_by("-created_at").first()
    links = list(customer.links.order_by("created_at"))
    mapped, reviewed = mapping_step_state(links)
    history_done, history_url = history_step(links)
    # With several links, the mapping and review steps lead to the first link that needs them.
    first = links[0] if links else None
    to_map = next((lk for lk in links if not mapping_step_state([lk])[0]), None)
    to_review = next((lk for lk in links if not mapping_step_state([lk])[1]), None)
    map_kwargs = _link_kwargs(customer, to_map or to_review or first)
    review_kwargs = _link_kwargs(customer, to_review or first)
    done = {
        "xero": grant is not None,
        "organisation": customer.xero_tenants.exists(),
        "amazon": customer.links.exists(),
        "history": history_done,
        "mapping": mapped,
        "review": reviewed,
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
        "history": history_url,
        "mapping": reverse("mapping", kwargs=map_kwargs) if map_kwargs else None,
        "review": reverse("mapping-review", kwargs=review_kwargs) if review_kwargs else None,
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


def _link_kwargs(customer: Customer, link: Link | None) -> dict[str, object] | None:
    return {"code": customer.code, "link_id": link.pk} if link else None

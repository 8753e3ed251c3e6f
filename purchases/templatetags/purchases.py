from __future__ import annotations

from typing import Any

from django import template

from hub.models import Customer
from purchases.pages import business_alerts

register = template.Library()


@register.inclusion_tag("purchases/_alerts.html")
def purchases_alerts(customer: Customer) -> dict[str, Any]:
    """Held Amazon Business purchases ("Map the card ending 4242 …") for the dashboard."""
    return {"alerts": business_alerts(customer)}

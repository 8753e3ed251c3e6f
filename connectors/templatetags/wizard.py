from __future__ import annotations

from django import template

from connectors.wizard import Step, wizard_steps
from hub.models import Customer

register = template.Library()


@register.inclusion_tag("connectors/_stepper.html")
def stepper(customer: Customer, current: str) -> dict[str, list[Step]]:
    return {"steps": wizard_steps(customer, current)}

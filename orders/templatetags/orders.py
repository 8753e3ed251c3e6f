"""``{% accounting_mode link %}``: the accounting-mode card, for the review step of a link."""

from __future__ import annotations

from typing import Any

from django import template

from orders.services import settings_for
from orders.views import mode_initial

register = template.Library()


@register.inclusion_tag("orders/_mode.html", takes_context=True)
def accounting_mode(context: dict[str, Any], link: Any) -> dict[str, Any]:
    from orders.forms import ModeForm

    options = settings_for(link)
    request = context.get("request")
    return {
        "customer": context["customer"],
        "access": context["access"],
        "link": link,
        "options": options,
        "mode_form": ModeForm(initial=mode_initial(options)),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }

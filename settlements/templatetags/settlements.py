"""Settlement figures on pages: money as people read it, and the sales/fees/payout chart."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from connectors.models import Link
from settlements.chart import (
    COUNTS,
    DEFAULT_COUNT,
    MINUS,
    PAYOUT,
    SERIES,
    chart_layout,
    settlement_chart,
)

register = template.Library()

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@register.filter
def money(value: Any, currency: str = "") -> str:
    """``-1234.5`` in GBP is ``£1,234.50`` after a minus sign; other currencies keep their code
    after the amount (``1,234.50 SEK``)."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = MINUS if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    symbol = SYMBOLS.get(currency.upper(), "")
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {currency}".rstrip()


def chart_count(raw: str | None) -> int:
    """How many settlements per chart the page asked for (``?chart=26``); 12 otherwise."""
    try:
        count = int(raw or DEFAULT_COUNT)
    except ValueError:
        return DEFAULT_COUNT
    return count if count in COUNTS else DEFAULT_COUNT


@register.inclusion_tag("settlements/_chart.html", takes_context=True)
def settlements_chart(context: template.Context, link: Link) -> dict[str, Any]:
    """Sales, refunds, fees, other and net payout per settlement, one chart per currency."""
    request = context.get("request")
    count = chart_count(request.GET.get("chart") if request is not None else None)
    charts = settlement_chart(link, count=count)
    return {
        "link": link,
        "customer": link.customer,
        "access": context.get("access"),
        "charts": [(chart, chart_layout(chart)) for chart in charts],
        "count": count,
        "counts": COUNTS,
        "series": SERIES,
        "payout": PAYOUT,
        "more": any(chart.more for chart in charts),
    }

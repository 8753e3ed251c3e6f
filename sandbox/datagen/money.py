"""Money helpers shared by the generators.

Amounts are computed in integer cents (fast, exact) and turned into two-place `Decimal`s
only at the edge, so every generated amount has exactly two decimal places.
"""

from __future__ import annotations

from decimal import Decimal

_CACHE: dict[int, Decimal] = {}


def dec(cents: int) -> Decimal:
    """Integer cents → `Decimal` with two places (1234 → Decimal('12.34'), 0 → '0.00')."""
    try:
        return _CACHE[cents]
    except KeyError:
        value = Decimal(cents).scaleb(-2)
        if len(_CACHE) < 200_000:
            _CACHE[cents] = value
        return value


def pct(cents: int, ppm: int) -> int:
    """`cents` times a rate (parts per million), rounded half away from zero, in cents."""
    sign = -1 if cents < 0 else 1
    return sign * ((abs(cents) * ppm + 500_000) // 1_000_000)


def fmt_amount(amount: Decimal, *, comma: bool = False) -> str:
    """Two-place amount as Amazon writes it: `-32.40`, or `-32,40` in comma-decimal locales."""
    text = f"{amount:.2f}"
    return text.replace(".", ",") if comma else text


def cents(amount: Decimal) -> int:
    """Two-place `Decimal` → integer cents."""
    return int(amount.scaleb(2))

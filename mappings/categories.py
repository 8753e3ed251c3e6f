"""What a category is: the unit a user maps to a Xero account.

Two registries fill it, as data: Seller Central settlement lines
(``mappings/categories_seller.py``) and Amazon Business purchases
(``mappings/categories_business.py``). A combination no registry knows becomes its own
*unmapped* category (``unmapped_category``): it posts to the suspense account and raises an
alert, and is never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    key: str  # stable id stored in mappings, e.g. "seller:fees:commission"
    label: str  # what a bookkeeper reads, e.g. "Amazon commission (referral fees)"
    group: str  # "Sales", "Refunds", "Fees", "Taxes", "Promotions", "Reserves", "Expenses", …
    source: str  # "seller" or "business"
    # revenue, expense, tax, liability, asset, payment_method, clearing, suspense
    kind: str
    # A hint for suggestions, e.g. "sales", "fees", "shipping", "vat", "reserve".
    hint: str = ""
    unmapped: bool = False


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-") or "blank"


def unmapped_category(source: str, *parts: str) -> Category:
    """A combination no registry knows: its own category, visible and held for mapping."""
    raw = " / ".join(p.strip() for p in parts if p and p.strip()) or "(blank)"
    return Category(
        key=f"{source}:unmapped:{slug(raw)}",
        label=f"Unknown: {raw}",
        group="Unmapped",
        source=source,
        kind="suspense",
        hint="suspense",
        unmapped=True,
    )

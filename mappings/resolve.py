"""A link's mapping as plain data: what the pure transforms read.

Built from the database by ``mapping_set_for(link)`` (mappings/services.py) and validated against
the live chart before each push; transforms and their tests build it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """Where one category posts in Xero."""

    account_code: str
    tax_type: str
    # Up to two (tracking category name, option name) pairs.
    tracking: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MappingSet:
    """Everything a transform needs to know about a link's mapping.

    ``targets`` maps category keys to Xero targets; a category missing from it is unmapped and
    its documents are held (or posted to ``suspense`` when the category is an unknown one).
    """

    targets: dict[str, Target] = field(default_factory=dict)
    # Seller Central: marketplace id -> Xero contact name, and optional tracking option.
    marketplace_contacts: dict[str, str] = field(default_factory=dict)
    marketplace_tracking: dict[str, tuple[str, str]] = field(default_factory=dict)
    clearing_account: str = ""  # where settlement deposits (payments) come from / go to
    reserve_account: str = ""  # balance-sheet account for Amazon's reserves
    suspense_account: str = ""  # unknown categories post here, with an alert
    rounding_account: str = ""  # Xero's ROUNDING system account, when a line is needed
    # Amazon Business: payment-method key (e.g. "card:4242", "invoice") -> Xero bank/card
    # account code, or BILL for Pay by Invoice (an ACCPAY bill to the supplier).
    payment_methods: dict[str, str] = field(default_factory=dict)
    business_supplier_contact_id: str = ""
    line_amount_types: str = "Exclusive"

    BILL = "bill"

    def target(self, category_key: str) -> Target | None:
        return self.targets.get(category_key)

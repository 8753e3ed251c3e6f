"""What to do about an error, next to Xero's or Amazon's own words."""

from __future__ import annotations

import re

# (pattern in the provider's message, the fix in plain words). First match wins.
_FIXES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"Account code '([^']+)' has been archived", re.I),
        "Account {0} was archived in Xero: remap the category that uses it to an active account, "
        "then retry.",
    ),
    (
        re.compile(r"Account code '([^']+)' is not a valid code", re.I),
        "Account {0} does not exist in Xero (deleted or never created): remap the category that "
        "uses it, then retry.",
    ),
    (
        re.compile(r"TaxType code '([^']+)' cannot be used with account code '([^']+)'", re.I),
        "Tax rate {0} is not allowed on account {1} in Xero: choose another tax rate in the "
        "mapping, then retry.",
    ),
    (
        re.compile(r"currency of the bank transaction must match the bank account", re.I),
        "The account it is paid from holds another currency: in the mapping, choose a bank or "
        "credit-card account in the document's currency (create one in Xero if needed), then "
        "retry.",
    ),
    (
        re.compile(r"currency", re.I),
        "Enable this currency in Xero (Settings → Currencies), then retry.",
    ),
    (
        re.compile(r"contact.*(archived|unique)", re.I),
        "Check the contact in Xero (it may be archived or renamed), then retry.",
    ),
    (
        re.compile(r"Invoice # must be unique", re.I),
        "Xero already holds a document with this number: if it is ours, nothing needs doing; "
        "otherwise rename that document in Xero, then retry.",
    ),
    (
        re.compile(r"(not of valid status|only be made against Authorised)", re.I),
        "The document this payment is for is not authorised in Xero (voided or draft).",
    ),
    (
        re.compile(r"(exceeds the amount outstanding|amount outstanding)", re.I),
        "The document is already (partly) paid in Xero: check for a manual payment there.",
    ),
    (
        re.compile(r"(reconnect|disconnected|invalid_grant)", re.I),
        "Reconnect the connection on the Connections page; held work resumes by itself.",
    ),
]


def fix_for(message: str) -> str:
    for pattern, fix in _FIXES:
        match = pattern.search(message or "")
        if match:
            return fix.format(*match.groups())
    return "Fix the cause in Xero or in the mapping, then retry."

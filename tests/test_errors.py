"""The fix shown beside Xero's words: the right one for each message the sandbox's Xero sends."""

from __future__ import annotations

import pytest

from sync.errors import fix_for


@pytest.mark.parametrize(
    ("message", "fix"),
    [
        (
            "Account code '092' has been archived, or has been deleted. Each line item must "
            "reference a valid account.",
            "Account 092 was archived in Xero: remap the category that uses it to an active "
            "account, then retry.",
        ),
        (
            "The currency of the bank transaction must match the bank account.",
            "The account it is paid from holds another currency: in the mapping, choose a bank "
            "or credit-card account in the document's currency (create one in Xero if needed), "
            "then retry.",
        ),
        (
            "Organisation is not subscribed to currency EUR",
            "Enable this currency in Xero (Settings → Currencies), then retry.",
        ),
        ("Something else went wrong.", "Fix the cause in Xero or in the mapping, then retry."),
    ],
)
def test_each_message_gets_its_own_fix(message: str, fix: str) -> None:
    assert fix_for(message) == fix

"""The "Amazon Business" supplier contact: created by the hub, tracked by its ContactID.

Other apps stop syncing when someone renames or archives their contact in Xero. Here the
contact is found by ContactID (Xero keeps it through a rename), and checked before each run
posts anything:

- renamed → keep using it (documents name it by ContactID only); tell the user its new name;
- archived → reactivate it (``ContactStatus: ACTIVE``) and tell the user;
- merged into another contact → follow ``MergedToContactID``;
- gone (deleted, or a GDPR request) → create a new one and tell the user.

A new contact is named "Amazon Business"; names are unique among active contacts, so when an
unrelated contact holds the name a suffix is added. Its ContactNumber (Xero's "contact code",
unique across all contacts) is the hub's own key, so a create whose answer was lost is found
again instead of being made twice.
Reference: https://developer.xero.com/documentation/api/accounting/contacts (xero-api.md §5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from connectors.models import Link
from connectors.xero.accounting import XeroAccounting
from purchases.models import PurchaseNotice, PurchaseSettings

SUPPLIER_NAME = "Amazon Business"
NAMES = (
    SUPPLIER_NAME,
    f"{SUPPLIER_NAME} (Ledgerbridge)",
    *(f"{SUPPLIER_NAME} (Ledgerbridge {n})" for n in range(2, 6)),
)
NAME_TAKEN = "already assigned to another contact"
NUMBER_TAKEN = "contact number"
USABLE = ("ACTIVE", "ARCHIVED")


class ContactProblem(Exception):
    """The contact cannot be set up; ``message`` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def contact_number(link: Link) -> str:
    return f"LEDGERBRIDGE-AB-{link.pk}"


def notice_add(link: Link, message: str, *, warning: bool = False) -> None:
    PurchaseNotice.objects.create(
        link=link,
        message=message[:500],
        level=PurchaseNotice.Level.WARNING if warning else PurchaseNotice.Level.INFO,
    )


@dataclass(frozen=True)
class Found:
    contact_id: str
    name: str
    status: str
    merged_to: str


def _found(body: dict[str, Any]) -> Found | None:
    contacts = body.get("Contacts") or []
    if not contacts:
        return None
    c = contacts[0]
    merged = str(c.get("MergedToContactID") or "")
    if merged == "00000000-0000-0000-0000-000000000000":
        merged = ""
    return Found(
        contact_id=str(c["ContactID"]),
        name=str(c.get("Name") or ""),
        status=str(c.get("ContactStatus") or "ACTIVE").upper(),
        merged_to=merged,
    )


def _contact_get(client: XeroAccounting, identifier: str) -> Found | None:
    """GET /Contacts/{ContactID or ContactNumber}; None when Xero has no such contact."""
    response = client.request("getContact", "GET", f"/Contacts/{identifier}", expect=(404,))
    if response.status_code == 404:
        return None
    return _found(response.json())


def _element(client: XeroAccounting, method: str, contact: dict[str, Any], key: str) -> Any:
    """One contact written with summarizeErrors=false: (element, its validation messages)."""
    response = client.request(
        "createContacts" if method == "PUT" else "updateContact",
        method,
        "/Contacts",
        params={"summarizeErrors": "false"},
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        json={"Contacts": [contact]},
    )
    elements = response.json().get("Contacts") or [{}]
    element = elements[0]
    errors = [e.get("Message", "") for e in element.get("ValidationErrors") or []]
    return element, [m for m in errors if m]


def _reactivate(client: XeroAccounting, link: Link, found: Found) -> Found:
    """Archived in Xero: make it active again (renaming it only if its name is now taken)."""
    for name in (found.name, *NAMES):
        contact: dict[str, Any] = {"ContactID": found.contact_id, "ContactStatus": "ACTIVE"}
        if name != found.name:
            contact["Name"] = name
        # Reactivating twice does no harm, and the same contact may be archived again within
        # Xero's six-minute replay window: a fresh key, never a replay of an older answer.
        key = f"lb-contact-activate-{uuid.uuid4().hex}"
        element, errors = _element(client, "POST", contact, key)
        if not errors:
            return Found(found.contact_id, str(element.get("Name") or name), "ACTIVE", "")
        if not any(NAME_TAKEN in e for e in errors):
            raise ContactProblem(
                f"Xero refused to reactivate the {found.name} contact: {'; '.join(errors)}"
            )
    raise ContactProblem(
        f"The {found.name} contact was archived in Xero and every name tried for it is taken by "
        "another contact. Reactivate it in Xero (Contacts → Archived)."
    )


def _create(client: XeroAccounting, link: Link, number: str, replacing: str) -> tuple[Found, str]:
    """Create the contact; the key is the same for a retry of this very creation only."""
    numbers = [number, *(f"{number}-{n}" for n in range(2, 6))]
    names = list(NAMES)
    while names and numbers:
        name, code = names[0], numbers[0]
        key = f"lb-contact-create-{link.pk}-{replacing or 'first'}-{code}-{name}"[:128]
        element, errors = _element(client, "PUT", {"Name": name, "ContactNumber": code}, key)
        if not errors:
            return Found(str(element["ContactID"]), name, "ACTIVE", ""), code
        if any(NAME_TAKEN in e for e in errors):
            names.pop(0)
        elif any(NUMBER_TAKEN in e.lower() for e in errors):
            numbers.pop(0)
        else:
            raise ContactProblem(
                f"Xero refused to create the {name} supplier contact: {'; '.join(errors)}"
            )
    raise ContactProblem(
        "Xero refused every name tried for the Amazon Business supplier contact "
        f"({', '.join(NAMES)}): they are taken by other contacts. Rename or archive one in Xero."
    )


def supplier_contact_ensure(*, link: Link) -> str:
    """The supplier contact's ContactID, healing the contact first when it needs it.

    Raises ``connectors.http.RetryLater`` (incl. the limiter's wait) to be tried again, and
    ``ContactProblem`` when Xero refuses for good.
    """
    settings, _ = PurchaseSettings.objects.get_or_create(link=link)
    client = XeroAccounting(link.xero_tenant)
    number = settings.supplier_contact_number or contact_number(link)
    found: Found | None = None
    if settings.supplier_contact_id:
        found = _contact_get(client, settings.supplier_contact_id)
        for _ in range(3):  # follow merges, a few hops at most
            if found is None or not found.merged_to:
                break
            merged = _contact_get(client, found.merged_to)
            notice_add(
                link,
                f"The {found.name} contact was merged into {merged.name if merged else 'another'} "
                "in Xero: purchases now post to that contact.",
            )
            found = merged
        if found is None:
            notice_add(
                link,
                f"The {settings.supplier_contact_name or SUPPLIER_NAME} contact was deleted in "
                "Xero: a new supplier contact was created for Amazon Business purchases.",
                warning=True,
            )
        elif found.status not in USABLE:
            notice_add(
                link,
                f"The {found.name} contact can no longer be used in Xero ({found.status}): a new "
                "supplier contact was created for Amazon Business purchases.",
                warning=True,
            )
            found = None
    else:
        found = _contact_get(client, number)
        if found is not None and found.status not in USABLE:
            found = None
    if found is None:
        found, number = _create(client, link, number, settings.supplier_contact_id)
        if not settings.supplier_contact_id:
            notice_add(
                link,
                f"Created the supplier contact “{found.name}” in Xero for Amazon Business "
                "purchases. You may rename or archive it: the sync keeps using it.",
            )
    elif found.status == "ARCHIVED":
        found = _reactivate(client, link, found)
        notice_add(
            link,
            f"The supplier contact “{found.name}” was archived in Xero; it was reactivated so "
            "Amazon Business purchases keep posting.",
            warning=True,
        )
    elif settings.supplier_contact_name and found.name != settings.supplier_contact_name:
        notice_add(
            link,
            f"The supplier contact “{settings.supplier_contact_name}” was renamed in Xero to "
            f"“{found.name}”; purchases keep posting to it.",
        )
    PurchaseSettings.objects.filter(pk=settings.pk).update(
        supplier_contact_id=found.contact_id,
        supplier_contact_name=found.name,
        supplier_contact_number=number,
        supplier_checked_at=timezone.now(),
    )
    return found.contact_id

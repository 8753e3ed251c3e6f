"""Contacts: Xero's uniqueness rules, and how documents find (or create) their contact.

Reference: developer.xero.com/documentation/api/accounting/contacts (xero-api.md §5, §9.4):
- Name is unique among ACTIVE contacts: "The contact name X is already assigned to another
  contact. The contact name must be unique across all active contacts." [spec]
- ContactNumber is unique across all contacts.
- POST with an existing Name and no ContactID updates that contact.
- A document's contact is found by ContactID, ContactNumber or Name; an unknown Name creates
  the contact with the document.
- An ARCHIVED contact cannot be used on a new document: "The contact with the specified contact
  details has been archived. The contact must be un-archived before creating new invoices or
  credit notes." (the message integrators quote from Xero, e.g. Payaca, Re-Leased, Expedo).
  A document naming a contact only by Name matches ACTIVE contacts; when just an archived one
  has that name, a new contact is created (names are unique among active contacts only). Xero
  does not document this case; this is the sandbox's choice.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sandbox.xero import render, wire
from sandbox.xero.batch import Invalid, Saved
from sandbox.xero.gateway import Event
from sandbox.xero.models import Contact, Organisation

IDENTIFY = (
    "The Contact must contain at least 1 of the following elements to identify the contact: "
    "Name, ContactID, ContactNumber"
)
ARCHIVED = (
    "The contact with the specified contact details has been archived. The contact must be "
    "un-archived before creating new invoices or credit notes."
)
STATUSES = ("ACTIVE", "ARCHIVED", "GDPRREQUEST")
PLAIN_FIELDS = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "EmailAddress": "email",
    "AccountNumber": "account_number",
    "TaxNumber": "tax_number",
    "CompanyNumber": "company_number",
    "DefaultCurrency": "default_currency",
}
DATA_FIELDS = (
    "Addresses",
    "Phones",
    "ContactPersons",
    "BankAccountDetails",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "SalesDefaultAccountCode",
    "PurchasesDefaultAccountCode",
    "PaymentTerms",
    "Website",
)
LIMITS = {
    "Name": 255,
    "FirstName": 255,
    "LastName": 255,
    "EmailAddress": 255,
    "ContactNumber": 50,
    "AccountNumber": 50,
    "TaxNumber": 50,
    "CompanyNumber": 50,
}


def name_taken(org: Organisation, name: str, *, exclude: Contact | None = None) -> bool:
    clash = Contact.objects.filter(org=org, status="ACTIVE", name__iexact=name.strip())
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    return clash.exists()


def contact_save(org: Organisation, raw: dict[str, Any], *, create_only: bool) -> Saved:
    """PUT (create) or POST (create or update) one contact."""
    errors: list[str] = []
    existing: Contact | None = None
    if raw.get("ContactID"):
        wanted = wire.guid(raw["ContactID"])
        existing = Contact.objects.filter(org=org, contact_id=wanted).first() if wanted else None
        if existing is None:
            raise Invalid(["An existing Contact with the specified ContactID could not be found"])
    elif raw.get("ContactNumber") and not create_only:
        existing = Contact.objects.filter(org=org, contact_number=raw["ContactNumber"]).first()
    if existing is None and not create_only and raw.get("Name"):
        # POST by Name updates the active contact of that name (xero-api.md §9.4).
        existing = Contact.objects.filter(
            org=org, status="ACTIVE", name__iexact=str(raw["Name"]).strip()
        ).first()
    name = str(raw.get("Name", existing.name if existing else "") or "").strip()
    if not name:
        errors.append("The contact name must be specified.")
    status = str(raw.get("ContactStatus") or (existing.status if existing else "ACTIVE")).upper()
    if status not in STATUSES:
        errors.append(f"The ContactStatus '{status}' is not valid.")
    for key, limit in LIMITS.items():
        if raw.get(key) and len(str(raw[key])) > limit:
            errors.append(f"{key} must be no more than {limit} characters long.")
    if name and status == "ACTIVE" and name_taken(org, name, exclude=existing):
        errors.append(
            f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )
    number = raw.get("ContactNumber")
    if number:
        clash = Contact.objects.filter(org=org, contact_number=number)
        if existing is not None:
            clash = clash.exclude(pk=existing.pk)
        if clash.exists():
            errors.append("Another contact has this contact number. Please enter a unique number.")
    if raw.get("EmailAddress") and "@" not in str(raw["EmailAddress"]):
        errors.append("Email address must be valid.")
    if errors:
        raise Invalid(errors)
    now = timezone.now()
    created = existing is None
    contact = existing or Contact(org=org)
    contact.name = name
    contact.status = status
    if number is not None:
        contact.contact_number = str(number)
    for key, attr in PLAIN_FIELDS.items():
        if key in raw and raw[key] is not None:
            setattr(contact, attr, str(raw[key]))
    data = dict(contact.data)
    for key in DATA_FIELDS:
        if key in raw:
            data[key] = raw[key]
    contact.data = wire.jsonable(data)
    contact.updated_at = now
    contact.save()
    event = Event("CONTACT", "CREATE" if created else "UPDATE", contact.contact_id, "Contacts")
    return Saved(body=render.contact(contact), events=[event])


def contact_for_document(
    org: Organisation, raw: Any, errors: list[str], events: list[Event]
) -> Contact | None:
    """Find the document's contact as Xero does, creating it from a new Name."""
    if not isinstance(raw, dict) or not any(
        raw.get(key) for key in ("ContactID", "ContactNumber", "Name")
    ):
        errors.append(IDENTIFY)
        return None
    contact: Contact | None = None
    if raw.get("ContactID"):
        wanted = wire.guid(raw["ContactID"])
        contact = Contact.objects.filter(org=org, contact_id=wanted).first() if wanted else None
        if contact is None:
            errors.append("An existing Contact with the specified ContactID could not be found")
            return None
    elif raw.get("ContactNumber"):
        contact = Contact.objects.filter(org=org, contact_number=raw["ContactNumber"]).first()
    if contact is None and raw.get("Name"):
        name = str(raw["Name"]).strip()
        contact = Contact.objects.filter(org=org, status="ACTIVE", name__iexact=name).first()
        if contact is None:
            contact = Contact.objects.create(
                org=org,
                name=name,
                email=str(raw.get("EmailAddress") or ""),
                first_name=str(raw.get("FirstName") or ""),
                last_name=str(raw.get("LastName") or ""),
                contact_number=str(raw.get("ContactNumber") or ""),
                updated_at=timezone.now(),
            )
            events.append(Event("CONTACT", "CREATE", contact.contact_id, "Contacts"))
    if contact is None:
        errors.append(IDENTIFY)
        return None
    if contact.status != "ACTIVE":
        errors.append(ARCHIVED)
        return None
    return contact

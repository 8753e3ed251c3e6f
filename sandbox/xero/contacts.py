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

A batch reads the contacts its elements can name once (``Directory``) and stages the contacts it
creates or changes, so later elements of the same batch find them as if each were saved alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from sandbox.xero import render, wire
from sandbox.xero.batch import Invalid, Saved, Stage
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


ALL_FIELDS = [f.name for f in Contact._meta.concrete_fields if not f.primary_key]


class Directory:
    """The organisation's contacts a batch names, read once and kept current as it changes them.

    Lookups mean what the per-element queries mean: by ContactID or ContactNumber (any status),
    by Name among ACTIVE contacts, names compared as PostgreSQL's ``UPPER`` compares them (the
    ``iexact`` Django uses). Every contact the batch can find is loaded up front, in one query,
    from the ids, numbers and names the elements carry (``refs``); anything else asked for is
    loaded when first asked. Contacts the batch creates or changes are staged on ``stage`` and
    are what later elements see.
    """

    def __init__(self, org: Organisation, stage: Stage, refs: Iterable[object] = ()) -> None:
        self.org = org
        self.stage = stage
        self.contacts: list[Contact] = []  # in the order ``.first()`` would pick them
        self._key_of: dict[int, str] = {}  # id(contact) -> UPPER(name)
        self._name_keys: dict[str, str] = {}
        self._seen_ids: set[uuid.UUID] = set()
        self._seen_numbers: set[str] = set()
        ids: set[uuid.UUID] = set()
        numbers: set[str] = set()
        names: set[str] = set()
        for ref in refs:
            if not isinstance(ref, dict):
                continue
            wanted = wire.guid(ref["ContactID"]) if ref.get("ContactID") else None
            if wanted is not None:
                ids.add(wanted)
            if ref.get("ContactNumber"):
                numbers.add(str(ref["ContactNumber"]))
            if ref.get("Name"):
                names.add(str(ref["Name"]).strip())
        self._load(ids=ids, numbers=numbers, names=names)

    def _load(self, *, ids: set[uuid.UUID], numbers: set[str], names: set[str]) -> None:
        ids, numbers = ids - self._seen_ids, numbers - self._seen_numbers
        names = {n for n in names if n not in self._name_keys}
        if not (ids or numbers or names):
            return
        if connection.vendor != "postgresql":
            self._load_portable(ids=ids, numbers=numbers, names=names)
            return
        if names:
            with connection.cursor() as cursor:
                cursor.execute("SELECT w, UPPER(w) FROM unnest(%s::text[]) AS w", [list(names)])
                self._name_keys.update({name: key for name, key in cursor.fetchall()})
        tracked = {c.pk for c in self.contacts if c.pk is not None}
        found = Contact.objects.raw(
            "SELECT c.*, UPPER(c.name::text) AS name_key FROM sandbox_xero_contact c "
            "WHERE c.org_id = %s AND (c.contact_id = ANY(%s::uuid[]) "
            "OR c.contact_number = ANY(%s::text[]) OR (c.status = 'ACTIVE' AND "
            "UPPER(c.name::text) IN (SELECT UPPER(w) FROM unnest(%s::text[]) AS w))) "
            "ORDER BY c.name, c.id",
            [self.org.pk, [str(i) for i in ids], list(numbers), list(names)],
        )
        for contact in found:
            if contact.pk not in tracked:
                self.contacts.append(contact)
                self._key_of[id(contact)] = str(getattr(contact, "name_key"))  # noqa: B009
        self._seen_ids |= ids
        self._seen_numbers |= numbers

    def _load_portable(self, *, ids: set[uuid.UUID], numbers: set[str], names: set[str]) -> None:
        """``_load`` without PostgreSQL arrays, for the demo's SQLite (same matching rules)."""
        keys = {name: name.upper() for name in names}
        self._name_keys.update(keys)
        tracked = {c.pk for c in self.contacts if c.pk is not None}
        found = (
            Contact.objects.annotate(name_key=Upper("name"))
            .filter(org=self.org)
            .filter(
                Q(contact_id__in=ids)
                | Q(contact_number__in=numbers)
                | Q(status="ACTIVE", name_key__in=set(keys.values()))
            )
            .order_by("name", "id")
        )
        for contact in found:
            if contact.pk not in tracked:
                self.contacts.append(contact)
                self._key_of[id(contact)] = str(contact.name_key)
        self._seen_ids |= ids
        self._seen_numbers |= numbers

    def _key(self, name: str) -> str:
        self._load(ids=set(), numbers=set(), names={name})
        return self._name_keys[name]

    def by_id(self, wanted: uuid.UUID) -> Contact | None:
        self._load(ids={wanted}, numbers=set(), names=set())
        return next((c for c in self.contacts if c.contact_id == wanted), None)

    def by_number(self, number: object) -> Contact | None:
        wanted = str(number)
        self._load(ids=set(), numbers={wanted}, names=set())
        return next((c for c in self.contacts if c.contact_number == wanted), None)

    def active_by_name(self, name: str) -> Contact | None:
        key = self._key(name)
        return next(
            (c for c in self.contacts if c.status == "ACTIVE" and self._key_of[id(c)] == key),
            None,
        )

    def name_taken(self, name: str, *, exclude: Contact | None = None) -> bool:
        key = self._key(name.strip())
        return any(
            c.status == "ACTIVE" and self._key_of[id(c)] == key and c is not exclude
            for c in self.contacts
        )

    def number_taken(self, number: object, *, exclude: Contact | None = None) -> bool:
        wanted = str(number)
        self._load(ids=set(), numbers={wanted}, names=set())
        return any(c.contact_number == wanted and c is not exclude for c in self.contacts)

    def add(self, contact: Contact) -> None:
        """Stage a new contact; later elements find it."""
        self.contacts.append(contact)
        self._key_of[id(contact)] = self._key(contact.name)
        self._seen_ids.add(contact.contact_id)
        self.stage.create(contact)

        def undo() -> None:
            self.contacts.remove(contact)
            del self._key_of[id(contact)]

        self.stage.on_undo(undo)

    def changed(self, contact: Contact, fields: list[str]) -> None:
        """Stage a change to a contact (its name, status or number may have moved)."""
        self._key_of[id(contact)] = self._key(contact.name)
        self.stage.update(contact, fields)


def contact_save(directory: Directory, raw: dict[str, Any], *, create_only: bool) -> Saved:
    """PUT (create) or POST (create or update) one contact."""
    org = directory.org
    errors: list[str] = []
    existing: Contact | None = None
    if raw.get("ContactID"):
        wanted = wire.guid(raw["ContactID"])
        existing = directory.by_id(wanted) if wanted else None
        if existing is None:
            raise Invalid(["An existing Contact with the specified ContactID could not be found"])
    elif raw.get("ContactNumber") and not create_only:
        existing = directory.by_number(raw["ContactNumber"])
    if existing is None and not create_only and raw.get("Name"):
        # POST by Name updates the active contact of that name (xero-api.md §9.4).
        existing = directory.active_by_name(str(raw["Name"]).strip())
    name = str(raw.get("Name", existing.name if existing else "") or "").strip()
    if not name:
        errors.append("The contact name must be specified.")
    status = str(raw.get("ContactStatus") or (existing.status if existing else "ACTIVE")).upper()
    if status not in STATUSES:
        errors.append(f"The ContactStatus '{status}' is not valid.")
    for key, limit in LIMITS.items():
        if raw.get(key) and len(str(raw[key])) > limit:
            errors.append(f"{key} must be no more than {limit} characters long.")
    if name and status == "ACTIVE" and directory.name_taken(name, exclude=existing):
        errors.append(
            f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )
    number = raw.get("ContactNumber")
    if number and directory.number_taken(number, exclude=existing):
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
    if created:
        directory.add(contact)
    else:
        directory.changed(contact, ALL_FIELDS)
    event = Event("CONTACT", "CREATE" if created else "UPDATE", contact.contact_id, "Contacts")
    return Saved(body=render.contact(contact), events=[event])


def contact_for_document(
    directory: Directory, raw: Any, errors: list[str], events: list[Event]
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
        contact = directory.by_id(wanted) if wanted else None
        if contact is None:
            errors.append("An existing Contact with the specified ContactID could not be found")
            return None
    elif raw.get("ContactNumber"):
        contact = directory.by_number(raw["ContactNumber"])
    if contact is None and raw.get("Name"):
        name = str(raw["Name"]).strip()
        contact = directory.active_by_name(name)
        if contact is None:
            contact = Contact(
                org=directory.org,
                name=name,
                email=str(raw.get("EmailAddress") or ""),
                first_name=str(raw.get("FirstName") or ""),
                last_name=str(raw.get("LastName") or ""),
                contact_number=str(raw.get("ContactNumber") or ""),
                updated_at=timezone.now(),
            )
            directory.add(contact)
            events.append(Event("CONTACT", "CREATE", contact.contact_id, "Contacts"))
    if contact is None:
        errors.append(IDENTIFY)
        return None
    if contact.status != "ACTIVE":
        errors.append(ARCHIVED)
        return None
    return contact

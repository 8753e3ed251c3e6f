"""Invoices and credit notes: creating, updating, approving, voiding and deleting them.

Reference: developer.xero.com/documentation/api/accounting/invoices and /credit-notes
(xero-api.md §5, §9):
- Created as DRAFT (default), SUBMITTED or AUTHORISED; anything else is "Invoice not of valid
  status for creation".
- ACCREC InvoiceNumber is unique ("Invoice # must be unique."), generated (INV-0001...) when
  omitted; ACCPAY numbers are the supplier's and need not be unique. Reference is ACCREC only.
- DRAFT and SUBMITTED documents can be edited and DELETED; AUTHORISED ones can be edited until a
  payment or credit note is applied ("This document cannot be edited as it has a payment or
  credit note allocated to it.") and VOIDED only then; PAID, VOIDED and DELETED ones cannot be
  changed: "Invoice not of valid status for modification".
- The document currency must be enabled: "Organisation is not subscribed to currency EUR".
- Total sent by the client is ignored when it does not equal the sum of the lines.
- An element carrying the InvoiceID of an existing document updates it (PUT as well as POST);
  POST also matches an existing sales document by InvoiceNumber, where PUT refuses the number.
- A document whose total is negative is refused (Xero takes no negative invoices; integrators
  post a credit note or a bill instead); an AUTHORISED invoice for zero is PAID at once.
- PARTNER edition organisations have "no access to invoicing" (spec, Organisation.Edition). Xero's
  wording for the refusal is not published; the sandbox refuses each element with a validation
  error naming the edition, so a client sees it exactly where it sees other refusals.

A batch is one ``Session``: new documents (and the contacts they create) are staged and written
in bulk at the end (``batch.Stage``); numbers in use and the next generated number are read once
and kept in memory. An update reads and writes the database directly, so it first writes what
the batch staged and the rest of the batch then asks the database again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone

from sandbox.xero import render, wire
from sandbox.xero.batch import Invalid, Saved, Stage
from sandbox.xero.books import Books
from sandbox.xero.contacts import Directory, contact_for_document
from sandbox.xero.gateway import Event
from sandbox.xero.lines import build_lines
from sandbox.xero.models import (
    BankTransaction,
    Contact,
    CreditNote,
    Invoice,
    Organisation,
    Payment,
)

PARTNER_REFUSAL = (
    "This organisation is on the Partner edition of Xero, which does not include invoicing."
)
NOT_MODIFIABLE = "Invoice not of valid status for modification"
HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."
# Xero takes no negative invoices or credit notes (a negative settlement becomes a bill or a
# credit note instead); the wording is unverified.
NEGATIVE = "The total of this document cannot be negative."
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")


@dataclass(frozen=True)
class Kind:
    model: type[Invoice] | type[CreditNote]
    id_key: str
    number_key: str
    types: tuple[str, str]  # (sales, purchases)
    category: str
    path: str
    prefix: str
    noun: str


INVOICE = Kind(
    Invoice,
    "InvoiceID",
    "InvoiceNumber",
    ("ACCREC", "ACCPAY"),
    "INVOICE",
    "Invoices",
    "INV-",
    "Invoice",
)
CREDIT_NOTE = Kind(
    CreditNote,
    "CreditNoteID",
    "CreditNoteNumber",
    ("ACCRECCREDIT", "ACCPAYCREDIT"),
    "CREDITNOTE",
    "CreditNotes",
    "CN-",
    "Credit Note",
)


def _object_id(doc: Invoice | CreditNote) -> uuid.UUID:
    return doc.invoice_id if isinstance(doc, Invoice) else doc.credit_note_id


def find_document(kind: Kind, org: Organisation, raw_id: object) -> Invoice | CreditNote | None:
    wanted = wire.guid(raw_id)
    if wanted is None:
        return None
    if kind is INVOICE:
        return Invoice.objects.filter(org=org, invoice_id=wanted).first()
    return CreditNote.objects.filter(org=org, credit_note_id=wanted).first()


def _applied(doc: Invoice | CreditNote) -> bool:
    """Has a live payment or credit allocation."""
    if doc.payments.filter(status="AUTHORISED").exists():
        return True
    return doc.allocations.filter(is_deleted=False).exists()


# Rows a batch creates, in the order they are written (a row after the rows it points at).
CREATION_ORDER: tuple[type[Model], ...] = (Contact, Invoice, CreditNote, BankTransaction, Payment)
NUMBER_WINDOW = 64  # generated-number candidates checked per query


def _number_field(kind: Kind) -> str:
    return "next_invoice_number" if kind is INVOICE else "next_credit_note_number"


class Session:
    """One batch write: the books, the contacts, staged writes and document numbering.

    Answers what the per-element queries answered, from what it read once plus what the batch
    staged: whether an ACCREC number is in use, which document a POST number names, the next
    generated number. ``direct`` is called before anything reads or writes documents in the
    database itself (an update); from then on the answers come from the database again.
    """

    def __init__(self, books: Books, elements: list[dict[str, Any]], kind: Kind | None = None):
        self.books = books
        self.org = books.org
        self.stage = Stage(CREATION_ORDER)
        self.contacts = Directory(self.org, self.stage, (e.get("Contact") for e in elements))
        self._numbers: set[str] = set()
        if kind is not None:
            self._numbers = {str(e.get(kind.number_key) or "").strip() for e in elements} - {""}
        self._locked: Organisation | None = None
        self._direct = False
        self._accrec_in_use: set[str] | None = None
        self._by_number: list[Invoice | CreditNote] | None = None
        self._staged: list[Invoice | CreditNote] = []
        self._counters: dict[str, int] = {}
        self._used: dict[str, bool] = {}
        self.stage.on_flush(self._write_counters)

    # -- the organisation row (serialises numbering, as Xero's uniqueness does)

    def locked_org(self) -> Organisation:
        if self._locked is None:
            self._locked = Organisation.objects.select_for_update().get(pk=self.org.pk)
        return self._locked

    def _write_counters(self) -> None:
        if self._counters:
            Organisation.objects.filter(pk=self.org.pk).update(**self._counters)

    def direct(self) -> None:
        """Write what is staged; the database is the answer from now on."""
        self.stage.flush()
        self._direct = True
        self._accrec_in_use, self._by_number = None, None
        self._staged = []  # written: the database answers for them now
        self._used.clear()

    # -- numbers in use

    def accrec_number_taken(self, number: str) -> bool:
        """An ACCREC invoice (not DELETED) already has this number."""
        self.locked_org()
        staged = any(
            d.type == "ACCREC" and d.number == number and d.status != "DELETED"
            for d in self._staged
            if isinstance(d, Invoice)
        )
        if staged:
            return True
        if self._direct or number not in self._numbers:
            return (
                Invoice.objects.filter(org=self.org, type="ACCREC", number=number)
                .exclude(status="DELETED")
                .exists()
            )
        if self._accrec_in_use is None:
            self._accrec_in_use = set(
                Invoice.objects.filter(org=self.org, type="ACCREC", number__in=self._numbers)
                .exclude(status="DELETED")
                .values_list("number", flat=True)
            )
        return number in self._accrec_in_use

    def by_number(self, kind: Kind, doc_type: str, number: str) -> Invoice | CreditNote | None:
        """The document (not DELETED) of this type and number, as POST matches it."""
        staged = any(
            d.type == doc_type and d.number == number and d.status != "DELETED"
            for d in self._staged
            if isinstance(d, kind.model)
        )
        if staged:
            self.direct()
        if self._direct or number not in self._numbers:
            found: Invoice | CreditNote | None = (
                kind.model.objects.filter(org=self.org, type=doc_type, number=number)
                .exclude(status="DELETED")
                .first()
            )
            return found
        if self._by_number is None:
            self._by_number = list(
                kind.model.objects.filter(org=self.org, number__in=self._numbers)
                .exclude(status="DELETED")
                .order_by("updated_at", "id")
            )
        return next((d for d in self._by_number if d.type == doc_type and d.number == number), None)

    def next_number(self, kind: Kind) -> str:
        """The organisation's next free generated number (INV-0001, CN-0001...)."""
        field = _number_field(kind)
        if field not in self._counters:
            self._counters[field] = getattr(self.locked_org(), field)
        number = self._counters[field]
        while True:
            candidate = f"{kind.prefix}{number:04d}"
            number += 1
            if not self._number_used(kind, candidate, number - 1):
                break
        before = self._counters[field]
        self._counters[field] = number

        def undo() -> None:
            self._counters[field] = before

        self.stage.on_undo(undo)
        return candidate

    def _number_used(self, kind: Kind, candidate: str, at: int) -> bool:
        """Any document of this kind (any type or status) has this number."""
        if any(d.number == candidate for d in self._staged if isinstance(d, kind.model)):
            return True
        if candidate not in self._used:
            window = [f"{kind.prefix}{n:04d}" for n in range(at, at + NUMBER_WINDOW)]
            taken = set(
                kind.model.objects.filter(org=self.org, number__in=window).values_list(
                    "number", flat=True
                )
            )
            self._used.update({c: c in taken for c in window})
        return self._used[candidate]

    # -- staging

    def add(self, doc: Invoice | CreditNote) -> None:
        self.stage.create(doc)
        self._staged.append(doc)

        def undo() -> None:
            if doc in self._staged:
                self._staged.remove(doc)

        self.stage.on_undo(undo)

    def contact_flag(self, contact: Contact, flag: str) -> None:
        setattr(contact, flag, True)
        self.stage.update(contact, [flag])


def _render(kind: Kind, doc: Invoice | CreditNote) -> dict[str, Any]:
    if isinstance(doc, Invoice):
        return render.invoice(doc)
    return render.credit_note(doc)


def document_save(
    kind: Kind,
    session: Session,
    raw: dict[str, Any],
    *,
    unitdp: int,
    client_id: str,
    target: Invoice | CreditNote | None = None,
    allow_update: bool = True,
) -> Saved:
    """Create or update one invoice / credit note from a request element."""
    books = session.books
    org = books.org
    errors: list[str] = []
    events: list[Event] = []
    existing = target
    if existing is None and raw.get(kind.id_key) not in (
        None,
        "",
        "00000000-0000-0000-0000-000000000000",
    ):
        existing = find_document(kind, org, raw[kind.id_key])
        if existing is None:
            raise Invalid(
                [f"An existing {kind.noun} with the specified {kind.id_key} could not be found"]
            )
    doc_type = str(raw.get("Type") or (existing.type if existing else "")).upper()
    if existing is None and allow_update and doc_type == kind.types[0] and raw.get(kind.number_key):
        # POST identifies a sales document by its number too.
        existing = session.by_number(kind, doc_type, str(raw[kind.number_key]).strip())
    if org.edition == "PARTNER":
        raise Invalid([PARTNER_REFUSAL])
    if doc_type not in kind.types:
        raise Invalid([f"{kind.noun} Type must be one of {', '.join(kind.types)}"])
    if existing is not None:
        return _update(kind, session, existing, raw, unitdp=unitdp, doc_type=doc_type)

    status = str(raw.get("Status") or "DRAFT").upper()
    if status not in CREATE_STATUSES:
        errors.append(f"{kind.noun} not of valid status for creation")
    contact = contact_for_document(session.contacts, raw.get("Contact"), errors, events)
    try:
        doc_date = wire.parse_xero_date(raw.get("Date"), field="Date") or timezone.now().date()
        due_date = wire.parse_xero_date(raw.get("DueDate"), field="DueDate")
    except wire.BadValue as exc:
        errors.append(str(exc))
        doc_date, due_date = timezone.now().date(), None
    currency = str(raw.get("CurrencyCode") or org.base_currency).upper()
    if currency not in books.currencies:
        errors.append(f"Organisation is not subscribed to currency {currency}")
    rate = _currency_rate(books, raw, currency, errors)
    lat = _line_amount_types(raw, errors)
    lines = build_lines(
        books,
        raw.get("LineItems"),
        doc_type=doc_type,
        line_amount_types=lat,
        unitdp=unitdp,
        require_account=status != "DRAFT",
        allow_discount=doc_type == "ACCREC",
        reject_negative_quantity=True,
    )
    errors.extend(lines.errors)
    if status != "DRAFT" and not lines.stored and not errors:
        errors.append(f"{kind.noun} must have at least one line item to be approved.")
    if lines.total < 0:
        errors.append(NEGATIVE)
    number = str(raw.get(kind.number_key) or "").strip()
    if len(number) > 255:
        errors.append(f"{kind.number_key} must be no more than 255 characters long.")
    if doc_type == "ACCREC":
        # Serialise sales invoice numbering per organisation, as Xero's uniqueness does.
        session.locked_org()
        if number and session.accrec_number_taken(number):
            errors.append("Invoice # must be unique.")
    if errors:
        raise Invalid(errors, echo=_echo(kind, raw, lines.stored))
    if not number and doc_type == kind.types[0]:
        number = session.next_number(kind)
    assert contact is not None
    now = timezone.now()
    data = {"LineItems": lines.stored}
    for key in (
        "Url",
        "SentToContact",
        "BrandingThemeID",
        "ExpectedPaymentDate",
        "PlannedPaymentDate",
    ):
        if raw.get(key) not in (None, ""):
            data[key] = wire.jsonable(raw[key])
    common: dict[str, Any] = {
        "org": org,
        "type": doc_type,
        "number": number,
        "reference": str(raw.get("Reference") or "") if doc_type == kind.types[0] else "",
        "status": status,
        "contact": contact,
        "currency_code": currency,
        "currency_rate": rate,
        "line_amount_types": lat,
        "date": doc_date,
        "due_date": due_date,
        "sub_total": lines.sub_total,
        "total_tax": lines.total_tax,
        "total": lines.total,
        "data": data,
        "created_by_app": client_id,
        "created_at": now,
        "updated_at": now,
    }
    doc: Invoice | CreditNote
    if kind is INVOICE:
        doc = Invoice(**common, amount_due=lines.total)
        if status == "AUTHORISED" and lines.total == 0:
            # Nothing is owed on a zero invoice: approving it makes it PAID.
            doc.status, doc.fully_paid_on = "PAID", doc_date
        if doc_type == "ACCREC" and not contact.is_customer:
            session.contact_flag(contact, "is_customer")
        elif doc_type == "ACCPAY" and not contact.is_supplier:
            session.contact_flag(contact, "is_supplier")
    else:
        doc = CreditNote(**common, remaining_credit=lines.total)
    session.add(doc)
    events.append(Event(kind.category, "CREATE", _object_id(doc), kind.path, _event_data(doc)))
    return Saved(body=_render(kind, doc), events=events)


def _event_data(doc: Invoice | CreditNote) -> dict[str, Any] | None:
    # Xero sends entity data only with CREDITNOTE events (xero-api.md §6).
    if isinstance(doc, CreditNote):
        return {"Type": doc.type, "Status": doc.status}
    return None


def _currency_rate(books: Books, raw: dict[str, Any], currency: str, errors: list[str]) -> Decimal:
    try:
        given = wire.to_decimal(raw.get("CurrencyRate"), field="CurrencyRate")
    except wire.BadValue as exc:
        errors.append(str(exc))
        given = None
    if currency == books.org.base_currency:
        return Decimal(1)
    if given is not None:
        if given <= 0:
            errors.append("The CurrencyRate must be greater than zero.")
            return Decimal(1)
        return wire.rq(given, 6)
    return books.day_rate(currency)


def _line_amount_types(raw: dict[str, Any], errors: list[str], default: str = "Exclusive") -> str:
    value = raw.get("LineAmountTypes")
    if value in (None, ""):
        return default
    match = next((t for t in LINE_AMOUNT_TYPES if t.lower() == str(value).lower()), None)
    if match is None:
        errors.append(f"The LineAmountTypes value '{value}' is invalid.")
        return default
    return match


def _echo(kind: Kind, raw: dict[str, Any], stored_lines: list[dict[str, Any]]) -> dict[str, Any]:
    echo = dict(raw)
    if stored_lines:
        echo["LineItems"] = render.lines_out(stored_lines)
    echo.setdefault(kind.id_key, "00000000-0000-0000-0000-000000000000")
    return echo


ALLOWED_MOVES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
}
CONTENT_KEYS = ("LineItems", "Contact", "CurrencyCode", "LineAmountTypes", "Date", "CurrencyRate")


def _update(
    kind: Kind,
    session: Session,
    doc: Invoice | CreditNote,
    raw: dict[str, Any],
    *,
    unitdp: int,
    doc_type: str,
) -> Saved:
    books = session.books
    org = books.org
    errors: list[str] = []
    events: list[Event] = []
    session.direct()
    doc = kind.model.objects.select_for_update().get(pk=doc.pk)
    status = str(raw.get("Status") or doc.status).upper()
    if doc.status not in ALLOWED_MOVES or status not in ALLOWED_MOVES[doc.status]:
        raise Invalid([NOT_MODIFIABLE], echo=_echo(kind, raw, []))
    if doc_type != doc.type:
        raise Invalid([NOT_MODIFIABLE], echo=_echo(kind, raw, []))
    applied = _applied(doc)
    if applied and (status in ("VOIDED", "DELETED") or any(k in raw for k in CONTENT_KEYS)):
        raise Invalid([HAS_PAYMENTS], echo=_echo(kind, raw, []))
    if status in ("VOIDED", "DELETED"):
        doc.status = status
        if isinstance(doc, Invoice):
            doc.amount_due = Decimal("0.00")
        else:
            doc.remaining_credit = Decimal("0.00")
        doc.updated_at = timezone.now()
        doc.save()
        events.append(Event(kind.category, "UPDATE", _object_id(doc), kind.path, _event_data(doc)))
        return Saved(body=_render(kind, doc), events=events)
    if "Contact" in raw:
        contact = contact_for_document(session.contacts, raw.get("Contact"), errors, events)
        if contact is not None:
            doc.contact = contact
    try:
        if "Date" in raw:
            doc.date = wire.parse_xero_date(raw.get("Date"), field="Date") or doc.date
        if "DueDate" in raw:
            doc.due_date = wire.parse_xero_date(raw.get("DueDate"), field="DueDate")
    except wire.BadValue as exc:
        errors.append(str(exc))
    if "CurrencyCode" in raw:
        currency = str(raw.get("CurrencyCode") or org.base_currency).upper()
        if currency not in books.currencies:
            errors.append(f"Organisation is not subscribed to currency {currency}")
        else:
            doc.currency_code = currency
            doc.currency_rate = _currency_rate(books, raw, currency, errors)
    lat = _line_amount_types(raw, errors, default=doc.line_amount_types)
    stored = doc.data.get("LineItems", [])
    if "LineItems" in raw or "LineAmountTypes" in raw or status != doc.status:
        source = raw["LineItems"] if "LineItems" in raw else _resend(stored)
        lines = build_lines(
            books,
            source,
            doc_type=doc.type,
            line_amount_types=lat,
            unitdp=unitdp if "LineItems" in raw else 4,
            require_account=status != "DRAFT",
            allow_discount=doc.type == "ACCREC",
            reject_negative_quantity=True,
        )
        errors.extend(lines.errors)
        stored = lines.stored
        doc.sub_total, doc.total_tax, doc.total = lines.sub_total, lines.total_tax, lines.total
    if kind.number_key in raw and str(raw[kind.number_key] or "").strip() != doc.number:
        number = str(raw[kind.number_key] or "").strip()
        if (
            doc.type == "ACCREC"
            and number
            and Invoice.objects.filter(org=org, type="ACCREC", number=number)
            .exclude(status="DELETED")
            .exclude(pk=doc.pk)
            .exists()
        ):
            errors.append("Invoice # must be unique.")
        doc.number = number or doc.number
    if errors:
        raise Invalid(errors, echo=_echo(kind, raw, stored))
    if doc.total < 0:
        raise Invalid([NEGATIVE], echo=_echo(kind, raw, stored))
    doc.status = status
    doc.line_amount_types = lat
    if "Reference" in raw and doc.type == kind.types[0]:
        doc.reference = str(raw.get("Reference") or "")
    data = dict(doc.data)
    data["LineItems"] = stored
    for key in (
        "Url",
        "SentToContact",
        "BrandingThemeID",
        "ExpectedPaymentDate",
        "PlannedPaymentDate",
    ):
        if key in raw:
            data[key] = wire.jsonable(raw[key])
    doc.data = data
    _refresh_due(doc)
    doc.updated_at = timezone.now()
    session.stage.flush()  # a contact this element created is written before the document
    doc.save()
    events.append(Event(kind.category, "UPDATE", _object_id(doc), kind.path, _event_data(doc)))
    return Saved(body=_render(kind, doc), events=events)


def _resend(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored lines as a request would send them (to recompute after a status change)."""
    return [{k: v for k, v in line.items() if k not in ("AccountID", "Item")} for line in stored]


def _refresh_due(doc: Invoice | CreditNote, *, paid_on: date | None = None) -> None:
    """Recompute what is still owed after a change of total, payment or allocation."""
    paid = sum((p.amount for p in doc.payments.filter(status="AUTHORISED")), Decimal("0.00"))
    credited = sum((a.amount for a in doc.allocations.filter(is_deleted=False)), Decimal("0.00"))
    due_apply(doc, paid=paid, credited=credited, paid_on=paid_on)


def due_apply(
    doc: Invoice | CreditNote, *, paid: Decimal, credited: Decimal, paid_on: date | None = None
) -> None:
    """What is still owed, given the live payments and allocations: amounts, PAID/AUTHORISED."""
    if isinstance(doc, Invoice):
        doc.amount_paid, doc.amount_credited = paid, credited
        doc.amount_due = doc.total - paid - credited
        remaining = doc.amount_due
    else:
        doc.remaining_credit = doc.total - paid - credited
        remaining = doc.remaining_credit
    if doc.status in ("AUTHORISED", "PAID"):
        if remaining <= 0:
            doc.status = "PAID"
            doc.fully_paid_on = paid_on or doc.fully_paid_on or timezone.now().date()
        else:
            doc.status = "AUTHORISED"
            doc.fully_paid_on = None


def document_refresh(doc: Model, *, paid_on: date | None = None) -> None:
    """After a payment or allocation changed: amounts, PAID/AUTHORISED, timestamp."""
    assert isinstance(doc, Invoice | CreditNote)
    _refresh_due(doc, paid_on=paid_on)
    doc.updated_at = timezone.now()
    doc.save()

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
from sandbox.xero.batch import Invalid, Saved
from sandbox.xero.books import Books
from sandbox.xero.contacts import contact_for_document
from sandbox.xero.gateway import Event
from sandbox.xero.lines import build_lines
from sandbox.xero.models import CreditNote, Invoice, Organisation

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


def _next_number(kind: Kind, org: Organisation) -> str:
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    field = "next_invoice_number" if kind is INVOICE else "next_credit_note_number"
    number = getattr(org, field)
    while True:
        candidate = f"{kind.prefix}{number:04d}"
        number += 1
        if not kind.model.objects.filter(org=org, number=candidate).exists():
            break
    Organisation.objects.filter(pk=org.pk).update(**{field: number})
    return candidate


def _render(kind: Kind, doc: Invoice | CreditNote) -> dict[str, Any]:
    if isinstance(doc, Invoice):
        return render.invoice(doc)
    return render.credit_note(doc)


def document_save(
    kind: Kind,
    books: Books,
    raw: dict[str, Any],
    *,
    unitdp: int,
    client_id: str,
    target: Invoice | CreditNote | None = None,
    allow_update: bool = True,
) -> Saved:
    """Create or update one invoice / credit note from a request element."""
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
        existing = (
            kind.model.objects.filter(
                org=org, type=doc_type, number=str(raw[kind.number_key]).strip()
            )
            .exclude(status="DELETED")
            .first()
        )
    if org.edition == "PARTNER":
        raise Invalid([PARTNER_REFUSAL])
    if doc_type not in kind.types:
        raise Invalid([f"{kind.noun} Type must be one of {', '.join(kind.types)}"])
    if existing is not None:
        return _update(kind, books, existing, raw, unitdp=unitdp, doc_type=doc_type)

    status = str(raw.get("Status") or "DRAFT").upper()
    if status not in CREATE_STATUSES:
        errors.append(f"{kind.noun} not of valid status for creation")
    contact = contact_for_document(org, raw.get("Contact"), errors, events)
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
        Organisation.objects.select_for_update().filter(pk=org.pk).first()
        if (
            number
            and Invoice.objects.filter(org=org, type="ACCREC", number=number)
            .exclude(status="DELETED")
            .exists()
        ):
            errors.append("Invoice # must be unique.")
    if errors:
        raise Invalid(errors, echo=_echo(kind, raw, lines.stored))
    if not number and doc_type == kind.types[0]:
        number = _next_number(kind, org)
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
        doc = Invoice.objects.create(**common, amount_due=lines.total)
        if status == "AUTHORISED" and lines.total == 0:
            # Nothing is owed on a zero invoice: approving it makes it PAID.
            doc.status, doc.fully_paid_on = "PAID", doc_date
            doc.save(update_fields=["status", "fully_paid_on"])
        if doc_type == "ACCREC" and not contact.is_customer:
            contact.is_customer = True
            contact.save(update_fields=["is_customer"])
        elif doc_type == "ACCPAY" and not contact.is_supplier:
            contact.is_supplier = True
            contact.save(update_fields=["is_supplier"])
    else:
        doc = CreditNote.objects.create(**common, remaining_credit=lines.total)
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
    books: Books,
    doc: Invoice | CreditNote,
    raw: dict[str, Any],
    *,
    unitdp: int,
    doc_type: str,
) -> Saved:
    org = books.org
    errors: list[str] = []
    events: list[Event] = []
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
        contact = contact_for_document(org, raw.get("Contact"), errors, events)
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
    doc.save()
    events.append(Event(kind.category, "UPDATE", _object_id(doc), kind.path, _event_data(doc)))
    return Saved(body=_render(kind, doc), events=events)


def _resend(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored lines as a request would send them (to recompute after a status change)."""
    return [{k: v for k, v in line.items() if k not in ("AccountID", "Item")} for line in stored]


def _refresh_due(doc: Invoice | CreditNote, *, paid_on: date | None = None) -> None:
    """Recompute what is still owed after a change of total, payment or allocation."""
    if isinstance(doc, Invoice):
        paid = sum((p.amount for p in doc.payments.filter(status="AUTHORISED")), Decimal("0.00"))
        credited = sum(
            (a.amount for a in doc.allocations.filter(is_deleted=False)), Decimal("0.00")
        )
        doc.amount_paid, doc.amount_credited = paid, credited
        doc.amount_due = doc.total - paid - credited
        remaining = doc.amount_due
    else:
        paid = sum((p.amount for p in doc.payments.filter(status="AUTHORISED")), Decimal("0.00"))
        allocated = sum(
            (a.amount for a in doc.allocations.filter(is_deleted=False)), Decimal("0.00")
        )
        doc.remaining_credit = doc.total - paid - allocated
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

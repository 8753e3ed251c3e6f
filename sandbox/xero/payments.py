"""Payments against invoices and credit notes, and credit note allocations.

Reference: developer.xero.com/documentation/api/accounting/payments and
/credit-notes#allocate (xero-api.md §5):
- Only AUTHORISED documents can be paid: "Payments can only be made against Authorised
  documents" (the text integrators quote from Xero).
- The amount cannot exceed what is owed: "Payment amount exceeds the amount outstanding on this
  document" [spec].
- The paying account must be a BANK account or have EnablePaymentsToAccount.
- A payment for the whole amount due makes the document PAID; deleting it (POST
  /Payments/{id} with Status DELETED) restores the amount due and AUTHORISED. A reconciled
  payment cannot be deleted ("This payment has been reconciled and cannot be deleted").
- An allocation moves credit from a credit note to an invoice of the same kind, contact and
  currency, reducing both documents' amounts due. DELETE
  /CreditNotes/{CreditNoteID}/Allocations/{AllocationID} (deleteCreditNoteAllocations) takes it
  back: the Allocation comes back with IsDeleted true, and both documents owe again. A credit
  note (or invoice) with a live allocation cannot be voided until it is deleted.

Xero does not publish the wording of every refusal; where a message below is marked
"unverified", the rule is Xero's and the text is the sandbox's.

A batch of payments is one ``Payments`` session: the documents it pays are read (and locked)
once with what is already paid and credited on them, each payment is checked against what the
batch has paid so far, and the payments and the documents' new amounts are written in bulk.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Q
from django.utils import timezone

from sandbox.xero import render, wire
from sandbox.xero.batch import Invalid, Saved, Stage
from sandbox.xero.books import Books
from sandbox.xero.documents import (
    CREATION_ORDER,
    CREDIT_NOTE,
    INVOICE,
    _event_data,
    document_refresh,
    due_apply,
)
from sandbox.xero.gateway import Event
from sandbox.xero.models import Account, Allocation, CreditNote, Invoice, Payment

NOT_AUTHORISED = "Payments can only be made against Authorised documents"
EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
RECONCILED = "This payment has been reconciled and cannot be deleted"
DocT = TypeVar("DocT", Invoice, CreditNote)
PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


def _obj(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _refs(raw: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """The invoice id and number, and the credit note id and number, a payment names."""
    invoice, credit = _obj(raw, "Invoice"), _obj(raw, "CreditNote")
    return (
        invoice.get("InvoiceID"),
        invoice.get("InvoiceNumber") or raw.get("InvoiceNumber"),
        credit.get("CreditNoteID"),
        credit.get("CreditNoteNumber") or raw.get("CreditNoteNumber"),
    )


class Payments:
    """A batch of payments: the documents they pay, read and locked once, and staged writes."""

    def __init__(self, books: Books, elements: list[dict[str, Any]]) -> None:
        self.books = books
        self.stage = Stage(CREATION_ORDER)
        self._wanted: dict[str, tuple[set[Any], set[str]]] = {
            "inv": (set(), set()),
            "cn": (set(), set()),
        }
        for raw in elements:
            invoice_id, invoice_number, credit_id, credit_number = _refs(raw)
            if invoice_id or invoice_number:
                ids, numbers = self._wanted["inv"]
                ref_id, ref_number = invoice_id, invoice_number
            elif credit_id or credit_number:
                ids, numbers = self._wanted["cn"]
                ref_id, ref_number = credit_id, credit_number
            else:
                continue
            if ref_id and wire.guid(ref_id):
                ids.add(wire.guid_or_nil(ref_id))
            elif ref_number:
                numbers.add(str(ref_number))
        self._invoices: list[Invoice] | None = None
        self._credit_notes: list[CreditNote] | None = None
        self._paid: dict[tuple[str, int], list[Decimal]] | None = None
        self._credited: dict[tuple[str, int], list[Decimal]] | None = None

    def _load(self) -> None:
        """Read and lock the documents the batch names (not DELETED), once.

        Credit notes are locked before invoices, the order an allocation locks them in.
        """
        org = self.books.org
        ids, numbers = self._wanted["cn"]
        self._credit_notes = (
            list(
                CreditNote.objects.filter(org=org)
                .exclude(status="DELETED")
                .filter(Q(credit_note_id__in=ids) | Q(number__in=numbers))
                .select_related("contact")
                .select_for_update(of=("self",))
                .order_by("pk")
            )
            if ids or numbers
            else []
        )
        ids, numbers = self._wanted["inv"]
        self._invoices = (
            list(
                Invoice.objects.filter(org=org)
                .exclude(status="DELETED")
                .filter(Q(invoice_id__in=ids) | Q(number__in=numbers))
                .select_related("contact")
                .select_for_update(of=("self",))
                .order_by("pk")
            )
            if ids or numbers
            else []
        )

    @property
    def invoices(self) -> list[Invoice]:
        if self._invoices is None:
            self._load()
        assert self._invoices is not None
        return self._invoices

    @property
    def credit_notes(self) -> list[CreditNote]:
        if self._credit_notes is None:
            self._load()
        assert self._credit_notes is not None
        return self._credit_notes

    def invoice(self, raw_id: Any, number: Any) -> Invoice | None:
        if raw_id and wire.guid(raw_id):
            wanted = wire.guid_or_nil(raw_id)
            return next((d for d in self.invoices if d.invoice_id == wanted), None)
        if number:
            return _latest([d for d in self.invoices if d.number == str(number)])
        return None

    def credit_note(self, raw_id: Any, number: Any) -> CreditNote | None:
        if raw_id and wire.guid(raw_id):
            wanted = wire.guid_or_nil(raw_id)
            return next((d for d in self.credit_notes if d.credit_note_id == wanted), None)
        if number:
            return _latest([d for d in self.credit_notes if d.number == str(number)])
        return None

    def _amounts(self) -> None:
        """What is already paid and allocated on the batch's documents (one query each)."""
        paid: dict[tuple[str, int], list[Decimal]] = defaultdict(list)
        credited: dict[tuple[str, int], list[Decimal]] = defaultdict(list)
        live = Payment.objects.filter(status="AUTHORISED")
        allocated = Allocation.objects.filter(is_deleted=False)
        if self.invoices:
            for pk, amount in live.filter(invoice__in=self.invoices).values_list(
                "invoice_id", "amount"
            ):
                paid[("inv", pk)].append(amount)
            for pk, amount in allocated.filter(invoice__in=self.invoices).values_list(
                "invoice_id", "amount"
            ):
                credited[("inv", pk)].append(amount)
        if self.credit_notes:
            for pk, amount in live.filter(credit_note__in=self.credit_notes).values_list(
                "credit_note_id", "amount"
            ):
                paid[("cn", pk)].append(amount)
            for pk, amount in allocated.filter(credit_note__in=self.credit_notes).values_list(
                "credit_note_id", "amount"
            ):
                credited[("cn", pk)].append(amount)
        self._paid, self._credited = paid, credited

    def paid(self, doc: Invoice | CreditNote, payment: Payment, *, paid_on: Any) -> None:
        """Count a new payment on its document and restate what is owed (``document_refresh``)."""
        if self._paid is None or self._credited is None:
            self._amounts()
        assert self._paid is not None and self._credited is not None
        key = ("inv" if isinstance(doc, Invoice) else "cn", doc.pk)
        self._paid[key].append(payment.amount)
        due_apply(
            doc,
            paid=sum(self._paid[key], Decimal("0.00")),
            credited=sum(self._credited[key], Decimal("0.00")),
            paid_on=paid_on,
        )
        doc.updated_at = timezone.now()
        self.stage.create(payment)
        fields = ["amount_paid", "amount_credited", "amount_due"]
        if isinstance(doc, CreditNote):
            fields = ["remaining_credit"]
        self.stage.update(doc, [*fields, "status", "fully_paid_on", "updated_at"])


def _latest(docs: list[DocT]) -> DocT | None:
    """``order_by("-created_at").first()``."""
    return max(docs, key=lambda d: (d.created_at, d.pk), default=None)


def _document(
    payments: Payments, raw: dict[str, Any], errors: list[str]
) -> Invoice | CreditNote | None:
    invoice_id, invoice_number, credit_id, credit_number = _refs(raw)
    if invoice_id or invoice_number:
        doc = payments.invoice(invoice_id, invoice_number)
        if doc is None:
            errors.append("Invoice could not be found")  # unverified wording
        return doc
    if credit_id or credit_number:
        cdoc = payments.credit_note(credit_id, credit_number)
        if cdoc is None:
            errors.append(
                "An existing Credit Note with the specified CreditNoteID could not be found"
            )
        return cdoc
    # Unverified wording.
    errors.append("A payment must be applied to an Invoice or a Credit Note.")
    return None


def _paying_account(books: Books, raw: dict[str, Any], errors: list[str]) -> Account | None:
    account_raw = _obj(raw, "Account")
    code = account_raw.get("Code") or raw.get("Code")
    account_id = account_raw.get("AccountID")
    if account_id:
        account = books.account_by_id(account_id)
    elif code:
        account = books.account_by_code(str(code))
    else:
        errors.append("An Account must be specified for the payment.")  # unverified wording
        return None
    if account is None:
        errors.append("The Account for the payment could not be found.")  # unverified wording
        return None
    if account.status != "ACTIVE":
        errors.append(
            f"Account code '{account.code}' has been archived, or has been deleted."
        )  # unverified wording
        return None
    if account.type != "BANK" and not account.enable_payments:
        # Unverified wording; the rule is Xero's (EnablePaymentsToAccount, xero-api.md §5).
        errors.append(
            f"Account code '{account.code}' is not a bank account and does not have payments "
            "enabled."
        )
        return None
    return account


def payment_create(payments: Payments, raw: dict[str, Any], *, client_id: str) -> Saved:
    books = payments.books
    errors: list[str] = []
    doc = _document(payments, raw, errors)
    account = _paying_account(books, raw, errors)
    try:
        amount = wire.to_decimal(raw.get("Amount"), field="Amount")
        pay_date = wire.parse_xero_date(raw.get("Date"), field="Date") or timezone.now().date()
        given_rate = wire.to_decimal(raw.get("CurrencyRate"), field="CurrencyRate")
    except wire.BadValue as exc:
        errors.append(str(exc))
        amount, pay_date, given_rate = None, timezone.now().date(), None
    if amount is None or amount <= 0:
        errors.append("Payment amount must be greater than zero.")  # unverified wording
    if doc is not None:
        if doc.status != "AUTHORISED":
            errors.append(NOT_AUTHORISED)
        else:
            owed = doc.amount_due if isinstance(doc, Invoice) else doc.remaining_credit
            if amount is not None and wire.r2(amount) > owed:
                errors.append(EXCEEDS)
        if (
            account is not None
            and account.currency_code
            and account.currency_code
            not in (
                books.org.base_currency,
                doc.currency_code,
            )
        ):
            errors.append(
                "The currency of the bank account must match the currency of the document."
            )  # unverified wording
    if errors:
        raise Invalid(errors)
    assert doc is not None and account is not None and amount is not None
    now = timezone.now()
    rate = Decimal(1)
    if doc.currency_code != books.org.base_currency:
        rate = wire.rq(given_rate, 6) if given_rate else books.day_rate(doc.currency_code)
    payment = Payment(
        org=books.org,
        invoice=doc if isinstance(doc, Invoice) else None,
        credit_note=doc if isinstance(doc, CreditNote) else None,
        account=account,
        date=pay_date,
        amount=wire.r2(amount),
        currency_rate=rate,
        reference=str(raw.get("Reference") or ""),
        is_reconciled=bool(raw.get("IsReconciled", False)),
        payment_type=PAYMENT_TYPES[doc.type],
        created_by_app=client_id,
        created_at=now,
        updated_at=now,
    )
    payments.paid(doc, payment, paid_on=pay_date)
    return Saved(body=render.payment(payment), events=[_document_event(doc)])


def _document_event(doc: Invoice | CreditNote) -> Event:
    if isinstance(doc, Invoice):
        return Event(INVOICE.category, "UPDATE", doc.invoice_id, INVOICE.path)
    return Event(
        CREDIT_NOTE.category, "UPDATE", doc.credit_note_id, CREDIT_NOTE.path, _event_data(doc)
    )


def payment_delete(payment: Payment, raw: dict[str, Any]) -> Saved:
    status = str(raw.get("Status") or "").upper()
    if status != "DELETED":
        # Unverified wording: POST /Payments/{id} only deletes.
        raise Invalid(["A payment can only be updated to a Status of DELETED."])
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == "DELETED":
        raise Invalid(["This payment has already been deleted."])  # unverified wording
    if payment.is_reconciled:
        raise Invalid([RECONCILED])
    payment.status = "DELETED"
    payment.updated_at = timezone.now()
    payment.save(update_fields=["status", "updated_at"])
    doc: Invoice | CreditNote | None = payment.invoice or payment.credit_note
    assert doc is not None
    doc = type(doc).objects.select_for_update().get(pk=doc.pk)
    document_refresh(doc)
    return Saved(body=render.payment(payment), events=[_document_event(doc)])


def allocation_create(books: Books, credit_note: CreditNote, raw: dict[str, Any]) -> Saved:
    """Apply part of a credit note to an invoice (PUT /CreditNotes/{id}/Allocations)."""
    from sandbox.xero.models import Allocation

    errors: list[str] = []
    cn = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
    target = _obj(raw, "Invoice")
    invoice = None
    if target.get("InvoiceID") and wire.guid(target["InvoiceID"]):
        invoice = Invoice.objects.filter(
            org=books.org, invoice_id=wire.guid_or_nil(target["InvoiceID"])
        ).first()
    elif target.get("InvoiceNumber"):
        invoice = Invoice.objects.filter(org=books.org, number=target["InvoiceNumber"]).first()
    try:
        amount = wire.to_decimal(raw.get("Amount"), field="Amount")
        when = wire.parse_xero_date(raw.get("Date"), field="Date") or timezone.now().date()
    except wire.BadValue as exc:
        errors.append(str(exc))
        amount, when = None, timezone.now().date()
    # Wording below unverified; the rules are Xero's.
    if invoice is None:
        errors.append("Invoice could not be found")
    if amount is None or amount <= 0:
        errors.append("The allocation amount must be greater than zero.")
    if cn.status != "AUTHORISED":
        errors.append("Credit note not of valid status for allocation")
    if invoice is not None:
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        expected = "ACCREC" if cn.type == "ACCRECCREDIT" else "ACCPAY"
        if invoice.type != expected:
            errors.append("The credit note and invoice types do not match.")
        if invoice.status != "AUTHORISED":
            errors.append("Invoice not of valid status for allocation")
        if invoice.contact_id != cn.contact_id:
            errors.append("The credit note and invoice must belong to the same contact.")
        if invoice.currency_code != cn.currency_code:
            errors.append("The credit note and invoice must be in the same currency.")
        if amount is not None and amount > 0:
            if wire.r2(amount) > cn.remaining_credit:
                errors.append("The amount exceeds the remaining credit on this credit note.")
            if wire.r2(amount) > invoice.amount_due:
                errors.append("Payment amount exceeds the amount outstanding on this document")
    if errors:
        raise Invalid(errors)
    assert invoice is not None and amount is not None
    allocation = Allocation.objects.create(
        credit_note=cn,
        invoice=invoice,
        amount=wire.r2(amount),
        date=when,
        created_at=timezone.now(),
    )
    document_refresh(invoice, paid_on=when)
    document_refresh(cn, paid_on=when)
    return Saved(
        body=render.allocation(allocation),
        events=[_document_event(invoice), _document_event(cn)],
    )


def allocation_delete(allocation: Allocation) -> Saved:
    """Take an allocation back (DELETE /CreditNotes/{id}/Allocations/{AllocationID}).

    Both documents owe again: a PAID credit note or invoice returns to AUTHORISED.
    """
    # Locked in the order allocation_create locks them: credit note, then invoice.
    cn = CreditNote.objects.select_for_update().get(pk=allocation.credit_note_id)
    invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.is_deleted:
        raise Invalid(["This allocation has already been deleted."])  # unverified wording
    if cn.status not in ("AUTHORISED", "PAID") or invoice.status not in ("AUTHORISED", "PAID"):
        # Unverified wording: a voided or deleted document's allocations are gone with it.
        raise Invalid(["Allocations can only be deleted from Authorised or Paid documents."])
    allocation.is_deleted = True
    allocation.save(update_fields=["is_deleted"])
    document_refresh(invoice)
    document_refresh(cn)
    return Saved(
        body=render.allocation(allocation),
        events=[_document_event(invoice), _document_event(cn)],
    )

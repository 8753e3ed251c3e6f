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
  currency, reducing both documents' amounts due.

Xero does not publish the wording of every refusal; where a message below is marked
"unverified", the rule is Xero's and the text is the sandbox's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from sandbox.xero import render, wire
from sandbox.xero.batch import Invalid, Saved
from sandbox.xero.books import Books
from sandbox.xero.documents import CREDIT_NOTE, INVOICE, _event_data, document_refresh
from sandbox.xero.gateway import Event
from sandbox.xero.models import Account, CreditNote, Invoice, Payment

NOT_AUTHORISED = "Payments can only be made against Authorised documents"
EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
RECONCILED = "This payment has been reconciled and cannot be deleted"
PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


def _obj(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _document(books: Books, raw: dict[str, Any], errors: list[str]) -> Invoice | CreditNote | None:
    org = books.org
    invoice, credit = _obj(raw, "Invoice"), _obj(raw, "CreditNote")
    invoice_id = invoice.get("InvoiceID")
    invoice_number = invoice.get("InvoiceNumber") or raw.get("InvoiceNumber")
    credit_id = credit.get("CreditNoteID")
    credit_number = credit.get("CreditNoteNumber") or raw.get("CreditNoteNumber")
    if invoice_id or invoice_number:
        query = Invoice.objects.filter(org=org).exclude(status="DELETED")
        doc = (
            query.filter(invoice_id=wire.guid_or_nil(invoice_id)).first()
            if invoice_id and wire.guid(invoice_id)
            else query.filter(number=str(invoice_number)).order_by("-created_at").first()
            if invoice_number
            else None
        )
        if doc is None:
            errors.append("Invoice could not be found")  # unverified wording
        return doc
    if credit_id or credit_number:
        cquery = CreditNote.objects.filter(org=org).exclude(status="DELETED")
        cdoc = (
            cquery.filter(credit_note_id=wire.guid_or_nil(credit_id)).first()
            if credit_id and wire.guid(credit_id)
            else cquery.filter(number=str(credit_number)).order_by("-created_at").first()
            if credit_number
            else None
        )
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


def payment_create(books: Books, raw: dict[str, Any], *, client_id: str) -> Saved:
    errors: list[str] = []
    doc = _document(books, raw, errors)
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
        model = type(doc)
        doc = model.objects.select_for_update().get(pk=doc.pk)
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
    payment = Payment.objects.create(
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
    document_refresh(doc, paid_on=pay_date)
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

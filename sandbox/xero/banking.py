"""Bank transactions (spend and receive money) and manual journals.

Reference: developer.xero.com/documentation/api/accounting/banktransactions and
/manualjournals (xero-api.md §5, §9.9):
- A bank transaction needs Type (SPEND or RECEIVE; the -OVERPAYMENT, -PREPAYMENT and -TRANSFER
  types are created elsewhere), a Contact, LineItems and a BankAccount of type BANK. It is
  AUTHORISED when created; a POST with Status DELETED removes it.
- Manual journal lines are debits (positive) and credits (negative) that must balance: "The
  total debits (100.00) must equal total credits (-10.00)". A line whose AccountCode Xero does
  not know is **dropped with a warning**, "Account code '476' has been removed as it does not
  match a recognised account.", and the journal is still saved [spec].
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from sandbox.xero import render, wire
from sandbox.xero.batch import Invalid, Saved
from sandbox.xero.books import SYSTEM_ONLY, Books
from sandbox.xero.contacts import contact_for_document
from sandbox.xero.documents import Session, _currency_rate, _line_amount_types
from sandbox.xero.gateway import Event
from sandbox.xero.lines import build_lines
from sandbox.xero.models import Account, BankTransaction, ManualJournal

CREATABLE = ("SPEND", "RECEIVE")
NOT_FOUND = "BankTransactionID could not be found"
READ_ONLY = (
    "RECEIVE-OVERPAYMENT",
    "RECEIVE-PREPAYMENT",
    "SPEND-OVERPAYMENT",
    "SPEND-PREPAYMENT",
    "RECEIVE-TRANSFER",
    "SPEND-TRANSFER",
)


def _bank_account(books: Books, raw: Any, errors: list[str]) -> Account | None:
    if not isinstance(raw, dict) or not (raw.get("AccountID") or raw.get("Code")):
        errors.append("A bank account must be specified")  # unverified wording
        return None
    account = (
        books.account_by_id(raw["AccountID"])
        if raw.get("AccountID")
        else books.account_by_code(str(raw["Code"]))
    )
    label = raw.get("Code") or raw.get("AccountID")
    if account is None or account.type != "BANK":
        # Unverified wording; Xero requires an account of type BANK.
        errors.append(f"Account code '{label}' is not a valid bank account.")
        return None
    if account.status != "ACTIVE":
        errors.append(
            f"Account code '{label}' has been archived, or has been deleted. "
            "Each line item must reference a valid account."
        )
        return None
    return account


def bank_transaction_save(
    session: Session, raw: dict[str, Any], *, unitdp: int, client_id: str, allow_update: bool
) -> Saved:
    books = session.books
    org = books.org
    errors: list[str] = []
    events: list[Event] = []
    existing = None
    if raw.get("BankTransactionID"):
        existing = BankTransaction.objects.filter(
            org=org, bank_transaction_id=wire.guid_or_nil(raw["BankTransactionID"])
        ).first()
        if existing is None:
            raise Invalid([f"An existing Bank Transaction with the specified {NOT_FOUND}"])
    if existing is not None:
        session.direct()
        return _update(books, existing, raw, unitdp=unitdp)
    kind = str(raw.get("Type") or "").upper()
    if kind in READ_ONLY:
        errors.append(f"Bank transactions of type {kind} cannot be created through this endpoint.")
    elif kind not in CREATABLE:
        errors.append("The BankTransaction Type must be SPEND or RECEIVE.")  # unverified
    contact = contact_for_document(session.contacts, raw.get("Contact"), errors, events)
    bank = _bank_account(books, raw.get("BankAccount"), errors)
    try:
        when = wire.parse_xero_date(raw.get("Date"), field="Date") or timezone.now().date()
    except wire.BadValue as exc:
        errors.append(str(exc))
        when = timezone.now().date()
    currency = str(
        raw.get("CurrencyCode") or (bank.currency_code if bank else "") or org.base_currency
    ).upper()
    if currency not in books.currencies:
        errors.append(f"Organisation is not subscribed to currency {currency}")
    elif bank is not None and bank.currency_code and currency != bank.currency_code:
        errors.append(
            "The currency of the bank transaction must match the bank account."
        )  # unverified
    rate = _currency_rate(books, raw, currency, errors)
    lat = _line_amount_types(raw, errors)
    lines = build_lines(
        books,
        raw.get("LineItems"),
        doc_type=kind or "SPEND",
        line_amount_types=lat,
        unitdp=unitdp,
        require_account=True,
        allow_discount=False,
        reject_negative_quantity=False,
    )
    errors.extend(lines.errors)
    if not lines.stored and "LineItems" not in " ".join(errors):
        errors.append("A bank transaction must have at least one line item.")  # unverified
    status = str(raw.get("Status") or "AUTHORISED").upper()
    if status != "AUTHORISED":
        errors.append(
            "Bank transactions can only be created with a Status of AUTHORISED."
        )  # unverified
    if errors:
        echo = dict(raw)
        if lines.stored:
            echo["LineItems"] = render.lines_out(lines.stored)
        raise Invalid(errors, echo=echo)
    assert contact is not None and bank is not None
    now = timezone.now()
    data: dict[str, Any] = {"LineItems": lines.stored}
    if raw.get("Url"):
        data["Url"] = str(raw["Url"])
    bt = BankTransaction(
        org=org,
        type=kind,
        contact=contact,
        bank_account=bank,
        date=when,
        reference=str(raw.get("Reference") or ""),
        status="AUTHORISED",
        is_reconciled=bool(raw.get("IsReconciled", False)),
        currency_code=currency,
        currency_rate=rate,
        line_amount_types=lat,
        sub_total=lines.sub_total,
        total_tax=lines.total_tax,
        total=lines.total,
        data=data,
        created_by_app=client_id,
        created_at=now,
        updated_at=now,
    )
    session.stage.create(bt)
    return Saved(body=render.bank_transaction(bt), events=events)


def _update(books: Books, bt: BankTransaction, raw: dict[str, Any], *, unitdp: int) -> Saved:
    bt = BankTransaction.objects.select_for_update().get(pk=bt.pk)
    if bt.status != "AUTHORISED":
        raise Invalid(["Bank transaction not of valid status for modification"])  # unverified
    status = str(raw.get("Status") or bt.status).upper()
    if status == "DELETED":
        if bt.is_reconciled:
            raise Invalid(["This bank transaction has been reconciled and cannot be deleted"])
        bt.status = "DELETED"
        bt.updated_at = timezone.now()
        bt.save(update_fields=["status", "updated_at"])
        return Saved(body=render.bank_transaction(bt))
    errors: list[str] = []
    if "Reference" in raw:
        bt.reference = str(raw.get("Reference") or "")
    if "IsReconciled" in raw:
        bt.is_reconciled = bool(raw["IsReconciled"])
    if "LineItems" in raw or "LineAmountTypes" in raw:
        lat = _line_amount_types(raw, errors, default=bt.line_amount_types)
        lines = build_lines(
            books,
            raw.get("LineItems", bt.data.get("LineItems")),
            doc_type=bt.type,
            line_amount_types=lat,
            unitdp=unitdp,
            require_account=True,
            allow_discount=False,
            reject_negative_quantity=False,
        )
        errors.extend(lines.errors)
        bt.line_amount_types = lat
        bt.sub_total, bt.total_tax, bt.total = lines.sub_total, lines.total_tax, lines.total
        bt.data = {**bt.data, "LineItems": lines.stored}
    if errors:
        raise Invalid(errors)
    bt.updated_at = timezone.now()
    bt.save()
    return Saved(body=render.bank_transaction(bt))


def manual_journal_save(books: Books, raw: dict[str, Any], *, client_id: str) -> Saved:
    org = books.org
    errors: list[str] = []
    warnings: list[str] = []
    existing = None
    if raw.get("ManualJournalID"):
        existing = ManualJournal.objects.filter(
            org=org, manual_journal_id=wire.guid_or_nil(raw["ManualJournalID"])
        ).first()
        if existing is None:
            raise Invalid(
                ["An existing Manual Journal with the specified ManualJournalID could not be found"]
            )
        existing = ManualJournal.objects.select_for_update().get(pk=existing.pk)
        if existing.status not in ("DRAFT", "POSTED"):
            raise Invalid(["Manual journal not of valid status for modification"])  # unverified
    narration = str(raw.get("Narration") or (existing.narration if existing else "")).strip()
    if not narration:
        errors.append("Narration must be specified")  # unverified wording
    status = str(raw.get("Status") or (existing.status if existing else "DRAFT")).upper()
    allowed = {"DRAFT", "POSTED"} if existing is None else {"DRAFT", "POSTED", "DELETED", "VOIDED"}
    if status not in allowed:
        action = "creation" if existing is None else "modification"
        errors.append(f"Manual journal not of valid status for {action}")
    if existing is not None and existing.status == "POSTED" and status in ("DRAFT", "DELETED"):
        errors.append("Manual journal not of valid status for modification")
    try:
        when = wire.parse_xero_date(raw.get("Date"), field="Date") or (
            existing.date if existing else timezone.now().date()
        )
    except wire.BadValue as exc:
        errors.append(str(exc))
        when = timezone.now().date()
    lat = _line_amount_types(
        raw, errors, default=existing.line_amount_types if existing else "NoTax"
    )
    stored_lines = existing.data.get("JournalLines", []) if existing else []
    if "JournalLines" in raw or existing is None:
        stored_lines = _journal_lines(books, raw.get("JournalLines"), lat, errors, warnings)
    if errors:
        raise Invalid(errors, warnings=warnings)
    now = timezone.now()
    data: dict[str, Any] = {"JournalLines": stored_lines}
    if raw.get("Url") or (existing and existing.data.get("Url")):
        data["Url"] = str(raw.get("Url") or (existing.data.get("Url") if existing else ""))
    if existing is None:
        journal = ManualJournal.objects.create(
            org=org,
            narration=narration,
            date=when,
            status=status,
            line_amount_types=lat,
            show_on_cash_basis=bool(raw.get("ShowOnCashBasisReports", True)),
            data=data,
            created_by_app=client_id,
            created_at=now,
            updated_at=now,
        )
    else:
        journal = existing
        journal.narration, journal.date, journal.status = narration, when, status
        journal.line_amount_types = lat
        if "ShowOnCashBasisReports" in raw:
            journal.show_on_cash_basis = bool(raw["ShowOnCashBasisReports"])
        journal.data = data
        journal.updated_at = now
        journal.save()
    return Saved(body=render.manual_journal(journal), warnings=warnings)


def _journal_lines(
    books: Books, raw_lines: Any, lat: str, errors: list[str], warnings: list[str]
) -> list[dict[str, Any]]:
    if not isinstance(raw_lines, list):
        errors.append("A manual journal must have journal lines.")  # unverified
        return []
    stored: list[dict[str, Any]] = []
    debits = credits = Decimal("0.00")
    for raw in raw_lines:
        if not isinstance(raw, dict):
            continue
        code = raw.get("AccountCode")
        account = None
        if raw.get("AccountID"):
            account = books.account_by_id(raw["AccountID"])
        elif code not in (None, ""):
            account = books.account_by_code(str(code))
        if account is None:
            # Xero drops the line and warns instead of refusing the journal.
            warnings.append(
                f"Account code '{code or raw.get('AccountID') or ''}' has been removed as it does "
                "not match a recognised account."
            )
            continue
        if account.status != "ACTIVE" or account.system_account in SYSTEM_ONLY:
            errors.append(f"Account code '{account.code}' is not a valid code for this document.")
            continue
        try:
            amount = wire.r2(
                wire.to_decimal(raw.get("LineAmount"), field="LineAmount") or Decimal(0)
            )
        except wire.BadValue as exc:
            errors.append(str(exc))
            continue
        tax_type = "NONE" if lat == "NoTax" else str(raw.get("TaxType") or account.tax_type)
        rate = books.rate(tax_type)
        percent = (
            books.percent(rate) if rate is not None and rate.status == "ACTIVE" else Decimal(0)
        )
        if rate is None or rate.status != "ACTIVE":
            errors.append(
                f"The TaxType code {tax_type} does not exist or cannot be used for this type "
                "of transaction."
            )
        if lat == "NoTax":
            tax = Decimal("0.00")
        elif lat == "Inclusive":
            tax = wire.r2(amount * percent / (100 + percent))
        else:
            tax = wire.r2(amount * percent / 100)
        if amount >= 0:
            debits += amount
        else:
            credits += amount
        stored.append(
            {
                "Description": str(raw.get("Description") or ""),
                "TaxType": tax_type,
                "TaxAmount": wire.jsonable(tax),
                "LineAmount": wire.jsonable(amount),
                "AccountCode": account.code,
                "AccountID": str(account.account_id),
                "Tracking": [],
                "IsBlank": False,
            }
        )
    if debits + credits != 0:
        errors.append(f"The total debits ({debits:.2f}) must equal total credits ({credits:.2f})")
    if len(stored) < 2 and not errors:
        errors.append("A manual journal must have at least two journal lines.")  # unverified
    return stored

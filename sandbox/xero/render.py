"""Each entity as Xero's JSON shows it (and as the ``where`` filter sees it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.xero import wire
from sandbox.xero.models import (
    Account,
    Allocation,
    Attachment,
    BankTransaction,
    Contact,
    CreditNote,
    Currency,
    Invoice,
    Item,
    ManualJournal,
    Organisation,
    Payment,
    TaxRate,
    TrackingCategory,
)

LINE_DECIMALS = {
    "Quantity": 4,
    "UnitAmount": None,  # as stored: 2 or 4 dp
    "TaxAmount": 2,
    "LineAmount": 2,
    "DiscountRate": 2,
    "DiscountAmount": 2,
}

COUNTRY_TIMEZONES = {
    "GB": "GMTSTANDARDTIME",
    "US": "EASTERNSTANDARDTIME",
    "AU": "AUSEASTERNSTANDARDTIME",
}
LINE_DEFAULTS = {"GB": "EXCLUSIVE", "US": "EXCLUSIVE", "AU": "INCLUSIVE"}


def _dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


LINE_ORDER = (
    "LineItemID",
    "ItemCode",
    "Item",
    "Description",
    "Quantity",
    "UnitAmount",
    "DiscountRate",
    "DiscountAmount",
    "TaxType",
    "TaxAmount",
    "LineAmount",
    "AccountCode",
    "AccountID",
    "Tracking",
)


def _ordered(line: dict[str, Any]) -> list[tuple[str, Any]]:
    known = [(k, line[k]) for k in LINE_ORDER if k in line]
    return known + [(k, v) for k, v in line.items() if k not in LINE_ORDER]


def lines_out(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored lines (decimals as strings) back to Xero's line items."""
    out = []
    for line in stored:
        rendered: dict[str, Any] = {}
        for key, value in _ordered(line):
            if key in LINE_DECIMALS and value is not None:
                rendered[key] = _dec(value)
            else:
                rendered[key] = value
        rendered.setdefault("Tracking", [])
        rendered["ValidationErrors"] = []
        out.append(rendered)
    return out


def organisation(org: Organisation) -> dict[str, Any]:
    return {
        "OrganisationID": str(org.tenant_id),
        "APIKey": "",
        "Name": org.name,
        "LegalName": org.legal_name or org.name,
        "PaysTax": org.country_code != "US" or org.org_class != "STARTER",
        "Version": org.version,
        "OrganisationType": org.organisation_type,
        "BaseCurrency": org.base_currency,
        "CountryCode": org.country_code,
        "IsDemoCompany": org.is_demo,
        "OrganisationStatus": "ACTIVE",
        "RegistrationNumber": org.registration_number,
        "TaxNumber": org.tax_number,
        "FinancialYearEndDay": org.financial_year_end_day,
        "FinancialYearEndMonth": org.financial_year_end_month,
        "SalesTaxBasis": org.sales_tax_basis,
        "SalesTaxPeriod": org.sales_tax_period,
        "DefaultSalesTax": "Tax Exclusive"
        if LINE_DEFAULTS.get(org.country_code, "EXCLUSIVE") == "EXCLUSIVE"
        else "Tax Inclusive",
        "DefaultPurchasesTax": "Tax Exclusive"
        if LINE_DEFAULTS.get(org.country_code, "EXCLUSIVE") == "EXCLUSIVE"
        else "Tax Inclusive",
        "CreatedDateUTC": wire.ms_datetime(org.created_at),
        "OrganisationEntityType": org.organisation_type,
        "Timezone": org.timezone,
        "ShortCode": org.short_code,
        "Edition": org.edition,
        "Class": org.org_class,
        "LineOfBusiness": org.line_of_business,
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def account(acc: Account) -> dict[str, Any]:
    body: dict[str, Any] = {
        "AccountID": str(acc.account_id),
        "Code": acc.code,
        "Name": acc.name,
        "Status": acc.status,
        "Type": acc.type,
        "TaxType": acc.tax_type,
        "Description": acc.description,
        "Class": acc.account_class,
        "EnablePaymentsToAccount": acc.enable_payments,
        "ShowInExpenseClaims": acc.show_in_expense_claims,
        "BankAccountType": acc.bank_account_type,
        "ReportingCode": acc.reporting_code,
        "HasAttachments": False,
        "UpdatedDateUTC": wire.ms_datetime(acc.updated_at),
        "AddToWatchlist": acc.add_to_watchlist,
    }
    if acc.type == "BANK":
        body["BankAccountNumber"] = acc.bank_account_number
        body["CurrencyCode"] = acc.currency_code
        body.pop("Description")
    if acc.system_account:
        body["SystemAccount"] = acc.system_account
    return body


def account_facts(acc: Account) -> dict[str, Any]:
    return {**account(acc), "UpdatedDateUTC": acc.updated_at}


def tax_rate(rate: TaxRate) -> dict[str, Any]:
    components = [
        {
            "Name": c["Name"],
            "Rate": wire.rq(Decimal(str(c["Rate"])), 4),
            "IsCompound": bool(c.get("IsCompound", False)),
            "IsNonRecoverable": bool(c.get("IsNonRecoverable", False)),
        }
        for c in rate.components
    ]
    effective = tax_percent(rate)
    body: dict[str, Any] = {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "TaxComponents": components,
        "Status": rate.status,
        "CanApplyToAssets": rate.can_apply_to_assets,
        "CanApplyToEquity": rate.can_apply_to_equity,
        "CanApplyToExpenses": rate.can_apply_to_expenses,
        "CanApplyToLiabilities": rate.can_apply_to_liabilities,
        "CanApplyToRevenue": rate.can_apply_to_revenue,
        "DisplayTaxRate": wire.rq(effective, 4),
        "EffectiveRate": wire.rq(effective, 4),
    }
    if rate.report_tax_type:
        body["ReportTaxType"] = rate.report_tax_type
    return body


def tax_percent(rate: TaxRate) -> Decimal:
    """The rate in percent: the sum of the components (compound rates apply on top)."""
    total = Decimal(0)
    for component in rate.components:
        percent = Decimal(str(component["Rate"]))
        if component.get("IsCompound"):
            total += percent * (1 + total / 100)
        else:
            total += percent
    return total


def tracking_category(category: TrackingCategory, *, include_archived: bool) -> dict[str, Any]:
    options = [
        {
            "TrackingOptionID": str(option.option_id),
            "Name": option.name,
            "Status": option.status,
            "HasValidationErrors": False,
            "IsDeleted": False,
            "IsArchived": option.status == "ARCHIVED",
            "IsActive": option.status == "ACTIVE",
        }
        for option in category.options.all()
        if include_archived or option.status == "ACTIVE"
    ]
    return {
        "TrackingCategoryID": str(category.category_id),
        "Name": category.name,
        "Status": category.status,
        "Options": options,
    }


def currency(cur: Currency) -> dict[str, Any]:
    return {"Code": cur.code, "Description": cur.description}


def contact_ref(contact: Contact) -> dict[str, Any]:
    """How a contact appears inside a document."""
    return {
        "ContactID": str(contact.contact_id),
        "ContactStatus": contact.status,
        "Name": contact.name,
        "EmailAddress": contact.email,
        "Addresses": contact.data.get("Addresses", []),
        "Phones": contact.data.get("Phones", []),
        "ContactGroups": [],
        "ContactPersons": contact.data.get("ContactPersons", []),
        "HasValidationErrors": False,
    }


def contact(c: Contact, *, summary: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ContactID": str(c.contact_id),
        "ContactStatus": c.status,
        "Name": c.name,
        "FirstName": c.first_name,
        "LastName": c.last_name,
        "EmailAddress": c.email,
        "BankAccountDetails": c.data.get("BankAccountDetails", ""),
        "Addresses": c.data.get("Addresses", []),
        "Phones": c.data.get("Phones", []),
        "UpdatedDateUTC": wire.ms_datetime(c.updated_at),
        "ContactGroups": [],
        "IsSupplier": c.is_supplier,
        "IsCustomer": c.is_customer,
        "ContactPersons": c.data.get("ContactPersons", []),
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    optional = {
        "ContactNumber": c.contact_number,
        "AccountNumber": c.account_number,
        "TaxNumber": c.tax_number,
        "CompanyNumber": c.company_number,
        "DefaultCurrency": c.default_currency,
    }
    body.update({key: value for key, value in optional.items() if value})
    for key in (
        "AccountsReceivableTaxType",
        "AccountsPayableTaxType",
        "SalesDefaultAccountCode",
        "PurchasesDefaultAccountCode",
        "PaymentTerms",
        "Website",
    ):
        if key in c.data:
            body[key] = c.data[key]
    if summary:
        for key in ("Addresses", "Phones", "ContactPersons", "ContactGroups"):
            body.pop(key, None)
    return body


def contact_facts(c: Contact) -> dict[str, Any]:
    return {**contact(c), "UpdatedDateUTC": c.updated_at}


def item(it: Item) -> dict[str, Any]:
    def details(raw: dict[str, Any]) -> dict[str, Any]:
        out = dict(raw)
        if out.get("UnitPrice") is not None:
            out["UnitPrice"] = _dec(out["UnitPrice"])
        return out

    return {
        "ItemID": str(it.item_id),
        "Code": it.code,
        "Name": it.name,
        "Description": it.description,
        "PurchaseDescription": it.purchase_description,
        "IsSold": it.is_sold,
        "IsPurchased": it.is_purchased,
        "IsTrackedAsInventory": False,
        "SalesDetails": details(it.sales_details),
        "PurchaseDetails": details(it.purchase_details),
        "UpdatedDateUTC": wire.ms_datetime(it.updated_at),
    }


def item_facts(it: Item) -> dict[str, Any]:
    return {**item(it), "UpdatedDateUTC": it.updated_at}


def payment_summary(p: Payment) -> dict[str, Any]:
    """A payment as listed inside the invoice or credit note it pays."""
    return {
        "PaymentID": str(p.payment_id),
        "Date": wire.ms_date(p.date),
        "Amount": p.amount,
        "Reference": p.reference,
        "CurrencyRate": wire.rq(p.currency_rate, 6),
        "HasAccount": False,
        "HasValidationErrors": False,
    }


def _related(obj: Any, name: str) -> list[Any]:
    """The rows of one of a document's relations; a document not yet written has none."""
    if obj.pk is None:
        return []
    return list(getattr(obj, name).all())


def _attachments_flag(obj: Any, endpoint: str, object_id: Any) -> bool:
    """Lists annotate ``has_attachments_flag`` (one query per page, not one per document).

    A document not yet written (a batch writes its new documents at the end) has none.
    """
    flag = getattr(obj, "has_attachments_flag", None)
    if flag is not None:
        return bool(flag)
    if obj.pk is None:
        return False
    return Attachment.objects.filter(
        org_id=obj.org_id, endpoint=endpoint, object_id=object_id
    ).exists()


def invoice(inv: Invoice, *, with_lines: bool = True) -> dict[str, Any]:
    payments = [payment_summary(p) for p in _related(inv, "payments") if p.status == "AUTHORISED"]
    credit_notes: list[dict[str, Any]] = [
        {
            "CreditNoteID": str(a.credit_note.credit_note_id),
            "CreditNoteNumber": a.credit_note.number,
            "ID": str(a.credit_note.credit_note_id),
            "AppliedAmount": a.amount,
            "DateString": wire.date_string(a.date),
            "Date": wire.ms_date(a.date),
            "LineItems": [],
            "Total": a.credit_note.total,
            "HasErrors": False,
        }
        for a in _related(inv, "allocations")
        if not a.is_deleted
    ]
    body: dict[str, Any] = {
        "Type": inv.type,
        "InvoiceID": str(inv.invoice_id),
        "InvoiceNumber": inv.number,
        "Reference": inv.reference,
        "Payments": payments,
        "CreditNotes": credit_notes,
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": inv.amount_due,
        "AmountPaid": inv.amount_paid,
        "AmountCredited": inv.amount_credited,
        "SentToContact": bool(inv.data.get("SentToContact", False)),
        "CurrencyRate": wire.rq(inv.currency_rate, 6),
        "IsDiscounted": any(
            line.get("DiscountRate") or line.get("DiscountAmount")
            for line in inv.data.get("LineItems", [])
        ),
        "HasAttachments": _attachments_flag(inv, "Invoices", inv.invoice_id),
        "HasErrors": False,
        "Contact": contact_ref(inv.contact),
        "DateString": wire.date_string(inv.date),
        "Date": wire.ms_date(inv.date),
        "Status": inv.status,
        "LineAmountTypes": inv.line_amount_types,
        "LineItems": lines_out(inv.data.get("LineItems", [])) if with_lines else [],
        "SubTotal": inv.sub_total,
        "TotalTax": inv.total_tax,
        "Total": inv.total,
        "UpdatedDateUTC": wire.ms_datetime(inv.updated_at),
        "UpdatedDateUTCString": wire.utc_string(inv.updated_at),
        "CurrencyCode": inv.currency_code,
    }
    if inv.type == "ACCPAY":
        body.pop("Reference")
    if inv.due_date:
        body["DueDateString"] = wire.date_string(inv.due_date)
        body["DueDate"] = wire.ms_date(inv.due_date)
    if inv.fully_paid_on:
        body["FullyPaidOnDate"] = wire.ms_date(inv.fully_paid_on)
    for key in ("Url", "BrandingThemeID", "ExpectedPaymentDate", "PlannedPaymentDate"):
        if inv.data.get(key):
            body[key] = inv.data[key]
    return body


def invoice_facts(inv: Invoice) -> dict[str, Any]:
    return {
        "Type": inv.type,
        "InvoiceID": str(inv.invoice_id),
        "InvoiceNumber": inv.number,
        "Reference": inv.reference,
        "Status": inv.status,
        "Contact": {"ContactID": str(inv.contact.contact_id), "Name": inv.contact.name},
        "CurrencyCode": inv.currency_code,
        "Date": inv.date,
        "DueDate": inv.due_date,
        "SubTotal": inv.sub_total,
        "TotalTax": inv.total_tax,
        "Total": inv.total,
        "AmountDue": inv.amount_due,
        "AmountPaid": inv.amount_paid,
        "AmountCredited": inv.amount_credited,
        "FullyPaidOnDate": inv.fully_paid_on,
        "LineAmountTypes": inv.line_amount_types,
        "UpdatedDateUTC": inv.updated_at,
        "SentToContact": bool(inv.data.get("SentToContact", False)),
    }


def allocation(a: Allocation) -> dict[str, Any]:
    return {
        "AllocationID": str(a.allocation_id),
        "Amount": a.amount,
        "DateString": wire.date_string(a.date),
        "Date": wire.ms_date(a.date),
        "Invoice": {
            "InvoiceID": str(a.invoice.invoice_id),
            "InvoiceNumber": a.invoice.number,
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        },
        "IsDeleted": a.is_deleted,
    }


def credit_note(cn: CreditNote, *, with_lines: bool = True) -> dict[str, Any]:
    payments = [payment_summary(p) for p in _related(cn, "payments") if p.status == "AUTHORISED"]
    live_allocations = [a for a in _related(cn, "allocations") if not a.is_deleted]
    allocations = [allocation(a) for a in live_allocations]
    body: dict[str, Any] = {
        "Type": cn.type,
        "CreditNoteID": str(cn.credit_note_id),
        "CreditNoteNumber": cn.number,
        "Reference": cn.reference,
        "Payments": payments,
        "Allocations": allocations,
        "RemainingCredit": cn.remaining_credit,
        "AppliedAmount": sum((a.amount for a in live_allocations), Decimal("0.00")),
        "SentToContact": False,
        "CurrencyRate": wire.rq(cn.currency_rate, 6),
        "HasAttachments": _attachments_flag(cn, "CreditNotes", cn.credit_note_id),
        "HasErrors": False,
        "Contact": contact_ref(cn.contact),
        "DateString": wire.date_string(cn.date),
        "Date": wire.ms_date(cn.date),
        "Status": cn.status,
        "LineAmountTypes": cn.line_amount_types,
        "LineItems": lines_out(cn.data.get("LineItems", [])) if with_lines else [],
        "SubTotal": cn.sub_total,
        "TotalTax": cn.total_tax,
        "Total": cn.total,
        "UpdatedDateUTC": wire.ms_datetime(cn.updated_at),
        "UpdatedDateUTCString": wire.utc_string(cn.updated_at),
        "CurrencyCode": cn.currency_code,
    }
    if cn.type == "ACCPAYCREDIT":
        body.pop("Reference")
    if cn.due_date:
        body["DueDateString"] = wire.date_string(cn.due_date)
        body["DueDate"] = wire.ms_date(cn.due_date)
    if cn.fully_paid_on:
        body["FullyPaidOnDate"] = wire.ms_date(cn.fully_paid_on)
    return body


def credit_note_facts(cn: CreditNote) -> dict[str, Any]:
    return {
        "Type": cn.type,
        "CreditNoteID": str(cn.credit_note_id),
        "CreditNoteNumber": cn.number,
        "Reference": cn.reference,
        "Status": cn.status,
        "Contact": {"ContactID": str(cn.contact.contact_id), "Name": cn.contact.name},
        "CurrencyCode": cn.currency_code,
        "Date": cn.date,
        "Total": cn.total,
        "RemainingCredit": cn.remaining_credit,
        "UpdatedDateUTC": cn.updated_at,
    }


def _document_ref(p: Payment) -> tuple[str, dict[str, Any]]:
    if p.invoice_id is not None:
        inv = p.invoice
        assert inv is not None
        return "Invoice", {
            "Type": inv.type,
            "InvoiceID": str(inv.invoice_id),
            "InvoiceNumber": inv.number,
            "Contact": {"ContactID": str(inv.contact.contact_id), "Name": inv.contact.name},
            "CurrencyCode": inv.currency_code,
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        }
    cn = p.credit_note
    assert cn is not None
    return "CreditNote", {
        "Type": cn.type,
        "CreditNoteID": str(cn.credit_note_id),
        "CreditNoteNumber": cn.number,
        "Contact": {"ContactID": str(cn.contact.contact_id), "Name": cn.contact.name},
        "CurrencyCode": cn.currency_code,
        "LineItems": [],
    }


def payment(p: Payment) -> dict[str, Any]:
    key, document = _document_ref(p)
    body: dict[str, Any] = {
        "PaymentID": str(p.payment_id),
        "Date": wire.ms_date(p.date),
        "BankAmount": p.amount,
        "Amount": p.amount,
        "Reference": p.reference,
        "CurrencyRate": wire.rq(p.currency_rate, 6),
        "PaymentType": p.payment_type,
        "Status": p.status,
        "UpdatedDateUTC": wire.ms_datetime(p.updated_at),
        "UpdatedDateUTCString": wire.utc_string(p.updated_at),
        "HasAccount": True,
        "IsReconciled": p.is_reconciled,
        "Account": {"AccountID": str(p.account.account_id), "Code": p.account.code},
        key: document,
        "HasValidationErrors": False,
    }
    return body


def payment_facts(p: Payment) -> dict[str, Any]:
    key, document = _document_ref(p)
    return {
        "PaymentID": str(p.payment_id),
        "Date": p.date,
        "Amount": p.amount,
        "Reference": p.reference,
        "PaymentType": p.payment_type,
        "Status": p.status,
        "IsReconciled": p.is_reconciled,
        "UpdatedDateUTC": p.updated_at,
        "Account": {"AccountID": str(p.account.account_id), "Code": p.account.code},
        key: document,
    }


def bank_transaction(bt: BankTransaction, *, with_lines: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "BankTransactionID": str(bt.bank_transaction_id),
        "Type": bt.type,
        "Contact": contact_ref(bt.contact),
        "BankAccount": {
            "AccountID": str(bt.bank_account.account_id),
            "Code": bt.bank_account.code,
            "Name": bt.bank_account.name,
        },
        "IsReconciled": bt.is_reconciled,
        "DateString": wire.date_string(bt.date),
        "Date": wire.ms_date(bt.date),
        "Reference": bt.reference,
        "CurrencyCode": bt.currency_code,
        "CurrencyRate": wire.rq(bt.currency_rate, 6),
        "Status": bt.status,
        "LineAmountTypes": bt.line_amount_types,
        "LineItems": lines_out(bt.data.get("LineItems", [])) if with_lines else [],
        "SubTotal": bt.sub_total,
        "TotalTax": bt.total_tax,
        "Total": bt.total,
        "UpdatedDateUTC": wire.ms_datetime(bt.updated_at),
        "HasAttachments": _attachments_flag(bt, "BankTransactions", bt.bank_transaction_id),
    }
    if bt.data.get("Url"):
        body["Url"] = bt.data["Url"]
    return body


def bank_transaction_facts(bt: BankTransaction) -> dict[str, Any]:
    return {
        "BankTransactionID": str(bt.bank_transaction_id),
        "Type": bt.type,
        "Contact": {"ContactID": str(bt.contact.contact_id), "Name": bt.contact.name},
        "BankAccount": {"AccountID": str(bt.bank_account.account_id), "Code": bt.bank_account.code},
        "IsReconciled": bt.is_reconciled,
        "Date": bt.date,
        "Reference": bt.reference,
        "CurrencyCode": bt.currency_code,
        "Status": bt.status,
        "Total": bt.total,
        "UpdatedDateUTC": bt.updated_at,
    }


def manual_journal(mj: ManualJournal, *, with_lines: bool = True) -> dict[str, Any]:
    lines = []
    for line in mj.data.get("JournalLines", []) if with_lines else []:
        rendered = dict(line)
        for key in ("LineAmount", "TaxAmount"):
            if rendered.get(key) is not None:
                rendered[key] = _dec(rendered[key])
        rendered.setdefault("Tracking", [])
        lines.append(rendered)
    body: dict[str, Any] = {
        "ManualJournalID": str(mj.manual_journal_id),
        "Date": wire.ms_date(mj.date),
        "Status": mj.status,
        "LineAmountTypes": mj.line_amount_types,
        "UpdatedDateUTC": wire.ms_datetime(mj.updated_at),
        "Narration": mj.narration,
        "JournalLines": lines,
        "ShowOnCashBasisReports": mj.show_on_cash_basis,
        "HasAttachments": _attachments_flag(mj, "ManualJournals", mj.manual_journal_id),
    }
    if mj.data.get("Url"):
        body["Url"] = mj.data["Url"]
    return body


def manual_journal_facts(mj: ManualJournal) -> dict[str, Any]:
    return {
        "ManualJournalID": str(mj.manual_journal_id),
        "Date": mj.date,
        "Status": mj.status,
        "Narration": mj.narration,
        "UpdatedDateUTC": mj.updated_at,
    }


def attachment(att: Attachment, *, base_url: str) -> dict[str, Any]:
    return {
        "AttachmentID": str(att.attachment_id),
        "FileName": att.file_name,
        "Url": f"{base_url}/{att.endpoint}/{att.object_id}/Attachments/{att.file_name}",
        "MimeType": att.mime_type,
        "ContentLength": len(att.content),
        "IncludeOnline": att.include_online,
    }

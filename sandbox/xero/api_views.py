"""The Accounting API 2.0 endpoints: thin handlers over the modules that hold Xero's rules.

Reference: ../shared/specs/xero/xero_accounting.yaml (paths, methods, parameters) and
developer.xero.com/documentation/api/accounting/overview. Scopes are the granular ones new apps
must use (xero-api.md §1.1); the broad ``accounting.transactions`` still works for the
endpoints it used to cover, as it does for apps created before March 2026.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from sandbox.xero import render, wire
from sandbox.xero.banking import bank_transaction_save, manual_journal_save
from sandbox.xero.batch import (
    BodyError,
    Invalid,
    Saved,
    Stage,
    read_body,
    read_elements,
    run_batch,
)
from sandbox.xero.books import Books
from sandbox.xero.contacts import Directory, contact_save
from sandbox.xero.documents import CREDIT_NOTE, INVOICE, Kind, Session, document_save
from sandbox.xero.gateway import (
    Ctx,
    endpoint,
    envelope,
    not_found,
    validation_exception,
    xero_json,
)
from sandbox.xero.listing import csv_param, listing
from sandbox.xero.models import (
    ACCOUNT_CLASS,
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
    Payment,
    TaxRate,
    TrackingCategory,
)
from sandbox.xero.payments import (
    Payments,
    allocation_create,
    allocation_delete,
    payment_create,
    payment_delete,
)

SETTINGS = {"read": ("accounting.settings.read",), "write": ("accounting.settings",)}
CONTACTS = {"read": ("accounting.contacts.read",), "write": ("accounting.contacts",)}
INVOICES = {
    "read": ("accounting.invoices.read", "accounting.transactions.read"),
    "write": ("accounting.invoices", "accounting.transactions"),
}
ITEMS = {
    "read": INVOICES["read"] + SETTINGS["read"],
    "write": INVOICES["write"] + SETTINGS["write"],
}
PAYMENTS = {
    "read": ("accounting.payments.read", "accounting.transactions.read"),
    "write": ("accounting.payments", "accounting.transactions"),
}
BANKING = {
    "read": ("accounting.banktransactions.read", "accounting.transactions.read"),
    "write": ("accounting.banktransactions", "accounting.transactions"),
}
JOURNALS = {
    "read": ("accounting.manualjournals.read", "accounting.transactions.read"),
    "write": ("accounting.manualjournals", "accounting.transactions"),
}
GET = ("GET",)
GET_PUT_POST = ("GET", "PUT", "POST")
GET_POST = ("GET", "POST")


def _batch_or_body_error(run: Any) -> HttpResponse:
    try:
        response: HttpResponse = run()
    except BodyError as exc:
        return exc.response
    return response


# ---------------------------------------------------------------- organisation & settings


@endpoint(**SETTINGS, methods=GET)
def organisation(ctx: Ctx) -> HttpResponse:
    return envelope("Organisations", [render.organisation(ctx.org)])


@endpoint(**SETTINGS, methods=("GET", "PUT"))
def accounts(ctx: Ctx) -> HttpResponse:
    if ctx.request.method == "PUT":
        return _batch_or_body_error(lambda: _account_create(ctx))
    return listing(
        ctx,
        Account.objects.filter(org=ctx.org).order_by("code", "name"),
        collection="Accounts",
        facts=render.account_facts,
        render_one=lambda a, _lines: render.account(a),
        pageable=False,
    )


def _account_create(ctx: Ctx) -> HttpResponse:
    body = read_body(ctx)
    if isinstance(body, dict) and isinstance(body.get("Accounts"), list):
        # PUT /Accounts takes one account; Xero processes only the first (Xero-Net#285).
        body = body["Accounts"][0] if body["Accounts"] else {}
    if not isinstance(body, dict):
        body = {}
    return run_batch(
        ctx,
        collection="Accounts",
        id_key="AccountID",
        elements=[body],
        process=lambda raw: _account_save(ctx, raw, None),
        summarize=True,
    )


BANK_ACCOUNT_TYPES = ("BANK", "CREDITCARD", "PAYPAL")


def _account_save(ctx: Ctx, raw: dict[str, Any], existing: Account | None) -> Saved:
    """Create (PUT /Accounts) or update (POST /Accounts/{id}) one account."""
    org = ctx.org
    errors: list[str] = []
    code = str(raw.get("Code", existing.code if existing else "") or "").strip()
    name = str(raw.get("Name", existing.name if existing else "") or "").strip()
    acc_type = str(raw.get("Type", existing.type if existing else "") or "").upper()
    status = str(raw.get("Status", existing.status if existing else "ACTIVE") or "ACTIVE").upper()
    if acc_type not in ACCOUNT_CLASS:
        errors.append("Please select a valid account type.")  # unverified wording
    if not name:
        errors.append("Please enter a Name.")  # unverified wording
    if len(code) > 10:
        errors.append("Please enter a Code of 10 characters or less.")  # unverified wording
    if acc_type != "BANK" and not code:
        errors.append("Please enter a Code.")  # unverified wording
    others = Account.objects.filter(org=org).exclude(status="DELETED")
    if existing is not None:
        others = others.exclude(pk=existing.pk)
    if code and others.filter(code__iexact=code).exists():
        errors.append("Please enter a unique Code.")
    if name and others.filter(name__iexact=name).exists():
        errors.append("Please enter a unique Name.")
    if status not in ("ACTIVE", "ARCHIVED"):
        errors.append(
            "Accounts can only be updated to a Status of ACTIVE or ARCHIVED."
        )  # unverified
    if existing is not None and existing.system_account and status == "ARCHIVED":
        errors.append("System accounts cannot be archived.")  # unverified wording
    tax_type = str(raw.get("TaxType") or (existing.tax_type if existing else "NONE")).upper()
    rate = TaxRate.objects.filter(org=org, tax_type__iexact=tax_type).first()
    if rate is None:
        errors.append(
            f"The TaxType code {tax_type} does not exist or cannot be used for this type of "
            "transaction."
        )
    bank_type = str(
        raw.get("BankAccountType") or (existing.bank_account_type if existing else "") or ""
    ).upper()
    currency = str(
        raw.get("CurrencyCode") or (existing.currency_code if existing else "") or ""
    ).upper()
    if acc_type == "BANK":
        bank_type = bank_type or "BANK"
        if bank_type not in BANK_ACCOUNT_TYPES:
            errors.append("Please select a valid bank account type.")  # unverified wording
        number = raw.get("BankAccountNumber", existing.bank_account_number if existing else "")
        if not number:
            errors.append("Please enter a Bank Account Number.")  # unverified wording
        currency = currency or org.base_currency
        if currency not in Books(org).currencies:
            errors.append(f"The current organisation is not subscribed to currency '{currency}'.")
    if errors:
        raise Invalid(errors)
    account = existing or Account(org=org)
    account.code, account.name, account.type, account.status = code, name, acc_type, status
    account.tax_type = rate.tax_type if rate else "NONE"
    if "Description" in raw:
        account.description = str(raw.get("Description") or "")
    if "EnablePaymentsToAccount" in raw:
        account.enable_payments = bool(raw["EnablePaymentsToAccount"])
    if "ShowInExpenseClaims" in raw:
        account.show_in_expense_claims = bool(raw["ShowInExpenseClaims"])
    if "AddToWatchlist" in raw:
        account.add_to_watchlist = bool(raw["AddToWatchlist"])
    if "ReportingCode" in raw:
        account.reporting_code = str(raw.get("ReportingCode") or "")
    if acc_type == "BANK":
        account.bank_account_type = bank_type
        account.bank_account_number = str(
            raw.get("BankAccountNumber", account.bank_account_number) or ""
        )
        account.currency_code = currency
    account.updated_at = timezone.now()
    account.save()
    return Saved(body=render.account(account))


@endpoint(**SETTINGS, methods=GET_POST)
def account_detail(ctx: Ctx, account_id: str) -> HttpResponse:
    account = Account.objects.filter(org=ctx.org, account_id=wire.guid_or_nil(account_id)).first()
    if account is None:
        return not_found()
    if ctx.request.method == "POST":

        def run() -> HttpResponse:
            elements = read_elements(ctx, "Accounts")
            return run_batch(
                ctx,
                collection="Accounts",
                id_key="AccountID",
                elements=elements[:1],
                process=lambda raw: _account_save(ctx, raw, account),
                summarize=True,
            )

        return _batch_or_body_error(run)
    return envelope("Accounts", [render.account(account)])


@endpoint(**SETTINGS, methods=GET)
def tax_rates(ctx: Ctx) -> HttpResponse:
    rates = TaxRate.objects.filter(org=ctx.org).order_by("name")
    wanted = ctx.query("TaxType")
    if wanted:
        rates = rates.filter(tax_type__iexact=wanted)
    return listing(
        ctx,
        rates,
        collection="TaxRates",
        modified=False,
        facts=render.tax_rate,
        render_one=lambda r, _lines: render.tax_rate(r),
        pageable=False,
    )


@endpoint(**SETTINGS, methods=GET)
def tracking_categories(ctx: Ctx) -> HttpResponse:
    include_archived = ctx.flag("includeArchived", default=False)
    categories = TrackingCategory.objects.filter(org=ctx.org).prefetch_related("options")
    if not include_archived:
        categories = categories.filter(status="ACTIVE")
    return listing(
        ctx,
        categories,
        collection="TrackingCategories",
        modified=False,
        facts=lambda c: render.tracking_category(c, include_archived=include_archived),
        render_one=lambda c, _l: render.tracking_category(c, include_archived=include_archived),
        pageable=False,
    )


@endpoint(**SETTINGS, methods=GET)
def tracking_category_detail(ctx: Ctx, category_id: str) -> HttpResponse:
    category = TrackingCategory.objects.filter(
        org=ctx.org, category_id=wire.guid_or_nil(category_id)
    ).first()
    if category is None:
        return not_found()
    return envelope(
        "TrackingCategories", [render.tracking_category(category, include_archived=True)]
    )


CURRENCY_NAMES = {
    "AUD": "Australian Dollar",
    "CAD": "Canadian Dollar",
    "CHF": "Swiss Franc",
    "CNY": "Chinese Yuan",
    "EUR": "Euro",
    "GBP": "British Pound",
    "INR": "Indian Rupee",
    "JPY": "Japanese Yen",
    "MXN": "Mexican Peso",
    "NZD": "New Zealand Dollar",
    "PLN": "Polish Zloty",
    "SEK": "Swedish Krona",
    "SGD": "Singapore Dollar",
    "USD": "United States Dollar",
}


@endpoint(**SETTINGS, methods=("GET", "PUT"))
def currencies(ctx: Ctx) -> HttpResponse:
    if ctx.request.method == "PUT":
        return _batch_or_body_error(lambda: _currency_enable(ctx))
    return listing(
        ctx,
        Currency.objects.filter(org=ctx.org).order_by("code"),
        collection="Currencies",
        modified=False,
        facts=render.currency,
        render_one=lambda c, _lines: render.currency(c),
        pageable=False,
    )


def _currency_enable(ctx: Ctx) -> HttpResponse:
    body = read_body(ctx)
    if isinstance(body, dict) and isinstance(body.get("Currencies"), list):
        body = body["Currencies"][0] if body["Currencies"] else {}

    def save(raw: dict[str, Any]) -> Saved:
        code = str(raw.get("Code") or "").upper()
        if code not in CURRENCY_NAMES:
            raise Invalid([f"Requested value '{code}' was not found."])
        if ctx.org.org_class in ("STARTER", "STANDARD", "LEDGER") and code != ctx.org.base_currency:
            # Multi-currency is a premium feature (Xero's "Established"/"Ultimate" plans).
            raise Invalid(["Multi-currency is not available on this organisation's plan."])
        currency, _ = Currency.objects.get_or_create(
            org=ctx.org, code=code, defaults={"description": CURRENCY_NAMES[code]}
        )
        return Saved(body=render.currency(currency))

    return run_batch(
        ctx,
        collection="Currencies",
        id_key="Code",
        elements=[body if isinstance(body, dict) else {}],
        process=save,
        summarize=True,
    )


# ---------------------------------------------------------------- contacts & items


def _contacts(ctx: Ctx) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(org=ctx.org).order_by("name", "id")
    ids = [i for i in (wire.guid(x) for x in csv_param(ctx, "IDs")) if i]
    if ids:
        contacts = contacts.filter(contact_id__in=ids)
    elif not ctx.flag("includeArchived", default=False):
        contacts = contacts.exclude(status="ARCHIVED")
    term = ctx.query("searchTerm")
    if term:
        contacts = contacts.filter(
            Q(name__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(contact_number__icontains=term)
            | Q(company_number__icontains=term)
            | Q(email__icontains=term)
        )
    return contacts


def _contacts_write(ctx: Ctx, elements: list[dict[str, Any]], *, create_only: bool) -> HttpResponse:
    stage = Stage((Contact,))
    directory = Directory(ctx.org, stage, elements)
    return run_batch(
        ctx,
        collection="Contacts",
        id_key="ContactID",
        elements=elements,
        process=lambda raw: contact_save(directory, raw, create_only=create_only),
        stage=stage,
    )


@endpoint(**CONTACTS, methods=GET_PUT_POST)
def contacts(ctx: Ctx) -> HttpResponse:
    if ctx.request.method in ("PUT", "POST"):
        create_only = ctx.request.method == "PUT"

        def run() -> HttpResponse:
            elements = read_elements(ctx, "Contacts")
            return _contacts_write(ctx, elements, create_only=create_only)

        return _batch_or_body_error(run)
    summary = ctx.flag("summaryOnly", default=False)
    return listing(
        ctx,
        _contacts(ctx),
        collection="Contacts",
        facts=render.contact_facts,
        render_one=lambda c, _lines: render.contact(c, summary=summary),
    )


@endpoint(**CONTACTS, methods=GET_POST)
def contact_detail(ctx: Ctx, contact_id: str) -> HttpResponse:
    wanted = wire.guid(contact_id)
    contact = (
        Contact.objects.filter(org=ctx.org, contact_id=wanted).first()
        if wanted
        else Contact.objects.filter(org=ctx.org, contact_number=contact_id).first()
    )
    if contact is None:
        return not_found()
    if ctx.request.method == "POST":

        def run() -> HttpResponse:
            elements = [
                {**raw, "ContactID": str(contact.contact_id)}
                for raw in read_elements(ctx, "Contacts")[:1]
            ]
            return _contacts_write(ctx, elements, create_only=False)

        return _batch_or_body_error(run)
    return envelope("Contacts", [render.contact(contact)])


def _item_save(ctx: Ctx, raw: dict[str, Any], *, create_only: bool) -> Saved:
    org = ctx.org
    code = str(raw.get("Code") or "").strip()
    existing = None
    if raw.get("ItemID"):
        existing = Item.objects.filter(org=org, item_id=wire.guid_or_nil(raw["ItemID"])).first()
        if existing is None:
            raise Invalid(["An existing Item with the specified ItemID could not be found"])
    elif code and not create_only:
        existing = Item.objects.filter(org=org, code__iexact=code).first()
    code = code or (existing.code if existing else "")
    errors: list[str] = []
    if not code:
        errors.append("Item Code must be specified")  # unverified wording
    if len(code) > 30:
        errors.append("Item Code must be no more than 30 characters long.")
    if raw.get("Name") and len(str(raw["Name"])) > 50:
        errors.append("Item Name must be no more than 50 characters long.")
    clash = Item.objects.filter(org=org, code__iexact=code)
    if existing is not None:
        clash = clash.exclude(pk=existing.pk)
    if code and clash.exists():
        errors.append(f"Price List Item with Code '{code}' already exists")
    books = Books(org)
    details: dict[str, dict[str, Any]] = {}
    for key in ("SalesDetails", "PurchaseDetails"):
        raw_details = raw.get(key)
        if raw_details is None:
            continue
        if not isinstance(raw_details, dict):
            errors.append(f"{key} must be an object.")
            continue
        clean: dict[str, Any] = {}
        if raw_details.get("UnitPrice") not in (None, ""):
            try:
                price = wire.to_decimal(raw_details["UnitPrice"], field="UnitPrice")
            except wire.BadValue as exc:
                errors.append(str(exc))
                price = None
            if price is not None:
                clean["UnitPrice"] = f"{wire.rq(price, ctx.unitdp):f}"
        if raw_details.get("AccountCode"):
            account = books.account_by_code(str(raw_details["AccountCode"]))
            if account is None or account.status != "ACTIVE":
                errors.append(
                    f"Account code '{raw_details['AccountCode']}' is not a valid code for this "
                    "document."
                )
            else:
                clean["AccountCode"] = account.code
        if raw_details.get("TaxType"):
            if books.rate(str(raw_details["TaxType"])) is None:
                errors.append(
                    f"The TaxType code {raw_details['TaxType']} does not exist or cannot be used "
                    "for this type of transaction."
                )
            else:
                clean["TaxType"] = str(raw_details["TaxType"]).upper()
        details[key] = clean
    if errors:
        raise Invalid(errors)
    item = existing or Item(org=org)
    item.code = code
    for key, attr in (
        ("Name", "name"),
        ("Description", "description"),
        ("PurchaseDescription", "purchase_description"),
    ):
        if key in raw:
            setattr(item, attr, str(raw.get(key) or ""))
    for key, attr in (("IsSold", "is_sold"), ("IsPurchased", "is_purchased")):
        if key in raw:
            setattr(item, attr, bool(raw[key]))
    if "SalesDetails" in details:
        item.sales_details = details["SalesDetails"]
    if "PurchaseDetails" in details:
        item.purchase_details = details["PurchaseDetails"]
    item.updated_at = timezone.now()
    item.save()
    return Saved(body=render.item(item))


@endpoint(**ITEMS, methods=GET_PUT_POST)
def items(ctx: Ctx) -> HttpResponse:
    if ctx.request.method in ("PUT", "POST"):
        create_only = ctx.request.method == "PUT"

        def run() -> HttpResponse:
            return run_batch(
                ctx,
                collection="Items",
                id_key="ItemID",
                elements=read_elements(ctx, "Items"),
                process=lambda raw: _item_save(ctx, raw, create_only=create_only),
            )

        return _batch_or_body_error(run)
    return listing(
        ctx,
        Item.objects.filter(org=ctx.org).order_by("code"),
        collection="Items",
        facts=render.item_facts,
        render_one=lambda i, _lines: render.item(i),
        pageable=False,
    )


@endpoint(**ITEMS, methods=GET_POST)
def item_detail(ctx: Ctx, item_id: str) -> HttpResponse:
    wanted = wire.guid(item_id)
    item = (
        Item.objects.filter(org=ctx.org, item_id=wanted).first()
        if wanted
        else Item.objects.filter(org=ctx.org, code__iexact=item_id).first()
    )
    if item is None:
        return not_found()
    if ctx.request.method == "POST":

        def run() -> HttpResponse:
            elements = [
                {**raw, "ItemID": str(item.item_id)} for raw in read_elements(ctx, "Items")[:1]
            ]
            return run_batch(
                ctx,
                collection="Items",
                id_key="ItemID",
                elements=elements,
                process=lambda raw: _item_save(ctx, raw, create_only=False),
            )

        return _batch_or_body_error(run)
    return envelope("Items", [render.item(item)])


# ---------------------------------------------------------------- invoices & credit notes


def _with_attachment_flag(objects: QuerySet[Any], endpoint: str, id_field: str) -> QuerySet[Any]:
    attached = Attachment.objects.filter(endpoint=endpoint, object_id=OuterRef(id_field))
    annotated: QuerySet[Any] = objects.annotate(has_attachments_flag=Exists(attached))
    return annotated


def _invoices(ctx: Ctx) -> QuerySet[Invoice]:
    invoices = _with_attachment_flag(Invoice.objects.filter(org=ctx.org), "Invoices", "invoice_id")
    invoices = (
        invoices.select_related("contact")
        .prefetch_related("payments", "allocations__credit_note")
        .order_by("updated_at", "id")
    )
    ids = [i for i in (wire.guid(x) for x in csv_param(ctx, "IDs")) if i]
    if ids:
        invoices = invoices.filter(invoice_id__in=ids)
    numbers = csv_param(ctx, "InvoiceNumbers")
    if numbers:
        invoices = invoices.filter(number__in=numbers)
    contact_ids = [i for i in (wire.guid(x) for x in csv_param(ctx, "ContactIDs")) if i]
    if contact_ids:
        invoices = invoices.filter(contact__contact_id__in=contact_ids)
    statuses = [s.upper() for s in csv_param(ctx, "Statuses")]
    if statuses:
        invoices = invoices.filter(status__in=statuses)
    if ctx.flag("createdByMyApp", default=False):
        invoices = invoices.filter(created_by_app=ctx.client_id)
    term = ctx.query("searchTerm")
    if term:
        invoices = invoices.filter(Q(number__icontains=term) | Q(reference__icontains=term))
    return invoices


def _document_write(ctx: Ctx, kind: Kind, *, allow_update: bool) -> HttpResponse:
    books = Books(ctx.org)

    def run() -> HttpResponse:
        elements = read_elements(ctx, kind.path)
        session = Session(books, elements, kind)
        return run_batch(
            ctx,
            collection=kind.path,
            id_key=kind.id_key,
            elements=elements,
            process=lambda raw: document_save(
                kind,
                session,
                raw,
                unitdp=ctx.unitdp,
                client_id=ctx.client_id,
                allow_update=allow_update,
            ),
            stage=session.stage,
        )

    return _batch_or_body_error(run)


@endpoint(**INVOICES, methods=GET_PUT_POST)
def invoices(ctx: Ctx) -> HttpResponse:
    if ctx.request.method in ("PUT", "POST"):
        return _document_write(ctx, INVOICE, allow_update=ctx.request.method == "POST")
    summary = ctx.flag("summaryOnly", default=False)
    return listing(
        ctx,
        _invoices(ctx),
        collection="Invoices",
        facts=render.invoice_facts,
        render_one=lambda inv, lines: render.invoice(inv, with_lines=lines and not summary),
        lines_when_paged=True,
    )


def _single_write(ctx: Ctx, kind: Kind, doc: Any) -> HttpResponse:
    books = Books(ctx.org)

    def run() -> HttpResponse:
        elements = read_elements(ctx, kind.path)[:1]
        session = Session(books, elements, kind)
        return run_batch(
            ctx,
            collection=kind.path,
            id_key=kind.id_key,
            elements=elements,
            process=lambda raw: document_save(
                kind, session, raw, unitdp=ctx.unitdp, client_id=ctx.client_id, target=doc
            ),
            stage=session.stage,
        )

    return _batch_or_body_error(run)


@endpoint(**INVOICES, methods=GET_POST)
def invoice_detail(ctx: Ctx, invoice_id: str) -> HttpResponse:
    wanted = wire.guid(invoice_id)
    query = Invoice.objects.filter(org=ctx.org)
    inv = (
        query.filter(invoice_id=wanted).first()
        if wanted
        else query.filter(number=invoice_id).order_by("-created_at").first()
    )
    if inv is None:
        return not_found()
    if ctx.request.method == "POST":
        return _single_write(ctx, INVOICE, inv)
    return envelope("Invoices", [render.invoice(inv)])


def _credit_notes(ctx: Ctx) -> QuerySet[CreditNote]:
    return (
        _with_attachment_flag(
            CreditNote.objects.filter(org=ctx.org), "CreditNotes", "credit_note_id"
        )
        .select_related("contact")
        .prefetch_related("payments", "allocations__invoice")
        .order_by("updated_at", "id")
    )


@endpoint(**INVOICES, methods=GET_PUT_POST)
def credit_notes(ctx: Ctx) -> HttpResponse:
    if ctx.request.method in ("PUT", "POST"):
        return _document_write(ctx, CREDIT_NOTE, allow_update=ctx.request.method == "POST")
    return listing(
        ctx,
        _credit_notes(ctx),
        collection="CreditNotes",
        facts=render.credit_note_facts,
        render_one=lambda cn, lines: render.credit_note(cn, with_lines=lines),
        lines_when_paged=True,
    )


@endpoint(**INVOICES, methods=GET_POST)
def credit_note_detail(ctx: Ctx, credit_note_id: str) -> HttpResponse:
    wanted = wire.guid(credit_note_id)
    query = CreditNote.objects.filter(org=ctx.org)
    cn = (
        query.filter(credit_note_id=wanted).first()
        if wanted
        else query.filter(number=credit_note_id).first()
    )
    if cn is None:
        return not_found()
    if ctx.request.method == "POST":
        return _single_write(ctx, CREDIT_NOTE, cn)
    return envelope("CreditNotes", [render.credit_note(cn)])


@endpoint(**INVOICES, methods=("PUT",))
def credit_note_allocations(ctx: Ctx, credit_note_id: str) -> HttpResponse:
    cn = CreditNote.objects.filter(
        org=ctx.org, credit_note_id=wire.guid_or_nil(credit_note_id)
    ).first()
    if cn is None:
        return not_found()
    books = Books(ctx.org)

    def run() -> HttpResponse:
        return run_batch(
            ctx,
            collection="Allocations",
            id_key="AllocationID",
            elements=read_elements(ctx, "Allocations"),
            process=lambda raw: allocation_create(books, cn, raw),
        )

    return _batch_or_body_error(run)


@endpoint(**INVOICES, methods=("DELETE",))
def credit_note_allocation_detail(
    ctx: Ctx, credit_note_id: str, allocation_id: str
) -> HttpResponse:
    """deleteCreditNoteAllocations: the Allocation itself (no envelope), IsDeleted true."""
    allocation = (
        Allocation.objects.filter(
            credit_note__org=ctx.org,
            credit_note__credit_note_id=wire.guid_or_nil(credit_note_id),
            allocation_id=wire.guid_or_nil(allocation_id),
        )
        .select_related("invoice")
        .first()
    )
    if allocation is None:
        return not_found()
    try:
        with transaction.atomic():
            saved = allocation_delete(allocation)
    except Invalid as invalid:
        echo = {"AllocationID": str(allocation.allocation_id)}
        return validation_exception(
            [{**echo, "ValidationErrors": [{"Message": m} for m in invalid.errors]}]
        )
    ctx.events.extend(saved.events)
    return xero_json(saved.body)


# ---------------------------------------------------------------- payments


@endpoint(**PAYMENTS, methods=GET_PUT_POST)
def payments(ctx: Ctx) -> HttpResponse:
    if ctx.request.method in ("PUT", "POST"):
        books = Books(ctx.org)

        def run() -> HttpResponse:
            elements = read_elements(ctx, "Payments")
            payments = Payments(books, elements)
            return run_batch(
                ctx,
                collection="Payments",
                id_key="PaymentID",
                elements=elements,
                process=lambda raw: payment_create(payments, raw, client_id=ctx.client_id),
                stage=payments.stage,
            )

        return _batch_or_body_error(run)
    return listing(
        ctx,
        Payment.objects.filter(org=ctx.org)
        .select_related("account", "invoice__contact", "credit_note__contact")
        .order_by("updated_at", "id"),
        collection="Payments",
        facts=render.payment_facts,
        render_one=lambda p, _lines: render.payment(p),
    )


@endpoint(**PAYMENTS, methods=GET_POST)
def payment_detail(ctx: Ctx, payment_id: str) -> HttpResponse:
    payment = Payment.objects.filter(org=ctx.org, payment_id=wire.guid_or_nil(payment_id)).first()
    if payment is None:
        return not_found()
    if ctx.request.method == "POST":

        def run() -> HttpResponse:
            body = read_body(ctx)
            if isinstance(body, dict) and isinstance(body.get("Payments"), list):
                body = body["Payments"][0] if body["Payments"] else {}
            return run_batch(
                ctx,
                collection="Payments",
                id_key="PaymentID",
                elements=[body if isinstance(body, dict) else {}],
                process=lambda raw: payment_delete(payment, raw),
                summarize=True,
            )

        return _batch_or_body_error(run)
    return envelope("Payments", [render.payment(payment)])


# ---------------------------------------------------------------- banking & journals


@endpoint(**BANKING, methods=GET_PUT_POST)
def bank_transactions(ctx: Ctx) -> HttpResponse:
    if ctx.request.method in ("PUT", "POST"):
        books = Books(ctx.org)
        allow_update = ctx.request.method == "POST"

        def run() -> HttpResponse:
            elements = read_elements(ctx, "BankTransactions")
            session = Session(books, elements)
            return run_batch(
                ctx,
                collection="BankTransactions",
                id_key="BankTransactionID",
                elements=elements,
                process=lambda raw: bank_transaction_save(
                    session,
                    raw,
                    unitdp=ctx.unitdp,
                    client_id=ctx.client_id,
                    allow_update=allow_update,
                ),
                stage=session.stage,
            )

        return _batch_or_body_error(run)
    return listing(
        ctx,
        _with_attachment_flag(
            BankTransaction.objects.filter(org=ctx.org), "BankTransactions", "bank_transaction_id"
        )
        .select_related("contact", "bank_account")
        .order_by("updated_at", "id"),
        collection="BankTransactions",
        facts=render.bank_transaction_facts,
        render_one=lambda bt, lines: render.bank_transaction(bt, with_lines=lines),
        lines_when_paged=True,
    )


@endpoint(**BANKING, methods=GET_POST)
def bank_transaction_detail(ctx: Ctx, bank_transaction_id: str) -> HttpResponse:
    bt = BankTransaction.objects.filter(
        org=ctx.org, bank_transaction_id=wire.guid_or_nil(bank_transaction_id)
    ).first()
    if bt is None:
        return not_found()
    if ctx.request.method == "POST":
        books = Books(ctx.org)

        def run() -> HttpResponse:
            elements = [
                {**raw, "BankTransactionID": str(bt.bank_transaction_id)}
                for raw in read_elements(ctx, "BankTransactions")[:1]
            ]
            session = Session(books, elements)
            return run_batch(
                ctx,
                collection="BankTransactions",
                id_key="BankTransactionID",
                elements=elements,
                process=lambda raw: bank_transaction_save(
                    session, raw, unitdp=ctx.unitdp, client_id=ctx.client_id, allow_update=True
                ),
                stage=session.stage,
            )

        return _batch_or_body_error(run)
    return envelope("BankTransactions", [render.bank_transaction(bt)])


@endpoint(**JOURNALS, methods=GET_PUT_POST)
def manual_journals(ctx: Ctx) -> HttpResponse:
    if ctx.request.method in ("PUT", "POST"):
        books = Books(ctx.org)

        def run() -> HttpResponse:
            return run_batch(
                ctx,
                collection="ManualJournals",
                id_key="ManualJournalID",
                elements=read_elements(ctx, "ManualJournals"),
                process=lambda raw: manual_journal_save(books, raw, client_id=ctx.client_id),
            )

        return _batch_or_body_error(run)
    return listing(
        ctx,
        _with_attachment_flag(
            ManualJournal.objects.filter(org=ctx.org), "ManualJournals", "manual_journal_id"
        ).order_by("updated_at", "id"),
        collection="ManualJournals",
        facts=render.manual_journal_facts,
        render_one=lambda mj, lines: render.manual_journal(mj, with_lines=lines),
        lines_when_paged=True,
    )


@endpoint(**JOURNALS, methods=GET_POST)
def manual_journal_detail(ctx: Ctx, manual_journal_id: str) -> HttpResponse:
    mj = ManualJournal.objects.filter(
        org=ctx.org, manual_journal_id=wire.guid_or_nil(manual_journal_id)
    ).first()
    if mj is None:
        return not_found()
    if ctx.request.method == "POST":
        books = Books(ctx.org)

        def run() -> HttpResponse:
            elements = [
                {**raw, "ManualJournalID": str(mj.manual_journal_id)}
                for raw in read_elements(ctx, "ManualJournals")[:1]
            ]
            return run_batch(
                ctx,
                collection="ManualJournals",
                id_key="ManualJournalID",
                elements=elements,
                process=lambda raw: manual_journal_save(books, raw, client_id=ctx.client_id),
            )

        return _batch_or_body_error(run)
    return envelope("ManualJournals", [render.manual_journal(mj)])


def bad_request(message: str) -> HttpResponse:
    return validation_exception([{"ValidationErrors": [{"Message": message}]}])

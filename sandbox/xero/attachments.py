"""Attachments: raw bytes on a document, up to 10 per document.

Reference: developer.xero.com/documentation/api/accounting/attachments (xero-api.md §5):
``PUT``/``POST /{Endpoint}/{ID}/Attachments/{FileName}`` with the file as the raw body and its
Content-Type; ``GET /{Endpoint}/{ID}/Attachments`` lists them; ``GET .../Attachments/{FileName}``
or ``.../{AttachmentID}`` returns the bytes. ``IncludeOnline=true`` applies to ACCREC invoices
and credit notes. Uploading a name that already exists replaces that file (a new
AttachmentID), as re-attaching does in Xero. The size limit is 10 MB (Xero's current figure;
3 MB when attachments launched); over it, and over 10 files, the upload is refused with a
validation error (wording unverified).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model
from django.http import HttpResponse
from django.utils import timezone

from sandbox.xero import render
from sandbox.xero.gateway import Ctx, endpoint, envelope, not_found, validation_exception
from sandbox.xero.models import (
    Account,
    Attachment,
    BankTransaction,
    Contact,
    CreditNote,
    Invoice,
    ManualJournal,
)

MAX_FILES = 10
MAX_BYTES = 10 * 1024 * 1024

# endpoint -> (model, id field, scope family)
ENDPOINTS: dict[str, tuple[type[Model], str]] = {
    "Invoices": (Invoice, "invoice_id"),
    "CreditNotes": (CreditNote, "credit_note_id"),
    "BankTransactions": (BankTransaction, "bank_transaction_id"),
    "ManualJournals": (ManualJournal, "manual_journal_id"),
    "Contacts": (Contact, "contact_id"),
    "Accounts": (Account, "account_id"),
}
SCOPES = {"read": ("accounting.attachments.read",), "write": ("accounting.attachments",)}


def _document(ctx: Ctx, endpoint_name: str, object_id: str) -> Any:
    model, id_field = ENDPOINTS[endpoint_name]
    try:
        wanted = uuid.UUID(object_id)
    except ValueError:
        return None
    return model._default_manager.filter(org=ctx.org, **{id_field: wanted}).first()


def _base_url(ctx: Ctx) -> str:
    path = ctx.request.path
    return ctx.request.build_absolute_uri(path[: path.index("/api.xro/2.0") + len("/api.xro/2.0")])


@endpoint(**SCOPES, methods=("GET",))
def attachment_list(ctx: Ctx, endpoint_name: str, object_id: str) -> HttpResponse:
    if _document(ctx, endpoint_name, object_id) is None:
        return not_found()
    rows = Attachment.objects.filter(
        org=ctx.org, endpoint=endpoint_name, object_id=uuid.UUID(object_id)
    )
    base = _base_url(ctx)
    return envelope("Attachments", [render.attachment(a, base_url=base) for a in rows])


@endpoint(**SCOPES, methods=("GET", "PUT", "POST"))
def attachment_file(ctx: Ctx, endpoint_name: str, object_id: str, file_name: str) -> HttpResponse:
    document = _document(ctx, endpoint_name, object_id)
    if document is None:
        return not_found()
    rows = Attachment.objects.filter(
        org=ctx.org, endpoint=endpoint_name, object_id=uuid.UUID(object_id)
    )
    if ctx.request.method == "GET":
        found = None
        try:
            found = rows.filter(attachment_id=uuid.UUID(file_name)).first()
        except ValueError:
            pass
        found = found or rows.filter(file_name=file_name).first()
        if found is None:
            return not_found()
        response = HttpResponse(bytes(found.content), content_type=found.mime_type)
        response["Content-Disposition"] = f'attachment; filename="{found.file_name}"'
        return response
    content = ctx.request.body
    errors = []
    if not content:
        errors.append("The attachment content is empty.")
    if len(content) > MAX_BYTES:
        errors.append("The attachment exceeds the maximum file size of 10MB.")
    replaced = rows.filter(file_name=file_name).first()
    if replaced is None and rows.count() >= MAX_FILES:
        errors.append("A document can have a maximum of 10 attachments.")
    if errors:
        return validation_exception(
            [{"FileName": file_name, "ValidationErrors": [{"Message": m} for m in errors]}]
        )
    include_online = ctx.flag("IncludeOnline", default=False)
    if include_online and not (
        (isinstance(document, Invoice) and document.type == "ACCREC")
        or (isinstance(document, CreditNote) and document.type == "ACCRECCREDIT")
    ):
        include_online = False
    if replaced is not None:
        replaced.delete()
    attachment = Attachment.objects.create(
        org=ctx.org,
        endpoint=endpoint_name,
        object_id=uuid.UUID(object_id),
        file_name=file_name,
        mime_type=ctx.request.content_type or "application/octet-stream",
        content=content,
        include_online=include_online,
        created_at=timezone.now(),
    )
    return envelope("Attachments", [render.attachment(attachment, base_url=_base_url(ctx))])

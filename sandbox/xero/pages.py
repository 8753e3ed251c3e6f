"""Read-only pages showing what each sandbox organisation holds, so a demo can see a sync land.

The only write is archiving or restoring an account (what a Xero user does in Settings > Chart
of accounts), which the end-to-end test uses to break a mapped account on purpose.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from sandbox.xero.models import (
    Account,
    Attachment,
    BankTransaction,
    Contact,
    CreditNote,
    Invoice,
    ManualJournal,
    Organisation,
    Payment,
)

LIMIT = 200  # rows per section: enough for a demo, bounded for a large backfill


def _organisation(tenant_id: str) -> Organisation:
    try:
        wanted = uuid.UUID(tenant_id)
    except ValueError:
        raise Http404("No such organisation") from None
    org = Organisation.objects.filter(tenant_id=wanted).first()
    if org is None:
        raise Http404("No such organisation")
    return org


@require_GET
def organisation_list(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "org": org,
            "invoices": Invoice.objects.filter(org=org, type="ACCREC").count(),
            "bills": Invoice.objects.filter(org=org, type="ACCPAY").count(),
            "bank_transactions": BankTransaction.objects.filter(org=org).count(),
        }
        for org in Organisation.objects.order_by("name")
    ]
    return render(request, "sandbox/xero/organisation_list.html", {"rows": rows})


@require_GET
def organisation_detail(request: HttpRequest, tenant_id: str) -> HttpResponse:
    org = _organisation(tenant_id)
    invoices = Invoice.objects.filter(org=org).select_related("contact").order_by("-updated_at")
    context = {
        "org": org,
        "sales": invoices.filter(type="ACCREC")[:LIMIT],
        "bills": invoices.filter(type="ACCPAY")[:LIMIT],
        "credit_notes": CreditNote.objects.filter(org=org)
        .select_related("contact")
        .order_by("-updated_at")[:LIMIT],
        "payments": Payment.objects.filter(org=org)
        .select_related("invoice", "credit_note", "account")
        .order_by("-updated_at")[:LIMIT],
        "bank_transactions": BankTransaction.objects.filter(org=org)
        .select_related("contact", "bank_account")
        .order_by("-updated_at")[:LIMIT],
        "manual_journals": ManualJournal.objects.filter(org=org).order_by("-updated_at")[:LIMIT],
        "contacts": Contact.objects.filter(org=org).order_by("name")[:LIMIT],
        "accounts": Account.objects.filter(org=org).order_by("code", "name"),
        "attachments": Attachment.objects.filter(org=org).order_by("-created_at")[:LIMIT],
        "currencies": org.currencies.order_by("code"),
    }
    return render(request, "sandbox/xero/organisation_detail.html", context)


@require_POST
def account_status(request: HttpRequest, tenant_id: str, account_id: str) -> HttpResponse:
    """Archive or restore one account (POST ``status`` = ARCHIVED or ACTIVE)."""
    org = _organisation(tenant_id)
    try:
        wanted = uuid.UUID(account_id)
    except ValueError:
        raise Http404("No such account") from None
    account = Account.objects.filter(org=org, account_id=wanted).first()
    if account is None:
        raise Http404("No such account")
    status = request.POST.get("status", "")
    target = reverse("sandbox:xero-organisation", args=[org.tenant_id]) + "#accounts"
    if status not in ("ARCHIVED", "ACTIVE"):
        messages.error(request, "Choose ARCHIVED or ACTIVE.")
        return HttpResponseRedirect(target)
    if status == "ARCHIVED" and account.system_account:
        messages.error(request, f"{account} is a system account and cannot be archived.")
        return HttpResponseRedirect(target)
    Account.objects.filter(pk=account.pk).update(status=status, updated_at=timezone.now())
    verb = "archived" if status == "ARCHIVED" else "restored"
    messages.success(request, f"Account {account} {verb}.")
    return HttpResponseRedirect(target)

"""The Accounting API client for one Xero organisation: every call passes the shared limiter.

One instance per tenant and task; tokens come from the tenant's grant (never a module-global
token). Batch writes use ``summarizeErrors=false`` so each element reports its own outcome, a
deterministic ``Idempotency-Key`` per batch, and ``unitdp=4``.
Reference: https://developer.xero.com/documentation/api/accounting/invoices (and siblings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from connectors import http, limits
from connectors.models import XeroTenant
from connectors.xero.client import xero_request

API = "/api.xro/2.0"


@dataclass(frozen=True)
class Endpoint:
    path: str  # /Invoices
    collection: str  # "Invoices" in request and response bodies
    id_field: str  # "InvoiceID"
    number_field: str | None  # "InvoiceNumber": searchable with a filter when set
    reference_field: str | None


ENDPOINTS = {
    "invoice": Endpoint("/Invoices", "Invoices", "InvoiceID", "InvoiceNumber", "Reference"),
    "bill": Endpoint("/Invoices", "Invoices", "InvoiceID", "InvoiceNumber", "Reference"),
    "credit_note": Endpoint(
        "/CreditNotes", "CreditNotes", "CreditNoteID", "CreditNoteNumber", "Reference"
    ),
    "payment": Endpoint("/Payments", "Payments", "PaymentID", None, "Reference"),
    "bank_transaction": Endpoint(
        "/BankTransactions", "BankTransactions", "BankTransactionID", None, "Reference"
    ),
    "manual_journal": Endpoint(
        "/ManualJournals", "ManualJournals", "ManualJournalID", None, "Narration"
    ),
    # Under its credit note: /CreditNotes/{CreditNoteID}/Allocations, one per call.
    "allocation": Endpoint("/CreditNotes", "Allocations", "AllocationID", None, None),
}
GONE = {"VOIDED", "DELETED"}


class LimiterBusy(http.RetryLater):
    """No slot in the shared limiter: nothing was sent; try again after ``decision.wait``."""


class XeroAccounting:
    def __init__(self, tenant: XeroTenant) -> None:
        self.tenant = tenant
        self.grant = tenant.grant
        self.calls = 0

    def request(self, operation: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        slot = limits.xero_acquire(str(self.tenant.tenant_id))
        if not slot.ok:
            raise LimiterBusy(
                provider="xero",
                operation=operation,
                message=f"waiting for a rate-limit slot ({slot.reason})",
                decision=http.RetryDecision(True, "limiter busy", slot.wait),
            )
        try:
            self.calls += 1
            response = xero_request(
                self.grant,
                operation,
                method,
                f"{API}{path}",
                tenant_id=str(self.tenant.tenant_id),
                **kwargs,
            )
            limits.xero_observe(str(self.tenant.tenant_id), response.headers)
            return response
        except http.ProviderError as exc:
            if exc.headers:
                limits.xero_observe(str(self.tenant.tenant_id), exc.headers)
            raise
        finally:
            limits.xero_release(slot)

    def put_batch(
        self, kind: str, documents: list[dict[str, Any]], *, idempotency_key: str
    ) -> list[dict[str, Any]]:
        """Create up to 50 documents; returns Xero's element for each, in order."""
        endpoint = ENDPOINTS[kind]
        response = self.request(
            f"create{endpoint.collection}",
            "PUT",
            endpoint.path,
            params={"summarizeErrors": "false", "unitdp": "4"},
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            json={endpoint.collection: documents},
        )
        elements: list[dict[str, Any]] = response.json().get(endpoint.collection) or []
        if len(elements) != len(documents):
            raise http.Uncertain(
                provider="xero",
                operation=f"create{endpoint.collection}",
                message=f"Xero answered {len(elements)} elements for {len(documents)} documents",
                decision=http.RetryDecision(True, "element count mismatch", 0),
            )
        return elements

    def find(
        self, kind: str, *, numbers: list[str] | None = None, references: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Documents already in Xero with these numbers or references (not voided/deleted).

        Keyed by number when searched by number, else by reference.
        """
        endpoint = ENDPOINTS[kind]
        found: dict[str, dict[str, Any]] = {}
        field, values = (
            (endpoint.number_field, list(numbers))
            if numbers and endpoint.number_field
            else (endpoint.reference_field, list(references or []))
        )
        assert field is not None
        for start in range(0, len(values), 25):  # keep the query string short
            chunk = values[start : start + 25]
            params: dict[str, str] = {}
            if field == "InvoiceNumber":
                params["InvoiceNumbers"] = ",".join(chunk)
            else:
                params["where"] = " OR ".join(f'{field}=="{_quote(v)}"' for v in chunk)
            response = self.request(
                f"get{endpoint.collection}", "GET", endpoint.path, params=params
            )
            for document in response.json().get(endpoint.collection) or []:
                if document.get("Status") in GONE:
                    continue
                key = document.get(field)
                if key in chunk:
                    found[key] = document
        return found

    def allocate(
        self, credit_note_id: str, allocation: dict[str, Any], *, idempotency_key: str
    ) -> dict[str, Any]:
        """Apply part of a credit note to an invoice; returns Xero's element for it.

        Reference: https://developer.xero.com/documentation/api/accounting/creditnotes
        (PUT /CreditNotes/{CreditNoteID}/Allocations, createCreditNoteAllocation).
        """
        response = self.request(
            "createCreditNoteAllocation",
            "PUT",
            f"/CreditNotes/{credit_note_id}/Allocations",
            params={"summarizeErrors": "false"},
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            json={"Allocations": [allocation]},
        )
        elements: list[dict[str, Any]] = response.json().get("Allocations") or []
        if len(elements) != 1:
            raise http.Uncertain(
                provider="xero",
                operation="createCreditNoteAllocation",
                message=f"Xero answered {len(elements)} allocations for one",
                decision=http.RetryDecision(True, "element count mismatch", 0),
            )
        return elements[0]

    def allocations_of(self, credit_note_id: str) -> list[dict[str, Any]]:
        """The credit note's live allocations, as GET /CreditNotes/{CreditNoteID} lists them."""
        body = self.get(f"/CreditNotes/{credit_note_id}", "getCreditNote")
        notes = body.get("CreditNotes") or []
        found = notes[0].get("Allocations") or [] if notes else []
        return [a for a in found if not a.get("IsDeleted")]

    def allocation_delete(self, credit_note_id: str, allocation_id: str) -> dict[str, Any]:
        """Take an allocation back before its credit note can be voided.

        Reference: https://developer.xero.com/documentation/api/accounting/creditnotes
        (DELETE /CreditNotes/{CreditNoteID}/Allocations/{AllocationID},
        deleteCreditNoteAllocations: the Allocation comes back with IsDeleted true).
        """
        response = self.request(
            "deleteCreditNoteAllocations",
            "DELETE",
            f"/CreditNotes/{credit_note_id}/Allocations/{allocation_id}",
        )
        body: dict[str, Any] = response.json()
        return body

    def get(self, path: str, operation: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = self.request(operation, "GET", path, params=params).json()
        return body


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')

"""Batch writes as Xero answers them.

Reference: xero-api.md §3 "Batch error handling" (xero-ruby#247, Xero-NetStandard#156):
- ``summarizeErrors`` omitted or true: if any element is invalid, HTTP 400 with a
  ``ValidationException`` listing the invalid elements; the valid elements **are still saved**,
  but their ids are not returned.
- ``summarizeErrors=false``: HTTP 200 and every element back, each with ``HasErrors`` /
  ``HasValidationErrors``, ``StatusAttributeString`` (OK / WARNING / ERROR),
  ``ValidationErrors`` and ``Warnings``.

Each element is saved in its own transaction (savepoint), so an invalid one leaves no trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpResponse

from sandbox.xero import wire
from sandbox.xero.gateway import Ctx, Event, envelope, post_data_invalid, validation_exception

ZERO_ID = "00000000-0000-0000-0000-000000000000"
MAX_BODY = 3_500_000  # Xero: 3.5 MB per Accounting POST or PUT


class Invalid(Exception):
    """An element Xero refuses, with its messages (and what to echo back)."""

    def __init__(
        self,
        errors: list[str],
        *,
        echo: dict[str, Any] | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.echo = echo
        self.warnings = warnings or []


@dataclass
class Saved:
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


Process = Callable[[dict[str, Any]], Saved]


class BodyError(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__("unreadable body")
        self.response = response


def read_body(ctx: Ctx) -> Any:
    body = ctx.request.body
    if len(body) > MAX_BODY:
        raise BodyError(
            HttpResponse(b"Request Entity Too Large", status=413, content_type="text/plain")
        )
    if not body.strip():
        raise BodyError(post_data_invalid("The request body is empty."))
    try:
        return wire.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(post_data_invalid(str(exc))) from None


def read_elements(ctx: Ctx, collection: str) -> list[dict[str, Any]]:
    """``{"Invoices": [...]}``, a bare list, or a single object (Xero accepts all three)."""
    payload = read_body(ctx)
    if isinstance(payload, dict):
        key = next((k for k in payload if k.lower() == collection.lower()), None)
        payload = payload[key] if key is not None else [payload]
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise BodyError(post_data_invalid(f"{collection} must be a list of objects."))
    return payload


def _flags(body: dict[str, Any], *, errors: list[str], warnings: list[str]) -> dict[str, Any]:
    out = dict(body)
    out["HasErrors"] = bool(errors)
    out["HasValidationErrors"] = bool(errors)
    out["StatusAttributeString"] = "ERROR" if errors else ("WARNING" if warnings else "OK")
    out["ValidationErrors"] = [{"Message": m} for m in errors]
    out["Warnings"] = [{"Message": m} for m in warnings]
    return out


def run_batch(
    ctx: Ctx,
    *,
    collection: str,
    id_key: str,
    elements: list[dict[str, Any]],
    process: Process,
    summarize: bool | None = None,
) -> HttpResponse:
    results: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for raw in elements:
        try:
            with transaction.atomic():
                saved = process(raw)
        except Invalid as invalid:
            echo = dict(invalid.echo if invalid.echo is not None else raw)
            echo.setdefault(id_key, ZERO_ID)
            flagged = _flags(echo, errors=invalid.errors, warnings=invalid.warnings)
            results.append(flagged)
            failed.append(flagged)
            continue
        ctx.events.extend(saved.events)
        results.append(_flags(saved.body, errors=[], warnings=saved.warnings))
    summarize = ctx.summarize_errors if summarize is None else summarize
    if failed and summarize:
        return validation_exception(failed)
    return envelope(collection, results)

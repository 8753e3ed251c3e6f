"""Batch writes as Xero answers them.

Reference: xero-api.md §3 "Batch error handling" (xero-ruby#247, Xero-NetStandard#156):
- ``summarizeErrors`` omitted or true: if any element is invalid, HTTP 400 with a
  ``ValidationException`` listing the invalid elements; the valid elements **are still saved**,
  but their ids are not returned.
- ``summarizeErrors=false``: HTTP 200 and every element back, each with ``HasErrors`` /
  ``HasValidationErrors``, ``StatusAttributeString`` (OK / WARNING / ERROR),
  ``ValidationErrors`` and ``Warnings``.

Each element is saved in its own transaction (savepoint), so an invalid one leaves no trace.
The busy writes (invoices, credit notes, bank transactions, payments, contacts) instead pass a
``Stage``: the batch runs in one transaction, each element is validated against what the batch
has staged so far and stages its writes only once it is valid (an element refused half-way
undoes what it staged), and everything is written in bulk at the end. The outcome, element by
element, is the one saving each element on its own gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
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


class Stage:
    """A batch's writes, held back until the end of the batch and then written in bulk.

    ``create`` stages a new row and ``update`` some fields of an existing one; an element that
    turns out to be invalid undoes what it staged (``on_undo``). ``flush`` writes everything
    staged so far, new rows first in ``CREATION_ORDER`` (a row's foreign keys need the rows it
    points at), then the updates, then the ``on_flush`` hooks; processing flushes mid-batch
    before it reads the database directly, so those reads see the batch's earlier elements.
    """

    def __init__(self, creation_order: tuple[type[Model], ...] = ()) -> None:
        self.creation_order = creation_order
        self._creates: list[Model] = []
        self._new: set[int] = set()
        self._updates: dict[int, tuple[Model, set[str]]] = {}
        self._undo: list[Callable[[], None]] = []
        self._hooks: list[Callable[[], None]] = []

    def create(self, obj: Model) -> None:
        self._creates.append(obj)
        self._new.add(id(obj))

        def undo() -> None:
            self._creates.remove(obj)
            self._new.discard(id(obj))

        self.on_undo(undo)

    def is_new(self, obj: Model) -> bool:
        return id(obj) in self._new

    def update(self, obj: Model, fields: list[str]) -> None:
        """Write these fields of ``obj`` at the flush (a staged new row is written whole)."""
        if id(obj) in self._new:
            return
        self._updates.setdefault(id(obj), (obj, set()))[1].update(fields)

    def on_undo(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    def on_flush(self, hook: Callable[[], None]) -> None:
        self._hooks.append(hook)

    def element_start(self) -> None:
        self._undo = []

    def element_undo(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo = []

    def flush(self) -> None:
        creates: dict[type[Model], list[Model]] = {model: [] for model in self.creation_order}
        for obj in self._creates:
            creates.setdefault(type(obj), []).append(obj)
        for model, objs in creates.items():
            if objs:
                model._default_manager.bulk_create(objs)
        grouped: dict[tuple[type[Model], tuple[str, ...]], list[Model]] = {}
        for obj, fields in self._updates.values():
            grouped.setdefault((type(obj), tuple(sorted(fields))), []).append(obj)
        for (model, names), objs in grouped.items():
            _bulk_update(model, objs, names)
        self._creates, self._updates, self._undo = [], {}, []
        self._new.clear()
        for hook in self._hooks:
            hook()


def _bulk_update(model: type[Model], objs: list[Model], names: tuple[str, ...]) -> None:
    """``bulk_update`` as one ``UPDATE ... FROM (VALUES ...)`` (Django's CASE per row is slow)."""
    if connection.vendor != "postgresql":  # the demo's SQLite: Django's portable form
        model._default_manager.bulk_update(objs, list(names))
        return
    quote = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    fields: list[Field[Any, Any]] = []
    for name in names:
        found = model._meta.get_field(name)
        assert isinstance(found, Field)
        fields.append(found)
    columns = [quote(str(f.column)) for f in (pk, *fields)]
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in (pk, *fields)) + ")"
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET "  # noqa: S608 (names from the model)
        + ", ".join(f"{c} = v.{c}" for c in columns[1:])
        + f" FROM (VALUES {', '.join([row] * len(objs))}) AS v ({', '.join(columns)})"
        + f" WHERE t.{columns[0]} = v.{columns[0]}"
    )
    params: list[Any] = []
    for obj in objs:
        params.append(pk.get_db_prep_save(obj.pk, connection))
        params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
    stage: Stage | None = None,
) -> HttpResponse:
    results: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []

    def one(raw: dict[str, Any]) -> None:
        try:
            if stage is None:
                with transaction.atomic():
                    saved = process(raw)
            else:
                stage.element_start()
                saved = process(raw)
        except Invalid as invalid:
            if stage is not None:
                stage.element_undo()
            echo = dict(invalid.echo if invalid.echo is not None else raw)
            echo.setdefault(id_key, ZERO_ID)
            flagged = _flags(echo, errors=invalid.errors, warnings=invalid.warnings)
            results.append(flagged)
            failed.append(flagged)
            return
        ctx.events.extend(saved.events)
        results.append(_flags(saved.body, errors=[], warnings=saved.warnings))

    if stage is None:
        for raw in elements:
            one(raw)
    else:
        with transaction.atomic():
            for raw in elements:
                one(raw)
            stage.flush()
    summarize = ctx.summarize_errors if summarize is None else summarize
    if failed and summarize:
        return validation_exception(failed)
    return envelope(collection, results)

"""GET lists as Xero serves them: If-Modified-Since, where, order, page and pageSize.

Reference: developer.xero.com/documentation/api/accounting/requests-and-responses and the
pageSize note quoted in xero-api.md §3:
- ``page`` returns up to ``pageSize`` records (default 100, at most 1000) with a
  ``pagination`` block; without ``page`` every match is returned.
- Invoices, credit notes, bank transactions and manual journals carry their lines only when
  paged (or fetched one by one): "When you retrieve multiple invoices ... no line details are
  returned ... The line item details will be returned when you retrieve an individual invoice
  ... or by using the optional paging parameter."
- ``If-Modified-Since`` returns records created or modified after the timestamp.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpResponse

from sandbox.xero import wire
from sandbox.xero.gateway import Ctx, envelope, validation_exception
from sandbox.xero.where import WhereError, _lookup, compile_where

M = TypeVar("M", bound=Model)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, date):
        return (1, value.toordinal() * 86400.0)
    if isinstance(value, bool):
        return (2, int(value))
    if isinstance(value, int | float | Decimal):
        return (2, Decimal(str(value)))
    return (3, str(value).lower())


def _order(text: str) -> list[tuple[list[str], bool]]:
    out = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        descending = len(words) > 1 and words[1].upper() == "DESC"
        out.append((words[0].split("."), descending))
    return out


def listing(
    ctx: Ctx,
    objects: QuerySet[M],
    *,
    collection: str,
    facts: Callable[[M], dict[str, Any]],
    render_one: Callable[[M, bool], dict[str, Any]],
    lines_when_paged: bool = False,
    pageable: bool = True,
    modified: bool = True,
) -> HttpResponse:
    since_header = ctx.request.headers.get("If-Modified-Since")
    if since_header and modified:
        since = wire.parse_modified_since(since_header)
        if since is not None:
            objects = objects.filter(updated_at__gt=since)
    try:
        where = compile_where(ctx.query("where"))
    except WhereError as exc:
        return validation_exception([{"ValidationErrors": [{"Message": str(exc)}]}])
    order = _order(ctx.query("order") or "")
    page = _positive(ctx.query("page")) if pageable else None
    size = min(_positive(ctx.query("pageSize")) or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    extra: dict[str, Any] = {}
    if where is None and not order:
        total = objects.count() if page else 0
        chosen = list(objects[(page - 1) * size : page * size]) if page else list(objects)
    else:
        everything = list(objects)
        if where is not None:
            everything = [o for o in everything if where(facts(o))]
        for path, descending in reversed(order):
            everything.sort(key=_by(facts, path), reverse=descending)
        total = len(everything)
        chosen = everything[(page - 1) * size : page * size] if page else everything
    if page:
        extra["pagination"] = {
            "page": page,
            "pageSize": size,
            "pageCount": math.ceil(total / size) if total else 0,
            "itemCount": total,
        }
    with_lines = bool(page) or not lines_when_paged
    return envelope(collection, [render_one(o, with_lines) for o in chosen], **extra)


def _by(facts: Callable[[M], dict[str, Any]], path: list[str]) -> Callable[[M], tuple[int, Any]]:
    def key(obj: M) -> tuple[int, Any]:
        return _sort_key(_lookup(facts(obj), path))

    return key


def _positive(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value > 0 else None


def csv_param(ctx: Ctx, name: str) -> list[str]:
    raw = ctx.query(name)
    if not raw:
        return []
    return [part.strip().strip('"') for part in raw.split(",") if part.strip()]

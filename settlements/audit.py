"""The audit file: every row of a settlement with where it posted, as a CSV.

Attached to each Xero document a settlement became, so a bookkeeper can trace any line of the
invoice back to Amazon's rows. Rows come from the kept raw file (streamed again, in file
order); categories and accounts from the plan the documents were built from. With the
month-end split, each document's file holds its own month's rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from mappings.transforms.settlement import Assignment
from settlements.parser import Row

SEP = "\x1f"

COLUMNS = (
    "settlement-id",
    "line",
    "posted-date",
    "transaction-type",
    "order-id",
    "adjustment-id",
    "marketplace-name",
    "sku",
    "amount-type",
    "amount-description",
    "amount",
    "category",
    "category-key",
    "xero-account",
    "xero-tax-type",
    "xero-document",
    "note",
)


def audit_csv(
    *,
    settlement_id: str,
    rows: Iterable[Row],
    assignments: dict[str, Any],
    numbers: dict[str, str],
    part: str | None = None,
) -> bytes:
    """The CSV for one document (``part``) of a settlement, or for all of it (``None``).

    ``assignments`` as ``assignments_json`` stored them; ``numbers``: part → document number.
    """
    split = any(numbers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        row_part = row.posted_date[:7] if split else ""
        if part is not None and row_part != part:
            continue
        key = SEP.join(
            (row.transaction_type.strip(), row.amount_type.strip(), row.amount_description.strip())
        )
        found: dict[str, str] = assignments.get(key) or {}
        writer.writerow(
            (
                settlement_id,
                row.line,
                row.posted_date,
                row.transaction_type,
                row.order_id,
                row.adjustment_id,
                row.marketplace_name,
                row.sku,
                row.amount_type,
                row.amount_description,
                f"{row.amount:.2f}",
                found.get("label", ""),
                found.get("key", ""),
                found.get("account", ""),
                found.get("tax_type", ""),
                numbers.get(row_part, ""),
                found.get("note", "") if found else "not mapped",
            )
        )
    return buffer.getvalue().encode("utf-8")


def assignments_json(assignments: dict[tuple[str, str, str], Assignment]) -> dict[str, Any]:
    """The plan's assignments as JSON, keyed by the three texts joined with ``SEP``."""
    return {
        SEP.join(key): {
            "key": a.category.key,
            "label": a.category.label,
            "account": a.account_code,
            "tax_type": a.tax_type,
            "note": a.note or ("" if a.account_code else "not mapped"),
        }
        for key, a in assignments.items()
    }

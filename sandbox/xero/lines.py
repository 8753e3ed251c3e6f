"""Line items as Xero computes them: amounts, per-line tax, totals, and Xero's line errors.

Reference: developer.xero.com/documentation/api-guides/rounding-in-xero (xero-api.md §5):
- UnitAmount is kept to 2 dp, or 4 dp with ``unitdp=4``; extra digits are **rounded** (Xero
  rounds them silently: "1.795 ... would be rounded to $1.80"), not refused. Quantity keeps 4 dp.
- LineAmount = Quantity * UnitAmount (less any discount), rounded to 2 dp. A LineAmount sent
  with Quantity and UnitAmount must agree: "The line total X does not match the expected line
  total Y".
- Tax is computed **per line** and rounded to 2 dp (half away from zero), then summed, for both
  Exclusive and Inclusive lines. A TaxAmount sent on a line overrides the computed one (the spec:
  "This value can be overriden if the calculated <TaxAmount> is not correct").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.xero import wire
from sandbox.xero.books import SYSTEM_ONLY, Books
from sandbox.xero.models import Account

SALES_TYPES = {"ACCREC", "ACCRECCREDIT", "RECEIVE"}


@dataclass
class Lines:
    stored: list[dict[str, Any]] = field(default_factory=list)
    sub_total: Decimal = wire.ZERO
    total_tax: Decimal = wire.ZERO
    total: Decimal = wire.ZERO
    errors: list[str] = field(default_factory=list)


def _num(raw: dict[str, Any], key: str, errors: list[str]) -> Decimal | None:
    try:
        return wire.to_decimal(raw.get(key), field=key)
    except wire.BadValue as exc:
        errors.append(str(exc))
        return None


def _account(books: Books, raw: dict[str, Any], errors: list[str]) -> Account | None:
    code = raw.get("AccountCode")
    account_id = raw.get("AccountID")
    if code not in (None, ""):
        account = books.account_by_code(str(code))
        label = str(code)
    elif account_id not in (None, ""):
        account = books.account_by_id(account_id)
        label = account.code if account else str(account_id)
    else:
        return None
    if account is None or account.type == "BANK" or account.system_account in SYSTEM_ONLY:
        errors.append(f"Account code '{label}' is not a valid code for this document.")
        return None
    if account.status != "ACTIVE":
        errors.append(
            f"Account code '{label}' has been archived, or has been deleted. "
            "Each line item must reference a valid account."
        )
        return None
    return account


def _tracking(books: Books, raw: Any, errors: list[str]) -> list[dict[str, Any]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        errors.append("Tracking must be a list of tracking categories.")
        return []
    if len(raw) > 2:
        # Unverified wording; the limit (2 categories per line) is Xero's.
        errors.append("A line item can have a maximum of 2 tracking categories.")
        return []
    out = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        wanted_cat = str(entry.get("TrackingCategoryID") or entry.get("Name") or "").lower()
        wanted_opt = str(entry.get("TrackingOptionID") or entry.get("Option") or "").lower()
        found = next(
            (
                (category, options)
                for category, options in books.tracking
                if category.status == "ACTIVE"
                and wanted_cat in (str(category.category_id), category.name.lower())
            ),
            None,
        )
        if found is None:
            errors.append(
                f"The Tracking Category '{entry.get('Name') or wanted_cat}' does not exist."
            )
            continue
        category, options = found
        option = next(
            (
                o
                for o in options
                if o.status == "ACTIVE" and wanted_opt in (str(o.option_id), o.name.lower())
            ),
            None,
        )
        if option is None:
            errors.append(
                f"The Tracking Option '{entry.get('Option') or wanted_opt}' does not exist "
                f"for Tracking Category '{category.name}'."
            )
            continue
        out.append(
            {
                "Name": category.name,
                "Option": option.name,
                "TrackingCategoryID": str(category.category_id),
                "TrackingOptionID": str(option.option_id),
            }
        )
    return out


def build_lines(
    books: Books,
    raw_lines: Any,
    *,
    doc_type: str,
    line_amount_types: str,
    unitdp: int,
    require_account: bool,
    allow_discount: bool,
    reject_negative_quantity: bool,
) -> Lines:
    result = Lines()
    errors = result.errors
    if raw_lines in (None, ""):
        raw_lines = []
    if not isinstance(raw_lines, list):
        errors.append("LineItems must be a list of line items.")
        return result
    line_sum = Decimal("0.00")
    for raw in raw_lines:
        if not isinstance(raw, dict):
            errors.append("Each line item must be an object.")
            continue
        item = None
        if raw.get("ItemCode") not in (None, ""):
            item = books.item(str(raw["ItemCode"]))
            if item is None:
                # Unverified wording.
                errors.append(f"Item code '{raw['ItemCode']}' is not valid.")
        details = (
            (item.sales_details if doc_type in SALES_TYPES else item.purchase_details)
            if item
            else {}
        )
        quantity = _num(raw, "Quantity", errors)
        unit = _num(raw, "UnitAmount", errors)
        given_line = _num(raw, "LineAmount", errors)
        discount_rate = _num(raw, "DiscountRate", errors)
        discount_amount = _num(raw, "DiscountAmount", errors)
        given_tax = _num(raw, "TaxAmount", errors)
        if unit is None and given_line is None and details.get("UnitPrice") not in (None, ""):
            unit = Decimal(str(details["UnitPrice"]))
        if (discount_rate or discount_amount) and not allow_discount:
            # Unverified wording; the rule (discounts on ACCREC only) is in the spec.
            errors.append("Discounts are only supported on sales invoices.")
        if quantity is not None:
            quantity = wire.rq(quantity, 4)
            if quantity < 0 and reject_negative_quantity:
                errors.append(
                    f"The quantity value '{quantity}' is invalid. "
                    "Quantity must not be less than zero."
                )
        if unit is not None:
            unit = wire.rq(unit, unitdp)
        if unit is None and given_line is not None:
            line_amount = wire.r2(given_line)
            quantity = Decimal("1.0000") if quantity in (None, Decimal(0)) else quantity
            unit = wire.rq(line_amount / quantity, unitdp)
        elif unit is not None:
            quantity = Decimal("1.0000") if quantity is None else quantity
            gross = quantity * unit
            if discount_amount:
                expected = wire.r2(gross - discount_amount)
            elif discount_rate:
                expected = wire.r2(gross * (100 - discount_rate) / 100)
            else:
                expected = wire.r2(gross)
            if given_line is not None and wire.r2(given_line) != expected:
                errors.append(
                    f"The line total {wire.r2(given_line)} does not match the expected line "
                    f"total {expected}"
                )
            line_amount = expected
        else:
            # A description-only line.
            line_amount = Decimal("0.00")
        named = raw.get("AccountCode") not in (None, "") or raw.get("AccountID") not in (None, "")
        if not named and details.get("AccountCode"):
            raw = {**raw, "AccountCode": details["AccountCode"]}
            named = True
        account = _account(books, raw, errors)
        if account is None and require_account and not named:
            errors.append("Account code must be specified")
        tax_type_raw = raw.get("TaxType") or details.get("TaxType")
        if line_amount_types == "NoTax":
            tax_type = "NONE"
        elif tax_type_raw:
            tax_type = str(tax_type_raw)
        elif account is not None:
            tax_type = account.tax_type
        else:
            tax_type = "NONE"
        rate = books.rate(tax_type)
        percent = Decimal(0)
        if rate is None or rate.status != "ACTIVE":
            errors.append(
                f"The TaxType code {tax_type} does not exist or cannot be used for this type "
                "of transaction."
            )
        else:
            percent = books.percent(rate)
            if account is not None and not books.rate_applies(rate, account):
                errors.append(
                    f"The TaxType code '{tax_type}' cannot be used with account code "
                    f"'{account.code}'."
                )
        if line_amount_types == "NoTax":
            tax = Decimal("0.00")
        elif given_tax is not None and percent:
            tax = wire.r2(given_tax)
        elif line_amount_types == "Inclusive":
            tax = wire.r2(line_amount * percent / (100 + percent))
        else:
            tax = wire.r2(line_amount * percent / 100)
        line_sum += line_amount
        result.total_tax += tax
        stored: dict[str, Any] = {
            "LineItemID": str(raw.get("LineItemID") or uuid.uuid4()),
            "Description": str(raw.get("Description") or (item.description if item else "")),
            "Quantity": wire.jsonable(quantity) if quantity is not None else None,
            "UnitAmount": wire.jsonable(unit) if unit is not None else None,
            "TaxType": tax_type,
            "TaxAmount": wire.jsonable(tax),
            "LineAmount": wire.jsonable(line_amount),
            "Tracking": _tracking(books, raw.get("Tracking"), errors),
        }
        if account is not None:
            stored["AccountCode"] = account.code
            stored["AccountID"] = str(account.account_id)
        if item is not None:
            stored["ItemCode"] = item.code
            stored["Item"] = {"ItemID": str(item.item_id), "Name": item.name, "Code": item.code}
        if discount_rate:
            stored["DiscountRate"] = wire.jsonable(wire.r2(discount_rate))
        if discount_amount:
            stored["DiscountAmount"] = wire.jsonable(wire.r2(discount_amount))
        result.stored.append({k: v for k, v in stored.items() if v is not None})
    if line_amount_types == "Inclusive":
        result.sub_total = line_sum - result.total_tax
        result.total = line_sum
    else:
        result.sub_total = line_sum
        result.total = line_sum + result.total_tax
    return result

"""Xero's wire format: Microsoft JSON dates, exact decimals, rounding as Xero rounds.

- Dates go out as ``/Date(1552262400000+0000)/`` (documents) and ``/Date(1552262400000)/``
  (the envelope's DateTimeUTC), and come in as ``YYYY-MM-DD``, ISO date-times or ``/Date(ms)/``
  (what xero-python sends).
- Money goes out as JSON numbers with Xero's exact digits (``40.00``, ``2.0000``), never through
  a float, so a client parsing with ``Decimal`` (xero-python does) sees what Xero would send.
- Rounding is half away from zero, which is ``ROUND_HALF_UP`` in ``decimal``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

CENT = Decimal("0.01")
Q4 = Decimal("0.0001")
Q6 = Decimal("0.000001")
ZERO = Decimal("0.00")


NIL = uuid.UUID(int=0)


def guid(raw: object) -> uuid.UUID | None:
    """A GUID from the request, or None when it is not one."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def guid_or_nil(raw: object) -> uuid.UUID:
    """For lookups: a malformed id matches nothing (no row has the nil GUID)."""
    return guid(raw) or NIL


def r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rq(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class BadValue(ValueError):
    """A value in the request Xero cannot read; the message is Xero-style."""


def to_decimal(value: object, *, field: str) -> Decimal | None:
    """A JSON number (or numeric string, which Xero's deserialiser also accepts) as Decimal."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadValue(f"The {field} value '{value}' is invalid.")
    if isinstance(value, Decimal | int | float | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise BadValue(f"The {field} value '{value}' is invalid.") from None
        if not result.is_finite():
            raise BadValue(f"The {field} value '{value}' is invalid.")
        return result
    raise BadValue(f"The {field} value '{value}' is invalid.")


_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<tz>[+-]\d{4})?\)/$")


def parse_xero_date(value: object, *, field: str) -> date | None:
    """``2019-03-11``, ``2019-03-11T00:00:00`` or ``/Date(1552262400000+0000)/``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadValue(f"The {field} value '{value}' is not a valid date.")
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match["ms"]) / 1000, tz=UTC).date()
    parsed_date = parse_date(text)
    if parsed_date:
        return parsed_date
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed:
        # Xero reads the calendar date written, whatever the offset.
        return parsed.date()
    raise BadValue(f"The {field} value '{value}' is not a valid date.")


def parse_modified_since(value: str) -> datetime | None:
    """If-Modified-Since: ISO 8601 (xero-python) or an HTTP date; naive means UTC."""
    text = value.strip()
    if not text:
        return None
    parsed: datetime | None
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def ms_date(day: date | None) -> str | None:
    """A calendar date as Xero sends it: midnight UTC, with the ``+0000`` suffix."""
    if day is None:
        return None
    return f"/Date({ms(datetime.combine(day, time(), tzinfo=UTC))}+0000)/"


def ms_datetime(moment: datetime) -> str:
    return f"/Date({ms(moment)}+0000)/"


def date_string(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00"


def utc_string(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_MARK = "\x00D"
_MARKED = re.compile(r'"\\u0000D(-?\d+(?:\.\d+)?)\\u0000"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value:f}\x00"
    if isinstance(value, dict):
        return {key: _mark(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(item) for item in value]
    return value


def dumps(payload: Any) -> bytes:
    """JSON with every Decimal written as a number with its exact digits."""
    text = json.dumps(_mark(payload), ensure_ascii=False, separators=(",", ":"))
    return _MARKED.sub(r"\1", text).encode()


def loads(body: bytes) -> Any:
    return json.loads(body, parse_float=Decimal)


def jsonable(value: Any) -> Any:
    """For JSONField storage: Decimals as strings with their digits (read back with Decimal)."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value

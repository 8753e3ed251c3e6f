"""Settlement report files: a streaming parser for both layouts, in constant memory.

Amazon writes settlement reports as tab-separated flat files (reference note amazon-api.md §7):
- ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``: one amount per row (``amount-type``,
  ``amount-description``, ``amount``), 23 or 24 columns;
- ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE``, the older layout: amounts spread over typed
  column pairs (``price-type``/``price-amount``, ``item-related-fee-type``/… ) and single
  columns (``misc-fee-amount``, ``other-amount``), 33 to 36 columns.
Columns are found by header name, never by position. The first data row is the summary
(settlement-id, dates, total-amount, currency); detail rows follow.

Marketplace formats: dates ``2026-06-16 00:00:00 UTC``, ``03.05.2018 09:10:07 UTC`` or ISO
``2025-08-14T06:23:59+00:00``; amounts ``-32.40`` or ``-32,40`` (a thousands separator is
tolerated); values may carry trailing spaces; account-level rows have a blank marketplace.

Speed: the file is read as bytes, split on tabs (Amazon's flat files are not quoted), amounts
become integer cents (each distinct text is parsed once), and rows are summed into a dict keyed
by what a document needs (day, transaction type, amount type, description, marketplace, and SKU
when asked). Memory stays flat however long the file is; only the distinct keys are kept.

Anything wrong refuses the whole file with ``SettlementFileError`` naming the line and the
problem: a file is posted completely or not at all. The rows must add up to ``total-amount``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

V2 = "v2"
FLAT = "flat"
REPORT_TYPES = {
    V2: "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    FLAT: "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
}

SUMMARY_COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
)
V2_REQUIRED: tuple[str, ...] = (
    *SUMMARY_COLUMNS,
    "transaction-type",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "posted-date",
)
FLAT_REQUIRED: tuple[str, ...] = (
    *SUMMARY_COLUMNS,
    "transaction-type",
    "marketplace-name",
    "posted-date",
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "other-amount",
)
# Older layout: (amount column, type column or None, the V2 amount-type it stands for).
# ``None`` as amount-type: the row's transaction-type names the amount type (other fees).
FLAT_AMOUNTS: tuple[tuple[str, str | None, str | None], ...] = (
    ("price-amount", "price-type", "ItemPrice"),
    ("item-related-fee-amount", "item-related-fee-type", "ItemFees"),
    ("promotion-amount", "promotion-type", "Promotion"),
    ("shipment-fee-amount", "shipment-fee-type", "ItemFees"),
    ("order-fee-amount", "order-fee-type", "ItemFees"),
    ("direct-payment-amount", "direct-payment-type", "DirectPayment"),
    ("misc-fee-amount", None, "MiscFee"),
    ("other-fee-amount", "other-fee-reason-description", None),
    ("other-amount", None, "other-transaction"),
)
_WITHHELD = re.compile(rb"^(marketplacefacilitator|tcs|tds)", re.IGNORECASE)

MAX_ERROR_VALUE = 40


class SettlementFileError(ValueError):
    """The file cannot be used; ``line`` is 1-based (0 for the whole file)."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"Line {line}: {problem}" if line else problem)


@dataclass(frozen=True)
class Summary:
    settlement_id: str
    start: datetime
    end: datetime
    deposit_date: datetime | None
    total_cents: int
    currency: str

    @property
    def total_amount(self) -> Decimal:
        return cents_decimal(self.total_cents)


# (posted day "YYYY-MM-DD", transaction type, amount type, description, marketplace, SKU)
AmountKey = tuple[str, str, str, str, str, str]


@dataclass
class ParsedSettlement:
    """One settlement file, summed: what documents and checks need, without its rows."""

    summary: Summary
    layout: str
    rows: int = 0
    # key -> [cents, rows]
    amounts: dict[AmountKey, list[int]] = field(default_factory=dict)

    @property
    def settlement_id(self) -> str:
        return self.summary.settlement_id

    @property
    def currency(self) -> str:
        return self.summary.currency

    @property
    def report_type(self) -> str:
        return REPORT_TYPES[self.layout]

    def marketplaces(self) -> dict[str, int]:
        """Rows per marketplace name (blank for account-level rows)."""
        counts: dict[str, int] = {}
        for key, (_, rows) in self.amounts.items():
            counts[key[4]] = counts.get(key[4], 0) + rows
        return counts

    def primary_marketplace(self) -> str:
        named = {k: v for k, v in self.marketplaces().items() if k}
        if not named:
            return ""
        return max(sorted(named), key=lambda name: named[name])


@dataclass(frozen=True)
class Row:
    """One amount of the file, for the audit CSV (slow path: it keeps every field)."""

    line: int
    posted_date: str
    transaction_type: str
    order_id: str
    adjustment_id: str
    marketplace_name: str
    amount_type: str
    amount_description: str
    sku: str
    amount: Decimal


def cents_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------- values

_NUMBER = re.compile(
    r"""^(?P<sign>[-+]?)\s*(?:
        (?P<plain>\d+)(?:(?P<psep>[.,])(?P<pfrac>\d{1,2}))? |
        (?P<dots>\d{1,3}(?:\.\d{3})+),(?P<dfrac>\d{1,2}) |
        (?P<commas>\d{1,3}(?:,\d{3})+)\.(?P<cfrac>\d{1,2})
    )$""",
    re.VERBOSE,
)


def amount_cents(text: str) -> int:
    """``-32.40``, ``-32,40``, ``1.141,18``, ``1,141.18`` → integer cents; anything else raises."""
    match = _NUMBER.match(text.strip())
    if match is None:
        raise ValueError(text)
    if match["plain"] is not None:
        whole, frac = match["plain"], match["pfrac"] or ""
    elif match["dots"] is not None:
        whole, frac = match["dots"].replace(".", ""), match["dfrac"]
    else:
        whole, frac = match["commas"].replace(",", ""), match["cfrac"]
    cents = int(whole) * 100 + int((frac + "00")[:2])
    return -cents if match["sign"] == "-" else cents


_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M",
)


def parse_datetime(text: str) -> datetime:
    """A settlement file's timestamp in any of the marketplace formats, as UTC."""
    value = text.strip()
    if value.upper().endswith("UTC"):
        value = value[:-3].strip()
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(text) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_day(text: str) -> str:
    """The date part of a posted-date, as ``YYYY-MM-DD``."""
    value = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value[:10], fmt).replace(tzinfo=UTC).date().isoformat()
        except ValueError:
            pass
    try:
        return parse_datetime(value).date().isoformat()
    except ValueError:
        raise ValueError(text) from None


def decode(raw: bytes) -> str:
    """Settlement files carry no charset (docs #2338): UTF-8, else Windows-1252."""
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace").strip()


def _show(raw: bytes | str) -> str:
    text = decode(raw) if isinstance(raw, bytes) else raw
    return text if len(text) <= MAX_ERROR_VALUE else text[:MAX_ERROR_VALUE] + "…"


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Header:
    layout: str
    columns: tuple[str, ...]
    index: dict[str, int]

    @property
    def width(self) -> int:
        return len(self.columns)


def _header(line: bytes) -> Header:
    if line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    columns = tuple(decode(c).lower() for c in line.rstrip(b"\r\n").split(b"\t"))
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            raise SettlementFileError(1, f"the header names column '{name}' twice.")
        seen.add(name)
    index = {name: i for i, name in enumerate(columns) if name}
    if "amount-type" in index or "amount" in index:
        layout, required = V2, V2_REQUIRED
    elif "price-amount" in index or "other-amount" in index:
        layout, required = FLAT, FLAT_REQUIRED
    else:
        raise SettlementFileError(
            1,
            "this is not an Amazon settlement report: its header has neither the V2 columns "
            "(amount-type, amount) nor the older flat-file columns (price-amount, other-amount). "
            "Download the settlement's flat file (V2) from Seller Central → Reports → Payments.",
        )
    missing = [name for name in required if name not in index]
    if missing:
        raise SettlementFileError(
            1, f"the header lacks the column(s) {', '.join(missing)} of a settlement report."
        )
    return Header(layout, columns, index)


def _first_lines(stream: Iterable[bytes]) -> tuple[Header, Summary, Iterator[bytes]]:
    """Header and summary row; the iterator continues at line 3."""
    lines = iter(stream)
    first = next(lines, b"")
    if not first.strip():
        raise SettlementFileError(
            0, "The file is empty: it has no header and no rows. Choose the settlement's file."
        )
    header = _header(first)
    second = next(lines, None)
    if second is None or not second.strip():
        raise SettlementFileError(
            2, "the summary row is missing: the file has a header but no settlement in it."
        )
    return header, _summary(header, second), lines


def _cell(cells: list[bytes], header: Header, name: str) -> str:
    i = header.index.get(name)
    return decode(cells[i]) if i is not None and i < len(cells) else ""


def _summary(header: Header, line: bytes) -> Summary:
    cells = line.rstrip(b"\r\n").split(b"\t")
    if len(cells) != header.width:
        raise SettlementFileError(
            2, f"the summary row has {len(cells)} columns where the header has {header.width}."
        )
    sid = _cell(cells, header, "settlement-id")
    if not sid:
        raise SettlementFileError(2, "the summary row has no settlement-id.")
    dates: dict[str, datetime | None] = {}
    for name in ("settlement-start-date", "settlement-end-date", "deposit-date"):
        text = _cell(cells, header, name)
        if not text:
            if name == "deposit-date":
                dates[name] = None
                continue
            raise SettlementFileError(2, f"the summary row has no {name}.")
        try:
            dates[name] = parse_datetime(text)
        except ValueError:
            raise SettlementFileError(2, f"{name} '{_show(text)}' is not a date.") from None
    total = _cell(cells, header, "total-amount")
    if not total:
        raise SettlementFileError(2, "the summary row has no total-amount.")
    try:
        total_cents = amount_cents(total)
    except ValueError:
        raise SettlementFileError(2, f"total-amount '{_show(total)}' is not a number.") from None
    currency = _cell(cells, header, "currency").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise SettlementFileError(
            2, f"the summary row's currency '{_show(currency)}' is not a currency code."
        )
    start, end = dates["settlement-start-date"], dates["settlement-end-date"]
    assert start is not None and end is not None
    if end < start:
        raise SettlementFileError(2, "the settlement ends before it starts.")
    return Summary(sid, start, end, dates["deposit-date"], total_cents, currency)


# --------------------------------------------------------------------------- parsing


def _check_total(summary: Summary, cents: int, line: int) -> None:
    if cents != summary.total_cents:
        raise SettlementFileError(
            line,
            f"the rows add up to {cents_decimal(cents)} {summary.currency} but the summary's "
            f"total-amount is {summary.total_amount} {summary.currency}: the file is incomplete "
            "or altered. Download it again from Seller Central; nothing from it was posted.",
        )


def settlement_parse(stream: Iterable[bytes], *, by_sku: bool = False) -> ParsedSettlement:
    """Read a settlement file (bytes, already decompressed) and sum its rows.

    Raises ``SettlementFileError`` for anything wrong, with the line and the problem.
    """
    header, summary, lines = _first_lines(stream)
    parsed = ParsedSettlement(summary=summary, layout=header.layout)
    if header.layout == V2:
        raw, rows, last = _sum_v2(header, summary, lines, by_sku=by_sku)
    else:
        raw, rows, last = _sum_flat(header, summary, lines, by_sku=by_sku)
    if rows == 0:
        raise SettlementFileError(
            3, "the settlement has a summary but no rows; nothing can be posted from it."
        )
    total = 0
    amounts = parsed.amounts
    for key, (cents, count) in raw.items():
        total += cents
        clean: AmountKey = (
            _DAYS.get(key[0]) or parse_day(decode(key[0])),
            decode(key[1]),
            decode(key[2]),
            decode(key[3]),
            decode(key[4]),
            decode(key[5]),
        )
        slot = amounts.get(clean)
        if slot is None:
            amounts[clean] = [cents, count]
        else:
            slot[0] += cents
            slot[1] += count
    _check_total(summary, total, last)
    parsed.rows = rows
    return parsed


_DAYS: dict[bytes, str] = {}


def _new_key(key: tuple[bytes, ...], line: int) -> None:
    """A key met for the first time: check what the fast path takes on trust."""
    raw_day = key[0]
    if raw_day not in _DAYS:
        try:
            day = parse_day(decode(raw_day))
        except ValueError:
            if not raw_day.strip():
                raise SettlementFileError(line, "the row has no posted-date.") from None
            raise SettlementFileError(
                line, f"posted-date '{_show(raw_day)}' is not a date."
            ) from None
        if len(_DAYS) < 100_000:
            _DAYS[raw_day] = day
    if not key[2].strip() and not key[3].strip():
        raise SettlementFileError(
            line, "the row has an amount but neither an amount-type nor a description."
        )


def _row_error(
    header: Header, summary: Summary, cells: list[bytes], line: int
) -> SettlementFileError:
    """What is wrong with a row the fast path refused (slow, only on the way out)."""
    if len(cells) != header.width:
        hint = " (the file looks cut short)" if len(cells) < header.width else ""
        return SettlementFileError(
            line, f"the row has {len(cells)} columns where the header has {header.width}{hint}."
        )
    sid = _cell(cells, header, "settlement-id")
    if sid and sid != summary.settlement_id:
        return SettlementFileError(
            line,
            f"the row belongs to settlement {sid} but the file's summary is settlement "
            f"{summary.settlement_id}: one file holds one settlement.",
        )
    currency = _cell(cells, header, "currency").upper()
    if currency and currency != summary.currency:
        return SettlementFileError(
            line,
            f"the row is in {currency} but the settlement is in {summary.currency}: a "
            "settlement has one currency. This file mixes currencies and cannot be posted.",
        )
    return SettlementFileError(line, "the row cannot be read.")


def _amount(cache: dict[bytes, int], raw: bytes, line: int, column: str) -> int:
    try:
        value = amount_cents(raw.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise SettlementFileError(
            line, f"{column} '{_show(raw)}' is not an amount (expected e.g. -32.40 or -32,40)."
        ) from None
    if len(cache) < 500_000:
        cache[raw] = value
    return value


def _sum_v2(
    header: Header, summary: Summary, lines: Iterable[bytes], *, by_sku: bool
) -> tuple[dict[tuple[bytes, ...], list[int]], int, int]:
    ix = header.index
    width = header.width
    i_sid, i_cur = ix["settlement-id"], ix["currency"]
    i_amt, i_day = ix["amount"], ix["posted-date"]
    i_tt, i_at, i_ad, i_mk = (
        ix["transaction-type"],
        ix["amount-type"],
        ix["amount-description"],
        ix["marketplace-name"],
    )
    i_sku = ix.get("sku") if by_sku else None
    sid = summary.settlement_id.encode()
    cur = summary.currency.encode()
    ok_sid = {b"", sid}
    ok_cur = {b"", cur, cur.lower()}
    cache: dict[bytes, int] = {}
    sums: dict[tuple[bytes, ...], list[int]] = {}
    get = sums.get
    rows = 0
    line = 2
    empty = b""
    for raw_line in lines:
        line += 1
        cells = raw_line.rstrip(b"\r\n").split(b"\t")
        if len(cells) != width or cells[i_sid] not in ok_sid or cells[i_cur] not in ok_cur:
            if not raw_line.strip():
                continue
            cells = [c.strip() for c in cells]
            if len(cells) != width or cells[i_sid] not in ok_sid or cells[i_cur] not in ok_cur:
                raise _row_error(header, summary, cells, line)
        amount = cells[i_amt]
        cents = cache.get(amount)
        if cents is None:
            if not amount.strip():
                raise SettlementFileError(line, "the row has no amount.")
            cents = _amount(cache, amount, line, "amount")
        key = (
            cells[i_day][:10],
            cells[i_tt],
            cells[i_at],
            cells[i_ad],
            cells[i_mk],
            cells[i_sku] if i_sku is not None else empty,
        )
        slot = get(key)
        if slot is None:
            _new_key(key, line)
            sums[key] = [cents, 1]
        else:
            slot[0] += cents
            slot[1] += 1
        rows += 1
    return sums, rows, line


def _flat_columns(header: Header) -> list[tuple[int, int | None, str | None]]:
    ix = header.index
    return [
        (ix[amount], ix.get(kind) if kind else None, amount_type)
        for amount, kind, amount_type in FLAT_AMOUNTS
        if amount in ix
    ]


def _flat_amounts(
    header: Header, cells: list[bytes], pairs: list[tuple[int, int | None, str | None]]
) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
    """(transaction type, amount type, description, amount) for each amount in one row.

    Account-level rows of the older layout name their kind in transaction-type: the "other
    amount" rows are other-transaction rows described by it, the "other fee" rows carry the
    amount type there and the description in other-fee-reason-description.
    """
    ttype = cells[header.index["transaction-type"]]
    for i_amount, i_type, amount_type in pairs:
        amount = cells[i_amount]
        if not amount.strip():
            continue
        kind = cells[i_type] if i_type is not None else b""
        if amount_type is None:
            yield b"other-transaction", ttype, kind, amount
        elif amount_type == "other-transaction":
            yield b"other-transaction", b"other-transaction", ttype, amount
        elif amount_type == "ItemFees" and _WITHHELD.match(kind.strip()):
            yield ttype, b"ItemWithheldTax", kind, amount
        elif amount_type == "MiscFee":
            yield ttype, b"MiscFee", ttype, amount
        else:
            yield ttype, amount_type.encode(), kind, amount


def _sum_flat(
    header: Header, summary: Summary, lines: Iterable[bytes], *, by_sku: bool
) -> tuple[dict[tuple[bytes, ...], list[int]], int, int]:
    ix = header.index
    width = header.width
    pairs = _flat_columns(header)
    i_sid, i_cur, i_day, i_mk = (
        ix["settlement-id"],
        ix["currency"],
        ix["posted-date"],
        ix["marketplace-name"],
    )
    i_sku = ix.get("sku") if by_sku else None
    sid = summary.settlement_id.encode()
    cur = summary.currency.encode()
    cache: dict[bytes, int] = {}
    sums: dict[tuple[bytes, ...], list[int]] = {}
    rows = 0
    line = 2
    for raw_line in lines:
        line += 1
        if not raw_line.strip():
            continue
        cells = [c.strip() for c in raw_line.rstrip(b"\r\n").split(b"\t")]
        if (
            len(cells) != width
            or cells[i_sid] not in (b"", sid)
            or cells[i_cur].upper() not in (b"", cur)
        ):
            raise _row_error(header, summary, cells, line)
        if not cells[i_day]:
            raise SettlementFileError(line, "the row has no posted-date.")
        found = False
        for ttype, atype, desc, amount in _flat_amounts(header, cells, pairs):
            found = True
            cents = cache.get(amount)
            if cents is None:
                cents = _amount(cache, amount, line, "amount")
            key = (
                cells[i_day][:10],
                ttype,
                atype,
                desc,
                cells[i_mk],
                cells[i_sku] if i_sku is not None else b"",
            )
            slot = sums.get(key)
            if slot is None:
                _new_key(key, line)
                sums[key] = [cents, 1]
            else:
                slot[0] += cents
                slot[1] += 1
            rows += 1
        if not found:
            raise SettlementFileError(line, "the row has no amount in any amount column.")
    return sums, rows, line


def settlement_summary(stream: Iterable[bytes]) -> Summary:
    """Only the header and summary row (to identify a file before reading it all)."""
    _, summary, _ = _first_lines(stream)
    return summary


def settlement_rows(stream: Iterable[bytes]) -> Iterator[Row]:
    """Every amount of a file that ``settlement_parse`` accepted, in file order (audit CSV)."""
    header, summary, lines = _first_lines(stream)
    ix = header.index
    pairs = _flat_columns(header) if header.layout == FLAT else []
    line = 2
    for raw_line in lines:
        line += 1
        if not raw_line.strip():
            continue
        cells = raw_line.rstrip(b"\r\n").split(b"\t")
        if len(cells) != header.width:
            raise _row_error(header, summary, cells, line)

        def text(name: str, cells: list[bytes] = cells) -> str:
            i = ix.get(name)
            return decode(cells[i]) if i is not None else ""

        day = parse_day(text("posted-date"))
        if header.layout == V2:
            found: Iterable[tuple[bytes, bytes, bytes, bytes]] = [
                (
                    cells[ix["transaction-type"]],
                    cells[ix["amount-type"]],
                    cells[ix["amount-description"]],
                    cells[ix["amount"]],
                )
            ]
        else:
            found = _flat_amounts(header, [c.strip() for c in cells], pairs)
        for ttype, atype, desc, amount in found:
            yield Row(
                line=line,
                posted_date=day,
                transaction_type=decode(ttype),
                order_id=text("order-id"),
                adjustment_id=text("adjustment-id"),
                marketplace_name=text("marketplace-name"),
                amount_type=decode(atype),
                amount_description=decode(desc),
                sku=text("sku"),
                amount=cents_decimal(amount_cents(amount.decode("ascii"))),
            )


def day_of(value: datetime) -> date:
    return value.astimezone(UTC).date()

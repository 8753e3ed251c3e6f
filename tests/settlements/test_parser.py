"""The settlement file parser: both layouts, marketplace formats, and every way a file is bad."""

from __future__ import annotations

import gzip
import io
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mappings.categories_seller import settlement_category
from settlements.parser import (
    FLAT,
    V2,
    SettlementFileError,
    amount_cents,
    parse_datetime,
    settlement_parse,
    settlement_rows,
)
from tests.settlements.support import DE, UK, US, dataset, render, settlements_of, when


def _parse(data: bytes, **kwargs: object) -> object:
    return settlement_parse(io.BytesIO(data), **kwargs)  # type: ignore[arg-type]


def _by_category(parsed) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for (_, ttype, atype, desc, _, _), (cents, _) in parsed.amounts.items():
        key = settlement_category(ttype, atype, desc).key
        sums[key] = sums.get(key, Decimal("0.00")) + Decimal(cents) / 100
    return sums


@pytest.mark.parametrize("marketplace", [UK, DE, US])
def test_every_generated_settlement_reads_the_same_in_both_layouts(marketplace: str) -> None:
    for settlement in settlements_of(marketplace):
        v2 = _parse(render(settlement, "v2"))
        flat = _parse(render(settlement, "flat"))
        assert (v2.layout, flat.layout) == (V2, FLAT)
        for parsed in (v2, flat):
            assert parsed.settlement_id == settlement.settlement_id
            assert parsed.currency == settlement.currency
            assert parsed.summary.total_amount == settlement.total_amount
            assert parsed.rows == len(settlement.rows)
            assert parsed.summary.deposit_date == settlement.deposit_date
            assert parsed.summary.start == settlement.start.replace(microsecond=0)
        assert _by_category(v2) == _by_category(flat)


def test_german_files_use_comma_decimals_and_day_first_dates() -> None:
    settlement = settlements_of(DE)[2]
    text = render(settlement).decode()
    header, summary = text.splitlines()[:2]
    assert "." in summary.split("\t")[1] and "," in summary.split("\t")[4]
    assert len(header.split("\t")) == 23  # the 2018 DE file has no promotion-id column
    parsed = _parse(text.encode())
    assert parsed.summary.end == settlement.end.replace(microsecond=0)
    assert parsed.summary.total_amount == settlement.total_amount
    assert parsed.primary_marketplace() == "Amazon.de"


def test_us_files_use_iso_dates_with_an_offset() -> None:
    settlement = settlements_of(US)[1]
    summary = render(settlement).decode().splitlines()[1].split("\t")
    assert summary[1].endswith("+00:00")
    parsed = _parse(render(settlement))
    assert parsed.summary.start == settlement.start.replace(microsecond=0)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("-32.40", -3240),
        ("-32,40", -3240),
        ("179,99", 17999),
        ("1141,18", 114118),
        ("1.141,18", 114118),
        ("1,141.18", 114118),
        ("0.5", 50),
        ("12", 1200),
        (" 7.05 ", 705),
        ("+3.10", 310),
    ],
)
def test_amounts_in_every_marketplace_format(text: str, cents: int) -> None:
    assert amount_cents(text) == cents


@pytest.mark.parametrize("text", ["abc", "12.345", "1.2.3", "1,2,3", "", "--1.00", "1_000.00"])
def test_what_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        amount_cents(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-06-16 00:00:00 UTC",
        "16.06.2026 00:00:00 UTC",
        "2026-06-16T00:00:00+00:00",
        "2026-06-16T02:00:00+02:00",
        "2026-06-16T00:00:00Z",
    ],
)
def test_dates_in_every_marketplace_format(text: str) -> None:
    assert parse_datetime(text) == datetime(2026, 6, 16, tzinfo=UTC)


def test_trailing_spaces_crlf_and_a_byte_order_mark_do_not_matter() -> None:
    settlement = settlements_of(UK)[1]
    data = render(settlement)
    assert b"Current Reserve Amount \t" in data  # real files carry the space
    messy = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    parsed = _parse(messy)
    assert parsed.summary.total_amount == settlement.total_amount
    keys = {settlement_category(k[1], k[2], k[3]).key for k in parsed.amounts}
    assert "seller:reserve:held" in keys


def test_account_level_rows_have_a_blank_marketplace() -> None:
    parsed = _parse(render(settlements_of(UK)[0]))
    markets = parsed.marketplaces()
    assert set(markets) == {"", "Amazon.co.uk"}
    assert markets[""] < markets["Amazon.co.uk"]


def test_sku_totals_when_grouping_by_sku() -> None:
    settlement = settlements_of(UK)[0]
    parsed = _parse(render(settlement), by_sku=True)
    skus = {k[5] for k in parsed.amounts}
    assert {r.sku for r in settlement.rows} == skus
    assert sum(c for c, _ in parsed.amounts.values()) == parsed.summary.total_cents


def test_rows_for_the_audit_file_are_every_amount_in_file_order() -> None:
    settlement = settlements_of(US)[0]
    for layout in ("v2", "flat"):
        rows = list(settlement_rows(io.BytesIO(render(settlement, layout))))
        assert len(rows) == len(settlement.rows)
        assert [r.amount for r in rows] == [r.amount for r in settlement.rows]
        assert rows[0].line == 3


# --------------------------------------------------------------------------- bad files


def _error(data: bytes) -> SettlementFileError:
    with pytest.raises(SettlementFileError) as caught:
        _parse(data)
    return caught.value


def test_an_empty_file_is_refused() -> None:
    assert "empty" in str(_error(b""))
    assert "empty" in str(_error(b"\n\n"))


def test_a_header_without_rows_is_refused() -> None:
    header = render(settlements_of(UK)[0]).split(b"\n")[0] + b"\n"
    error = _error(header)
    assert error.line == 2 and "summary row is missing" in str(error)


def test_a_summary_without_rows_is_refused() -> None:
    lines = render(settlements_of(UK)[0]).split(b"\n")
    error = _error(b"\n".join(lines[:2]) + b"\n")
    assert error.line == 3 and "no rows" in str(error)


def test_a_file_cut_mid_row_names_the_line() -> None:
    data = render(settlements_of(UK)[0])
    cut = data[: len(data) // 2]
    last_line = cut.count(b"\n") + 1
    error = _error(cut)
    assert error.line == last_line
    assert "columns where the header has 24" in str(error) and "cut short" in str(error)


def test_a_file_cut_between_rows_fails_the_total_check() -> None:
    settlement = settlements_of(UK)[0]
    lines = render(settlement).split(b"\n")
    error = _error(b"\n".join(lines[:-20]) + b"\n")
    assert "add up to" in str(error) and f"total-amount is {settlement.total_amount}" in str(error)
    assert "nothing from it was posted" in str(error)


def test_wrong_columns_are_refused_with_what_is_missing() -> None:
    data = render(settlements_of(UK)[0]).replace(b"amount-description", b"description", 1)
    error = _error(data)
    assert error.line == 1 and "amount-description" in str(error)
    other = b"order-id\tsku\tquantity\n123\tA\t1\n"
    assert "not an Amazon settlement report" in str(_error(other))


def test_a_bad_number_names_its_line_and_value() -> None:
    lines = render(settlements_of(UK)[0]).split(b"\n")
    cells = lines[7].split(b"\t")
    cells[14] = b"12,3x"
    lines[7] = b"\t".join(cells)
    error = _error(b"\n".join(lines))
    assert error.line == 8 and "amount '12,3x' is not an amount" in str(error)


def test_mixed_currencies_are_refused() -> None:
    lines = render(settlements_of(UK)[0]).split(b"\n")
    cells = lines[5].split(b"\t")
    cells[5] = b"EUR"
    lines[5] = b"\t".join(cells)
    error = _error(b"\n".join(lines))
    assert error.line == 6
    assert "in EUR but the settlement is in GBP" in str(error)


def test_a_row_of_another_settlement_is_refused() -> None:
    lines = render(settlements_of(UK)[0]).split(b"\n")
    cells = lines[4].split(b"\t")
    cells[0] = b"99999999999"
    lines[4] = b"\t".join(cells)
    error = _error(b"\n".join(lines))
    assert error.line == 5 and "belongs to settlement 99999999999" in str(error)


def test_a_bad_date_and_a_bad_summary_are_refused() -> None:
    lines = render(settlements_of(UK)[0]).split(b"\n")
    cells = lines[6].split(b"\t")
    cells[16] = b"yesterday"
    bad_day = b"\n".join([*lines[:6], b"\t".join(cells), *lines[7:]])
    error = _error(bad_day)
    assert error.line == 7 and "posted-date 'yesterday' is not a date" in str(error)
    summary = lines[1].split(b"\t")
    summary[4] = b"lots"
    error = _error(b"\n".join([lines[0], b"\t".join(summary), *lines[2:]]))
    assert error.line == 2 and "total-amount 'lots'" in str(error)
    summary = lines[1].split(b"\t")
    summary[5] = b""
    error = _error(b"\n".join([lines[0], b"\t".join(summary), *lines[2:]]))
    assert error.line == 2 and "currency" in str(error)


def test_parsing_holds_constant_memory() -> None:
    """A big file (every generated UK row, repeated) is read in a few MB, not its size."""
    settlement = settlements_of(UK)[0]
    lines = render(settlement).split(b"\n")
    body = [line for line in lines[2:] if line]
    repeat = 200_000 // len(body) + 1
    rows = (body * repeat)[:200_000]
    total = sum(amount_cents(r.split(b"\t")[14].decode()) for r in rows)
    summary = lines[1].split(b"\t")
    summary[4] = f"{Decimal(total) / 100:.2f}".encode()
    data = b"\n".join([lines[0], b"\t".join(summary), *rows]) + b"\n"
    packed = gzip.compress(data)
    tracemalloc.start()
    parsed = settlement_parse(gzip.GzipFile(fileobj=io.BytesIO(packed)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert parsed.rows == 200_000
    assert len(data) > 30_000_000
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB while reading {len(data) / 1e6:.0f} MB"


def test_dataset_has_every_shape_the_posting_tests_need() -> None:
    """Guards the fixtures: negative settlements, reserves, unknown fees, month ends."""
    every = dataset().settlements
    assert any(s.total_amount < 0 for s in every)
    assert any(
        "Previous Reserve Amount Balance" in {r.amount_description for r in s.rows} for s in every
    )
    assert any("NewFeeType2026" in {r.amount_description for r in s.rows} for s in every)
    assert any(s.start.month != s.end.month for s in every)
    assert when(1).tzinfo is UTC

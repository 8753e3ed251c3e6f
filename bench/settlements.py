"""Settlements (issue 7): parse speed and memory against pandas, and Xero calls per settlement.

1. A 1,000,000-row V2 settlement file (rows from the sandbox generator's UK settlements, one
   settlement-id, the summary's total-amount the sum of the rows) is parsed and summed by the
   hub's streaming parser, and by a plain pandas ``read_csv`` + ``groupby`` over the same
   columns, each in its own process pinned to one core. Reported: rows per second, peak
   resident memory of the process (``ru_maxrss``: the interpreter included), and the ratio.
   Targets: ≥ 300,000 rows/s and < 150 MB for the hub's parser.
2. Generated settlements of three marketplaces (GBP, EUR, USD; invoices, bills, month-end
   splits) are uploaded, built, pushed and given their audit CSVs against the sandbox's Xero
   under gunicorn; every Xero call the HTTP seam logs is counted (chart reads, the push's own
   checks, documents, payments, attachments). Target: ≤ 3 per settlement.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.harness import LOGS, ROOT, free_port, sandbox_server
from bench.table import Row

ROWS = int(os.environ.get("BENCH_SETTLEMENT_ROWS", "1000000"))
TARGET_ROWS_PER_SECOND = 300_000
TARGET_PEAK_MB = 150
SETTLEMENT_ID = "19990000000"


def make_file(path: Path, rows: int) -> int:
    """Write a V2 settlement file of ``rows`` detail rows; returns its size in bytes."""
    from sandbox.datagen.reports import render_settlement_v2
    from sandbox.datagen.seller import SellerSpec, generate_seller
    from settlements.parser import amount_cents

    spec = SellerSpec(
        seed=11, start=date(2026, 1, 5), days=56, orders=3000, marketplaces=("A1F83G8C2ARO7P",)
    )
    settlements = generate_seller(spec).settlements
    rendered = [render_settlement_v2(s).splitlines() for s in settlements]
    header = rendered[0][0]
    body = [SETTLEMENT_ID + line[line.index("\t") :] for lines in rendered for line in lines[2:]]
    amount_at = header.split("\t").index("amount")
    cents = [amount_cents(line.split("\t")[amount_at]) for line in body]
    total = sum(cents[i % len(body)] for i in range(rows))
    summary = rendered[0][1].split("\t")
    summary[0] = SETTLEMENT_ID
    summary[4] = f"{'-' if total < 0 else ''}{abs(total) // 100}.{abs(total) % 100:02d}"
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n" + "\t".join(summary) + "\n")
        for start in range(0, rows, 50_000):
            chunk = [body[i % len(body)] for i in range(start, min(rows, start + 50_000))]
            out.write("\n".join(chunk) + "\n")
    return path.stat().st_size


# --------------------------------------------------------------------------- the two readers


def measure_hub(path: str) -> dict[str, Any]:
    from settlements.parser import settlement_parse

    started = time.perf_counter()
    with open(path, "rb") as stream:
        parsed = settlement_parse(stream)
    elapsed = time.perf_counter() - started
    return {"rows": parsed.rows, "seconds": elapsed, "groups": len(parsed.amounts)}


def measure_pandas(path: str) -> dict[str, Any]:
    import pandas as pd

    keys = [
        "posted-date",
        "transaction-type",
        "amount-type",
        "amount-description",
        "marketplace-name",
    ]
    started = time.perf_counter()
    frame = pd.read_csv(
        path, sep="\t", usecols=[*keys, "amount"], dtype=str, keep_default_na=False
    ).iloc[1:]  # the summary row
    frame["amount"] = pd.to_numeric(frame["amount"])
    frame["posted-date"] = frame["posted-date"].str[:10]
    groups = frame.groupby(keys, sort=False)["amount"].sum()
    elapsed = time.perf_counter() - started
    return {"rows": len(frame), "seconds": elapsed, "groups": len(groups)}


def _child(kind: str, path: str) -> None:
    """Run one reader pinned to one core and print its figures as JSON."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    figures = measure_hub(path) if kind == "hub" else measure_pandas(path)
    figures["peak_mb"] = _peak_mb()
    print(json.dumps(figures))


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: ru_maxrss survives exec and
    so would count the (large) parent that forked this process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_child(kind: str, path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.settlements", kind, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def parse_rows() -> list[Row]:
    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / f"settlement-{ROWS}.tsv"
    size = make_file(path, ROWS)
    hub = _run_child("hub", path)
    baseline = _run_child("pandas", path)
    path.unlink()
    hub_rate = hub["rows"] / hub["seconds"]
    pandas_rate = baseline["rows"] / baseline["seconds"]
    assert hub["rows"] == baseline["rows"] == ROWS
    return [
        Row("settlements", "file", f"{ROWS:,} rows, {size / 1e6:.0f} MB, V2 layout"),
        Row(
            "settlements",
            "hub parser: rows/s (one core)",
            f"{hub_rate:,.0f}",
            f"≥ {TARGET_ROWS_PER_SECOND:,}",
            hub_rate >= TARGET_ROWS_PER_SECOND,
        ),
        Row(
            "settlements",
            "hub parser: peak memory (MB, process peak RSS)",
            f"{hub['peak_mb']:.0f}",
            f"< {TARGET_PEAK_MB}",
            hub["peak_mb"] < TARGET_PEAK_MB,
        ),
        Row("settlements", "pandas read_csv+groupby: rows/s (one core)", f"{pandas_rate:,.0f}"),
        Row(
            "settlements", "pandas read_csv+groupby: peak memory (MB)", f"{baseline['peak_mb']:.0f}"
        ),
        Row("settlements", "hub / pandas speed", f"{hub_rate / pandas_rate:.2f}x"),
        Row("settlements", "hub / pandas memory", f"{hub['peak_mb'] / baseline['peak_mb']:.2f}x"),
    ]


# --------------------------------------------------------------------------- Xero calls


class _Calls(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ops: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("provider=xero "):
            self.ops.append(message.split(" op=")[1].split(" ")[0])


def xero_calls_rows() -> list[Row]:
    from django.test import override_settings

    from bench.harness import prepare_environment, site_env

    prepare_environment()
    from collections import Counter

    from sandbox.state import sandbox_configure

    port = free_port()
    env = site_env(port)
    sandbox = env["SANDBOX_URL"]
    overrides = {
        "SITE_URL": env["SITE_URL"],
        "SANDBOX_URL": sandbox,
        "XERO_LOGIN_URL": env["XERO_LOGIN_URL"],
        "XERO_IDENTITY_URL": env["XERO_IDENTITY_URL"],
        "XERO_API_URL": env["XERO_API_URL"],
        "RATE_LIMIT_TIME_SCALE": 60,
    }
    handler = _Calls()
    with sandbox_server(port), override_settings(**overrides):
        sandbox_configure(time_scale=60)
        from sandbox.datagen.seller import SellerSpec, generate_seller
        from settlements import services
        from settlements.models import Settlement
        from tests.settlements.flow import post_everything, seller_link, upload
        from tests.settlements.support import DE, UK, US

        link = seller_link(sandbox, marketplaces=(UK, DE, US))
        services.settlement_options_save(
            link=link, sync_enabled=False, split_month_end=True, group_by_sku=False
        )
        spec = SellerSpec(seed=9, start=date(2026, 1, 5), days=180, orders=2400)
        chosen = generate_seller(spec).settlements
        for settlement in chosen:
            upload(link, settlement)
        seam = logging.getLogger("connectors.http")
        level = seam.level
        seam.setLevel(logging.INFO)  # the seam logs each call at INFO, whatever LOG_LEVEL says
        seam.addHandler(handler)
        try:
            post_everything(link)
        finally:
            seam.removeHandler(handler)
            seam.setLevel(level)
        count = Settlement.objects.filter(link=link).count()
        documents = sum(1 for s in Settlement.objects.filter(link=link) for _ in s.documents.all())
    assert handler.ops, "no Xero call was seen at the seam: the count would be meaningless"
    per = len(handler.ops) / count
    by_op = ", ".join(f"{op} {n}" for op, n in Counter(handler.ops).most_common())
    return [
        Row("settlements", "settlements posted (documents)", f"{count} ({documents})"),
        Row(
            "settlements",
            "Xero calls per settlement (seam log)",
            f"{per:.2f}",
            "≤ 3",
            per <= 3,
        ),
        Row("settlements", "Xero calls by operation", by_op),
    ]


def run() -> list[Row]:
    return parse_rows() + xero_calls_rows()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("hub", "pandas"):
        _child(sys.argv[1], sys.argv[2])
    else:
        from bench.table import render

        print(render(run()))

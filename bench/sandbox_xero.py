"""How fast the sandbox's Xero takes a batch write: the floor under the engine benchmark.

Every PUT goes through the whole Accounting API stack in-process (Django test client, no
socket): bearer token, tenant check, the three limit windows and the in-flight slot, faults,
the Idempotency-Key bookkeeping, the batch itself and its rendering, on PostgreSQL. Each batch
is 50 simple documents, the size the hub sends (``summarizeErrors=false&unitdp=4``).

The engine drains thousands of such batches for 50 tenants on a 2-core machine; a sandbox that
takes longer than 60 ms to create 50 documents would be what the engine benchmark measures.
Figures are the median of ``BENCH_SANDBOX_BATCHES`` batches (default 15) after one warm-up.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench.table import Row

BATCH = 50
TARGET_MS = 60.0


def _invoice(n: int, run: str) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "Contact": {"Name": "Amazon.co.uk"},
        "Date": "2026-11-01",
        "DueDate": "2026-11-15",
        "InvoiceNumber": f"{run}-{n:06d}",
        "Reference": f"settlement {n}",
        "CurrencyCode": "GBP",
        "LineItems": [
            {
                "Description": "Amazon sales",
                "Quantity": "1",
                "UnitAmount": f"{Decimal(10) + Decimal(n % 97) / 4:.2f}",
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    }


def _credit_note(n: int, run: str) -> dict[str, Any]:
    return {
        "Type": "ACCRECCREDIT",
        "Status": "AUTHORISED",
        "Contact": {"Name": "Amazon.co.uk"},
        "Date": "2026-11-01",
        "CreditNoteNumber": f"{run}-{n:06d}",
        "Reference": f"refund {n}",
        "CurrencyCode": "GBP",
        "LineItems": [
            {
                "Description": "Amazon refund",
                "Quantity": "1",
                "UnitAmount": f"{Decimal(5) + Decimal(n % 13) / 4:.2f}",
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    }


def _bank_transaction(n: int, run: str) -> dict[str, Any]:
    return {
        "Type": "RECEIVE",
        "Contact": {"Name": "Amazon.co.uk"},
        "BankAccount": {"Code": "090"},
        "Date": "2026-11-02",
        "Reference": f"{run} disbursement {n}",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            {
                "Description": "Settlement",
                "Quantity": "1",
                "UnitAmount": f"{Decimal(100) + Decimal(n):.2f}",
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    }


def _contact(n: int, run: str) -> dict[str, Any]:
    return {"Name": f"Bench buyer {run} {n}", "EmailAddress": f"buyer{n}@{run.lower()}.example"}


def run() -> list[Row]:
    from bench.harness import prepare_environment

    prepare_environment()
    from django.db import connection
    from django.test import Client

    from sandbox.state import sandbox_configure
    from sandbox.xero import seed, wire
    from sandbox.xero.testing import connect

    org, _ = seed._seed_org(seed.ORGANISATIONS[0])
    conn = connect(org)
    # A Xero minute lasts 0.6 s: a serial loop of 50-element calls never reaches 60 in one, and
    # the windows roll over now and then, as a busy tenant's do.
    sandbox_configure(time_scale=100, fault_5xx_rate=0, fault_timeout_rate=0, fault_reset_rate=0)
    client = Client(HTTP_HOST="localhost")
    headers = {
        "Authorization": f"Bearer {conn.access_token}",
        "Xero-Tenant-Id": str(org.tenant_id),
        "Accept": "application/json",
    }
    base = "/sandbox/xero/api/api.xro/2.0"
    batches = int(os.environ.get("BENCH_SANDBOX_BATCHES", "15"))

    def put(collection: str, elements: list[dict[str, Any]]) -> tuple[float, int, Any]:
        body = wire.dumps({collection: elements})
        queries: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            response = client.put(
                f"{base}/{collection}?summarizeErrors=false&unitdp=4",
                data=body,
                content_type="application/json",
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content[:500]
        payload = wire.loads(response.content)[collection]
        assert len(payload) == len(elements)
        assert all(not e["HasErrors"] for e in payload), payload[0]
        return elapsed * 1000, len(queries), payload

    def measure(
        collection: str, make: Callable[[int, str], list[dict[str, Any]]]
    ) -> tuple[float, int]:
        put(collection, make(0, "W"))  # warm-up: caches, prepared plans, first contact
        timings, counts = [], []
        for b in range(1, batches + 1):
            ms, count, _ = put(collection, make(b, f"R{b}"))
            timings.append(ms)
            counts.append(count)
        return statistics.median(timings), int(statistics.median(counts))

    def docs(factory: Callable[[int, str], dict[str, Any]], kind: str) -> Callable[..., Any]:
        def make(b: int, run: str) -> list[dict[str, Any]]:
            return [factory(b * BATCH + n, f"{kind}{run}") for n in range(BATCH)]

        return make

    def payments(b: int, run: str) -> list[dict[str, Any]]:
        # Each batch pays 50 fresh invoices (created untimed here) in full.
        _, _, created = put("Invoices", docs(_invoice, f"P{run}")(b, ""))
        return [
            {
                "Invoice": {"InvoiceID": inv["InvoiceID"]},
                "Account": {"Code": "090"},
                "Date": "2026-11-20",
                "Amount": inv["AmountDue"],
                "Reference": f"{run} payout",
            }
            for inv in created
        ]

    results = {
        "Invoices": measure("Invoices", docs(_invoice, "INV")),
        "CreditNotes": measure("CreditNotes", docs(_credit_note, "CN")),
        "BankTransactions": measure("BankTransactions", docs(_bank_transaction, "BT")),
        "Payments": measure("Payments", payments),
        "Contacts": measure("Contacts", docs(_contact, "C")),
    }
    rows: list[Row] = []
    for collection, (ms, queries) in results.items():
        rows.append(
            Row(
                "sandbox xero",
                f"ms per {BATCH}-element PUT /{collection} ({queries} SQL queries)",
                f"{ms:.1f}",
                f"<= {TARGET_MS:.0f}",
                ms <= TARGET_MS,
            )
        )
        if collection == "Invoices":
            per = ms / BATCH
            rows.append(Row("sandbox xero", "ms per invoice", f"{per:.2f}", "<= 1.2", per <= 1.2))
    return rows


if __name__ == "__main__":
    from bench.table import render

    print(render(run()))

"""How long the sandbox takes to generate a large seller: the floor under every other benchmark."""

from __future__ import annotations

import time
import tracemalloc
from datetime import date

from bench.table import Row
from sandbox.datagen.seller import SellerSpec, generate_seller


def run() -> list[Row]:
    spec = SellerSpec(seed=7, start=date(2026, 1, 1), days=90, orders=100_000)
    tracemalloc.start()
    started = time.perf_counter()
    dataset = generate_seller(spec)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows = sum(len(s.rows) for s in dataset.settlements)
    return [
        Row("datagen", "orders generated", f"{len(dataset.orders):,}"),
        Row("datagen", "settlement rows generated", f"{rows:,}"),
        Row("datagen", "seconds for 100,000 orders", f"{elapsed:.2f}"),
        Row("datagen", "peak memory (MB, tracemalloc)", f"{peak / 1e6:.0f}"),
    ]

"""``make bench``: run every benchmark in bench/ and print one table of figures.

Each benchmark module exposes ``run() -> list[Row]``; they are listed in ``BENCHMARKS`` so the
order of the table is stable. Benchmarks run against the sandbox with its time-scaled limits.
"""

from __future__ import annotations

import importlib
import sys

from bench.table import Row, render

BENCHMARKS: list[str] = ["bench.datagen", "bench.sandbox_xero", "bench.engine", "bench.settlements"]


def main() -> int:
    rows: list[Row] = []
    for name in BENCHMARKS:
        module = importlib.import_module(name)
        rows.extend(module.run())
    print(render(rows))
    return 1 if any(row.target_met is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

"""``make bench``: run every benchmark in bench/ and print one table of figures.

Each benchmark module exposes ``run() -> list[Row]``; they are listed in ``BENCHMARKS`` so the
order of the table is stable. Benchmarks run against the sandbox with its time-scaled limits.
``python -m bench orders engine`` runs only the named ones (``bench.`` may be left out).
"""

from __future__ import annotations

import importlib
import sys

from bench.table import Row, render

BENCHMARKS: list[str] = [
    "bench.datagen",
    "bench.sandbox_xero",
    "bench.engine",
    "bench.settlements",
    "bench.orders",
]


def chosen(names: list[str]) -> list[str]:
    """The benchmarks named on the command line, in table order; all when none is named."""
    if not names:
        return BENCHMARKS
    wanted = {name if name.startswith("bench.") else f"bench.{name}" for name in names}
    unknown = wanted - set(BENCHMARKS)
    if unknown:
        raise SystemExit(
            f"No benchmark called {', '.join(sorted(unknown))}; choose from "
            + ", ".join(b.removeprefix("bench.") for b in BENCHMARKS)
            + "."
        )
    return [name for name in BENCHMARKS if name in wanted]


def main(argv: list[str]) -> int:
    rows: list[Row] = []
    for name in chosen(argv):
        module = importlib.import_module(name)
        rows.extend(module.run())
    print(render(rows))
    return 1 if any(row.target_met is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

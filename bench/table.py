from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    benchmark: str
    measure: str
    value: str
    target: str = ""
    target_met: bool | None = None


def render(rows: list[Row]) -> str:
    header = ("benchmark", "measure", "value", "target", "met")
    cells = [header] + [
        (
            r.benchmark,
            r.measure,
            r.value,
            r.target,
            "" if r.target_met is None else ("yes" if r.target_met else "NO"),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(header))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

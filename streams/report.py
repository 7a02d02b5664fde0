"""Print the run's figures as tables, read from ClickHouse through the named queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Query = Callable[..., list[dict[str, Any]]]


def table(rows: list[dict[str, Any]], title: str) -> str:
    if not rows:
        return f"{title}\n  (no rows)\n"
    cols = list(rows[0])
    cells = [[_fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cols, widths)))
    out = [title, line, "  " + "  ".join("-" * w for w in widths)]
    for row in cells:
        out.append("  " + "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(out) + "\n"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.6f}"
    return str(v)


def render(query: Query, prefix: str) -> str:
    parts = [
        table(query("summary_by_model", prefix=prefix), "By model (the model that gave the final answer):"),
        table(query("summary_by_tier", prefix=prefix), "By tier:"),
        table(query("status_breakdown", prefix=prefix), "Outcomes:"),
        table(query("skip_reasons", prefix=prefix), "Why candidate models were skipped:"),
    ]
    return "\n".join(parts)

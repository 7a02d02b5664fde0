"""PNG charts for the report (matplotlib, headless)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

Rows = list[dict[str, Any]]
_BANDS = ((0, 20, "#d8f0d8", "healthy < 20%"), (20, 40, "#fbefc5", "watch 20-40%"), (40, 100, "#f6d0d0", "act > 40%"))


def _plt() -> Any:
    """pyplot on the headless backend, chosen when a chart is drawn (importing this module sets nothing)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def cost_over_time(rows: Rows, path: Path) -> Path:
    series: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        series[r["model"]][str(r["minute"])] = float(r["cost_usd"])
    minutes = sorted({str(r["minute"]) for r in rows})
    fig, ax = _plt().subplots(figsize=(9, 4.5))
    bottom = [0.0] * len(minutes)
    for model in sorted(series, key=lambda m: -sum(series[m].values())):
        values = [series[model].get(m, 0.0) for m in minutes]
        ax.bar(range(len(minutes)), values, bottom=bottom, label=model)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(minutes) // 12)
    ax.set_xticks(range(0, len(minutes), step), [m[11:19] for m in minutes][::step], rotation=45, ha="right",
                  fontsize=8)
    ax.set_ylabel("USD per time bucket")
    ax.set_title("Cost over time by model (UTC)")
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


def latency_by_model(rows: Rows, path: Path) -> Path:
    models = [r["model"] for r in rows]
    fig, ax = _plt().subplots(figsize=(9, 4.5))
    width = 0.27
    for i, (key, label) in enumerate((("call_p50_ms", "p50"), ("call_p95_ms", "p95"), ("call_p99_ms", "p99"))):
        ax.bar([x + (i - 1) * width for x in range(len(models))], [float(r[key] or 0) for r in rows], width,
               label=label)
    ax.set_xticks(range(len(models)), models, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("provider call latency (ms)")
    ax.set_title("Latency percentiles by model (successful calls)")
    ax.legend()
    return _save(fig, path)


def escalation_bands(rows: Rows, path: Path) -> Path:
    fig, ax = _plt().subplots(figsize=(7, 4.5))
    top = max([45.0] + [float(r["escalation_pct"]) + 5 for r in rows])
    for lo, hi, color, label in _BANDS:
        ax.axhspan(lo, min(hi, top), color=color, label=label, zorder=0)
    tiers = [f"tier {r['start_tier']}" for r in rows]
    values = [float(r["escalation_pct"]) for r in rows]
    ax.bar(tiers, values, color="#4472c4", zorder=2)
    for x, (v, r) in enumerate(zip(values, rows, strict=True)):
        ax.text(x, v + 0.8, f"{v:g}% of {r['requests']}", ha="center", fontsize=9, zorder=3)
    ax.set_ylim(0, top)
    ax.set_ylabel("requests escalated (%)")
    ax.set_title("Escalation rate by starting tier")
    ax.legend(fontsize=8, loc="upper right")
    return _save(fig, path)


def savings(row: dict[str, Any], path: Path) -> Path:
    fig, ax = _plt().subplots(figsize=(6, 4.5))
    actual, baseline = float(row["actual_usd"]), float(row["all_strongest_usd"])
    bars = ax.bar(["routed (actual)", f"all to {row['baseline_model']}"], [actual, baseline],
                  color=["#2e8b57", "#999999"])
    for bar, v in zip(bars, (actual, baseline), strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, v, f"${v:.4f}", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("USD")
    ax.set_title(f"Savings versus the strongest model: {row['saved_pct']}%")
    return _save(fig, path)

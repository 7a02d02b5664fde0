"""The analysts' report: the named dashboard queries as tables, PNG charts and one HTML page.

    python -m analytics report [--sink http://127.0.0.1:6067] [--out var/report]

Reads through the sink worker's HTTP API while the pipeline runs (the embedded engine allows one
process per data path), or straight from ClickHouse (CLICKHOUSE_URL, or the embedded path when no
worker holds it).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ConfigError

Query = Callable[..., list[dict[str, Any]]]

SECTIONS = (  # (query, title, rows shown in the text report)
    ("savings_vs_strongest", "Savings versus sending everything to the strongest model", 5),
    ("cost_per_accepted_answer", "Cost per accepted answer", 20),
    ("latency_by_model", "Latency by model (provider call and end to end, ms)", 20),
    ("escalation_rate_by_tier", "Escalation rate by starting tier", 10),
    ("cascade_economics", "Cascade economics per tier pair (does escalating pay?)", 10),
    ("escalation_reasons", "Why answers were escalated", 20),
    ("errors_by_provider", "Errors and fallbacks by provider", 20),
    ("top_tenants", "Top tenants by spend this month", 10),
    ("budget_burn", "Budget burn-down (cumulative spend this month)", 20),
    ("cost_by_day", "Cost by day, tenant, model, tier and task", 15),
)


def table(rows: list[dict[str, Any]], title: str) -> str:
    if not rows:
        return f"{title}\n  (no rows)\n"
    cols = list(rows[0])
    cells = [[_fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]

    def line(values: list[str]) -> str:
        pairs = enumerate(zip(values, widths, strict=False))
        return "  " + "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in pairs)

    return "\n".join([title, line(cols), "  " + "  ".join("-" * w for w in widths), *map(line, cells)]) + "\n"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.6f}"
    return str(v)


def render(query: Query, prefix: str) -> str:
    """The demo's summary: by model, by tier, outcomes, skip reasons (for one request-id prefix)."""
    parts = [
        table(query("summary_by_model", prefix=prefix), "By model (the model that gave the final answer):"),
        table(query("summary_by_tier", prefix=prefix), "By tier:"),
        table(query("status_breakdown", prefix=prefix), "Outcomes:"),
        table(query("skip_reasons", prefix=prefix), "Why candidate models were skipped:"),
        table(query("quality_memory", prefix=prefix), "The quality memory (first routing round of each request):"),
    ]
    return "\n".join(parts)


def write_report(query: Query, out: Path) -> tuple[str, Path]:
    """Tables as text, four charts and report.html in ``out``; returns the text and the HTML path."""
    from analytics import charts  # noqa: PLC0415 - matplotlib only when a report is written

    out.mkdir(parents=True, exist_ok=True)
    data = {name: query(name) for name, _, _ in SECTIONS}
    pngs = []
    over_time = query("cost_over_time")
    if over_time:
        pngs.append(("Cost over time by model", charts.cost_over_time(over_time, out / "cost_over_time.png")))
    if data["latency_by_model"]:
        pngs.append(("Latency percentiles", charts.latency_by_model(data["latency_by_model"], out / "latency.png")))
    if data["escalation_rate_by_tier"]:
        pngs.append(("Escalation rate with bands",
                     charts.escalation_bands(data["escalation_rate_by_tier"], out / "escalation.png")))
    if data["savings_vs_strongest"] and data["savings_vs_strongest"][0]["requests"]:
        pngs.append(("Savings", charts.savings(data["savings_vs_strongest"][0], out / "savings.png")))
    text = "\n".join(table(data[name][:limit], f"{title}:") for name, title, limit in SECTIONS)
    page = out / "report.html"
    page.write_text(_html(data, pngs), encoding="utf-8")
    return text, page


def _html(data: dict[str, list[dict[str, Any]]], pngs: list[tuple[str, Path]]) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>LLM router report</title><style>",
             "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}",
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}th{background:#f0f0f0}",
             "td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}",
             "</style></head><body><h1>LLM router report</h1>"]
    for title, png in pngs:
        encoded = base64.b64encode(png.read_bytes()).decode()
        parts.append(f"<h2>{html.escape(title)}</h2>"
                     f"<img alt='{html.escape(title)}' src='data:image/png;base64,{encoded}'>")
    for name, title, limit in SECTIONS:
        rows = data[name][: limit * 5]
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if not rows:
            parts.append("<p>(no rows)</p>")
            continue
        cols = list(rows[0])
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>")
        parts.extend("<tr>" + "".join(f"<td>{html.escape(_fmt(r[c]))}</td>" for c in cols) + "</tr>" for r in rows)
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def http_query(sink_url: str) -> Query:
    """Named queries through a sink worker's HTTP API (GET /queries/<name>/)."""
    import httpx  # noqa: PLC0415

    def run(name: str, **params: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{sink_url.rstrip('/')}/queries/{name}/", params=params, timeout=60)
        body = r.json()
        if r.status_code != 200:
            msg = f"query {name} failed: {body.get('error')}"
            raise RuntimeError(msg)
        return [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]

    return run


def direct_query(url: str, password: str = "") -> Query:
    """Named queries straight against ClickHouse (a server, or an embedded path no worker holds)."""
    from streams.clickhouse import OutcomeWriter, connect, named_queries, query_params, redact_url  # noqa: PLC0415

    writer, queries = OutcomeWriter(connect(url, password)), named_queries()
    try:
        writer.query("SELECT 1 FROM llm.requests LIMIT 1")
    except Exception as exc:  # noqa: BLE001 - whatever the driver says, the answer is the same
        msg = (f"ClickHouse at {redact_url(url)} has no llm tables to report on ({type(exc).__name__}); "
               "run a sink against it first (make demo does)")
        raise ConfigError(msg) from None

    def run(name: str, **params: str) -> list[dict[str, Any]]:
        sql = queries[name]
        cols, rows = writer.query(sql, query_params(sql, params))
        return [dict(zip(cols, row, strict=True)) for row in rows]

    return run

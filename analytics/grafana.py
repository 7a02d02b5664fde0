"""Build the Grafana dashboard from the named queries in sql/dashboards (one panel each).

    python -m analytics grafana   # rewrites docker/grafana/dashboards/llm-router.json

A test checks the committed file matches what this builds, so Grafana and the report never drift.
"""

from __future__ import annotations

import json
from typing import Any

from core.config import REPO_ROOT
from streams.clickhouse import QUERY_DIR, describe_queries, named_queries

DASHBOARD = REPO_ROOT / "docker" / "grafana" / "dashboards" / "llm-router.json"
DATASOURCE = {"type": "grafana-clickhouse-datasource", "uid": "clickhouse"}
TIME_SERIES = {"cost_over_time"}


def panel(i: int, name: str, sql: str, title: str) -> dict[str, Any]:
    sql = sql.replace("{prefix:String}", "''")  # Grafana shows everything; the prefix is for tests and demos
    kind = "timeseries" if name in TIME_SERIES else "table"
    return {
        "id": i + 1, "type": kind, "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 9, "w": 12, "x": 12 * (i % 2), "y": 9 * (i // 2)},
        "targets": [{"refId": "A", "datasource": DATASOURCE, "editorType": "sql", "rawSql": sql,
                     "format": 0 if kind == "timeseries" else 1, "queryType": "table"}],
        "options": {"showHeader": True} if kind == "table" else {},
    }


def build() -> dict[str, Any]:
    docs, queries = describe_queries(QUERY_DIR), named_queries(QUERY_DIR)
    panels = [panel(i, n, sql, f"{n}: {docs[n]}") for i, (n, sql) in enumerate(queries.items())]
    return {"uid": "llm-router", "title": "LLM router", "schemaVersion": 39, "version": 1, "editable": True,
            "time": {"from": "now-7d", "to": "now"}, "refresh": "1m", "panels": panels, "tags": ["llm-router"]}


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    DASHBOARD.write_text(render(), encoding="utf-8")
    print(f"wrote {DASHBOARD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

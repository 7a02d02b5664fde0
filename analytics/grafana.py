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
TIME_SERIES = {"cost_over_time", "latency_over_time", "error_rate_over_time", "escalation_rate_over_time"}
# the queries' parameters, as Grafana fills them: the time picker's range and the tenant variable
# ("All" is the empty string, which the queries read as every tenant); the request-id prefix is for
# tests and demos, so Grafana shows everything
GRAFANA_PARAMS = {"{from:DateTime}": "$__fromTime", "{to:DateTime}": "$__toTime", "{tenant:String}": "'${tenant}'",
                  "{prefix:String}": "''"}
TENANT_VARIABLE = {
    "name": "tenant", "label": "Tenant", "type": "query", "datasource": DATASOURCE,
    "query": "SELECT DISTINCT tenant FROM llm.requests_daily WHERE tenant != '' ORDER BY tenant",
    "definition": "SELECT DISTINCT tenant FROM llm.requests_daily WHERE tenant != '' ORDER BY tenant",
    "includeAll": True, "allValue": "", "multi": False, "refresh": 2,
    "current": {"selected": True, "text": "All", "value": "$__all"},
}


def grafana_sql(sql: str) -> str:
    for param, macro in GRAFANA_PARAMS.items():
        sql = sql.replace(param, macro)
    return sql


def panel(i: int, name: str, sql: str, title: str) -> dict[str, Any]:
    sql = grafana_sql(sql)
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
    ordered = sorted(queries.items(), key=lambda item: (item[0] not in TIME_SERIES, item[0]))  # charts first
    panels = [panel(i, n, sql, f"{n}: {docs[n]}") for i, (n, sql) in enumerate(ordered)]
    return {"uid": "llm-router", "title": "LLM router", "schemaVersion": 39, "version": 1, "editable": True,
            "time": {"from": "now-24h", "to": "now"}, "refresh": "1m", "panels": panels, "tags": ["llm-router"],
            "templating": {"list": [TENANT_VARIABLE]}}


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    DASHBOARD.write_text(render(), encoding="utf-8")
    print(f"wrote {DASHBOARD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m analytics``: the report from ClickHouse, and the Grafana dashboard from sql/dashboards."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import Settings
from core.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="dashboard tables, PNG charts and an HTML page from ClickHouse")
    r.add_argument("--sink", default="", help="a sink worker's URL (e.g. http://127.0.0.1:6067); default: "
                   "query ClickHouse directly (CLICKHOUSE_URL or the embedded path)")
    r.add_argument("--out", type=Path, default=None, help="output directory (default var/report)")
    sub.add_parser("grafana", help="rewrite docker/grafana/dashboards/llm-router.json from sql/dashboards")
    args = parser.parse_args(argv)
    try:
        if args.command == "grafana":
            from analytics.grafana import main as grafana  # noqa: PLC0415

            return grafana()
        from analytics.report import direct_query, http_query, write_report  # noqa: PLC0415

        settings = Settings.from_env()
        query = http_query(args.sink) if args.sink else direct_query(settings.effective_clickhouse_url,
                                                                     settings.clickhouse_password)
        text, page = write_report(query, args.out or settings.data_dir / "report")
        print(text)
        print(f"charts and HTML report: {page}")
        return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

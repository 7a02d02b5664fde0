#!/bin/bash
# Runs once, when the ClickHouse volume is first initialised (/docker-entrypoint-initdb.d): a
# read-only user for Grafana, allowed to SELECT from the router's database and nothing else.
# The writer user (router) stays with the sink; both passwords come from compose secrets.
set -euo pipefail
admin_password="$(cat /run/secrets/clickhouse_password)"
grafana_password="$(cat /run/secrets/grafana_clickhouse_password)"
run() { clickhouse client --user "${CLICKHOUSE_USER}" --password "${admin_password}" --query "$1"; }
run "CREATE DATABASE IF NOT EXISTS llm"
run "CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${grafana_password//\'/\\\'}' SETTINGS readonly = 1"
run "GRANT SELECT ON llm.* TO grafana"

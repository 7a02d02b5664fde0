"""What analysts read: the report (tables, PNG charts, an HTML page) from ClickHouse, and the Grafana
dashboard built from the same named queries in sql/dashboards. Reads the service's tables; the
service never imports it."""

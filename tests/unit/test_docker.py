"""docker/: the compose file is valid (Compose specification schema; no Docker engine needed) and the
Grafana dashboard is exactly what sql/dashboards builds."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess

import jsonschema
import pytest
import yaml

from analytics import grafana
from core.config import REPO_ROOT

COMPOSE = REPO_ROOT / "docker" / "compose.yaml"


def compose_schema() -> dict:
    """The Compose specification's JSON schema as vendored by check-jsonschema (read, not imported)."""
    for f in importlib.metadata.files("check-jsonschema") or []:
        if str(f).endswith("vendor/compose-spec.json"):
            return json.loads(f.read_text())
    raise AssertionError("compose-spec.json not found in check-jsonschema")


def test_compose_file_satisfies_the_compose_specification() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    jsonschema.validate(doc, compose_schema())
    assert {"kafka", "clickhouse", "sink", "pipeline", "grafana", "simulator"} <= set(doc["services"])


def test_schema_check_catches_a_broken_file() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    doc["services"]["sink"]["depends_on"] = {"kafka": {"condition": "when_it_feels_like_it"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, compose_schema())


def test_docker_compose_config_where_the_plugin_exists() -> None:
    """Also ask Docker's own parser, where the compose plugin is installed (it is not on CI here)."""
    if shutil.which("docker") is None or subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                         check=False).returncode != 0:
        jsonschema.validate(yaml.safe_load(COMPOSE.read_text()), compose_schema())  # the check that always runs
        return
    proc = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr


def test_grafana_dashboard_is_built_from_the_named_queries() -> None:
    committed = grafana.DASHBOARD.read_text(encoding="utf-8")
    assert committed == grafana.render(), "run: python -m analytics.grafana"
    panels = json.loads(committed)["panels"]
    assert {p["title"].split(":")[0] for p in panels} >= {"cost_by_day", "savings_vs_strongest", "budget_burn"}


def test_production_shape_probes_readiness_and_keeps_grafana_read_only() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    for name in ("sink", "pipeline"):
        service = doc["services"][name]
        assert "/health/ready" in " ".join(service["healthcheck"]["test"])
        assert service["environment"]["ROUTER_WEB_BIND"] == "0.0.0.0"  # the probe and scrapers reach it
        assert service["environment"]["ROUTER_REPLICATION_FACTOR"] == "1"  # one broker in this file
    datasource = yaml.safe_load((REPO_ROOT / "docker" / "grafana" / "provisioning" / "datasources"
                                 / "clickhouse.yaml").read_text())["datasources"][0]
    assert datasource["jsonData"]["username"] == "grafana"
    assert "grafana_clickhouse_password" in datasource["secureJsonData"]["password"]
    assert doc["services"]["grafana"]["secrets"] == ["grafana_clickhouse_password"]
    init = (REPO_ROOT / "docker" / "clickhouse" / "create-grafana-user.sh").read_text()
    assert "readonly = 1" in init and "GRANT SELECT ON llm.* TO grafana" in init


def test_the_image_installs_the_wheel_offline_as_a_non_root_user() -> None:
    lines = [line.strip() for line in (REPO_ROOT / "docker" / "Dockerfile").read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2  # build, then run
    final = lines[lines.index(stages[1]):]
    assert any(line.startswith("RUN pip install") and "--no-index" in line for line in final)
    # nothing from the checkout in the final stage, only the wheels
    assert not any(line.startswith("COPY") and "--from=build" not in line for line in final)
    assert any(line.startswith("USER ") and not line.endswith("root") for line in final)
    assert any(line.startswith("HEALTHCHECK") for line in final)


HISTORY = ("llm.requests", "llm.decisions", "llm.attempts", "llm.escalations", "llm.verdicts", "llm.control_events",
           "llm.classifier_drift")
WITH_TENANT = ("llm.requests", "llm.decisions", "llm.attempts", "llm.escalations", "llm.requests_daily")


def test_every_panel_follows_the_time_picker_and_the_tenant_variable() -> None:
    dashboard = json.loads(grafana.render())
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["tenant"]
    assert dashboard["templating"]["list"][0]["allValue"] == ""  # "All": the queries read '' as every tenant
    kinds = {p["title"].split(":")[0]: p["type"] for p in dashboard["panels"]}
    assert {k for k, v in kinds.items() if v == "timeseries"} >= {"cost_over_time", "latency_over_time",
                                                                  "error_rate_over_time", "escalation_rate_over_time"}
    for p in dashboard["panels"]:
        sql, name = p["targets"][0]["rawSql"], p["title"].split(":")[0]
        assert "{" not in sql.replace("${tenant}", ""), f"{name}: a query parameter Grafana does not fill"
        if any(f"{t} FINAL" in sql for t in HISTORY):
            assert "$__fromTime" in sql and "$__toTime" in sql, f"{name}: scans history without a time bound"
        if any(t in sql for t in WITH_TENANT):
            assert "'${tenant}'" in sql, f"{name}: ignores the tenant variable"

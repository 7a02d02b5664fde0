"""The router's metrics, read off outcome rows, as Prometheus' own parser sees them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from core.catalog import Catalog
from core.facts import Refused
from core.health import HealthBoard
from core.messages import Incoming
from core.outcomes import invalid_request_row
from core.publisher import Publisher
from core.topics import TopicNames
from streams.metrics import BoardCollector, RouterMetrics
from tests.fakes import FakeClock

NAMES = TopicNames("t.")


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_requests_spend_provider_calls_and_escalations_are_counted_from_the_rows() -> None:
    registry = CollectorRegistry()
    metrics = RouterMetrics(registry)
    ok = {"status": "ok", "model": "m1", "final_tier": 1, "error_code": "", "latency_ms": 120, "cost_usd": 0.25,
          "tenant": "acme"}
    metrics.observe("requests", ok)
    metrics.observe("requests", ok)
    metrics.observe("requests", invalid_request_row("c", "made-up-tenant", 0, 5))
    metrics.observe("attempts", {"model": "m1", "status": "ok", "latency_ms": 80})
    metrics.observe("escalations", {"from_tier": 1, "to_tier": 2, "reason": "too_short"})
    metrics.observe("requests", {})  # unreadable: skipped, not raised
    metrics.observe("decisions", {"model": "m1"})  # not counted
    got = _samples(registry)
    ok_labels = (("error_code", ""), ("model", "m1"), ("status", "ok"), ("tier", "1"))
    assert got[("llm_router_requests_total", ok_labels)] == 2
    assert got[("llm_router_requests_total", (("error_code", "invalid_request"), ("model", ""), ("status", "error"),
                                              ("tier", "0")))] == 1
    assert got[("llm_router_spend_usd_total", (("tenant", "acme"),))] == 0.5
    assert not any(name.startswith("llm_router_spend") and ("tenant", "made-up-tenant") in labels
                   for name, labels in got)
    assert got[("llm_router_request_latency_seconds_count", ())] == 3
    assert got[("llm_router_provider_latency_seconds_count", (("model", "m1"), ("status", "ok")))] == 1
    assert got[("llm_router_escalations_total", (("from_tier", "1"), ("reason", "too_short"), ("to_tier", "2")))] == 1


def test_the_publisher_hands_every_row_it_builds_to_the_metrics_once() -> None:
    registry = CollectorRegistry()
    metrics = RouterMetrics(registry)
    publisher = Publisher(NAMES)
    publisher.observe = metrics.observe
    refused = Refused(Incoming(b"{}", 0, NAMES.requests, 0, 3), None, ["body: empty"], "invalid_request", 5)
    publisher.publish([refused, refused])
    got = _samples(registry)
    assert got[("llm_router_requests_total", (("error_code", "invalid_request"), ("model", ""), ("status", "error"),
                                              ("tier", "0")))] == 2


def test_breaker_state_and_calls_in_flight_are_read_from_the_board_when_scraped(catalog: Catalog) -> None:
    registry = CollectorRegistry()
    board = HealthBoard(catalog, FakeClock())
    registry.register(BoardCollector(board))
    model = next(iter(board.catalog.models))
    for _ in range(50):
        board.record(model, failed=True)
    board.in_flight[model] = 3
    got = _samples(registry)
    assert got[("llm_router_breaker_state", (("model", model),))] == 2
    assert got[("llm_router_calls_in_flight", (("model", model),))] == 3
    others = [v for (name, labels), v in got.items()
              if name == "llm_router_breaker_state" and labels != (("model", model),)]
    assert others and set(others) == {0}


def test_lag_and_sink_inserts() -> None:
    registry = CollectorRegistry()
    metrics = RouterMetrics(registry)
    metrics.set_lag({("t.requests", 0): 7, ("t.requests", 1): -1})
    metrics.inserted("requests", 500, 0.02)
    got = _samples(registry)
    assert got[("llm_router_consumer_lag", (("partition", "0"), ("topic", "t.requests")))] == 7
    assert got[("llm_router_consumer_lag", (("partition", "1"), ("topic", "t.requests")))] == 0
    assert got[("llm_router_sink_rows_written_total", (("table", "requests"),))] == 500
    assert got[("llm_router_sink_insert_seconds_count", (("table", "requests"),))] == 1

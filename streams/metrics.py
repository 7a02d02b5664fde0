"""Prometheus ``/metrics`` for a worker.

Faust's own sensors (``faust_*``: messages in and out, events per stream, commit and send
latency, rebalances, and per partition the end offset and the committed offset) and the
router's figures (``llm_router_*``) share one registry per app, served at ``/metrics`` on the
worker's web port. The router's request, provider, escalation and spend figures are read off
the outcome rows the worker publishes (``observe``: the publisher hands over every row once, as
built, before it is encoded, so no stage carries metrics code); breaker states and calls in
flight are read from the health board at scrape time; consumer lag per partition comes from
the liveness sampler's end offsets; the sink adds rows written and insert latency per table.

Label values are bounded: models and tiers come from the catalog, status and error codes from
the router's own code, and spend is labelled by tenant only for requests that cost something
(an admitted tenant), so a publisher cannot inflate the series count with made-up tenants.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from core.breaker import HALF_OPEN, OPEN
from core.health import HealthBoard

log = logging.getLogger(__name__)

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BREAKER_VALUE = {OPEN: 2, HALF_OPEN: 1}  # anything else is closed: 0


class RouterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter("llm_router_requests", "Requests answered, by final status, model, tier and error code",
                                ["status", "model", "tier", "error_code"], registry=registry)
        self.latency = Histogram("llm_router_request_latency_seconds", "End to end: received to answered",
                                 buckets=_SECONDS, registry=registry)
        self.provider_latency = Histogram("llm_router_provider_latency_seconds", "One provider call",
                                          ["model", "status"], buckets=_SECONDS, registry=registry)
        self.escalations = Counter("llm_router_escalations", "Answers escalated to a stronger tier",
                                   ["from_tier", "to_tier", "reason"], registry=registry)
        self.spend = Counter("llm_router_spend_usd", "Provider cost of answered requests", ["tenant"],
                             registry=registry)
        self.lag = Gauge("llm_router_consumer_lag", "Messages not yet committed, per owned partition",
                         ["topic", "partition"], registry=registry)
        self.rows_written = Counter("llm_router_sink_rows_written", "Outcome rows ClickHouse accepted", ["table"],
                                    registry=registry)
        self.insert_latency = Histogram("llm_router_sink_insert_seconds", "One insert into ClickHouse", ["table"],
                                        buckets=_SECONDS, registry=registry)

    def observe(self, table: str, r: dict[str, Any]) -> None:
        """Count what an outcome row says; a row the metrics cannot read is skipped, never raised."""
        try:
            if table == "requests":
                self.requests.labels(r["status"], r["model"], str(r["final_tier"]), r["error_code"]).inc()
                self.latency.observe(float(r["latency_ms"]) / 1000)
                if r["cost_usd"]:
                    self.spend.labels(r["tenant"]).inc(float(r["cost_usd"]))
            elif table == "attempts":
                self.provider_latency.labels(r["model"], r["status"]).observe(float(r["latency_ms"]) / 1000)
            elif table == "escalations":
                self.escalations.labels(str(r["from_tier"]), str(r["to_tier"]), r["reason"]).inc()
        except (KeyError, TypeError, ValueError):
            log.debug("an outcome row could not be counted")

    def set_lag(self, lags: dict[tuple[str, int], int]) -> None:
        self.lag.clear()
        for (topic, partition), lag in lags.items():
            self.lag.labels(topic, str(partition)).set(max(lag, 0))

    def inserted(self, table: str, rows: int, seconds: float) -> None:
        self.rows_written.labels(table).inc(rows)
        self.insert_latency.labels(table).observe(seconds)


class BoardCollector:
    """Breaker state and calls in flight per model, read from the health board when scraped."""

    def __init__(self, board: HealthBoard) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily("llm_router_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
                                  labels=["model"])
        flight = GaugeMetricFamily("llm_router_calls_in_flight", "Provider calls in flight", labels=["model"])
        for model in self.board.catalog.models:
            b = self.board.breakers.get(model)
            state.add_metric([model], _BREAKER_VALUE.get(b.state, 0) if b is not None else 0)
            flight.add_metric([model], self.board.in_flight.get(model, 0))
        yield state
        yield flight


def serve_metrics(app: faust.App, board: Any = None) -> RouterMetrics:
    """Faust's sensors and the router's metrics on one registry, served at ``/metrics``."""
    registry = CollectorRegistry()
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="faust")
    metrics = RouterMetrics(registry)
    if isinstance(board, HealthBoard):
        registry.register(BoardCollector(board))
    return metrics

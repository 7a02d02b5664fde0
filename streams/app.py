"""Build the Faust apps. Two roles, two consumer groups:

- ``pipeline``: classify, route, invoke, verify. Stateless; run as many as there are cores.
- ``sink``: outcome rows to ClickHouse. One process per embedded chDB path (chDB allows one
  engine per path); it also serves health, sink status and the named read-only queries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import faust
import orjson
from faust import web

from agents import classify, feedback, invoke, route, sink, verify
from core.config import Settings
from core.topics import TopicNames
from streams import ledger
from streams.clickhouse import OutcomeWriter, named_queries, query_dirs, query_params
from streams.fetching import tune_fetching
from streams.health import add_health
from streams.metrics import serve_metrics
from streams.outbox import FaustOutbox, TopicDirectory
from streams.runtime import PipelineRuntime, sink_deps

log = logging.getLogger(__name__)

# How long the producer waits to fill a batch (tooling's Kafka hop reference uses it too): not at
# all. A stage sends a batch's messages in one go, so they share a request anyway, and every hop
# paid the wait. Same hour, 2026-12-03, against 2 ms: paced p50 27 vs 41 ms at 50 requests/s, 48 vs
# 85 at 150, 80 vs 100 at 250; burst 528-625 vs 490-588 requests/s.
PRODUCER_LINGER_MS = 0
# (fetch_min_bytes, fetch_max_wait_ms), see streams/fetching.py: a stage's fetch is answered at the
# first byte (waiting up to 250 ms at the broker when nothing comes); the sink, which writes every
# half second anyway, waits up to 250 ms for a MiB
STAGE_FETCH = (1, 250)
SINK_FETCH = (1024 * 1024, 250)


def base_app(app_id: str, settings: Settings, web_port: int) -> faust.App:
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    credentials: Any = None
    protocol = settings.kafka_security_protocol
    if protocol.startswith("SASL_"):
        tls = settings.kafka_ssl_context() if protocol == "SASL_SSL" else None
        credentials = faust.SASLCredentials(username=settings.kafka_username, password=settings.kafka_password,
                                            mechanism=settings.kafka_sasl_mechanism, ssl_context=tls)
    elif protocol == "SSL":
        credentials = faust.SSLCredentials(settings.kafka_ssl_context())
    return faust.App(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        broker_credentials=credentials,
        store="memory://",
        datadir=str(settings.data_dir / "faust" / app_id),
        processing_guarantee="at_least_once",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.kafka_replication_factor,
        topic_disable_leader=True,
        table_standby_replicas=0,
        broker_max_poll_records=2000,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 4),
        broker_rebalance_timeout=60.0,
        stream_buffer_maxsize=4096,
        stream_processing_timeout=300.0,
        stream_wait_empty=False,  # a rebalance does not wait for slow LLM calls; unacked work is replayed
        producer_acks=-1,
        producer_linger_ms=PRODUCER_LINGER_MS,
        producer_max_batch_size=1024 * 1024,
        consumer_auto_offset_reset="earliest",
        web_enabled=web_port > 0,
        web_port=max(web_port, 1),
        web_bind=settings.web_bind,
        web_tables_enabled=False,
        web_router_enabled=False,
    )


def raw_topic(app: faust.App, *names: str) -> Any:
    return app.topic(*names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


def create_pipeline_app(
    settings: Settings, make_runtime: Callable[[FaustOutbox, Callable[[str], bool]], PipelineRuntime], web_port: int
) -> faust.App:
    app = base_app(settings.app_id, settings, web_port)
    tune_fetching(app, *STAGE_FETCH)
    topics = TopicDirectory(settings.kafka_bootstrap, settings.kafka_client_kwargs())
    outbox = FaustOutbox(app, TopicNames(settings.topic_prefix))
    rt = make_runtime(outbox, topics.exists)
    p = rt.pipeline
    metrics = serve_metrics(app, p.route.health)
    p.publisher.observe = metrics.observe

    @app.task
    async def follow_topics() -> None:  # which reply topics exist, for the classify stage's check
        while True:
            try:
                await topics.refresh()
            except Exception as exc:  # noqa: BLE001 - the broker may be down; the last list stands
                log.warning("could not list topics: %s", exc)
            await asyncio.sleep(2.0)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]  # faust's annotation wants a signal= parameter
    async def close_clients(app: faust.App, **kwargs: Any) -> None:  # after the consumer stopped
        for endpoint in rt.endpoints:
            await endpoint.aclose()
        await topics.close()

    @app.task
    async def follow_spend() -> None:
        await ledger.follow(settings.kafka_bootstrap, p.names.outcomes, rt.ledger, p.clock, rt.memory,
                            p.names.feedback, **settings.kafka_client_kwargs())

    @app.timer(interval=2.0)
    async def reload_catalog() -> None:
        rt.reloader.check()

    n = p.names
    classify.register(app, raw_topic(app, n.requests, *(n.tenant_requests(t) for t in settings.tenant_topics)), p)
    route.register(app, raw_topic(app, n.classified, n.escalations), p)
    invoke.register(app, raw_topic(app, n.routed), p)
    verify.register(app, raw_topic(app, n.invoked), p)
    add_health(app, "pipeline", settings, metrics)
    return app


def create_sink_app(settings: Settings, writer: OutcomeWriter, web_port: int) -> faust.App:
    app = base_app(f"{settings.app_id}-sink", settings, web_port)
    tune_fetching(app, *SINK_FETCH)
    names = TopicNames(settings.topic_prefix)
    deps = sink_deps(settings, writer, FaustOutbox(app, names))
    metrics = serve_metrics(app)
    writer.observer = metrics.inserted
    sink.register(app, raw_topic(app, names.outcomes), deps)
    feedback.register(app, raw_topic(app, names.feedback), deps)
    add_health(app, "sink", settings, metrics)
    queries = named_queries(*query_dirs(settings.sql_dir))

    @app.page("/sink/status/")
    class SinkStatus(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.bytes(orjson.dumps({"rows_written": writer.rows_written}), content_type="application/json")

    @app.page("/queries/{name}/")
    class NamedQuery(web.View):
        """Run one of the named read-only queries in sql/dashboards; parameters come from the query string."""

        async def get(self, request: web.Request, name: str) -> web.Response:
            sql = queries.get(name)
            if sql is None:
                body: dict[str, Any] = {"error": f"unknown query {name!r}", "known": sorted(queries)}
                return self.bytes(orjson.dumps(body), content_type="application/json", status=404)
            params = query_params(sql, dict(request.query))
            try:
                cols, rows = await asyncio.to_thread(writer.query, sql, params)
            except Exception as exc:  # noqa: BLE001 - any failure is the caller's answer, never the worker's end
                body = {"error": f"query {name} failed: {type(exc).__name__}: {str(exc)[:300]}"}
                return self.bytes(orjson.dumps(body), content_type="application/json", status=400)
            body = {"columns": cols, "rows": rows}
            return self.bytes(orjson.dumps(body, default=str), content_type="application/json")

    return app

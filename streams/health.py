"""A worker's health endpoints, for probes and orchestrators.

- ``/health/live``: 200 while every owned partition either has no lag or is making progress; 503
  naming the stalled partitions once one has had lag and no progress for ``ROUTER_STALL_AFTER_S``
  (``core/liveness.py``). The broker's end offsets come from a client of its own, so a consumer
  whose fetching died silently still shows up.
- ``/health/ready``: 200 once the worker owns partitions, its producer is up and it is not
  rebalancing; 503 otherwise.
- ``/health/``: the role and app id (kept for the dev stack's start-up wait).

The same sampler sets the ``llm_router_consumer_lag`` gauge of ``/metrics`` (streams/metrics.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from faust import web

from core.config import Settings
from core.liveness import StallWatch, done_position
from streams.metrics import RouterMetrics

log = logging.getLogger(__name__)


def add_health(app: faust.App, role: str, settings: Settings, metrics: RouterMetrics | None = None) -> StallWatch:
    watch = StallWatch(settings.stall_after_s)
    state: dict[str, Any] = {"client": None}

    @app.timer(interval=max(1.0, min(5.0, settings.stall_after_s / 3)))
    async def sample_progress() -> None:
        consumer: Any = app.consumer  # Faust's Consumer: its committed offsets per partition
        owned = list(consumer.assignment())
        try:
            if state["client"] is None:
                client = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                          **settings.kafka_client_kwargs())
                await client.start()
                state["client"] = client
            tps = [TopicPartition(tp.topic, tp.partition) for tp in owned]
            ends = await state["client"].end_offsets(tps)
            starts = await state["client"].beginning_offsets(tps)
        except Exception as exc:  # noqa: BLE001 - the broker may be down: judge again at the next sample
            log.warning("could not read end offsets for the liveness check: %s", exc)
            return
        positions = {f"{tp.topic}-{tp.partition}": done_position(consumer._committed_offset.get(tp),
                                                                  int(starts.get(kafka_tp, 0)))
                     for tp, kafka_tp in zip(owned, tps, strict=True)}
        watch.observe(time.monotonic(), positions,
                      {f"{tp.topic}-{tp.partition}": int(end) for tp, end in ends.items()})
        if metrics is not None:
            metrics.set_lag({(tp.topic, tp.partition): int(end) - positions[f"{tp.topic}-{tp.partition}"]
                             for tp, end in ends.items()})

    @app.on_before_shutdown.connect  # type: ignore[arg-type]  # faust's annotation wants a signal= parameter
    async def close_client(app: faust.App, **kwargs: Any) -> None:
        if state["client"] is not None:
            await state["client"].stop()

    @app.page("/health/")
    class Health(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.json({"status": "ok", "role": role, "app": self.app.conf.id,
                              "rebalancing": bool(self.app.rebalancing)})

    @app.page("/health/live")
    class Live(web.View):
        async def get(self, request: web.Request) -> web.Response:
            stalled = watch.stalled(time.monotonic())
            body = {"live": not stalled, "role": role, "stalled_partitions": stalled,
                    "stall_after_s": watch.stall_after_s}
            return self.json(body, status=503 if stalled else 200)

    @app.page("/health/ready")
    class Ready(web.View):
        async def get(self, request: web.Request) -> web.Response:
            owned = len(self.app.consumer.assignment())
            producer = self.app.producer
            producing = bool(producer.started) and not producer.should_stop
            ready = owned > 0 and producing and not self.app.rebalancing
            body = {"ready": ready, "role": role, "partitions": owned, "producer": producing}
            return self.json(body, status=200 if ready else 503)

    return watch

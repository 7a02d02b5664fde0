"""Thin Faust wrappers, one per stage: read a batch, call the stage function, send its output.

Agents get everything through ``Deps`` and send through an ``Outbox``; they never import
``streams``, ``providers`` or ``models``. An exception must never escape an agent (Faust
would ack and so skip the message): each agent's last-resort handler answers the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.clock import Clock
from core.dedup import SeenCache
from core.drift import DriftMonitor
from core.invocation import Invoker
from core.ports import Classifier, HealthView, SpendView, Verifier
from core.routing import RoutingPolicy
from core.events import Job
from core.stages import Incoming, Out, internal_error
from core.topics import TopicNames
from core.verification import CascadeLimits


class Outbox(Protocol):
    async def send_all(self, outs: Sequence[Out]) -> None: ...


class RowWriter(Protocol):
    rows_written: dict[str, int]

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None: ...


@dataclass(frozen=True, slots=True)
class PipelineDeps:
    names: TopicNames
    classifier: Classifier
    policy: RoutingPolicy
    health: HealthView
    spend: SpendView
    invoker: Invoker
    limits: CascadeLimits
    clock: Clock
    outbox: Outbox
    drift: DriftMonitor | None = None
    store_prompts: bool = False
    verifier: Verifier | None = None
    worker: str = ""
    max_in_flight: int = 2000  # provider calls in flight per worker
    seen: SeenCache = field(default_factory=SeenCache)
    batch: int = 500  # per-stage batch (classify, route, verify)
    within_s: float = 0.005


@dataclass(frozen=True, slots=True)
class SinkDeps:
    writer: RowWriter
    clock: Clock
    batch: int = 5000
    within_s: float = 0.5
    max_backoff_s: float = 5.0


def round_key(stage: str, job: Job) -> str:
    return f"{stage}:{job.request_id}:{len(job.escalations)}"


async def each_job(events: Sequence[Any], step: Callable[[Job], list[Out]], deps: PipelineDeps,
                   log: logging.Logger, stage: str) -> None:
    """Run a per-request step over a batch, skipping replays; a bug answers the request instead of escaping."""
    outs: list[Out] = []
    now = deps.clock.now_ms()
    for e in events:
        try:
            job = Job.decode(e.value)
            if not deps.seen.first(round_key(stage, job), now):
                continue
            outs.extend(step(job))
        except Exception as exc:
            log.exception("stage failed")
            outs.extend(internal_error(e.value, exc, deps.names, deps.clock.now_ms()))
    await deps.outbox.send_all(outs)


def incoming(event: Any) -> Incoming:
    """The parts of a Faust event the stages need."""
    m = event.message
    return Incoming(event.value, int(m.timestamp * 1000), m.topic, m.partition, m.offset)

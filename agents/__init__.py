"""Thin Faust wrappers, one per stage: read a batch, call the stage function, send its output.

Agents get everything through ``Deps`` and send through an ``Outbox``; they never import
``streams``, ``providers`` or ``models``. An exception must never escape an agent (Faust
would ack and so skip the message): each agent's last-resort handler answers the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.clock import Clock
from core.invocation import Invoker
from core.ports import Classifier, HealthView
from core.routing import RoutingPolicy
from core.stages import Incoming, Out
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
    invoker: Invoker
    limits: CascadeLimits
    clock: Clock
    outbox: Outbox
    classify_batch: int = 500
    invoke_batch: int = 500
    within_s: float = 0.005


@dataclass(frozen=True, slots=True)
class SinkDeps:
    writer: RowWriter
    clock: Clock
    batch: int = 5000
    within_s: float = 0.5
    max_backoff_s: float = 5.0


def incoming(event: Any) -> Incoming:
    """The parts of a Faust event the stages need."""
    m = event.message
    return Incoming(event.value, int(m.timestamp * 1000), m.topic, m.partition, m.offset)

"""Thin Faust wrappers, one per stage: read a batch, call the stage function, send its output.

Agents get everything through ``Deps`` and send through an ``Outbox``; they never import
``streams``, ``providers`` or ``models``. An exception must never escape an agent (Faust
would ack and so skip the message): each agent's last-resort handler answers the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.clock import Clock
from core.dedup import SeenCache, round_key
from core.drift import DriftMonitor
from core.events import Job
from core.ingress import Ingress
from core.invocation import Invoker
from core.log_context import about
from core.messages import Incoming, Out
from core.ports import Classifier, HealthView, Outbox, QualityView, RowWriter, SpendView, Verifier
from core.routing import RoutingPolicy
from core.stages import dead_letter, internal_error
from core.topics import TopicNames
from core.verification import CascadeLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineDeps:
    names: TopicNames
    ingress: Ingress
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
    quality: QualityView | None = None  # the quality memory's estimates (None: the tier rule alone)
    batch: int = 500  # per-stage batch (classify, route, verify)
    within_s: float = 0.005


@dataclass(frozen=True, slots=True)
class SinkDeps:
    writer: RowWriter
    clock: Clock
    outbox: Outbox
    names: TopicNames
    written_requests: SeenCache = field(default_factory=lambda: SeenCache(ttl_ms=15 * 60_000))
    batch: int = 5000
    within_s: float = 0.5
    max_backoff_s: float = 5.0


async def batches(stream: Any, max_: int, within: float) -> AsyncIterator[list[Any]]:
    """``take_events`` whose acks wait until what each batch caused is safe.

    Faust acks a taken batch in a ``finally``, so a body that raised, or a worker stopping in
    the middle of a batch (a sink retrying a write, a send waiting for the broker), would
    commit offsets whose work was never done. Each message gets one extra reference here; the
    body gives it back with ``release(events)`` once the batch's outputs were accepted (the
    outbox calls it when the broker took them, the sink after ClickHouse did), so only then can
    Faust commit. A batch never released stays uncommitted and is replayed by whichever worker
    owns the partition next.
    """
    async for events in stream.take_events(max_, within=within):
        for e in events:
            e.message.incref()
        yield events


def release(events: Sequence[Any]) -> Callable[[], None]:
    """Give back the references ``batches`` took (Faust commits once its own ack came too)."""

    def done() -> None:
        for e in events:
            e.ack()

    return done


class SendBuffer:
    """Outputs of work that finishes one item at a time (the invoke stage's calls), sent together.

    ``add`` hands over one item's messages and its ack; ``run`` sends what has gathered every
    ``within_s`` (at once when ``max_outs`` messages wait) as one batch, so rows are packed and
    produce bookkeeping is per batch, and acks each item once the broker took its batch. ``add``
    waits while ``max_outs`` messages are held, so a slow broker slows the stage down. Items
    still held when the task is cancelled are never acked, so they are replayed.
    """

    def __init__(self, outbox: Outbox, max_outs: int = 2000, within_s: float = 0.002) -> None:
        self.outbox, self.max_outs, self.within_s = outbox, max_outs, within_s
        self._outs: list[Out] = []
        self._acks: list[Callable[[], None]] = []
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    async def add(self, outs: Sequence[Out], ack: Callable[[], None]) -> None:
        await self._room.wait()
        self._outs.extend(outs)
        self._acks.append(ack)
        self._ready.set()
        if len(self._outs) >= self.max_outs:
            self._room.clear()

    def start(self) -> asyncio.Task[None]:
        task = asyncio.create_task(self.run())
        task.add_done_callback(_sender_stopped)
        return task

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            if len(self._outs) < self.max_outs:
                await asyncio.sleep(self.within_s)  # let the calls finishing meanwhile join the batch
            outs, acks = self._outs, self._acks
            self._outs, self._acks = [], []
            self._ready.clear()
            self._room.set()
            await self.outbox.send_all(outs, _calling(acks))


def _sender_stopped(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:  # a bug: what it held stays unacked, so is replayed
        log.error("a stage's sender failed", exc_info=task.exception())


def _calling(acks: list[Callable[[], None]]) -> Callable[[], None]:
    def done() -> None:
        for ack in acks:
            ack()

    return done


EventCheck = Callable[[Job], "str | None"]


async def each_job(events: Sequence[Any], step: Callable[[Job], list[Out]], deps: PipelineDeps,
                   log: logging.Logger, stage: str, check: EventCheck,
                   decoded: Sequence[Job | Exception] | None = None) -> None:
    """Run a per-request step over a batch, skipping replays. An unreadable or impossible event
    is set aside on the internal DLQ; a bug answers the request instead of escaping.
    ``decoded``: the batch already decoded by ``decode_all`` (so it is not decoded twice)."""
    outs: list[Out] = []
    now = deps.clock.now_ms()
    for e, job in zip(events, decoded if decoded is not None else decode_all(events), strict=True):
        try:
            if isinstance(job, Exception):
                raise job
            problem = check(job)
        except Exception as exc:  # noqa: BLE001 - whatever the bytes were, they are set aside
            outs.extend(dead_letter(incoming(e), stage, "invalid_internal_event",
                                    f"unreadable job ({type(exc).__name__}: {str(exc)[:200]})", deps.names, now))
            continue
        if problem is not None:
            log.warning("%s refused a job from %s: %s", stage, e.message.topic, problem)
            outs.extend(dead_letter(incoming(e), stage, "invalid_internal_event", problem, deps.names, now,
                                    job.request_id if isinstance(job.request_id, str) else ""))
            continue
        with about(stage, job.request_id, job.request.tenant):
            try:
                if not deps.seen.first(round_key(stage, job), now):
                    continue
                outs.extend(step(job))
            except Exception as exc:
                log.exception("stage failed")
                outs.extend(internal_error(e.value, exc, deps.names, deps.clock.now_ms()))
    await deps.outbox.send_all(outs, release(events))


def decode_all(events: Sequence[Any]) -> list[Job | Exception]:
    """Each event's job, or the error that decoding it raised (``each_job`` sets those aside)."""
    out: list[Job | Exception] = []
    for e in events:
        try:
            out.append(Job.decode(e.value))
        except Exception as exc:  # noqa: BLE001 - any bytes at all may arrive
            out.append(exc)
    return out


def incoming(event: Any) -> Incoming:
    """The parts of a Faust event the stages need."""
    m = event.message
    return Incoming(event.value, int(m.timestamp * 1000), m.topic, m.partition, m.offset)

"""Thin Faust wrappers, one per stage: read a batch, hand it to the stage object, publish what happened.

The stages are built once (``core.pipeline``) and return facts; the pipeline's publisher makes
the messages and agents send them through an ``Outbox``; agents never import ``streams``,
``providers`` or ``models``. One helper owns what every stage needs around its work:
``in_batches`` (a batch is acked only once the broker took what it caused), ``admitted`` (an
unreadable or impossible internal event is set aside on the DLQ, a replay is skipped) and
``guarded`` (a bug answers the request ``internal_error`` instead of escaping: Faust would ack,
and so skip, the message).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.clock import Clock
from core.dedup import SeenCache, round_key
from core.events import Job
from core.facts import Fact, SetAside
from core.log_context import about
from core.messages import Incoming
from core.pipeline import Pipeline
from core.ports import Outbox, RowWriter
from core.publisher import Publisher
from core.stages import internal_error
from core.topics import TopicNames

log = logging.getLogger(__name__)


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


def events_of(stream: Any) -> Any:
    """The queue Faust's conductor fills with this agent's events, read directly.

    An agent reads it instead of iterating its Faust stream: the stream's per-event machinery
    (its iterator, the take buffer's processor and timer, the per-event sensors) cost about a fifth
    of the pipeline worker's CPU (2026-12-02) and bought nothing here, since every stage acks by
    hand. Nothing acks an event read this way until ``release`` (or the invoke stage) does, so
    Faust commits an offset only once what the event caused was sent; flow control, pressure
    on the fetcher and rebalances act on the queue as before (a rebalance clears it; what a
    stage held unacked is replayed by the partition's next owner). Stopping the agent throws
    ``StopAsyncIteration`` into this queue (Faust's actor does that to its stream's channel, which
    is this iterator): a reader must end on it, or the worker's shutdown waits for it in vain.
    """
    return aiter(stream.channel).queue


async def each_event(queue: Any) -> AsyncIterator[Any]:
    """The events of an ``events_of`` queue one by one, until the agent is stopped."""
    while True:
        try:
            yield await queue.get()
        except StopAsyncIteration:  # Faust is stopping the agent
            return


async def batches(stream: Any, max_: int, within: float) -> AsyncIterator[list[Any]]:
    """Batches of up to ``max_`` events: the first to arrive, then whatever came within
    ``within`` seconds. Each event is acked only by ``release`` (see ``events_of``).

    The wait is for company, so it is skipped when none is likely: the batch before held one event
    and nothing else waits. Thin traffic then pays no wait per hop (paced at 50 requests/s, p50 24
    against 37 ms, 2026-12-03), and traffic dense enough to batch still waits."""
    queue = events_of(stream)
    full = min(max_, queue.maxsize or max_)  # the queue holds at most maxsize (the fetcher pauses there)
    company = True
    async for first in each_event(queue):
        events = [first]
        if queue.qsize() + 1 < full and (company or not queue.empty()):
            await asyncio.sleep(within)  # let the batch fill
        while len(events) < max_ and not queue.empty():
            events.append(queue.get_nowait())
        company = len(events) > 1
        yield events


def release(events: Sequence[Any]) -> Callable[[], None]:
    """Ack ``events`` (Faust commits an offset once it and every earlier one are acked)."""

    def done() -> None:
        for e in events:
            e.ack()

    return done


class SendBuffer:
    """What work that finishes one item at a time (the invoke stage's calls) caused, published together.

    ``add`` hands over one item's facts and its ack; ``run`` publishes what has gathered every
    ``within_s`` as one batch (at once when ``max_facts`` wait, or when the last batch held one
    item and one waits, see ``batches``), so rows are packed and produce bookkeeping is per batch,
    and acks each item once the broker took its batch. ``add`` waits while ``max_facts`` are held,
    so a slow broker slows the stage down. Items still held when the task is cancelled are never
    acked, so they are replayed.
    """

    def __init__(self, outbox: Outbox, publisher: Publisher, max_facts: int = 1000, within_s: float = 0.002) -> None:
        self.outbox, self.publisher, self.max_facts, self.within_s = outbox, publisher, max_facts, within_s
        self._facts: list[Fact] = []
        self._acks: list[Callable[[], None]] = []
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    async def add(self, facts: Sequence[Fact], ack: Callable[[], None]) -> None:
        await self._room.wait()
        self._facts.extend(facts)
        self._acks.append(ack)
        self._ready.set()
        if len(self._facts) >= self.max_facts:
            self._room.clear()

    def start(self) -> asyncio.Task[None]:
        task = asyncio.create_task(self.run())
        task.add_done_callback(_sender_stopped)
        return task

    async def run(self) -> None:
        company = True  # whether the last batch held more than one item (see ``batches``)
        while True:
            await self._ready.wait()
            if len(self._facts) < self.max_facts and (company or len(self._acks) > 1):
                await asyncio.sleep(self.within_s)  # let the calls finishing meanwhile join the batch
            company = len(self._acks) > 1
            facts, acks = self._facts, self._acks
            self._facts, self._acks = [], []
            self._ready.clear()
            self._room.set()
            await self.outbox.send_all(self.publisher.publish(facts), _calling(acks))


def _sender_stopped(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:  # a bug: what it held stays unacked, so is replayed
        log.error("a stage's sender failed", exc_info=task.exception())


def _calling(acks: list[Callable[[], None]]) -> Callable[[], None]:
    def done() -> None:
        for ack in acks:
            ack()

    return done


class Checked(Protocol):
    """What ``admitted`` needs of a stage: its name and its check on internal events."""

    @property
    def name(self) -> str: ...

    def check(self, job: Job) -> str | None: ...


class JobStage(Checked, Protocol):
    """What ``jobs`` needs of a stage (``core.pipeline.Route`` and ``Verify``)."""

    def prepare(self, jobs: Sequence[Job]) -> None: ...

    def step(self, job: Job) -> list[Fact]: ...


async def in_batches(stream: Any, p: Pipeline, handle: Callable[[Sequence[Any]], list[Fact]]) -> None:
    """Every batch of ``stream`` through ``handle``; the messages its facts make are sent together
    and the batch is acked once the broker took them all (see ``batches``)."""
    async for events in batches(stream, p.tuning.batch, p.tuning.within_s):
        await p.outbox.send_all(p.publisher.publish(handle(events)), release(events))


def jobs(events: Sequence[Any], stage: JobStage, p: Pipeline) -> list[Fact]:
    """A per-request stage over a batch of internal events: each admitted job's step, guarded."""
    decoded = decode_all(events)
    stage.prepare([j for j in decoded if isinstance(j, Job)])
    facts: list[Fact] = []
    now = p.clock.now_ms()
    for e, one in zip(events, decoded, strict=True):
        job, instead = admitted(e, one, stage, p, now)
        facts.extend(instead if job is None else guarded(e, job, stage.name, p, stage.step))
    return facts


def admitted(event: Any, decoded: Job | Exception, stage: Checked, p: Pipeline, now_ms: int
             ) -> tuple[Job | None, list[Fact]]:
    """The job to work on, or None and what to send instead: a dead letter for an unreadable or
    impossible event (never acted on), nothing for a replay of work this worker already did."""
    try:
        if isinstance(decoded, Exception):
            raise decoded
        problem = stage.check(decoded)
    except Exception as exc:  # noqa: BLE001 - whatever the bytes were, they are set aside
        return None, [SetAside(incoming(event), stage.name, "invalid_internal_event",
                               f"unreadable job ({type(exc).__name__}: {str(exc)[:200]})", now_ms)]
    if problem is not None:
        log.warning("%s refused a job from %s: %s", stage.name, event.message.topic, problem)
        rid = decoded.request_id if isinstance(decoded.request_id, str) else ""
        return None, [SetAside(incoming(event), stage.name, "invalid_internal_event", problem, now_ms, rid)]
    if not p.seen.first(round_key(stage.name, decoded), now_ms):
        return None, []
    return decoded, []


def guarded(event: Any, job: Job, stage: str, p: Pipeline, step: Callable[[Job], list[Fact]]) -> list[Fact]:
    """``step(job)``, its log lines naming the request; a bug answers the request instead of escaping."""
    with about(stage, job.request_id, job.request.tenant):
        try:
            return step(job)
        except Exception as exc:
            log.exception("%s failed", stage)
            return internal_error(event.value, exc, p.clock.now_ms())


def decode_all(events: Sequence[Any]) -> list[Job | Exception]:
    """Each event's job, or the error that decoding it raised (``admitted`` sets those aside)."""
    return [decode_one(e) for e in events]


def decode_one(event: Any) -> Job | Exception:
    try:
        return Job.decode(event.value)
    except Exception as exc:  # noqa: BLE001 - any bytes at all may arrive
        return exc


def incoming(event: Any) -> Incoming:
    """The parts of a Faust event the stages need."""
    m = event.message
    return Incoming(event.value, int(m.timestamp * 1000), m.topic, m.partition, m.offset)

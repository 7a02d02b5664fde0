"""invoke: call the chosen provider; every request is its own task, so no call waits for another.

Finished calls are published together (``SendBuffer``: one produce batch and one outcome
message per few milliseconds of finished calls, not per call). Each event is acked only after the
broker took everything it caused. Faust
commits an offset only when every earlier offset of the partition is acked, so out-of-order
completion is safe, and a crash replays exactly the calls that were in flight. ``max_in_flight``
bounds the tasks; when it is reached the agent stops reading and Kafka holds the backlog.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents import SendBuffer, admitted, decode_one, each_event, events_of
from core.log_context import about
from core.pipeline import Pipeline
from core.stages import internal_error

log = logging.getLogger(__name__)


def register(app: Any, source: Any, p: Pipeline) -> Any:
    stage = p.invoke
    buffer = SendBuffer(p.outbox, p.publisher)

    async def one(event: Any) -> None:
        job, facts = admitted(event, decode_one(event), stage, p, p.clock.now_ms())
        if job is None and not facts:
            event.ack()  # a replay of a call this worker already made
            return
        if job is not None:
            with about("invoke", job.request_id, job.request.tenant):  # this task's log lines name the request
                try:
                    facts = await stage.step(job)
                except Exception as exc:
                    log.exception("invoke failed")
                    facts = internal_error(event.value, exc, p.clock.now_ms())
        await buffer.add(facts, event.ack)  # acked once the broker took every message (or a refusal record)

    @app.agent(source, name="invoke", concurrency=1)
    async def invoke_agent(stream: Any) -> None:
        slots = asyncio.Semaphore(p.tuning.max_in_flight)
        running: set[asyncio.Task[None]] = set()
        sender = buffer.start()

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()
            if not task.cancelled() and task.exception() is not None:
                log.error("invoke task failed; its request will be replayed", exc_info=task.exception())

        try:
            async for event in each_event(events_of(stream)):
                await slots.acquire()
                task = asyncio.create_task(one(event))
                running.add(task)
                task.add_done_callback(finished)
        finally:
            for task in list(running):
                task.cancel()
            sender.cancel()

    return invoke_agent


"""invoke: call the chosen provider; every request is its own task, so no call waits for another.

Finished calls are sent together (``SendBuffer``: one produce batch and one outcome message
per few milliseconds of finished calls, not per call). Each event is acked only after the
broker took everything it caused. Faust
commits an offset only when every earlier offset of the partition is acked, so out-of-order
completion is safe, and a crash replays exactly the calls that were in flight. ``max_in_flight``
bounds the tasks; when it is reached the agent stops reading and Kafka holds the backlog.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents import PipelineDeps, SendBuffer, incoming
from core import event_checks
from core.dedup import round_key
from core.events import Job
from core.log_context import about
from core.stages import dead_letter, internal_error, invoke

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, invoker, clock = deps.names, deps.invoker, deps.clock
    buffer = SendBuffer(deps.outbox)

    async def one(event: Any) -> None:
        raw = event.value
        try:
            job = Job.decode(raw)
            problem = event_checks.for_invoking(job, deps.policy)
        except Exception as exc:  # noqa: BLE001 - whatever the bytes were, they are set aside
            problem, job = f"unreadable job ({type(exc).__name__}: {str(exc)[:200]})", None
        if problem is not None or job is None:
            problem = problem or "unreadable job"
            log.warning("invoke refused a job from %s: %s", event.message.topic, problem)
            rid = job.request_id if job is not None and isinstance(job.request_id, str) else ""
            await buffer.add(dead_letter(incoming(event), "invoke", "invalid_internal_event", problem, names,
                                         clock.now_ms(), rid), event.ack)
            return
        with about("invoke", job.request_id, job.request.tenant):  # this task's log lines name the request
            try:
                if not deps.seen.first(round_key("invoke", job), clock.now_ms()):
                    event.ack()  # a replay of a call this worker already made
                    return
                outs = await invoke(job, invoker, names, deps.worker)
            except Exception as exc:
                log.exception("invoke failed")
                outs = internal_error(raw, exc, names, clock.now_ms())
        await buffer.add(outs, event.ack)  # acked once the broker took every message (or a refusal record)

    @app.agent(source, name="invoke", concurrency=1)
    async def invoke_agent(stream: Any) -> None:
        slots = asyncio.Semaphore(deps.max_in_flight)
        running: set[asyncio.Task[None]] = set()
        sender = buffer.start()

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()
            if not task.cancelled() and task.exception() is not None:
                log.error("invoke task failed; its request will be replayed", exc_info=task.exception())

        try:
            async for event in stream.noack().events():
                await slots.acquire()
                task = asyncio.create_task(one(event))
                running.add(task)
                task.add_done_callback(finished)
        finally:
            for task in list(running):
                task.cancel()
            sender.cancel()

    return invoke_agent


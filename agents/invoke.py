"""invoke: call the chosen provider for a batch of routed requests, all calls in flight at once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents import PipelineDeps
from core.events import Job
from core.stages import Out, internal_error, invoke

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, invoker, clock, outbox = deps.names, deps.invoker, deps.clock, deps.outbox

    async def one(raw: bytes) -> list[Out]:
        try:
            return await invoke(Job.decode(raw), invoker, names)
        except Exception as exc:
            log.exception("invoke failed")
            return internal_error(raw, exc, names, clock.now_ms())

    @app.agent(source, name="invoke", concurrency=1)
    async def invoke_agent(stream: Any) -> None:
        async for events in stream.take_events(deps.invoke_batch, within=deps.within_s):
            results = await asyncio.gather(*(one(e.value) for e in events))
            await outbox.send_all([o for outs in results for o in outs])

    return invoke_agent

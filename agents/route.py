"""route: pick a model for each classified (or escalated) request."""

from __future__ import annotations

import logging
from typing import Any

from agents import PipelineDeps
from core.events import Job
from core.stages import internal_error, route

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, policy, health, clock, outbox = deps.names, deps.policy, deps.health, deps.clock, deps.outbox

    @app.agent(source, name="route", concurrency=1)
    async def route_agent(stream: Any) -> None:
        async for events in stream.take_events(deps.classify_batch, within=deps.within_s):
            outs = []
            for e in events:
                try:
                    outs.extend(route(Job.decode(e.value), policy, health, names, clock.now_ms()))
                except Exception as exc:
                    log.exception("route failed")
                    outs.extend(internal_error(e.value, exc, names, clock.now_ms()))
            await outbox.send_all(outs)

    return route_agent

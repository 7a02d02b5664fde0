"""route: pick a model for each classified (or escalated) request."""

from __future__ import annotations

import logging
from typing import Any

from agents import PipelineDeps, each_job
from core.events import Job
from core.stages import Out, route

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, policy, health, spend, clock = deps.names, deps.policy, deps.health, deps.spend, deps.clock

    def step(job: Job) -> list[Out]:
        return route(job, policy, health, names, clock.now_ms(), spend)

    @app.agent(source, name="route", concurrency=1)
    async def route_agent(stream: Any) -> None:
        async for events in stream.take_events(deps.batch, within=deps.within_s):
            await each_job(events, step, deps, log, "route")

    return route_agent

"""route: pick a model for each classified (or escalated) request."""

from __future__ import annotations

import logging
from typing import Any

from agents import PipelineDeps, batches, decode_all, each_job
from core import event_checks
from core.events import Job
from core.stages import Out, route

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, policy, health, spend, clock = deps.names, deps.policy, deps.health, deps.spend, deps.clock

    def check(job: Job) -> str | None:
        return event_checks.for_routing(job, deps.policy)

    def step(job: Job) -> list[Out]:
        return route(job, policy, health, names, clock.now_ms(), spend, deps.quality)

    @app.agent(source, name="route", concurrency=1)
    async def route_agent(stream: Any) -> None:
        async for events in batches(stream, deps.batch, deps.within_s):
            decoded = decode_all(events)
            if deps.quality is not None:  # one matrix product per model for the whole batch
                deps.quality.prepare([j for j in decoded if isinstance(j, Job)], list(policy.catalog.models),
                                     clock.now_ms())
            await each_job(events, step, deps, log, "route", check, decoded)

    return route_agent

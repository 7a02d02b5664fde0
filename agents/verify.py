"""verify: accept the answer, escalate one tier up, or finish with the best answer so far."""

from __future__ import annotations

import logging
from typing import Any

from agents import PipelineDeps, batches, each_job
from core import event_checks
from core.events import Job
from core.stages import Out, verify_answer

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, limits, clock, verifier = deps.names, deps.limits, deps.clock, deps.verifier

    def check(job: Job) -> str | None:
        return event_checks.for_verifying(job, deps.policy)

    def step(job: Job) -> list[Out]:
        return verify_answer(job, limits, names, clock.now_ms(), verifier)

    @app.agent(source, name="verify", concurrency=1)
    async def verify_agent(stream: Any) -> None:
        async for events in batches(stream, deps.batch, deps.within_s):
            await each_job(events, step, deps, log, "verify", check)

    return verify_agent

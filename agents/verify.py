"""verify: accept the answer, escalate one tier up, or finish with the best answer so far."""

from __future__ import annotations

from typing import Any

from agents import in_batches, jobs
from core.pipeline import Pipeline


def register(app: Any, source: Any, p: Pipeline) -> Any:
    @app.agent(source, name="verify", concurrency=1)
    async def verify_agent(stream: Any) -> None:
        await in_batches(stream, p, lambda events: jobs(events, p.verify, p))

    return verify_agent

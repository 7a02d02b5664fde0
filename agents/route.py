"""route: pick a model for each classified (or escalated) request."""

from __future__ import annotations

from typing import Any

from agents import in_batches, jobs
from core.pipeline import Pipeline


def register(app: Any, source: Any, p: Pipeline) -> Any:
    @app.agent(source, name="route", concurrency=1)
    async def route_agent(stream: Any) -> None:
        await in_batches(stream, p, lambda events: jobs(events, p.route, p))

    return route_agent

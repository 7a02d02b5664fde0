"""classify: validate raw requests, classify them in batches, forward to routing."""

from __future__ import annotations

from typing import Any

from agents import in_batches, incoming
from core.pipeline import Pipeline


def register(app: Any, source: Any, p: Pipeline) -> Any:
    @app.agent(source, name="classify", concurrency=1)
    async def classify(stream: Any) -> None:  # the stage answers a request that fails on its own
        await in_batches(stream, p, lambda events: p.classify.run([incoming(e) for e in events]))

    return classify

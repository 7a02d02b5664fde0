"""feedback: downstream consumers' feedback events (score or label per request) to llm.feedback."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents import SinkDeps
from core.errors import InvalidRequestError
from core.request import decode_json_object
from core.outcomes import feedback_row

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: SinkDeps) -> Any:
    """Feedback events from downstream consumers, validated, to llm.feedback."""
    writer = deps.writer

    @app.agent(source, name="feedback", concurrency=1)
    async def feedback(stream: Any) -> None:
        async for events in stream.take_events(deps.batch, within=deps.within_s):
            rows, bad = [], 0
            for e in events:
                try:
                    rows.append(feedback_row(decode_json_object(e.value or b""), int(e.message.timestamp * 1000)))
                except InvalidRequestError as exc:
                    bad += 1
                    log.warning("feedback at offset %s rejected: %s", e.message.offset, exc)
            if bad:
                log.warning("%d feedback events were invalid and not stored", bad)
            if rows:
                await asyncio.to_thread(writer.insert, "feedback", rows)

    return feedback

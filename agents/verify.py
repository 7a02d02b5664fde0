"""verify: accept the answer, escalate one tier up, or finish with the best answer so far."""

from __future__ import annotations

import logging
from typing import Any

from agents import PipelineDeps
from core.events import Job
from core.stages import internal_error, verify_answer

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, limits, clock, outbox = deps.names, deps.limits, deps.clock, deps.outbox

    @app.agent(source, name="verify", concurrency=1)
    async def verify_agent(stream: Any) -> None:
        async for events in stream.take_events(deps.classify_batch, within=deps.within_s):
            outs = []
            for e in events:
                try:
                    outs.extend(verify_answer(Job.decode(e.value), limits, names, clock.now_ms()))
                except Exception as exc:
                    log.exception("verify failed")
                    outs.extend(internal_error(e.value, exc, names, clock.now_ms()))
            await outbox.send_all(outs)

    return verify_agent

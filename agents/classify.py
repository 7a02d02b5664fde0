"""classify: validate raw requests, classify them in batches, forward to routing."""

from __future__ import annotations

import logging
from typing import Any

from agents import PipelineDeps, batches, incoming, release
from core.stages import Out, accept_requests

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: PipelineDeps) -> Any:
    names, classifier, clock, outbox, drift = deps.names, deps.classifier, deps.clock, deps.outbox, deps.drift

    @app.agent(source, name="classify", concurrency=1)
    async def classify(stream: Any) -> None:
        async for events in batches(stream, deps.batch, deps.within_s):
            batch = [incoming(e) for e in events]
            try:
                outs = accept_requests(batch, classifier, names, clock.now_ms(), drift, deps.store_prompts, deps.seen,
                                       deps.ingress)
            except Exception:  # last resort: answer each request on its own
                log.exception("classify batch failed; retrying one by one")
                outs = []
                for msg in batch:
                    try:
                        outs.extend(accept_requests([msg], classifier, names, clock.now_ms(), drift,
                                                    deps.store_prompts, deps.seen, deps.ingress))
                    except Exception as exc:
                        log.exception("classify failed for offset %s", msg.offset)
                        outs.extend(_internal(msg, exc, deps, clock.now_ms()))
            await outbox.send_all(outs, release(events))

    return classify


def _internal(msg: Any, exc: Exception, deps: PipelineDeps, now_ms: int) -> list[Out]:
    problem = f"internal error while classifying ({type(exc).__name__})"
    return deps.ingress.reject(msg, None, [problem], now_ms, code="internal_error")

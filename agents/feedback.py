"""feedback: downstream consumers' feedback events (score or label per request) to llm.feedback.

Invalid feedback is set aside on the outcomes DLQ with the reason; valid feedback is written
through the same durable writer as the sink, and a batch is acked only once it is written.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from agents import SinkDeps, batches, release
from core.durable_writer import DurableWriter, unreadable
from core.errors import InvalidRequestError
from core.outcomes import feedback_row
from core.publisher import Publisher
from core.request import decode_json_object

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: SinkDeps) -> Any:
    durable = DurableWriter(deps.writer, deps.clock, deps.outbox, Publisher(deps.names), deps.max_backoff_s)

    @app.agent(source, name="feedback", concurrency=1)
    async def feedback(stream: Any) -> None:
        async for events in batches(stream, deps.batch, deps.within_s):
            rows, refused, sources = [], [], {}
            for e in events:
                m = e.message
                try:
                    rows.append(feedback_row(decode_json_object(e.value or b""), int(m.timestamp * 1000)))
                    sources[id(rows[-1])] = (m.topic, m.partition, m.offset)
                except InvalidRequestError as exc:
                    refused.append(unreadable(e.value, f"invalid feedback: {exc}", (m.topic, m.partition, m.offset)))
            if rows:
                refused.extend(replace(f, source=sources[id(f.row)]) for f in await durable.write("feedback", rows))
            await durable.set_aside([replace(r, table="feedback") for r in refused])
            release(events)()

    return feedback
